/**
 * Where log lines go: log groups (`/aws/lambda/<name>` for functions) holding streams (one per execution
 * environment) of timestamped events, persisted in the store. The CloudWatch Logs API reads from here.
 *
 * `append` is the hot path: it only pushes onto an in-memory buffer. The buffer is written to the store in
 * one batch every `flushIntervalMs` of real time, or as soon as it holds `flushAtEvents` events. Every
 * other operation runs under one lock and flushes the buffer first, so reads see every event appended
 * before them and control operations (delete a group, apply retention) never race a batch in flight.
 */
import type { Clock } from '../core/clock.js';
import type { Leadership } from '../core/leadership.js';
import { PlatformError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import type { LogEventQuery, LogEventRecord, LogGroupRecord, LogStreamRecord, NewLogEvent, StreamPage } from '../domain/log.js';

/** The retention periods CloudWatch Logs accepts, in days. */
export const RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const DAY_MS = 86_400_000;
/** Most events written to the store at once. */
const FLUSH_CHUNK = 1000;
/** PutLogEvents refuses events more than this far ahead of the platform clock... */
const TOO_NEW_MS = 2 * 3_600_000;
/** ...or older than this. */
const TOO_OLD_MS = 14 * DAY_MS;

export interface LogSinkOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Days of platform time events are kept; a group's retention policy can only shorten it. */
  retentionDays: number;
  /** When several nodes share the store, only the leader sweeps expired events. */
  leadership?: Leadership;
  /** Real milliseconds between flushes of the buffer (default 500). */
  flushIntervalMs?: number;
  /** Flush as soon as the buffer holds this many events (default 1000). */
  flushAtEvents?: number;
  /** Beyond this many unflushed events (the store failing), the oldest are dropped (default 100000). */
  maxBufferedEvents?: number;
  /** Flush as soon as the buffer holds this many characters of messages (default 4 MiB). */
  flushAtChars?: number;
  /** Beyond this many unflushed characters, the oldest events are dropped (default 64 MiB). */
  maxBufferedChars?: number;
  /** Platform milliseconds between retention sweeps (default one hour). */
  sweepIntervalMs?: number;
  /** Bytes of events a group may hold; past it its oldest are dropped (default: no limit). */
  maxGroupBytes?: number;
}

export interface PutEventsResult {
  /** PutLogEvents' `nextSequenceToken` (AWS no longer checks them; older clients still read one). */
  nextSequenceToken: string;
  /** Indexes as PutLogEvents reports them; undefined when no event was refused for that reason. */
  tooNewLogEventStartIndex: number | undefined;
  tooOldLogEventEndIndex: number | undefined;
  expiredLogEventEndIndex: number | undefined;
}

export const groupNotFound = () => new PlatformError('ResourceNotFoundException', 'The specified log group does not exist.');
export const streamNotFound = () => new PlatformError('ResourceNotFoundException', 'The specified log stream does not exist.');

