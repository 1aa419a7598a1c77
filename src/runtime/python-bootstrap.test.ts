/**
 * Versa's Python bootstrap on its own, against a stand-in for each of the server's two transports: the
 * frame pipe it gets from Versa (frames arriving in pieces, events larger than its read buffer, the pipe
 * closing) and the HTTP Runtime API it speaks when started without one. The end-to-end tests only ever
 * see the first.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FRAMES_FD, FRAMES_FD_VARIABLE, FrameChannel, FrameType, splitReport } from './frames.js';
import { PYTHON_BOOTSTRAP } from './paths.js';

const PYTHON = process.env.VERSA_PYTHON ?? 'python3';
const HANDLER = [
  'import os',
  'def handler(event, context):',
  '    if event.get("fail"):',
  '        raise ValueError("asked to fail")',
  '    return {"id": context.aws_request_id, "length": len(event.get("text", "")), "fd": os.environ.get("_VERSA_RUNTIME_FD")}',
  '',
].join('\n');

function start(taskRoot: string, env: Record<string, string>, framed: boolean): ChildProcess {
  const child = spawn(PYTHON, ['-S', '-u', PYTHON_BOOTSTRAP], {
    env: { PATH: process.env.PATH ?? '', LAMBDA_TASK_ROOT: taskRoot, _HANDLER: 'app.handler', ...env },
    stdio: framed ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.resume();
  return child;
}

/** What the child wrote to stderr, once it has ended, and how it ended. */
async function ending(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stderr };
}

describe('Python bootstrap', () => {
  let taskRoot: string;
  before(() => {
    taskRoot = mkdtempSync(path.join(tmpdir(), 'versa-python-bootstrap-'));
    writeFileSync(path.join(taskRoot, 'app.py'), HANDLER);
  });
  after(() => rmSync(taskRoot, { recursive: true, force: true }));

  it('frames: events arriving in pieces or larger than the read buffer are read whole; the pipe closing ends the runtime quietly', async () => {
    const child = start(taskRoot, { [FRAMES_FD_VARIABLE]: String(FRAMES_FD) }, true);
    const ended = ending(child);
    const frames: { type: number; body: Buffer }[] = [];
    let wake: () => void = () => undefined;
    const socket = child.stdio[FRAMES_FD] as Socket;
    new FrameChannel(socket, 1 << 20, (type, body) => {
      frames.push({ type, body });
      wake();
    });
    const nextFrame = async () => {
      while (frames.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return frames.shift()!;
    };
    /** An INVOKE frame, written in the pieces given by `cuts` a little apart so that each is a read of its own. */
    const invoke = async (requestId: string, event: unknown, cuts: number[] = []) => {
      const head = Buffer.from(
        JSON.stringify({ 'lambda-runtime-aws-request-id': requestId, 'lambda-runtime-deadline-ms': String(Date.now() + 3000) }),
      );
      const payload = Buffer.from(JSON.stringify(event));
      const frame = Buffer.alloc(9 + head.length + payload.length);
      frame.writeUInt32BE(5 + head.length + payload.length, 0);
      frame.writeUInt8(FrameType.INVOKE, 4);
      frame.writeUInt32BE(head.length, 5);
      head.copy(frame, 9);
      payload.copy(frame, 9 + head.length);
      let from = 0;
      for (const cut of [...cuts, frame.length]) {
        socket.write(frame.subarray(from, cut));
        from = cut;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const answer = async () => {
      const { type, body } = await nextFrame();
      const { requestId, payload } = splitReport(body);
      return { type, requestId, payload: JSON.parse(payload.toString()) as Record<string, unknown> };
    };

    assert.equal((await nextFrame()).type, FrameType.READY);
    await invoke('req-1', { text: 'é' }, [2, 7, 12]);
    assert.deepEqual(await answer(), { type: FrameType.RESPONSE, requestId: 'req-1', payload: { id: 'req-1', length: 1, fd: null } });
    // Four times the read buffer, then a small one again (the buffer grown for the first is let go).
    const text = 'x'.repeat(256 * 1024);
    await invoke('req-2', { text }, [100, 70_000]);
    assert.deepEqual(await answer(), {
      type: FrameType.RESPONSE,
      requestId: 'req-2',
      payload: { id: 'req-2', length: text.length, fd: null },
    });
    await invoke('req-3', { fail: true });
    const failed = await answer();
    assert.deepEqual(
      [failed.type, failed.requestId, failed.payload.errorType, failed.payload.errorMessage],
      [FrameType.ERROR, 'req-3', 'ValueError', 'asked to fail'],
    );
    await invoke('req-4', {});
    assert.deepEqual(await answer(), { type: FrameType.RESPONSE, requestId: 'req-4', payload: { id: 'req-4', length: 0, fd: null } });

    socket.destroy();
    // 70: the Runtime API went away (bootstrap.py's RUNTIME_API_FAILED), and nothing said about it.
    assert.deepEqual(await ended, { code: 70, stderr: '' });
  });

  it('HTTP: started without the pipe, it polls next and posts the response, the error and an init error as before', async () => {
    const secret = '/0123456789abcdef';
    const events = [{ text: 'abc' }, { fail: true }];
    const reports: { method: string; url: string; errorType: string | undefined; body: string }[] = [];
    let reported: () => void = () => undefined;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        reports.push({
          method: req.method ?? '',
          url: req.url ?? '',
          errorType: req.headers['lambda-runtime-function-error-type'] as string | undefined,
          body,
        });
        reported();
        if (req.url === `${secret}/2018-06-01/runtime/invocation/next`) {
          const event = events.shift();
          // Once the events are spent, the poll is left open: the runtime waits, as on an idle environment.
          if (event) res.writeHead(200, { 'lambda-runtime-aws-request-id': `http-${events.length}` }).end(JSON.stringify(event));
          return;
        }
        res.writeHead(202).end('{"status":"OK"}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const api = `127.0.0.1:${(server.address() as AddressInfo).port}${secret}`;
    try {
      const child = start(taskRoot, { AWS_LAMBDA_RUNTIME_API: api }, false);
      const ended = ending(child);
      while (reports.length < 5) await new Promise<void>((resolve) => (reported = resolve));
      child.kill('SIGKILL');
      await ended;
      const [next1, response, next2, error, next3] = reports;
      assert.deepEqual(
        [next1!.method, next1!.url, next2!.url, next3!.url],
        ['GET', `${secret}/2018-06-01/runtime/invocation/next`, next1!.url, next1!.url],
      );
      assert.equal(response!.url, `${secret}/2018-06-01/runtime/invocation/http-1/response`);
      assert.deepEqual(JSON.parse(response!.body), { id: 'http-1', length: 3, fd: null });
      assert.equal(error!.url, `${secret}/2018-06-01/runtime/invocation/http-0/error`);
      assert.equal(error!.errorType, 'ValueError');
      assert.deepEqual(Object.keys(JSON.parse(error!.body) as object).sort(), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);

      reports.length = 0;
      const broken = start(taskRoot, { AWS_LAMBDA_RUNTIME_API: api, _HANDLER: 'missing.handler' }, false);
      assert.equal((await ending(broken)).code, 1);
      assert.equal(reports.length, 1);
      assert.deepEqual(
        [reports[0]!.method, reports[0]!.url, reports[0]!.errorType],
        ['POST', `${secret}/2018-06-01/runtime/init/error`, 'Runtime.ImportModuleError'],
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
