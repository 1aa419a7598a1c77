import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { BYTES_PER_TURN, FRAMES_PER_TURN, FrameChannel, FrameType, splitReport } from './frames.js';

/** A stand-in for the server's end of the pipe: what was written, and a way to feed it bytes. */
function pipe() {
  const emitter = new EventEmitter();
  const written: Buffer[] = [];
  const state = { paused: false, pauses: 0, destroyed: false };
  const socket = Object.assign(emitter, {
    write: (b: Buffer) => written.push(b),
    destroy: () => (state.destroyed = true),
    pause: () => {
      state.paused = true;
      state.pauses++;
    },
    resume: () => (state.paused = false),
  }) as unknown as Socket;
  return { socket, written, state, feed: (b: Buffer) => emitter.emit('data', b) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function frame(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length + 1, 0);
  header.writeUInt8(type, 4);
  return Buffer.concat([header, body]);
}

function report(requestId: string, payload: string): Buffer {
  const id = Buffer.from(requestId);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(id.length, 0);
  return Buffer.concat([length, id, Buffer.from(payload)]);
}

describe('FrameChannel', () => {
  it('reads frames whole, split across chunks, byte by byte, and several in one chunk', () => {
    const p = pipe();
    const got: [number, string, boolean][] = [];
    new FrameChannel(p.socket, 1024, (type, body, tooLarge) => got.push([type, body.toString('latin1'), tooLarge]));
    const a = frame(FrameType.READY, Buffer.alloc(0));
    const b = frame(FrameType.RESPONSE, report('id-1', '{"ok":true}'));
    const c = frame(FrameType.ERROR, report('id-2', '{"errorType":"E"}'));
    p.feed(Buffer.concat([a, b]));
    for (const byte of c) p.feed(Buffer.from([byte]));
    p.feed(Buffer.concat([c.subarray(0, 3)]));
    p.feed(Buffer.concat([c.subarray(3), a]));
    assert.deepEqual(
      got.map(([type, , tooLarge]) => [type, tooLarge]),
      [
        [FrameType.READY, false],
        [FrameType.RESPONSE, false],
        [FrameType.ERROR, false],
        [FrameType.ERROR, false],
        [FrameType.READY, false],
      ],
    );
    const { requestId, payload } = splitReport(Buffer.from(got[1]![1], 'latin1'));
    assert.equal(requestId, 'id-1');
    assert.equal(payload.toString(), '{"ok":true}');
    assert.equal(splitReport(Buffer.from(got[3]![1], 'latin1')).requestId, 'id-2');
  });

  it('reports a frame over the limit by its start as soon as that is in, drops the rest as it comes, and reads the next one', () => {
    const p = pipe();
    const got: { type: number; body: Buffer; tooLarge: boolean }[] = [];
    new FrameChannel(p.socket, 100, (type, body, tooLarge) => got.push({ type, body, tooLarge }));
    const big = frame(FrameType.RESPONSE, report('big-id', 'x'.repeat(10_000)));
    const next = frame(FrameType.RESPONSE, report('small', '1'));
    p.feed(big.subarray(0, 50));
    assert.equal(got.length, 0);
    p.feed(big.subarray(50, 4000));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.tooLarge, true);
    assert.equal(splitReport(got[0]!.body).requestId, 'big-id');
    assert.equal(got[0]!.body.length, 512);
    p.feed(Buffer.concat([big.subarray(4000), next]));
    assert.equal(got.length, 2);
    assert.deepEqual([got[1]!.tooLarge, splitReport(got[1]!.body).payload.toString()], [false, '1']);
  });

  it('a frame its guard does not allow closes the channel before its body is read; nothing after it is read', () => {
    const p = pipe();
    const got: number[] = [];
    const violations: [number, number][] = [];
    new FrameChannel(p.socket, 1024, (type) => got.push(type), {
      allows: (type) => type !== FrameType.READY || got.length === 0,
      onViolation: (type, length) => violations.push([type, length]),
    });
    const ready = frame(FrameType.READY, Buffer.alloc(0));
    // The second READY's header alone is enough: its body (here none) and what follows are never parsed.
    p.feed(Buffer.concat([ready, ready, ...Array<Buffer>(1000).fill(ready)]));
    p.feed(ready);
    assert.deepEqual(got, [FrameType.READY]);
    assert.deepEqual(violations, [[FrameType.READY, 0]]);
    assert.equal(p.state.destroyed, true);
  });

  it('handles at most FRAMES_PER_TURN frames, or BYTES_PER_TURN bytes, before the event loop turns: the socket is paused meanwhile', async () => {
    const p = pipe();
    let got = 0;
    new FrameChannel(p.socket, 8 * BYTES_PER_TURN, () => got++);
    const ready = frame(FrameType.READY, Buffer.alloc(0));
    p.feed(Buffer.concat(Array<Buffer>(10 * FRAMES_PER_TURN).fill(ready)));
    assert.equal(got, FRAMES_PER_TURN);
    assert.equal(p.state.paused, true);
    // What comes while paused (a chunk the socket had already read) waits its turn too.
    p.feed(ready);
    assert.equal(got, FRAMES_PER_TURN);
    let turns = 0;
    while (got < 10 * FRAMES_PER_TURN + 1) {
      await turn();
      turns++;
      assert.ok(got <= (turns + 1) * FRAMES_PER_TURN, `${got} frames after ${turns} turns`);
    }
    assert.ok(turns >= 9, String(turns));
    await turn();
    assert.equal(p.state.paused, false);

    // Bytes: a socket that reads 64 KiB at a time, as long as it is not paused, is read 1 MiB a turn.
    const big = frame(FrameType.RESPONSE, report('id', 'x'.repeat(4 * BYTES_PER_TURN)));
    const before = got;
    let at = 0;
    const perTurn: number[] = [];
    while (got === before) {
      let fed = 0;
      while (!p.state.paused && at < big.length) {
        p.feed(big.subarray(at, at + 65536));
        fed += Math.min(65536, big.length - at);
        at += 65536;
      }
      perTurn.push(fed);
      await turn();
    }
    assert.ok(perTurn.length >= 4, perTurn.join());
    assert.ok(Math.max(...perTurn) <= BYTES_PER_TURN, perTurn.join());
  });

  it('writes an INVOKE frame as its head of headers and the payload', () => {
    const p = pipe();
    const channel = new FrameChannel(p.socket, 1024, () => undefined);
    channel.invoke({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from('{"a":1}'));
    const out = Buffer.concat(p.written);
    assert.equal(out.readUInt32BE(0), out.length - 4);
    assert.equal(out.readUInt8(4), FrameType.INVOKE);
    const headLength = out.readUInt32BE(5);
    assert.deepEqual(JSON.parse(out.toString('utf8', 9, 9 + headLength)), { 'lambda-runtime-aws-request-id': 'r1' });
    assert.equal(out.toString('utf8', 9 + headLength), '{"a":1}');
  });
});
