/**
 * `versa demo` as a newcomer runs it: a real process that starts its own server, plays the tutorials
 * and checks the final state. It must finish well inside CI's patience.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');
const exec = promisify(execFile);

describe('versa demo', () => {
  it('demo: plays versions and aliases, the API canary and the SAM canary deployed three times, then exits 0', async () => {
    const started = Date.now();
    const { stdout } = await exec(process.execPath, [BIN, 'demo', '--port', '0'], { timeout: 120_000 });
    const seconds = (Date.now() - started) / 1000;
    assert.match(stdout, /Watch it in the console: http:\/\/127\.0\.0\.1:\d+\/_versa\//);
    assert.match(stdout, /60 invocations of prod: version 1 ran [1-9]\d*, version 2 ran [1-9]\d*/);
    assert.match(stdout, /refused: ValidationException: .*less than or equal to 1\.0/);
    assert.match(stdout, /20 requests: MathCeil 0, MathFloor 20/);
    assert.match(stdout, /Successfully created stack sam-canary\./);
    assert.match(stdout, /10% on version 2/);
    assert.match(stdout, /Succeeded: hello-world:live is wholly on version 2\./);
    assert.match(stdout, /\(ALARM_ACTIVE\); rolled back by d-[A-Z0-9]+, so hello-world:live is wholly on version 2/);
    assert.match(stdout, /Stack sam-canary was not updated and was rolled back/);
    assert.match(stdout, /live is back on version 2, and the API answers hello world v2/);
    assert.match(stdout, /All checks passed\./);
    assert.ok(seconds < 120, `the demo took ${seconds} s`);
  });

  it('demo: a busy port is named in one sentence and exits 1', async () => {
    const http = await import('node:http');
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        exec(process.execPath, [BIN, 'demo', '--port', String(port)], { timeout: 30_000 }),
        (err: { code: number; stderr: string }) => {
          assert.equal(err.code, 1);
          assert.match(err.stderr, new RegExp(`port ${port} is in use`));
          return true;
        },
      );
    } finally {
      blocker.close();
    }
  });
});
