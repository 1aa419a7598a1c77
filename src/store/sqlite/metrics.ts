// CloudWatch metric datapoints and the catalogue of metric series.
import { readDocument } from '../documents.js';
import { seriesPrefixEnd, type MetricPoint, type MetricSeriesDoc } from '../../domain/metric.js';
import type { MetricRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs } from './db.js';

interface PointRow {
  series_id: string;
  node: string;
  namespace: string;
  name: string;
  resolution: number;
  ts: number;
  doc: string;
}

const pointOf = (r: PointRow): MetricPoint => ({
  seriesId: r.series_id,
  node: r.node,
  namespace: r.namespace,
  name: r.name,
  resolution: r.resolution,
  timestamp: r.ts,
  summary: readDocument<MetricPoint['summary']>(r.doc),
});

export class SqliteMetrics implements MetricRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  putPoints(points: MetricPoint[], series: MetricSeriesDoc[]) {
    return this.guard(() => {
      const point = this.db.prepare(
        'INSERT INTO metric_points (series_id, node, namespace, name, resolution, ts, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(series_id, resolution, ts, node) DO UPDATE SET doc = excluded.doc',
      );
      const catalogue = this.db.prepare(
        'INSERT INTO metric_series (series_id, namespace, name, doc, last_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT(series_id) DO UPDATE SET doc = excluded.doc, last_seen = excluded.last_seen WHERE excluded.last_seen > metric_series.last_seen',
      );
      this.db.transaction(() => {
        for (const p of points) point.run(p.seriesId, p.node, p.namespace, p.name, p.resolution, p.timestamp, JSON.stringify(p.summary));
        for (const s of series) catalogue.run(s.seriesId, s.namespace, s.name, JSON.stringify(s), s.lastSeen);
      })();
    });
  }

  points(seriesId: string, from: number, to: number, limit = -1) {
    return this.guard(() =>
      (
        this.db
          .prepare(
            'SELECT series_id, node, namespace, name, resolution, ts, doc FROM metric_points WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts, node, resolution LIMIT ?',
          )
          .all(seriesId, from, to, limit) as PointRow[]
      ).map(pointOf),
    );
  }

  pointsAt(seriesId: string, node: string, resolution: number, timestamps: readonly number[]) {
    return this.guard(() => {
      // One lookup of the primary key (series_id, resolution, ts, node) for each.
      const one = this.db.prepare(
        'SELECT series_id, node, namespace, name, resolution, ts, doc FROM metric_points WHERE series_id = ? AND resolution = ? AND ts = ? AND node = ?',
      );
      const out: MetricPoint[] = [];
      for (const ts of [...new Set(timestamps)].sort((a, b) => a - b)) {
        const row = one.get(seriesId, resolution, ts, node) as PointRow | undefined;
        if (row) out.push(pointOf(row));
      }
      return out;
    });
  }

  series({ prefix, after, limit }: { prefix: string; after: string; limit: number }) {
    // A range of the primary key: ids are compared byte by byte (BINARY), NUL separators included.
    const end = seriesPrefixEnd(prefix);
    return this.guard(() =>
      docs<MetricSeriesDoc>(
        end === undefined
          ? this.db
              .prepare('SELECT doc FROM metric_series WHERE series_id >= ? AND series_id > ? ORDER BY series_id LIMIT ?')
              .all(prefix, after, limit)
          : this.db
              .prepare('SELECT doc FROM metric_series WHERE series_id >= ? AND series_id > ? AND series_id < ? ORDER BY series_id LIMIT ?')
              .all(prefix, after, end, limit),
      ),
    );
  }

  deleteBefore(timestamp: number) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM metric_points WHERE ts < ?').run(timestamp);
      this.db.prepare('DELETE FROM metric_series WHERE last_seen < ?').run(timestamp);
    });
  }
}
