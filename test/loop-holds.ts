/**
 * How long this process's event loop went without a turn while some work ran: what a server in the
 * test's process makes every other request wait.
 */
export interface LoopHolds<T> {
  result: T;
  /** The longest stretch between two turns, in the CPU time the process used during it: what the work itself held. */
  cpuMs: number;
  /** The same stretch by the wall clock, which a busy machine stretches (other processes run meanwhile). */
  wallMs: number;
}

/**
 * Runs `work` while a timer looks at the clocks every `everyMs`; the longest gap between two looks is
 * the longest hold. Assert on `cpuMs`: on a machine shared with other work the wall clock also counts
 * the time this process waited for a core.
 */
export async function loopHolds<T>(work: () => Promise<T>, everyMs = 5): Promise<LoopHolds<T>> {
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let cpuMs = 0;
  let wallMs = 0;
  let lastWall = performance.now();
  let lastCpu = cpu();
  const look = () => {
    const wall = performance.now();
    const used = cpu();
    wallMs = Math.max(wallMs, wall - lastWall);
    cpuMs = Math.max(cpuMs, used - lastCpu);
    lastWall = wall;
    lastCpu = used;
  };
  const timer = setInterval(look, everyMs);
  try {
    const result = await work();
    // A hold that lasted until the work ended is one too.
    look();
    return { result, cpuMs, wallMs };
  } finally {
    clearInterval(timer);
  }
}
