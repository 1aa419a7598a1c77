import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import { runtimeFamily } from '../domain/runtimes.js';
import { Cgroups, type Cgroup } from './cgroups.js';
import { speaksFrames, type Launch, type RuntimePaths } from './launchers.js';
import { NODE_BOOTSTRAP, PYTHON_BOOTSTRAP } from './paths.js';
import { batchScheduler, closeInheritedDescriptors, DESCRIPTOR_LIMIT_SH, hostEnv } from './processes.js';
import type { PythonInstall } from './python.js';
import { Bubblewrap, feedSandbox, INSIDE, SANDBOX_UID, SandboxUnavailableError, type SandboxMode } from './sandbox.js';
import { Spares, type Spare } from './spares.js';

/**
 * Memory a cgroup allows beyond the function's MemorySize, so that the function itself gets its
 * MemorySize as on Lambda: the two bubblewrap processes that hold the sandbox (3.6 MB resident together,
 * measured, most of it shared libraries already charged elsewhere) and kernel memory charged to the
 * environment. An idle Node environment's cgroup holds about 8 MB, a Python one about 6.5 MB: the
 * binaries' pages are charged to whoever read them first. See docs/performance.md.
 */
export const MEMORY_HEADROOM_MB = 8;
/** Processes and threads per environment, Lambda's figure. */
export const MAX_PROCESSES = 1024;
/**
 * Without a cgroup, Python and `provided.*` runtimes get an address-space limit of MemorySize plus this
 * (an interpreter maps far more than it touches: shared libraries, thread stacks, malloc arenas).
 */
const ADDRESS_SPACE_HEADROOM_MB = 256;

/** What isolates functions on this server, for the start-up banner and `/_versa/health`. */
export interface IsolationStatus {
  sandbox: 'bwrap' | 'off';
  /** In plain words: what the sandbox is, or why there is none and what that means. */
  sandboxDetail: string;
  /** How memory and process counts are limited. */
  limits: string;
}

export interface IsolationOptions {
  mode: SandboxMode;
  /** A folder of the server's own (passwd and group files for sandboxes are written there). */
  supportDir: string;
  /**
   * The Python interpreter, or the question still being asked: its folders are bound into every sandbox,
   * so environments wait for it, but the server need not (a version manager's shim takes ~100 ms to answer).
   */
  python: PythonInstall | Promise<PythonInstall>;
  logger: Logger;
  /** The bubblewrap command (tests point it at something missing). */
  bwrapCommand?: string;
  /** Keep a spare runtime process waiting in its cgroup (spares.ts); default: where it helps (bubblewrap and cgroups). */
  spares?: boolean;
  /** The shell a spare runs (tests point it at something missing). */
  spareShell?: string;
}

/** Lambda's default MemorySize: a spare's cgroup starts with its limit, the one most functions keep. */
const DEFAULT_MEMORY_MB = 128;

/**
 * Confines execution environments: a bubblewrap sandbox each (when there is one), a cgroup each for
 * memory and process count (when the server may make them), and process limits where it may not.
 */
export class Isolation {
  /** The interpreter, and the sandbox with its folders bound, once the interpreter is known. */
  private readonly withPython: Promise<{ python: PythonInstall; sandbox: Bubblewrap | undefined }>;
  /** Whether runtimes run as sbx_user1051 of the host (uid SANDBOX_UID), a user of their own. */
  readonly runsAsHostUser: boolean;

  private constructor(
    readonly status: IsolationStatus,
    sandbox: Bubblewrap | undefined,
    private readonly cgroups: Cgroups | undefined,
    python: Promise<PythonInstall>,
    private readonly spares: Spares | undefined,
    /** util-linux's chrt, to start runtimes under SCHED_BATCH (processes.ts), where it can. */
    private readonly chrt: string | undefined,
  ) {
    this.runsAsHostUser = sandbox?.hostUser ?? false;
    this.withPython = python.then((p) => ({ python: p, sandbox: sandbox?.binding(p.prefixes) }));
    // Nobody may be waiting yet: a failure is the first environment's to report, not an unhandled rejection.
    this.withPython.catch(() => undefined);
  }

