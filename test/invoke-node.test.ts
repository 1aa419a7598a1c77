/** Invoke against Node.js functions: handler styles, the context object, the environment, warm reuse and the AWS SDK. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateAliasCommand, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { createFunction, startTestServer, type TestServer } from './harness.js';
import { invoke, reportedDuration, waitFor } from './invoke-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Invoke: Node.js handlers', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('Invoke: a CommonJS async exports.handler answers with its return value', async () => {
    await createFunction(t.lambda, 'cjs-async', {
      'index.js': 'exports.handler = async (event) => ({ got: event, cjs: typeof require });',
    });
    const out = await invoke(t.lambda, 'cjs-async', { a: [1, 'two'] });
    assert.equal(out.statusCode, 200);
    assert.equal(out.functionError, undefined);
    assert.equal(out.executedVersion, '$LATEST');
    assert.deepEqual(out.payload, { got: { a: [1, 'two'] }, cjs: 'function' });
  });

  it('Invoke: an ESM index.mjs `export const handler` runs, top-level await included', async () => {
    const code =
      'const ready = await Promise.resolve("awaited");\nexport const handler = async (event) => ({ esm: typeof require === "undefined", ready, got: event });\n';
    await createFunction(t.lambda, 'esm-mjs', { 'index.mjs': code });
    const out = await invoke(t.lambda, 'esm-mjs', { b: true });
    assert.equal(out.functionError, undefined, out.raw);
    assert.deepEqual(out.payload, { esm: true, ready: 'awaited', got: { b: true } });
  });

  it('Invoke: index.js is loaded as ESM under a package.json with "type": "module"', async () => {
    await createFunction(t.lambda, 'esm-pkg', {
      'package.json': '{ "type": "module" }',
      'index.js': 'import { sep } from "node:path";\nexport const handler = async () => ({ esm: typeof require === "undefined", sep });\n',
    });
    const out = await invoke(t.lambda, 'esm-pkg');
    assert.equal(out.functionError, undefined, out.raw);
    assert.deepEqual(out.payload, { esm: true, sep: '/' });
  });

  it('Invoke: the callback style answers with the callback value, and a callback error is a function error', async () => {
    await createFunction(t.lambda, 'callback-style', {
      'index.js':
        'exports.handler = (event, context, callback) => {\n  if (event.fail) callback(new Error("callback failed"));\n  else callback(null, { via: "callback", n: event.n + 1 });\n};\n',
    });
    assert.deepEqual((await invoke(t.lambda, 'callback-style', { n: 41 })).payload, { via: 'callback', n: 42 });
    const failed = await invoke(t.lambda, 'callback-style', { fail: true });
    assert.equal(failed.functionError, 'Unhandled');
    assert.equal((failed.payload as { errorMessage: string }).errorMessage, 'callback failed');
  });

  it('Invoke: context.succeed answers with its value', async () => {
    await createFunction(t.lambda, 'context-succeed', {
      'index.js': 'exports.handler = (event, context) => { context.succeed({ via: "succeed" }); };\n',
    });
    const out = await invoke(t.lambda, 'context-succeed');
    assert.equal(out.functionError, undefined, out.raw);
    assert.deepEqual(out.payload, { via: 'succeed' });
  });

  it("Invoke: the tutorial's async handler that calls its callback answers with the callback's value", async () => {
    await createFunction(t.lambda, 'tutorial-callback', {
      'index.js':
        'exports.handler = async (event, context, callback) => {\n  callback(null, "this is the original function (Math.ceil) = " + Math.ceil(999.5))\n}\n',
    });
    const out = await invoke(t.lambda, 'tutorial-callback');
    assert.equal(out.functionError, undefined, out.raw);
    assert.equal(out.payload, 'this is the original function (Math.ceil) = 1000');
  });

  it('Invoke: a callback waits for pending timers unless callbackWaitsForEmptyEventLoop is false', async () => {
    await createFunction(t.lambda, 'callback-wait', {
      'index.js': [
        'exports.handler = (event, context, callback) => {',
        '  context.callbackWaitsForEmptyEventLoop = event.wait;',
        '  setTimeout(() => console.log("timer fired " + event.tag), event.delay);',
        '  callback(null, "replied " + event.tag);',
        '};',
        '',
      ].join('\n'),
    });
    const waited = await invoke(t.lambda, 'callback-wait', { wait: true, delay: 400, tag: 'a' }, { LogType: 'Tail' });
    assert.equal(waited.payload, 'replied a');
    assert.match(waited.log, /timer fired a\n(.*\n)*END RequestId/);
    assert.ok(reportedDuration(waited.log) >= 390, `waited only ${reportedDuration(waited.log)} ms:\n${waited.log}`);

    const quick = await invoke(t.lambda, 'callback-wait', { wait: false, delay: 4000, tag: 'b' }, { LogType: 'Tail' });
    assert.equal(quick.payload, 'replied b');
    assert.doesNotMatch(quick.log, /timer fired b/);
    assert.ok(reportedDuration(quick.log) < 2000, `took ${reportedDuration(quick.log)} ms:\n${quick.log}`);
  });

  it('Invoke: a handler that returns undefined answers null', async () => {
    await createFunction(t.lambda, 'returns-undefined', { 'index.js': 'exports.handler = async () => {};\n' });
    const out = await invoke(t.lambda, 'returns-undefined');
    assert.equal(out.functionError, undefined);
    assert.equal(out.raw, 'null');
  });

  it('Invoke: a nested handler path src/app.handler is found', async () => {
    await createFunction(
      t.lambda,
      'nested-handler',
      { 'src/app.js': 'exports.handler = async () => "from src/app";\n' },
      { Handler: 'src/app.handler' },
    );
    const out = await invoke(t.lambda, 'nested-handler');
    assert.equal(out.functionError, undefined, out.raw);
    assert.equal(out.payload, 'from src/app');
  });

  it('Invoke: nodejs18.x and nodejs22.x run the same CommonJS and ESM code', async () => {
    for (const runtime of ['nodejs18.x', 'nodejs22.x'] as const) {
      const cjs = `cjs-${runtime.replace('.', '-')}`;
      const esm = `esm-${runtime.replace('.', '-')}`;
      await createFunction(
        t.lambda,
        cjs,
        { 'index.js': 'exports.handler = async (e) => ({ cjs: e.x, env: process.env.AWS_EXECUTION_ENV });\n' },
        { Runtime: runtime },
      );
      await createFunction(
        t.lambda,
        esm,
        { 'index.mjs': 'export const handler = async (e) => ({ esm: e.x, env: process.env.AWS_EXECUTION_ENV });\n' },
        { Runtime: runtime },
      );
      assert.deepEqual((await invoke(t.lambda, cjs, { x: 1 })).payload, { cjs: 1, env: `AWS_Lambda_${runtime}` });
      assert.deepEqual((await invoke(t.lambda, esm, { x: 2 })).payload, { esm: 2, env: `AWS_Lambda_${runtime}` });
    }
  });

  it('Invoke: the context carries the function identity, the alias ARN it was invoked by, memory, request id and remaining time', async () => {
    const name = 'context-fields';
    await createFunction(
      t.lambda,
      name,
      {
        'index.js': [
          'exports.handler = async (event, context) => ({',
          '  functionName: context.functionName,',
          '  functionVersion: context.functionVersion,',
          '  invokedFunctionArn: context.invokedFunctionArn,',
          '  memoryLimitInMB: context.memoryLimitInMB,',
          '  awsRequestId: context.awsRequestId,',
          '  logGroupName: context.logGroupName,',
          '  clientContext: context.clientContext,',
          '  remaining: context.getRemainingTimeInMillis(),',
          '});',
          '',
        ].join('\n'),
      },
      { MemorySize: 256, Timeout: 7 },
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
    const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: 'acme' } })).toString('base64');

    const byAlias = await invoke(t.lambda, name, {}, { Qualifier: 'live', LogType: 'Tail', ClientContext: clientContext });
    const ctx = byAlias.payload as Record<string, unknown>;
    assert.equal(byAlias.executedVersion, '1');
    assert.equal(ctx.functionName, name);
    assert.equal(ctx.functionVersion, '1');
    assert.equal(ctx.invokedFunctionArn, `arn:aws:lambda:us-east-1:000000000000:function:${name}:live`);
    assert.equal(ctx.memoryLimitInMB, '256');
    assert.equal(ctx.logGroupName, `/aws/lambda/${name}`);
    assert.deepEqual(ctx.clientContext, { custom: { tenant: 'acme' } });
    assert.match(String(ctx.awsRequestId), UUID);
    assert.ok(byAlias.log.includes(`START RequestId: ${String(ctx.awsRequestId)} Version: 1`), byAlias.log);
    const remaining = ctx.remaining as number;
    assert.ok(remaining > 0 && remaining <= 7000, `remaining ${remaining}`);

    const unqualified = (await invoke(t.lambda, name)).payload as Record<string, unknown>;
    assert.equal(unqualified.functionVersion, '$LATEST');
    assert.equal(unqualified.invokedFunctionArn, `arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    assert.notEqual(unqualified.awsRequestId, ctx.awsRequestId);
  });

  it('Invoke: the environment holds the Lambda variables and the function’s own', async () => {
    await createFunction(
      t.lambda,
      'env-vars',
      {
        'index.js':
          'const keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER", "AWS_ENDPOINT_URL", "GREETING", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"];\nexports.handler = async (e, context) => ({ env: Object.fromEntries(keys.map((k) => [k, process.env[k]])), stream: context.logStreamName });\n',
      },
      { Environment: { Variables: { GREETING: 'hello' } } },
    );
    const { env, stream } = (await invoke(t.lambda, 'env-vars')).payload as { env: Record<string, string>; stream: string };
    assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'env-vars');
    assert.equal(env.AWS_LAMBDA_FUNCTION_VERSION, '$LATEST');
    assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '128');
    assert.equal(env.AWS_REGION, 'us-east-1');
    assert.equal(env.AWS_LAMBDA_LOG_GROUP_NAME, '/aws/lambda/env-vars');
    assert.match(env.AWS_LAMBDA_LOG_STREAM_NAME ?? '', /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.equal(stream, env.AWS_LAMBDA_LOG_STREAM_NAME);
    assert.equal(env._HANDLER, 'index.handler');
    assert.equal(env.AWS_ENDPOINT_URL, t.url);
    assert.equal(env.GREETING, 'hello');
  });

  it('Invoke: each invocation’s trace id is process.env._X_AMZN_TRACE_ID, everywhere JavaScript and child processes look', async () => {
    await createFunction(t.lambda, 'trace-env', {
      'index.js': [
        'const { execFileSync } = require("node:child_process");',
        'const NAME = "_X_AMZN_TRACE_ID";',
        'exports.handler = async () => ({',
        '  read: process.env[NAME],',
        '  has: NAME in process.env,',
        '  keys: Object.keys(process.env).filter((k) => k === NAME).length,',
        '  spread: { ...process.env }[NAME],',
        '  json: JSON.parse(JSON.stringify(process.env))[NAME],',
        '  child: execFileSync("/bin/sh", ["-c", `echo "$${NAME}"`], { encoding: "utf8" }).trim(),',
        '  home: process.env.AWS_LAMBDA_FUNCTION_NAME,',
        '});',
        '',
      ].join('\n'),
    });
    const seen: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const out = (await invoke(t.lambda, 'trace-env')).payload as Record<string, unknown>;
      assert.match(String(out.read), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
      assert.deepEqual(out, { read: out.read, has: true, keys: 1, spread: out.read, json: out.read, child: out.read, home: 'trace-env' });
      seen.push(out.read);
    }
    assert.notEqual(seen[0], seen[1], 'each invocation has its own trace id');
  });

  it('Invoke: a warm environment is reused, keeping module state across invocations', async () => {
    await createFunction(t.lambda, 'warm-counter', {
      'index.js': 'let count = 0;\nexports.handler = async () => ({ count: ++count, pid: process.pid });\n',
    });
    const first = (await invoke(t.lambda, 'warm-counter')).payload as { count: number; pid: number };
    const second = (await invoke(t.lambda, 'warm-counter')).payload as { count: number; pid: number };
    assert.equal(first.count, 1);
    assert.equal(second.count, 2);
    assert.equal(second.pid, first.pid);
  });

  it('Invoke: console.log lines reach the Tail log between START and END with the request id and level', async () => {
    await createFunction(t.lambda, 'node-logs', {
      'index.js':
        'exports.handler = async (e, context) => { console.log("hello", { n: 1 }); console.error("oops"); return context.awsRequestId; };\n',
    });
    const out = await invoke(t.lambda, 'node-logs', {}, { LogType: 'Tail' });
    const id = out.payload as string;
    const lines = out.log.trimEnd().split('\n');
    assert.equal(lines[0], `START RequestId: ${id} Version: $LATEST`);
    assert.match(lines[1] ?? '', new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z\\t${id}\\tINFO\\thello { n: 1 }$`));
    assert.match(lines[2] ?? '', new RegExp(`\\t${id}\\tERROR\\toops$`));
    assert.equal(lines[3], `END RequestId: ${id}`);
    assert.match(
      lines[4] ?? '',
      new RegExp(
        `^REPORT RequestId: ${id}\\tDuration: [0-9.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB`,
      ),
    );
  });
});

describe('Invoke: the AWS SDK v3 inside Node.js functions', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await createFunction(t.lambda, 'sdk-echo', { 'index.js': 'exports.handler = async (e) => `echo: ${e}`;' });
  });
  after(() => t.close());

  // Invoke is what a function's own key may call of Lambda (function-scope.ts).
  const body =
    'const out = await new LambdaClient({}).send(new InvokeCommand({ FunctionName: "sdk-echo", Payload: JSON.stringify("hi") }));\n  return JSON.parse(Buffer.from(out.Payload).toString());';

  it('Invoke: a CommonJS function can require @aws-sdk/client-lambda and call Versa through AWS_ENDPOINT_URL', async () => {
    await createFunction(
      t.lambda,
      'sdk-cjs',
      {
        'index.js': `const { InvokeCommand, LambdaClient } = require("@aws-sdk/client-lambda");\nexports.handler = async () => {\n  ${body}\n};\n`,
      },
      { Timeout: 20 },
    );
    const out = await invoke(t.lambda, 'sdk-cjs');
    assert.equal(out.functionError, undefined, out.raw);
    assert.equal(out.payload, 'echo: hi');
  });

  it('Invoke: an ESM function can import @aws-sdk/client-lambda and call Versa through AWS_ENDPOINT_URL', async () => {
    await createFunction(
      t.lambda,
      'sdk-esm',
      {
        'index.mjs': `import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";\nexport const handler = async () => {\n  ${body}\n};\n`,
      },
      { Timeout: 20 },
    );
    const out = await invoke(t.lambda, 'sdk-esm');
    assert.equal(out.functionError, undefined, out.raw);
    assert.equal(out.payload, 'echo: hi');
  });
});

describe('Invoke: invocation types', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const printer = {
    'index.js': 'exports.handler = async (event) => { console.log("ran with marker " + event.marker); return "done"; };\n',
  };
  const printed = async (name: string, marker: string) =>
    (await t.server.services.logs.groupEvents(`/aws/lambda/${name}`)).some((e) => e.message.includes(`ran with marker ${marker}`));

  it('Invoke: InvocationType Event answers 202 at once and runs the function in the background', async () => {
    await createFunction(t.lambda, 'event-invoke', printer);
    const out = await invoke(t.lambda, 'event-invoke', { marker: 'e-1' }, { InvocationType: 'Event' });
    assert.equal(out.statusCode, 202);
    assert.equal(out.raw, '');
    await waitFor('the Event invocation to print its marker', () => printed('event-invoke', 'e-1'));
  });

  it('Invoke: InvocationType DryRun answers 204 without running the function', async () => {
    await createFunction(t.lambda, 'dry-run', printer);
    const out = await invoke(t.lambda, 'dry-run', { marker: 'd-1' }, { InvocationType: 'DryRun' });
    assert.equal(out.statusCode, 204);
    assert.equal(out.raw, '');
    // A RequestResponse invoke afterwards runs; by the time it answers a DryRun that had run would have printed too.
    const normal = await invoke(t.lambda, 'dry-run', { marker: 'd-2' });
    assert.equal(normal.payload, 'done');
    assert.ok(await printed('dry-run', 'd-2'));
    assert.ok(!(await printed('dry-run', 'd-1')), 'the DryRun invocation ran the function');
    assert.equal((await t.server.services.logs.groupEvents('/aws/lambda/dry-run')).filter((e) => e.message.startsWith('START ')).length, 1);
  });
});
