import type http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';

/** The exchange a connection carries now, set as each request comes; Node keeps one per connection at a time. */
const exchange = Symbol('versa.exchange');
/** Set on a connection whose request body was still coming at the last shedding. */
const stalled = Symbol('versa.stalled');

interface Tracked extends Socket {
  [exchange]?: http.ServerResponse;
  [stalled]?: boolean;
}

/**
 * Closes the connections that are not being answered once the open ones pass three quarters of the
 * descriptors the process may open, at most every 100 ms: those that never sent a request, those still
 * sending its headers (one byte of a request line is enough to hold a descriptor otherwise), those idle
 * between requests, and those whose body was already incomplete at the last shedding (a body that never
 * ends holds one too). A client, or a function on this machine, holding thousands of connections must
 * not leave none for the operator's (a runtime holds at most 1,024, but a function may run a thousand
 * processes). Requests being handled keep theirs; clients whose idle keep-alive connection is closed
 * open another, as they do after keepAliveTimeout.
 */
export function shedIdleConnections(server: http.Server, logger: Logger): void {
  const threshold = Math.floor(0.75 * openFilesLimit());
  const open = new Set<Tracked>();
  let lastShed = 0;
  let pending: NodeJS.Timeout | undefined;
  const shed = () => {
    pending = undefined;
    if (open.size <= threshold) return;
    lastShed = Date.now();
    let closed = 0;
    for (const socket of open) {
      const res = socket[exchange];
      const answering = res !== undefined && !res.writableFinished;
      const reading = answering && !res.req.complete;
      if (answering && !(reading && socket[stalled])) {
        socket[stalled] = reading;
        continue;
      }
      socket.destroy();
      closed++;
    }
    logger.warn('too many connections: closed those not being answered', { open: open.size + closed, closed, threshold });
  };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket as Tracked;
    socket[exchange] = res;
    socket[stalled] = false;
  });
  server.on('connection', (socket: Tracked) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (open.size <= threshold || pending) return;
    // Later rather than not at all: once every descriptor is taken no connection comes to ask again.
    const wait = lastShed + 100 - Date.now();
    if (wait <= 0) shed();
    else pending = setTimeout(shed, wait).unref();
  });
}

/** The process's limit on open files (Linux), or a common default where it cannot be read. */
function openFilesLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // Not Linux.
  }
  return 10_240;
}
