// CloudWatch Logs log groups, log streams and log events.
import type { LogEventQuery, LogEventRecord, LogGroupRecord, LogStreamRecord, NewLogEvent, StreamPage } from '../../domain/log.js';
import type { LogRepository } from '../store.js';
import type { Db } from './db.js';
import { startsWith } from './db.js';
import type { ChunkEvent, ChunkRow, ChunkSize } from '../log-chunks.js';
import { CHUNK_ROW, ChunkMerge, chunkBounds, chunkOrder, chunkToCut, cutChunks, cutWithin, keepFrom, ParsedChunks } from '../log-chunks.js';
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
  /** Chunks' events parsed lately: a read of many steps, or of many pages, parses each chunk once. */
  private readonly parsed = new ParsedChunks();

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
      await db.run('DELETE FROM log_chunks WHERE group_id = $1', [group.id]);
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

  async listStreams(groupName: string, prefix?: string, page?: StreamPage) {
    const params: unknown[] = prefix ? [groupName, startsWith(prefix)] : [groupName];
    const byPrefix = prefix ? " AND s.name LIKE $2 ESCAPE '\\'" : '';
    if (!page) {
      const sql = `SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = $1${byPrefix} ORDER BY s.name`;
      return (await this.db.rows<StreamRow>(sql, params)).map(streamOf);
    }
    // Byte order, as SQLite's and JavaScript's, whatever the database's collation.
    const name = 's.name COLLATE "C"';
    const byTime = page.orderBy === 'LastEventTime';
    const direction = page.descending ? 'DESC' : 'ASC';
    const beyond = page.descending ? '<' : '>';
    let after = '';
    if (page.after && byTime) {
      params.push(page.after[0], page.after[1]);
      after = ` AND (COALESCE(s.last_event, 0), ${name}) ${beyond} ($${params.length - 1}::bigint, $${params.length})`;
    } else if (page.after) {
      params.push(page.after[1]);
      after = ` AND ${name} ${beyond} $${params.length}`;
    }
    params.push(page.limit);
    const order = byTime ? `COALESCE(s.last_event, 0) ${direction}, ${name} ${direction}` : `${name} ${direction}`;
    const sql = `SELECT ${STREAM_COLUMNS} FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = $1${byPrefix}${after} ORDER BY ${order} LIMIT $${params.length}`;
    return (await this.db.rows<StreamRow>(sql, params)).map(streamOf);
  }

  async countStreams(groupName: string) {
    const [row] = await this.db.rows<{ n: string }>(
      'SELECT count(*) AS n FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = $1',
      [groupName],
    );
    return Number(row?.n ?? 0);
  }

  async createStream(groupName: string, name: string, createdAt: number) {
    const created = await this.db.run(
      'INSERT INTO log_streams (group_id, name, created_at) SELECT id, $1, $2 FROM log_groups WHERE name = $3 ON CONFLICT (group_id, name) DO NOTHING',
      [name, createdAt, groupName],
    );
    return created > 0;
  }

  /**
   * Writes a batch: takes its seq values from log_seq, finds or creates each group and stream, and in one
   * statement inserts each stream's events of the batch as a chunk (or a few, for a large batch; see
   * log-chunks.ts) and updates each stream's statistics once. A row per event cost its backend three
   * b-tree inserts per event. Two nodes creating the same group at once conflict on its unique name, and
   * the loser's transaction runs again, finding it. READ COMMITTED, as appends to one stream are frequent
   * and its statistics are updated from the row's latest version (LEAST, GREATEST, +), where a
   * serializable transaction would fail and run again for nothing.
   */
  async append(events: readonly NewLogEvent[]) {
    if (events.length === 0) return;
    await this.db.atomic(async (db) => {
      // Each nextval is a block of LOG_SEQ_BLOCK values no other call gets, in increasing order.
      const blocks = await db.rows<{ v: number }>("SELECT nextval('log_seq') AS v FROM generate_series(1, $1) ORDER BY v", [
        Math.ceil(events.length / LOG_SEQ_BLOCK),
      ]);
      const streams = new Map<string, StreamBatch>();
      // A batch comes mostly in runs of one stream's events: the run's stream is kept without a lookup.
      let run: StreamBatch | undefined;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        let stream = run;
        if (!stream || stream.name !== e.streamName || stream.groupName !== e.groupName) {
          const key = `${e.groupName}\u0000${e.streamName}`;
          stream = streams.get(key);
          if (!stream) {
            const { groupName, streamName: name, timestamp, ingestionTime } = e;
            stream = {
              groupName,
              name,
              createdAt: ingestionTime,
              groupId: 0,
              id: 0,
              first: timestamp,
              last: timestamp,
              ingested: ingestionTime,
              bytes: 0,
              events: [],
            };
            streams.set(key, stream);
          }
          run = stream;
        }
        const bytes = Buffer.byteLength(e.message, 'utf8');
        stream.events.push({
          event: [blocks[Math.floor(i / LOG_SEQ_BLOCK)]!.v + (i % LOG_SEQ_BLOCK), e.timestamp, e.ingestionTime, e.message],
          bytes,
        });
        if (e.timestamp < stream.first) stream.first = e.timestamp;
        if (e.timestamp > stream.last) stream.last = e.timestamp;
        if (e.ingestionTime > stream.ingested) stream.ingested = e.ingestionTime;
        stream.bytes += bytes;
      }
      await this.findStreams(db, [...streams.values()]);
      const chunks = {
        group: [] as number[],
        stream: [] as number[],
        first: [] as number[],
        firstSeq: [] as number[],
        last: [] as number[],
        lastSeq: [] as number[],
        count: [] as number[],
      };
      const chunkBytes: number[] = [];
      const json: string[] = [];
      for (const stream of streams.values()) {
        for (const chunk of cutChunks(stream.events)) {
          chunks.group.push(stream.groupId);
          chunks.stream.push(stream.id);
          const [firstSeq, first] = chunk.events[0]!;
          const [lastSeq, last] = chunk.events[chunk.events.length - 1]!;
          chunks.first.push(first);
          chunks.firstSeq.push(firstSeq);
          chunks.last.push(last);
          chunks.lastSeq.push(lastSeq);
          chunks.count.push(chunk.events.length);
          chunkBytes.push(chunk.bytes);
          json.push(JSON.stringify(chunk.events));
        }
      }
      const all = [...streams.values()];
      // Each chunk's JSON is a parameter of its own: as elements of one text[] parameter, pg would write
      // them into an array literal, escaping every quote, and the backend would parse it back.
      const own = json.length <= JSON_PARAMS;
      const texts = own ? `ARRAY[${json.map((_, i) => `$${14 + i}::text`).join(', ')}]` : '$14::text[]';
      // LEAST and GREATEST pass over NULL, so a stream's first event sets its bounds.
      await db.run(
        `WITH added AS (
           INSERT INTO log_chunks (group_id, stream_id, first_ts, first_seq, last_ts, last_seq, count, bytes, events)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
             $8::bigint[], ${texts})
         )
         UPDATE log_streams s SET first_event = LEAST(s.first_event, u.first), last_event = GREATEST(s.last_event, u.last),
           last_ingestion = GREATEST(s.last_ingestion, u.ingested), stored_bytes = s.stored_bytes + u.bytes
         FROM unnest($9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[]) AS u (id, first, last, ingested, bytes)
         WHERE s.id = u.id`,
        [
          chunks.group,
          chunks.stream,
          chunks.first,
          chunks.firstSeq,
          chunks.last,
          chunks.lastSeq,
          chunks.count,
          chunkBytes,
          all.map((s) => s.id),
          all.map((s) => s.first),
          all.map((s) => s.last),
          all.map((s) => s.ingested),
          all.map((s) => s.bytes),
          ...(own ? json : [json]),
        ],
      );
    }, 'READ COMMITTED');
  }

  /** Sets the group and stream ids of a batch's streams, creating the groups and streams that do not exist yet. */
  private async findStreams(db: Db, streams: StreamBatch[]): Promise<void> {
    const found = await db.rows<{ n: number; group_id: number | null; stream_id: number | null }>(
      `SELECT u.n, g.id AS group_id, s.id AS stream_id FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u (g, s, n)
         LEFT JOIN log_groups g ON g.name = u.g LEFT JOIN log_streams s ON s.group_id = g.id AND s.name = u.s`,
      [streams.map((s) => s.groupName), streams.map((s) => s.name)],
    );
    const groups = new Map<string, number>();
    for (const row of found) {
      const stream = streams[row.n - 1]!;
      if (row.group_id !== null) groups.set(stream.groupName, (stream.groupId = row.group_id));
      if (row.stream_id !== null) stream.id = row.stream_id;
    }
    for (const stream of streams) {
      if (stream.id !== 0) continue;
      let groupId = groups.get(stream.groupName);
      if (groupId === undefined) {
        const added = await db.row<{ id: number }>('INSERT INTO log_groups (name, created_at) VALUES ($1, $2) RETURNING id', [
          stream.groupName,
          stream.createdAt,
        ]);
        groups.set(stream.groupName, (groupId = added!.id));
      }
      stream.groupId = groupId;
      const added = await db.row<{ id: number }>('INSERT INTO log_streams (group_id, name, created_at) VALUES ($1, $2, $3) RETURNING id', [
        groupId,
        stream.name,
        stream.createdAt,
      ]);
      stream.id = added!.id;
    }
  }

  /**
   * Reads the group's chunks that can hold an event of the window, in the order of their first (or,
   * descending, last) timestamp, and merges their events (see ChunkMerge). The first page of chunks is
   * read on its own; a read that needs more runs again in one REPEATABLE READ transaction, so that all
   * its pages see the same appends.
   */
  async events(q: LogEventQuery) {
    if (q.limit <= 0 || q.streamNames?.length === 0) return [];
    const streams = await this.db.rows<{ group_id: number; id: number; name: string }>(
      'SELECT s.group_id, s.id, s.name FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = $1',
      [q.groupName],
    );
    const named = q.streamNames && new Set(q.streamNames);
    const names = new Map<number, string>();
    for (const { id, name } of streams) {
      if ((!named || named.has(name)) && (!q.streamPrefix || name.startsWith(q.streamPrefix))) names.set(id, name);
    }
    if (names.size === 0) return [];
    const groupId = streams[0]!.group_id;
    return (
      (await this.readChunks(this.db, q, groupId, names, true)) ??
      this.db.atomic((db) => this.readChunks(db, q, groupId, names, false) as Promise<LogEventRecord[]>, 'REPEATABLE READ')
    );
  }

  /** The events of a read, or undefined when `firstPageOnly` and the first page of chunks is not enough. */
  private async readChunks(
    db: Db,
    q: LogEventQuery,
    groupId: number,
    names: ReadonlyMap<number, string>,
    firstPageOnly: boolean,
  ): Promise<LogEventRecord[] | undefined> {
    const keys = chunkOrder(q.descending);
    const [order, past] = q.descending ? (['DESC', '<'] as const) : (['ASC', '>'] as const);
    const place = (c: ChunkRow) => (q.descending ? [c.last_ts, c.last_seq, c.id] : [c.first_ts, c.first_seq, c.id]);
    const merge = new ChunkMerge(q, names);
    let page: ChunkRow[] = [];
    let at = 0;
    let size = FIRST_PAGE;
    let more = true;
    while (!merge.full) {
      if (at === page.length && more) {
        const last = page.at(-1);
        if (last && firstPageOnly) return undefined;
        const { params, p } = placeholders();
        const where = [`group_id = ${p(groupId)}`, `stream_id = ANY(${p([...names.keys()])}::bigint[])`];
        for (const [columns, comparison, values] of chunkBounds(q)) where.push(`${columns} ${comparison} (${values.map(p).join(', ')})`);
        if (last) where.push(`(${keys.join(', ')}) ${past} (${place(last).map(p).join(', ')})`);
        page = await db.rows<ChunkRow>(
          `SELECT ${CHUNK_ROW} FROM log_chunks WHERE ${where.join(' AND ')}
           ORDER BY ${keys.map((k) => `${k} ${order}`).join(', ')} LIMIT ${p(size)}`,
          params,
        );
        at = 0;
        more = page.length === size;
        size = Math.min(size * 4, LAST_PAGE);
      }
      if (at < page.length && merge.needs(page[at]!)) {
        // Its events, unless parsed lately: a chunk deleted since its row was read has none left.
        const chunk = page[at++]!;
        const events = await this.parsed.events(
          chunk,
          async () => (await db.row<{ events: string }>('SELECT events FROM log_chunks WHERE id = $1', [chunk.id]))?.events ?? '[]',
        );
        merge.add(chunk, events);
      } else if (!merge.take()) break;
    }
    return merge.out;
  }

  async cutForSize(groupName: string, keepBytes: number) {
    const chunks = await this.db.rows<ChunkSize>(
      'SELECT c.id, c.last_ts, c.bytes FROM log_chunks c JOIN log_groups g ON g.id = c.group_id WHERE g.name = $1 ORDER BY c.last_ts DESC',
      [groupName],
    );
    const cut = chunkToCut(chunks, keepBytes);
    if (!cut) return undefined;
    const chunk = await this.db.row<{ events: string }>('SELECT events FROM log_chunks WHERE id = $1', [cut.id]);
    return chunk ? cutWithin(chunk.events, cut.room) : undefined;
  }

  deleteEventsBefore(groupName: string, before: number) {
    return this.db.atomic(async (db) => {
      const group = await db.row<{ id: number }>('SELECT id FROM log_groups WHERE name = $1', [groupName]);
      if (!group) return 0;
      const older = await db.row<{ n: number }>(
        'WITH gone AS (DELETE FROM log_chunks WHERE group_id = $1 AND last_ts < $2 RETURNING count) SELECT COALESCE(SUM(count), 0)::bigint AS n FROM gone',
        [group.id, before],
      );
      let deleted = older!.n;
      // Chunks that hold events on both sides of `before` keep the newer ones.
      const straddling = await db.rows<{ id: number; events: string }>(
        'SELECT id, events FROM log_chunks WHERE group_id = $1 AND first_ts < $2',
        [group.id, before],
      );
      for (const chunk of straddling) {
        const kept = keepFrom(chunk.events, before);
        deleted += kept.dropped;
        await db.run('UPDATE log_chunks SET first_ts = $1, first_seq = $2, count = $3, bytes = $4, events = $5 WHERE id = $6', [
          kept.events[0]![1],
          kept.events[0]![0],
          kept.events.length,
          kept.bytes,
          JSON.stringify(kept.events),
          chunk.id,
        ]);
      }
      if (deleted > 0) {
        await db.run(
          `UPDATE log_streams s SET stored_bytes = COALESCE(t.bytes, 0), first_event = COALESCE(t.first, s.first_event)
           FROM log_streams s2 LEFT JOIN (
             SELECT stream_id, SUM(bytes) AS bytes, MIN(first_ts) AS first FROM log_chunks WHERE group_id = $1 GROUP BY stream_id
           ) t ON t.stream_id = s2.id
           WHERE s2.id = s.id AND s.group_id = $1`,
          [group.id],
        );
      }
      return deleted;
    });
  }
}

/** How many seq values one nextval('log_seq') gives: the sequence's increment (migrations.ts). */
const LOG_SEQ_BLOCK = 1024;

/** Up to this many chunks in a batch, each chunk's JSON is a parameter of its own (PostgreSQL takes 65,535 at most). */
const JSON_PARAMS = 10_000;

/** How many chunks a read takes first, and at most at a time after that (four times more each time). */
const FIRST_PAGE = 64;
const LAST_PAGE = 4096;

/** A stream's events in one batch, and what they add to its first/last event times and stored bytes. */
interface StreamBatch {
  groupName: string;
  name: string;
  createdAt: number;
  groupId: number;
  id: number;
  first: number;
  last: number;
  ingested: number;
  bytes: number;
  events: { event: ChunkEvent; bytes: number }[];
}
