import path from 'node:path';
import { runtimeFamily } from '../domain/runtimes.js';
import { NODE_BOOTSTRAP, PYTHON_BOOTSTRAP } from './paths.js';

export interface Launch {
  command: string;
  args: string[];
  /** Extra environment for this runtime family. */
  env: Record<string, string>;
  runtimeDir: string;
}

/** How to start the runtime for `runtime` with the function's code unpacked in `codeDir`. */
export function launcherFor(runtime: string, codeDir: string, pythonCommand: string): Launch {
  switch (runtimeFamily(runtime)) {
    case 'nodejs':
      return { command: process.execPath, args: [NODE_BOOTSTRAP], env: {}, runtimeDir: path.dirname(NODE_BOOTSTRAP) };
    case 'python':
      return {
        command: pythonCommand,
        args: ['-S', '-u', PYTHON_BOOTSTRAP],
        env: { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
        runtimeDir: path.dirname(PYTHON_BOOTSTRAP),
      };
    case 'provided':
      return { command: path.join(codeDir, 'bootstrap'), args: [], env: {}, runtimeDir: codeDir };
    default:
      throw new Error(`no launcher for runtime ${runtime}`);
  }
}
