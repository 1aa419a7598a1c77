/**
 * A child of the floor server (floor-server.ts): reads frames from fd 3 (u32 length, u32 head length,
 * head JSON, event JSON), calls the handler, and writes back a frame (u32 length, the result's JSON).
 */
import net from 'node:net';

const handler = (_event: unknown, _head: unknown): Promise<unknown> => Promise.resolve('hello');
const pipe = new net.Socket({ fd: 3, readable: true, writable: true });
let buffered: Buffer = Buffer.alloc(0);

pipe.on('data', (chunk: Buffer) => {
  buffered = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
  while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
    const body = buffered.subarray(4, 4 + buffered.readUInt32BE(0));
    buffered = buffered.subarray(4 + body.length);
    const headLength = body.readUInt32BE(0);
    const head = JSON.parse(body.toString('utf8', 4, 4 + headLength)) as unknown;
    const event = JSON.parse(body.toString('utf8', 4 + headLength)) as unknown;
    void handler(event, head).then((result) => {
      const out = Buffer.from(JSON.stringify(result));
      const frame = Buffer.allocUnsafe(4 + out.length);
      frame.writeUInt32BE(out.length, 0);
      out.copy(frame, 4);
      pipe.write(frame);
    });
  }
});
pipe.on('close', () => process.exit(0));
