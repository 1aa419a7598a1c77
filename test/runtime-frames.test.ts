/**
 * Versa's own Node and Python runtimes get their events over a private pipe (runtime/frames.ts) rather
 * than the HTTP Runtime API (provided.* runtimes keep HTTP, which invoke-python.test.ts covers). What a
 * function can see, and every outcome it can have, stays as on Lambda.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createFunction, startTestServer, type TestServer } from './harness.js';
import { invoke, sleep } from './invoke-helpers.js';

const PY = { Runtime: 'python3.12', Handler: 'lambda_function.lambda_handler' } as const;
const REQUEST_ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A flood of frames that would have run for 4 s was ended early, cheaply, and never held the event loop for long. */
function assertFloodCutShort(flood: { cpuMs: number; worstDelayMs: number; wallMs: number }, label: string): void {
  assert.ok(flood.wallMs < 3000, `${label}: the invocation ended after ${flood.wallMs.toFixed(0)} ms`);
  assert.ok(flood.cpuMs < 1500, `${label}: the server used ${flood.cpuMs.toFixed(0)} ms of CPU`);
  assert.ok(flood.worstDelayMs < 300, `${label}: the event loop was held ${flood.worstDelayMs.toFixed(0)} ms`);
}

/**
 * What `work` costs this process (the server runs in it): CPU time, the longest the event loop was held,
 * and wall-clock time.
 */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; cpuMs: number; worstDelayMs: number; wallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  histogram.disable();
  return { result, cpuMs: (used.user + used.system) / 1000, worstDelayMs: histogram.max / 1e6, wallMs };
}

/**
 * A function whose code writes frames to the runtime's descriptor for `ms` milliseconds, in the handler or
 * (`later`, from a thread) after it has returned: READY frames (what the runtime says once, when it starts), frames of
 * an unknown type, or reports of an invocation that is not the one running.
 */
const FLOODER = [
  'const fs = require("node:fs");',
  'function frame(type, body) {',
  '  const f = Buffer.alloc(5 + body.length); f.writeUInt32BE(body.length + 1, 0); f.writeUInt8(type, 4); body.copy(f, 5); return f;',
  '}',
  'const id = Buffer.from("not-this-one");',
  'const KINDS = { ready: frame(2, Buffer.alloc(0)), unknown: frame(99, Buffer.alloc(0)),',
  '  report: frame(3, Buffer.concat([Buffer.from([0, id.length]), id, Buffer.from("{}")])) };',
  'function flood(kind, ms) {',
  '  const batch = Buffer.concat(Array(10000).fill(KINDS[kind]));',
  '  const end = Date.now() + ms; let n = 0;',
  '  try { while (Date.now() < end) { fs.writeSync(3, batch); n++; } } catch (e) { return { n, error: e.code }; }',
  '  return { n };',
  '}',
  'exports.handler = async (event, context) => {',
  // A thread of the runtime's process runs on while the runtime waits for its next event.
  '  if (event.later) {',
  '    const { Worker } = require("node:worker_threads");',
  '    new Worker(`setTimeout(() => (${flood.toString()})(${JSON.stringify(event.kind)}, ${event.ms}), 100);`',
  '      + `const KINDS = { ${event.kind}: Buffer.from(${JSON.stringify([...KINDS[event.kind]])}) }; const fs = require("node:fs");`, { eval: true }).unref();',
  '    return context.logStreamName;',
  '  }',
  '  if (event.kind) return flood(event.kind, event.ms);',
  '  return context.logStreamName;',
  '};',
].join('\n');

