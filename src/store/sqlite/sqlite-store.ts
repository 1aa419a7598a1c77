// The SQLite store: opens the database, applies the migrations, runs transactions and builds one repository per aggregate.
import Database from 'better-sqlite3';
import type { AlarmDoc, AlarmHistoryItem } from '../../domain/alarm.js';
import type { AsyncEventRecord, EventInvokeConfigRecord } from '../../domain/async-event.js';
import type { LogEventQuery, LogEventRecord, LogGroupRecord, LogStreamRecord, NewLogEvent } from '../../domain/log.js';
import type { MetricPoint, MetricSeriesDoc } from '../../domain/metric.js';
import { Mutex } from '../mutex.js';
import type {
  AlarmRepository,
  AliasRepository,
  AsyncEventRepository,
  CodeDeployRepository,
  CodeRepository,
  DeploymentRepository,
  EventInvokeConfigRepository,
  FunctionRepository,
  LogRepository,
  MetricRepository,
  ParameterRepository,
  PolicyRepository,
  RestApiRepository,
  S3Repository,
  SettingsRepository,
  StackRepository,
  StageRepository,
  Store,
  TagRepository,
  VersionRepository,
} from '../store.js';
import { SqliteCodeDeploy } from './code-deploy.js';
import { SqliteCode } from './code.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';
import { SqliteAliases, SqliteFunctions, SqlitePolicies, SqliteVersions } from './functions.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteParameters } from './parameters.js';
import { SqliteDeployments, SqliteRestApis, SqliteStages } from './rest-apis.js';
import { SqliteS3 } from './s3.js';
import { SqliteSettings } from './settings.js';
import { SqliteStacks } from './stacks.js';
import { SqliteTags, deleteTags } from './tags.js';

/** Opens (creating if needed) a SQLite store at `file`, in WAL mode, with migrations applied. */
export function openSqliteStore(file: string): Store {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return new SqliteStore(db);
}

function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const apply = db.transaction(() => {
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(`the data directory was written by a newer Versa (schema ${current}); upgrade Versa to open it`);
    }
    MIGRATIONS.slice(current).forEach((sql, i) => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(current + i + 1, new Date().toISOString());
    });
  });
  apply.immediate();
}

class SqliteStore implements Store {
  readonly functions: FunctionRepository;
  readonly versions: VersionRepository;
  readonly aliases: AliasRepository;
  readonly code: CodeRepository;
  readonly policies: PolicyRepository;
  readonly settings: SettingsRepository;
  readonly restApis: RestApiRepository;
  readonly deployments: DeploymentRepository;
  readonly stages: StageRepository;
  readonly metrics: MetricRepository;
  readonly alarms: AlarmRepository;
  readonly logs: LogRepository;
  readonly codeDeploy: CodeDeployRepository;
  readonly stacks: StackRepository;
  readonly asyncEvents: AsyncEventRepository;
  readonly eventInvokeConfigs: EventInvokeConfigRepository;
  readonly tags: TagRepository;
  readonly s3: S3Repository;
  readonly parameters: ParameterRepository;
  private readonly lock: Mutex;
  private readonly inTransaction: boolean;

  constructor(
    private readonly db: Db,
    lock = new Mutex(),
    inTransaction = false,
  ) {
    this.lock = lock;
    this.inTransaction = inTransaction;
    const guard: Guard = inTransaction ? (step) => Promise.resolve(step()) : (step) => lock.run(step);
    this.functions = new SqliteFunctions(db, guard);
    this.versions = new SqliteVersions(db, guard);
    this.aliases = new SqliteAliases(db, guard);
    this.code = new SqliteCode(db, guard);
    this.policies = new SqlitePolicies(db, guard);
    this.settings = new SqliteSettings(db, guard);
    this.restApis = new SqliteRestApis(db, guard);
    this.deployments = new SqliteDeployments(db, guard);
    this.stages = new SqliteStages(db, guard);
    this.metrics = new SqliteMetrics(db, guard);
    this.alarms = new SqliteAlarms(db, guard);
    this.codeDeploy = new SqliteCodeDeploy(db, guard);
    this.stacks = new SqliteStacks(db, guard);
    this.logs = new SqliteLogs(db, guard);
    this.asyncEvents = new SqliteAsyncEvents(db, guard);
    this.eventInvokeConfigs = new SqliteEventInvokeConfigs(db, guard);
    this.tags = new SqliteTags(db, guard);
    this.s3 = new SqliteS3(db, guard);
    this.parameters = new SqliteParameters(db, guard);
  }

  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return work(this);
    return this.lock.run(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(new SqliteStore(this.db, this.lock, true));
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  close(): Promise<void> {
    return this.lock.run(() => {
      this.db.close();
    });
  }
}

class SqliteMetrics implements MetricRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  putPoints(points: MetricPoint[], series: MetricSeriesDoc[]) {
    return this.guard(() => {
      const point = this.db.prepare(
        'INSERT INTO metric_points (series_id, namespace, name, resolution, ts, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(series_id, resolution, ts) DO UPDATE SET doc = excluded.doc',
      );
      const catalogue = this.db.prepare(
        'INSERT INTO metric_series (series_id, namespace, name, doc, last_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT(series_id) DO UPDATE SET doc = excluded.doc, last_seen = MAX(last_seen, excluded.last_seen)',
      );
      this.db.transaction(() => {
        for (const p of points) point.run(p.seriesId, p.namespace, p.name, p.resolution, p.timestamp, JSON.stringify(p.summary));
        for (const s of series) catalogue.run(s.seriesId, s.namespace, s.name, JSON.stringify(s), s.lastSeen);
      })();
    });
  }

