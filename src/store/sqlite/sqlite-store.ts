// The SQLite store: opens the database, applies the migrations, runs transactions and builds one repository per aggregate.
import path from 'node:path';
import Database from 'better-sqlite3';
import { Mutex } from '../mutex.js';
import { StoreConflict } from '../store.js';
import type {
  AlarmRepository,
  AliasRepository,
  AsyncEventRepository,
  ClusterRepository,
  SessionRepository,
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
import { SqliteAlarms } from './alarms.js';
import { SqliteAsyncEvents } from './async-events.js';
import { Notifications, SqliteCluster } from './cluster.js';
import { SqliteSessions } from './sessions.js';
import { SqliteCodeDeploy } from './code-deploy.js';
import { SqliteCode } from './code.js';
import { configure, type Db, type Guard } from './db.js';
import { SqliteEventInvokeConfigs } from './event-invoke-configs.js';
import { SqliteAliases, SqliteFunctions, SqlitePolicies, SqliteVersions } from './functions.js';
import { LogWriter } from './log-writer.js';
import { SqliteLogs } from './logs.js';
import { SqliteMetrics } from './metrics.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteParameters } from './parameters.js';
import { SqliteDeployments, SqliteRestApis, SqliteStages } from './rest-apis.js';
import { SqliteS3 } from './s3.js';
import { SqliteSettings } from './settings.js';
import { SqliteStacks } from './stacks.js';
import { SqliteTags } from './tags.js';

/** How many times a transaction's work runs before its StoreConflict is passed on. */
const MAX_ATTEMPTS = 10;

/** Opens (creating if needed) a SQLite store at `file`, in WAL mode, with migrations applied. */
export function openSqliteStore(file: string): Store {
  const db = new Database(file);
  configure(db);
  migrate(db);
  return new SqliteStore(db, path.join(path.dirname(file), 'packages'), new LogWriter(file));
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
  readonly cluster: ClusterRepository;
  readonly sessions: SessionRepository;

  /**
   * One writer at a time: every step outside a transaction, and every transaction whole, runs under
   * `lock`, so a SQLite transaction never meets a conflicting one and never needs to run again.
   */
  constructor(
    private readonly db: Db,
    /** Where code packages are kept, as files (code.ts). */
    private readonly codeDir: string,
    /** Writes log batches off the event loop; a transaction's store writes them in it instead. */
    private readonly logWriter: LogWriter | undefined,
    private readonly lock = new Mutex(),
    private readonly notifications = new Notifications(),
    /** The enclosing transaction's held-back notifications, or undefined outside one. */
    private readonly pending?: string[],
  ) {
    const guard: Guard = pending ? (step) => Promise.resolve(step()) : (step) => lock.run(step);
    this.functions = new SqliteFunctions(db, guard);
    this.versions = new SqliteVersions(db, guard);
    this.aliases = new SqliteAliases(db, guard);
    this.code = new SqliteCode(db, guard, codeDir);
    this.policies = new SqlitePolicies(db, guard);
    this.settings = new SqliteSettings(db, guard);
    this.restApis = new SqliteRestApis(db, guard);
    this.deployments = new SqliteDeployments(db, guard);
    this.stages = new SqliteStages(db, guard);
    this.metrics = new SqliteMetrics(db, guard);
    this.alarms = new SqliteAlarms(db, guard);
    this.codeDeploy = new SqliteCodeDeploy(db, guard);
    this.stacks = new SqliteStacks(db, guard);
    this.logs = new SqliteLogs(db, guard, pending ? undefined : logWriter);
    this.asyncEvents = new SqliteAsyncEvents(db, guard);
    this.eventInvokeConfigs = new SqliteEventInvokeConfigs(db, guard);
    this.tags = new SqliteTags(db, guard);
    this.s3 = new SqliteS3(db, guard);
    this.parameters = new SqliteParameters(db, guard);
    this.cluster = new SqliteCluster(db, guard, notifications, pending);
    this.sessions = new SqliteSessions(db, guard);
  }

  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.pending) return work(this);
    return this.lock.run(async () => {
      // Under the lock no other writer can conflict; only work that acted on a stale read (a
      // StoreConflict) runs again, as it would on a database with concurrent writers.
      for (let attempt = 1; ; attempt++) {
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const pending: string[] = [];
          const result = await work(new SqliteStore(this.db, this.codeDir, undefined, this.lock, this.notifications, pending));
          this.db.exec('COMMIT');
          this.notifications.deliver(pending);
          return result;
        } catch (err) {
          this.db.exec('ROLLBACK');
          if (!(err instanceof StoreConflict) || attempt >= MAX_ATTEMPTS) throw err;
        }
      }
    });
  }

  close(): Promise<void> {
    return this.lock.run(async () => {
      await this.logWriter?.close();
      this.db.close();
    });
  }
}
