/**
 * True while a process with this id exists (EPERM means it exists but is someone else's). Used to tell
 * what a crashed server left behind (staging folders, cgroups) from what a live one still uses.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
