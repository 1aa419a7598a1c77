import type { Socket } from 'node:net';

/**
 * The framed channel between the server and Versa's own runtimes (Node and Python; `provided.*` speaks
 * HTTP): a private pipe (the runtime's fd 3) that carries what the HTTP Runtime API's `next` poll and
 * `response`/`error`/`init/error` posts carry, without HTTP. Each frame is a 4-byte big-endian length (of
 * what follows it), a 1-byte type and a body. The bootstraps (bootstrap/node/, bootstrap/python/) each
 * have their own copy of this layout: they import nothing from Versa.
 *
 *   INVOKE     server → runtime  u32 head length, head (JSON: the `lambda-runtime-*` headers), payload
 *   READY      runtime → server  empty: the runtime has loaded its handler and waits (the first `next`)
 *   RESPONSE   runtime → server  u16 request id length, request id, payload; the runtime then waits again
 *   ERROR      runtime → server  as RESPONSE, the payload being the error body
 *   INIT_ERROR runtime → server  the error body
 */
export const FrameType = { INVOKE: 1, READY: 2, RESPONSE: 3, ERROR: 4, INIT_ERROR: 5 } as const;

/** The file descriptor the runtime finds the channel on, and the variable that tells it so. */
export const FRAMES_FD = 3;
export const FRAMES_FD_VARIABLE = '_VERSA_RUNTIME_FD';

/** What is kept of a frame larger than the reader's limit: enough for its request id. */
const OVERSIZED_HEAD_BYTES = 512;

/**
 * Most frames, and bytes, the channel handles before it lets the rest of the server run: past either it
 * pauses its socket and carries on at the next turn of the event loop. The runtime's own code sends one
 * or two frames per invocation; the function's code shares the runtime's process and so its descriptor,
 * and whatever it writes there costs the server's one event loop at most this much per turn.
 */
export const FRAMES_PER_TURN = 64;
export const BYTES_PER_TURN = 1024 * 1024;

/**
 * What a runtime may send, decided as each frame's 5-byte header comes in (before its body is read): a
 * frame it may not send closes the channel, which reads nothing more, and is reported once.
 */
export interface FrameGuard {
  allows(type: number, length: number): boolean;
  onViolation(type: number, length: number): void;
}

const ANY_FRAME: FrameGuard = { allows: () => true, onViolation: () => undefined };

/**
 * Reads frames off one end of the channel without ever holding more than `limit` bytes of one frame: a
 * larger frame is reported as soon as its first bytes are in (with `tooLarge` set) and the rest of it is
 * read and dropped as it comes.
 */
export class FrameChannel {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The frame being read: its type and body length once its 5-byte header is in. */
  private type = -1;
  private length = 0;
  /** Bytes of an oversized frame, already reported, still to read and drop. */
  private skipping = 0;
  /** Handled since the channel last let the event loop turn (FRAMES_PER_TURN, BYTES_PER_TURN). */
  private frames = 0;
  private bytes = 0;
  /** Paused until the next turn of the event loop. */
  private yielding = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly limit: number,
    private readonly onFrame: (type: number, body: Buffer, tooLarge: boolean) => void,
    private readonly guard: FrameGuard = ANY_FRAME,
  ) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** Sends an INVOKE frame: the headers a `next` poll would have been answered with, and the payload. */
  invoke(headers: Record<string, string>, payload: Buffer): void {
    const head = JSON.stringify(headers);
    const headLength = Buffer.byteLength(head);
    // One buffer for the whole frame: header, head, payload.
    const frame = Buffer.allocUnsafe(9 + headLength + payload.length);
    frame.writeUInt32BE(5 + headLength + payload.length, 0);
    frame.writeUInt8(FrameType.INVOKE, 4);
    frame.writeUInt32BE(headLength, 5);
    frame.write(head, 9, 'utf8');
    payload.copy(frame, 9 + headLength);
    this.socket.write(frame);
  }

  destroy(): void {
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytes += chunk.length;
    let data = chunk;
    if (this.skipping > 0) {
      const n = Math.min(this.skipping, data.length);
      this.skipping -= n;
      data = data.subarray(n);
    }
    if (data.length > 0) {
      this.chunks.push(data);
      this.buffered += data.length;
    }
    if (!this.yielding) this.pump();
  }

  /** Handles the frames buffered, until the channel has had its share of this turn of the event loop. */
  private pump(): void {
    for (;;) {
      if (this.closed) return;
      if (this.frames >= FRAMES_PER_TURN || this.bytes >= BYTES_PER_TURN) return this.yieldTurn();
      if (this.type < 0) {
        if (this.buffered < 5) return;
        const header = this.take(5);
        const length = Math.max(0, header.readUInt32BE(0) - 1);
        const type = header.readUInt8(4);
        if (!this.guard.allows(type, length)) {
          this.destroy();
          this.guard.onViolation(type, length);
          return;
        }
        this.type = type;
        this.length = length;
      }
      if (this.length > this.limit) {
        // Report it by its start (its request id) once that is in; drop the rest as it comes.
        const kept = Math.min(OVERSIZED_HEAD_BYTES, this.length);
        if (this.buffered < kept) return;
        const head = Buffer.from(this.take(kept));
        const available = Math.min(this.buffered, this.length - kept);
        this.drop(available);
        this.skipping = this.length - kept - available;
        this.deliver(head, true);
        continue;
      }
      if (this.buffered < this.length) return;
      this.deliver(this.take(this.length), false);
    }
  }

  private deliver(body: Buffer, tooLarge: boolean): void {
    const type = this.type;
    this.type = -1;
    this.frames++;
    this.onFrame(type, body, tooLarge);
  }

  /** Pauses the socket and carries on at the next turn of the event loop, after what else waits there. */
  private yieldTurn(): void {
    this.yielding = true;
    this.socket.pause();
    setImmediate(() => {
      this.yielding = false;
      this.frames = 0;
      this.bytes = 0;
      this.pump();
      if (!this.closed && !this.yielding) this.socket.resume();
    });
  }

  /** Forgets the next `n` buffered bytes (n ≤ buffered). */
  private drop(n: number): void {
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      if (first.length <= left) {
        this.chunks.shift();
        left -= first.length;
      } else {
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
  }

  /** The next `n` buffered bytes (n ≤ buffered), without copying when one chunk holds them. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const all = Buffer.concat(this.chunks, this.buffered);
    const out = all.subarray(0, n);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.buffered -= n;
    return out;
  }
}

/** A RESPONSE or ERROR frame's request id and payload (the id alone when the frame was cut short). */
export function splitReport(body: Buffer): { requestId: string; payload: Buffer } {
  if (body.length < 2) return { requestId: '', payload: Buffer.alloc(0) };
  const idLength = body.readUInt16BE(0);
  return { requestId: body.toString('latin1', 2, Math.min(body.length, 2 + idLength)), payload: body.subarray(2 + idLength) };
}
