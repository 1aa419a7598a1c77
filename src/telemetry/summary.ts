import type { SummaryJson } from '../domain/metric.js';

/**
 * A mergeable summary of metric values: count, sum, min, max, and a log-bucketed histogram good for
 * percentiles within 1% relative error (the DDSketch idea), whatever the number of values. Values that
 * span a vast range would take a bin each (143,000 across a double's range): past MAX_BINS bins of one
 * sign, the bins nearest zero are folded into one (DDSketch's collapsing of the lowest bins), so that
 * a summary stays small and the percentiles of the largest values keep their accuracy.
 */
const GAMMA = 1.02;
const LOG_GAMMA = Math.log(GAMMA);
/** Bins kept for each sign, and how far past it a histogram may grow before it is folded back. */
export const MAX_BINS = 1024;
const FOLD_AT = MAX_BINS + 128;

export class Summary {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private zeros = 0;
  /** The bins' indexes in the order percentiles walk them, kept until the bins change (a read asks for several). */
  private ordered: { negatives: number[]; positives: number[] } | undefined;

  /** How many histogram bins it holds (what its size grows with). */
  get bins(): number {
    return this.positive.size + this.negative.size;
  }

  add(value: number, count = 1): void {
    // The API refuses what could overflow; this keeps a summary finite whatever reaches it, since a
    // stored Infinity (written as null) would poison its minute and every alarm over it for good.
    if (!Number.isFinite(value) || !(count > 0) || !finite(this.count + count, this.sum + value * count)) return;
    this.ordered = undefined;
    this.count += count;
    this.sum += value * count;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (value === 0) this.zeros += count;
    else {
      const bins = value > 0 ? this.positive : this.negative;
      const index = Math.ceil(Math.log(Math.abs(value)) / LOG_GAMMA);
      bins.set(index, (bins.get(index) ?? 0) + count);
      if (bins.size > FOLD_AT) fold(bins);
    }
  }

  /** Adds pre-aggregated values (PutMetricData's StatisticValues): no histogram, so percentiles use the mean. */
  addStatistics(s: { sampleCount: number; sum: number; minimum: number; maximum: number }): void {
    if (!(s.sampleCount > 0) || !(s.minimum <= s.maximum) || !finite(this.count + s.sampleCount, this.sum + s.sum, s.minimum, s.maximum)) {
      return;
    }
    this.ordered = undefined;
    this.count += s.sampleCount;
    this.sum += s.sum;
    this.min = Math.min(this.min, s.minimum);
    this.max = Math.max(this.max, s.maximum);
    const mean = s.sum / s.sampleCount;
    if (mean === 0) this.zeros += s.sampleCount;
    else {
      const bins = mean > 0 ? this.positive : this.negative;
      const index = Math.ceil(Math.log(Math.abs(mean)) / LOG_GAMMA);
      bins.set(index, (bins.get(index) ?? 0) + s.sampleCount);
      if (bins.size > FOLD_AT) fold(bins);
    }
  }

  merge(other: Summary): void {
    if (other.count === 0 || !finite(this.count + other.count, this.sum + other.sum, other.min, other.max)) return;
    this.ordered = undefined;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.zeros += other.zeros;
    for (const [i, c] of other.positive) this.positive.set(i, (this.positive.get(i) ?? 0) + c);
    for (const [i, c] of other.negative) this.negative.set(i, (this.negative.get(i) ?? 0) + c);
    if (this.positive.size > FOLD_AT) fold(this.positive);
    if (this.negative.size > FOLD_AT) fold(this.negative);
  }

  /** The value at percentile `p` (0–100). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = (Math.min(100, Math.max(0, p)) / 100) * (this.count - 1);
    let seen = 0;
    const within = (v: number) => Math.min(this.max, Math.max(this.min, v));
    const { negatives, positives } = (this.ordered ??= {
      negatives: [...this.negative.keys()].sort((a, b) => b - a),
      positives: [...this.positive.keys()].sort((a, b) => a - b),
    });
    for (const i of negatives) {
      seen += this.negative.get(i)!;
      if (seen > rank) return within(-binValue(i));
    }
    seen += this.zeros;
    if (seen > rank) return within(0);
    for (const i of positives) {
      seen += this.positive.get(i)!;
      if (seen > rank) return within(binValue(i));
    }
    return this.max;
  }

  toJSON(): SummaryJson {
    return {
      n: this.count,
      s: this.sum,
      lo: this.min,
      hi: this.max,
      p: Object.fromEntries(this.positive),
      m: Object.fromEntries(this.negative),
      z: this.zeros,
    };
  }

  static fromJSON(json: SummaryJson): Summary {
    const s = new Summary();
    // One stored before the API bounded counts may have overflowed (its sums read back as null): it is
    // dropped rather than merged into every answer for its minute.
    if (!finite(json.n, json.s, json.lo, json.hi) || !(json.n > 0)) return s;
    s.count = json.n;
    s.sum = json.s;
    s.min = json.lo;
    s.max = json.hi;
    s.zeros = json.z;
    for (const [i, c] of Object.entries(json.p)) s.positive.set(Number(i), c);
    for (const [i, c] of Object.entries(json.m)) s.negative.set(Number(i), c);
    // Stored before histograms were bounded, a summary may hold more.
    if (s.positive.size > FOLD_AT) fold(s.positive);
    if (s.negative.size > FOLD_AT) fold(s.negative);
    return s;
  }
}

function finite(...numbers: unknown[]): boolean {
  return numbers.every((n) => typeof n === 'number' && Number.isFinite(n));
}

/** Folds the bins of smallest magnitude into one, leaving MAX_BINS. */
function fold(bins: Map<number, number>): void {
  const indexes = [...bins.keys()].sort((a, b) => a - b);
  const keep = indexes.length - MAX_BINS;
  const into = indexes[keep]!;
  let folded = 0;
  for (let i = 0; i < keep; i++) {
    folded += bins.get(indexes[i]!)!;
    bins.delete(indexes[i]!);
  }
  bins.set(into, bins.get(into)! + folded);
}

/** The representative value of a bin: the point with equal relative error to both ends. */
function binValue(index: number): number {
  return (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
}