  points(seriesId: string, from: number, to: number) {
    return this.guard(() =>
      (
        this.db
          .prepare(
            'SELECT series_id, namespace, name, resolution, ts, doc FROM metric_points WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts',
          )
          .all(seriesId, from, to) as { series_id: string; namespace: string; name: string; resolution: number; ts: number; doc: string }[]
      ).map((r): MetricPoint => ({
        seriesId: r.series_id,
        namespace: r.namespace,
        name: r.name,
        resolution: r.resolution,
        timestamp: r.ts,
        summary: JSON.parse(r.doc) as MetricPoint['summary'],
      })),
    );
  }

  series(namespace?: string) {
    return this.guard(() =>
      namespace === undefined
        ? docs<MetricSeriesDoc>(this.db.prepare('SELECT doc FROM metric_series ORDER BY namespace, name, series_id').all())
        : docs<MetricSeriesDoc>(
            this.db.prepare('SELECT doc FROM metric_series WHERE namespace = ? ORDER BY name, series_id').all(namespace),
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

class SqliteAlarms implements AlarmRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(name: string) {
    return this.guard(() =>
      parse<AlarmDoc>(this.db.prepare('SELECT doc FROM alarms WHERE name = ?').get(name) as { doc: string } | undefined),
    );
  }

  list() {
    return this.guard(() => docs<AlarmDoc>(this.db.prepare('SELECT doc FROM alarms ORDER BY name').all()));
  }

  put(alarm: AlarmDoc) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO alarms (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc')
        .run(alarm.AlarmName, JSON.stringify(alarm));
    });
  }

  delete(name: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM alarms WHERE name = ?').run(name);
        deleteTags(this.db, { kind: 'alarm', name });
      })();
    });
  }

  addHistory(item: AlarmHistoryItem) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO alarm_history (alarm_name, ts, doc) VALUES (?, ?, ?)')
        .run(item.AlarmName, item.Timestamp, JSON.stringify(item));
    });
  }

  history(filter: { alarmName?: string; from?: number; to?: number }) {
    return this.guard(() =>
      docs<AlarmHistoryItem>(
        this.db
          .prepare('SELECT doc FROM alarm_history WHERE (? IS NULL OR alarm_name = ?) AND ts >= ? AND ts <= ? ORDER BY ts DESC, seq DESC')
          .all(filter.alarmName ?? null, filter.alarmName ?? null, filter.from ?? 0, filter.to ?? Number.MAX_SAFE_INTEGER),
      ),
    );
  }

  deleteHistoryBefore(timestamp: number) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM alarm_history WHERE ts < ?').run(timestamp);
    });
  }
}

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

class SqliteLogs implements LogRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
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
    return this.guard(() => {
      if (events.length === 0) return;
      const findGroup = this.db.prepare('SELECT id FROM log_groups WHERE name = ?');
      const addGroup = this.db.prepare('INSERT INTO log_groups (name, created_at) VALUES (?, ?)');
      const findStream = this.db.prepare('SELECT id FROM log_streams WHERE group_id = ? AND name = ?');
      const addStream = this.db.prepare('INSERT INTO log_streams (group_id, name, created_at) VALUES (?, ?, ?)');
      const addEvent = this.db.prepare('INSERT INTO log_events (group_id, stream_id, ts, ingested, message) VALUES (?, ?, ?, ?, ?)');
      const updateStream = this.db.prepare(
        `UPDATE log_streams SET first_event = min(COALESCE(first_event, @first), @first), last_event = max(COALESCE(last_event, @last), @last),
           last_ingestion = max(COALESCE(last_ingestion, @ingested), @ingested), stored_bytes = stored_bytes + @bytes WHERE id = @id`,
      );
      this.db.transaction(() => {
        const groups = new Map<string, number>();
        const streams = new Map<string, { id: number; first: number; last: number; ingested: number; bytes: number }>();
        for (const e of events) {
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
          addEvent.run(groupId, stream.id, e.timestamp, e.ingestionTime, e.message);
          stream.first = Math.min(stream.first, e.timestamp);
          stream.last = Math.max(stream.last, e.timestamp);
          stream.ingested = Math.max(stream.ingested, e.ingestionTime);
          stream.bytes += Buffer.byteLength(e.message, 'utf8');
        }
        for (const s of streams.values()) updateStream.run(s);
      })();
    });
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