export class LogSink {
  private buffer: NewLogEvent[] = [];
  /** Characters of message text in `buffer`: what bounds its memory, since a message can be 256 KB. */
  private bufferedChars = 0;
  /** The tail of the queue of locked operations, run one at a time in order. */
  private tail: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private cancelSweep: (() => void) | undefined;
  private flushQueued = false;
  private sweepQueued = false;
  private dropped = 0;
  /** Events dropped from each group since the last write, and a stream of its to say so in. */
  private readonly droppedFrom = new Map<string, { events: number; stream: string }>();
  private closed = false;
  private sequence = 0;
  /** Characters appended to each group since its size was last checked against maxGroupBytes, and the groups being checked. */
  private readonly unchecked = new Map<string, number>();
  private readonly trimming = new Set<string>();
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly opts: LogSinkOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.logger = opts.logger;
  }

  /** Starts the periodic flush and retention sweep (one sweep now, when this node leads); `close()` stops them. */
  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs ?? 500);
    this.timer.unref();
    this.scheduleSweep();
    this.sweep();
  }

  /** Records one line. Never waits and never touches the disk. */
  append(group: string, streamName: string, message: string, timestamp = this.clock.now()): void {
    this.push({ groupName: group, streamName, timestamp, message, ingestionTime: this.clock.now() });
  }

  /** Writes buffered events to the store. */
  flush(): Promise<void> {
    return this.locked(() => this.flushNow());
  }

  /** Stops the timers and writes what is left; later appends are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.cancelSweep?.();
    await this.flush();
  }

  // Groups

  getGroup(name: string): Promise<LogGroupRecord | undefined> {
    return this.exclusive(() => this.store.logs.getGroup(name));
  }

  listGroups(filter: { prefix?: string; after?: string; limit?: number } = {}): Promise<LogGroupRecord[]> {
    return this.exclusive(() => this.store.logs.listGroups(filter));
  }

  createGroup(name: string): Promise<void> {
    return this.exclusive(async () => {
      if (!(await this.store.logs.createGroup(name, this.clock.now()))) {
        throw new PlatformError('ResourceAlreadyExistsException', 'The specified log group already exists');
      }
    });
  }

  deleteGroup(name: string): Promise<void> {
    return this.exclusive(async () => {
      if (!(await this.store.logs.deleteGroup(name))) throw groupNotFound();
    });
  }

  /** Sets a group's retention and drops its events older than that at once. */
  putRetention(name: string, days: number): Promise<void> {
    return this.exclusive(async () => {
      if (!RETENTION_DAYS.includes(days)) throw new PlatformError('InvalidParameterException', `Invalid retention period: ${days} days.`);
      if (!(await this.store.logs.setRetention(name, days))) throw groupNotFound();
      await this.expire(name, days);
    });
  }

  deleteRetention(name: string): Promise<void> {
    return this.exclusive(async () => {
      if (!(await this.store.logs.setRetention(name, undefined))) throw groupNotFound();
    });
  }

  // Streams

  /** A group's streams ordered by name, or as `page` asks; ResourceNotFoundException when there is no such group. */
  listStreams(group: string, prefix?: string, page?: StreamPage): Promise<LogStreamRecord[]> {
    return this.exclusive(async () => {
      if (!(await this.store.logs.getGroup(group))) throw groupNotFound();
      return this.store.logs.listStreams(group, prefix, page);
    });
  }

  /** `maxStreams`: refuses a stream past that many in the group (a function's own key, operations.ts). */
  createStream(group: string, name: string, maxStreams?: number): Promise<void> {
    return this.exclusive(async () => {
      if (!(await this.store.logs.getGroup(group))) throw groupNotFound();
      if (maxStreams !== undefined && (await this.store.logs.countStreams(group)) >= maxStreams) {
        throw new PlatformError('LimitExceededException', 'Resource limit exceeded.');
      }
      if (!(await this.store.logs.createStream(group, name, this.clock.now()))) {
        throw new PlatformError('ResourceAlreadyExistsException', 'The specified log stream already exists');
      }
    });
  }

  // Events

  /**
   * Writes a caller's events (PutLogEvents) to an existing stream. They must be in time order; events too
   * far in the future, too old, or past the group's retention are refused and reported, not written.
   */
  putEvents(group: string, stream: string, events: readonly { timestamp: number; message: string }[]): Promise<PutEventsResult> {
    return this.exclusive(async () => {
      const record = await this.store.logs.getGroup(group);
      if (!record) throw groupNotFound();
      if (!(await this.store.logs.getStream(group, stream))) throw streamNotFound();
      for (let i = 1; i < events.length; i++) {
        if (events[i]!.timestamp < events[i - 1]!.timestamp) {
          throw new PlatformError(
            'InvalidParameterException',
            'Log events in a single PutLogEvents request must be in chronological order.',
          );
        }
      }
      // The 24-hour limit is on the span of the events not refused for their time.
      const now = this.clock.now();
      const valid = events.filter((e) => e.timestamp <= now + TOO_NEW_MS && e.timestamp >= now - TOO_OLD_MS);
      const first = valid[0];
      const last = valid[valid.length - 1];
      if (first && last && last.timestamp - first.timestamp > DAY_MS) {
        throw new PlatformError(
          'InvalidParameterException',
          'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
        );
      }
      const expiredBefore = now - this.retentionDaysOf(record) * DAY_MS;
      const result: PutEventsResult = {
        nextSequenceToken: String(++this.sequence).padStart(56, '0'),
        tooNewLogEventStartIndex: undefined,
        tooOldLogEventEndIndex: undefined,
        expiredLogEventEndIndex: undefined,
      };
      events.forEach((e, i) => {
        if (e.timestamp > now + TOO_NEW_MS) result.tooNewLogEventStartIndex ??= i;
        else if (e.timestamp < now - TOO_OLD_MS) result.tooOldLogEventEndIndex = i;
        else if (e.timestamp < expiredBefore) result.expiredLogEventEndIndex = i;
        else this.push({ groupName: group, streamName: stream, timestamp: e.timestamp, message: e.message, ingestionTime: now });
      });
      return result;
    });
  }

  /**
   * Events of a group (see LogEventQuery). ResourceNotFoundException when the group, or `requireStream`,
   * does not exist.
   */
  events(query: LogEventQuery, requireStream?: string): Promise<LogEventRecord[]> {
    return this.exclusive(async () => {
      if (!(await this.store.logs.getGroup(query.groupName))) throw groupNotFound();
      if (requireStream !== undefined && !(await this.store.logs.getStream(query.groupName, requireStream))) throw streamNotFound();
      return this.store.logs.events(query);
    });
  }

  /** Every event of a group across its streams, in time order (empty when there is no such group). */
  async groupEvents(group: string): Promise<(LogEventRecord & { stream: string })[]> {
    const events = await this.exclusive(() => this.store.logs.events({ groupName: group, limit: Number.MAX_SAFE_INTEGER }));
    return events.map((e) => ({ ...e, stream: e.streamName }));
  }

  /**
   * Counts what a group receives; past an eighth of maxGroupBytes since its last check, checks it (after
   * the buffer is written) and drops its oldest events down to seven eighths of the limit. Costs a map
   * update per event; the check, a few store calls, runs once per eighth of the limit written.
   */
  private count(event: NewLogEvent): void {
    if (this.opts.maxGroupBytes === undefined) return;
    const group = event.groupName;
    this.unchecked.set(group, (this.unchecked.get(group) ?? 0) + event.message.length);
    this.checkSize(group, this.opts.maxGroupBytes);
  }

  private checkSize(group: string, limit: number): void {
    if ((this.unchecked.get(group) ?? 0) < limit / 8 || this.trimming.has(group) || this.closed) return;
    this.trimming.add(group);
    this.unchecked.delete(group);
    void this.exclusive(() => this.trim(group, limit))
      .catch((err: unknown) => this.logger.warn('could not hold a log group to its size limit', { group, err }))
      .finally(() => {
        this.trimming.delete(group);
        // What came while it was checked, if that is another eighth already.
        this.checkSize(group, limit);
      });
  }

  /** When a group holds more than `limit`, drops its oldest events until it holds at most seven eighths of it. */
  private async trim(group: string, limit: number): Promise<void> {
    const stored = (await this.store.logs.getGroup(group))?.storedBytes ?? 0;
    if (stored <= limit) return;
    const before = await this.store.logs.cutForSize(group, Math.floor((limit * 7) / 8));
    if (before === undefined) return;
    const dropped = await this.store.logs.deleteEventsBefore(group, before);
    this.logger.warn('a log group passed its size limit: its oldest events were dropped', { group, dropped, limit, stored });
  }

  /** Drops events past their retention: the server's `retentionDays`, or a group's shorter policy. */
  private async sweepNow(): Promise<void> {
    for (const group of await this.store.logs.listGroups()) await this.expire(group.name, this.retentionDaysOf(group));
  }

  private retentionDaysOf(group: LogGroupRecord): number {
    return Math.min(this.opts.retentionDays, group.retentionInDays ?? Infinity);
  }

  /** Drops a group's events older than `days` (never more than the server's retentionDays) of platform time. */
  private async expire(group: string, days: number): Promise<void> {
    const dropped = await this.store.logs.deleteEventsBefore(group, this.clock.now() - Math.min(days, this.opts.retentionDays) * DAY_MS);
    if (dropped > 0) this.logger.debug('dropped expired log events', { group, dropped });
  }

  private scheduleSweep(): void {
    this.cancelSweep = this.clock.setTimer(this.opts.sweepIntervalMs ?? 3_600_000, () => {
      this.scheduleSweep();
      this.sweep();
    });
  }

  /**
   * Queues one retention sweep unless one is already waiting (a fast-moving clock fires the timer in
   * bursts), or another node leads and sweeps.
   */
  sweep(): void {
    if (this.sweepQueued || this.closed || (this.opts.leadership && !this.opts.leadership.leading)) return;
    this.sweepQueued = true;
    void this.exclusive(() => {
      this.sweepQueued = false;
      return this.sweepNow();
    }).catch((err: unknown) => this.logger.warn('could not drop expired log events', { err }));
  }

  private push(event: NewLogEvent): void {
    if (this.closed) return;
    this.count(event);
    this.buffer.push(event);
    this.bufferedChars += event.message.length;
    const max = this.opts.maxBufferedEvents ?? 100_000;
    const maxChars = this.opts.maxBufferedChars ?? 64 * 1024 * 1024;
    if (this.buffer.length > max || this.bufferedChars > maxChars) this.shed(max, maxChars);
    const full =
      this.buffer.length >= (this.opts.flushAtEvents ?? 1000) || this.bufferedChars >= (this.opts.flushAtChars ?? 4 * 1024 * 1024);
    if (full && !this.flushQueued) {
      this.flushQueued = true;
      void this.flush();
    }
  }

  /**
   * Makes room in a full buffer (the store writing slower than functions print): down to nine tenths of
   * both bounds at once (dropping one event per event pushed shifted the whole buffer each time), taking
   * the oldest events of the group that holds most of it, then of the next once they hold alike, so
   * that one function printing without end loses its own lines, not those of the functions beside it.
   * Each group that lost events gets a line saying how many, with the next write.
   */
  private shed(max: number, maxChars: number): void {
    const groups = new Map<string, { chars: number; events: number; lengths: number[]; dropped: number; stream: string }>();
    for (const e of this.buffer) {
      let g = groups.get(e.groupName);
      if (!g) groups.set(e.groupName, (g = { chars: 0, events: 0, lengths: [], dropped: 0, stream: e.streamName }));
      g.chars += e.message.length;
      g.events++;
      g.lengths.push(e.message.length);
    }
    // A group's weight: its share of either bound, whichever it fills more.
    const weight = (g: { chars: number; events: number }) => Math.max(g.chars / maxChars, g.events / max);
    let events = this.buffer.length;
    let chars = this.bufferedChars;
    const over = () => events > max * 0.9 || chars > maxChars * 0.9;
    // Heaviest first; a group that lost some goes back into its place (a binary search), not a new sort.
    const ranked = [...groups.values()].sort((a, b) => weight(b) - weight(a));
    while (over()) {
      const heaviest = ranked.shift()!;
      const next = ranked[0] === undefined ? 0 : weight(ranked[0]);
      // Its oldest, until it weighs no more than the next (at least one), or the buffer fits.
      do {
        const length = heaviest.lengths[heaviest.dropped++]!;
        heaviest.chars -= length;
        heaviest.events--;
        chars -= length;
        events--;
      } while (heaviest.events > 0 && over() && weight(heaviest) > next);
      if (heaviest.events === 0) continue;
      const w = weight(heaviest);
      let lo = 0;
      let hi = ranked.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (weight(ranked[mid]!) > w) lo = mid + 1;
        else hi = mid;
      }
      ranked.splice(lo, 0, heaviest);
    }
    const kept: NewLogEvent[] = [];
    const seen = new Map<string, number>();
    for (const e of this.buffer) {
      const n = (seen.get(e.groupName) ?? 0) + 1;
      seen.set(e.groupName, n);
      if (n > groups.get(e.groupName)!.dropped) kept.push(e);
    }
    for (const [groupName, g] of groups) {
      if (g.dropped === 0) continue;
      this.dropped += g.dropped;
      const before = this.droppedFrom.get(groupName);
      this.droppedFrom.set(groupName, { events: (before?.events ?? 0) + g.dropped, stream: before?.stream ?? g.stream });
    }
    this.buffer = kept;
    this.bufferedChars = chars;
  }

  private locked<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Runs `work` under the lock after writing the buffer, so it sees (and cannot race) every earlier append. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.locked(async () => {
      await this.flushNow();
      return work();
    });
  }

  private async flushNow(): Promise<void> {
    this.flushQueued = false;
    if (this.dropped > 0) {
      this.logger.warn('dropped unwritten log events', { dropped: this.dropped, groups: this.droppedFrom.size });
      this.dropped = 0;
      const now = this.clock.now();
      for (const [groupName, { events, stream }] of this.droppedFrom) {
        const message = `[Versa] ${events} log events of this group were dropped before they were written: the server's log buffer was full.`;
        this.buffer.push({ groupName, streamName: stream, timestamp: now, message, ingestionTime: now });
        this.bufferedChars += message.length;
      }
      this.droppedFrom.clear();
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferedChars = 0;
    // In writes of at most FLUSH_CHUNK events, the event loop free between them: a buffer of 100,000
    // events written (and handed to the store's writer) at once held it for seconds.
    for (let at = 0; at < batch.length; at += FLUSH_CHUNK) {
      if (at > 0) await new Promise((resolve) => setImmediate(resolve));
      try {
        await this.store.logs.append(batch.slice(at, at + FLUSH_CHUNK));
      } catch (err) {
        // Keep the rest for the next flush (bounded by maxBufferedEvents and maxBufferedChars).
        const rest = batch.slice(at);
        this.logger.warn('could not write log events; will retry', { events: rest.length, err });
        this.buffer = rest.concat(this.buffer);
        for (const e of rest) this.bufferedChars += e.message.length;
        return;
      }
    }
  }
}
