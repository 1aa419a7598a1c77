// The PostgreSQL store: opens a pool on the database, applies the migrations, runs transactions and builds one repository per aggregate.
import pg from 'pg';
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
import { PostgresAlarms } from './alarms.js';
import { PostgresAsyncEvents } from './async-events.js';
import { Notifications, PostgresCluster } from './cluster.js';
import { PostgresSessions } from './sessions.js';
import { PostgresCodeDeploy } from './code-deploy.js';
import { PostgresCode } from './code.js';
import { Db, runTransaction, types } from './db.js';
import { PostgresEventInvokeConfigs } from './event-invoke-configs.js';
import { PostgresAliases, PostgresFunctions, PostgresPolicies, PostgresVersions } from './functions.js';
import { PostgresLogs } from './logs.js';
import { PostgresMetrics } from './metrics.js';
import { MIGRATIONS } from './migrations.js';
import { PostgresParameters } from './parameters.js';
import { PostgresDeployments, PostgresRestApis, PostgresStages } from './rest-apis.js';
import { PostgresS3 } from './s3.js';
import { PostgresSettings } from './settings.js';
import { PostgresStacks } from './stacks.js';
import { PostgresTags } from './tags.js';

/** The advisory lock the migrations run under, so that nodes starting at once migrate one after the other. */
const MIGRATION_LOCK = 0x7665_7273;

/**
 * Opens a PostgreSQL store on the database at `url` (a `postgres://` connection string): a connection
 * pool with the migrations applied, and one connection listening for the cluster's notifications.
 */
export async function openPostgresStore(url: string): Promise<Store> {
  // A database out of reach fails a statement within seconds instead of holding it (and the heartbeat
  // that must notice a lost lease) forever.
  const pool = new pg.Pool({ connectionString: url, types, connectionTimeoutMillis: 5_000, max: 20 });
  // An idle connection that breaks is dropped by the pool; without a listener its error would end the process.
  pool.on('error', () => undefined);
  const notifications = new Notifications({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await migrate(pool);
    await notifications.start();
  } catch (err) {
    await notifications.close();
    await pool.end();
    throw err;
  }
  return new PostgresStore(pool, notifications);
}

/**
 * Applies the migrations this database lacks, in one transaction that first takes an advisory lock:
 * a second node starting at the same time waits, then finds them applied.
 */
async function migrate(pool: pg.Pool): Promise<void> {
  await runTransaction(
    pool,
    async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)');
      const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > MIGRATIONS.length) {
        throw new Error(`the data directory was written by a newer Versa (schema ${current}); upgrade Versa to open it`);
      }
      for (const [i, sql] of MIGRATIONS.slice(current).entries()) {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [current + i + 1]);
      }
    },
    'READ COMMITTED',
  );
}

class PostgresStore implements Store {
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
   * Outside a transaction every statement runs on the pool in autocommit (a method of several statements
   * in a transaction of its own); a transaction's store runs them all on its one client.
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly notifications: Notifications,
    private readonly client?: pg.PoolClient,
  ) {
    const db = new Db(pool, client);
    this.functions = new PostgresFunctions(db);
    this.versions = new PostgresVersions(db);
    this.aliases = new PostgresAliases(db);
    this.code = new PostgresCode(db);
    this.policies = new PostgresPolicies(db);
    this.settings = new PostgresSettings(db);
    this.restApis = new PostgresRestApis(db);
    this.deployments = new PostgresDeployments(db);
    this.stages = new PostgresStages(db);
    this.metrics = new PostgresMetrics(db);
    this.alarms = new PostgresAlarms(db);
    this.codeDeploy = new PostgresCodeDeploy(db);
    this.stacks = new PostgresStacks(db);
    this.logs = new PostgresLogs(db);
    this.asyncEvents = new PostgresAsyncEvents(db);
    this.eventInvokeConfigs = new PostgresEventInvokeConfigs(db);
    this.tags = new PostgresTags(db);
    this.s3 = new PostgresS3(db);
    this.parameters = new PostgresParameters(db);
    this.cluster = new PostgresCluster(db, notifications);
    this.sessions = new PostgresSessions(db);
  }

  /**
   * SERIALIZABLE, on one client of the pool. A serialization failure, deadlock, unique violation or
   * StoreConflict rolls back and runs `work` again on fresh reads (see runTransaction).
   */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    if (this.client) return work(this);
    return runTransaction(this.pool, (client) => work(new PostgresStore(this.pool, this.notifications, client)), 'SERIALIZABLE');
  }

  async close(): Promise<void> {
    await this.notifications.close();
    await this.pool.end();
  }
}
