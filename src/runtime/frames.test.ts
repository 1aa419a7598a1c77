import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { FrameChannel, FrameType, splitReport } from './frames.js';

/** A stand-in for the server's end of the pipe: what was written, and a way to feed it bytes. */
function pipe() {
  const emitter = new EventEmitter();
  const written: Buffer[] = [];
  const socket = Object.assign(emitter, { write: (b: Buffer) => written.push(b), destroy: () => undefined }) as unknown as Socket;
  return { socket, written, feed: (b: Buffer) => emitter.emit('data', b) };
}

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

  it('drops a frame over the limit as it comes, keeping its request id, and reads the next one', () => {
    const p = pipe();
    const got: { type: number; body: Buffer; tooLarge: boolean }[] = [];
    new FrameChannel(p.socket, 100, (type, body, tooLarge) => got.push({ type, body, tooLarge }));
    const big = frame(FrameType.RESPONSE, report('big-id', 'x'.repeat(10_000)));
    const next = frame(FrameType.RESPONSE, report('small', '1'));
    p.feed(big.subarray(0, 50));
    p.feed(big.subarray(50, 4000));
    assert.equal(got.length, 0);
    p.feed(Buffer.concat([big.subarray(4000), next]));
    assert.equal(got.length, 2);
    assert.equal(got[0]!.tooLarge, true);
    assert.equal(splitReport(got[0]!.body).requestId, 'big-id');
    assert.ok(got[0]!.body.length <= 512);
    assert.deepEqual([got[1]!.tooLarge, splitReport(got[1]!.body).payload.toString()], [false, '1']);
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
