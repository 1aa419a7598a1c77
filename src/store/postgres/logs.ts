// CloudWatch Logs log groups, log streams and log events.
import type { LogEventQuery, LogEventRecord, LogGroupRecord, LogStreamRecord, NewLogEvent } from '../../domain/log.js';
import type { LogRepository } from '../store.js';
import type { Db } from './db.js';
import { startsWith, utf8 } from './db.js';
import { deleteTags } from './tags.js';

type GroupRow = { name: string; created_at: number; retention_days: number | null; stored_bytes: number };
type StreamRow = {
  group_name: string;
  name: string;
  created_at: number;
  first_event: number | null;
  last_event: number | null;
  last_ingestion: number | null;
  stored_bytes: number;
};
const GROUP_COLUMNS =
  'g.name, g.created_at, g.retention_days, COALESCE((SELECT SUM(s.stored_bytes) FROM log_streams s WHERE s.group_id = g.id), 0)::bigint AS stored_bytes';
const STREAM_COLUMNS = 'g.name AS group_name, s.name, s.created_at, s.first_event, s.last_event, s.last_ingestion, s.stored_bytes';
const groupOf = (r: GroupRow): LogGroupRecord => ({
  name: r.name,
  createdAt: r.created_at,
  retentionInDays: r.retention_days ?? undefined,
  storedBytes: r.stored_bytes,
});
const streamOf = (r: StreamRow): LogStreamRecord => ({
  groupName: r.group_name,
  name: r.name,
  createdAt: r.created_at,
  firstEventAt: r.first_event ?? undefined,
  lastEventAt: r.last_event ?? undefined,
  lastIngestionAt: r.last_ingestion ?? undefined,
  storedBytes: r.stored_bytes,
});

/** Collects a statement's parameters, returning each one's `$n` placeholder. */
function placeholders(): { params: unknown[]; p: (value: unknown) => string } {
  const params: unknown[] = [];
  return { params, p: (value) => `$${params.push(value)}` };
}

export class PostgresLogs implements LogRepository {
  constructor(private readonly db: Db) {}

