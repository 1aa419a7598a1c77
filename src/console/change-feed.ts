/** Something that changed, named just enough for the console to know what to fetch again. */
export type Change =
  | { kind: 'function'; name: string }
  | { kind: 'api'; id: string }
  | { kind: 'deployment'; id: string; status: string; weight?: number }
  | { kind: 'alarm'; name: string; state: string }
  | { kind: 'stack'; name: string };

export interface FeedPage {
  /** Pass this back as `after` to get what comes next. */
  cursor: number;
  changes: Change[];
  /** True when changes after `after` were already dropped: the reader should reload everything. */
  reset: boolean;
}

/**
 * A numbered, bounded log of recent changes that readers long-poll: a reader asks for what came after
 * its cursor and, when nothing has, waits until something does or its wait runs out. It holds names,
 * never state, so the console always reads the state itself through the public API.
 */
export class ChangeFeed {
  private readonly entries: { seq: number; change: Change }[] = [];
  private seq = 0;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly capacity = 1000) {}

  get cursor(): number {
    return this.seq;
  }

  publish(change: Change): void {
    this.entries.push({ seq: ++this.seq, change });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    this.wakeAll();
  }

  /** The changes after `after`, waiting up to `waitMs` (real time) for the first one. */
  async read(after: number, waitMs: number): Promise<FeedPage> {
    if (!this.closed && after >= this.seq && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        this.waiters.add(done);
      });
    }
    const oldest = this.entries[0]?.seq ?? this.seq + 1;
    const reset = after > this.seq || after + 1 < oldest;
    return { cursor: this.seq, changes: reset ? [] : this.entries.filter((e) => e.seq > after).map((e) => e.change), reset };
  }

  /** Answers every waiting reader now; later reads do not wait. */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