const ENDED = "('done', 'failed', 'dropped')";

class SqliteAsyncEvents implements AsyncEventRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  enqueue(e: AsyncEventRecord) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO async_events (id, function_name, status, attempts, next_attempt_at, finished_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(e.id, e.functionName, e.status, e.attempts, e.nextAttemptAt, e.finishedAt ?? null, JSON.stringify(e));
    });
  }

  get(id: string) {
    return this.guard(() =>
      parse<AsyncEventRecord>(this.db.prepare('SELECT doc FROM async_events WHERE id = ?').get(id) as { doc: string } | undefined),
    );
  }

  claim(now: number, leaseUntil: number, skip: readonly string[]) {
    return this.guard(() =>
      this.db.transaction(() => {
        const notIn = skip.length ? `AND function_name NOT IN (${skip.map(() => '?').join(', ')})` : '';
        const row = this.db
          .prepare(`SELECT seq, doc FROM async_events WHERE status = 'pending' AND next_attempt_at <= ? ${notIn} ORDER BY seq LIMIT 1`)
          .get(now, ...skip) as { seq: number; doc: string } | undefined;
        if (!row) return undefined;
        const event = JSON.parse(row.doc) as AsyncEventRecord;
        const claimed: AsyncEventRecord = { ...event, status: 'running', attempts: event.attempts + 1, leaseUntil };
        this.db
          .prepare("UPDATE async_events SET status = 'running', attempts = ?, doc = ? WHERE seq = ?")
          .run(claimed.attempts, JSON.stringify(claimed), row.seq);
        return claimed;
      })(),
    );
  }

  settle(next: AsyncEventRecord, claimedAttempts: number) {
    return this.guard(
      () =>
        this.db
          .prepare(
            "UPDATE async_events SET status = ?, attempts = ?, next_attempt_at = ?, finished_at = ?, doc = ? WHERE id = ? AND status = 'running' AND attempts = ?",
          )
          .run(next.status, next.attempts, next.nextAttemptAt, next.finishedAt ?? null, JSON.stringify(next), next.id, claimedAttempts)
          .changes > 0,
    );
  }

  running() {
    return this.guard(() =>
      docs<AsyncEventRecord>(this.db.prepare("SELECT doc FROM async_events WHERE status = 'running' ORDER BY seq").all()),
    );
  }

  nextDue(skip: readonly string[]) {
    return this.guard(() => {
      const notIn = skip.length ? `AND function_name NOT IN (${skip.map(() => '?').join(', ')})` : '';
      const row = this.db.prepare(`SELECT MIN(next_attempt_at) AS at FROM async_events WHERE status = 'pending' ${notIn}`).get(...skip) as {
        at: number | null;
      };
      return row.at ?? undefined;
    });
  }

  depth(functionName: string) {
    return this.guard(() => {
      const rows = this.db
        .prepare(
          "SELECT status, COUNT(*) AS n FROM async_events WHERE function_name = ? AND status IN ('pending', 'running') GROUP BY status",
        )
        .all(functionName) as { status: string; n: number }[];
      const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
      return { pending: of('pending'), running: of('running') };
    });
  }

  deleteFinishedBefore(timestamp: number) {
    return this.guard(
      () => this.db.prepare(`DELETE FROM async_events WHERE status IN ${ENDED} AND finished_at < ?`).run(timestamp).changes,
    );
  }
}

class SqliteEventInvokeConfigs implements EventInvokeConfigRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(functionName: string, qualifier: string) {
    return this.guard(() =>
      parse<EventInvokeConfigRecord>(
        this.db.prepare('SELECT doc FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?').get(functionName, qualifier) as
          { doc: string } | undefined,
      ),
    );
  }

  list(functionName: string) {
    return this.guard(() =>
      docs<EventInvokeConfigRecord>(
        this.db.prepare('SELECT doc FROM event_invoke_configs WHERE function_name = ? ORDER BY qualifier').all(functionName),
      ),
    );
  }

  put(record: EventInvokeConfigRecord) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO event_invoke_configs (function_name, qualifier, doc) VALUES (?, ?, ?) ON CONFLICT(function_name, qualifier) DO UPDATE SET doc = excluded.doc',
        )
        .run(record.functionName, record.qualifier, JSON.stringify(record));
    });
  }

  delete(functionName: string, qualifier: string) {
    return this.guard(
      () =>
        this.db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?').run(functionName, qualifier).changes >
        0,
    );
  }
}
