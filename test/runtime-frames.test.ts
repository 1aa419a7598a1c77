/**
 * Versa's own Node runtime gets its events over a private pipe (runtime/frames.ts) rather than the HTTP
 * Runtime API (Python and provided.* runtimes keep HTTP, which the other runtime tests cover). What a
 * function can see stays as on Lambda.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFunction, startTestServer, type TestServer } from './harness.js';
import { invoke } from './invoke-helpers.js';

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
      '    versaVars: Object.keys(process.env).filter((k) => k.startsWith("_VERSA")),',
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
      const body = out.payload as { inherited: string[]; fd3: string; api: boolean; versaVars: string[]; remaining: number; got: unknown };
      assert.equal(body.fd3, 'socket');
      assert.equal(body.api, true);
      assert.deepEqual(body.versaVars, []);
      assert.deepEqual(body.inherited, []);
      assert.ok(body.remaining > 6000 && body.remaining <= 7000, String(body.remaining));
      assert.deepEqual(body.got, { i, text: 'ünïcode ✓' });
    }
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
});
