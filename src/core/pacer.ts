/**
 * Long synchronous work on the event loop, cut into slices: the worker asks `due()` between pieces and,
 * when it has held the loop for its slice, awaits `pause()`, which lets every request waiting meanwhile
 * run before the work goes on. For work whose size a caller decides (a metric read over high-resolution
 * buckets), so that it takes longer instead of holding everyone else.
 */
export class Pacer {
  private since = performance.now();

  constructor(private readonly sliceMs = 10) {}

  /** Whether the work has held the event loop for its slice since it last paused. */
  due(): boolean {
    return performance.now() - this.since > this.sliceMs;
  }

  /** Lets other work run, then starts a new slice. */
  async pause(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}
