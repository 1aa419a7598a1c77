/**
 * Wrong signatures, counted per guard: a source and the operator's key it signs for (gate.ts). A secret
 * can be guessed online only as fast as the server answers a guess; past MAX_FAILURES wrong ones within
 * a window, that source's requests with that key are refused unchecked until the window ends, so that
 * guessing a secret runs at MAX_FAILURES a minute rather than thousands a second, and a guesser shuts
 * out no other key, and no other source (on this machine, a function's sandbox is a source apart).
 */

/** Wrong signatures a source may send within a window. */
export const MAX_FAILURES = 30;
export const WINDOW_MS = 60_000;
/** Sources remembered at most: a flood from many addresses forgets the oldest first. */
const MAX_SOURCES = 10_000;

interface Record {
  failures: number;
  /** When its window began (real time, epoch ms). */
  since: number;
  /** Whether the source was told it is shut out (logged once a window). */
  noted: boolean;
}

export class FailedSignatures {
  private readonly sources = new Map<string, Record>();

  constructor(private readonly now: () => number) {}

  /** Whether any source has failed lately: when none has, a request costs no lookup. */
  get quiet(): boolean {
    return this.sources.size === 0;
  }

  /** Seconds a source is still shut out for, or undefined when it may try. */
  shutOut(source: string): number | undefined {
    const record = this.sources.get(source);
    if (!record) return undefined;
    const left = record.since + WINDOW_MS - this.now();
    if (left <= 0) {
      this.sources.delete(source);
      return undefined;
    }
    return record.failures >= MAX_FAILURES ? Math.ceil(left / 1000) : undefined;
  }

  /** Counts a wrong signature; true the first time it shuts the source out (to be logged once). */
  failed(source: string): boolean {
    const now = this.now();
    let record = this.sources.get(source);
    if (!record || record.since + WINDOW_MS <= now) {
      // Set anew, so that the map's order stays the order windows began in.
      this.sources.delete(source);
      if (this.sources.size >= MAX_SOURCES) this.forgetOldest(now);
      record = { failures: 0, since: now, noted: false };
      this.sources.set(source, record);
    }
    record.failures++;
    if (record.failures < MAX_FAILURES || record.noted) return false;
    record.noted = true;
    return true;
  }

  private forgetOldest(now: number): void {
    for (const [source, record] of this.sources) {
      if (record.since + WINDOW_MS <= now) this.sources.delete(source);
    }
    // Insertion order is age: past the bound, the oldest go.
    for (const source of this.sources.keys()) {
      if (this.sources.size < MAX_SOURCES) break;
      this.sources.delete(source);
    }
  }
}