  /**
   * Probes bubblewrap and cgroups once, at the same time. Throws SandboxUnavailableError for `bwrap` mode
   * without bubblewrap. The probe's sandbox binds Node's folders but not Python's, which may not be known yet.
   */
  static async create(opts: IsolationOptions): Promise<Isolation> {
    // A runtime receives its stdio and frame channel, nothing else of the server's: see processes.ts.
    const inherited = closeInheritedDescriptors();
    if (inherited.length > 0)
      opts.logger.info('closed descriptors inherited from the parent process, so that no function receives them', { fds: inherited });
    const python = Promise.resolve(opts.python);
    const [probed, cgroups, chrt] = await Promise.all([
      opts.mode === 'off'
        ? undefined
        : Bubblewrap.probe({
            hostDirs: [path.dirname(path.dirname(process.execPath))],
            supportDir: opts.supportDir,
            ...(opts.bwrapCommand && { command: opts.bwrapCommand }),
          }),
      Cgroups.detect(opts.logger),
      batchScheduler(),
    ]);
    let sandbox: Bubblewrap | undefined;
    let why = 'the sandbox is off (--sandbox off)';
    if (probed !== undefined) {
      if (typeof probed === 'string') {
        if (opts.mode === 'bwrap') {
          // Detected meanwhile: its folder goes too.
          await cgroups?.close();
          throw new SandboxUnavailableError(
            `--sandbox bwrap was asked for, but ${probed}. Install bubblewrap, or start with --sandbox off.`,
          );
        }
        why = probed;
      } else sandbox = probed;
    }
    const status: IsolationStatus = sandbox
      ? {
          sandbox: 'bwrap',
          sandboxDetail: `bubblewrap ${sandbox.version.replace(/^bubblewrap\s*/, '')}: each environment has its own namespaces and user, read-only code and a private /tmp${sandbox.hardened ? ', and can make no user namespace nor use the kernel keyring' : ''}${sandbox.hostUser ? `; as the server runs as root, functions run as sbx_user1051 (uid ${SANDBOX_UID}) of the host, not root` : ''}`,
          limits: limitsDescription(cgroups),
        }
      : {
          sandbox: 'off',
          sandboxDetail: `functions run as the server's user and can read what it can read (${why})`,
          limits: limitsDescription(cgroups),
        };
    if (!cgroups?.canFreeze) {
      opts.logger.info(
        'idle environments are not frozen here (no writable freezer cgroup): what a function leaves running goes on between invocations',
      );
    }
    // A spare saves the wait for joining a cgroup; it needs bubblewrap to take its options from a pipe, and a
    // bubblewrap that sizes /tmp (an older one needs a shell's ulimit in front, see Confinement.command).
    const spareShell = opts.spareShell ?? '/bin/bash';
    const spares =
      sandbox?.sizesTmpfs && cgroups && (opts.spares ?? true) && existsSync(spareShell)
        ? new Spares(
            cgroups,
            { memoryBytes: (DEFAULT_MEMORY_MB + MEMORY_HEADROOM_MB) * 1024 * 1024, maxProcesses: MAX_PROCESSES },
            sandbox.inputPipes,
            opts.logger,
            spareShell,
            chrt,
          )
        : undefined;
    return new Isolation(status, sandbox, cgroups, python, spares, chrt);
  }

  /** Sets up one environment's confinement (its cgroup, if any); release() undoes it. */
  async confine(id: string, spec: { runtime: string; memoryMb: number; tmpMb: number }, codeDir: string): Promise<Confinement> {
    const { python, sandbox } = await this.withPython;
    const memoryBytes = (spec.memoryMb + MEMORY_HEADROOM_MB) * 1024 * 1024;
    // Only Versa's own runtimes take a spare: it comes with the frame channel's descriptor open.
    const spare = sandbox && speaksFrames(spec.runtime) ? await this.spares?.take() : undefined;
    if (spare) {
      try {
        await spare.cgroup.limitMemory(memoryBytes);
        return new Confinement(spec, codeDir, sandbox, spare.cgroup, python, this.chrt, spare);
      } catch {
        spare.discard();
        await spare.cgroup.destroy();
      }
    }
    const cgroup = await this.cgroups?.create(id, memoryBytes, MAX_PROCESSES);
    return new Confinement(spec, codeDir, sandbox, cgroup, python, this.chrt);
  }

