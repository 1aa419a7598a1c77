import path from 'node:path';
import type { LogLevel } from '../core/logger.js';
import { readCredentialsFile, type OperatorKey } from './credentials-file.js';

/** Everything a Versa server can be told, read once at start and passed down. */
export interface Options {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  /**
   * Where the durable state lives: empty for SQLite in the data directory (one node), or a
   * `postgres://USER@HOST:PORT/DB` URL that several nodes share.
   */
  store: string;
  /** How much faster than real time the platform clock runs (deployments, alarms, metric periods). */
  timeScale: number;
  /** Most execution environments alive at once; beyond it Invoke answers 429. */
  maxEnvironments: number;
  /** Real seconds an idle environment is kept warm. */
  idleTimeoutSeconds: number;
  /** The Python interpreter for `python3.*` runtimes. */
  pythonCommand: string;
  /** Metrics and logs older than this many days of platform time are dropped. */
  retentionDays: number;
  /** MiB of events a log group may hold; past it its oldest events are dropped (a function cannot fill the disk). */
  logGroupLimitMb: number;
  logLevel: LogLevel;
  /** Whether invocations and API requests record metrics ("off" exists to measure what they cost). */
  metrics: 'on' | 'off';
  /**
   * How functions are isolated: `bwrap` (bubblewrap, or refuse to start), `off` (functions run as the
   * server's user), `auto` (bubblewrap when it runs here, else off).
   */
  sandbox: 'off' | 'auto' | 'bwrap';
  /** An AWS shared-credentials file whose profiles are the keys Versa accepts. */
  credentialsFile: string;
  /** Extra `Host` names served besides loopback ones (DNS-rebinding defence); `*.example.com` allowed. */
  allowedHosts: string[];
  /** Origins whose pages may call the AWS APIs (CORS); `*` for any. */
  corsOrigins: string[];
  /** Bearer token that opens `/_versa/metrics` to non-loopback scrapers. */
  metricsToken: string;
  /**
   * What a function's own key may call: `scoped` (the default) the data plane and reads of
   * access/function-scope.ts, `full` everything the operator may (a release pipeline written as a function).
   */
  functionAccess: 'scoped' | 'full';
  /**
   * The keys every AWS API request must be signed with: the credentials file's profiles and
   * `VERSA_ACCESS_KEY_ID`/`VERSA_SECRET_ACCESS_KEY`. Empty means any key is accepted (loopback only).
   */
  credentials: OperatorKey[];
}

/** The options a flag or `VERSA_*` variable sets (credentials come from the file and variables). */
export type Setting = Exclude<keyof Options, 'credentials'>;

export const DEFAULTS: Record<Setting, string | number> = {
  host: '127.0.0.1',
  port: 4566,
  dataDir: './.versa',
  store: '',
  timeScale: 1,
  maxEnvironments: 32,
  idleTimeoutSeconds: 300,
  pythonCommand: 'python3',
  retentionDays: 7,
  logGroupLimitMb: 1024,
  logLevel: 'info',
  metrics: 'on',
  sandbox: 'auto',
  credentialsFile: '',
  allowedHosts: '',
  corsOrigins: '',
  metricsToken: '',
  functionAccess: 'scoped',
};

const ENV_NAMES: Record<Setting, string> = {
  host: 'VERSA_HOST',
  port: 'VERSA_PORT',
  dataDir: 'VERSA_DATA_DIR',
  store: 'VERSA_STORE',
  timeScale: 'VERSA_TIME_SCALE',
  maxEnvironments: 'VERSA_MAX_ENVIRONMENTS',
  idleTimeoutSeconds: 'VERSA_IDLE_TIMEOUT_SECONDS',
  pythonCommand: 'VERSA_PYTHON',
  retentionDays: 'VERSA_RETENTION_DAYS',
  logGroupLimitMb: 'VERSA_LOG_GROUP_LIMIT_MB',
  logLevel: 'VERSA_LOG_LEVEL',
  metrics: 'VERSA_METRICS',
  sandbox: 'VERSA_SANDBOX',
  credentialsFile: 'VERSA_CREDENTIALS_FILE',
  allowedHosts: 'VERSA_ALLOWED_HOSTS',
  corsOrigins: 'VERSA_CORS_ORIGINS',
  metricsToken: 'VERSA_METRICS_TOKEN',
  functionAccess: 'VERSA_FUNCTION_ACCESS',
};

/** Thrown for options a user got wrong; the CLI prints the message as it is. */
export class OptionsError extends Error {}

