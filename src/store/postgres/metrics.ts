// CloudWatch metric datapoints and the catalogue of metric series.
import { readDocument } from '../documents.js';
import { seriesPrefixEnd, type MetricPoint, type MetricSeriesDoc } from '../../domain/metric.js';
import type { MetricRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, utf8 } from './db.js';

interface PointRow {
  series_id: Buffer;
  node: string;
  namespace: string;
  name: string;
  resolution: number;
  ts: number;
  doc: string;
}

const pointOf = (r: PointRow): MetricPoint => ({
  seriesId: r.series_id.toString('utf8'),
  node: r.node,
  namespace: r.namespace,
  name: r.name,
  resolution: r.resolution,
  timestamp: r.ts,
  summary: readDocument<MetricPoint['summary']>(r.doc),
});

export class PostgresMetrics implements MetricRepository {
  constructor(private readonly db: Db) {}

  /**
   * READ COMMITTED: each node writes only its own points, and a series' upsert decides on the row's latest
   * version, so nodes flushing the same series at once need not run again.
   */
  putPoints(points: MetricPoint[], series: MetricSeriesDoc[]) {
    return this.db.atomic(async (db) => {
      for (const p of points) {
        await db.run(
          'INSERT INTO metric_points (series_id, node, namespace, name, resolution, ts, doc) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (series_id, resolution, ts, node) DO UPDATE SET doc = excluded.doc',
          [utf8(p.seriesId), p.node, p.namespace, p.name, p.resolution, p.timestamp, JSON.stringify(p.summary)],
        );
      }
      for (const s of series) {
        await db.run(
          'INSERT INTO metric_series (series_id, namespace, name, doc, last_seen) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (series_id) DO UPDATE SET doc = excluded.doc, last_seen = excluded.last_seen WHERE excluded.last_seen > metric_series.last_seen',
          [utf8(s.seriesId), s.namespace, s.name, JSON.stringify(s), s.lastSeen],
        );
      }
    }, 'READ COMMITTED');
  }

  async points(seriesId: string, from: number, to: number, limit?: number) {
    const rows = await this.db.rows<PointRow>(
      'SELECT series_id, node, namespace, name, resolution, ts, doc FROM metric_points WHERE series_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts, node, resolution LIMIT $4',
      [utf8(seriesId), from, to, limit ?? null],
    );
    return rows.map(pointOf);
  }

  async pointsAt(seriesId: string, node: string, resolution: number, timestamps: readonly number[]) {
    // Lookups of the primary key (series_id, resolution, ts, node), one statement for them all.
    const rows = await this.db.rows<PointRow>(
      'SELECT series_id, node, namespace, name, resolution, ts, doc FROM metric_points WHERE series_id = $1 AND resolution = $2 AND ts = ANY($3::bigint[]) AND node = $4 ORDER BY ts',
      [utf8(seriesId), resolution, [...timestamps], node],
    );
    return rows.map(pointOf);
  }

  async series({ prefix, after, limit }: { prefix: string; after: string; limit: number }) {
    // A range of the primary key: BYTEA compares the ids' UTF-8 byte by byte, NUL separators included.
    const end = seriesPrefixEnd(prefix);
    return docs<MetricSeriesDoc>(
      end === undefined
        ? await this.db.rows('SELECT doc FROM metric_series WHERE series_id >= $1 AND series_id > $2 ORDER BY series_id LIMIT $3', [
            utf8(prefix),
            utf8(after),
            limit,
          ])
        : await this.db.rows(
            'SELECT doc FROM metric_series WHERE series_id >= $1 AND series_id > $2 AND series_id < $3 ORDER BY series_id LIMIT $4',
            [utf8(prefix), utf8(after), utf8(end), limit],
          ),
    );
  }

  deleteBefore(timestamp: number) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM metric_points WHERE ts < $1', [timestamp]);
      await db.run('DELETE FROM metric_series WHERE last_seen < $1', [timestamp]);
    });
  }
}
