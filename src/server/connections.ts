import type http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';

/** The exchange a connection carries now, set as each request comes; Node keeps one per connection at a time. */
const exchange = Symbol('versa.exchange');
/** Bytes of written answers that may wait for clients to read them (see ConnectionShedder.answered). */
export const MAX_UNREAD_ANSWER_BYTES = 128 * 1024 * 1024;
/** Set on a connection whose request body was still coming at the last shedding. */
const stalled = Symbol('versa.stalled');
/** Bytes written to a connection at the last shedding, while its client was not taking them. */
const unread = Symbol('versa.unread');
/** When the connection's latest request came (epoch ms). */
const lastRequest = Symbol('versa.lastRequest');
/** An idle keep-alive connection whose client sent a request this recently is its client's in use, spared while others can go. */
const RECENTLY_USED_MS = 1_000;

interface Tracked extends Socket {
  [exchange]?: http.ServerResponse;
  [stalled]?: boolean;
  [unread]?: number;
  [lastRequest]?: number;
}

/**
 * Keeps descriptors for the operator: once the process holds three quarters of the descriptors it may
 * open (sockets, and the files and pipes behind them: an S3 object being sent holds two), closes, at
 * most every 100 ms, the connections that are not being answered or whose client stopped taking part:
 * never used, still sending headers (one byte of a request line is enough to hold a descriptor
 * otherwise), idle between requests, a body already incomplete at the last shedding (a body that never
 * ends), and an answer its client has not read since the last shedding (a download nobody reads). A
 * client, or a function on this machine, holding thousands of connections must not leave none for the
 * operator's (a runtime holds at most 1,024 descriptors, but a function may run a thousand processes).
 * Requests being handled keep theirs; so do idle keep-alive connections whose client sent a request
 * within the last second (a client at work, not one holding connections), unless closing every other
 * one left the process still past three quarters. A client whose idle connection is closed opens another.
 * Checked on new connections and on a timer while there are many, since a process out of descriptors
 * accepts none to be asked by.
 */
export class ConnectionShedder {
  private readonly threshold: number;
  /** Below this many connections, on all the servers watched, the descriptors are not counted at all. */
  private readonly watchFrom: number;
  private readonly open = new Set<Tracked>();
  private lastCheck = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Connections whose answer was not all taken by the system when it was written: it waits in memory. */
  private readonly unflushed = new Map<Socket, number>();
  private unflushedTimer: NodeJS.Timeout | undefined;
  /** What waits in them, as last counted plus what was written since (never less than what waits). */
  private waitingAtMost = 0;
  private shedUnread = 0;
  private unreadWarnedAt = 0;

  constructor(
    private readonly logger: Logger,
    /** Most bytes of answers waiting for their clients to read them, all connections together. */
    private readonly maxUnreadBytes = MAX_UNREAD_ANSWER_BYTES,
  ) {
    const limit = openFilesLimit();
    this.threshold = Math.floor(0.75 * limit);
    this.watchFrom = Math.floor(limit / 8);
  }

  /**
   * Told of each answer once written (`res.end`): what its client has not taken waits in the server's
   * memory, for as long as the client does not read (a 6 MB Invoke answer, a stage's 10 MB). Past
   * `maxUnreadBytes` of such answers, all connections together, those whose clients took least since the
   * last look are closed until what waits is within it: a client that does not read, or reads a trickle,
   * cannot make the server hold gigabytes (400 unread 6 MB answers took it to 2 GB).
   */
  answered(res: http.ServerResponse): void {
    const socket = res.socket;
    if (!socket || socket.writableLength === 0 || this.unflushed.has(socket)) return;
    this.unflushed.set(socket, socket.bytesWritten);
    this.unflushedTimer ??= setInterval(() => this.checkUnread(), 100).unref();
    // Answers come faster than a timer looks: past the budget by this count, it looks at once.
    this.waitingAtMost += socket.writableLength;
    if (this.waitingAtMost > this.maxUnreadBytes) this.checkUnread();
  }

