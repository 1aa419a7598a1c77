import { execFile } from 'node:child_process';

/**
 * The interpreter behind `command`. Asked once at start-up, because `python3` is often a shim (pyenv,
 * asdf) that costs a hundred milliseconds on every cold start.
 */
export function resolvePythonExecutable(command: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(command, ['-S', '-c', 'import sys; print(sys.executable)'], { timeout: 10_000 }, (err, stdout) => {
      const path = stdout.trim();
      resolve(err || !path ? command : path);
    });
  });
}
