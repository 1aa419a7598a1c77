// CloudWatch Logs log groups, log streams and log events.
import type { LogEventQuery, LogGroupRecord, LogStreamRecord, NewLogEvent, StreamPage } from '../../domain/log.js';
import type { LogRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import type { LogWriter } from './log-writer.js';
import type { ChunkEvent, ChunkRow, ChunkSize } from '../log-chunks.js';
import {
  CHUNK_ROW,
  chunkBounds,
  chunkOrder,
  chunkToCut,
  cutChunks,
  cutWithin,
  keepFrom,
  mergeChunks,
  ParsedChunks,
} from '../log-chunks.js';
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

  /** Chunks' events parsed lately: a read of many steps, or of many pages, parses each chunk once. */
  private readonly parsed = new ParsedChunks();

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
        this.db.prepare('DELETE FROM log_chunks WHERE group_id = ?').run(group.id);
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

  listStreams(groupName: string, prefix?: string, page?: StreamPage) {
    return this.guard(() => {
      const byPrefix = prefix ? ' AND substr(s.name, 1, length(?)) = ?' : '';
      const params: unknown[] = [groupName, ...(prefix ? [prefix, prefix] : [])];
      if (!page) {
        const sql = `SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ?${byPrefix} ORDER BY s.name`;
        return (this.db.prepare(sql).all(...params) as StreamRow[]).map(streamOf);
      }
      const byTime = page.orderBy === 'LastEventTime';
      const direction = page.descending ? 'DESC' : 'ASC';
      const beyond = page.descending ? '<' : '>';
      let after = '';
      if (page.after) {
        after = byTime ? ` AND (COALESCE(s.last_event, 0), s.name) ${beyond} (?, ?)` : ` AND s.name ${beyond} ?`;
        params.push(...(byTime ? page.after : [page.after[1]]));
      }
      params.push(page.limit);
      const order = byTime ? `COALESCE(s.last_event, 0) ${direction}, s.name ${direction}` : `s.name ${direction}`;
      const sql = `SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ?${byPrefix}${after} ORDER BY ${order} LIMIT ?`;
      return (this.db.prepare(sql).all(...params) as StreamRow[]).map(streamOf);
    });
  }

  countStreams(groupName: string) {
    return this.guard(
      () =>
        (
          this.db
            .prepare('SELECT count(*) AS n FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ?')
            .get(groupName) as { n: number }
        ).n,
    );
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

  /**
   * Reads the group's chunks in the order of their first (or, descending, last) timestamp and merges
   * their events: an event is taken once no chunk still unread can hold one that comes before it.
   */
  events(q: LogEventQuery) {
    return this.guard(() => {
      const group = this.db.prepare('SELECT id FROM log_groups WHERE name = ?').get(q.groupName) as { id: number } | undefined;
      if (!group || q.limit <= 0 || q.streamNames?.length === 0) return [];
      const streams = this.db.prepare('SELECT id, name FROM log_streams WHERE group_id = ?').all(group.id) as {
        id: number;
        name: string;
      }[];
      const named = q.streamNames && new Set(q.streamNames);
      const names = new Map<number, string>();
      for (const { id, name } of streams) {
        if ((!named || named.has(name)) && (!q.streamPrefix || name.startsWith(q.streamPrefix))) names.set(id, name);
      }
      if (names.size === 0) return [];
      const where = ['group_id = ?'];
      const params: unknown[] = [group.id];
      if (names.size < streams.length) {
        where.push(`stream_id IN (${[...names.keys()].join(', ')})`);
      }
      for (const [columns, comparison, values] of chunkBounds(q)) {
        where.push(`${columns} ${comparison} (${values.map(() => '?').join(', ')})`);
        params.push(...values);
      }
      const order = chunkOrder(q.descending)
        .map((c) => `${c} ${q.descending ? 'DESC' : 'ASC'}`)
        .join(', ');
      // Rows first, then the events of those the merge needs and has not parsed lately.
      const chunks = this.db
        .prepare(`SELECT ${CHUNK_ROW} FROM log_chunks WHERE ${where.join(' AND ')} ORDER BY ${order}`)
        .iterate(...params) as IterableIterator<ChunkRow>;
      const json = this.db.prepare('SELECT events FROM log_chunks WHERE id = ?').pluck();
      try {
        return mergeChunks(q, names, chunks, (chunk) => this.parsed.eventsNow(chunk, () => json.get(chunk.id) as string));
      } finally {
        chunks.return?.();
      }
    });
  }

  cutForSize(groupName: string, keepBytes: number) {
    return this.guard(() => {
      const chunks = this.db
        .prepare(
          'SELECT c.id, c.last_ts, c.bytes FROM log_chunks c JOIN log_groups g ON g.id = c.group_id WHERE g.name = ? ORDER BY c.last_ts DESC',
        )
        .all(groupName) as ChunkSize[];
      const cut = chunkToCut(chunks, keepBytes);
      if (!cut) return undefined;
      const { events } = this.db.prepare('SELECT events FROM log_chunks WHERE id = ?').get(cut.id) as { events: string };
      return cutWithin(events, cut.room);
    });
  }

  deleteEventsBefore(groupName: string, before: number) {
    return this.guard(() =>
      this.db.transaction(() => {
        const group = this.db.prepare('SELECT id FROM log_groups WHERE name = ?').get(groupName) as { id: number } | undefined;
        if (!group) return 0;
        const older = 'FROM log_chunks WHERE group_id = ? AND last_ts < ?';
        let deleted = (this.db.prepare(`SELECT COALESCE(SUM(count), 0) AS n ${older}`).get(group.id, before) as { n: number }).n;
        this.db.prepare(`DELETE ${older}`).run(group.id, before);
        // Chunks that hold events on both sides of `before` keep the newer ones.
        type Straddling = { id: number; events: string };
        const straddling = this.db.prepare('SELECT id, events FROM log_chunks WHERE group_id = ? AND first_ts < ?').all(group.id, before);
        const rewrite = this.db.prepare('UPDATE log_chunks SET first_ts = ?, first_seq = ?, count = ?, bytes = ?, events = ? WHERE id = ?');
        for (const chunk of straddling as Straddling[]) {
          const kept = keepFrom(chunk.events, before);
          deleted += kept.dropped;
          const [seq, ts] = kept.events[0]!;
          rewrite.run(ts, seq, kept.events.length, kept.bytes, JSON.stringify(kept.events), chunk.id);
        }
        if (deleted > 0) {
          const totals = this.db
            .prepare('SELECT stream_id, SUM(bytes) AS bytes, MIN(first_ts) AS first FROM log_chunks WHERE group_id = ? GROUP BY stream_id')
            .all(group.id) as { stream_id: number; bytes: number; first: number }[];
          this.db.prepare('UPDATE log_streams SET stored_bytes = 0 WHERE group_id = ?').run(group.id);
          const update = this.db.prepare('UPDATE log_streams SET stored_bytes = ?, first_event = ? WHERE id = ?');
          for (const t of totals) update.run(t.bytes, t.first, t.stream_id);
        }
        return deleted;
      })(),
    );
  }
}

/**
 * Writes a batch of events in one transaction, creating their groups and streams as needed and keeping
 * each stream's first/last event times and stored bytes. Each stream's events of the batch become one
 * chunk (or a few, for a large batch): a row that is cheap to write, where a row per event cost three
 * b-tree inserts and was most of the writer's CPU. Runs on the log writer's thread (log-writer.ts), or in
 * the caller's when there is none.
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
  const addChunk = db.prepare(
    'INSERT INTO log_chunks (group_id, stream_id, first_ts, first_seq, last_ts, last_seq, count, bytes, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    let seq = (db.prepare('SELECT next FROM log_seq').get() as { next: number }).next;
    const groups = new Map<string, number>();
    const streams = new Map<string, StreamBatch>();
    const add = (stream: StreamBatch, e: NewLogEvent) => {
      const bytes = Buffer.byteLength(e.message, 'utf8');
      stream.events.push({ event: [seq++, e.timestamp, e.ingestionTime, e.message], bytes });
      if (e.timestamp < stream.first) stream.first = e.timestamp;
      if (e.timestamp > stream.last) stream.last = e.timestamp;
      if (e.ingestionTime > stream.ingested) stream.ingested = e.ingestionTime;
      stream.bytes += bytes;
    };
    // A batch comes mostly in runs of one stream's events: the run's stream is kept without a lookup.
    let run: { group: string; name: string; stream: StreamBatch } | undefined;
    for (const e of events) {
      if (run && run.name === e.streamName && run.group === e.groupName) {
        add(run.stream, e);
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
        stream = { id, groupId, first: e.timestamp, last: e.timestamp, ingested: e.ingestionTime, bytes: 0, events: [] };
        streams.set(key, stream);
      }
      run = { group: e.groupName, name: e.streamName, stream };
      add(stream, e);
    }
    for (const stream of streams.values()) {
      for (const chunk of cutChunks(stream.events)) {
        const [firstSeq, first] = chunk.events[0]!;
        const [lastSeq, last] = chunk.events[chunk.events.length - 1]!;
        addChunk.run(
          stream.groupId,
          stream.id,
          first,
          firstSeq,
          last,
          lastSeq,
          chunk.events.length,
          chunk.bytes,
          JSON.stringify(chunk.events),
        );
      }
      updateStream.run({ id: stream.id, first: stream.first, last: stream.last, ingested: stream.ingested, bytes: stream.bytes });
    }
    db.prepare('UPDATE log_seq SET next = ?').run(seq);
  })();
}

/** A stream's events in one batch, and what they add to its first/last event times and stored bytes. */
interface StreamBatch {
  id: number;
  groupId: number;
  first: number;
  last: number;
  ingested: number;
  bytes: number;
  events: { event: ChunkEvent; bytes: number }[];
}