  async close(): Promise<void> {
    await this.spares?.close();
    await this.cgroups?.close();
  }
}

/** One environment's confinement: how its runtime is started, and the limits around it. */
export class Confinement {
  readonly paths: RuntimePaths;

  constructor(
    private readonly spec: { runtime: string; memoryMb: number; tmpMb: number },
    private readonly codeDir: string,
    private readonly sandbox: Bubblewrap | undefined,
    private readonly cgroup: Cgroup | undefined,
    private readonly python: PythonInstall,
    private readonly chrt: string | undefined,
    /** A process waiting in `cgroup` to become the runtime, if one was ready. */
    private spare?: Spare,
  ) {
    this.paths = sandbox
      ? { taskRoot: INSIDE.task, nodeBootstrap: INSIDE.nodeBootstrap, pythonBootstrap: INSIDE.pythonBootstrap }
      : { taskRoot: codeDir, nodeBootstrap: NODE_BOOTSTRAP, pythonBootstrap: PYTHON_BOOTSTRAP };
  }

  /** Whether a spare process waits to become this confinement's runtime (until spawn()). */
  get hasSpare(): boolean {
    return this.spare !== undefined;
  }

  get sandboxed(): boolean {
    return this.sandbox !== undefined;
  }

  get pythonExecutable(): string {
    return this.python.executable;
  }

  /** Whether a cgroup holds the environment to its memory (else Node's heap limit must, launchers.ts). */
  get limitsMemory(): boolean {
    return this.cgroup !== undefined;
  }

  /** For `provided.*` in a sandbox: whether the package has a bootstrap the sandbox could run. */
  missingBootstrap(): boolean {
    return this.sandboxed && runtimeFamily(this.spec.runtime) === 'provided' && !existsSync(path.join(this.codeDir, 'bootstrap'));
  }

  /** The environment variables that differ inside a sandbox: its own PATH, the SDK's folder, no HOME. */
  adjustEnv(env: Record<string, string>): Record<string, string> {
    if (!this.sandbox) return env;
    const dirs = ['/usr/local/bin', '/usr/bin', '/bin', path.dirname(process.execPath), path.dirname(this.python.executable)];
    const { HOME: _home, ...rest } = env;
    return { ...rest, PATH: [...new Set(dirs)].join(':'), NODE_PATH: INSIDE.nodeModules };
  }

  /**
   * The process to spawn for `inner` (the runtime, or bwrap and the runtime): after joining the cgroup and
   * taking the fallback limits and SCHED_BATCH.
   */
  private command(inner: string[]): { command: string; args: string[] } {
    // Lambda's 1,024 file descriptors, which the sandbox (without CAP_SYS_RESOURCE) cannot raise: one
    // process of a function cannot hold the server's connections by the ten thousand.
    const limits = [DESCRIPTOR_LIMIT_SH];
    if (!this.cgroup && runtimeFamily(this.spec.runtime) !== 'nodejs') {
      // Node reserves address space far beyond what it uses, so its heap is sized from MemorySize instead (launchers.ts).
      limits.push(`ulimit -v ${(this.spec.memoryMb + ADDRESS_SPACE_HEADROOM_MB) * 1024}`);
    }
    // Where bubblewrap cannot size /tmp, no single file there may outgrow it.
    if (this.sandbox && !this.sandbox.sizesTmpfs) limits.push(`ulimit -f ${this.spec.tmpMb * 2048}`);
    // A spare took its policy while it waited; this costs a launch about a millisecond.
    if (this.chrt) inner = [this.chrt, '--batch', '0', ...inner];
    const joins = this.cgroup?.procsFiles ?? [];
    // A shell joins the cgroup before anything else runs, then becomes the runtime (or bwrap): nothing can
    // fork outside the cgroup in between. It costs about a millisecond.
    const script = `while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; ${limits.map((l) => `${l} && `).join('')}exec "$@"`;
    return { command: '/bin/sh', args: ['-c', script, 'sh', ...joins, '--', ...inner] };
  }

