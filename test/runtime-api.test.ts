/**
 * The Runtime API as the runtimes Versa ships meet it: a poll for `next` crossed by another must not end
 * a warm runtime nor put Versa's own traceback in the function's log; and error stack traces show the
 * function's code under /var/task and the runtime under /var/runtime, as on Lambda, wherever they are.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { clientConfig, createFunction, startTestServer, type TestServer } from './harness.js';
import { invoke, sleep, waitFor } from './invoke-helpers.js';

const PY = { Runtime: 'python3.12', Handler: 'lambda_function.lambda_handler' } as const;

describe('Runtime API: crossing polls and stack traces', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  before(async () => {
    t = await startTestServer();
    logs = new CloudWatchLogsClient(clientConfig(t.url));
  });
  after(async () => {
    logs.destroy();
    await t.close();
  });

  const logText = async (name: string, until: RegExp): Promise<string> =>
    waitFor(`the log of ${name} to show ${String(until)}`, async () => {
      const events = (await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${name}` }))).events ?? [];
      const text = events.map((e) => e.message ?? '').join('\n');
      return until.test(text) ? text : '';
    });

  // A poll for `next` that reaches the server while the runtime's own is open, from a connection that is
  // gone by the time it could be answered: what a request re-sent on a new connection looks like when the
  // first copy arrives last. The handler sends it from a thread once the runtime is back to polling.
  const STRAY_PY = [
    'import os, socket, threading, time',
    'def stray_poll():',
    '    time.sleep(0.2)',
    '    address, _, prefix = os.environ["AWS_LAMBDA_RUNTIME_API"].partition("/")',
    '    host, port = address.rsplit(":", 1)',
    '    s = socket.create_connection((host, int(port)))',
    '    s.sendall(("GET /%s/2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % (prefix, address)).encode())',
    '    time.sleep(0.1)',
    '    s.close()',
    'def lambda_handler(event, context):',
    '    if event.get("stray"):',
    '        threading.Thread(target=stray_poll, daemon=True).start()',
    '    return context.log_stream_name',
    '',
  ].join('\n');
  const STRAY_NODE = [
    'const net = require("node:net");',
    'function strayPoll() {',
    '  const [address, prefix] = process.env.AWS_LAMBDA_RUNTIME_API.split(/\\/(.*)/);',
    '  const [host, port] = address.split(":");',
    '  const s = net.connect(Number(port), host, () => {',
    '    s.write(`GET /${prefix}/2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: ${address}\\r\\n\\r\\n`);',
    '    setTimeout(() => s.destroy(), 100);',
    '  });',
    '  s.on("error", () => undefined);',
    '}',
    'exports.handler = async (event, context) => {',
    '  if (event.stray) setTimeout(strayPoll, 200);',
    '  return context.logStreamName;',
    '};',
  ].join('\n');

  for (const [runtime, files, extra] of [
    ['python', { 'lambda_function.py': STRAY_PY }, PY],
    ['node', { 'index.js': STRAY_NODE }, {}],
  ] as const) {
    it(`Invoke (${runtime}): a poll crossing the runtime's own leaves the warm runtime serving, and nothing of Versa's in the function's log`, async () => {
      const name = `crossing-polls-${runtime}`;
      await createFunction(t.lambda, name, files, extra);
      const first = await invoke(t.lambda, name, { stray: true });
      assert.equal(first.functionError, undefined, first.raw);
      // Real time: the stray poll is sent 200 ms after the answer and its connection closed 100 ms later.
      await sleep(600);
      const second = await invoke(t.lambda, name, {});
      assert.equal(second.functionError, undefined, second.raw);
      assert.equal(second.payload, first.payload, 'the second invocation ran in a new environment: the first one ended');
      const text = await logText(name, /REPORT RequestId[\s\S]*REPORT RequestId/);
      assert.doesNotMatch(text, /Traceback|RuntimeError|Error|answered/, text);
    });
  }

  it('Invoke (python): stackTrace lists only the function frames, under /var/task, in the payload and in the log', async () => {
    const name = 'py-stack-paths';
    const code = ['def inner():', '    raise ValueError("boom")', '', 'def lambda_handler(event, context):', '    inner()', ''].join('\n');
    await createFunction(t.lambda, name, { 'lambda_function.py': code }, PY);
    const out = await invoke(t.lambda, name, {});
    assert.equal(out.functionError, 'Unhandled');
    const body = out.payload as { errorType: string; stackTrace: string[] };
    assert.equal(body.errorType, 'ValueError');
    assert.deepEqual(body.stackTrace, [
      '  File "/var/task/lambda_function.py", line 5, in lambda_handler\n    inner()\n',
      '  File "/var/task/lambda_function.py", line 2, in inner\n    raise ValueError("boom")\n',
    ]);
    const text = await logText(name, /Traceback/);
    assert.match(text, /File "\/var\/task\/lambda_function\.py", line 2, in inner/);
    assert.doesNotMatch(text, new RegExp(`${escape(t.dataDir)}|bootstrap|dist/src`), text);
  });

  it('Invoke (node): the trace shows the function under file:///var/task and the runtime as file:///var/runtime/index.mjs, in the payload and in the log', async () => {
    const name = 'node-stack-paths';
    const code = [
      'export const handler = async () => {',
      '  const err = new Error("boom");',
      '  console.error(err);',
      '  throw err;',
      '};',
    ].join('\n');
    await createFunction(t.lambda, name, { 'index.mjs': code });
    const out = await invoke(t.lambda, name, {});
    assert.equal(out.functionError, 'Unhandled');
    const trace = (out.payload as { trace: string[] }).trace;
    assert.equal(trace[0], 'Error: boom');
    assert.match(trace[1] ?? '', /^ {4}at (?:Runtime\.)?handler \(file:\/\/\/var\/task\/index\.mjs:2:15\)$/);
    assert.ok(
      trace.some((line) => /\(file:\/\/\/var\/runtime\/index\.mjs:\d+:\d+\)$/.test(line)),
      `no runtime frame under /var/runtime: ${trace.join(' | ')}`,
    );
    const host = new RegExp(`${escape(t.dataDir)}|bootstrap|dist/src`);
    for (const line of trace) assert.doesNotMatch(line, host);
    const text = await logText(name, /ERROR\tError: boom/);
    assert.match(text, /file:\/\/\/var\/task\/index\.mjs:2:15/);
    assert.doesNotMatch(text, host, text);
  });
});

describe('Runtime API: environments the platform stops', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  before(async () => {
    t = await startTestServer({ maxEnvironments: 8 });
    logs = new CloudWatchLogsClient(clientConfig(t.url));
  });
  after(async () => {
    logs.destroy();
    await t.close();
  });

  it("Invoke: warm Python environments evicted for another function's traffic leave no traceback in their function's log", async () => {
    const demo = 'lambda-version-demo';
    const code = [
      'import time',
      'def lambda_handler(event, context):',
      '    time.sleep(event.get("sleep", 0))',
      '    return "this is version one."',
      '',
    ];
    await createFunction(t.lambda, demo, { 'lambda_function.py': code.join('\n') }, PY);
    const eight = (name: string, event: unknown) => Promise.all(Array.from({ length: 8 }, () => invoke(t.lambda, name, event)));
    for (const out of await eight(demo, { sleep: 0.3 })) assert.equal(out.functionError, undefined, out.raw);
    // Another function's burst takes every slot: each of its cold starts stops an idle Python environment.
    await createFunction(t.lambda, 'another-function', {
      'index.js': 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 300)); return 1; };',
    });
    for (const out of await eight('another-function', {})) assert.equal(out.functionError, undefined, out.raw);
    const again = await invoke(t.lambda, demo, {}, { LogType: 'Tail' });
    assert.match(again.log, /Init Duration/, 'the Python environments were stopped, so this one started cold');
    // Real time: a stopped sandboxed runtime lives on for a moment; give whatever it writes time to arrive.
    await sleep(1000);
    const events = (await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${demo}` }))).events ?? [];
    const text = events.map((e) => e.message ?? '').join('\n');
    assert.equal(text.match(/^REPORT RequestId/gm)?.length, 9, text);
    assert.doesNotMatch(text, /Traceback|Error|Runtime API/, text);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
