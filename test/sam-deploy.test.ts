/**
 * `versa deploy` end to end: the CLI, as a separate process, deploys examples/sam-canary to a real server
 * at a high time scale through the tutorials' three deploys (v1; v2 through a canary with hooks; a broken
 * v3 whose errors trip the alarm and roll back), then `versa rollback`, `versa stacks` and `versa delete`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { CodeDeployClient, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { FilterLogEventsCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetAliasCommand, GetFunctionCommand, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { startTestServer, type TestServer } from './harness.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');
const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/sam-canary');
const exec = promisify(execFile);
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const FUNCTION = 'hello-world';

let t: TestServer;
let project: string;
let codeDeploy: CodeDeployClient;
let logs: CloudWatchLogsClient;

/** Runs `versa args...` in the project folder to completion; never throws. */
async function versa(...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args, '--endpoint-url', t.url], { cwd: project, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function setMessage(from: string, to: string, broken = false): Promise<void> {
  const file = path.join(project, 'hello_world', 'app.py');
  let code = (await readFile(file, 'utf8')).replace(from, to);
  if (broken)
    code = code.replace(
      '    return {\n        "statusCode"',
      '    raise RuntimeError("this version is broken")\n    return {\n        "statusCode"',
    );
  await writeFile(file, code);
}

const alias = () => t.lambda.send(new GetAliasCommand({ FunctionName: FUNCTION, Name: 'live' }));
const versions = async () =>
  ((await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: FUNCTION }))).Versions ?? []).map((v) => v.Version);

/** The stack's API URL from its outputs, on this server. */
async function apiUrl(): Promise<string> {
  const res = await fetch(`${t.url}/_versa/api/stacks/demo`);
  const { stack } = (await res.json()) as { stack: { outputs: { key: string; value: string }[] } };
  const value = stack.outputs.find((o) => o.key === 'HelloWorldApi')!.value;
  const m = /^https:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/Prod\/hello\/$/.exec(value);
  assert.ok(m, `unexpected output ${value}`);
  return `${t.url}/restapis/${m[1]}/Prod/_user_request_/hello/`;
}

async function message(): Promise<string> {
  const res = await fetch(await apiUrl());
  assert.equal(res.status, 200);
  return ((await res.json()) as { message: string }).message;
}

before(async () => {
  // 120× : the ten-minute canary takes five seconds; a hook has thirty real seconds to report.
  t = await startTestServer({ timeScale: 120 });
  project = await mkdtemp(path.join(tmpdir(), 'versa-sam-'));
  await cp(EXAMPLE, project, { recursive: true });
  codeDeploy = new CodeDeployClient({ endpoint: t.url, region: 'us-east-1', credentials });
  logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials });
});

after(async () => {
  codeDeploy.destroy();
  logs.destroy();
  await t.close();
  await rm(project, { recursive: true, force: true });
});

test('the first deploy creates the stack with version 1 behind the alias and the API in front', async () => {
  const out = await versa('deploy', '--stack-name', 'demo');
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /Successfully created stack demo/);
  assert.match(out.stdout, /on Versa: http:\/\/127\.0\.0\.1:\d+\/restapis\/[a-z0-9]+\/Prod\/_user_request_\/hello\//);
  assert.deepEqual(await versions(), ['$LATEST', '1']);
  const live = await alias();
  assert.equal(live.FunctionVersion, '1');
  assert.equal(live.RoutingConfig?.AdditionalVersionWeights, undefined);
  assert.equal(await message(), 'hello world v1');
  // No deployment on create: the alias points straight at version 1.
  assert.deepEqual((await codeDeploy.send(new ListDeploymentsCommand({}))).deployments ?? [], []);
});

test('deploying the same template again changes nothing and says so', async () => {
  const out = await versa('deploy', '--stack-name', 'demo');
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /No changes to deploy\. Stack demo is up to date\./);
  assert.deepEqual(await versions(), ['$LATEST', '1']);
});

test('--no-execute-changeset shows what a deploy would change and changes nothing', async () => {
  await setMessage('hello world v1', 'hello world v2');
  const out = await versa('deploy', '--stack-name', 'demo', '--no-execute-changeset');
  await setMessage('hello world v2', 'hello world v1');
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /Changes \(not applied\):/);
  assert.match(out.stdout, /Modify +HelloWorldFunction +AWS::Lambda::Function/);
  assert.match(out.stdout, /Add +HelloWorldFunctionVersion[0-9a-f]{10} +AWS::Lambda::Version/);
  assert.match(out.stdout, /Modify +HelloWorldFunctionAliaslive .*CodeDeploy/);
  assert.deepEqual(await versions(), ['$LATEST', '1']);
  assert.equal(await message(), 'hello world v1');
  const res = await fetch(`${t.url}/_versa/api/stacks/demo`);
  const { stack } = (await res.json()) as { stack: { status: string; operation?: unknown } };
  assert.equal(stack.status, 'CREATE_COMPLETE');
  assert.equal(stack.operation, undefined);
});

