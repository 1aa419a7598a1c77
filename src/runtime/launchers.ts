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

/**
 * How to start the runtime for `runtime`. `heapLimitMb` caps Node's heap where no cgroup limits the
 * environment's memory.
 */
export function launcherFor(runtime: string, paths: RuntimePaths, pythonCommand: string, heapLimitMb?: number): Launch {
  switch (runtimeFamily(runtime)) {
    case 'nodejs':
      return {
        command: process.execPath,
        args: [...(heapLimitMb ? [`--max-old-space-size=${heapLimitMb}`] : []), paths.nodeBootstrap],
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