  async getGroup(name: string) {
    const row = await this.db.row<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM log_groups g WHERE g.name = $1`, [name]);
    return row && groupOf(row);
  }

  async listGroups(filter: { prefix?: string; after?: string; limit?: number } = {}) {
    const { params, p } = placeholders();
    const where: string[] = [];
    if (filter.prefix) where.push(`g.name LIKE ${p(startsWith(filter.prefix))} ESCAPE '\\'`);
    if (filter.after !== undefined) where.push(`g.name > ${p(filter.after)}`);
    // LIMIT NULL is no limit.
    const sql = `SELECT ${GROUP_COLUMNS} FROM log_groups g ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY g.name LIMIT ${p(filter.limit ?? null)}`;
    return (await this.db.rows<GroupRow>(sql, params)).map(groupOf);
  }

  async createGroup(name: string, createdAt: number) {
    return (
      (await this.db.run('INSERT INTO log_groups (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, createdAt])) > 0
    );
  }

  async setRetention(name: string, days: number | undefined) {
    return (await this.db.run('UPDATE log_groups SET retention_days = $1 WHERE name = $2', [days ?? null, name])) > 0;
  }

  deleteGroup(name: string) {
    return this.db.atomic(async (db) => {
      const group = await db.row<{ id: number }>('SELECT id FROM log_groups WHERE name = $1', [name]);
      if (!group) return false;
      await db.run('DELETE FROM log_events WHERE group_id = $1', [group.id]);
      await db.run('DELETE FROM log_streams WHERE group_id = $1', [group.id]);
      await db.run('DELETE FROM log_groups WHERE id = $1', [group.id]);
      await deleteTags(db, { kind: 'log-group', name });
      return true;
    });
  }

  async getStream(groupName: string, name: string) {
    const row = await this.db.row<StreamRow>(
      `SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = $1 AND s.name = $2`,
      [groupName, name],
    );
    return row && streamOf(row);
  }

  async listStreams(groupName: string, prefix?: string) {
    const byPrefix = prefix ? " AND s.name LIKE $2 ESCAPE '\\'" : '';
    const sql = `SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = $1${byPrefix} ORDER BY s.name`;
    return (await this.db.rows<StreamRow>(sql, prefix ? [groupName, startsWith(prefix)] : [groupName])).map(streamOf);
  }

  async createStream(groupName: string, name: string, createdAt: number) {
    const created = await this.db.run(
      'INSERT INTO log_streams (group_id, name, created_at) SELECT id, $1, $2 FROM log_groups WHERE name = $3 ON CONFLICT (group_id, name) DO NOTHING',
      [name, createdAt, groupName],
    );
    return created > 0;
  }

  /**
   * Finds or creates each group and stream, inserts all events in one statement (their `seq` in the
   * order given) and updates each stream's statistics once. Two nodes creating the same group at once
   * conflict on its unique name, and the loser's transaction runs again, finding it. READ COMMITTED, as
   * appends to one stream are frequent and its statistics are updated from the row's latest version
   * (LEAST, GREATEST, +), where a serializable transaction would fail and run again for nothing.
   */
  async append(events: readonly NewLogEvent[]) {
    if (events.length === 0) return;
    await this.db.atomic(async (db) => {
      const groups = new Map<string, number>();
      const streams = new Map<string, { id: number; first: number; last: number; ingested: number; bytes: number }>();
      const rows: { group: number; stream: number; e: NewLogEvent }[] = [];
      for (const e of events) {
        let groupId = groups.get(e.groupName);
        if (groupId === undefined) {
          const found = await db.row<{ id: number }>('SELECT id FROM log_groups WHERE name = $1', [e.groupName]);
          groupId = found
            ? found.id
            : (await db.row<{ id: number }>('INSERT INTO log_groups (name, created_at) VALUES ($1, $2) RETURNING id', [
                e.groupName,
                e.ingestionTime,
              ]))!.id;
          groups.set(e.groupName, groupId);
        }
        const key = `${groupId}\u0000${e.streamName}`;
        let stream = streams.get(key);
        if (!stream) {
          const found = await db.row<{ id: number }>('SELECT id FROM log_streams WHERE group_id = $1 AND name = $2', [
            groupId,
            e.streamName,
          ]);
          const id = found
            ? found.id
            : (await db.row<{ id: number }>('INSERT INTO log_streams (group_id, name, created_at) VALUES ($1, $2, $3) RETURNING id', [
                groupId,
                e.streamName,
                e.ingestionTime,
              ]))!.id;
          streams.set(key, (stream = { id, first: e.timestamp, last: e.timestamp, ingested: e.ingestionTime, bytes: 0 }));
        }
        rows.push({ group: groupId, stream: stream.id, e });
        stream.first = Math.min(stream.first, e.timestamp);
        stream.last = Math.max(stream.last, e.timestamp);
        stream.ingested = Math.max(stream.ingested, e.ingestionTime);
        stream.bytes += Buffer.byteLength(e.message, 'utf8');
      }
      await db.run(
        `INSERT INTO log_events (group_id, stream_id, ts, ingested, message)
         SELECT g, s, t, i, m FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[]) WITH ORDINALITY AS e (g, s, t, i, m, n)
         ORDER BY n`,
        [
          rows.map((r) => r.group),
          rows.map((r) => r.stream),
          rows.map((r) => r.e.timestamp),
          rows.map((r) => r.e.ingestionTime),
          rows.map((r) => utf8(r.e.message)),
        ],
      );
      for (const s of streams.values()) {
        // LEAST and GREATEST pass over NULL, so a stream's first event sets its bounds.
        await db.run(
          `UPDATE log_streams SET first_event = LEAST(first_event, $1), last_event = GREATEST(last_event, $2),
             last_ingestion = GREATEST(last_ingestion, $3), stored_bytes = stored_bytes + $4 WHERE id = $5`,
          [s.first, s.last, s.ingested, s.bytes, s.id],
        );
      }
    }, 'READ COMMITTED');
  }

  async events(q: LogEventQuery) {
    const group = await this.db.row<{ id: number }>('SELECT id FROM log_groups WHERE name = $1', [q.groupName]);
    if (!group || q.limit <= 0 || q.streamNames?.length === 0) return [];
    const { params, p } = placeholders();
    const where = [`e.group_id = ${p(group.id)}`];
    const streamFilter: string[] = [];
    if (q.streamNames) streamFilter.push(`name = ANY(${p(q.streamNames)}::text[])`);
    if (q.streamPrefix) streamFilter.push(`name LIKE ${p(startsWith(q.streamPrefix))} ESCAPE '\\'`);
    if (streamFilter.length) {
      where.push(`e.stream_id IN (SELECT id FROM log_streams WHERE group_id = ${p(group.id)} AND ${streamFilter.join(' AND ')})`);
    }
    if (q.from !== undefined) where.push(`e.ts >= ${p(q.from)}`);
    if (q.to !== undefined) where.push(`e.ts < ${p(q.to)}`);
    if (q.after) where.push(`(e.ts, e.seq) > (${p(q.after.timestamp)}, ${p(q.after.seq)})`);
    if (q.before) where.push(`(e.ts, e.seq) < (${p(q.before.timestamp)}, ${p(q.before.seq)})`);
    const dir = q.descending ? 'DESC' : 'ASC';
    const sql =
      `SELECT e.seq, e.ts, e.ingested, e.message, s.name AS stream FROM log_events e JOIN log_streams s ON s.id = e.stream_id ` +
      `WHERE ${where.join(' AND ')} ORDER BY e.ts ${dir}, e.seq ${dir} LIMIT ${p(q.limit)}`;
    const rows = await this.db.rows<{ seq: number; ts: number; ingested: number; message: Buffer; stream: string }>(sql, params);
    return rows.map((r): LogEventRecord => ({
      seq: r.seq,
      timestamp: r.ts,
      ingestionTime: r.ingested,
      message: r.message.toString('utf8'),
      streamName: r.stream,
    }));
  }

  deleteEventsBefore(groupName: string, before: number) {
    return this.db.atomic(async (db) => {
      const group = await db.row<{ id: number }>('SELECT id FROM log_groups WHERE name = $1', [groupName]);
      if (!group) return 0;
      const changes = await db.run('DELETE FROM log_events WHERE group_id = $1 AND ts < $2', [group.id, before]);
      if (changes > 0) {
        await db.run(
          `UPDATE log_streams SET
             stored_bytes = COALESCE((SELECT SUM(octet_length(e.message)) FROM log_events e WHERE e.stream_id = log_streams.id), 0),
             first_event = COALESCE((SELECT MIN(e.ts) FROM log_events e WHERE e.stream_id = log_streams.id), first_event)
           WHERE group_id = $1`,
          [group.id],
        );
      }
      return changes;
    });
  }
}
