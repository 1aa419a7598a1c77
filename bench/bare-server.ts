/**
 * The reference: the least a Node HTTP server can do per request. It answers every request with the
 * five bytes "hello", on a keep-alive connection, in its own process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 });
  res.end('hello');
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}/` });
});
// The benchmark went away: so do we.
process.on('disconnect', () => process.exit(0));