  /**
   * Starts the runtime for `launch` with exactly `env`: a spare, when this confinement has one and the
   * runtime speaks frames (`framed`: fd 3 is the frame channel), else a new process. stdin is /dev/null,
   * stdout and stderr are pipes; the process leads its own process group.
   *
   * In the sandbox, `env` reaches only the runtime: bwrap takes it (with its options) from a pipe and sets
   * it inside, and what runs on the host before the sandbox exists (the shell, chrt, bwrap) gets nothing
   * of the function's. A function's LD_PRELOAD, say, would otherwise run its code on the host as the
   * server's user. Throws UnsafeEnvironmentError when a variable cannot be passed that way.
   */
  spawn(launch: Launch, env: Record<string, string>, framed: boolean): ChildProcess {
    const spare = this.spare;
    this.spare = undefined;
    if (!this.sandbox) {
      spare?.discard();
      const run = this.command([launch.command, ...launch.args]);
      return spawn(run.command, run.args, {
        cwd: this.codeDir,
        env,
        stdio: framed ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    }
    const tmpBytes = this.spec.tmpMb * 1024 * 1024;
    const started = this.sandbox.start(this.codeDir, tmpBytes, launch.command, launch.args, env);
    if (!started) {
      spare?.discard();
      throw new UnsafeEnvironmentError('an environment variable holds a NUL character, which no process environment can');
    }
    if (spare && framed) return spare.run(started);
    // Its cgroup stays this environment's: the shell of command() joins it instead.
    spare?.discard();
    const run = this.command(started.argv);
    const child = spawn(run.command, run.args, {
      cwd: this.codeDir,
      env: hostEnv(),
      stdio: ['ignore', 'pipe', 'pipe', framed ? 'pipe' : 'ignore', ...this.sandbox.inputPipes],
      detached: true,
    });
    feedSandbox(child, started);
    return child;
  }

  /**
   * The signal that ended the runtime, from the exit status bubblewrap reports (128 + signal number, as a
   * shell does): the signal itself does not cross the sandbox.
   */
  signalFromStatus(code: number | null): number | undefined {
    return this.sandbox && code !== null && code > 128 && code < 128 + 65 ? code - 128 : undefined;
  }

  /** Highest memory use of the whole environment, when a cgroup counts it. */
  peakBytes(): number | undefined {
    return this.cgroup?.peakBytes();
  }

  usageBytes(): number | undefined {
    return this.cgroup?.usageBytes();
  }

  /** Freezes every process of the environment until thaw(); nothing where there is no freezer cgroup. */
  freeze(): void {
    this.cgroup?.freeze();
  }

  /** Lets a frozen environment run again; nothing when it is not frozen. */
  thaw(): void {
    this.cgroup?.thaw();
  }

  /** Kills every process of the environment that a cgroup can find (those that left its process group too). */
  killAll(): void {
    void this.cgroup?.killAll();
  }

  /** Waits for the environment's processes to be gone and removes its cgroup. */
  async release(): Promise<void> {
    this.spare?.discard();
    this.spare = undefined;
    await this.cgroup?.destroy();
  }
}

/** A runtime's environment that could not be handed to the sandbox; its environment fails to start. */
export class UnsafeEnvironmentError extends Error {}

function limitsDescription(cgroups: Cgroups | undefined): string {
  return cgroups
    ? `MemorySize (+${MEMORY_HEADROOM_MB} MB for the sandbox) and ${MAX_PROCESSES} processes per environment, by ${cgroups.description}`
    : `no writable cgroup: Node's heap is limited to MemorySize, other runtimes' address space to MemorySize + ${ADDRESS_SPACE_HEADROOM_MB} MB; process count is not limited`;
}