test('a changed message publishes version 2 and moves the alias through a canary with both hooks', async () => {
  await setMessage('hello world v1', 'hello world v2');
  const seenWeights = new Set<number>();
  let deploying = true;
  const watcher = (async () => {
    while (deploying) {
      const w = (await alias()).RoutingConfig?.AdditionalVersionWeights?.['2'];
      if (w !== undefined) seenWeights.add(w);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const out = await versa('deploy', '--stack-name', 'demo');
  deploying = false;
  await watcher;
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /Modify +HelloWorldFunctionAliaslive .*CodeDeploy/);
  assert.match(out.stdout, /10% on version 2/);
  assert.match(out.stdout, /Succeeded: hello-world:live is wholly on version 2/);
  assert.match(out.stdout, /Successfully updated stack demo/);
  assert.ok(seenWeights.has(0.1), `the alias never carried 10% on version 2 (saw ${[...seenWeights].join(', ')})`);

  assert.deepEqual(await versions(), ['$LATEST', '1', '2']);
  const live = await alias();
  assert.equal(live.FunctionVersion, '2');
  assert.equal(live.RoutingConfig?.AdditionalVersionWeights, undefined);
  assert.equal(await message(), 'hello world v2');

  // The deployment SAM's settings describe, with both hooks run and reported from inside the functions.
  const ids = (await codeDeploy.send(new ListDeploymentsCommand({}))).deployments ?? [];
  assert.equal(ids.length, 1);
  const info = (await codeDeploy.send(new GetDeploymentCommand({ deploymentId: ids[0] }))).deploymentInfo!;
  assert.equal(info.status, 'Succeeded');
  assert.equal(info.creator, 'CloudFormation');
  assert.equal(info.deploymentConfigName, 'CodeDeployDefault.LambdaCanary10Percent10Minutes');
  const pre = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/CodeDeployHook_preTrafficHook' }));
  assert.ok(
    pre.events?.some((e) =>
      /health check of arn:aws:lambda:us-east-1:\d+:function:hello-world:2: \{"healthy":true\}/.test(e.message ?? ''),
    ),
    'the pre-traffic hook did not health-check version 2',
  );
  const post = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/CodeDeployHook_postTrafficHook' }));
  assert.ok(
    post.events?.some((e) => /function:hello-world:live answered .*hello world v2/.test(e.message ?? '')),
    'the post-traffic hook did not see v2 behind the alias',
  );
});

test('a broken version trips the alarm under real traffic and the update is rolled back', async () => {
  const before = (await t.lambda.send(new GetFunctionCommand({ FunctionName: FUNCTION, Qualifier: '2' }))).Configuration!.CodeSha256;
  await setMessage('hello world v2', 'hello world v3', true);
  const url = await apiUrl();
  let deploying = true;
  // Users keep calling the API while the canary runs; a tenth of them reach the broken version.
  const traffic = (async () => {
    while (deploying) {
      await fetch(url).then((r) => r.arrayBuffer());
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const out = await versa('deploy', '--stack-name', 'demo');
  deploying = false;
  await traffic;
  assert.equal(out.code, 1, out.stdout + out.stderr);
  assert.match(out.stdout, /\(ALARM_ACTIVE\); rolled back by d-[A-Z0-9]+, so hello-world:live is wholly on version 2/);
  assert.match(
    out.stdout,
    /Stack demo was not updated and was rolled back: Deployment d-[A-Z0-9]+ of hello-world:live to version 3 was stopped because alarm demo-NewVersionErrorsAlarm-[A-Z0-9]+ went into ALARM\.\n/,
  );

  const live = await alias();
  assert.equal(live.FunctionVersion, '2');
  assert.equal(live.RoutingConfig?.AdditionalVersionWeights, undefined);
  assert.equal(await message(), 'hello world v2');
  // Version 3 stays (SAM retains versions); $LATEST goes back to version 2's code.
  assert.deepEqual(await versions(), ['$LATEST', '1', '2', '3']);
  const latest = (await t.lambda.send(new GetFunctionCommand({ FunctionName: FUNCTION }))).Configuration!.CodeSha256;
  assert.equal(latest, before);
  const res = await fetch(`${t.url}/_versa/api/stacks/demo`);
  assert.equal(((await res.json()) as { stack: { status: string } }).stack.status, 'UPDATE_ROLLBACK_COMPLETE');
});

test('versa rollback moves the alias back to where the last deploy found it', async () => {
  const out = await versa('rollback', '--stack-name', 'demo');
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /Moved hello-world:live from version 2 back to version 1\./);
  assert.equal((await alias()).FunctionVersion, '1');
  assert.equal(await message(), 'hello world v1');
  const again = await versa('rollback', '--stack-name', 'demo');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /Stack demo has no earlier version to roll back to\./);
});

test('versa stacks lists the stack with its outputs, and versa delete removes everything', async () => {
  const list = await versa('stacks');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^demo {2}UPDATE_ROLLBACK_COMPLETE {2}\d+ resources/m);
  assert.match(list.stdout, /HelloWorldApi: https:\/\/[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com\/Prod\/hello\/ {2}\(on Versa: /);
  const url = await apiUrl();

  const out = await versa('delete', '--stack-name', 'demo');
  assert.equal(out.code, 0, out.stdout + out.stderr);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: FUNCTION })), { name: 'ResourceNotFoundException' });
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'CodeDeployHook_preTrafficHook' })), {
    name: 'ResourceNotFoundException',
  });
  assert.notEqual((await fetch(url)).status, 200);
  const after = await versa('stacks');
  assert.match(after.stdout, /No stacks yet/);
});

