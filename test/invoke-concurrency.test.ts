/** Execution environments over time: concurrency and throttling, idle expiry, code updates and shutdown. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, type TooManyRequestsException } from '@aws-sdk/client-lambda';
import { createFunction, errorOf, startTestServer, zipOf, type TestServer } from './harness.js';
import { invoke, isAlive, pidsWithEnv, waitFor, withHostPid } from './invoke-helpers.js';

interface Slept {
  start: number;
  end: number;
  pid: number;
  stream: string;
}

const slow = {
  'index.js':
    'exports.handler = async (e) => {\n  const start = Date.now();\n  await new Promise((r) => setTimeout(r, e.ms ?? 0));\n  return { start, end: Date.now(), pid: process.pid, stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME };\n};\n',
};

describe('Invoke: concurrency limits (maxEnvironments 2)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ maxEnvironments: 2 });
    await createFunction(t.lambda, 'slow', slow);
    await createFunction(t.lambda, 'other', slow);
  });
  after(() => t.close());

  const sleepFor = async (name: string, ms: number) => {
    const out = await invoke(t.lambda, name, { ms });
    assert.equal(out.functionError, undefined, out.raw);
    return withHostPid(t.server, out.payload as Slept);
  };

  it('Invoke: two concurrent invocations run in parallel in two environments', async () => {
    const [a, b] = await Promise.all([sleepFor('slow', 500), sleepFor('slow', 500)]);
    assert.notEqual(a.pid, b.pid);
    assert.ok(a.start < b.end && b.start < a.end, `did not overlap: ${JSON.stringify([a, b])}`);
    assert.deepEqual(t.server.services.environments.stats(), { total: 2, busy: 0, idle: 2 });

    // Warm, both together take about one sleep, not two.
    const started = Date.now();
    const [c, d] = await Promise.all([sleepFor('slow', 500), sleepFor('slow', 500)]);
    const wall = Date.now() - started;
    assert.deepEqual([c.pid, d.pid].sort(), [a.pid, b.pid].sort());
    assert.ok(wall < 900, `two 500 ms invocations took ${wall} ms`);
  });

  it('Invoke: a third concurrent invocation is throttled with 429 TooManyRequestsException, then invokes work again', async () => {
    const running = [sleepFor('slow', 800), sleepFor('slow', 800)];
    await waitFor('both environments to be busy', () => t.server.services.environments.stats().busy === 2, 3000, 10);

    const throttled = (await errorOf(() => invoke(t.lambda, 'slow', { ms: 0 }))) as unknown as TooManyRequestsException;
    assert.equal(throttled.name, 'TooManyRequestsException');
    assert.equal(throttled.$metadata.httpStatusCode, 429);
    // The account's limit, not a function's reservation (none is set): Lambda's account-level reason.
    assert.equal(throttled.Reason, 'ConcurrentInvocationLimitExceeded');
    assert.equal(throttled.message, 'Rate Exceeded.');
    // The limit is across functions.
    const otherThrottled = await errorOf(() => invoke(t.lambda, 'other', { ms: 0 }));
    assert.equal(otherThrottled.name, 'TooManyRequestsException');

    const done = await Promise.all(running);
    assert.equal(done.length, 2);
    await sleepFor('slow', 0);
    await sleepFor('other', 0);
  });

  it('Invoke: at the limit, the least recently used idle environment of another function makes room', async () => {
    // After the last test: 'slow' has one idle environment (used earlier) and 'other' one (used last).
    await createFunction(t.lambda, 'third', slow);
    const before = t.server.services.environments.environments();
    assert.equal(before.length, 2);
    const slowEnv = before.find((e) => e.target.functionName === 'slow');
    assert.ok(slowEnv?.pid);
    await sleepFor('third', 0);
    const names = t.server.services.environments
      .environments()
      .map((e) => e.target.functionName)
      .sort();
    assert.deepEqual(names, ['other', 'third']);
    await waitFor('the evicted runtime process to end', () => !isAlive(slowEnv.pid!), 3000);
  });
});

describe('Execution environments: idle expiry (idleTimeoutSeconds 1)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ idleTimeoutSeconds: 1 });
    await createFunction(t.lambda, 'idles', slow);
  });
  after(() => t.close());

  it('Invoke: an environment left idle longer than idleTimeoutSeconds is stopped, and the next invoke starts a new one', async () => {
    const { pid } = withHostPid(t.server, (await invoke(t.lambda, 'idles', {})).payload as Slept);
    assert.deepEqual(t.server.services.environments.stats(), { total: 1, busy: 0, idle: 1 });
    const started = Date.now();
    await waitFor('the idle environment to be stopped', () => t.server.services.environments.stats().total === 0, 4000);
    assert.ok(Date.now() - started >= 500, 'the environment was stopped well before its idle timeout');
    await waitFor('the idle runtime process to end', () => !isAlive(pid), 2000);
    const next = withHostPid(t.server, (await invoke(t.lambda, 'idles', {})).payload as Slept);
    assert.notEqual(next.pid, pid);
  });

  it('Invoke: an environment in use is not stopped for idleness', async () => {
    const out = (await invoke(t.lambda, 'idles', { ms: 2500 })).payload as Slept;
    assert.ok(out.end - out.start >= 2400);
  });
});

describe('Execution environments: code and configuration updates', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const versioned = (text: string) => ({
    'index.js': `exports.handler = async (e) => {\n  if (e.ms) await new Promise((r) => setTimeout(r, e.ms));\n  return { text: ${JSON.stringify(text)}, pid: process.pid, stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME, stage: process.env.STAGE };\n};\n`,
  });
  type Answer = { text: string; pid: number; stream: string; stage?: string };
  const answer = async (name: string, event: unknown = {}) =>
    withHostPid(t.server, (await invoke(t.lambda, name, event)).payload as Answer);
  const envPids = (name: string) =>
    t.server.services.environments
      .environments()
      .filter((e) => e.target.functionName === name)
      .map((e) => e.pid);

  it('UpdateFunctionCode: invoking $LATEST afterwards runs the new code, and the old environment is retired', async () => {
    await createFunction(t.lambda, 'updated', versioned('one'));
    const one = await answer('updated');
    assert.equal(one.text, 'one');
    assert.deepEqual(envPids('updated'), [one.pid]);

    await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'updated', ZipFile: zipOf(versioned('two')) }));
    const two = await answer('updated');
    assert.equal(two.text, 'two');
    assert.notEqual(two.pid, one.pid);
    await waitFor('the old runtime process to end', () => !isAlive(one.pid), 3000);
    assert.deepEqual(envPids('updated'), [two.pid]);
  });

  it('UpdateFunctionCode: an invocation in flight finishes on the old code, then its environment is retired', async () => {
    await createFunction(t.lambda, 'updated-busy', versioned('old'));
    const inFlight = invoke(t.lambda, 'updated-busy', { ms: 600 });
    await waitFor('the invocation to be running', () => t.server.services.environments.stats().busy === 1, 3000, 10);
    await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'updated-busy', ZipFile: zipOf(versioned('new')) }));
    // Its environment stops as soon as the invocation ends: note its process while it runs.
    const [busyPid] = envPids('updated-busy');
    const old = { ...((await inFlight).payload as Answer), pid: busyPid! };
    assert.equal(old.text, 'old');
    await waitFor('the old runtime process to end', () => !isAlive(old.pid), 3000);
    assert.ok(!envPids('updated-busy').includes(old.pid));
    assert.equal(((await invoke(t.lambda, 'updated-busy', {})).payload as Answer).text, 'new');
  });

  it('UpdateFunctionConfiguration: new environment variables reach $LATEST in a new environment', async () => {
    await createFunction(t.lambda, 'reconfigured', versioned('same'), { Environment: { Variables: { STAGE: 'a' } } });
    const first = await answer('reconfigured');
    assert.equal(first.stage, 'a');
    await t.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'reconfigured', Environment: { Variables: { STAGE: 'b' } } }),
    );
    const second = await answer('reconfigured');
    assert.equal(second.stage, 'b');
    assert.notEqual(second.pid, first.pid);
  });
});

describe('Shutdown', () => {
  it('close: no runtime process remains, nor any process a function started', async () => {
    const t = await startTestServer();
    let closed = false;
    try {
      await createFunction(t.lambda, 'node-fn', slow);
      await createFunction(
        t.lambda,
        'py-fn',
        {
          'app.py':
            'import os\ndef handler(event, context):\n    return {"pid": os.getpid(), "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]}\n',
        },
        {
          Runtime: 'python3.12',
          Handler: 'app.handler',
        },
      );
      await createFunction(
        t.lambda,
        'provided-fn',
        {
          bootstrap:
            '#!/usr/bin/env python3\nimport json, os, urllib.request\nbase = "http://%s/2018-06-01/runtime/invocation/" % os.environ["AWS_LAMBDA_RUNTIME_API"]\nwhile True:\n    with urllib.request.urlopen(base + "next") as res:\n        rid = res.headers["Lambda-Runtime-Aws-Request-Id"]\n    urllib.request.urlopen(urllib.request.Request(base + rid + "/response", data=json.dumps({"pid": os.getpid(), "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]}).encode(), method="POST")).read()\n',
        },
        { Runtime: 'provided.al2023', Handler: 'x' },
      );
      // The child is found on the host by a variable it inherits: in a sandbox its own pid is its namespace's.
      const mark = `spawner-${process.pid}-${Date.now()}`;
      await createFunction(
        t.lambda,
        'spawner',
        {
          'index.js':
            'const { spawn } = require("node:child_process");\nexports.handler = async () => {\n  const child = spawn("sleep", ["30"], { stdio: "inherit" });\n  child.unref();\n  return { pid: process.pid, stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME, child: child.pid };\n};\n',
        },
        { Environment: { Variables: { MARK: mark } } },
      );

      const pids: number[] = [];
      for (const name of ['node-fn', 'py-fn', 'provided-fn'])
        pids.push(withHostPid(t.server, (await invoke(t.lambda, name, {})).payload as { pid: number; stream: string }).pid);
      const spawned = withHostPid(
        t.server,
        (await invoke(t.lambda, 'spawner', {})).payload as { pid: number; stream: string; child: number },
      );
      // Everything of the spawner's environment on the host: its runtime, the sleep child (and bubblewrap's processes).
      await waitFor('the spawned child to start', () => pidsWithEnv('MARK', mark).length >= 2);
      const spawnerPids = pidsWithEnv('MARK', mark);
      pids.push(spawned.pid);
      // One still busy when the server closes.
      await createFunction(t.lambda, 'busy-fn', slow);
      const busy = invoke(t.lambda, 'busy-fn', { ms: 5000 }).catch(() => undefined);
      await waitFor('the invocation to be running', () => t.server.services.environments.stats().busy === 1, 3000, 10);

      const envPids = t.server.services.environments.environments().map((e) => e.pid);
      assert.equal(envPids.length, 5);
      for (const pid of pids.slice(0, 4)) assert.ok(envPids.includes(pid), `runtime ${pid} is not an environment's process`);
      for (const pid of [...envPids, ...spawnerPids]) assert.ok(pid !== undefined && isAlive(pid));

      await t.close();
      closed = true;
      const left = [...envPids, ...spawnerPids].filter((pid) => pid !== undefined && isAlive(pid));
      assert.deepEqual(left, [], 'processes still running after close');
      assert.deepEqual(t.server.services.environments.stats(), { total: 0, busy: 0, idle: 0 });
      await busy;
    } finally {
      if (!closed) await t.close();
    }
  });
});
