import { execFile } from 'node:child_process';

export interface PythonInstall {
  /** The interpreter to run. */
  executable: string;
  /** The folders it loads from (prefix and base prefix, which differ in a virtualenv): a sandbox binds them. */
  prefixes: string[];
}

/**
 * The interpreter behind `command`. Asked once at start-up, because `python3` is often a shim (pyenv,
 * asdf) that costs a hundred milliseconds on every cold start.
 */
export function resolvePython(command: string): Promise<PythonInstall> {
  return new Promise((resolve) => {
    execFile(
      command,
      ['-S', '-c', 'import sys; print(sys.executable); print(sys.prefix); print(sys.base_prefix)'],
      { timeout: 10_000 },
      (err, stdout) => {
        const [executable, ...prefixes] = stdout.trim().split('\n');
        resolve(err || !executable ? { executable: command, prefixes: [] } : { executable, prefixes: [...new Set(prefixes)] });
      },
    );
  });
}
