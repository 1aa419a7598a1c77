import { execFile } from 'node:child_process';
import { closeSync, existsSync, readFileSync, readdirSync } from 'node:fs';

/**
 * True while a process with this id exists (EPERM means it exists but is someone else's). Used to tell
 * what a crashed server left behind (staging folders, cgroups) from what a live one still uses.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** O_CLOEXEC, as the octal `flags` of /proc/self/fdinfo show it. */
const O_CLOEXEC = 0o2000000;

/**
 * Closes the descriptors this process inherited open from whoever started it (a shell's `exec 9>file`, a
 * supervisor's pipe) and returns their numbers. Everything Node, SQLite and the PostgreSQL client open is
 * close-on-exec; an inherited descriptor is not, so every process the server spawns would receive it —
 * each function's runtime too, through its sandbox. On a system without /proc/self/fdinfo, nothing.
 */
export function closeInheritedDescriptors(): number[] {
  let fds: number[];
  try {
    fds = readdirSync('/proc/self/fdinfo')
      .map(Number)
      .filter((fd) => fd > 2);
  } catch {
    return [];
  }
  const closed: number[] = [];
  for (const fd of fds) {
    try {
      const flags = /^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (!flags || (parseInt(flags[1]!, 8) & O_CLOEXEC) !== 0) continue;
      closeSync(fd);
      closed.push(fd);
    } catch {
      // The directory's own descriptor, gone once listed.
    }
  }
  return closed;
}

/**
 * util-linux's `chrt`, when it can run a command under SCHED_BATCH here (a container's seccomp profile may
 * refuse the policy): runtimes run so, in the scheduler's words "mildly disfavored", and above all a
 * runtime the server wakes does not preempt the server on its core. The server hands an invocation to a
 * runtime by writing to its pipe; under SCHED_OTHER that write often switches to the runtime at once,
 * and the server answers its next request only when it gets the core back. See docs/performance.md.
 */
export async function batchScheduler(): Promise<string | undefined> {
  const chrt = ['/usr/bin/chrt', '/bin/chrt'].find((p) => existsSync(p));
  if (!chrt) return undefined;
  const works = await new Promise<boolean>((resolve) => {
    execFile(chrt, ['--batch', '0', '/bin/sh', '-c', 'exit 0'], { timeout: 5_000 }, (err) => resolve(!err));
  });
  return works ? chrt : undefined;
}

/** Open files per runtime process, as on Lambda (its limit is 1,024 per environment); the sandbox cannot raise it. */
export const MAX_DESCRIPTORS = 1024;

/**
 * The shell command that gives a runtime MAX_DESCRIPTORS open files, or the server's own hard limit where
 * that is lower and cannot be raised (a server started under `ulimit -n 400` without CAP_SYS_RESOURCE,
 * as in many containers): a runtime that could not start at all would be worse.
 */
export const DESCRIPTOR_LIMIT_SH = `{ ulimit -n ${MAX_DESCRIPTORS} || ulimit -n "$(ulimit -Hn)"; } 2>/dev/null`;

/**
 * The environment of what the server starts on the host besides runtimes themselves (the shell and bwrap
 * before a sandbox exists, a spare): the server's PATH and nothing else, least of all a function's variables.
 */
export function hostEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin' };
}
