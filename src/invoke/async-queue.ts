import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { uuid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { parseFunctionRef } from '../domain/arn.js';
import {
  afterAttempt,
  destinationRecord,
  isExpired,
  MAX_CHAIN,
  retryPolicy,
  type AsyncEventRecord,
  type AttemptOutcome,
  type EventInvokeConfigRecord,
  type NextStep,
} from '../domain/async-event.js';
import { functionArn } from '../domain/arn.js';
import { LATEST } from '../domain/lambda-function.js';
import type { FencedLeadership } from '../store/fenced.js';
import type { AsyncBacklog, Store } from '../store/store.js';
import type { LambdaMetrics } from '../telemetry/lambda-metrics.js';

export interface AsyncQueueOptions {
  store: Store;
  /** Runs one attempt of an event: resolves its qualifier now (alias weights at run time) and invokes it. */
  run: (event: AsyncEventRecord) => Promise<AttemptOutcome>;
  clock: Clock;
  metrics: LambdaMetrics;
  logger: Logger;
  /** Attempts running at once, across all functions. */
  maxInFlight: number;
  /** Attempts of one function running at once. */
  maxPerFunction: number;
  /**
   * When several nodes share the store, only the leader dispatches; the others wake it. Its claims are
   * fenced by the lease: a deposed leader claims nothing.
   */
  leadership?: FencedLeadership;
  /** How much may wait in one function's queue (QUEUE_LIMIT unless told; tests make it small). */
  limit?: QueueLimit;
}

/** What one function's queue may hold, pending and running together: past either, Event invokes are throttled. */
export interface QueueLimit {
  events: number;
  /** Payload bytes (UTF-8). */
  bytes: number;
}

/**
 * Lambda sets no number, but its queue is not this machine's disk: 100,000 events or 1 GiB of payloads
 * per function, whichever comes first, is hours of a busy function's backlog and bounds what a flood of
 * Event invokes (anyone allowed Invoke, functions too) can make the store hold.
 */
export const QUEUE_LIMIT: QueueLimit = { events: 100_000, bytes: 1 << 30 };
/** How long (real time) a function's backlog, as read from the store, is trusted before it is read again. */
const BACKLOG_FRESH_MS = 1000;
/** Functions whose backlog is remembered before stale entries are dropped. */
const MAX_REMEMBERED_BACKLOGS = 1024;

/** An attempt holds its event this long (platform time): Lambda's longest timeout and a minute. */
const LEASE_MS = 16 * 60_000;
/** Ended events are kept this long (platform time) for inspection, then pruned. */
const KEEP_ENDED_MS = 24 * 3_600_000;
/** How long close() waits (real time) for running attempts to end before leaving them to the next start. */
const DRAIN_MS = 5000;

export interface NewAsyncEvent {
  id: string;
  functionName: string;
  qualifier: string | undefined;
  region: string;
  payload: string;
  /** How many invocations led to this event, through destinations or functions' own calls (AsyncEventRecord.chain). */
  chain?: number;
}

/**
 * The durable queue behind InvocationType Event. `enqueue` returns once the event is committed to the
 * store; a dispatcher claims due events oldest first (the claim is a guarded write: pending → running,
 * attempt n, lease), runs them within its concurrency caps, and settles each attempt with a write
 * guarded by the same claim, so an attempt is run and settled once. It is woken by new events and by
 * completions, and by one timer on the platform clock for the next retry; it never polls.
 *
 * One dispatcher runs at a time (the only process on a SQLite data directory, or the leader of the
 * nodes sharing a database), so at start every event still marked running is an orphan of the
 * dispatcher before (killed, stopped or deposed mid-attempt): its attempt counts, as Lambda counts an
 * attempt whose runtime died, and it is retried or ended by the usual rules.
 */
export class AsyncEventQueue {
  private readonly perFunction = new Map<string, number>();
  /** Each function's backlog as last read from the store, plus what this node accepted since. */
  private readonly backlogs = new Map<string, { events: number; bytes: number; readAt: number }>();
  private readonly attempts = new Set<Promise<void>>();
  private inFlight = 0;
  private pumping = false;
  private again = false;
  private started = false;
  private closed = false;
  private cancelTimer: (() => void) | undefined;
  private timerAt: number | undefined;
  private lastPrune = 0;

  constructor(private readonly opts: AsyncQueueOptions) {}

  /** Stores an accepted event; when this resolves the event survives a crash. */
  async enqueue(input: NewAsyncEvent): Promise<void> {
    await this.admit(input.functionName, Buffer.byteLength(input.payload));
    const now = this.opts.clock.now();
    await this.opts.store.asyncEvents.enqueue(newEvent(input, now));
    this.opts.metrics.recordAsync(input.functionName, input.qualifier, 'received', 1);
    // The leader is told before the event is acknowledged: a node that dies after its 202 lost nothing.
    await this.wake();
  }

  /** Pending and running events of a function. */
  depth(functionName: string): Promise<AsyncBacklog> {
    return this.opts.store.asyncEvents.depth(functionName);
  }

  /**
   * Throttles an event its function's queue has no room for (Lambda's 429, which the SDKs retry with
   * back-off). The backlog is read from the store at most once a second per function, and counted up
   * from there by what this node accepts, so a flood costs no query per event; nodes sharing a store
   * may together overshoot by what they accept in that second.
   */
  private async admit(functionName: string, bytes: number): Promise<void> {
    const limit = this.opts.limit ?? QUEUE_LIMIT;
    const now = performance.now();
    let backlog = this.backlogs.get(functionName);
    if (backlog === undefined || now - backlog.readAt > BACKLOG_FRESH_MS) {
      const depth = await this.opts.store.asyncEvents.depth(functionName);
      if (this.backlogs.size >= MAX_REMEMBERED_BACKLOGS) {
        for (const [name, b] of this.backlogs) if (now - b.readAt > BACKLOG_FRESH_MS) this.backlogs.delete(name);
      }
      backlog = { events: depth.pending + depth.running, bytes: depth.bytes, readAt: now };
      this.backlogs.set(functionName, backlog);
    }
    if (backlog.events + 1 > limit.events || backlog.bytes + bytes > limit.bytes) {
      throw new PlatformError(
        'TooManyRequestsException',
        `The function's queue of asynchronous events is full (at most ${limit.events} events or ${limit.bytes} bytes of payloads wait to run); retry once it has run some.`,
        { body: { Reason: 'FunctionInvocationRateLimitExceeded', Type: 'User' }, headers: { 'Retry-After': '1' } },
      );
    }
    backlog.events += 1;
    backlog.bytes += bytes;
  }

  /** Settles the attempts the previous process left running, then starts dispatching. */
  async start(): Promise<void> {
    const orphans = await this.opts.store.asyncEvents.running();
    for (const event of orphans) {
      const config = await this.configFor(event);
      const now = this.opts.clock.now();
      await this.settle(event, afterAttempt(event, { kind: 'interrupted' }, retryPolicy(config), now), config, now);
    }
    if (orphans.length) this.opts.logger.info('asynchronous events interrupted by the last stop were reclaimed', { count: orphans.length });
    this.closed = false;
    this.started = true;
    this.pump();
  }

  /** Stops claiming; waits briefly for running attempts, and leaves the rest running for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.started = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = undefined;
    const drained = Promise.allSettled([...this.attempts]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
  }

  /** Looks for due events now: here when this node dispatches, else on the leader (resolved once it is told). */
  async wake(): Promise<void> {
    if (this.started && !this.closed) this.pump();
    else if (this.opts.leadership && !this.opts.leadership.leading) await this.opts.leadership.toLeader('async.wake', null);
  }

  /** The oldest due event, claimed for an attempt (under the leader lease when there is one). */
  private claim(now: number): Promise<AsyncEventRecord | undefined> {
    const { store, leadership } = this.opts;
    if (!leadership) return store.asyncEvents.claim(now, now + LEASE_MS, this.busyFunctions());
    return store.transaction(async (tx) => {
      await leadership.fence(tx);
      return tx.asyncEvents.claim(now, now + LEASE_MS, this.busyFunctions());
    });
  }

  private pump(): void {
    if (!this.started || this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.fill()
      .catch((err: unknown) => this.opts.logger.error('asynchronous dispatch failed', { err }))
      .finally(() => {
        this.pumping = false;
        // Woken after the pass last looked (an attempt ended while it pruned): one more pass.
        if (this.again) this.pump();
      });
  }

  private async fill(): Promise<void> {
    for (;;) {
      this.again = false;
      while (!this.closed && this.inFlight < this.opts.maxInFlight) {
        const now = this.opts.clock.now();
        const event = await this.claim(now);
        if (!event) break;
        this.begin(event);
      }
      if (this.closed) return;
      const due = await this.opts.store.asyncEvents.nextDue(this.busyFunctions());
      const now = this.opts.clock.now();
      // Something became due (or was woken) while this pass ran and there is room for it: go again.
      if (this.again || (due !== undefined && due <= now && this.inFlight < this.opts.maxInFlight)) continue;
      if (due !== undefined && due > now) this.armTimer(due, now);
      break;
    }
    await this.prune();
  }

  /** Functions at their cap: their events wait for one of their attempts to end (which pumps again). */
  private busyFunctions(): string[] {
    return [...this.perFunction].filter(([, n]) => n >= this.opts.maxPerFunction).map(([name]) => name);
  }

  /** One platform-clock timer, for the earliest pending event not yet due. */
  private armTimer(due: number, now: number): void {
    if (this.timerAt !== undefined && this.timerAt <= due) return;
    this.cancelTimer?.();
    this.timerAt = due;
    this.cancelTimer = this.opts.clock.setTimer(due - now, () => {
      this.timerAt = undefined;
      this.cancelTimer = undefined;
      this.pump();
    });
  }

  private async prune(): Promise<void> {
    const now = this.opts.clock.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    await this.opts.store.asyncEvents.deleteFinishedBefore(now - KEEP_ENDED_MS);
  }

  private begin(event: AsyncEventRecord): void {
    this.inFlight++;
    this.perFunction.set(event.functionName, (this.perFunction.get(event.functionName) ?? 0) + 1);
    const attempt = this.attempt(event)
      .catch((err: unknown) => this.opts.logger.error('asynchronous attempt could not be settled', { id: event.id, err }))
      .finally(() => {
        this.inFlight--;
        const n = (this.perFunction.get(event.functionName) ?? 1) - 1;
        if (n <= 0) this.perFunction.delete(event.functionName);
        else this.perFunction.set(event.functionName, n);
        this.attempts.delete(attempt);
        this.pump();
      });
    this.attempts.add(attempt);
  }

  private async attempt(event: AsyncEventRecord): Promise<void> {
    const config = await this.configFor(event);
    const policy = retryPolicy(config);
    const startedAt = this.opts.clock.now();
    let next: NextStep;
    if (isExpired(event, policy, startedAt)) {
      // Too old to start: it ends without running, and the claim gives its attempt back.
      next = {
        kind: 'finish',
        status: 'dropped',
        condition: 'EventAgeExceeded',
        attempts: event.attempts - 1,
        lastResponse: event.lastResponse,
      };
    } else {
      this.opts.metrics.recordAsync(event.functionName, event.qualifier, 'age', Math.max(0, startedAt - event.receivedAt));
      const outcome = await this.opts.run(event);
      // Left running for the next start if the server stops meanwhile: it may not have finished.
      if (this.closed) return;
      next = afterAttempt(event, outcome, policy, this.opts.clock.now());
    }
    await this.settle(event, next, config, this.opts.clock.now());
  }

  /**
   * Writes the step after an attempt, and in the same transaction the destination's record as a new
   * event, so that an ended event's record is never lost nor sent twice.
   */
  private async settle(event: AsyncEventRecord, next: NextStep, config: EventInvokeConfigRecord | undefined, now: number): Promise<void> {
    const updated: AsyncEventRecord =
      next.kind === 'retry'
        ? {
            ...event,
            status: 'pending',
            attempts: next.attempts,
            throttles: next.throttles,
            nextAttemptAt: next.at,
            leaseUntil: undefined,
            lastResponse: next.lastResponse,
          }
        : {
            ...event,
            // An ended event is kept a day for what it did, not for its payloads (1 MB in, 6 MB out, outside
            // the queue's bound; its destination's record is made from the event as it ran, below): a
            // flood of events that ran is no flood of the disk.
            payload: '',
            status: next.status,
            attempts: next.attempts,
            leaseUntil: undefined,
            lastResponse: next.lastResponse && { ...next.lastResponse, payload: '' },
            condition: next.condition,
            finishedAt: now,
          };
    const destination =
      next.kind === 'finish' && next.condition ? (next.condition === 'Success' ? config?.onSuccess : config?.onFailure) : undefined;
    const record =
      destination && next.kind === 'finish' && next.condition
        ? destinationRecord(
            event,
            functionArn(event.region, event.functionName, event.qualifier ?? LATEST),
            next.condition,
            next.attempts,
            next.lastResponse,
            now,
          )
        : undefined;
    let target: { name: string; qualifier: string | undefined } | undefined;
    const chain = (event.chain ?? 1) + 1;
    if (destination && record) {
      try {
        const ref = parseFunctionRef(destination);
        target = { name: ref.name, qualifier: ref.qualifier };
      } catch {
        this.opts.logger.warn('asynchronous destination is not a function ARN; record not sent', { destination });
      }
      if (target && chain > MAX_CHAIN) {
        this.opts.logger.warn('a chain of asynchronous destinations looped: its record was not sent', {
          id: event.id,
          function: event.functionName,
          destination,
          chain: MAX_CHAIN,
        });
        target = undefined;
      }
    }
    const settled = await this.opts.store.transaction(async (tx) => {
      if (!(await tx.asyncEvents.settle(updated, event.attempts))) return false;
      if (target && record) {
        await tx.asyncEvents.enqueue(
          newEvent(
            {
              id: uuid(),
              functionName: target.name,
              qualifier: target.qualifier,
              region: event.region,
              payload: JSON.stringify(record),
              chain,
            },
            now,
          ),
        );
      }
      return true;
    });
    if (!settled) return;
    if (target) this.opts.metrics.recordAsync(target.name, target.qualifier, 'received', 1);
    if (next.kind === 'finish' && next.status !== 'done') {
      this.opts.metrics.recordAsync(event.functionName, event.qualifier, 'dropped', 1);
      this.opts.logger.debug('asynchronous event ended without success', { id: event.id, status: next.status, condition: next.condition });
    }
  }

  private configFor(event: AsyncEventRecord): Promise<EventInvokeConfigRecord | undefined> {
    return this.opts.store.eventInvokeConfigs.get(event.functionName, event.qualifier ?? LATEST);
  }
}

function newEvent(input: NewAsyncEvent, now: number): AsyncEventRecord {
  return {
    ...input,
    receivedAt: now,
    status: 'pending',
    attempts: 0,
    throttles: 0,
    nextAttemptAt: now,
    leaseUntil: undefined,
    lastResponse: undefined,
    condition: undefined,
    finishedAt: undefined,
  };
}