  private checkUnread(): void {
    let waiting = 0;
    const slow: { socket: Socket; progress: number }[] = [];
    for (const [socket, before] of this.unflushed) {
      if (socket.destroyed || socket.writableLength === 0) {
        this.unflushed.delete(socket);
        continue;
      }
      waiting += socket.writableLength;
      slow.push({ socket, progress: socket.bytesWritten - before });
      this.unflushed.set(socket, socket.bytesWritten);
    }
    this.waitingAtMost = waiting;
    if (this.unflushed.size === 0) {
      clearInterval(this.unflushedTimer);
      this.unflushedTimer = undefined;
      return;
    }
    if (waiting <= this.maxUnreadBytes) return;
    const before = waiting;
    let closed = 0;
    slow.sort((a, b) => a.progress - b.progress || b.socket.writableLength - a.socket.writableLength);
    for (const { socket } of slow) {
      if (waiting <= this.maxUnreadBytes) break;
      waiting -= socket.writableLength;
      this.unflushed.delete(socket);
      socket.destroy();
      closed++;
    }
    this.waitingAtMost = waiting;
    // Said at most once a second: under a flood it sheds on every answer.
    this.shedUnread += closed;
    const now = Date.now();
    if (now - this.unreadWarnedAt < 1000) return;
    this.unreadWarnedAt = now;
    this.logger.warn('too many answers waiting for their clients to read them: closed the slowest readers', {
      waitingBytes: before,
      closed: this.shedUnread,
      maxUnreadBytes: this.maxUnreadBytes,
    });
    this.shedUnread = 0;
  }

  /**
   * Counts `server`'s connections with the others' and sheds them alike: the front door's, and every
   * execution environment's Runtime API (a listener in this process a function can reach, its own or,
   * through `/proc/net/tcp`, another's).
   */
  watch(server: http.Server): void {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const socket = req.socket as Tracked;
      socket[exchange] = res;
      socket[stalled] = false;
      socket[unread] = undefined;
      socket[lastRequest] = Date.now();
    });
    server.on('connection', (socket: Tracked) => {
      this.open.add(socket);
      socket.once('close', () => this.open.delete(socket));
      if (this.open.size < this.watchFrom) return;
      this.timer ??= setInterval(() => this.check(), 100).unref();
      this.check();
    });
  }

  private check(): void {
    if (this.open.size < this.watchFrom) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    if (now - this.lastCheck < 100) return;
    this.lastCheck = now;
    const inUse = descriptorsInUse(this.open.size);
    if (inUse <= this.threshold) return;
    let closed = 0;
    const recent: Tracked[] = [];
    for (const socket of this.open) {
      const kind = closable(socket);
      if (kind === undefined) continue;
      if (kind === 'idle' && now - socket[lastRequest]! < RECENTLY_USED_MS) recent.push(socket);
      else {
        socket.destroy();
        closed++;
      }
    }
    // Clients at work lose their connections only when all the others were not enough, least recent first.
    if (inUse - closed > this.threshold) {
      recent.sort((a, b) => a[lastRequest]! - b[lastRequest]!);
      for (const socket of recent) {
        if (inUse - closed <= this.threshold) break;
        socket.destroy();
        closed++;
      }
    }
    this.logger.warn('too many descriptors: closed the connections not being answered', {
      descriptors: inUse,
      closed,
      threshold: this.threshold,
    });
  }
}

/**
 * Whether a connection may be closed at this shedding: `now` for one that never carried a request, a
 * body already incomplete at the last shedding or an answer not read since; `idle` for one between
 * requests; undefined while it is being answered. Notes what the next shedding compares with.
 */
function closable(socket: Tracked): 'now' | 'idle' | undefined {
  const res = socket[exchange];
  if (res === undefined) return 'now';
  if (res.writableFinished) return 'idle';
  if (!res.req.complete) {
    if (socket[stalled]) return 'now';
    socket[stalled] = true;
    return undefined;
  }
  // An answer under way: its client is taking it unless bytes wait and none went since the last shedding.
  if (socket.writableLength === 0) {
    socket[unread] = undefined;
    return undefined;
  }
  if (socket[unread] === socket.bytesWritten) return 'now';
  socket[unread] = socket.bytesWritten;
  return undefined;
}

/** Descriptors the process holds (Linux); elsewhere, its connections. */
function descriptorsInUse(connections: number): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return connections;
  }
}

/** The process's limit on open files (Linux), or a common default where it cannot be read. */
export function openFilesLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // Not Linux.
  }
  return 10_240;
}
