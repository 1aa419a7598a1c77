// CloudWatch Logs log groups, log streams and log events.
import type { LogEventQuery, LogEventRecord, LogGroupRecord, LogStreamRecord, NewLogEvent } from '../../domain/log.js';
import type { LogRepository } from '../store.js';
import type { Statement } from 'better-sqlite3';
import type { Db, Guard } from './db.js';
import type { LogWriter } from './log-writer.js';
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
  'g.name, g.created_at, g.retention_days, COALESCE((SELECT SUM(s.stored_bytes) FROM log_streams s WHERE s.group_id = g.id), 0) AS stored_bytes';
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

export class SqliteLogs implements LogRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
    /** Where batches of events are written off the event loop; in this thread when absent. */
    private readonly writer?: LogWriter,
  ) {}

  getGroup(name: string) {
    return this.guard(() => {
      const row = this.db.prepare(`SELECT ${GROUP_COLUMNS} FROM log_groups g WHERE g.name = ?`).get(name) as GroupRow | undefined;
      return row && groupOf(row);
    });
  }

  listGroups(filter: { prefix?: string; after?: string; limit?: number } = {}) {
    return this.guard(() => {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.prefix) {
        where.push('substr(g.name, 1, length(?)) = ?');
        params.push(filter.prefix, filter.prefix);
      }
      if (filter.after !== undefined) {
        where.push('g.name > ?');
        params.push(filter.after);
      }
      const sql = `SELECT ${GROUP_COLUMNS} FROM log_groups g ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY g.name LIMIT ?`;
      return (this.db.prepare(sql).all(...params, filter.limit ?? -1) as GroupRow[]).map(groupOf);
    });
  }

  createGroup(name: string, createdAt: number) {
    return this.guard(() => {
      const insert = this.db.prepare('INSERT INTO log_groups (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING');
      return insert.run(name, createdAt).changes > 0;
    });
  }

  setRetention(name: string, days: number | undefined) {
    return this.guard(() => this.db.prepare('UPDATE log_groups SET retention_days = ? WHERE name = ?').run(days ?? null, name).changes > 0);
  }

  deleteGroup(name: string) {
    return this.guard(() =>
      this.db.transaction(() => {
        const group = this.db.prepare('SELECT id FROM log_groups WHERE name = ?').get(name) as { id: number } | undefined;
        if (!group) return false;
        this.db.prepare('DELETE FROM log_events WHERE group_id = ?').run(group.id);
        this.db.prepare('DELETE FROM log_streams WHERE group_id = ?').run(group.id);
        this.db.prepare('DELETE FROM log_groups WHERE id = ?').run(group.id);
        deleteTags(this.db, { kind: 'log-group', name });
        return true;
      })(),
    );
  }

  getStream(groupName: string, name: string) {
    return this.guard(() => {
      const row = this.db
        .prepare(`SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ? AND s.name = ?`)
        .get(groupName, name) as StreamRow | undefined;
      return row && streamOf(row);
    });
  }

  listStreams(groupName: string, prefix?: string) {
    return this.guard(() => {
      const byPrefix = prefix ? ' AND substr(s.name, 1, length(?)) = ?' : '';
      const sql = `SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ?${byPrefix} ORDER BY s.name`;
      return (this.db.prepare(sql).all(groupName, ...(prefix ? [prefix, prefix] : [])) as StreamRow[]).map(streamOf);
    });
  }

  createStream(groupName: string, name: string, createdAt: number) {
    return this.guard(
      () =>
        this.db
          .prepare(
            'INSERT INTO log_streams (group_id, name, created_at) SELECT id, ?, ? FROM log_groups WHERE name = ? ON CONFLICT(group_id, name) DO NOTHING',
          )
          .run(name, createdAt, groupName).changes > 0,
    );
  }

  append(events: readonly NewLogEvent[]) {
    if (events.length === 0) return Promise.resolve();
    // The lock is held until the batch is written, on whichever thread writes it, so the store keeps one
    // writer at a time and a read queued after the append sees it.
    return this.guard(() => (this.writer ? this.writer.append(events) : appendEvents(this.db, events)));
  }

  events(q: LogEventQuery) {
    return this.guard(() => {
      const group = this.db.prepare('SELECT id FROM log_groups WHERE name = ?').get(q.groupName) as { id: number } | undefined;
      if (!group || q.limit <= 0 || q.streamNames?.length === 0) return [];
      const where = ['e.group_id = ?'];
      const params: unknown[] = [group.id];
      const streamFilter: string[] = [];
      if (q.streamNames) {
        streamFilter.push(`name IN (${q.streamNames.map(() => '?').join(', ')})`);
        params.push(group.id, ...q.streamNames);
      }
      if (q.streamPrefix) {
        streamFilter.push('substr(name, 1, length(?)) = ?');
        if (!q.streamNames) params.push(group.id);
        params.push(q.streamPrefix, q.streamPrefix);
      }
      if (streamFilter.length) {
        where.push(`e.stream_id IN (SELECT id FROM log_streams WHERE group_id = ? AND ${streamFilter.join(' AND ')})`);
      }
      if (q.from !== undefined) {
        where.push('e.ts >= ?');
        params.push(q.from);
      }
      if (q.to !== undefined) {
        where.push('e.ts < ?');
        params.push(q.to);
      }
      if (q.after) {
        where.push('(e.ts, e.seq) > (?, ?)');
        params.push(q.after.timestamp, q.after.seq);
      }
      if (q.before) {
        where.push('(e.ts, e.seq) < (?, ?)');
        params.push(q.before.timestamp, q.before.seq);
      }
      const dir = q.descending ? 'DESC' : 'ASC';
      const sql =
        `SELECT e.seq, e.ts, e.ingested, e.message, s.name AS stream FROM log_events e JOIN log_streams s ON s.id = e.stream_id ` +
        `WHERE ${where.join(' AND ')} ORDER BY e.ts ${dir}, e.seq ${dir} LIMIT ?`;
      return (
        this.db.prepare(sql).all(...params, q.limit) as { seq: number; ts: number; ingested: number; message: string; stream: string }[]
      ).map((r): LogEventRecord => ({ seq: r.seq, timestamp: r.ts, ingestionTime: r.ingested, message: r.message, streamName: r.stream }));
    });
  }

  deleteEventsBefore(groupName: string, before: number) {
    return this.guard(() =>
      this.db.transaction(() => {
        const group = this.db.prepare('SELECT id FROM log_groups WHERE name = ?').get(groupName) as { id: number } | undefined;
        if (!group) return 0;
        const { changes } = this.db.prepare('DELETE FROM log_events WHERE group_id = ? AND ts < ?').run(group.id, before);
        if (changes > 0) {
          this.db
            .prepare(
              `UPDATE log_streams SET
                 stored_bytes = COALESCE((SELECT SUM(length(CAST(e.message AS BLOB))) FROM log_events e WHERE e.stream_id = log_streams.id), 0),
                 first_event = COALESCE((SELECT MIN(e.ts) FROM log_events e WHERE e.stream_id = log_streams.id), first_event)
               WHERE group_id = ?`,
            )
            .run(group.id);
        }
        return changes;
      })(),
    );
  }
}

