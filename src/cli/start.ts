import { OptionsError, resolveOptions } from '../config/options.js';
import { SandboxUnavailableError } from '../runtime/sandbox.js';
import { startServer, StartRefusedError } from '../server/server.js';
import { parseFlags } from './flags.js';

/** `versa start`: runs a server until SIGINT or SIGTERM, then stops its environments and exits. */
export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      store: { type: 'string' },
      'time-scale': { type: 'string' },
      'max-environments': { type: 'string' },
      'retention-days': { type: 'string' },
      'log-group-limit-mb': { type: 'string' },
      metrics: { type: 'string' },
      sandbox: { type: 'string' },
      'log-level': { type: 'string' },
      credentials: { type: 'string' },
      'allowed-hosts': { type: 'string' },
      'cors-origins': { type: 'string' },
      'metrics-token': { type: 'string' },
      'function-access': { type: 'string' },
    },
  });
  let options;
  try {
    options = resolveOptions({
      port: values.port,
      host: values.host,
      dataDir: values['data-dir'],
      store: values.store,
      timeScale: values['time-scale'],
      maxEnvironments: values['max-environments'],
      retentionDays: values['retention-days'],
      logGroupLimitMb: values['log-group-limit-mb'],
      metrics: values.metrics,
      sandbox: values.sandbox,
      logLevel: values['log-level'],
      credentialsFile: values.credentials,
      allowedHosts: values['allowed-hosts'],
      corsOrigins: values['cors-origins'],
      metricsToken: values['metrics-token'],
      functionAccess: values['function-access'],
    });
  } catch (err) {
    if (err instanceof OptionsError) {
      process.stderr.write(`versa: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let server;
  try {
    server = await startServer(options);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof SandboxUnavailableError || err instanceof StartRefusedError) {
      process.stderr.write(`versa: ${err.message}\n`);
      return 2;
    }
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`versa: port ${options.port} on ${options.host} is already in use; stop the other server or pass --port.\n`);
      return 1;
    }
    throw err;
  }
  const everywhere = server.listening.startsWith('0.0.0.0:') || server.listening.startsWith('[::]:');
  const keys = options.credentials.length;
  process.stdout.write(
    `Versa is ready at ${server.url}\n` +
      `  listening on: ${server.listening}${everywhere ? ' (every interface)' : ''}\n` +
      `  credentials: ${keys > 0 ? `${keys} access key${keys > 1 ? 's' : ''}; every request must be signed with one` : 'any access key (loopback only)'}\n` +
      weakSecrets(options.credentials) +
      `  sandbox: ${server.isolation.sandbox === 'bwrap' ? server.isolation.sandboxDetail : `OFF: ${server.isolation.sandboxDetail}`}\n` +
      `  limits: ${server.isolation.limits}\n` +
      `  data: ${options.dataDir}${options.store ? ` (state in PostgreSQL at ${redact(options.store)}; node ${server.node})` : ''}${storeWarning(options.store)}${options.timeScale !== 1 ? `\n  time scale: ${options.timeScale}x` : ''}\n` +
      `  try:  aws --endpoint-url ${server.url} lambda list-functions\n`,
  );
  const running = server;
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stdout.write(`\nVersa received ${signal}; stopping.\n`);
      running.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

/** Secrets shorter than this are said to be guessable at start. */
const STRONG_SECRET_LENGTH = 20;

/**
 * A warning for each configured secret short enough to guess: a source may try 30 wrong ones a minute
 * (access/failures.ts), which a few random characters do not withstand for long.
 */
function weakSecrets(keys: readonly { accessKeyId: string; secretAccessKey: string }[]): string {
  return keys
    .filter((k) => k.secretAccessKey.length < STRONG_SECRET_LENGTH)
    .map(
      (k) =>
        `  WARNING: the secret of ${k.accessKeyId} has only ${k.secretAccessKey.length} characters; whoever can reach this server may ` +
        `guess at it (30 tries a minute from each address). Use ${STRONG_SECRET_LENGTH} or more random ones, as AWS's 40 are ` +
        `(openssl rand -base64 30).\n`,
    )
    .join('');
}

/** A store URL as it may be printed: without its password. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * Functions have the network their node has: a database that lets in whoever connects (no password in
 * the URL, e.g. trust authentication on loopback) lets them in too, and with it the platform's state.
 */
function storeWarning(url: string): string {
  if (!url || new URL(url).password) return '';
  return (
    '\n  WARNING: the store is reached without a password in its URL. Functions on this node can open connections ' +
    'as any local process can: unless PostgreSQL itself asks for a password (not trust authentication), a function ' +
    'could read and change every function, alias and deployment. See docs/scaling.md, "Limits".'
  );
}
