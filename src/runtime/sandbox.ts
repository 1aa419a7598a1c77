import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { NODE_BOOTSTRAP, PYTHON_BOOTSTRAP, SDK_NODE_MODULES } from './paths.js';
import { sandboxFilter } from './seccomp.js';

/** `--sandbox`: off, bubblewrap when it runs here (auto), or bubblewrap or refuse to start. */
export type SandboxMode = 'off' | 'auto' | 'bwrap';

/** The descriptors on which bwrap reads its options and the runtime's variables (`--args`), and its seccomp filter. */
export const OPTIONS_FD = 4;
export const FILTER_FD = 5;
/** Where the server runs as root: the descriptor on which the runtime's variables come (HostUser). */
export const ENV_FD = 6;

/**
 * How a server running as root starts a runtime as sbx_user1051 of the host: util-linux's `setpriv`
 * changes the ids, then perl, as that user, reads the runtime's variables from ENV_FD and becomes the
 * runtime. Nothing that runs as root inside the sandbox sees a function's variables: setpriv started with
 * the function's LD_PRELOAD (or GCONV_PATH, ...) would run the function's library as root, since the
 * loader trusts the environment of a process that changes no ids when it starts.
 */
interface HostUser {
  setpriv: string;
  perl: string;
}

interface Hardening {
  /** The seccomp filter (seccomp.ts); undefined on an architecture it does not know. */
  filter: Buffer | undefined;
  /**
   * Set when the server runs as root: bwrap is privileged and makes no user namespace, which would map
   * the sandbox user to root outside; the runtime runs as sbx_user1051 of the host instead, with no
   * capability. Unset: a user namespace maps the sandbox user to the server's user, and makes no more
   * namespaces (`--disable-userns`).
   */
  hostUser?: HostUser;
}

/** bwrap's command line, and what to write on OPTIONS_FD, FILTER_FD and (where there is one) ENV_FD as it starts. */
export interface SandboxStart {
  argv: string[];
  inputs: [options: Buffer, filter: Buffer, env?: Buffer];
}

/** Writes a sandbox's inputs to the pipes of the process that is, or becomes, its bwrap. */
export function feedSandbox(child: ChildProcess, started: SandboxStart): void {
  started.inputs.forEach((data, i) => {
    const pipe = child.stdio[OPTIONS_FD + i] as Writable;
    // A process that is gone is seen through its exit.
    pipe.on('error', () => undefined);
    pipe.end(data);
  });
}

/** From start-up when `--sandbox bwrap` was asked for and bubblewrap cannot run here. */
export class SandboxUnavailableError extends Error {}

/** Where things are inside a sandbox, as on Lambda. */
export const INSIDE = {
  task: '/var/task',
  runtime: '/var/runtime',
  /** `.mjs`: the compiled bootstrap is an ES module and no package.json is bound next to it. */
  nodeBootstrap: '/var/runtime/bootstrap.mjs',
  pythonBootstrap: '/var/runtime/bootstrap.py',
  nodeModules: '/var/runtime/node_modules',
  /** Layers would be bound here (Versa has none yet). */
  layers: '/opt',
} as const;

/** Lambda's sandbox user is sbx_user1051 (uid 993); a server running as root runs its runtimes as these ids of the host. */
export const SANDBOX_UID = 993;
export const SANDBOX_GID = 990;
const SANDBOX_USER = 'sbx_user1051';

/** Namespaces and capabilities where a user namespace maps the sandbox user to the server's user. */
const USER_NAMESPACE = ['--unshare-all', '--share-net', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID), '--cap-drop', 'ALL'];
/**
 * Where the server runs as root: every namespace but the user's (which would map the sandbox user to root
 * outside) and the network's; setpriv needs these three capabilities to change user, and the change ends them.
 */
const HOST_USER_NAMESPACES = ['--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try', '--cap-drop', 'ALL'].concat([
  '--cap-add',
  'CAP_SETUID',
  '--cap-add',
  'CAP_SETGID',
  '--cap-add',
  'CAP_SETPCAP',
]);
/** setpriv's options, in the order it applies them: groups first, then the user, whose change from root ends every capability. */
const SETPRIV_OPTIONS = ['--regid', String(SANDBOX_GID), '--clear-groups', '--reuid', String(SANDBOX_UID)].concat([
  '--inh-caps=-all',
  '--bounding-set=-all',
  '--no-new-privs',
  '--',
]);

