/**
 * Work that takes turns: at most `atOnce` runs at a time and at most `waiting` more wait, in order; a
 * finished one hands its turn straight to the first in line. For work that is costly enough that a
 * flood of it (each piece fair on its own) would hold the server: template parses, metric reads.
 */
export class Turns {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly atOnce: number,
    private readonly waiting: number,
    /** What to throw when the line is full. */
    private readonly full: () => Error,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.atOnce) this.running++;
    else if (this.queue.length >= this.waiting) throw this.full();
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
