/**
 * How long this process's event loop went without a turn while some work ran: what a server in the
 * test's process makes every other request wait.
 */
export interface LoopHolds<T> {
  result: T;
  /**
   * The longest stretch between two turns, as the lesser of its wall-clock time and the CPU time the
   * process used during it. Both bound the event loop's own work from above: the wall clock also counts
   * the time the process waited for a core (on a machine busy with other work), and the process's CPU
   * also counts its other threads (the garbage collector's helpers). Assert on this.
   */
  heldMs: number;
  /** The longest stretch by the wall clock alone, and by the process's CPU alone. */
  wallMs: number;
  cpuMs: number;
}

/** Runs `work` while a timer looks at both clocks every `everyMs`; the longest gap between two looks is the longest hold. */
export async function loopHolds<T>(work: () => Promise<T>, everyMs = 5): Promise<LoopHolds<T>> {
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let heldMs = 0;
  let wallMs = 0;
  let cpuMs = 0;
  let lastWall = performance.now();
  let lastCpu = cpu();
  const look = () => {
    const wall = performance.now() - lastWall;
    const used = cpu() - lastCpu;
    heldMs = Math.max(heldMs, Math.min(wall, used));
    wallMs = Math.max(wallMs, wall);
    cpuMs = Math.max(cpuMs, used);
    lastWall += wall;
    lastCpu += used;
  };
  const timer = setInterval(look, everyMs);
  try {
    const result = await work();
    // A hold that lasted until the work ended is one too.
    look();
    return { result, heldMs, wallMs, cpuMs };
  } finally {
    clearInterval(timer);
  }
}
