import path from 'node:path';
import type { LogLevel } from '../core/logger.js';

/** Everything a Versa server can be told, read once at start and passed down. */
export interface Options {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
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
  logLevel: LogLevel;
  /** Whether invocations and API requests record metrics ("off" exists to measure what they cost). */
  metrics: 'on' | 'off';
}

export const DEFAULTS: Options = {
  host: '127.0.0.1',
  port: 4566,
  dataDir: './.versa',
  timeScale: 1,
  maxEnvironments: 32,
  idleTimeoutSeconds: 300,
  pythonCommand: 'python3',
  retentionDays: 7,
  logLevel: 'info',
  metrics: 'on',
};

const ENV_NAMES: Record<keyof Options, string> = {
  host: 'VERSA_HOST',
  port: 'VERSA_PORT',
  dataDir: 'VERSA_DATA_DIR',
  timeScale: 'VERSA_TIME_SCALE',
  maxEnvironments: 'VERSA_MAX_ENVIRONMENTS',
  idleTimeoutSeconds: 'VERSA_IDLE_TIMEOUT_SECONDS',
  pythonCommand: 'VERSA_PYTHON',
  retentionDays: 'VERSA_RETENTION_DAYS',
  logLevel: 'VERSA_LOG_LEVEL',
  metrics: 'VERSA_METRICS',
};

/** Thrown for options a user got wrong; the CLI prints the message as it is. */
export class OptionsError extends Error {}

/**
 * Resolves options: defaults, then `VERSA_*` environment variables, then explicit values (flags).
 * Validates the result and makes the data directory absolute.
 */
export function resolveOptions(
  overrides: Partial<Record<keyof Options, string | number | undefined>>,
  env: NodeJS.ProcessEnv = process.env,
): Options {
  const raw: Record<string, string | number> = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as (keyof Options)[]) {
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
  return {
    host: String(raw.host),
    port: num('port', (n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'a port number between 0 and 65535'),
    dataDir: path.resolve(String(raw.dataDir)),
    timeScale: num('timeScale', (n) => n > 0 && n <= 10_000, 'a number above 0 and at most 10000'),
    maxEnvironments: num('maxEnvironments', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
    idleTimeoutSeconds: num('idleTimeoutSeconds', (n) => n > 0, 'a positive number of seconds'),
    pythonCommand: String(raw.pythonCommand),
    retentionDays: num('retentionDays', (n) => n > 0, 'a positive number of days'),
    logLevel,
    metrics: onOff(raw.metrics),
  };
}

function onOff(value: string | number | undefined): 'on' | 'off' {
  if (value === 'on' || value === 'off') return value;
  throw new OptionsError(`metrics must be on or off; got ${String(value)}.`);
}
