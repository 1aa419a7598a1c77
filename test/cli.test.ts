/** The `versa` command as a user runs it: a real process, real signals, real output. */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
  GetStageCommand,
  PutIntegrationCommand,
  PutMethodCommand,
} from '@aws-sdk/client-api-gateway';
import { CreateAliasCommand, InvokeCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { createFunction, lambdaClientFor, zipOf } from './harness.js';
import { isAlive, pidsWithEnv } from './invoke-helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');
const exec = promisify(execFile);

/** Runs `versa args...` to completion; never throws, returns the exit code and output. */
async function versa(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Starts `versa start` on a free port and resolves once it prints its endpoint; with `inheritedFile`, from
 * a shell that leaves that file open on descriptor 200, as a supervisor or a shell's `exec 200<file` can.
 */
async function startVersa(dataDir: string, inheritedFile?: string) {
  const command = [process.execPath, BIN, 'start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'];
  const launch = inheritedFile ? ['/bin/bash', '-c', 'exec 200<"$0"; exec "$@"', inheritedFile, ...command] : command;
  const child = spawn(launch[0]!, launch.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`versa start exited with ${code}: ${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited, output: () => out };
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('versa start', () => {
  it('versa start: serves health, and on SIGTERM stops its environments and exits 0', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-cli-'));
    const server = await startVersa(dataDir);
    try {
      const health = (await (await fetch(`${server.url}/_versa/health`)).json()) as { status: string };
      assert.equal(health.status, 'ok');
      const lambda = lambdaClientFor(server.url);
      // The runtime is found by a variable of its own: inside a sandbox its pid is its namespace's.
      const mark = `warm-${process.pid}-${Date.now()}`;
      await createFunction(
        lambda,
        'warm',
        { 'index.js': 'exports.handler = async () => process.pid;' },
        { Environment: { Variables: { MARK: mark } } },
      );
      await lambda.send(new InvokeCommand({ FunctionName: 'warm' }));
      const envPids = pidsWithEnv('MARK', mark);
      lambda.destroy();
      assert.ok(envPids.length > 0 && envPids.every(pidAlive), 'the environment is warm after the invoke');

      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
      assert.match(server.output(), /received SIGTERM; stopping/);
      assert.deepEqual(envPids.filter(isAlive), [], 'the environment processes were stopped');
    } finally {
      server.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('versa start: a descriptor the server inherited open reaches neither the server nor any function', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-cli-'));
    const secret = path.join(dataDir, 'operator-secret');
    await writeFile(secret, 'not for functions');
    const server = await startVersa(dataDir, secret);
    try {
      const lambda = lambdaClientFor(server.url);
      const code = `const fs = require('node:fs');
exports.handler = async () => {
  const fds = {};
  for (const fd of fs.readdirSync('/proc/self/fd')) { try { fds[fd] = fs.readlinkSync('/proc/self/fd/' + fd); } catch {} }
  let read = null;
  try { read = fs.readFileSync('/proc/self/fd/200', 'utf8'); } catch (err) { read = err.code; }
  return { fds, read };
};`;
      await createFunction(lambda, 'fds', { 'index.js': code });
      const out = await lambda.send(new InvokeCommand({ FunctionName: 'fds' }));
      const seen = JSON.parse(Buffer.from(out.Payload!).toString()) as { fds: Record<string, string>; read: string };
      assert.equal(seen.read, 'ENOENT');
      assert.equal(seen.fds['200'], undefined);
      assert.ok(!Object.values(seen.fds).some((link) => link.includes('operator-secret')), JSON.stringify(seen.fds));
      assert.ok(existsSync(`/proc/${server.child.pid}`) && !existsSync(`/proc/${server.child.pid}/fd/200`));
      lambda.destroy();
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('versa start: a bad option is one plain sentence and exit status 2', async () => {
    const r = await versa(['start', '--time-scale', 'fast']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /timeScale must be a number above 0/);
  });
});

describe('versa invoke', () => {
  it('versa invoke --count: prints how many invocations each version served', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-cli-'));
    const server = await startVersa(dataDir);
    const lambda = lambdaClientFor(server.url);
    try {
      await createFunction(lambda, 'split', { 'index.js': 'exports.handler = async () => "one";' });
      await lambda.send(new PublishVersionCommand({ FunctionName: 'split' }));
      await lambda.send(
        new UpdateFunctionCodeCommand({ FunctionName: 'split', ZipFile: zipOf({ 'index.js': 'exports.handler = async () => "two";' }) }),
      );
      await lambda.send(new PublishVersionCommand({ FunctionName: 'split' }));
      await lambda.send(
        new CreateAliasCommand({
          FunctionName: 'split',
          Name: 'live',
          FunctionVersion: '1',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
        }),
      );

      const single = await versa(['invoke', 'split:1', '--endpoint-url', server.url]);
      assert.equal(single.code, 0);
      assert.equal(single.stdout.trim(), '"one"');
      assert.match(single.stderr, /executed version 1/);

      const many = await versa(['invoke', 'split:live', '--count', '60', '--payload', '{"a":1}', '--endpoint-url', server.url]);
      assert.equal(many.code, 0, many.stderr);
      const counts: Record<string, number> = Object.fromEntries(
        [...many.stdout.matchAll(/version (\S+)\s+(\d+)/g)].map((m) => [m[1] ?? '', Number(m[2])]),
      );
      assert.equal((counts['1'] ?? 0) + (counts['2'] ?? 0), 60);
      // Each side of a fair split of 60 gets at least 10 with probability above 1 - 1e-6.
      assert.ok(counts['1']! >= 10 && counts['2']! >= 10, many.stdout);
    } finally {
      lambda.destroy();
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('versa invoke: bad input and an absent server are plain sentences', async () => {
    const badPayload = await versa(['invoke', 'f', '--payload', '{nope']);
    assert.equal(badPayload.code, 2);
    assert.match(badPayload.stderr, /--payload must be JSON/);
    const noServer = await versa(['invoke', 'f', '--endpoint-url', 'http://127.0.0.1:9']);
    assert.equal(noServer.code, 1);
    assert.match(noServer.stderr, /Could not reach Versa at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('versa canary and versa apis', () => {
  it('versa canary: sets, promotes and removes a stage canary; versa apis lists the stage', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-cli-'));
    const server = await startVersa(dataDir);
    const apigw = new APIGatewayClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const api = await apigw.send(new CreateRestApiCommand({ name: 'cli-api' }));
      const root = (await apigw.send(new GetResourcesCommand({ restApiId: api.id }))).items![0]!.id!;
      await apigw.send(new PutMethodCommand({ restApiId: api.id, resourceId: root, httpMethod: 'GET', authorizationType: 'NONE' }));
      await apigw.send(new PutIntegrationCommand({ restApiId: api.id, resourceId: root, httpMethod: 'GET', type: 'MOCK' }));
      const first = await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'prod' }));
      const second = await apigw.send(
        new CreateDeploymentCommand({ restApiId: api.id, stageName: 'prod', canarySettings: { percentTraffic: 10 } }),
      );
      const args = (...a: string[]) => [...a, '--endpoint-url', server.url];
      const stage = () => apigw.send(new GetStageCommand({ restApiId: api.id, stageName: 'prod' }));

      const set = await versa(args('canary', api.id!, 'prod', '--percent', '40'));
      assert.equal(set.code, 0, set.stderr);
      assert.match(set.stdout, new RegExp(`canary 40% → deployment ${second.id!}`));
      assert.equal((await stage()).canarySettings?.percentTraffic, 40);

      const listed = await versa(args('apis'));
      assert.match(listed.stdout, /cli-api/);
      assert.match(listed.stdout, new RegExp(`stage prod: deployment ${first.id!}, canary 40%`));
      assert.ok(listed.stdout.includes(`/restapis/${api.id!}/prod/_user_request_/`));

      const bad = await versa(args('canary', api.id!, 'prod', '--percent', '140'));
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--percent must be a number from 0 to 100/);
      assert.equal((await stage()).canarySettings?.percentTraffic, 40, 'a refused change changes nothing');

      assert.equal((await versa(args('canary', 'promote', api.id!, 'prod'))).code, 0);
      const promoted = await stage();
      assert.equal(promoted.deploymentId, second.id);
      assert.equal(promoted.canarySettings?.percentTraffic, 0);

      assert.equal((await versa(args('canary', 'remove', api.id!, 'prod'))).code, 0);
      assert.equal((await stage()).canarySettings, undefined);

      const missing = await versa(args('canary', api.id!, 'nope', '--percent', '5'));
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Invalid Stage identifier specified/);
    } finally {
      apigw.destroy();
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
