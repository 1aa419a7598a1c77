import { availableParallelism } from 'node:os';
import path from 'node:path';
import { runtimeFamily } from '../domain/runtimes.js';

export interface Launch {
  command: string;
  args: string[];
  /** Extra environment for this runtime family. */
  env: Record<string, string>;
  /**
   * Variables for the runtime process itself, not the function: the bootstrap removes them (those named in
   * RUNTIME_ONLY_VARIABLE) before the function's code loads. A function that sets one itself keeps its own.
   */
  runtimeOnlyEnv: Record<string, string>;
  runtimeDir: string;
}

/** The variable that names, comma-separated, the runtime-only variables its bootstrap removes. */
export const RUNTIME_ONLY_VARIABLE = '_VERSA_RUNTIME_ONLY';

/**
 * glibc's malloc arenas for a Node runtime: every thread that allocates gets one of its own by default
 * (up to 8 per core), which a warm environment holds for nothing; two, as many as the threads that run
 * at once in an environment of a few vCPUs. 0.3-0.5 MiB of a warm environment's RSS, see
 * docs/performance.md. Read by glibc when the process starts, so removing it before the function's code
 * loads changes nothing for the runtime.
 */
const NODE_MALLOC_ARENAS = '2';

/** Where the runtime finds its code and bootstraps: host paths, or the fixed ones inside a sandbox. */
export interface RuntimePaths {
  taskRoot: string;
  nodeBootstrap: string;
  pythonBootstrap: string;
}

/** Lambda gives a function one full vCPU at this much memory, and a share in proportion below it. */
const MB_PER_VCPU = 1769;

/**
 * Node's flags for a function of `memoryMb`. V8 gets as many worker threads (parallel GC, background
 * compilation) as the vCPUs Lambda gives that memory size, one at least, at most this machine's cores: a
 * 128 MB function has a fraction of a vCPU on AWS, and each idle thread holds its stack and malloc arena
 * (1.5 MiB of a warm environment's RSS for the default pool's 3 more).
 *
 * With `sizeHeap`, V8's heap is sized from the function's memory as AWS's own Node runtime sizes it: a
 * tenth for the young generation (two semi-spaces), the rest for the old one. That is for where nothing
 * else limits the environment's memory: any V8 flag costs 15 ms or more of every cold start on Node 20,
 * because V8 hashes every flag that differs from its default into the check of a code cache, so Node
 * compiles each of its built-in modules afresh instead of using the cache shipped in its binary.
 */
export function nodeFlags(memoryMb: number, sizeHeap: boolean, cores = availableParallelism()): string[] {
  const threads = Math.min(Math.max(1, Math.ceil(memoryMb / MB_PER_VCPU)), Math.max(1, cores));
  const pool = `--v8-pool-size=${threads}`;
  if (!sizeHeap) return [pool];
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`, pool];
}

/**
 * Whether the runtime is one of Versa's own (Node, Python), which speak frames on an inherited pipe
 * (frames.ts); `provided.*` runs the function's own bootstrap, which speaks HTTP.
 */
export function speaksFrames(runtime: string): boolean {
  const family = runtimeFamily(runtime);
  return family === 'nodejs' || family === 'python';
}

/**
 * How to start the runtime for `runtime`, for a function of `memoryMb`. `sizeNodeHeap`: nothing but Node's
 * own heap limit holds a Node runtime to its memory (no cgroup).
 */
export function launcherFor(runtime: string, paths: RuntimePaths, pythonCommand: string, memoryMb: number, sizeNodeHeap: boolean): Launch {
  switch (runtimeFamily(runtime)) {
    case 'nodejs':
      return {
        command: process.execPath,
        args: [...nodeFlags(memoryMb, sizeNodeHeap), paths.nodeBootstrap],
        env: {},
        runtimeOnlyEnv: { MALLOC_ARENA_MAX: NODE_MALLOC_ARENAS },
        runtimeDir: path.dirname(paths.nodeBootstrap),
      };
    case 'python':
      return {
        command: pythonCommand,
        args: ['-S', '-u', paths.pythonBootstrap],
        env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
        runtimeOnlyEnv: {},
        runtimeDir: path.dirname(paths.pythonBootstrap),
      };
    case 'provided':
      return { command: path.join(paths.taskRoot, 'bootstrap'), args: [], env: {}, runtimeOnlyEnv: {}, runtimeDir: paths.taskRoot };
    default:
      throw new Error(`no launcher for runtime ${runtime}`);
  }
}