/**
 * Perl's part of HostUser: the variables, `NAME=value` each ended by a NUL, from ENV_FD (closed before the
 * runtime starts), then the runtime, or 127 when it cannot be run (as a shell answers).
 */
const SET_ENV = `open(my $in, '<&=', ${ENV_FD}) or exit 125; local $/ = "\\0"; while (my $kv = <$in>) { chomp $kv; my ($k, $v) = split /=/, $kv, 2; $ENV{$k} = $v } close $in; exec { $ARGV[0] } @ARGV; exit 127`;

/** System folders bound read-only (or re-created as the same symlink, on merged-/usr systems). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/**
 * The parts of /etc a runtime needs: name resolution, TLS roots, time zones, the dynamic linker's cache.
 * Chosen one by one so that nothing like /etc/shadow, keys or the host's configuration is visible.
 */
const ETC_ENTRIES = [
  'resolv.conf',
  'hosts',
  'nsswitch.conf',
  'host.conf',
  'gai.conf',
  'services',
  'protocols',
  // Certificates, not /etc/ssl/private or /etc/pki/tls/private: keys are for the host alone.
  'ssl/certs',
  'ssl/openssl.cnf',
  'ca-certificates',
  'ca-certificates.conf',
  'pki/tls/certs',
  'pki/tls/openssl.cnf',
  'pki/ca-trust',
  'crypto-policies',
  'localtime',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'mime.types',
];

/**
 * One bubblewrap configuration for every environment of this server: new user, mount, PID, IPC, UTS
 * (and cgroup) namespaces with the network shared, an unprivileged user, no capabilities, read-only
 * system folders, runtimes and bootstraps, and per environment its code at /var/task and a private /tmp.
 */
export class Bubblewrap {
  private readonly base: string[];