/**
 * Resolves options: defaults, then `VERSA_*` environment variables, then explicit values (flags).
 * Validates the result and makes the data directory absolute.
 */
export function resolveOptions(
  overrides: Partial<Record<Setting, string | number | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
  extra: { credentials?: OperatorKey[] } = {},
): Options {
  const raw: Record<string, string | number> = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Setting[]) {
    const fromEnv = env[ENV_NAMES[key]];
    if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
    const given = overrides[key];
    if (given !== undefined) raw[key] = given;
  }
  const num = (key: keyof Options, check: (n: number) => boolean, rule: string): number => {
    const n = Number(raw[key]);
    if (!Number.isFinite(n) || !check(n)) throw new OptionsError(`${key} must be ${rule}; got ${String(raw[key])}.`);
    return n;
  };
  const logLevel = String(raw.logLevel) as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new OptionsError(`logLevel must be one of debug, info, warn, error, silent; got ${logLevel}.`);
  }
  const host = String(raw.host);
  const credentials = [...(extra.credentials ?? []), ...operatorKeys(String(raw.credentialsFile), env)];
  if (credentials.length === 0 && !isLoopbackAddress(host)) {
    throw new OptionsError(
      `refusing to listen on ${host} without credentials: anyone who can reach it could run code on this machine. ` +
        'Set VERSA_ACCESS_KEY_ID and VERSA_SECRET_ACCESS_KEY, or pass --credentials FILE (an AWS credentials file), ' +
        'or listen on 127.0.0.1. See docs/security.md.',
    );
  }
  return {
    host,
    port: num('port', (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number between 0 and 65535'),
    dataDir: path.resolve(String(raw.dataDir)),
    store: storeUrl(raw.store),
    timeScale: num('timeScale', (n) => n > 0 && n <= 10_000, 'a number above 0 and at most 10000'),
    maxEnvironments: num('maxEnvironments', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
    idleTimeoutSeconds: num('idleTimeoutSeconds', (n) => n > 0, 'a positive number of seconds'),
    pythonCommand: String(raw.pythonCommand),
    retentionDays: num('retentionDays', (n) => n > 0, 'a positive number of days'),
    logGroupLimitMb: num('logGroupLimitMb', (n) => n >= 1, 'a number of MiB of at least 1'),
    logLevel,
    metrics: onOff(raw.metrics),
    sandbox: sandboxMode(raw.sandbox),
    credentialsFile: String(raw.credentialsFile),
    allowedHosts: list(raw.allowedHosts),
    corsOrigins: list(raw.corsOrigins),
    metricsToken: String(raw.metricsToken),
    functionAccess: functionAccess(raw.functionAccess),
    credentials,
  };
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

function operatorKeys(file: string, env: NodeJS.ProcessEnv): OperatorKey[] {
  const keys: OperatorKey[] = [];
  if (file !== '') {
    try {
      keys.push(...readCredentialsFile(file));
    } catch (err) {
      throw new OptionsError((err as Error).message, { cause: err });
    }
  }
  const id = env.VERSA_ACCESS_KEY_ID;
  const secret = env.VERSA_SECRET_ACCESS_KEY;
  if (id || secret) {
    if (!id || !secret) throw new OptionsError('set both VERSA_ACCESS_KEY_ID and VERSA_SECRET_ACCESS_KEY, or neither.');
    keys.push({ accessKeyId: id, secretAccessKey: secret });
  }
  return keys;
}

function list(value: string | number | undefined): string[] {
  return String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function storeUrl(value: string | number | undefined): string {
  const text = String(value ?? '');
  if (text === '' || text === 'sqlite') return '';
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || !url.hostname) {
    throw new OptionsError(
      `store must be a PostgreSQL URL such as postgres://USER@HOST:5432/DB, or sqlite (the default: a file in the data directory); got ${text}.`,
    );
  }
  return text;
}

function sandboxMode(value: string | number | undefined): 'off' | 'auto' | 'bwrap' {
  if (value === 'off' || value === 'auto' || value === 'bwrap') return value;
  throw new OptionsError(`sandbox must be off, auto or bwrap; got ${String(value)}.`);
}

function functionAccess(value: string | number | undefined): 'scoped' | 'full' {
  if (value === 'scoped' || value === 'full') return value;
  throw new OptionsError(`functionAccess must be scoped or full; got ${String(value)}.`);
}

function onOff(value: string | number | undefined): 'on' | 'off' {
  if (value === 'on' || value === 'off') return value;
  throw new OptionsError(`metrics must be on or off; got ${String(value)}.`);
}
