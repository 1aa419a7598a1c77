/**
 * The platform clock. Everything that reads the time or waits takes a Clock, so that `--time-scale`
 * can speed the platform up and tests can drive it by hand.
 */
export interface Clock {
  /** Platform time in epoch milliseconds. */
  now(): number;
  /** Runs `fn` after `ms` of platform time; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    handle.unref?.();
    return () => clearTimeout(handle);
  },
};

/** A point where platform time and real time were paired; the scaled clock runs from it. */
export interface ClockAnchor {
  real: number;
  platform: number;
}

/**
 * A clock that runs `scale` times faster than real time from an anchor. Without one it starts at the
 * real time now, so scale 1 behaves like the real clock.
 */
export class ScaledClock implements Clock {
  readonly anchor: ClockAnchor;

  constructor(
    readonly scale: number,
    anchor?: ClockAnchor,
  ) {
    if (!(scale > 0)) throw new RangeError(`time scale must be positive, got ${scale}`);
    const now = Date.now();
    this.anchor = anchor ?? { real: now, platform: now };
  }

  now(): number {
    return Math.floor(this.anchor.platform + (Date.now() - this.anchor.real) * this.scale);
  }

  setTimer(ms: number, fn: () => void): () => void {
    return realClock.setTimer(ms / this.scale, fn);
  }
}

/**
 * The anchor for a platform clock that continues across restarts: the stored one when the scale is
 * unchanged (platform time kept running while the server was down, so stored deadlines keep their
 * real-time meaning), else a new one continuing from where the stored clock says it is now.
 */
export function continueClock(
  stored: { anchor: ClockAnchor; scale: number } | undefined,
  scale: number,
  realNow = Date.now(),
): ClockAnchor {
  if (!stored) return { real: realNow, platform: realNow };
  if (stored.scale === scale) return stored.anchor;
  return { real: realNow, platform: Math.floor(stored.anchor.platform + (realNow - stored.anchor.real) * stored.scale) };
}

/** A clock that only moves when a test advances it. */
export class FakeClock implements Clock {
  private current: number;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }
}