  private constructor(
    readonly version: string,
    private readonly command: string,
    /** bwrap ≥ 0.7 can size a tmpfs; older ones get RLIMIT_FSIZE instead (see Isolation). */
    readonly sizesTmpfs: boolean,
    private readonly hostDirs: readonly string[],
    private readonly supportDir: string,
    /** bwrap ≥ 0.8: no user namespaces inside, and the keyring filter (seccomp.ts), when this bwrap can. */
    private readonly hardening: Hardening | undefined,
  ) {
    const args = [
      ...(hardening?.hostUser ? HOST_USER_NAMESPACES : USER_NAMESPACE),
      '--hostname',
      'localhost',
      '--die-with-parent',
      '--new-session',
    ];
    const bound: string[] = [];
    for (const dir of SYSTEM_DIRS) {
      const stat = lstatSync(dir, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
      else if (stat.isDirectory()) {
        args.push('--ro-bind', dir, dir);
        bound.push(dir);
      }
    }
    for (const entry of ETC_ENTRIES) args.push('--ro-bind-try', path.join('/etc', entry), path.join('/etc', entry));
    args.push('--ro-bind', path.join(supportDir, 'passwd'), '/etc/passwd', '--ro-bind', path.join(supportDir, 'group'), '/etc/group');
    // Interpreters installed outside the system folders (nvm, pyenv, /opt/...) are bound read-only where they are.
    for (const dir of hostDirs) {
      const real = realpathSafe(dir);
      if (!real || bound.some((b) => real === b || real.startsWith(`${b}/`))) continue;
      args.push('--ro-bind', real, real);
      bound.push(real);
    }
    args.push(
      '--ro-bind',
      NODE_BOOTSTRAP,
      INSIDE.nodeBootstrap,
      '--ro-bind',
      PYTHON_BOOTSTRAP,
      INSIDE.pythonBootstrap,
      // The AWS SDK, importable as on Lambda: through NODE_PATH, and for ES modules by walking up from /var/task.
      '--ro-bind',
      SDK_NODE_MODULES,
      INSIDE.nodeModules,
      '--symlink',
      INSIDE.nodeModules,
      '/var/node_modules',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      // No pseudo-terminals, as on Lambda: they are counted for the whole machine (kernel.pty.max), so a
      // function opening them all would leave none for the host's own logins. An empty folder over
      // bwrap's devpts leaves /dev/ptmx pointing at nothing.
      '--tmpfs',
      '/dev/pts',
    );
    // The folders bwrap makes above its mount points are root's and closed to others where bwrap is
    // privileged (the sandbox user is of the host): made first, open to everyone, as on any system.
    const folders = new Set([...mountPoints(args), INSIDE.task].flatMap(ancestors).filter((dir) => !bound.includes(dir)));
    this.base = [...[...folders].sort().flatMap((dir) => ['--perms', '0755', '--dir', dir]), ...args];
  }

  /**
   * Checks that bubblewrap runs here by starting a trivial sandbox with the full configuration.
   * Resolves to the sandbox, or to the reason there is none.
   */
  static async probe(opts: { hostDirs: readonly string[]; supportDir: string; command?: string }): Promise<Bubblewrap | string> {
    const command = opts.command ?? 'bwrap';
    if (process.platform !== 'linux') return `bubblewrap needs Linux; this is ${process.platform}`;
    const version = await run(command, ['--version']).catch((err: NodeJS.ErrnoException) => err);
    if (version instanceof Error) {
      return version.code === 'ENOENT'
        ? 'bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)'
        : `bwrap --version failed: ${version.message}`;
    }
    const v = /(\d+)\.(\d+)/.exec(version) ?? ['', '0', '0'];
    const sizes = Number(v[1]) > 0 || Number(v[2]) >= 7;
    writeSupportFiles(opts.supportDir);
    const truePath = ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p)) ?? 'true';
    // As root, the sandbox user must not be root outside: a user of the host, where its ids are free.
    const hostUser = process.getuid?.() === 0 ? hostUserStarter() : undefined;
    // Hardened where this bwrap can be (0.8 and later): checked by starting it, else the sandbox without.
    const recent = Number(v[1]) > 0 || Number(v[2]) >= 8;
    const tries: (Hardening | undefined)[] = [
      ...(hostUser ? [{ filter: sandboxFilter({ namespaces: true }), hostUser }] : []),
      ...(recent ? [{ filter: sandboxFilter({ namespaces: false }) }] : []),
      undefined,
    ];
    let failure = '';
    for (const hardening of tries) {
      const sandbox = new Bubblewrap(version.trim(), command, sizes, opts.hostDirs, opts.supportDir, hardening);
      const started = sandbox.start(opts.supportDir, 1 << 20, truePath, [], {});
      const check = await runStart(started!).catch((err: Error) => err);
      if (!(check instanceof Error)) return sandbox;
      failure ||= check.message;
    }
    return `bwrap cannot create a sandbox here (${firstLine(failure)})`;
  }

  /** Whether sandboxes can make no user namespaces and call none of the keyring's system calls. */
  get hardened(): boolean {
    return this.hardening !== undefined && (this.hardening.hostUser === undefined || this.hardening.filter !== undefined);
  }

  /** Whether runtimes run as sbx_user1051 of the host (the server runs as root), not as the server's user. */
  get hostUser(): boolean {
    return this.hardening?.hostUser !== undefined;
  }

  /** The pipes a sandbox's bwrap reads as it starts, from OPTIONS_FD on: what the process that becomes it must have open. */
  get inputPipes(): 'pipe'[] {
    return this.hostUser ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe'];
  }

  /** The same sandbox with more host folders bound read-only where they are (an interpreter found later). */
  binding(dirs: readonly string[]): Bubblewrap {
    if (dirs.length === 0) return this;
    return new Bubblewrap(this.version, this.command, this.sizesTmpfs, [...this.hostDirs, ...dirs], this.supportDir, this.hardening);
  }

  /**
   * How to start `command` in a new sandbox with `codeDir` at /var/task and exactly `env`: bwrap's command
   * line holds only the runtime's command; its options and the runtime's variables (credentials among
   * them) come through a pipe on OPTIONS_FD (`--args`), so that none of them shows in /proc/<pid>/cmdline,
   * which every user can read, and the seccomp filter through one on FILTER_FD; where the server runs as
   * root, the variables come on ENV_FD instead (HostUser). `inputs` holds what to write to each, in that
   * order (feedSandbox). Undefined when a variable cannot be passed that way: a NUL would end a value
   * early and turn the rest into options.
   */
  start(
    codeDir: string,
    tmpBytes: number,
    command: string,
    args: readonly string[],
    env: Record<string, string>,
  ): SandboxStart | undefined {
    const vars = Object.entries(env);
    if (vars.some(([k, v]) => k.includes('\0') || k.includes('=') || v.includes('\0')) || codeDir.includes('\0')) return undefined;
    const options = this.options(codeDir, tmpBytes);
    const filter = this.hardening?.filter ?? Buffer.alloc(0);
    const host = this.hardening?.hostUser;
    // --clearenv first: bwrap applies these in order, and the starting process's own variables must not reach the runtime.
    if (!host) {
      options.push('--clearenv', ...vars.flatMap(([k, v]) => ['--setenv', k, v]));
      return { argv: [this.command, '--args', String(OPTIONS_FD), '--', command, ...args], inputs: [nulJoined(options), filter] };
    }
    options.push('--clearenv');
    return {
      argv: [
        this.command,
        '--args',
        String(OPTIONS_FD),
        '--',
        host.setpriv,
        ...SETPRIV_OPTIONS,
        host.perl,
        '-e',
        SET_ENV,
        '--',
        command,
        ...args,
      ],
      inputs: [nulJoined(options), filter, nulJoined(vars.map(([k, v]) => `${k}=${v}`))],
    };
  }

  private options(codeDir: string, tmpBytes: number): string[] {
    const hardening = this.hardening
      ? [
          ...(this.hardening.hostUser ? [] : ['--unshare-user', '--disable-userns']),
          ...(this.hardening.filter ? ['--seccomp', String(FILTER_FD)] : []),
        ]
      : [];
    return [
      ...this.base,
      ...hardening,
      '--ro-bind',
      codeDir,
      INSIDE.task,
      ...(this.sizesTmpfs ? ['--size', String(tmpBytes)] : []),
      // Made by root where the sandbox user is of the host: everyone's, as /tmp is.
      ...(this.hardening?.hostUser ? ['--perms', '1777'] : []),
      '--tmpfs',
      '/tmp',
      '--chdir',
      INSIDE.task,
      // Last: the sandbox's own root (where the mount points were made) becomes read-only too, and so
      // does /dev's tmpfs (its device nodes still work; Lambda has no writable /dev, nor /dev/shm), and
      // /proc: the sandbox user is the server's user outside, and when that is root, a writable
      // /proc/sys would let a function set the kernel's settings (core_pattern runs a program as root).
      '--remount-ro',
      '/',
      '--remount-ro',
      '/dev',
      '--remount-ro',
      '/dev/pts',
      '--remount-ro',
      '/proc',
    ];
  }
}

