/** Invoke failure modes: each answers with AWS's error shape and leaves the server serving other functions. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFunction, startTestServer, type TestServer } from './harness.js';
import { invoke, isAlive, waitFor, withHostPid } from './invoke-helpers.js';

const REQUEST_ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

interface ErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

describe('Invoke: failure modes', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await createFunction(t.lambda, 'healthy', { 'index.js': 'exports.handler = async (e) => ({ healthy: e.n });\n' });
  });
  after(() => t.close());

  /** Fails unless an unrelated function still answers normally. */
  let served = 0;
  const assertServing = async () => {
    const n = ++served;
    const out = await invoke(t.lambda, 'healthy', { n });
    assert.equal(out.functionError, undefined, out.raw);
    assert.deepEqual(out.payload, { healthy: n });
  };
  const functionErrorOf = (out: { functionError: string | undefined; payload: unknown; statusCode: number | undefined }) => {
    assert.equal(out.statusCode, 200);
    assert.equal(out.functionError, 'Unhandled');
    return out.payload as ErrorPayload;
  };

  const sleeper = {
    'index.js':
      'exports.handler = async (e) => {\n  if (e.sleep) await new Promise((r) => setTimeout(r, e.sleep));\n  return { pid: process.pid, stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME };\n};\n',
  };

  it('Invoke: a handler running past its Timeout fails with Sandbox.Timedout and the next invoke gets a new environment', async () => {
    await createFunction(t.lambda, 'times-out', sleeper, { Timeout: 1 });
    const { pid, stream } = withHostPid(t.server, (await invoke(t.lambda, 'times-out', {})).payload as { pid: number; stream: string });

    const started = Date.now();
    const out = await invoke(t.lambda, 'times-out', { sleep: 3000 }, { LogType: 'Tail' });
    const elapsed = Date.now() - started;
    const err = functionErrorOf(out);
    assert.equal(err.errorType, 'Sandbox.Timedout');
    assert.match(err.errorMessage, new RegExp(`^RequestId: ${REQUEST_ID} Error: Task timed out after 1\\.00 seconds$`));
    assert.ok(elapsed >= 950 && elapsed < 2500, `answered after ${elapsed} ms`);
    assert.match(out.log, /Task timed out after 1\.00 seconds\nEND RequestId/);

    await waitFor('the timed-out runtime process to end', () => !isAlive(pid), 3000);
    const next = await invoke(t.lambda, 'times-out', {});
    assert.equal(next.functionError, undefined, next.raw);
    assert.notEqual((next.payload as { stream: string }).stream, stream);
    // The killed runtime's exit did not report the timed-out invocation a second time.
    const requestId = /^RequestId: (\S+) /.exec(err.errorMessage)?.[1] ?? '';
    const ends = (await t.server.services.logs.groupEvents('/aws/lambda/times-out')).filter(
      (e) => e.message === `END RequestId: ${requestId}`,
    );
    assert.equal(ends.length, 1);
    await assertServing();
  });

  it('Invoke: the Timeout also holds on a cold start (initialisation does not count against it)', async () => {
    await createFunction(t.lambda, 'times-out-cold', sleeper, { Timeout: 1 });
    const started = Date.now();
    const err = functionErrorOf(await invoke(t.lambda, 'times-out-cold', { sleep: 3000 }));
    const elapsed = Date.now() - started;
    assert.equal(err.errorType, 'Sandbox.Timedout');
    assert.ok(elapsed < 2500, `a 1 s timeout answered after ${elapsed} ms`);
    await assertServing();
  });

  it('Invoke: a Python handler running past its Timeout fails with Sandbox.Timedout', async () => {
    await createFunction(
      t.lambda,
      'py-times-out',
      { 'app.py': 'import time\ndef handler(event, context):\n    time.sleep(3)\n' },
      {
        Runtime: 'python3.12',
        Handler: 'app.handler',
        Timeout: 1,
      },
    );
    const err = functionErrorOf(await invoke(t.lambda, 'py-times-out', {}));
    assert.equal(err.errorType, 'Sandbox.Timedout');
    assert.match(err.errorMessage, /Error: Task timed out after 1\.00 seconds$/);
    await assertServing();
  });

  it('Invoke: a runtime process that exits mid-invocation fails with Runtime.ExitError', async () => {
    await createFunction(t.lambda, 'exits', {
      'index.js': 'exports.handler = async (e) => { if (e.exit) process.exit(1); return "alive"; };\n',
    });
    const err = functionErrorOf(await invoke(t.lambda, 'exits', { exit: true }));
    assert.equal(err.errorType, 'Runtime.ExitError');
    assert.match(err.errorMessage, new RegExp(`^RequestId: ${REQUEST_ID} Error: Runtime exited with error: exit status 1$`));
    assert.equal((await invoke(t.lambda, 'exits', {})).payload, 'alive');
    await assertServing();
  });

  it('Invoke: a module that throws while loading fails with a Runtime.* init error, every time', async () => {
    await createFunction(t.lambda, 'throws-at-load', {
      'index.js': 'throw new Error("boom at load");\nexports.handler = async () => "never";\n',
    });
    for (let i = 0; i < 2; i++) {
      const err = functionErrorOf(await invoke(t.lambda, 'throws-at-load', {}));
      assert.match(err.errorType, /^Runtime\./);
      assert.match(err.errorMessage, /boom at load/);
    }
    await assertServing();
  });

  it('Invoke: a missing module fails with Runtime.ImportModuleError and a missing export with Runtime.HandlerNotFound', async () => {
    await createFunction(t.lambda, 'missing-module', { 'index.js': 'exports.handler = async () => 1;\n' }, { Handler: 'nothere.handler' });
    const missingModule = functionErrorOf(await invoke(t.lambda, 'missing-module', {}));
    assert.equal(missingModule.errorType, 'Runtime.ImportModuleError');
    assert.match(missingModule.errorMessage, /Cannot find module 'nothere'/);

    await createFunction(t.lambda, 'missing-export', { 'index.js': 'exports.other = async () => 1;\n' });
    const missingExport = functionErrorOf(await invoke(t.lambda, 'missing-export', {}));
    assert.equal(missingExport.errorType, 'Runtime.HandlerNotFound');
    assert.equal(missingExport.errorMessage, 'index.handler is undefined or not exported');

    await createFunction(t.lambda, 'py-missing-module', { 'app.py': 'x = 1\n' }, { Runtime: 'python3.12', Handler: 'nothere.handler' });
    assert.equal(functionErrorOf(await invoke(t.lambda, 'py-missing-module', {})).errorType, 'Runtime.ImportModuleError');
    await createFunction(t.lambda, 'py-missing-export', { 'app.py': 'x = 1\n' }, { Runtime: 'python3.12', Handler: 'app.handler' });
    assert.equal(functionErrorOf(await invoke(t.lambda, 'py-missing-export', {})).errorType, 'Runtime.HandlerNotFound');
    await assertServing();
  });

  it('Invoke: a syntax error in the handler module fails with Runtime.UserCodeSyntaxError', async () => {
    await createFunction(t.lambda, 'syntax-error', { 'index.js': 'exports.handler = async () => {\n' });
    assert.equal(functionErrorOf(await invoke(t.lambda, 'syntax-error', {})).errorType, 'Runtime.UserCodeSyntaxError');
    await assertServing();
  });

  it('Invoke: a response over 6 MB fails with Function.ResponseSizeTooLarge and the environment keeps serving', async () => {
    await createFunction(
      t.lambda,
      'too-large',
      { 'index.js': 'let n = 0;\nexports.handler = async (e) => (e.big ? "x".repeat(7 * 1024 * 1024) : { n: ++n, pid: process.pid });\n' },
      { MemorySize: 512 },
    );
    const before = (await invoke(t.lambda, 'too-large', {})).payload as { n: number; pid: number };
    const err = functionErrorOf(await invoke(t.lambda, 'too-large', { big: true }));
    assert.equal(err.errorType, 'Function.ResponseSizeTooLarge');
    assert.equal(err.errorMessage, 'Response payload size exceeded maximum allowed payload size (6291556 bytes).');
    const afterwards = (await invoke(t.lambda, 'too-large', {})).payload as { n: number; pid: number };
    assert.deepEqual(afterwards, { n: 2, pid: before.pid });
    await assertServing();
  });

  it('Invoke: a Node handler error answers errorType, errorMessage and a trace array', async () => {
    await createFunction(t.lambda, 'node-throws', {
      'index.js':
        'exports.handler = async (e) => { if (e.reject) return Promise.reject(new RangeError("out of range")); throw new TypeError("bad input"); };\n',
    });
    const thrown = functionErrorOf(await invoke(t.lambda, 'node-throws', {}));
    assert.deepEqual(Object.keys(thrown).sort(), ['errorMessage', 'errorType', 'trace']);
    assert.equal(thrown.errorType, 'TypeError');
    assert.equal(thrown.errorMessage, 'bad input');
    assert.ok(Array.isArray(thrown.trace) && thrown.trace.every((l) => typeof l === 'string'));
    assert.equal(thrown.trace[0], 'TypeError: bad input');
    assert.ok(
      thrown.trace.some((l) => l.includes('index.js')),
      JSON.stringify(thrown.trace),
    );

    const rejected = functionErrorOf(await invoke(t.lambda, 'node-throws', { reject: true }));
    assert.equal(rejected.errorType, 'RangeError');
    assert.equal(rejected.errorMessage, 'out of range');
    await assertServing();
  });

  it('Invoke: a handler that never resolves and leaves nothing running answers null at once', async () => {
    await createFunction(t.lambda, 'never-resolves', { 'index.js': 'exports.handler = () => new Promise(() => {});\n' }, { Timeout: 5 });
    const started = Date.now();
    const out = await invoke(t.lambda, 'never-resolves', {});
    assert.equal(out.functionError, undefined, out.raw);
    assert.equal(out.raw, 'null');
    assert.ok(Date.now() - started < 2500, 'answered only after a long wait');
    // The environment keeps serving.
    assert.equal((await invoke(t.lambda, 'never-resolves', {})).raw, 'null');
    await assertServing();
  });

  it('Invoke: an Event invocation that fails waits in the queue for its retry (async-invoke.test.ts runs the retries)', async () => {
    await createFunction(t.lambda, 'event-fails', { 'index.js': 'exports.handler = async () => { throw new Error("always"); };\n' });
    const out = await invoke(t.lambda, 'event-fails', {}, { InvocationType: 'Event' });
    assert.equal(out.statusCode, 202);
    const ends = async () =>
      (await t.server.services.logs.groupEvents('/aws/lambda/event-fails')).filter((e) => e.message.startsWith('REPORT ')).length;
    await waitFor('the first attempt', async () => (await ends()) >= 1);
    await waitFor('the retry to be scheduled', async () => (await t.server.services.queue.depth('event-fails')).pending === 1);
    assert.equal(await ends(), 1);
    await assertServing();
  });

  it('Invoke: a runtime that exits right after responding keeps its answer, reported once', async () => {
    const bootstrap = [
      '#!/usr/bin/env node',
      'const http = require("node:http");',
      'const base = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/`;',
      'http.get(base + "next", (res) => {',
      '  res.resume();',
      '  const id = res.headers["lambda-runtime-aws-request-id"];',
      '  const req = http.request(base + id + "/response", { method: "POST" }, () => process.exit(0));',
      '  req.end(JSON.stringify({ stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME }));',
      '});',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'one-shot', { bootstrap }, { Runtime: 'provided.al2023', Handler: 'x' });
    // Each environment has a log stream of its own (its pid, in a sandbox, is its namespace's).
    const streams = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const out = await invoke(t.lambda, 'one-shot', {});
      assert.equal(out.functionError, undefined, out.raw);
      streams.add((out.payload as { stream: string }).stream);
    }
    assert.equal(streams.size, 5, 'an exited runtime was used again');
    const events = await t.server.services.logs.groupEvents('/aws/lambda/one-shot');
    assert.equal(events.filter((e) => e.message.startsWith('START ')).length, 5);
    assert.equal(events.filter((e) => e.message.startsWith('REPORT ')).length, 5);
    await assertServing();
  });

  it('Invoke: a client context of any Unicode, and line breaks between its members, reaches a provided runtime as the same JSON', async () => {
    // Put into the Runtime API's header as sent, "€" or a line break threw in the server and ended it.
    const bootstrap = [
      '#!/usr/bin/env node',
      'const http = require("node:http");',
      'const base = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/`;',
      'const next = () => http.get(base + "next", (res) => {',
      '  res.resume();',
      '  const id = res.headers["lambda-runtime-aws-request-id"];',
      '  const req = http.request(base + id + "/response", { method: "POST" }, (r) => { r.resume(); next(); });',
      '  req.end(JSON.stringify({ header: res.headers["lambda-runtime-client-context"] }));',
      '});',
      'next();',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'context-echo', { bootstrap }, { Runtime: 'provided.al2023', Handler: 'x' });
    const context = { custom: { city: 'Zürich', price: '€5', emoji: '😀', del: '\u007f', tab: 'a\tb' }, env: { locale: 'ko-KR 한국어' } };
    for (const text of [JSON.stringify(context), JSON.stringify(context, null, 2).replace(/\n/g, '\r\n')]) {
      const out = await invoke(t.lambda, 'context-echo', {}, { ClientContext: Buffer.from(text).toString('base64') });
      assert.equal(out.functionError, undefined, out.raw);
      const header = (out.payload as { header: string }).header;
      assert.match(header, /^[\x20-\x7e]+$/, 'one line of ASCII');
      assert.deepEqual(JSON.parse(header), context);
    }
    await assertServing();
  });

  it('Invoke: a provided.al2023 package without a bootstrap fails with Runtime.InvalidEntrypoint', async () => {
    await createFunction(t.lambda, 'no-bootstrap', { 'main.sh': 'echo hi\n' }, { Runtime: 'provided.al2023', Handler: 'main' });
    const err = functionErrorOf(await invoke(t.lambda, 'no-bootstrap', {}));
    assert.equal(err.errorType, 'Runtime.InvalidEntrypoint');
    assert.match(
      err.errorMessage,
      new RegExp(`^RequestId: ${REQUEST_ID} Error: Couldn't find valid bootstrap\\(s\\): \\[\\S+/bootstrap\\]$`),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reports = (await t.server.services.logs.groupEvents('/aws/lambda/no-bootstrap')).filter((e) => e.message.startsWith('REPORT '));
    assert.equal(reports.length, 1, 'the failed start was reported more than once');
    await assertServing();
  });
});