test('a template Versa cannot honour is refused before anything is created, naming each problem', async () => {
  await writeFile(
    path.join(project, 'bad.yaml'),
    [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      CodeUri: hello_world/',
      '      Handler: app.lambda_handler',
      '      Runtime: python3.12',
      '      Layers: [arn:aws:lambda:us-east-1:000000000000:layer:x:1]',
      '      DeploymentPreference:',
      '        Type: AllAtOnce',
      '  Queue:',
      '    Type: AWS::SQS::Queue',
    ].join('\n'),
  );
  const out = await versa('deploy', '--stack-name', 'bad', '--template-file', 'bad.yaml');
  assert.equal(out.code, 1);
  assert.match(out.stderr, /Resource Fn: property Layers of AWS::Serverless::Function is not supported by Versa/);
  assert.match(out.stderr, /Resource Queue: type AWS::SQS::Queue is not supported by Versa/);
  assert.match(out.stderr, /'DeploymentPreference' requires AutoPublishAlias property to be specified/);
  assert.match(out.stderr, /\(ValidationError\)/);
  const res = await fetch(`${t.url}/_versa/api/stacks/bad`);
  assert.equal(res.status, 400);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'Fn' })), { name: 'ResourceNotFoundException' });
});

test('a dangling Ref, an unsupported runtime and a mistyped DeploymentPreference.Type are reported together, and nothing is made', async () => {
  await writeFile(
    path.join(project, 'three.yaml'),
    [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      FunctionName: three-problems',
      '      CodeUri: hello_world/',
      '      Handler: app.lambda_handler',
      '      Runtime: nodejs12.x',
      '      AutoPublishAlias: live',
      '      DeploymentPreference:',
      '        Type: Linear10PercentEvery1Minutes',
      '      Environment:',
      '        Variables:',
      '          TABLE: !Ref Tabel',
    ].join('\n'),
  );
  const out = await versa('deploy', '--stack-name', 'three', '--template-file', 'three.yaml');
  assert.equal(out.code, 1);
  assert.match(out.stderr, /3 problems:/);
  assert.match(out.stderr, /Resource Fn refers to Tabel, which is not a parameter or resource of the template\./);
  assert.match(out.stderr, /Resource Fn: Runtime nodejs12\.x is not supported by Versa/);
  assert.match(
    out.stderr,
    /Resource Fn: DeploymentPreference: Type Linear10PercentEvery1Minutes is neither .*; did you mean Linear10PercentEvery1Minute\?/,
  );
  assert.equal((await fetch(`${t.url}/_versa/api/stacks/three`)).status, 400);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'three-problems' })), { name: 'ResourceNotFoundException' });
});

test('--parameter-overrides reach the template, and an unknown parameter is refused', async () => {
  const bad = await versa('deploy', '--stack-name', 'p', '--parameter-overrides', 'Nope=1');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Parameters: \[Nope\] do not exist in the template/);
  const out = await versa('deploy', '--stack-name', 'p', '--parameter-overrides', 'DeploymentType=AllAtOnce');
  assert.equal(out.code, 0, out.stdout + out.stderr);
  const res = await fetch(`${t.url}/_versa/api/stacks/p`);
  const { stack } = (await res.json()) as {
    stack: { parameters: Record<string, string>; resources: Record<string, { physicalId: string }> };
  };
  assert.equal(stack.parameters.DeploymentType, 'AllAtOnce');
  assert.equal((await versa('delete', '--stack-name', 'p')).code, 0);
});
