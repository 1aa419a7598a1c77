import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import { processAlive } from './processes.js';

/**
 * Memory and process-count limits for execution environments, and their freezing while idle, with Linux
 * control groups: one cgroup per environment under `versa-<server pid>/` beneath the server's own (so a
 * limit on the server's cgroup still holds around all of them). cgroup v1 (separate `memory`, `pids` and
 * `freezer` hierarchies) and v2 (one unified tree) are both used when the server may create cgroups; when
 * it may not, detect() answers undefined and the caller falls back to process limits. Without a freezer
 * (`canFreeze`), environments are not frozen.
 */
export class Cgroups {
  private constructor(
    readonly version: 1 | 2,
    /** Per controller, the folder that holds this server's environment cgroups. */
    private readonly parents: { memory: string; pids: string | undefined; freezer: string | undefined },
  ) {}

  /** A plain description for health and logs. */
  get description(): string {
    const names = ['memory', ...(this.parents.pids ? ['pids'] : []), ...(this.parents.freezer ? ['freezer'] : [])];
    const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)!} controllers` : `${names[0]!} controller`;
    return `cgroup v${this.version} (${list})`;
  }

  /** Whether an environment's cgroup can be frozen (Cgroup.freeze). */
  get canFreeze(): boolean {
    return this.parents.freezer !== undefined;
  }

  /** Finds a cgroup hierarchy this server may write, or undefined. Never throws. */
  static async detect(logger: Logger, root = '/sys/fs/cgroup'): Promise<Cgroups | undefined> {
    try {
      const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
      const name = `versa-${process.pid}`;
      if (existsSync(path.join(root, 'cgroup.controllers'))) {
        // v2: controllers must be enabled for our children, which the kernel refuses for a cgroup that
        // holds processes (ours does, unless it is the root): that is the usual reason this fails.
        const base = path.join(root, own.get('') ?? '/');
        const parent = path.join(base, name);
        await writeFile(path.join(base, 'cgroup.subtree_control'), '+memory +pids');
        await mkdir(parent, { recursive: true });
        await writeFile(path.join(parent, 'cgroup.subtree_control'), '+memory +pids');
        await sweep(base, logger);
        await capProcesses(parent, logger);
        // cgroup.freeze is in every cgroup but the root from Linux 5.2 on; no controller to enable.
        return new Cgroups(2, {
          memory: parent,
          pids: parent,
          freezer: existsSync(path.join(parent, 'cgroup.freeze')) ? parent : undefined,
        });
      }
      const memory = await v1Parent(root, 'memory', own, name);
      if (!memory) return undefined;
      const pids = await v1Parent(root, 'pids', own, name).catch(() => undefined);
      const freezer = await v1Parent(root, 'freezer', own, name).catch(() => undefined);
      await sweep(path.dirname(memory), logger);
      if (pids) await sweep(path.dirname(pids), logger);
      if (freezer) await sweep(path.dirname(freezer), logger);
      if (pids) await capProcesses(pids, logger);
      return new Cgroups(1, { memory, pids, freezer });
    } catch (err) {
      logger.debug('no writable cgroup: memory is limited with process limits instead', { err });
      return undefined;
    }
  }

  /** Makes one environment's cgroup with its limits; the runtime joins it through `procsFiles` before it starts. */
  async create(id: string, memoryBytes: number, maxProcesses: number): Promise<Cgroup> {
    const mem = path.join(this.parents.memory, id);
    const v1 = (parent: string | undefined) => (this.version === 1 && parent ? path.join(parent, id) : undefined);
    const pids = v1(this.parents.pids);
    const freezer = v1(this.parents.freezer);
    const dirs = [mem, ...(pids ? [pids] : []), ...(freezer ? [freezer] : [])];
    try {
      await mkdir(mem);
      if (freezer) await mkdir(freezer);
      if (this.version === 2) {
        await writeFile(path.join(mem, 'memory.max'), String(memoryBytes));
        // No swap: a function over its memory is stopped, not slowed down.
        await writeFile(path.join(mem, 'memory.swap.max'), '0').catch(() => undefined);
        await writeFile(path.join(mem, 'pids.max'), String(maxProcesses));
      } else {
        await writeFile(path.join(mem, 'memory.limit_in_bytes'), String(memoryBytes));
        // memsw (memory + swap) exists only where swap accounting is on; set it too so swap is no way out.
        await writeFile(path.join(mem, 'memory.memsw.limit_in_bytes'), String(memoryBytes)).catch(() => undefined);
        if (pids) {
          await mkdir(pids);
          await writeFile(path.join(pids, 'pids.max'), String(maxProcesses));
        }
      }
    } catch (err) {
      await Promise.all(dirs.map((d) => rmdir(d).catch(() => undefined)));
      throw err;
    }
    const freezerState = freezer
      ? { file: path.join(freezer, 'freezer.state'), frozen: 'FROZEN', thawed: 'THAWED' }
      : this.version === 2 && this.parents.freezer
        ? { file: path.join(mem, 'cgroup.freeze'), frozen: '1', thawed: '0' }
        : undefined;
    return new Cgroup(this.version, mem, dirs, memoryBytes, freezerState);
  }

  /** Removes this server's folders (every environment's cgroup must be gone already). */
  async close(): Promise<void> {
    const parents = new Set([this.parents.memory, this.parents.pids, this.parents.freezer].filter((p): p is string => p !== undefined));
    await Promise.all([...parents].map((p) => removeTree(p)));
  }
}

/** The file that freezes a cgroup, and what to write to it. */
interface FreezerState {
  file: string;
  frozen: string;
  thawed: string;
}

/** One environment's cgroup(s). */
export class Cgroup {
  private frozen = false;

  constructor(
    private readonly version: 1 | 2,
    private readonly memoryDir: string,
    private readonly dirs: string[],
    private memoryBytes: number,
    private readonly freezer: FreezerState | undefined,
  ) {}

  /**
   * Stops every process of the cgroup where it is (threads, children, timers) until thaw(): none of them
   * runs nor is scheduled. Synchronous, as thaw() is: a write to one file, about 75 µs of the server's CPU
   * for a Node runtime (the kernel freezes each thread in it). Nothing where there is no freezer.
   */
  freeze(): void {
    if (this.freezer && !this.frozen) this.writeFreezer(true);
  }

  /** Lets a frozen cgroup's processes run again. */
  thaw(): void {
    if (this.frozen) this.writeFreezer(false);
  }

  private writeFreezer(frozen: boolean): void {
    try {
      writeFileSync(this.freezer!.file, frozen ? this.freezer!.frozen : this.freezer!.thawed);
      this.frozen = frozen;
    } catch {
      // The cgroup is being removed: its processes are being killed anyway.
    }
  }

  /**
   * Sets the memory limit of a cgroup made before its environment's MemorySize was known (a spare's,
   * spares.ts). On v1 the memory+swap limit may never be below the memory limit, so the order of the two
   * writes depends on the direction.
   */
  async limitMemory(bytes: number): Promise<void> {
    if (bytes === this.memoryBytes) return;
    const file = (name: string) => path.join(this.memoryDir, name);
    if (this.version === 2) await writeFile(file('memory.max'), String(bytes));
    else {
      const memsw = () => writeFile(file('memory.memsw.limit_in_bytes'), String(bytes)).catch(() => undefined);
      if (bytes > this.memoryBytes) await memsw();
      await writeFile(file('memory.limit_in_bytes'), String(bytes));
      if (bytes < this.memoryBytes) await memsw();
    }
    this.memoryBytes = bytes;
  }

  /** The files a process writes its pid to, to join (before it starts anything else). */
  get procsFiles(): string[] {
    return this.dirs.map((d) => path.join(d, 'cgroup.procs'));
  }

  /** The most memory the environment has used, in bytes (the kernel's own high-water mark). */
  peakBytes(): number | undefined {
    return readNumber(path.join(this.memoryDir, this.version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
  }

  /** Memory in use right now, in bytes. */
  usageBytes(): number | undefined {
    return readNumber(path.join(this.memoryDir, this.version === 2 ? 'memory.current' : 'memory.usage_in_bytes'));
  }

  /**
   * SIGKILLs every process still in the cgroup: whatever escaped the process group or session included.
   * A frozen process does not act on its SIGKILL (under cgroup v1) until it is thawed: so it is thawed
   * after the kill, and dies without running another instruction of its own.
   */
  async killAll(): Promise<void> {
    for (const file of this.procsFiles) {
      const text = await readFile(file, 'utf8').catch(() => '');
      for (const pid of text.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    this.thaw();
  }

  /** Removes the cgroup once its processes are gone (killing stragglers), retrying while they exit. */
  async destroy(): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      await this.killAll();
      const left = await Promise.all(
        this.dirs.map((d) =>
          rmdir(d).then(
            () => false,
            (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
          ),
        ),
      );
      if (!left.includes(true)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * All environments together may hold at most half the machine's process ids (each may hold 1,024):
 * fork loops in every environment of a function must leave the host the ids it needs. Best effort.
 */
async function capProcesses(parent: string, logger: Logger): Promise<void> {
  try {
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    if (pidMax > 0) await writeFile(path.join(parent, 'pids.max'), String(Math.max(1024, Math.floor(pidMax / 2))));
  } catch (err) {
    logger.debug('the environments together have no process limit', { err });
  }
}

/** `/proc/self/cgroup` as controller → path ('' for the v2 unified line). */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1]!.split(',')) out.set(controller, m[2]!);
  }
  return out;
}

async function v1Parent(root: string, controller: string, own: Map<string, string>, name: string): Promise<string | undefined> {
  const mount = path.join(root, controller);
  if (!existsSync(path.join(mount, 'cgroup.procs'))) return undefined;
  // In a container the path /proc shows may be relative to a root that is not ours to see: then use the mount's root.
  const mine = path.join(mount, own.get(controller) ?? '/');
  const base = existsSync(mine) ? mine : mount;
  const parent = path.join(base, name);
  await mkdir(parent, { recursive: true });
  return parent;
}

/** Removes `versa-<pid>` folders that servers no longer running left behind. */
async function sweep(base: string, logger: Logger): Promise<void> {
  for (const entry of await readdir(base).catch(() => [])) {
    const m = /^versa-(\d+)$/.exec(entry);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    await thawTree(path.join(base, entry));
    await removeTree(path.join(base, entry)).catch((err: unknown) => logger.debug('could not remove a stale cgroup', { entry, err }));
  }
}

/**
 * Thaws the environments a server that died left frozen, so that their processes can end: bwrap's
 * `--die-with-parent` signal and the closed Runtime API wait, like everything else, for a thaw. (Their
 * folders go at a later start, once they are empty.)
 */
async function thawTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await thawTree(path.join(dir, entry.name));
  }
  await writeFile(path.join(dir, 'freezer.state'), 'THAWED').catch(() => undefined);
  await writeFile(path.join(dir, 'cgroup.freeze'), '0').catch(() => undefined);
}

async function removeTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await removeTree(path.join(dir, entry.name));
  }
  await rmdir(dir).catch(() => undefined);
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
