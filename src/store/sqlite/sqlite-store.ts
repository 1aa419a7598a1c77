// The SQLite store: opens the database, applies the migrations, runs transactions and builds one repository per aggregate.
import Database from 'better-sqlite3';
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
import { SqliteAlarms } from './alarms.js';
import { SqliteAsyncEvents } from './async-events.js';
import { SqliteCodeDeploy } from './code-deploy.js';
import { SqliteCode } from './code.js';
import type { Db, Guard } from './db.js';
import { SqliteEventInvokeConfigs } from './event-invoke-configs.js';
import { SqliteAliases, SqliteFunctions, SqlitePolicies, SqliteVersions } from './functions.js';
import { SqliteLogs } from './logs.js';
import { SqliteMetrics } from './metrics.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteParameters } from './parameters.js';
import { SqliteDeployments, SqliteRestApis, SqliteStages } from './rest-apis.js';
import { SqliteS3 } from './s3.js';
import { SqliteSettings } from './settings.js';
import { SqliteStacks } from './stacks.js';
import { SqliteTags } from './tags.js';

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