/**
 * Writes a batch of events in one transaction, creating their groups and streams as needed and keeping
 * each stream's first/last event times and stored bytes. Runs on the log writer's thread (log-writer.ts),
 * or in the caller's when there is none.
 */
export function appendEvents(db: Db, events: readonly NewLogEvent[]): void {
  const findGroup = db.prepare('SELECT id FROM log_groups WHERE name = ?');
  const addGroup = db.prepare('INSERT INTO log_groups (name, created_at) VALUES (?, ?)');
  const findStream = db.prepare('SELECT id FROM log_streams WHERE group_id = ? AND name = ?');
  const addStream = db.prepare('INSERT INTO log_streams (group_id, name, created_at) VALUES (?, ?, ?)');
  const updateStream = db.prepare(
    `UPDATE log_streams SET first_event = min(COALESCE(first_event, @first), @first), last_event = max(COALESCE(last_event, @last), @last),
       last_ingestion = max(COALESCE(last_ingestion, @ingested), @ingested), stored_bytes = stored_bytes + @bytes WHERE id = @id`,
  );
  const { many, one } = eventInserts(db);
  db.transaction(() => {
    const groups = new Map<string, number>();
    const streams = new Map<string, StreamTotals>();
    // Rows go in EVENTS_PER_INSERT at a time: one statement per row cost twice the CPU per event.
    const values: (number | string)[] = [];
    const add = (groupId: number, stream: StreamTotals, e: NewLogEvent) => {
      values.push(groupId, stream.id, e.timestamp, e.ingestionTime, e.message);
      if (values.length === EVENTS_PER_INSERT * 5) {
        many.run(values);
        values.length = 0;
      }
      if (e.timestamp < stream.first) stream.first = e.timestamp;
      if (e.timestamp > stream.last) stream.last = e.timestamp;
      if (e.ingestionTime > stream.ingested) stream.ingested = e.ingestionTime;
      stream.bytes += Buffer.byteLength(e.message, 'utf8');
    };
    // A batch comes mostly in runs of one stream's events: the run's stream is kept without a lookup.
    let run: { group: string; name: string; groupId: number; stream: StreamTotals } | undefined;
    for (const e of events) {
      if (run && run.name === e.streamName && run.group === e.groupName) {
        add(run.groupId, run.stream, e);
        continue;
      }
      let groupId = groups.get(e.groupName);
      if (groupId === undefined) {
        const found = findGroup.get(e.groupName) as { id: number } | undefined;
        groupId = found ? found.id : Number(addGroup.run(e.groupName, e.ingestionTime).lastInsertRowid);
        groups.set(e.groupName, groupId);
      }
      const key = `${groupId}\u0000${e.streamName}`;
      let stream = streams.get(key);
      if (!stream) {
        const found = findStream.get(groupId, e.streamName) as { id: number } | undefined;
        const id = found ? found.id : Number(addStream.run(groupId, e.streamName, e.ingestionTime).lastInsertRowid);
        streams.set(key, (stream = { id, first: e.timestamp, last: e.timestamp, ingested: e.ingestionTime, bytes: 0 }));
      }
      run = { group: e.groupName, name: e.streamName, groupId, stream };
      add(groupId, stream, e);
    }
    for (let i = 0; i < values.length; i += 5) one.run(values.slice(i, i + 5));
    for (const s of streams.values()) updateStream.run(s);
  })();
}

/** A stream's id and what a batch adds to its first/last event times and stored bytes. */
interface StreamTotals {
  id: number;
  first: number;
  last: number;
  ingested: number;
  bytes: number;
}

/** Rows of log_events per INSERT statement in appendEvents. */
const EVENTS_PER_INSERT = 64;
const insertStatements = new WeakMap<Db, { many: Statement; one: Statement }>();

/** The connection's statements that insert EVENTS_PER_INSERT events, and one, prepared once. */
function eventInserts(db: Db): { many: Statement; one: Statement } {
  let statements = insertStatements.get(db);
  if (!statements) {
    const insert = 'INSERT INTO log_events (group_id, stream_id, ts, ingested, message) VALUES ';
    statements = {
      many: db.prepare(insert + Array<string>(EVENTS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')),
      one: db.prepare(insert + '(?, ?, ?, ?, ?)'),
    };
    insertStatements.set(db, statements);
  }
  return statements;
}
