/**
 * The floor of Versa's design: the least any server can do that answers a request by running a function
 * in a separate, warm process. A Node `http` server in its own process holds ten child processes (one
 * per connection of the load, as Versa keeps ten environments) and answers each `POST` by sending its
 * body, with a request id, down a child's inherited pipe as one length-prefixed frame and answering with
 * the frame that comes back. The child parses the event, calls a handler that returns "hello" and sends
 * the JSON of the result. No routing, no signature, no logs, no metrics, no sandbox, no timeout: what is
 * left is Node's HTTP, one pipe round trip and two wake-ups of other processes. Versa's Invoke divided by
 * this is how much of its design's ceiling it reaches.
 *
 * Argument: how many children (default 10).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

interface Child {
  pipe: Socket;
  pending: ((body: Buffer) => void) | undefined;
}

const count = Number(process.argv[2] ?? 10);
const idle: Child[] = [];
const waiting: ((child: Child) => void)[] = [];
const release = (child: Child) => {
  const next = waiting.shift();
  if (next) next(child);
  else idle.push(child);
};
const take = (): Promise<Child> => {
  const child = idle.pop();
  return child ? Promise.resolve(child) : new Promise((resolve) => waiting.push(resolve));
};

for (let i = 0; i < count; i++) {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('./floor-runtime.js', import.meta.url))], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  const child: Child = { pipe: proc.stdio[3] as Socket, pending: undefined };
  let buffered: Buffer = Buffer.alloc(0);
  // A frame: u32 length of what follows, then the payload.
  child.pipe.on('data', (chunk: Buffer) => {
    buffered = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
      const body = buffered.subarray(4, 4 + buffered.readUInt32BE(0));
      buffered = buffered.subarray(4 + body.length);
      const done = child.pending!;
      child.pending = undefined;
      release(child);
      done(body);
    }
  });
  idle.push(child);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    void take().then((child) => {
      const payload = Buffer.concat(chunks);
      const head = Buffer.from(JSON.stringify({ id: randomUUID(), deadline: Date.now() + 3000 }));
      const frame = Buffer.allocUnsafe(8 + head.length + payload.length);
      frame.writeUInt32BE(4 + head.length + payload.length, 0);
      frame.writeUInt32BE(head.length, 4);
      head.copy(frame, 8);
      payload.copy(frame, 8 + head.length);
      child.pending = (body) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      };
      child.pipe.write(frame);
    });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}/` });
});
// The benchmark went away: so do we, and the children with us (their pipes close).
process.on('disconnect', () => process.exit(0));
