import type http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';

/**
 * Closes the connections that carry no request (opened and never used, or idle between requests) once
 * the open ones pass three quarters of the descriptors the process may open, at most every 100 ms: a
 * client, or a function on this machine, holding thousands of connections must not leave none for the
 * operator's (a runtime holds at most 1,024, but a function may run a thousand processes). Clients
 * whose idle keep-alive connection is closed open another, as they do after keepAliveTimeout.
 */
export function shedIdleConnections(server: http.Server, logger: Logger): void {
  const threshold = Math.floor(0.75 * openFilesLimit());
  const open = new Set<Socket>();
  let lastShed = 0;
  let pending: NodeJS.Timeout | undefined;
  const shed = () => {
    pending = undefined;
    if (open.size <= threshold) return;
    lastShed = Date.now();
    logger.warn('too many connections: closing those without a request', { open: open.size, threshold });
    // Node's own idle list counts a connection that never sent a byte as busy (its headers are awaited).
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy();
    server.closeIdleConnections();
  };
  server.on('connection', (socket: Socket) => {
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
