/** Small helpers shared by the invoke-*.test.ts files: invoke and decode, bounded polling, process checks. */
import { readFileSync, readdirSync } from 'node:fs';
import { InvokeCommand, type InvokeCommandInput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { RunningServer } from '../src/server/server.js';

export interface Invoked {
  statusCode: number | undefined;
  /** The payload text exactly as the server sent it. */
  raw: string;
  /** The payload parsed as JSON (undefined when empty). */
  payload: unknown;
  functionError: string | undefined;
  executedVersion: string | undefined;
  /** The decoded `X-Amz-Log-Result` (empty unless LogType Tail was asked for). */
  log: string;
}

/** Invokes `name` with `event` as JSON and decodes everything the answer carries. */
export async function invoke(
  lambda: LambdaClient,
  name: string,
  event?: unknown,
  extra: Partial<InvokeCommandInput> = {},
): Promise<Invoked> {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: name,
      ...(event !== undefined && { Payload: Buffer.from(JSON.stringify(event)) }),
      ...extra,
    }),
  );
  const raw = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  return {
    statusCode: out.StatusCode,
    raw,
    payload: raw === '' ? undefined : JSON.parse(raw),
    functionError: out.FunctionError,
    executedVersion: out.ExecutedVersion,
    log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : '',
  };
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes (then throws). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process with this pid exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The `Duration: N ms` of a log's REPORT line. */
export function reportedDuration(log: string): number {
  const m = /^REPORT RequestId: \S+\tDuration: ([0-9.]+) ms/m.exec(log);
  if (!m) throw new Error(`no REPORT line in log:\n${log}`);
  return Number(m[1]);
}

/**
 * Host pids of the processes whose environment holds `NAME=value`: a function's runtime (and, in a
 * sandbox, the bubblewrap processes around it), found without its own pid, which a sandbox hides.
 */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `\0${name}=${value}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (`\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`.includes(needle) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

/**
 * `payload` with its `pid` (the function's own, which a sandbox numbers inside its PID namespace)
 * replaced by the host pid of the process Versa started for the environment that answered, found by the
 * log stream the function reported as `stream`. Call it while that environment is alive.
 */
export function withHostPid<T extends { pid: number; stream?: string }>(server: RunningServer, payload: T): T {
  const env = server.services.environments.environments().find((e) => e.logStreamName === payload.stream);
  return env?.pid ? { ...payload, pid: env.pid } : payload;
}
