import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { hexId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Cgroup, Cgroups } from './cgroups.js';
import { DESCRIPTOR_LIMIT_SH, hostEnv } from './processes.js';
import { feedSandbox, type SandboxStart } from './sandbox.js';

/** A spare that failed to start this many times in a row is not tried again. */
const MAX_FAILURES = 3;

/**
 * What a spare runs: join the cgroups named before `--` (as the shell in Confinement.command does), take
 * SCHED_BATCH with the chrt named after it (if one is), then wait for the command on stdin, NUL-separated,
 * and become it with stdin on /dev/null and Lambda's 1,024 open files (MAX_DESCRIPTORS).
 * bash, because it reads NUL-separated words without another process; the command line it reads holds no
 * secret (those go to bwrap on its own pipes, sandbox.ts).
 */
const SCRIPT = `while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; [ -z "$1" ] || "$1" --batch --pid 0 $$ || exit 125; mapfile -d "" a && [ \${#a[@]} -gt 0 ] || exit 125; ${DESCRIPTOR_LIMIT_SH} || exit 125; exec "\${a[@]}" 0</dev/null`;

/**
 * A process already in a fresh cgroup, waiting to become an environment's runtime. Moving a process into a
 * cgroup (v1 above all) waits for an RCU grace period of the kernel: 10–13 ms here, on every cold start,
 * while the runtime could not start. A spare pays it before anyone waits. See docs/performance.md.
 */
export class Spare {
  constructor(
    private readonly child: ChildProcess,
    readonly cgroup: Cgroup,
    private readonly onUsed: () => void,
  ) {}

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && !this.child.killed;
  }

  /** Makes the spare become the sandbox `started` describes, its inputs on their pipes; it keeps its stdio. */
  run(started: SandboxStart): ChildProcess {
    // From here on it is a runtime like any other, which holds the server's event loop as a spawned one does.
    holdsEventLoop(this.child, true);
    const stdin = this.child.stdin!;
    // A spare that died meanwhile is seen through its exit, as any runtime's.
    stdin.on('error', () => undefined);
    feedSandbox(this.child, started);
    stdin.end(started.argv.map((a) => `${a}\0`).join(''));
    this.onUsed();
    return this.child;
  }

  /** Stops the spare unused (its cgroup stays, for whoever holds it). */
  discard(): void {
    killGroup(this.child);
    this.onUsed();
  }
}

/**
 * One spare at a time for a server that sandboxes its runtimes in cgroups: started with the server and
 * again each time one is taken, in a cgroup sized for Lambda's default MemorySize (resized when taken).
 */
export class Spares {
  private next: Promise<Spare | undefined> | undefined;
  private closed = false;
  private failures = 0;

  constructor(
    private readonly cgroups: Cgroups,
    private readonly limits: { memoryBytes: number; maxProcesses: number },
    /** The pipes the sandbox's bwrap reads its inputs from (Bubblewrap.inputPipes). */
    private readonly inputPipes: readonly 'pipe'[],
    private readonly logger: Logger,
    private readonly bash = '/bin/bash',
    /** util-linux's chrt: a spare takes SCHED_BATCH while it waits, for the runtime it becomes (processes.ts). */
    private readonly chrt?: string,
  ) {
    this.refill();
  }

  /** The waiting spare if one is ready (undefined while the next is still starting, or when none can). */
  async take(): Promise<Spare | undefined> {
    const pending = this.next;
    this.next = undefined;
    const spare = await pending;
    if (spare && !spare.alive) {
      await spare.cgroup.destroy();
      this.refill();
      return undefined;
    }
    // None was waiting: start one for the next cold start (a taken one starts the next once it is used).
    if (!spare) this.refill();
    return spare;
  }

  async close(): Promise<void> {
    this.closed = true;
    const spare = await this.next;
    this.next = undefined;
    if (!spare) return;
    spare.discard();
    await spare.cgroup.destroy();
  }

  private refill(): void {
    if (this.closed || this.next || this.failures >= MAX_FAILURES) return;
    this.next = this.start();
  }

  private async start(): Promise<Spare | undefined> {
    let cgroup: Cgroup | undefined;
    try {
      cgroup = await this.cgroups.create(`spare-${hexId(8)}`, this.limits.memoryBytes, this.limits.maxProcesses);
      const procs = cgroup.procsFiles;
      // --norc: with a socket for stdin bash takes itself for a remote shell and would read ~/.bashrc.
      const child = spawn(this.bash, ['--norc', '--noprofile', '-c', SCRIPT, 'bash', ...procs, '--', this.chrt ?? ''], {
        cwd: '/',
        env: hostEnv(),
        // stdin for the command, stdout and stderr, the frame channel, bwrap's options, filter (and variables).
        stdio: ['pipe', 'pipe', 'pipe', 'pipe', ...this.inputPipes],
        // As a runtime is: the leader of its own process group, so that stopping it ends all it started.
        detached: true,
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      // A waiting spare must not keep the server's process alive (one that fails to start, say, must exit).
      holdsEventLoop(child, false);
      const spare = new Spare(child, cgroup, () => this.refill());
      child.once('exit', (code) => {
        // Died while waiting (it was not taken): note it, and start another unless that keeps failing.
        if (this.next === undefined || this.closed) return;
        void this.next.then((waiting) => {
          if (waiting !== spare) return;
          this.next = undefined;
          this.failures++;
          this.logger.debug('a spare runtime process ended while waiting', { code });
          void spare.cgroup.destroy().finally(() => this.refill());
        });
      });
      this.failures = 0;
      return spare;
    } catch (err) {
      this.failures++;
      this.logger.debug('could not start a spare runtime process', { err });
      await cgroup?.destroy();
      return undefined;
    }
  }
}

function holdsEventLoop(child: ChildProcess, hold: boolean): void {
  if (hold) child.ref();
  else child.unref();
  for (const stream of child.stdio) {
    const socket = stream as Socket | null;
    if (hold) socket?.ref();
    else socket?.unref();
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
