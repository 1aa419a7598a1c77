import type { Clock } from '../core/clock.js';
import type { Leadership } from '../core/leadership.js';
import type { Logger } from '../core/logger.js';
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
/** Series read from the store at a time when listing. */
const LIST_CHUNK = 500;

function chargeOf(series: MetricSeries): number {
  return series.metric.namespace.startsWith(PLATFORM_NAMESPACE) ? 0 : SERIES_OVERHEAD_BYTES + 2 * series.id.length;
}

interface Bucket {
  summary: Summary;
  dirty: boolean;
}

/**
 * One metric series (namespace, name, exact dimension set). Callers on hot paths keep the handle, so
 * recording a value is a map lookup and a few additions — no key building, no I/O.
 */
export class MetricSeries {
  readonly buckets = new Map<number, Bucket>();
  lastSeen = 0;

  constructor(
    readonly id: string,
    readonly metric: MetricId,
    readonly resolution: number,
    readonly unit: string | undefined,
    private readonly metrics: Metrics,
  ) {}

  /** Records `value` (observed `count` times) at platform time `at`. */
  record(value: number, at = this.metrics.now(), count = 1): void {
    this.bucket(at).add(value, count);
  }

  /** The bucket summary for platform time `at`, marked for the next flush. */
  bucket(at: number): Summary {
    const width = this.resolution * 1000;
    const start = at - (at % width);
    let b = this.buckets.get(start);
    if (!b) this.buckets.set(start, (b = { summary: new Summary(), dirty: true }));
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
  private readonly dirty = new Set<MetricSeries>();
  private timer: NodeJS.Timeout | undefined;
  private lastPrune = 0;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: MetricsOptions,
  ) {}

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
    options: { unit?: string; resolution?: number } = {},
  ): MetricSeries {
    const dims = sortDimensions(dimensions);
    const id = seriesIdOf(namespace, name, dims);
    let s = this.all.get(id);
    if (!s) {
      s = new MetricSeries(id, { namespace, name, dimensions: dims }, options.resolution === 1 ? 1 : 60, options.unit, this);
      this.all.set(id, s);
      this.customBytes += chargeOf(s);
    }
    return s;
  }

  /**
   * Whether the custom series these metrics would add (those not held yet) fit in what custom series may
   * take (MAX_CUSTOM_SERIES_BYTES): PutMetricData asks before it records anything.
   */
  admits(namespace: string, metrics: readonly { name: string; dimensions: readonly Dimension[] }[]): boolean {
    if (namespace.startsWith(PLATFORM_NAMESPACE)) return true;
    const added = new Set<string>();
    let bytes = this.customBytes;
    for (const m of metrics) {
      const id = seriesIdOf(namespace, m.name, sortDimensions(m.dimensions));
      if (this.all.has(id) || added.has(id)) continue;
      added.add(id);
      bytes += SERIES_OVERHEAD_BYTES + 2 * id.length;
    }
    return bytes <= MAX_CUSTOM_SERIES_BYTES;
  }

  markDirty(series: MetricSeries): void {
    this.dirty.add(series);
  }

  /**
   * Summaries of a metric per period, keyed by period start (epoch ms, aligned to the period), for
   * buckets with start <= t < end.
   */
  async summaries(metric: MetricId, start: number, end: number, periodSeconds: number): Promise<Map<number, Summary>> {
    const dims = sortDimensions(metric.dimensions);
    const id = seriesIdOf(metric.namespace, metric.name, dims);
    const live = this.all.get(id)?.buckets;
    const period = periodSeconds * 1000;
    const out = new Map<number, Summary>();
    const add = (ts: number, summary: Summary) => {
      const key = ts - (ts % period);
      let agg = out.get(key);
      if (!agg) out.set(key, (agg = new Summary()));
      agg.merge(summary);
    };
    for (const p of await this.store.metrics.points(id, start, end)) {
      if (p.node === this.opts.node && live?.has(p.timestamp)) continue;
      add(p.timestamp, Summary.fromJSON(p.summary));
    }
    if (live) {
      for (const [ts, b] of live) if (ts >= start && ts < end) add(ts, b.summary);
    }
    return out;
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

  private async flushNow(): Promise<void> {
    const now = this.clock.now();
    const points: MetricPoint[] = [];
    const series: MetricSeriesDoc[] = [];
    const taken: [MetricSeries, Bucket][] = [];
    for (const s of this.dirty) {
      for (const [ts, b] of s.buckets) {
        if (!b.dirty) continue;
        b.dirty = false;
        taken.push([s, b]);
        points.push({
          seriesId: s.id,
          node: this.opts.node,
          namespace: s.metric.namespace,
          name: s.metric.name,
          resolution: s.resolution,
          timestamp: ts,
          summary: b.summary.toJSON(),
        });
      }
      series.push({ ...s.metric, seriesId: s.id, unit: s.unit, resolution: s.resolution, lastSeen: s.lastSeen });
    }
    this.dirty.clear();
    if (points.length) {
      try {
        await this.store.metrics.putPoints(points, series);
      } catch (err) {
        // The store is out of reach: the buckets stay dirty, so the next flush writes them (a summary is whole, never a delta).
        for (const [s, b] of taken) {
          b.dirty = true;
          this.dirty.add(s);
        }
        throw err;
      }
    }
    const keepFrom = now - this.opts.memoryWindowMs;
    for (const s of this.all.values()) {
      for (const [ts, b] of s.buckets) if (!b.dirty && ts < keepFrom) s.buckets.delete(ts);
    }
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      const cutoff = now - this.opts.retentionMs;
      if (!this.opts.leadership || this.opts.leadership.leading) await this.store.metrics.deleteBefore(cutoff);
      for (const [id, s] of this.all) {
        for (const ts of s.buckets.keys()) if (ts < cutoff) s.buckets.delete(ts);
        if (s.buckets.size === 0 && s.lastSeen < cutoff) {
          this.all.delete(id);
          this.customBytes -= chargeOf(s);
        }
      }
    }
  }
}