/** The sandbox user's passwd and group entries, so that `whoami`, `os.userInfo()` and `getpass` work. */
function writeSupportFiles(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'passwd'),
    `root:x:0:0:root:/root:/sbin/nologin\n${SANDBOX_USER}:x:${SANDBOX_UID}:${SANDBOX_GID}::/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n`,
  );
  writeFileSync(path.join(dir, 'group'), `root:x:0:\n${SANDBOX_USER}:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`);
}

/**
 * setpriv and perl, when both are here and sbx_user1051's ids are free on this host (no account of its
 * own holds them, whose files and processes the sandbox user would then share); undefined otherwise.
 */
function hostUserStarter(): HostUser | undefined {
  const find = (name: string) => [`/usr/bin/${name}`, `/bin/${name}`].find((p) => existsSync(p));
  const setpriv = find('setpriv');
  const perl = find('perl');
  if (!setpriv || !perl) return undefined;
  const holds = (file: string, id: number) =>
    readFileSafe(file)
      .split('\n')
      .some((line) => line.split(':')[2] === String(id));
  return holds('/etc/passwd', SANDBOX_UID) || holds('/etc/group', SANDBOX_GID) ? undefined : { setpriv, perl };
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Where the bind and symlink options among `args` put something. */
function mountPoints(args: readonly string[]): string[] {
  const points: string[] = [];
  args.forEach((arg, i) => {
    if (arg === '--ro-bind' || arg === '--ro-bind-try' || arg === '--symlink') points.push(args[i + 2]!);
  });
  return points;
}

function nulJoined(words: readonly string[]): Buffer {
  return Buffer.from(words.map((w) => `${w}\0`).join(''));
}

/** `/a/b/c` → `/a`, `/a/b`. */
function ancestors(dir: string): string[] {
  const parts = dir.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

function realpathSafe(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n').pop() ?? text;
}

/** Starts a sandbox as `start` describes it and resolves once it exits 0. */
function runStart(started: SandboxStart): Promise<void> {
  return new Promise((resolve, reject) => {
    const pipes = started.inputs.map(() => 'pipe' as const);
    const child = spawn(started.argv[0]!, started.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', 'ignore', ...pipes] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`bwrap exited with ${signal ?? code}\n${stderr}`.trim()));
    });
    feedSandbox(child, started);
  });
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err as Error, { message: `${err.message}\n${stderr}`.trim() }));
      else resolve(stdout);
    });
  });
}
