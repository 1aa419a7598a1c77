/** Child processes of the benchmark: starting them, accounting their CPU, and always ending them. */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** user + system CPU, in seconds. */
  cpuSeconds: number;
}

/** A process's (or, with `thread`, one of its threads') counters. */
function statOf(pid: number, thread?: number): Stat | undefined {
  try {
    const text = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: read the fields after it.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), cpuSeconds: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

function allStats(): Stat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return []; // not Linux
  }
  const out: Stat[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** How busy the whole machine is over the next `ms` milliseconds, in % of all its cores. */
export async function machineBusyPct(ms: number): Promise<number> {
  const before = machineBusySeconds();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = (performance.now() - start) / 1000;
  return (100 * (machineBusySeconds() - before)) / seconds / os.cpus().length;
}

/** CPU seconds used so far by a process and, separately, by each of its descendants. */
export interface CpuSnapshot {
  at: number;
  self: number;
  /** The process's main thread alone: the one that answers requests (the rest are V8's, libuv's and Versa's workers). */
  mainThread: number;
  descendants: Map<number, number>;
  /** CPU seconds the whole machine has been busy (all processes, kernel and interrupts). */
  machine: number;
}

function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

export function cpuSnapshot(pid: number): CpuSnapshot {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const descendants = new Map<number, number>();
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const p = queue.pop()!;
    descendants.set(p, byPid.get(p)?.cpuSeconds ?? 0);
    queue.push(...(children.get(p) ?? []));
  }
  return {
    at: performance.now(),
    self: byPid.get(pid)?.cpuSeconds ?? statOf(pid)?.cpuSeconds ?? 0,
    mainThread: statOf(pid, pid)?.cpuSeconds ?? 0,
    descendants,
    machine: machineBusySeconds(),
  };
}

/** CPU used between two snapshots, as a share of one core (100 = one core fully busy). */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): {
  selfPct: number;
  mainThreadPct: number;
  descendantsPct: number;
  /** Descendants that used any CPU. */
  busyDescendants: number;
  /** The whole machine, every process and the kernel included. */
  machinePct: number;
} {
  const seconds = (after.at - before.at) / 1000;
  let desc = 0;
  let busy = 0;
  for (const [pid, cpu] of after.descendants) {
    const used = cpu - (before.descendants.get(pid) ?? 0);
    desc += used;
    if (used > 0) busy++;
  }
  return {
    selfPct: (100 * (after.self - before.self)) / seconds,
    mainThreadPct: (100 * (after.mainThread - before.mainThread)) / seconds,
    descendantsPct: (100 * desc) / seconds,
    busyDescendants: busy,
    machinePct: (100 * (after.machine - before.machine)) / seconds,
  };
}

/**
 * CPU seconds used so far by each PostgreSQL backend serving `database` (anyone's process, found by its
 * title, `postgres: <cluster>: <user> <database> <client> <state>`). Only the backends: the benchmark's
 * own processes name the database on their command lines too, and PostgreSQL's shared processes (WAL
 * writer, checkpointer) stay in "other".
 */
export function cpuOfBackends(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of allStats()) {
    try {
      const title = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(` ${database} `)) out.set(s.pid, s.cpuSeconds);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU used between two `cpuOfBackends` readings taken `seconds` apart, in % of one core (processes that began meanwhile count whole). */
export function backendsPct(before: Map<number, number>, after: Map<number, number>, seconds: number): number {
  let used = 0;
  for (const [pid, cpu] of after) used += cpu - (before.get(pid) ?? 0);
  return (100 * used) / seconds;
}

/** Descendants of `pid` whose command line contains `text`. */
export function descendantsRunning(pid: number, text: string): number[] {
  return [...cpuSnapshot(pid).descendants.keys()].filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Whether it leads its own process group. */
  group: boolean;
  /** The last lines it wrote, when its output is captured. */
  tail: string[];
}

const children = new Set<Child>();
const tempDirs = new Set<string>();

export function alive(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/**
 * Forks a compiled bench script. A `group` child leads its own process group, so that whatever it
 * starts (execution environments) can be found and ended even if it dies without cleaning up.
 */
export function start(
  name: string,
  file: URL,
  args: string[],
  opts: { group?: boolean; capture?: boolean; env?: NodeJS.ProcessEnv } = {},
): Child {
  const proc = fork(file, args, {
    execArgv: [],
    ...(opts.env && { env: opts.env }),
    detached: opts.group ?? false,
    serialization: 'advanced',
    stdio: ['ignore', opts.capture ? 'pipe' : 'inherit', opts.capture ? 'pipe' : 'inherit', 'ipc'],
  });
  const child: Child = { name, proc, group: opts.group ?? false, tail: [] };
  const keep = (chunk: Buffer) => {
    child.tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (child.tail.length > 100) child.tail.splice(0, child.tail.length - 100);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  children.add(child);
  return child;
}

export function tempDir(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

function waitExit(proc: ChildProcess, ms: number): Promise<void> {
  if (!alive(proc)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Processes still in the process group that `leader` created (by their own ids). */
function groupMembers(leader: number): number[] {
  return allStats()
    .filter((s) => s.pgrp === leader)
    .map((s) => s.pid);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Asks each child to stop, then kills what is left (children and their groups) and removes temp dirs. */
export async function stopAll(): Promise<void> {
  for (const child of [...children]) {
    const { proc } = child;
    if (alive(proc)) {
      if (proc.connected) proc.disconnect(); // each child stops itself when the channel closes
      await waitExit(proc, 5000);
      if (alive(proc) && proc.pid) kill(proc.pid);
      await waitExit(proc, 1000);
    }
    if (child.group && proc.pid) for (const pid of groupMembers(proc.pid)) kill(pid);
    children.delete(child);
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Last resort, synchronous (for process 'exit'): kill everything we started, remove temp dirs. */
export function killAllNow(): void {
  for (const { proc, group } of children) {
    if (alive(proc) && proc.pid) kill(proc.pid);
    if (group && proc.pid) for (const pid of groupMembers(proc.pid)) kill(pid);
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** What the children whose output is captured last wrote (to explain a failure). */
export function capturedOutput(): string {
  return [...children]
    .filter((c) => c.tail.length > 0)
    .map((c) => `--- last output of ${c.name} ---\n${c.tail.join('\n')}`)
    .join('\n');
}
