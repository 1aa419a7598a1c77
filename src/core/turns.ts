/**
 * Work that takes turns: at most `atOnce` runs at a time and at most `waiting` more wait; a finished one
 * hands its turn straight to the next in line. For work that is costly enough that a flood of it (each
 * piece fair on its own) would hold the server: template parses, metric and log reads.
 *
 * Work may say whose it is (`run`'s `who`: a function's key, or none for the operator's). One caller
 * holds at most `perCaller` places, running and waiting together; callers that say who they are take
 * at most the line's places but `kept`; and work of no one's goes ahead of theirs in line. So a function
 * reading in a loop, or several, leaves the operator's reads a place, and a short wait: the work running.
 */
export class Turns {
  private running = 0;
  /** Waiting, in order: the operator's, then callers'. */
  private readonly queue: (() => void)[] = [];
  private readonly callersQueue: (() => void)[] = [];
  /** Places (running and waiting) held by each caller. */
  private readonly held = new Map<string, number>();
  private readonly perCaller: number;
  private readonly kept: number;

  constructor(
    private readonly atOnce: number,
    private readonly waiting: number,
    /** What to throw when the line is full. */
    private readonly full: () => Error,
    shares: { perCaller?: number; kept?: number } = {},
  ) {
    this.perCaller = shares.perCaller ?? Math.max(1, Math.floor((atOnce + waiting) / 4));
    this.kept = shares.kept ?? Math.floor(waiting / 4);
  }

  async run<T>(work: () => Promise<T>, who?: string): Promise<T> {
    if (who !== undefined) {
      const mine = this.held.get(who) ?? 0;
      if (mine >= this.perCaller) throw this.full();
      this.held.set(who, mine + 1);
    }
    try {
      if (this.running < this.atOnce) this.running++;
      else if (this.queue.length + this.callersQueue.length >= this.waiting) throw this.full();
      else if (who === undefined) await new Promise<void>((resolve) => this.queue.push(resolve));
      else if (this.callersQueue.length >= this.waiting - this.kept) throw this.full();
      else await new Promise<void>((resolve) => this.callersQueue.push(resolve));
      try {
        return await work();
      } finally {
        const next = this.queue.shift() ?? this.callersQueue.shift();
        if (next) next();
        else this.running--;
      }
    } finally {
      if (who !== undefined) {
        const mine = this.held.get(who)! - 1;
        if (mine > 0) this.held.set(who, mine);
        else this.held.delete(who);
      }
    }
  }
}
