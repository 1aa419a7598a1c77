import { availableParallelism } from 'node:os';
import path from 'node:path';
import { runtimeFamily } from '../domain/runtimes.js';

export interface Launch {
  command: string;
  args: string[];
  /** Extra environment for this runtime family. */
  env: Record<string, string>;
  runtimeDir: string;
}

/** Where the runtime finds its code and bootstraps: host paths, or the fixed ones inside a sandbox. */
export interface RuntimePaths {
  taskRoot: string;
  nodeBootstrap: string;
  pythonBootstrap: string;
}

/** Lambda gives a function one full vCPU at this much memory, and a share in proportion below it. */
const MB_PER_VCPU = 1769;

/**
 * V8's flags for a function of `memoryMb`. The heap is sized from the function's memory as AWS's own
 * Node runtime sizes it: a tenth for the young generation (two semi-spaces), the rest for the old one.
 * V8's worker threads (parallel GC, background compilation) are as many as the vCPUs Lambda gives that
 * memory size, one at least, at most this machine's cores: a 128 MB function has a fraction of a vCPU on
 * AWS, and each idle thread holds its stack and malloc arena (1.5 MiB of a warm environment's RSS for 3).
 */
export function nodeFlags(memoryMb: number, cores = availableParallelism()): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  const threads = Math.min(Math.max(1, Math.ceil(memoryMb / MB_PER_VCPU)), Math.max(1, cores));
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`, `--v8-pool-size=${threads}`];
}

/** How to start the runtime for `runtime`, for a function of `memoryMb`. */
export function launcherFor(runtime: string, paths: RuntimePaths, pythonCommand: string, memoryMb: number): Launch {
  switch (runtimeFamily(runtime)) {
    case 'nodejs':
      return {
        command: process.execPath,
        args: [...nodeFlags(memoryMb), paths.nodeBootstrap],
        env: {},
        runtimeDir: path.dirname(paths.nodeBootstrap),
      };
    case 'python':
      return {
        command: pythonCommand,
        args: ['-S', '-u', paths.pythonBootstrap],
        env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
        runtimeDir: path.dirname(paths.pythonBootstrap),
      };
    case 'provided':
      return { command: path.join(paths.taskRoot, 'bootstrap'), args: [], env: {}, runtimeDir: paths.taskRoot };
    default:
      throw new Error(`no launcher for runtime ${runtime}`);
  }
}
