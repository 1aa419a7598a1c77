/**
 * The messages the benchmark's processes exchange over their IPC channels, and a small request/answer
 * helper on top of them. Each child (the reference server, the Versa server, the load generator) runs
 * in its own process so that none of them shares an event loop with another.
 */
import type { ChildProcess } from 'node:child_process';

/** Sent by every child once it is ready to be used. */
export interface Ready {
  type: 'ready';
  url?: string;
  /** Versa's function sandbox (`bwrap` or `off`). */
  sandbox?: string;
}

/** A request to a child; its answer carries the same `id`. */
export interface Request {
  id: number;
  type: string;
  [key: string]: unknown;
}

export interface Answer {
  id: number;
  error?: string;
  [key: string]: unknown;
}

// ---- The load generator (bench/load.ts) ----

export interface LoadOptions {
  /** Several URLs share the connections between them, connection i going to url[i % n]. */
  url: string | string[];
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  /** Seconds. */
  duration: number;
}

export interface LoadResult {
  /** Responses with a 2xx status. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Seconds the run lasted, as autocannon measured it. */
  seconds: number;
  /** 2xx responses per second over the whole run. */
  rps: number;
  /** Latency of 2xx responses in milliseconds, from every response's own timing (not a 1 ms histogram). */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** autocannon's own histogram figures (1 ms resolution), for comparison. */
  autocannon: { requestsPerSecondMean: number; latencyP50: number; latencyP99: number };
  statusCodes: Record<string, number>;
  /** CPU the load generator itself used during the run, in seconds. */
  cpuSeconds: number;
}

// ---- The Versa server (bench/versa-server.ts) ----

export interface EnvironmentInfo {
  id: string;
  functionName: string;
  runtime: string;
  state: string;
  invocations: number;
  residentBytes: number | null;
  /** Proportional set size: shared pages divided among the processes sharing them. */
  pssBytes: number | null;
  /** Pages this process alone holds: what one more environment costs. */
  privateBytes: number | null;
}

/** Sends `message` to `child` and resolves with its answer (or rejects on error, exit or timeout). */
export function ask<T extends Answer>(
  child: ChildProcess,
  message: { type: string; [key: string]: unknown },
  timeoutMs: number,
): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (msg: unknown) => {
      const answer = msg as Answer;
      if (typeof answer !== 'object' || answer === null || answer.id !== id) return;
      cleanup();
      if (answer.error) reject(new Error(answer.error));
      else resolve(answer as T);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`child process ${child.pid ?? '?'} exited (${signal ?? code ?? '?'}) before answering '${message.type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no answer to '${message.type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ ...message, id });
  });
}
let nextId = 1;

/** Resolves with the child's `ready` message. */
export function readyOf(child: ChildProcess, what: string, timeoutMs: number): Promise<Ready> {
  return new Promise<Ready>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (msg: unknown) => {
      if ((msg as Ready | undefined)?.type !== 'ready') return;
      cleanup();
      resolve(msg as Ready);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${what} exited (${signal ?? code ?? '?'}) before it was ready`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Answers requests arriving on this process's IPC channel with `handler`. */
export function serve(handler: (req: Request) => Promise<Record<string, unknown>>): void {
  process.on('message', (msg: unknown) => {
    const req = msg as Request;
    if (typeof req !== 'object' || req === null || typeof req.id !== 'number') return;
    handler(req).then(
      (answer) => process.send?.({ ...answer, id: req.id }),
      (err: unknown) => process.send?.({ id: req.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    );
  });
}