describe('Runtime frame channel', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('Invoke (node): the runtime talks over its inherited pipe; the function still sees AWS_LAMBDA_RUNTIME_API, and neither it nor what it starts sees the channel', async () => {
    const code = [
      'const fs = require("node:fs");',
      'const { execFileSync } = require("node:child_process");',
      'exports.handler = async (event, context) => {',
      '  let fd3 = "none";',
      '  try { fd3 = fs.fstatSync(3).isSocket() ? "socket" : "other"; } catch {}',
      '  return {',
      '    fd3,',
      '    api: /^127\\.0\\.0\\.1:\\d+\\/[0-9a-f]+$/.test(process.env.AWS_LAMBDA_RUNTIME_API ?? ""),',
      '    versaVars: Object.keys(process.env).filter((k) => k.startsWith("_VERSA") || k === "MALLOC_ARENA_MAX"),',
      // The environment the process started with: what glibc read.
      '    startedWith: fs.readFileSync("/proc/self/environ", "utf8").split("\\0").filter((l) => l.startsWith("MALLOC_ARENA_MAX=")),',
      '    childVars: execFileSync("env").toString().split("\\n").filter((l) => /^(_VERSA|MALLOC_ARENA_MAX=)/.test(l)),',
      '    remaining: context.getRemainingTimeInMillis(),',
      '    got: event,',
      // Descriptors of a process the function starts, other than its stdio: the channel is not among them.
      '    inherited: execFileSync("ls", ["-l", "/proc/self/fd"]).toString().split("\\n").filter((l) => / (?:[3-9]|\\d\\d+) -> socket:/.test(l)),',
      '  };',
      '};',
    ].join('\n');
    await createFunction(t.lambda, 'frames-node', { 'index.js': code }, { Timeout: 7 });
    for (let i = 0; i < 3; i++) {
      const out = await invoke(t.lambda, 'frames-node', { i, text: 'ünïcode ✓' });
      assert.equal(out.functionError, undefined, out.raw);
      const body = out.payload as {
        inherited: string[];
        fd3: string;
        api: boolean;
        versaVars: string[];
        childVars: string[];
        startedWith: string[];
        remaining: number;
        got: unknown;
      };
      assert.equal(body.fd3, 'socket');
      assert.equal(body.api, true);
      // Nor the runtime's own variables (launchers.ts), in the function or in what it starts.
      assert.deepEqual(body.versaVars, []);
      assert.deepEqual(body.childVars, []);
      assert.deepEqual(body.startedWith, ['MALLOC_ARENA_MAX=2']);
      assert.deepEqual(body.inherited, []);
      assert.ok(body.remaining > 6000 && body.remaining <= 7000, String(body.remaining));
      assert.deepEqual(body.got, { i, text: 'ünïcode ✓' });
    }
  });

  it('Invoke (node): a function that sets MALLOC_ARENA_MAX itself keeps its own, and sees it', async () => {
    const code =
      'exports.handler = async () => ({ arenas: process.env.MALLOC_ARENA_MAX, only: process.env._VERSA_RUNTIME_ONLY ?? null });\n';
    await createFunction(t.lambda, 'frames-node-arenas', { 'index.js': code }, { Environment: { Variables: { MALLOC_ARENA_MAX: '4' } } });
    assert.deepEqual((await invoke(t.lambda, 'frames-node-arenas', {})).payload, { arenas: '4', only: null });
  });

  it('Invoke (node): a response one byte over 6 MB (not over the frame limit) fails with Function.ResponseSizeTooLarge; the runtime keeps serving', async () => {
    // JSON.stringify adds the two quotes: 6291557 bytes, one more than a response may have.
    const code = 'exports.handler = async (e) => (e.big ? "x".repeat(6291555) : process.pid);\n';
    await createFunction(t.lambda, 'frames-just-over', { 'index.js': code }, { MemorySize: 512 });
    const pid = (await invoke(t.lambda, 'frames-just-over', {})).payload;
    const over = await invoke(t.lambda, 'frames-just-over', { big: true });
    assert.equal(over.functionError, 'Unhandled');
    assert.equal((over.payload as { errorType: string }).errorType, 'Function.ResponseSizeTooLarge');
    assert.equal((await invoke(t.lambda, 'frames-just-over', {})).payload, pid);
  });
  it("Invoke (node): frames the function writes to the runtime's descriptor end its environment at the first one, whatever their kind; the server does not parse them on", async () => {
    await createFunction(t.lambda, 'frames-flood', { 'index.js': FLOODER }, { Timeout: 30 });
    for (const kind of ['ready', 'unknown', 'report']) {
      const env = (await invoke(t.lambda, 'frames-flood', {})).payload as string;
      // Unchecked, 4 s of this held the server's event loop for up to a second at a time (~1 M frames/s).
      const flood = await measured(() => invoke(t.lambda, 'frames-flood', { kind, ms: 4000 }));
      const out = flood.result;
      assert.equal(out.functionError, 'Unhandled', `${kind}: ${out.raw}`);
      const err = out.payload as { errorType: string; errorMessage: string };
      assert.equal(err.errorType, 'Runtime.Unknown', kind);
      assert.match(
        err.errorMessage,
        /on its frame channel, and its environment was stopped\. A function's code must not write to the runtime's descriptor 3$/,
      );
      assertFloodCutShort(flood, kind);
      const fresh = await invoke(t.lambda, 'frames-flood', {});
      assert.equal(fresh.functionError, undefined, fresh.raw);
      assert.notEqual(fresh.payload, env, `${kind}: a new environment serves the next invocation`);
    }
  });

  it('Invoke (node): frames written after the handler returned, while the environment waits, end it too; the next invocation runs on a new one', async () => {
    await createFunction(t.lambda, 'frames-flood-later', { 'index.js': FLOODER }, { Timeout: 30 });
    const env = (await invoke(t.lambda, 'frames-flood-later', { later: true, kind: 'ready', ms: 4000 })).payload as string;
    // The flood starts 100 ms after the answer and would go on for 4 s, outside any invocation.
    const idle = await measured(() => sleep(2000));
    assert.ok(idle.cpuMs < 1000, `the server used ${idle.cpuMs.toFixed(0)} ms of CPU`);
    assert.ok(idle.worstDelayMs < 300, `the event loop was held ${idle.worstDelayMs.toFixed(0)} ms`);
    const next = await invoke(t.lambda, 'frames-flood-later', {});
    assert.equal(next.functionError, undefined, next.raw);
    assert.notEqual(next.payload, env);
  });

  it("Invoke (node): a second report for the invocation (the function's own, then the runtime's) ends the environment after the first is taken", async () => {
    const code = [
      'const fs = require("node:fs");',
      'exports.handler = async (event, context) => {',
      '  if (!event.forge) return context.logStreamName;',
      '  const id = Buffer.from(context.awsRequestId, "latin1"), payload = Buffer.from(JSON.stringify("forged"));',
      '  const f = Buffer.alloc(7 + id.length + payload.length);',
      '  f.writeUInt32BE(3 + id.length + payload.length, 0); f.writeUInt8(3, 4); f.writeUInt16BE(id.length, 5);',
      '  id.copy(f, 7); payload.copy(f, 7 + id.length);',
      '  fs.writeSync(3, f);',
      '  return "runtime";',
      '};',
    ].join('\n');
    await createFunction(t.lambda, 'frames-forged', { 'index.js': code });
    const env = (await invoke(t.lambda, 'frames-forged', {})).payload as string;
    assert.equal((await invoke(t.lambda, 'frames-forged', { forge: true })).payload, 'forged');
    assert.notEqual((await invoke(t.lambda, 'frames-forged', {})).payload, env);
  });

  it("Invoke (python): frames the function writes to the runtime's descriptor end its environment at the first one", async () => {
    const code = [
      'import os, struct, time',
      'def lambda_handler(event, context):',
      '    if not event.get("flood"):',
      '        return context.log_stream_name',
      '    batch = struct.pack(">IB", 1, 2) * 10000',
      '    end = time.time() + 4',
      '    while time.time() < end:',
      '        os.write(3, batch)',
      '    return "flooded"',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'frames-flood-python', { 'lambda_function.py': code }, { ...PY, Timeout: 30 });
    const env = (await invoke(t.lambda, 'frames-flood-python', {})).payload as string;
    const flood = await measured(() => invoke(t.lambda, 'frames-flood-python', { flood: true }));
    assert.equal(flood.result.functionError, 'Unhandled', flood.result.raw);
    assert.equal((flood.result.payload as { errorType: string }).errorType, 'Runtime.Unknown');
    assertFloodCutShort(flood, 'python');
    assert.notEqual((await invoke(t.lambda, 'frames-flood-python', {})).payload, env);
  });

  it('Invoke (python): the runtime talks over its inherited pipe, not HTTP; the function sees the same context, AWS_LAMBDA_RUNTIME_API and trace id as before, and neither it nor what it starts sees the channel', async () => {
    const code = [
      'import os, re, subprocess, sys',
      'def sockets():',
      // The runtime's sockets above stdio, and their kind: over HTTP its Runtime API connection is a TCP one.
      '    import socket',
      '    found = []',
      '    for fd in os.listdir("/proc/self/fd"):',
      '        try:',
      '            if int(fd) > 2 and os.readlink("/proc/self/fd/" + fd).startswith("socket:"):',
      '                with socket.socket(fileno=os.dup(int(fd))) as s:',
      '                    found.append([int(fd), s.family.name])',
      '        except OSError:',
      '            pass',
      '    return sorted(found)',
      'seen = {}',
      'def lambda_handler(event, context):',
      // Before this module imports it (below) for the first time, that is.
      '    seen.setdefault("socket_imported", "socket" in sys.modules)',
      '    runtime_sockets = sockets()',
      // close_fds=False: what os.system or a fork and exec would pass on.
      '    child = subprocess.run(["ls", "-l", "/proc/self/fd"], close_fds=False, capture_output=True, text=True).stdout',
      '    return {',
      '        "sockets": runtime_sockets,',
      '        "socket_imported": seen["socket_imported"],',
      '        "inherited": [line for line in child.splitlines() if re.search(r" (?:[3-9]|\\d\\d+) -> socket:", line)],',
      '        "api": bool(re.match(r"^127\\.0\\.0\\.1:\\d+/[0-9a-f]+$", os.environ.get("AWS_LAMBDA_RUNTIME_API", ""))),',
      '        "versa_vars": [k for k in os.environ if k.startswith("_VERSA")],',
      '        "trace": os.environ.get("_X_AMZN_TRACE_ID"),',
      '        "request_id": context.aws_request_id,',
      '        "arn": context.invoked_function_arn,',
      '        "client_context": context.client_context,',
      '        "identity": context.identity,',
      '        "remaining": context.get_remaining_time_in_millis(),',
      '        "got": event,',
      '    }',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'frames-python', { 'lambda_function.py': code }, { ...PY, Timeout: 7 });
    const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: 'acme' } })).toString('base64');
    const traces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const out = await invoke(t.lambda, 'frames-python', { i, text: 'ünïcode ✓' }, { ClientContext: clientContext, LogType: 'Tail' });
      assert.equal(out.functionError, undefined, out.raw);
      const body = out.payload as Record<string, unknown>;
      assert.deepEqual(body.sockets, [[3, 'AF_UNIX']], 'the runtime holds its pipe and no Runtime API connection');
      assert.equal(body.socket_imported, false, 'the runtime never needed the socket module');
      assert.deepEqual(body.inherited, []);
      assert.equal(body.api, true);
      assert.deepEqual(body.versa_vars, []);
      assert.match(String(body.trace), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
      traces.add(String(body.trace));
      assert.match(String(body.request_id), new RegExp(`^${REQUEST_ID}$`));
      assert.ok(out.log.startsWith(`START RequestId: ${String(body.request_id)} Version: $LATEST\n`), out.log);
      assert.equal(body.arn, 'arn:aws:lambda:us-east-1:000000000000:function:frames-python');
      assert.deepEqual(body.client_context, { custom: { tenant: 'acme' } });
      assert.equal(body.identity, null);
      const remaining = body.remaining as number;
      assert.ok(remaining > 6000 && remaining <= 7000, String(remaining));
      assert.deepEqual(body.got, { i, text: 'ünïcode ✓' });
    }
    assert.equal(traces.size, 3, 'each invocation has its own trace id');
  });

  it('Invoke (python): output printed before a result or an error reaches the log before END; the error keeps its shape and the runtime keeps serving', async () => {
    const code = [
      'def lambda_handler(event, context):',
      '    for i in range(event["lines"]):',
      '        print("line %04d %s" % (i, "x" * 90))',
      '    if event.get("fail"):',
      '        raise KeyError("missing")',
      '    return context.log_stream_name',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'frames-python-output', { 'lambda_function.py': code }, PY);
    const env = (await invoke(t.lambda, 'frames-python-output', { lines: 0 })).payload as string;
    // Repeated: the output's pipe and the frame's are read apart, so a wrong order would show as a flaky line.
    for (let round = 0; round < 5; round++) {
      const ok = await invoke(t.lambda, 'frames-python-output', { lines: 300 }, { LogType: 'Tail' });
      assert.equal(ok.payload, env);
      assert.match(ok.log, new RegExp(`line 0299 x{90}\\nEND RequestId: ${REQUEST_ID}\\nREPORT RequestId: `), ok.log);

      const failed = await invoke(t.lambda, 'frames-python-output', { lines: 3, fail: true }, { LogType: 'Tail' });
      assert.equal(failed.functionError, 'Unhandled');
      const err = failed.payload as { errorMessage: string; errorType: string; requestId: string; stackTrace: string[] };
      assert.deepEqual(Object.keys(err).sort(), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
      assert.deepEqual([err.errorType, err.errorMessage], ['KeyError', "'missing'"]);
      assert.deepEqual(err.stackTrace, [
        '  File "/var/task/lambda_function.py", line 5, in lambda_handler\n    raise KeyError("missing")\n',
      ]);
      const lines = failed.log.trimEnd().split('\n');
      assert.equal(lines[0], `START RequestId: ${err.requestId} Version: $LATEST`);
      assert.deepEqual(lines.slice(1, 6), [
        `line 0000 ${'x'.repeat(90)}`,
        `line 0001 ${'x'.repeat(90)}`,
        `line 0002 ${'x'.repeat(90)}`,
        "[ERROR] KeyError: 'missing'",
        'Traceback (most recent call last):',
      ]);
      assert.equal(lines.at(-2), `END RequestId: ${err.requestId}`);
    }
    assert.equal((await invoke(t.lambda, 'frames-python-output', { lines: 0 })).payload, env);
  });

  it('Invoke (python): events and results near the limits pass whole; a result one byte over 6 MB, or over the frame limit, fails with Function.ResponseSizeTooLarge and the runtime keeps serving', async () => {
    // json.dumps adds two quotes to a string: a string of n characters is a response of n + 2 bytes.
    const code = [
      'import hashlib',
      'def lambda_handler(event, context):',
      '    if "answer" in event:',
      '        return "x" * (event["answer"] - 2)',
      '    if "echo" in event:',
      '        return {"length": len(event["echo"]), "sha": hashlib.sha256(event["echo"].encode()).hexdigest(), "env": context.log_stream_name}',
      '    if event.get("unserialisable"):',
      '        return {1, 2}',
      '    return context.log_stream_name',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'frames-python-sizes', { 'lambda_function.py': code }, { ...PY, MemorySize: 512 });
    // The log stream names the environment: the same one serves every invocation below.
    const env = (await invoke(t.lambda, 'frames-python-sizes', {})).payload as string;

    // An event as large as Invoke takes (6 MB with its JSON), read in many pieces into the runtime's buffer.
    const text = 'é' + 'abcdefghijklmnopqrstuvwxyz'.repeat(250_000).slice(0, 6_291_456 - '{"echo":"é"}'.length - 1);
    assert.equal(Buffer.byteLength(JSON.stringify({ echo: text })), 6_291_456);
    const echoed = await invoke(t.lambda, 'frames-python-sizes', { echo: text });
    assert.equal(echoed.functionError, undefined, echoed.raw.slice(0, 500));
    assert.deepEqual(echoed.payload, { length: text.length, sha: createHash('sha256').update(text).digest('hex'), env });

    const exact = await invoke(t.lambda, 'frames-python-sizes', { answer: 6_291_556 });
    assert.equal(exact.functionError, undefined, exact.raw.slice(0, 500));
    assert.equal(Buffer.byteLength(exact.raw), 6_291_556);

    for (const size of [6_291_557, 7 * 1024 * 1024]) {
      const over = await invoke(t.lambda, 'frames-python-sizes', { answer: size });
      assert.equal(over.functionError, 'Unhandled', `${size} bytes`);
      assert.deepEqual(over.payload, {
        errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
        errorType: 'Function.ResponseSizeTooLarge',
      });
      assert.equal((await invoke(t.lambda, 'frames-python-sizes', {})).payload, env, `the runtime serves on after ${size} bytes`);
    }

    const unserialisable = await invoke(t.lambda, 'frames-python-sizes', { unserialisable: true });
    assert.equal(unserialisable.functionError, 'Unhandled');
    const err = unserialisable.payload as { errorType: string; errorMessage: string };
    assert.deepEqual([err.errorType, err.errorMessage], ['TypeError', 'Object of type set is not JSON serializable']);
    assert.equal((await invoke(t.lambda, 'frames-python-sizes', {})).payload, env);
  });

  it('Invoke (python): an init error, a process that exits mid-invocation and a handler past its Timeout end as they do over HTTP', async () => {
    await createFunction(t.lambda, 'frames-python-init', { 'lambda_function.py': 'raise RuntimeError("boom at load")\n' }, PY);
    for (let i = 0; i < 2; i++) {
      const out = await invoke(t.lambda, 'frames-python-init', {}, { LogType: 'Tail' });
      assert.equal(out.functionError, 'Unhandled');
      assert.deepEqual(out.payload, {
        errorMessage: 'boom at load',
        errorType: 'Runtime.ImportModuleError',
        stackTrace: [],
      });
    }

    const code = [
      'import os, time',
      'def lambda_handler(event, context):',
      '    if event.get("exit"):',
      '        print("leaving")',
      '        os._exit(3)',
      '    if event.get("sleep"):',
      '        time.sleep(event["sleep"])',
      '    return context.log_stream_name',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'frames-python-ends', { 'lambda_function.py': code }, { ...PY, Timeout: 1 });
    const env = (await invoke(t.lambda, 'frames-python-ends', {})).payload as string;
    const exited = await invoke(t.lambda, 'frames-python-ends', { exit: true }, { LogType: 'Tail' });
    assert.equal(exited.functionError, 'Unhandled');
    const exit = exited.payload as { errorType: string; errorMessage: string };
    assert.equal(exit.errorType, 'Runtime.ExitError');
    assert.match(exit.errorMessage, new RegExp(`^RequestId: ${REQUEST_ID} Error: Runtime exited with error: exit status 3$`));
    assert.match(exited.log, /\nleaving\nEND RequestId: /);

    const fresh = (await invoke(t.lambda, 'frames-python-ends', {})).payload as string;
    assert.notEqual(fresh, env, 'the exited runtime was replaced');
    const timedOut = await invoke(t.lambda, 'frames-python-ends', { sleep: 3 });
    assert.equal(timedOut.functionError, 'Unhandled');
    const timeout = timedOut.payload as { errorType: string; errorMessage: string };
    assert.equal(timeout.errorType, 'Sandbox.Timedout');
    assert.match(timeout.errorMessage, new RegExp(`^RequestId: ${REQUEST_ID} Error: Task timed out after 1\\.00 seconds$`));
    assert.notEqual((await invoke(t.lambda, 'frames-python-ends', {})).payload, fresh, 'the timed-out runtime was replaced');
  });
});
