import type http from 'node:http';
import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { hexId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { minimumUnreservedConcurrency } from '../domain/concurrency.js';
import type { LogSink } from '../telemetry/log-sink.js';
import { splitCapacity } from './capacity.js';
import type { CodeCache } from './code-cache.js';
import { ExecutionEnvironment, RuntimeGoneError } from './environment.js';
import type { Isolation } from './isolation.js';
import type { EnvironmentCredentials, EnvironmentTarget, InvocationOutcome, InvocationRequest } from './types.js';

/**
 * An environment idle this long is frozen (ExecutionEnvironment.freeze) by the reaper's sweep, which runs
 * this often: freezing after every invocation would put two cgroup writes (about 150 µs of the server's
 * CPU, about as much as the rest of a warm Invoke) on every warm Invoke; this way a function invoked steadily
 * pays nothing and one idle pays a thaw at its next Invoke. See docs/security.md.
 */
export const FREEZE_AFTER_MS = 1000;

export interface EnvironmentManagerOptions {
  /**
   * Most environments alive at once, across all functions (Lambda's account ConcurrentExecutions);
   * beyond it Invoke is throttled. Functions' reserved concurrency is held back from it for them.
   */
  maxEnvironments: number;
  /** An environment idle this long (real time) is stopped. */
  idleTimeoutMs: number;
  /** Variables every environment gets (region, PATH, ...). */
  baseEnv: Record<string, string>;
  /** Where functions reach this server's AWS APIs (known once the server listens). */
  endpointUrl: () => string;
  /** Credentials of a new environment of the function named, its own, which the server accepts until they are revoked when it stops. */
  /** `role`: the function's execution role, which names it in refusals of what its key may not call. */
  issueCredentials: (functionName: string, role: string) => EnvironmentCredentials;
  /** The sandbox and limits each environment runs in. */
  isolation: Isolation;
  codeCache: CodeCache;
  logs: LogSink;
  /** The platform clock names log streams by date. */
  clock: Clock;
  logger: Logger;
  /** Receives each environment's Runtime API listener, whose connections count with the server's own. */
  watchConnections?: (runtimeApi: http.Server) => void;
}

/**
 * Assigns invocations to execution environments: a warm idle one of the same function version when
 * there is one, else a new one while under the limit (making room by stopping the least recently used
 * idle environment of another version), else a throttle.
 *
 * Reserved concurrency, as Lambda has it: a function with a reservation of N runs at most N invocations
 * at once (all its versions together; beyond that ReservedFunctionConcurrentInvocationLimitExceeded), and
 * the functions without one share only what the reservations leave of maxEnvironments (beyond that
 * ConcurrentInvocationLimitExceeded), so that no function can take the environments another reserved.
 * Each process counts its own environments: nodes sharing a store each enforce the limits over theirs.
 */
export class EnvironmentManager {
  /** Idle environments per target key, most recently used last. */
  private readonly idle = new Map<string, ExecutionEnvironment[]>();
  private readonly all = new Set<ExecutionEnvironment>();
  private readonly retiring = new WeakSet<ExecutionEnvironment>();
  /** Environments prewarm() is starting, per target key, so that overlapping calls do not overshoot. */
  private readonly warming = new Map<string, number>();
  private running = 0;
  /** Slots taken by environments still being started, in all and per function. */
  private startingTotal = 0;
  private readonly starting = new Map<string, number>();
  /** Invocations of each function under way (waiting for or running in an environment). */
  private readonly active = new Map<string, number>();
  /** Each function's reserved concurrency, as last heard; their sum is held back from the others. */
  private readonly reservations = new Map<string, number>();
  private reservedTotal = 0;
  private readonly reaper: NodeJS.Timeout;
  /** Environments by the access key they were given, to tell which invocation a function's call comes from. */
  private readonly byKey = new Map<string, ExecutionEnvironment>();
  private closed = false;

  constructor(private readonly opts: EnvironmentManagerOptions) {
    this.reaper = setInterval(() => this.reapIdle(), Math.min(opts.idleTimeoutMs, FREEZE_AFTER_MS));
    this.reaper.unref();
  }

  async invoke(target: EnvironmentTarget, request: InvocationRequest): Promise<InvocationOutcome> {
    const name = target.functionName;
    // The target carries the function's reservation as the registry has it now: the freshest word on it.
    this.setReservation(name, target.reservedConcurrency);
    const active = this.active.get(name) ?? 0;
    if (target.reservedConcurrency !== undefined && active >= target.reservedConcurrency) {
      throw throttle('ReservedFunctionConcurrentInvocationLimitExceeded');
    }
    this.active.set(name, active + 1);
    try {
      return await this.assign(target, request);
    } finally {
      const left = (this.active.get(name) ?? 1) - 1;
      if (left > 0) this.active.set(name, left);
      else this.active.delete(name);
    }
  }

  private async assign(target: EnvironmentTarget, request: InvocationRequest): Promise<InvocationOutcome> {
    const warm = this.takeIdle(target);
    if (warm) {
      try {
        return await this.runIn(warm, request);
      } catch (err) {
        // The warm runtime had ended before it took the event; a new environment runs it.
        if (!(err instanceof RuntimeGoneError)) throw err;
      }
    }
    return this.runIn(await this.startEnvironment(target), request);
  }

  private async runIn(env: ExecutionEnvironment, request: InvocationRequest): Promise<InvocationOutcome> {
    this.running++;
    try {
      return await env.invoke(request);
    } finally {
      this.running--;
      this.release(env);
    }
  }

  /** Invocations running right now (Lambda's ConcurrentExecutions). */
  get inFlight(): number {
    return this.running;
  }

  /** Counts of live environments, for health and metrics. */
  stats(): { total: number; busy: number; idle: number } {
    let busy = 0;
    for (const env of this.all) if (env.state === 'busy') busy++;
    return { total: this.all.size, busy, idle: this.all.size - busy };
  }

  environments(): readonly ExecutionEnvironment[] {
    return [...this.all];
  }

  /** Records a function's reserved concurrency (undefined: none), as PutFunctionConcurrency or a reload tells. */
  setReservation(functionName: string, reserved: number | undefined): void {
    const before = this.reservations.get(functionName);
    if (before === reserved) return;
    if (reserved === undefined) this.reservations.delete(functionName);
    else this.reservations.set(functionName, reserved);
    this.reservedTotal += (reserved ?? 0) - (before ?? 0);
  }

  /** Replaces every function's reservation at once (at start, or after missed changes). */
  setReservations(all: Iterable<[string, number]>): void {
    this.reservations.clear();
    this.reservedTotal = 0;
    for (const [name, reserved] of all) this.setReservation(name, reserved);
  }

  /**
   * Environments the functions without a reservation may hold together: what the reservations leave,
   * but never less than the account's unreserved minimum (reservations made under a larger
   * maxEnvironments may exceed a smaller one).
   */
  private unreservedPool(): number {
    const max = this.opts.maxEnvironments;
    return Math.max(max - this.reservedTotal, minimumUnreservedConcurrency(max));
  }

  /** Environments (live or starting) of functions without a reservation. */
  private unreservedInUse(): number {
    let n = 0;
    for (const env of this.all) if (!this.reservations.has(env.target.functionName)) n++;
    for (const [name, count] of this.starting) if (!this.reservations.has(name)) n += count;
    return n;
  }

  /** Whether a new environment of `target` fits without stopping another (prewarm makes no room). */
  private roomFor(target: EnvironmentTarget): boolean {
    if (this.all.size + this.startingTotal >= this.opts.maxEnvironments) return false;
    const name = target.functionName;
    const reserved = this.reservations.get(name);
    if (reserved === undefined) return this.unreservedInUse() < this.unreservedPool();
    let own = this.starting.get(name) ?? 0;
    for (const env of this.all) if (env.target.functionName === name) own++;
    return own < reserved;
  }

  /**
   * Stops the environments of a function whose spec digest is not in `live` (changed `$LATEST`, deleted
   * versions or function); busy ones stop when their invocation ends.
   */
  retireStale(functionName: string, live: ReadonlySet<string>): void {
    for (const env of [...this.all]) {
      if (env.target.functionName !== functionName || live.has(env.target.digest)) continue;
      if (env.state === 'busy') this.retiring.add(env);
      else env.stop();
    }
  }

  /** Stops every environment and resolves once their runtime processes have ended. */
  /** The chain of the invocation running in the environment given `accessKeyId` (InvocationRequest.chain), if any. */
  chainOf(accessKeyId: string): number | undefined {
    return this.byKey.get(accessKeyId)?.currentChain();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    const all = [...this.all];
    for (const env of all) env.stop();
    await Promise.all(all.map((env) => env.exited));
  }

  private key(target: EnvironmentTarget): string {
    return `${target.functionName}\u0000${target.version}\u0000${target.digest}`;
  }

  /**
   * Starts environments for `target` ahead of traffic and parks them as idle, until it has `upTo` of
   * them (idle, busy or starting), so the first invocations of a new version are not cold. Never makes
   * room by stopping others: it starts only what free slots allow.
   */
  async prewarm(target: EnvironmentTarget, upTo = 1): Promise<void> {
    const key = this.key(target);
    const missing = upTo - this.countOf(key) - (this.warming.get(key) ?? 0);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < missing && this.roomFor(target) && !this.closed; i++) {
      // startEnvironment takes its slot before its first await, so the check above stays true for each.
      starts.push(this.startIdle(target));
    }
    this.warming.set(key, (this.warming.get(key) ?? 0) + starts.length);
    try {
      const results = await Promise.allSettled(starts);
      for (const r of results) if (r.status === 'rejected') this.opts.logger.debug('prewarm failed', { err: r.reason });
    } finally {
      const left = (this.warming.get(key) ?? 0) - starts.length;
      if (left > 0) this.warming.set(key, left);
      else this.warming.delete(key);
    }
  }

  /**
   * Moves warm capacity from one version of a function to another as a deployment moves `share` of the
   * traffic, like a rolling replacement: of the environments the two have together, `to` should hold
   * ceil(share × N) and `from` the rest (splitCapacity). The shrinking side's surplus idle environments
   * stop first, least recently used first, which frees their slots; then the growing side is pre-warmed
   * up to its part, within maxEnvironments. At a share of 0 or 1 nothing is stopped: the deployment
   * releases the version it leaves when it is done with it (after a bake window, say).
   */
  async shiftCapacity(from: EnvironmentTarget, to: EnvironmentTarget, share: number): Promise<void> {
    const fromKey = this.key(from);
    const toKey = this.key(to);
    if (fromKey === toKey) return;
    const have = { from: this.countOf(fromKey), to: this.countOf(toKey) };
    const want = splitCapacity(have.from + have.to, share);
    if (share > 0 && share < 1) {
      this.retireIdle(fromKey, have.from - want.from);
      this.retireIdle(toKey, have.to - want.to);
    }
    if (want.from > have.from) await this.prewarm(from, want.from);
    if (want.to > have.to) await this.prewarm(to, want.to);
  }

  /** Stops the idle environments of one function version (a version no alias routes to any more). */
  releaseVersion(functionName: string, version: string): void {
    for (const env of [...this.all]) {
      if (env.target.functionName === functionName && env.target.version === version && env.state !== 'busy') env.stop();
    }
  }

  private async startIdle(target: EnvironmentTarget): Promise<void> {
    const env = await this.startEnvironment(target);
    // A starting environment may be handed an invocation: it is delivered once the runtime is ready.
    const key = this.key(target);
    const list = this.idle.get(key);
    if (list) list.push(env);
    else this.idle.set(key, [env]);
  }

  /** Live environments (idle or busy) of one target key. */
  private countOf(key: string): number {
    let n = 0;
    for (const env of this.all) if (this.key(env.target) === key) n++;
    return n;
  }

  /** Stops up to `count` idle environments of one target key, least recently used first. */
  private retireIdle(key: string, count: number): void {
    const list = this.idle.get(key);
    if (!list || count <= 0) return;
    for (const env of [...list].sort((a, b) => a.lastUsed - b.lastUsed).slice(0, count)) env.stop();
  }

  private takeIdle(target: EnvironmentTarget): ExecutionEnvironment | undefined {
    const key = this.key(target);
    const list = this.idle.get(key);
    const env = list?.pop();
    if (list && list.length === 0) this.idle.delete(key);
    return env;
  }

  private release(env: ExecutionEnvironment): void {
    if (env.state !== 'idle') return;
    if (this.closed || this.retiring.has(env)) {
      env.stop();
      return;
    }
    const key = this.key(env.target);
    const list = this.idle.get(key);
    if (list) list.push(env);
    else this.idle.set(key, [env]);
  }

  private async startEnvironment(target: EnvironmentTarget): Promise<ExecutionEnvironment> {
    if (this.closed) throw new PlatformError('ServiceException', 'Versa is shutting down.');
    const name = target.functionName;
    // A function without a reservation may use only the unreserved pool; it makes room in it by stopping
    // an idle environment of another unreserved function, never one a reservation holds.
    const unreserved = (env: ExecutionEnvironment) => !this.reservations.has(env.target.functionName);
    if (!this.reservations.has(name) && this.unreservedInUse() >= this.unreservedPool() && !this.evictOldestIdle(unreserved)) {
      throw throttle('ConcurrentInvocationLimitExceeded');
    }
    if (this.all.size + this.startingTotal >= this.opts.maxEnvironments && !this.evictOldestIdle()) {
      throw throttle('ConcurrentInvocationLimitExceeded');
    }
    // Take the slot before awaiting, so concurrent cold starts cannot overshoot the limit.
    this.startingTotal++;
    this.starting.set(name, (this.starting.get(name) ?? 0) + 1);
    try {
      const codeDir = await this.opts.codeCache.dir(target.spec.codeSha256);
      const group = `/aws/lambda/${target.functionName}`;
      const streamName = logStreamName(this.opts.clock.now(), target.version);
      const credentials = this.opts.issueCredentials(target.functionName, target.spec.role);
      let env: ExecutionEnvironment;
      try {
        env = await ExecutionEnvironment.start({
          id: hexId(8),
          target,
          codeDir,
          logStreamName: streamName,
          baseEnv: {
            ...this.opts.baseEnv,
            AWS_ENDPOINT_URL: this.opts.endpointUrl(),
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            AWS_SESSION_TOKEN: credentials.sessionToken,
          },
          isolation: this.opts.isolation,
          logger: this.opts.logger,
          ...(this.opts.watchConnections && { watchConnections: this.opts.watchConnections }),
          onLogLine: (line) => this.opts.logs.append(group, streamName, line),
          onStopped: (stopped) => {
            credentials.revoke();
            this.byKey.delete(credentials.accessKeyId);
            this.forget(stopped);
          },
        });
      } catch (err) {
        credentials.revoke();
        throw err;
      }
      if (this.closed) {
        // close() ran while this one was starting and could not see it: stop it here.
        env.stop();
        throw new PlatformError('ServiceException', 'Versa is shutting down.');
      }
      this.all.add(env);
      this.byKey.set(credentials.accessKeyId, env);
      return env;
    } finally {
      this.startingTotal--;
      const left = (this.starting.get(name) ?? 1) - 1;
      if (left > 0) this.starting.set(name, left);
      else this.starting.delete(name);
    }
  }

  private forget(env: ExecutionEnvironment): void {
    this.all.delete(env);
    const key = this.key(env.target);
    const list = this.idle.get(key);
    if (!list) return;
    const i = list.indexOf(env);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(key);
  }

  /** Stops the least recently used idle environment (of those `which` accepts); false if there is none. */
  private evictOldestIdle(which: (env: ExecutionEnvironment) => boolean = () => true): boolean {
    let oldest: ExecutionEnvironment | undefined;
    for (const list of this.idle.values()) {
      const first = list[0];
      if (first && which(first) && (!oldest || first.lastUsed < oldest.lastUsed)) oldest = first;
    }
    oldest?.stop();
    return oldest !== undefined;
  }

  /** Stops the environments idle for idleTimeoutMs, and freezes those idle for FREEZE_AFTER_MS. */
  private reapIdle(): void {
    const now = Date.now();
    for (const list of [...this.idle.values()]) {
      for (const env of [...list]) {
        if (env.lastUsed < now - this.opts.idleTimeoutMs) env.stop();
        else if (env.lastUsed < now - FREEZE_AFTER_MS) env.freeze();
      }
    }
  }
}

/**
 * Lambda's throttle: ReservedFunctionConcurrentInvocationLimitExceeded when a function is at its own
 * reservation, ConcurrentInvocationLimitExceeded when the account's (here: the server's) is reached. AWS
 * answers the first without a Retry-After header (its recordings carry no retryAfterSeconds): waiting does
 * not help a function reserved 0, and one at its reservation frees a slot when an invocation ends.
 */
function throttle(reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded'): PlatformError {
  return new PlatformError('TooManyRequestsException', 'Rate Exceeded.', {
    body: { Reason: reason, Type: 'User' },
    ...(reason === 'ConcurrentInvocationLimitExceeded' && { headers: { 'Retry-After': '1' } }),
  });
}

/** AWS's stream name form: `2024/01/02/[$LATEST]0123456789abcdef0123456789abcdef`. */
export function logStreamName(now: number, version: string): string {
  const d = new Date(now);
  const ymd = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${ymd}/[${version}]${hexId(16)}`;
}
