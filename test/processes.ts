/**
 * `versa start` as real processes, for the tests that kill a server (-9) or run several nodes: start on a
 * free port and wait for the endpoint it prints, kill, and reap the runtimes a killed server left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { eventually } from './codedeploy-helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');

export interface Versa {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  /** Everything the process printed so far. */
  output: () => string;
}

/** Starts `versa start` on a free port over `dataDir` (with `args` added) and resolves once it prints its endpoint. */
export async function startVersa(dataDir: string, args: readonly string[] = []): Promise<Versa> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`versa start exited with ${code}: ${out}`)));
  });
  return { child, url, exited, output: () => out };
}

export async function kill9(server: Versa): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}

/** Stops every server still running (SIGTERM) and waits for them to exit. */
export async function stopAll(servers: readonly Versa[]): Promise<void> {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
}

/** Pids of processes working inside `dir` (the runtimes of a server over that data directory). */
export function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd === dir || cwd.startsWith(dir + path.sep)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to look at
    }
  }
  return pids;
}

/**
 * The runtimes a killed server left behind exit by themselves once their Runtime API socket is gone;
 * this gives them a moment, then ends (by pid) any that did not, and says how many there were.
 */
export async function reapLeftovers(dataDir: string, pids: number[]): Promise<number> {
  const alive = () => pids.filter((pid) => processesIn(dataDir).includes(pid));
  try {
    await eventually('the killed server’s runtimes to exit', 3000, () => (alive().length === 0 ? true : undefined));
    return 0;
  } catch {
    const left = alive();
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return left.length;
  }
}

/** A process's resident memory, in bytes. */
export async function rssOf(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Samples a process's RSS every 25 ms until stopped; resolves to the peak. */
export function sampleRss(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssOf(pid));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}
