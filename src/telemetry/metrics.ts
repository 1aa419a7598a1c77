import { Pacer } from '../core/pacer.js';
import type { Clock } from '../core/clock.js';
import type { Leadership } from '../core/leadership.js';
import type { Logger } from '../core/logger.js';
import { PlatformError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import {
  compareSeriesIds,
  seriesIdOf,
  sortDimensions,
  type Dimension,
  type MetricId,
  type MetricPoint,
  type MetricSeriesDoc,
} from '../domain/metric.js';
import { Summary } from './summary.js';

/** The namespaces Versa's own metrics are in (`AWS/Lambda`, `AWS/ApiGateway`): never refused. */
const PLATFORM_NAMESPACE = 'AWS/';
/**
 * What the series of custom metrics (PutMetricData's) may take of the server's memory, charged as their
 * identity's text (UTF-16) and an estimate of the rest: about 12,000 series of short names, fewer of long
 * ones. Each is held until retention passes; past this a request that adds series is refused.
 */
export const MAX_CUSTOM_SERIES_BYTES = 32 * 1024 * 1024;
const SERIES_OVERHEAD_BYTES = 2_560;
/**
 * Of that, what the series one function's key made may take, and what all functions' together may: the
 * rest is the operator's, so that a function making series in a loop leaves other functions and the
 * operator's deployment alarms their metrics.
 */
export const ONE_FUNCTIONS_SHARE = 0.25;
export const FUNCTIONS_SHARE = 0.9;
/**
 * What the buckets of custom series held in memory may take (charged as an estimate of a bucket and of
 * each histogram bin in it). Past it, flushed buckets are let go, oldest first, before the memory window
 * would: the store has them. Data backfilled into thousands of minutes is written through, not held.
 */
export const MAX_CUSTOM_BUCKET_BYTES = 64 * 1024 * 1024;
const BUCKET_OVERHEAD_BYTES = 600;
const BIN_BYTES = 48;
/** Points written to the store at a time, and stored buckets looked up at a time to be merged (mergeStored). */
const FLUSH_CHUNK = 250;
const FLUSH_BINS = 20_000;
const MERGE_CHUNK = 500;
/** Series read from the store at a time when listing. */
const LIST_CHUNK = 500;
/** Stored buckets read at a time when summarising a metric, about (summaries), and the first slice of time read. */
const SLICE_ROWS = 500;
const SLICE_START_MS = 240_000;
/** Histogram bins a slice of stored buckets holds, about (fewer rows of wide histograms), and the fewest rows a slice asks for. */
const SLICE_BINS = 50_000;
const MIN_SLICE_ROWS = 16;

/** How many histogram bins a stored summary holds. */
const binsOf = (s: MetricPoint['summary']): number => Object.keys(s.p ?? {}).length + Object.keys(s.m ?? {}).length;

/** What `refusal` answers while the store is behind: the caller should slow down and try again (the SDKs do). */
export const BEHIND = 'Rate exceeded';

function isCustom(series: MetricSeries): boolean {
  return !series.metric.namespace.startsWith(PLATFORM_NAMESPACE);
}

function chargeOf(series: MetricSeries): number {
  return isCustom(series) ? SERIES_OVERHEAD_BYTES + 2 * series.id.length : 0;
}

interface Bucket {
  summary: Summary;
  dirty: boolean;
  /**
   * This node may have stored the bucket before it was held here (before the node started, or before it
   * was let go): what is stored is merged in before it is written again, since a stored summary is
   * whole and a write replaces it.
   */
  unmerged: boolean;
  /** What it is charged against MAX_CUSTOM_BUCKET_BYTES (custom series only), as of the last flush. */
  charge: number;
}

/**
 * One metric series (namespace, name, exact dimension set). Callers on hot paths keep the handle, so
 * recording a value is a map lookup and a few additions — no key building, no I/O.
 */
export class MetricSeries {
  readonly buckets = new Map<number, Bucket>();
  lastSeen = 0;
  /** Buckets starting before this may be stored by this node without being held (MetricSeries.bucket). */
  storedBelow: number;
  /** How many of its buckets are unmerged: a flush looks for them only when there are some. */
  unmerged = 0;

  constructor(
    readonly id: string,
    readonly metric: MetricId,
    readonly resolution: number,
    readonly unit: string | undefined,
    private readonly metrics: Metrics,
    /** The function whose key made the series (PutMetricData), charged for it. */
    readonly owner?: string,
  ) {
    this.storedBelow = metrics.startedAt + 1;
  }

  /** Records `value` (observed `count` times) at platform time `at`. */
  record(value: number, at = this.metrics.now(), count = 1): void {
    this.bucket(at).add(value, count);
  }

  /** The bucket summary for platform time `at`, marked for the next flush. */
  bucket(at: number): Summary {
    const width = this.resolution * 1000;
    const start = at - (at % width);
    let b = this.buckets.get(start);
    if (!b) {
      b = { summary: new Summary(), dirty: true, unmerged: start < this.storedBelow, charge: 0 };
      if (b.unmerged) this.unmerged++;
      this.buckets.set(start, b);
      this.metrics.held(this, b);
    }
    b.dirty = true;
    if (at > this.lastSeen) this.lastSeen = at;
    this.metrics.markDirty(this);
    return b.summary;
  }
}

export interface MetricsOptions {
  /** Real milliseconds between flushes of changed buckets to the store. */
  flushIntervalMs: number;
  /** Platform milliseconds after which data is dropped. */
  retentionMs: number;
  /** Platform milliseconds of buckets kept in memory after they were flushed. */
  memoryWindowMs: number;
  /** This node's id: its buckets are stored under it, beside other nodes' summaries of the same buckets. */
  node: string;
  /** When several nodes share the store, only the leader drops expired buckets from it. */
  leadership?: Leadership;
  /** What custom series' buckets in memory may take (MAX_CUSTOM_BUCKET_BYTES unless set). */
  maxBucketBytes?: number;
}

/**
 * The metric recorder and reader. Values aggregate in memory per bucket (60 s, or 1 s for
 * high-resolution metrics) on the platform clock, and changed buckets are flushed to the store in
 * batches. Reads merge every node's stored summaries with memory, this node's memory winning over what it
 * stored of a bucket it still holds.
 */
export class Metrics {
  private readonly all = new Map<string, MetricSeries>();
  /** What the custom series in `all` are charged against MAX_CUSTOM_SERIES_BYTES. */
  private customBytes = 0;
  /** Of those, the series each function's key made, and all of them. */
  private readonly ownedBytes = new Map<string, number>();
  private functionsBytes = 0;
  /** What the custom series' buckets in memory are charged against MAX_CUSTOM_BUCKET_BYTES. */
  private bucketBytes = 0;
  /** Platform time this recorder started: buckets reaching back before it may be stored already. */
  readonly startedAt: number;
  private readonly maxBucketBytes: number;
  private readonly dirty = new Set<MetricSeries>();
  /**
   * Series the store refused a point of (writePoints): their later points are dropped unwritten, not
   * tried again one at a time at every flush. Bounded: a series past it only costs that again.
   */
  private readonly refusedSeries = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: MetricsOptions,
  ) {
    this.startedAt = clock.now();
    this.maxBucketBytes = opts.maxBucketBytes ?? MAX_CUSTOM_BUCKET_BYTES;
  }

  /** What the buckets of custom series held in memory are charged (MAX_CUSTOM_BUCKET_BYTES). */
  get heldBucketBytes(): number {
    return this.bucketBytes;
  }

  now(): number {
    return this.clock.now();
  }

  /** Starts the periodic flush; `close()` stops it and flushes what is left. */
  start(): void {
    this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** The series for a metric, created on first use. */
  series(
    namespace: string,
    name: string,
    dimensions: Record<string, string> | readonly Dimension[],
    options: { unit?: string; resolution?: number; owner?: string } = {},
  ): MetricSeries {
    const dims = sortDimensions(dimensions);
    const id = seriesIdOf(namespace, name, dims);
    let s = this.all.get(id);
    if (!s) {
      const resolution = options.resolution === 1 ? 1 : 60;
      s = new MetricSeries(id, { namespace, name, dimensions: dims }, resolution, options.unit, this, options.owner);
      this.all.set(id, s);
      this.charge(s, 1);
    }
    return s;
  }

  /**
   * Why the custom series these metrics would add (those not held yet) do not fit, or undefined when they
   * do: within what custom series may take (MAX_CUSTOM_SERIES_BYTES), made by `byFunction`'s key within
   * its share and all functions' (ONE_FUNCTIONS_SHARE, FUNCTIONS_SHARE), and their buckets within what
   * those may take (MAX_CUSTOM_BUCKET_BYTES: over it only while the store has yet to take what is held,
   * when nothing can be let go; then the answer is BEHIND). PutMetricData asks before it records anything.
   */
  refusal(
    namespace: string,
    metrics: readonly { name: string; dimensions: readonly Dimension[] }[],
    byFunction?: string,
  ): string | undefined {
    if (namespace.startsWith(PLATFORM_NAMESPACE)) return undefined;
    const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;
    // Functions' data is held back first: the operator's still comes in up to a quarter more.
    if (this.bucketBytes > this.maxBucketBytes * (byFunction === undefined ? 1.25 : 1)) return BEHIND;
    const added = new Set<string>();
    let bytes = 0;
    for (const m of metrics) {
      const id = seriesIdOf(namespace, m.name, sortDimensions(m.dimensions));
      if (this.all.has(id) || added.has(id)) continue;
      added.add(id);
      bytes += SERIES_OVERHEAD_BYTES + 2 * id.length;
    }
    if (bytes === 0) return undefined;
    const kept = `Versa keeps at most ${mib(MAX_CUSTOM_SERIES_BYTES)} of custom metric series (about 12,000 of short names), each until its retention passes`;
    const tail = 'this request would add series past it. Data for series already kept is accepted.';
    if (byFunction === undefined) return this.customBytes + bytes <= MAX_CUSTOM_SERIES_BYTES ? undefined : `${kept}: ${tail}`;
    const shareOfAll = MAX_CUSTOM_SERIES_BYTES * FUNCTIONS_SHARE;
    if (this.customBytes + bytes > shareOfAll || this.functionsBytes + bytes > shareOfAll) {
      return `${kept}, the last tenth for operators' keys: ${tail}`;
    }
    if ((this.ownedBytes.get(byFunction) ?? 0) + bytes > MAX_CUSTOM_SERIES_BYTES * ONE_FUNCTIONS_SHARE) {
      return `${kept}, a quarter of it at most for the series one function's key makes: ${tail}`;
    }
    return undefined;
  }

  /** Adds (`sign` 1) or takes away (-1) what a series is charged, to all custom series and its owner's. */
  private charge(series: MetricSeries, sign: 1 | -1): void {
    const bytes = sign * chargeOf(series);
    this.customBytes += bytes;
    if (series.owner === undefined) return;
    this.functionsBytes += bytes;
    const owned = (this.ownedBytes.get(series.owner) ?? 0) + bytes;
    if (owned > 0) this.ownedBytes.set(series.owner, owned);
    else this.ownedBytes.delete(series.owner);
  }

  /** Told of each bucket a series starts holding: a custom series' is charged against MAX_CUSTOM_BUCKET_BYTES. */
  held(series: MetricSeries, bucket: Bucket): void {
    if (!isCustom(series)) return;
    bucket.charge = BUCKET_OVERHEAD_BYTES;
    this.bucketBytes += BUCKET_OVERHEAD_BYTES;
  }

  /** Stops holding a bucket (flushed, or past retention): later data for it is merged with what is stored. */
  private letGo(series: MetricSeries, start: number, bucket: Bucket): void {
    series.buckets.delete(start);
    if (bucket.unmerged) series.unmerged--;
    this.bucketBytes -= bucket.charge;
    if (start >= series.storedBelow) series.storedBelow = start + 1;
  }

  markDirty(series: MetricSeries): void {
    this.dirty.add(series);
  }

  /**
   * Summaries of a metric per period, keyed by period start (epoch ms, aligned to the period), for
   * buckets with start <= t < end. Holds them all: for reads of a few periods (alarms); a read of many
   * goes through eachPeriod.
   */
  async summaries(metric: MetricId, start: number, end: number, periodSeconds: number): Promise<Map<number, Summary>> {
    const out = new Map<number, Summary>();
    await this.eachPeriod(metric, start, end, periodSeconds, (at, summary) => void out.set(at, summary));
    return out;
  }

  /**
   * The summary of each period of a metric that has data, for buckets with start <= t < end, given to
   * `each` in time order (period start, epoch ms, aligned to the period) as soon as the read has passed
   * it: what a read holds is the period it is in and one slice of stored buckets (SLICE_BINS), not every
   * period's histogram. (A day of one-second periods of wide histograms held them all until the answer
   * was computed: hundreds of megabytes for one percentile query.)
   */
  async eachPeriod(
    metric: MetricId,
    start: number,
    end: number,
    periodSeconds: number,
    each: (at: number, summary: Summary) => void,
  ): Promise<void> {
    const dims = sortDimensions(metric.dimensions);
    const id = seriesIdOf(metric.namespace, metric.name, dims);
    const live = this.all.get(id)?.buckets;
    const period = periodSeconds * 1000;
    const periodOf = (ts: number) => ts - (ts % period);
    // The starts of the buckets this node holds, by period: merged into their period as it is given (if
    // still held then), after what is stored of it.
    const held = new Map<number, number[]>();
    for (const ts of live?.keys() ?? []) {
      if (ts < start || ts >= end) continue;
      const key = periodOf(ts);
      const starts = held.get(key);
      if (starts) starts.push(ts);
      else held.set(key, [ts]);
    }
    const heldPeriods = [...held.keys()].sort((a, b) => a - b);
    let nextHeld = 0;
    /** The period the stored buckets read so far end in, merged (its first bucket's copy becomes it). */
    let current: { at: number; summary: Summary } | undefined;
    const pacer = new Pacer();
    /** Gives every period before `limit` not given yet, in order, with what this node holds of it. */
    const giveBefore = async (limit: number) => {
      for (;;) {
        const heldAt = heldPeriods[nextHeld];
        let at: number;
        if (current && current.at < limit && (heldAt === undefined || current.at <= heldAt)) at = current.at;
        else if (heldAt !== undefined && heldAt < limit) at = heldAt;
        else return;
        if (heldAt === at) nextHeld++;
        let summary: Summary | undefined;
        if (current?.at === at) {
          summary = current.summary;
          current = undefined;
        }
        for (const ts of held.get(at) ?? []) {
          const b = live?.get(ts);
          if (b) (summary ??= new Summary()).merge(b.summary);
        }
        if (summary) each(at, summary);
        if (pacer.due()) await pacer.pause();
      }
    };
    // The store is read a slice of time at a time, the slice sized toward `rows` rows, and other work
    // runs whenever merging has held the event loop for a slice (Pacer): three hours of a high-resolution series are
    // 10,800 buckets a node, each with up to 2,048 histogram bins, which read and merged at once held the
    // event loop for seconds (and a PostgreSQL node's memory past a gigabyte). `rows` shrinks so that a
    // slice holds about SLICE_BINS bins: 500 buckets of 2,048 bins were 15 MB of JSON parsed at once.
    let width = SLICE_START_MS;
    let rows = SLICE_ROWS;
    for (let from = start; from < end;) {
      let to = Math.min(end, from + width);
      let points = await this.store.metrics.points(id, from, to, rows + 1);
      if (points.length > rows) {
        // More than a slice's rows: the slice ends before the last timestamp read, so that no bucket's
        // rows (one a node) are split between two slices; that timestamp is read whole alone if it had them all.
        to = points.at(-1)!.timestamp;
        points = to > from ? points.filter((p) => p.timestamp < to) : await this.store.metrics.points(id, from, (to = from + 1));
        width = Math.max(1, to - from);
      } else if (points.length < rows / 2) {
        width *= 4;
      }
      let bins = 0;
      for (const p of points) {
        bins += binsOf(p.summary);
        // What this node holds of a bucket is newer than what it stored, unless it has yet to merge the two.
        if (p.node === this.opts.node && live?.get(p.timestamp)?.unmerged === false) continue;
        const at = periodOf(p.timestamp);
        if (current && current.at !== at) await giveBefore(at);
        if (current) current.summary.merge(Summary.fromJSON(p.summary));
        else {
          await giveBefore(at);
          current = { at, summary: Summary.fromJSON(p.summary) };
        }
        if (pacer.due()) await pacer.pause();
      }
      if (points.length > 0)
        rows = Math.min(SLICE_ROWS, Math.max(MIN_SLICE_ROWS, Math.floor((SLICE_BINS * points.length) / Math.max(1, bins))));
      from = to;
      if (pacer.due()) await pacer.pause();
    }
    await giveBefore(Infinity);
  }

  /**
   * One page of the series seen within retention (the store's catalogue and those not flushed yet) whose
   * id starts with `prefix`, after the id `after`, that `wanted` keeps: at most `limit`, in id order
   * (compareSeriesIds). `more` says whether a next page has any. The catalogue is read a chunk at a time,
   * with the event loop free between chunks, so a filter that keeps few of many series holds nothing up
   * (ListMetrics read and sorted every series for every page: 150–230 ms of the loop at 12,000).
   */
  async page(query: {
    prefix: string;
    after: string;
    limit: number;
    wanted: (s: MetricSeriesDoc) => boolean;
  }): Promise<{ items: MetricSeriesDoc[]; more: boolean }> {
    const { prefix, limit, wanted } = query;
    const items: MetricSeriesDoc[] = [];
    let after = query.after;
    for (;;) {
      const stored = await this.store.metrics.series({ prefix, after, limit: LIST_CHUNK });
      const exhausted = stored.length < LIST_CHUNK;
      const upTo = exhausted ? undefined : stored[stored.length - 1]!.seriesId;
      // This node's series changed since its last flush, in the same stretch of ids (the rest are stored as they are).
      const byId = new Map<string, MetricSeriesDoc>();
      for (const s of stored) byId.set(s.seriesId, s);
      for (const s of this.dirty) {
        if (s.lastSeen === 0 || !s.id.startsWith(prefix) || compareSeriesIds(s.id, after) <= 0) continue;
        if (upTo !== undefined && compareSeriesIds(s.id, upTo) > 0) continue;
        const known = byId.get(s.id);
        byId.set(s.id, {
          ...s.metric,
          seriesId: s.id,
          unit: s.unit,
          resolution: s.resolution,
          lastSeen: Math.max(s.lastSeen, known?.lastSeen ?? 0),
        });
      }
      const chunk = [...byId.values()].sort((a, b) => compareSeriesIds(a.seriesId, b.seriesId));
      for (const s of chunk) {
        if (!wanted(s)) continue;
        if (items.length === limit) return { items, more: true };
        items.push(s);
      }
      if (exhausted) return { items, more: false };
      after = upTo!;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A series seen within retention, by its metric, if there is one (this node's first, else the store's). */
  async describe(metric: MetricId): Promise<MetricSeriesDoc | undefined> {
    const id = seriesIdOf(metric.namespace, metric.name, sortDimensions(metric.dimensions));
    const live = this.all.get(id);
    if (live && live.lastSeen !== 0)
      return { ...live.metric, seriesId: id, unit: live.unit, resolution: live.resolution, lastSeen: live.lastSeen };
    const [stored] = await this.store.metrics.series({ prefix: id, after: '', limit: 1 });
    return stored?.seriesId === id ? stored : undefined;
  }

  /** Writes changed buckets to the store, forgets old flushed ones, and applies retention. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow()).catch((err: unknown) => this.logger.error('metric flush failed', { err }));
    return this.flushing;
  }

  /**
   * Writes points and series. Should the store refuse something in them as a value it cannot hold (no
   * API lets such a name in; this is the guard behind it), the rest is written one at a time and what
   * is refused is dropped and logged: retried whole, one bad point kept every point of this node out
   * of the store, and so out of every node's alarms, for good.
   */
  private async writePoints(points: MetricPoint[], series: MetricSeriesDoc[]): Promise<void> {
    try {
      await this.store.metrics.putPoints(points, series);
      return;
    } catch (err) {
      if (!refused(err)) throw err;
    }
    let dropped = 0;
    let reason: unknown;
    const one = async (p: MetricPoint[], s: MetricSeriesDoc[], seriesId: string) => {
      try {
        await this.store.metrics.putPoints(p, s);
      } catch (err) {
        if (!refused(err)) throw err;
        dropped++;
        reason = err;
        if (this.refusedSeries.size < MAX_REFUSED_SERIES) this.refusedSeries.add(seriesId);
      }
    };
    for (const p of points) await one([p], [], p.seriesId);
    for (const s of series) await one([], [s], s.seriesId);
    if (dropped > 0) this.logger.error('dropped metric data the store cannot hold', { dropped, err: reason });
  }

  private async flushNow(): Promise<void> {
    await this.mergeStored();
    const now = this.clock.now();
    const series: MetricSeriesDoc[] = [];
    const taken: [MetricSeries, number, Bucket][] = [];
    const waiting: MetricSeries[] = [];
    for (const s of this.dirty) {
      for (const [ts, b] of s.buckets) {
        if (!b.dirty) continue;
        // One begun while the stored ones were being read waits for the next flush to be merged.
        if (b.unmerged) {
          if (waiting.at(-1) !== s) waiting.push(s);
          continue;
        }
        b.dirty = false;
        if (this.refusedSeries.has(s.id)) continue;
        if (b.charge !== 0) {
          const charge = BUCKET_OVERHEAD_BYTES + BIN_BYTES * b.summary.bins;
          this.bucketBytes += charge - b.charge;
          b.charge = charge;
        }
        taken.push([s, ts, b]);
      }
      if (!this.refusedSeries.has(s.id))
        series.push({ ...s.metric, seriesId: s.id, unit: s.unit, resolution: s.resolution, lastSeen: s.lastSeen });
    }
    this.dirty.clear();
    for (const s of waiting) this.dirty.add(s);
    // In writes of at most FLUSH_CHUNK points and FLUSH_BINS histogram bins, the event loop free between
    // them: a second of backfill can dirty a hundred thousand buckets, and writing them at once held it for
    // seconds. On SQLite a write holds the event loop: 500 backfilled points scattered over days took
    // 100-280 ms of it, 250 in time order a quarter of that; 250 buckets of 2,000 bins are 7 MB of JSON.
    for (let at = 0; at < taken.length;) {
      if (at > 0) await new Promise((resolve) => setImmediate(resolve));
      let bins = 0;
      let end = at;
      for (; end < taken.length && end - at < FLUSH_CHUNK && (end === at || bins < FLUSH_BINS); end++) bins += taken[end]![2].summary.bins;
      // In time order within a series: the store's index takes them in fewer pages (backfill comes in any order).
      const chunk = taken.slice(at, end).sort((x, y) => (x[0] === y[0] ? x[1] - y[1] : compareSeriesIds(x[0].id, y[0].id)));
      const points: MetricPoint[] = chunk.map(([s, ts, b]) => ({
        seriesId: s.id,
        node: this.opts.node,
        namespace: s.metric.namespace,
        name: s.metric.name,
        resolution: s.resolution,
        timestamp: ts,
        summary: b.summary.toJSON(),
      }));
      try {
        await this.writePoints(points, end >= taken.length ? series : []);
        at = end;
      } catch (err) {
        // The store is out of reach: the buckets not written stay dirty, so the next flush writes them (a
        // summary is whole, never a delta).
        for (const [s, , b] of taken.slice(at)) {
          b.dirty = true;
          this.dirty.add(s);
        }
        throw err;
      }
    }
    const keepFrom = now - this.opts.memoryWindowMs;
    for (const s of this.all.values()) {
      for (const [ts, b] of s.buckets) if (!b.dirty && ts < keepFrom) this.letGo(s, ts, b);
    }
    if (this.bucketBytes > this.maxBucketBytes) this.letGoOldest();
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      const cutoff = now - this.opts.retentionMs;
      if (!this.opts.leadership || this.opts.leadership.leading) await this.store.metrics.deleteBefore(cutoff);
      for (const [id, s] of this.all) {
        for (const [ts, b] of s.buckets) if (ts < cutoff) this.letGo(s, ts, b);
        if (s.buckets.size === 0 && s.lastSeen < cutoff) {
          this.all.delete(id);
          this.charge(s, -1);
        }
      }
    }
  }

  /** Lets flushed buckets of custom series go, oldest first, until the rest take three quarters of what they may. */
  private letGoOldest(): void {
    const flushed: [MetricSeries, number, Bucket][] = [];
    for (const s of this.all.values()) {
      if (!isCustom(s)) continue;
      for (const [ts, b] of s.buckets) if (!b.dirty) flushed.push([s, ts, b]);
    }
    flushed.sort((a, b) => a[1] - b[1]);
    for (const [s, ts, b] of flushed) {
      if (this.bucketBytes <= this.maxBucketBytes * 0.75) break;
      this.letGo(s, ts, b);
    }
  }

  /**
   * Merges into each dirty bucket that may be stored already (Bucket.unmerged) what this node stored of
   * it: a lookup of those buckets, MERGE_CHUNK at a time with the event loop free between. (Reading the
   * stretch they spanned read every bucket stored between them: data backfilled across days read the whole
   * series at every flush, and held the event loop for seconds.)
   */
  private async mergeStored(): Promise<void> {
    const pacer = new Pacer();
    for (const s of this.dirty) {
      if (s.unmerged === 0) continue;
      const merging = new Map<number, Bucket>();
      for (const [ts, b] of s.buckets) if (b.unmerged) merging.set(ts, b);
      const starts = [...merging.keys()];
      for (let at = 0; at < starts.length; at += MERGE_CHUNK) {
        if (pacer.due()) await pacer.pause();
        const stored = await this.store.metrics.pointsAt(s.id, this.opts.node, s.resolution, starts.slice(at, at + MERGE_CHUNK));
        for (const p of stored) merging.get(p.timestamp)?.summary.merge(Summary.fromJSON(p.summary));
      }
      for (const b of merging.values()) b.unmerged = false;
      s.unmerged -= merging.size;
    }
  }
}

/** Series whose refusal by the store is remembered (Metrics.refusedSeries). */
const MAX_REFUSED_SERIES = 1024;

/** The store's refusal of a value it cannot hold (never a passing failure: those are retried). */
const refused = (err: unknown): boolean => err instanceof PlatformError && err.code === 'ValidationException';
