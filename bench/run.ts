/**
 * Versa's benchmark (`npm run bench`). In one run it measures, on this machine:
 *   1. a bare Node `http` server answering "hello" (the reference), and the floor of Versa's design: a Node
 *      `http` server that answers each request through one pipe round trip to a warm child process (bench/floor-server.ts);
 *   2. warm Invoke through the Lambda API for a Node and a Python handler returning "hello";
 *   3. cold start: the first Invoke of freshly created functions, per runtime;
 *   4. resident memory of the warm execution environments, and whether it stays flat: each warm Node
 *      environment's RSS at the start and end of a soak of warm Node Invoke (--soak S, default 60 s);
 *   5. the deployment controller: 200 simultaneous CodeDeploy deployments on a fast platform clock, timed
 *      per controller step, next to one deployment alone on the same server;
 *   6. past one machine: warm Node Invoke on one node on PostgreSQL and on two nodes sharing one database
 *      (the connections split between them), how long after an alias moves on one node the other serves
 *      the new version (beside the same on one node), and phase 5 again on one PostgreSQL node. Each run
 *      makes its own databases (createTestDatabase) and drops them at the end; when no PostgreSQL server
 *      answers, it says so and measures the rest;
 *   7. how soon `versa start` answers: spawn to first answers, on fresh data dirs and on restarts (bench/readiness.ts);
 * prints a table, checks the figures against the project's goals and writes bench/results/latest.json.
 *
 * Each party runs in its own process: the reference server, the Versa server (bench/versa-server.ts)
 * and the load generator (autocannon, bench/load.ts). Everything listens on 127.0.0.1 only; every
 * child process and temporary directory is removed at the end, also on failure or Ctrl-C.
 *
 * The warm targets are measured in rounds that alternate between them (bare, Node, Python, bare, ...),
 * so that a machine whose speed drifts during the run (a shared or virtual one does) moves them alike.
 *
 * Flags: --duration S (measured seconds per target, default 10), --rounds N (default 5), --warmup S
 * (Versa's warm-up, default 20: ten Node environments are ten V8s that each see a tenth of the load,
 * and throughput keeps rising for about 20 s while they optimise; the bare server gets 3 s), --cold N
 * (fresh functions per runtime for cold start, default 5), --connections N (default 10), --deployments N
 * (simultaneous deployments in phase 5, default 200; 0 skips it), --deployments-only (phase 5 alone), --starts N
 * (starts of `versa start` per case in phase 7, default 5), --readiness-only (phase 7 alone),
 * --soak S (seconds of the memory soak, default 60; 0 skips it), --soak-only (the soak alone, on a server of
 * its own after the warm-up), --signatures-only (warm Node Invoke with and without credentials, alone), and
 * --profile, which instead CPU-profiles the Versa server and the Node runtimes under warm Node load
 * and summarises where the time goes (with --credentials, on a server that checks every signature).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand as CreateCodeDeployDeploymentCommand,
  CreateDeploymentGroupCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { strToU8, zipSync } from 'fflate';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { summarise, type CpuProfile, type Entry, type ProfileSummary } from './profile.js';
import { READINESS_HEAD, readinessGoal, readinessPhase, readinessRows } from './readiness.js';
import {
  capturedOutput,
  cpuBetween,
  cpuOfBackends,
  cpuSnapshot,
  descendantsRunning,
  killAllNow,
  machineBusyPct,
  backendsPct,
  start,
  stopAll,
  tempDir,
  type Child,
} from './procs.js';
import { ask, readyOf, type Answer, type EnvironmentInfo, type LoadOptions, type LoadResult } from './protocol.js';
import { latencyStats, median, type LatencyStats } from './stats.js';
import { createTestDatabase } from '../src/store/postgres/test-database.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = path.join(ROOT, 'bench', 'results');
const here = (file: string) => new URL(`./${file}`, import.meta.url);
const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
/** The whole run must end within this, whatever happens. */
const MiB = 1024 * 1024;
// The SDK's notice that future releases need Node 22 says nothing about this benchmark.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '' },
    warmup: { type: 'string', default: '' },
    cold: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    deployments: { type: 'string', default: '200' },
    'deployments-only': { type: 'boolean', default: false },
    starts: { type: 'string', default: '5' },
    'readiness-only': { type: 'boolean', default: false },
    soak: { type: 'string', default: '' },
    'soak-only': { type: 'boolean', default: false },
    'signatures-only': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    credentials: { type: 'boolean', default: false },
  },
});
const positive = (name: string, text: string, fallback: number): number => {
  const n = text === '' ? fallback : Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number; got ${text}`);
  return n;
};
const DURATION = positive('duration', flags.duration, flags.profile ? 5 : 10);
const WARMUP = positive('warmup', flags.warmup, 20);
/** The reference server is one process at full speed: it is warm in well under a second. */
const BARE_WARMUP = Math.min(3, WARMUP);
/** Warm-up is run in steps of at most this many seconds, to show how throughput climbs. */
const WARMUP_STEP = 5;
const COLD = Math.round(positive('cold', flags.cold, 5));
/** Seconds of load during which the warm Node environments' resident memory is watched (0 skips it). */
const SOAK = flags.soak === '0' ? 0 : Math.round(positive('soak', flags.soak, 60));
/** The whole run stops after this long: room for fifteen targets' warm-up and measuring, and the rest (two deployment phases). */
const TIME_LIMIT_MS = (300 + 15 * (WARMUP + DURATION) + SOAK) * 1000;
const CONNECTIONS = Math.round(positive('connections', flags.connections, 10));
const ROUNDS = Math.round(positive('rounds', flags.rounds, 5));
const STARTS = Math.round(positive('starts', flags.starts, 5));
const DEPLOYMENTS = flags.deployments === '0' ? 0 : Math.round(positive('deployments', flags.deployments, 200));
/** The soak's RSS is read after every step of this many seconds. */
const SOAK_STEP = 10;
/** How much an environment's RSS may grow over the soak and still count as flat (GC leaves a few pages either way). */
const SOAK_FLAT_MIB = 1;
/** Alias moves per cache-invalidation measurement. */
const FLIPS = 20;
if (flags['deployments-only'] && DEPLOYMENTS === 0) throw new Error('--deployments-only needs --deployments above 0');
if (flags['soak-only'] && SOAK === 0) throw new Error('--soak-only needs --soak above 0');

/** The key of the server that checks signatures. */
const BENCH_KEY = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' };

/** How the bench's SDK clients reach a server that accepts any key: no retries, so a failure shows. */
function clientOptions(endpoint: string) {
  return { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 };
}

/** The headers the SDK would send for a POST of `body` to `url`, signed now with BENCH_KEY. */
async function signedHeaders(url: string, body: string): Promise<Record<string, string>> {
  const target = new URL(url);
  const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: BENCH_KEY, sha256: Sha256 });
  const out = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    path: target.pathname,
    query: {},
    headers: { host: target.host, 'content-type': 'application/json' },
    body,
  });
  const { host: _host, ...headers } = out.headers;
  return headers;
}

/** What a real SDK client sends; a server without credentials checks that it is whole, not whose it is. */
const FLOOR_LABEL = 'floor: node:http + a pipe to a child process';

const INVOKE_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  'x-amz-date': '20261122T000000Z',
  authorization:
    'AWS4-HMAC-SHA256 Credential=versa/20261122/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date, ' +
    `Signature=${'0'.repeat(64)}`,
};

// ---------------------------------------------------------------------------------------------------
// Machine and interpreter

interface Python {
  command: string;
  version: string;
}

/**
 * The interpreter for python3.12 functions: $BENCH_PYTHON, else a python3.12 (on PATH or under pyenv),
 * else python3; always the real binary (sys.executable), since a version-manager shim in front of it
 * would add its own start-up time to every cold start.
 */
function findPython(): Python {
  const pyenvRoot = process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
  const pyenv = (() => {
    try {
      return readdirSync(path.join(pyenvRoot, 'versions'))
        .filter((v) => v.startsWith('3.12'))
        .map((v) => path.join(pyenvRoot, 'versions', v, 'bin', 'python3.12'));
    } catch {
      return [];
    }
  })();
  const candidates = [process.env.BENCH_PYTHON, 'python3.12', ...pyenv, 'python3'].filter((c): c is string => !!c);
  for (const candidate of candidates) {
    try {
      const out = execFileSync(candidate, ['-c', 'import sys; print(sys.executable); print(sys.version.split()[0])'], {
        encoding: 'utf8',
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const [command, version] = out.trim().split('\n');
      if (command && version) return { command, version };
    } catch {
      // try the next
    }
  }
  throw new Error('no Python interpreter found (set BENCH_PYTHON)');
}

function machine(python: Python) {
  const cpus = os.cpus();
  return {
    loadAverageAtStart: os.loadavg()[0],
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: `${python.version} (${python.command})`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

const fixed = (n: number | undefined, digits = 1) => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits));
const pct = (n: number) => `${fixed(n * 100, 1)} %`;

function table(head: string[], rows: string[][], rightFrom = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= rightFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function zip(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])));
}

interface FunctionKind {
  label: string;
  runtime: Runtime;
  handler: string;
  /** The code, made unique per function so that each cold start unpacks its own zip. */
  files: (name: string) => Record<string, string>;
}

const NODE: FunctionKind = {
  label: 'nodejs20.x',
  runtime: 'nodejs20.x',
  handler: 'index.handler',
  files: (name) => ({ 'index.mjs': `// ${name}\nexport const handler = async () => 'hello';\n` }),
};
const PYTHON: FunctionKind = {
  label: 'python3.12',
  runtime: 'python3.12',
  handler: 'lambda_function.handler',
  files: (name) => ({ 'lambda_function.py': `# ${name}\ndef handler(event, context):\n    return "hello"\n` }),
};

async function createFunction(lambda: LambdaClient, kind: FunctionKind, name: string): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: kind.runtime,
      Handler: kind.handler,
      Role: ROLE,
      Code: { ZipFile: zip(kind.files(name)) },
    }),
  );
}

interface InvokeTiming {
  ms: number;
  initMs?: number;
  durationMs?: number;
}

/** One Invoke over HTTP, timed from the client, with the REPORT line read from the tail log. */
async function invokeOnce(url: string, name: string): Promise<InvokeTiming> {
  const started = performance.now();
  const res = await fetch(`${url}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    headers: { ...INVOKE_HEADERS, 'x-amz-log-type': 'Tail' },
    body: '{}',
  });
  const body = await res.text();
  const ms = performance.now() - started;
  if (res.status !== 200 || res.headers.get('x-amz-function-error') || body !== '"hello"') {
    throw new Error(`Invoke ${name} answered ${res.status} ${res.headers.get('x-amz-function-error') ?? ''}: ${body.slice(0, 500)}`);
  }
  const log = Buffer.from(res.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8');
  const report = log.split('\n').find((l) => l.startsWith('REPORT '));
  const num = (re: RegExp) => {
    const m = report ? re.exec(report) : null;
    return m ? Number(m[1]) : undefined;
  };
  return { ms, initMs: num(/Init Duration: ([\d.]+) ms/), durationMs: num(/\tDuration: ([\d.]+) ms/) };
}

// ---------------------------------------------------------------------------------------------------
// The parties

/** Warm Invokes with body `{}` of function `name` on a Versa server, as a load target. */
function invokeTarget(label: string, loader: Child, versa: { child: Child; url: string }, name: string): Target {
  return new Target(label, loader, versa.child, {
    url: `${versa.url}/2015-03-31/functions/${name}/invocations`,
    method: 'POST',
    headers: INVOKE_HEADERS,
    body: '{}',
  });
}

async function startVersa(
  python: Python,
  extra: {
    metrics?: 'on' | 'off';
    sandbox?: 'off' | 'auto';
    timeScale?: number;
    maxEnvironments?: number;
    credentials?: typeof BENCH_KEY;
    /** A PostgreSQL URL (`versa start --store`); SQLite in the data directory when absent. */
    store?: string;
  } = {},
): Promise<{ child: Child; url: string; sandbox: string }> {
  const dataDir = tempDir(mkdtempSync(path.join(os.tmpdir(), 'versa-bench-')));
  // Room for both functions' 10 environments at once, so that neither goes cold between rounds.
  const config = { dataDir, maxEnvironments: 24, pythonCommand: python.command, logLevel: 'warn', metrics: 'on', ...extra };
  const child = start('versa', here('versa-server.js'), [JSON.stringify(config)], { group: true, capture: true });
  const ready = await readyOf(child.proc, 'the Versa server', 30_000);
  if (!ready.url) throw new Error('the Versa server did not say where it listens');
  return { child, url: ready.url, sandbox: ready.sandbox ?? 'off' };
}

/**
 * A Versa server that checks every signature against BENCH_KEY, with a warm Node function `name`, and
 * its Invoke as a load target, signed as the SDK signs (afresh before each load run).
 */
async function signingTarget(
  python: Python,
  loader: Child,
  name: string,
): Promise<{ signing: { child: Child; url: string }; signed: Target }> {
  const signing = await startVersa(python, { credentials: BENCH_KEY });
  const lambda = new LambdaClient({ endpoint: signing.url, region: 'us-east-1', credentials: BENCH_KEY, maxAttempts: 1 });
  try {
    await createFunction(lambda, NODE, name);
  } finally {
    lambda.destroy();
  }
  const url = `${signing.url}/2015-03-31/functions/${name}/invocations`;
  const signed = new Target(
    `Versa Invoke ${NODE.label} (credentials on)`,
    loader,
    signing.child,
    { url, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    { freshHeaders: () => signedHeaders(url, '{}') },
  );
  return { signing, signed };
}

async function startBare(): Promise<{ child: Child; url: string }> {
  const child = start('bare', here('bare-server.js'), []);
  const ready = await readyOf(child.proc, 'the bare server', 10_000);
  if (!ready.url) throw new Error('the bare server did not say where it listens');
  return { child, url: ready.url };
}

/** The floor of Versa's design (floor-server.ts): HTTP, then one pipe round trip to a warm child process. */
async function startFloor(): Promise<{ child: Child; url: string }> {
  const child = start('floor', here('floor-server.js'), [String(CONNECTIONS)]);
  const ready = await readyOf(child.proc, 'the floor server', 10_000);
  if (!ready.url) throw new Error('the floor server did not say where it listens');
  return { child, url: ready.url };
}

async function startLoad(): Promise<Child> {
  const child = start('load', here('load.js'), []);
  await readyOf(child.proc, 'the load generator', 10_000);
  return child;
}

async function load(loader: Child, options: LoadOptions): Promise<LoadResult> {
  return (await loadWithLatencies(loader, options)).result;
}

async function loadWithLatencies(loader: Child, options: LoadOptions): Promise<{ result: LoadResult; latencies: Float64Array }> {
  return ask<Answer & { result: LoadResult; latencies: Float64Array }>(
    loader.proc,
    { type: 'run', options },
    options.duration * 1000 + 30_000,
  );
}

async function environments(versa: Child): Promise<EnvironmentInfo[]> {
  return (await ask<Answer & { items: EnvironmentInfo[] }>(versa.proc, { type: 'environments' }, 10_000)).items;
}

interface Phase {
  /** Throughput of each warm-up step (req/s), oldest first. */
  warmup: number[];
  /** Throughput of each measured round (req/s). */
  rounds: number[];
  /** The measured rounds together. */
  load: LoadResult;
  /** CPU during the measured rounds, in % of one core. */
  cpu: {
    loadGenerator: number;
    server: number;
    /** The server's main thread alone (part of `server`): the one that answers requests. */
    serverMainThread: number;
    runtimes: number;
    /** Most runtime processes busy in a round. */
    runtimeProcesses: number;
    /** The PostgreSQL backends serving the target's database (0 on SQLite). */
    database: number;
    machine: number;
    /** The machine's busy CPU that none of the benchmark's processes used: other work and the kernel. */
    other: number;
  };
}

interface Slice {
  result: LoadResult;
  latencies: Float64Array;
  cpu: ReturnType<typeof cpuBetween>;
  /** The PostgreSQL backends serving the target's database, in % of one core (0 on SQLite). */
  databasePct: number;
}

/** What a target measures besides its load. */
interface TargetExtras {
  /** Headers made afresh before each load run (a signature stays valid for 15 minutes only). */
  freshHeaders?: () => Promise<Record<string, string>>;
  /** The PostgreSQL database the target's servers share: its backends' CPU is counted apart. */
  database?: string;
}

/**
 * One thing under load (the bare server, or one Versa function): warmed up once, then measured in
 * rounds that alternate with the other targets', so that a machine whose speed drifts during the run
 * moves every target alike and their ratio stays fair.
 */
class Target {
  readonly warmup: number[] = [];
  private readonly slices: Slice[] = [];

  private readonly servers: Child[];

  constructor(
    readonly label: string,
    private readonly loader: Child,
    /** The server under load; several (the nodes of a cluster) when `options.url` lists one URL for each. */
    server: Child | Child[],
    private readonly options: Omit<LoadOptions, 'duration' | 'connections'>,
    private readonly extras: TargetExtras = {},
  ) {
    this.servers = Array.isArray(server) ? server : [server];
  }

  async warm(seconds: number): Promise<void> {
    const steps = Math.ceil(seconds / WARMUP_STEP);
    for (let i = 0; i < steps; i++) this.warmup.push((await load(this.loader, await this.settings(seconds / steps))).rps);
  }

  async measure(seconds: number): Promise<number> {
    const pids = this.servers.map((s) => s.proc.pid!);
    const database = this.extras.database;
    const before = pids.map(cpuSnapshot);
    const dbBefore = database ? cpuOfBackends(database) : undefined;
    const started = performance.now();
    const { result, latencies } = await loadWithLatencies(this.loader, await this.settings(seconds));
    const elapsed = (performance.now() - started) / 1000;
    const databasePct = dbBefore && database ? backendsPct(dbBefore, cpuOfBackends(database), elapsed) : 0;
    // Several servers: their own and their runtimes' CPU add up; the machine's is the same for all.
    const each = pids.map((pid, i) => cpuBetween(before[i]!, cpuSnapshot(pid)));
    const cpu = {
      selfPct: each.reduce((acc, c) => acc + c.selfPct, 0),
      mainThreadPct: each.reduce((acc, c) => acc + c.mainThreadPct, 0),
      descendantsPct: each.reduce((acc, c) => acc + c.descendantsPct, 0),
      busyDescendants: each.reduce((acc, c) => acc + c.busyDescendants, 0),
      machinePct: each[0]!.machinePct,
    };
    this.slices.push({ result, latencies, cpu, databasePct });
    return result.rps;
  }

  phase(): Phase {
    const results = this.slices.map((s) => s.result);
    const sum = (f: (r: LoadResult) => number) => results.reduce((acc, r) => acc + f(r), 0);
    const seconds = sum((r) => r.seconds);
    const ok = sum((r) => r.ok);
    const all = new Float64Array(sum((r) => r.ok));
    let at = 0;
    for (const { latencies } of this.slices) {
      all.set(latencies.subarray(0, Math.min(latencies.length, all.length - at)), at);
      at += latencies.length;
    }
    const statusCodes: Record<string, number> = {};
    for (const r of results) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
    const load: LoadResult = {
      ok,
      non2xx: sum((r) => r.non2xx),
      errors: sum((r) => r.errors),
      timeouts: sum((r) => r.timeouts),
      seconds,
      rps: ok / seconds,
      latencyMs: latencyStats(all.subarray(0, at).sort()),
      autocannon: {
        requestsPerSecondMean: sum((r) => r.autocannon.requestsPerSecondMean) / results.length,
        latencyP50: median(results.map((r) => r.autocannon.latencyP50)),
        latencyP99: median(results.map((r) => r.autocannon.latencyP99)),
      },
      statusCodes,
      cpuSeconds: sum((r) => r.cpuSeconds),
    };
    // CPU shares weighted by each round's length.
    const weighted = (f: (s: Slice) => number) => this.slices.reduce((acc, s) => acc + f(s) * s.result.seconds, 0) / seconds;
    const loadGenerator = (100 * load.cpuSeconds) / seconds;
    const server = weighted((s) => s.cpu.selfPct);
    const serverMainThread = weighted((s) => s.cpu.mainThreadPct);
    const runtimes = weighted((s) => s.cpu.descendantsPct);
    const database = weighted((s) => s.databasePct);
    const machine = weighted((s) => s.cpu.machinePct);
    return {
      warmup: this.warmup,
      rounds: results.map((r) => r.rps),
      load,
      cpu: {
        loadGenerator,
        server,
        serverMainThread,
        runtimes,
        runtimeProcesses: Math.max(0, ...this.slices.map((s) => s.cpu.busyDescendants)),
        database,
        machine,
        other: machine - loadGenerator - server - runtimes - database,
      },
    };
  }

  private async settings(duration: number): Promise<LoadOptions> {
    const fresh = this.extras.freshHeaders;
    const headers = fresh ? { ...this.options.headers, ...(await fresh()) } : this.options.headers;
    return { ...this.options, ...(headers && { headers }), connections: CONNECTIONS, duration };
  }
}

interface Memory {
  environments: number;
  /** Resident set size (VmRSS). */
  medianMiB: number;
  minMiB: number;
  maxMiB: number;
  /** Proportional set size, and private memory: shared pages counted once across processes, or not at all. */
  medianPssMiB: number;
  medianPrivateMiB: number;
}

function memoryOf(envs: EnvironmentInfo[], functionName: string): Memory {
  const mine = envs.filter((e) => e.functionName === functionName);
  const mib = (f: (e: EnvironmentInfo) => number | null) =>
    mine
      .map(f)
      .filter((n): n is number => n !== null && Number.isFinite(n))
      .map((n) => n / MiB)
      .sort((a, b) => a - b);
  const rss = mib((e) => e.residentBytes);
  return {
    environments: rss.length,
    medianMiB: median(rss),
    minMiB: rss[0] ?? NaN,
    maxMiB: rss[rss.length - 1] ?? NaN,
    medianPssMiB: median(mib((e) => e.pssBytes)),
    medianPrivateMiB: median(mib((e) => e.privateBytes)),
  };
}

interface ColdStart {
  runtime: string;
  /** Client-side time of each first Invoke, ms. */
  samples: InvokeTiming[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  medianInitMs: number;
  /** The very first cold start after the server booted (not counted: it also warms the server's code). */
  primer: InvokeTiming;
}

async function coldStarts(lambda: LambdaClient, url: string, kind: FunctionKind, tag: string): Promise<ColdStart> {
  const names = Array.from({ length: COLD }, (_, i) => `bench-cold-${tag}-${i + 1}`);
  const primerName = `bench-cold-${tag}-primer`;
  for (const name of [primerName, ...names]) await createFunction(lambda, kind, name);
  const primer = await invokeOnce(url, primerName);
  const samples: InvokeTiming[] = [];
  for (const name of names) samples.push(await invokeOnce(url, name));
  const ms = samples.map((s) => s.ms);
  return {
    runtime: kind.label,
    samples,
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    medianInitMs: median(samples.map((s) => s.initMs).filter((n): n is number => n !== undefined)),
    primer,
  };
}

/** The soak: each warm Node environment's resident memory, read at the start, every SOAK_STEP seconds and at the end. */
interface Soak {
  seconds: number;
  /** Seconds into the soak of each reading. */
  at: number[];
  rps: number;
  failed: number;
  /** Per environment alive at the start: its RSS in MiB at each reading, null once it is gone. */
  environments: { id: string; rssMiB: (number | null)[] }[];
  /** Environments of the function that were not there at the start (a replaced one, say). */
  newEnvironments: number;
  /** Across the environments alive at the start, at each reading. */
  medianMiB: number[];
  maxMiB: number[];
  /** End minus start, per environment alive at both. */
  growthMiB: { median: number; min: number; max: number };
}

/**
 * Whether a warm environment's resident memory stays flat under load: `seconds` of load on `functionName`
 * (in steps of SOAK_STEP, the environments read after each). Kept apart from the other phases so that it
 * can also run alone (--soak-only).
 */
async function soak(loader: Child, versa: Child, url: string, functionName: string, seconds: number): Promise<Soak> {
  const read = async () => {
    const mine = (await environments(versa)).filter((e) => e.functionName === functionName && e.residentBytes !== null);
    return new Map(mine.map((e) => [e.id, e.residentBytes! / MiB]));
  };
  const readings = [await read()];
  const at = [0];
  let ok = 0;
  let failed = 0;
  let measured = 0;
  while (at[at.length - 1]! < seconds) {
    const step = Math.min(SOAK_STEP, seconds - at[at.length - 1]!);
    const options = { url: `${url}/2015-03-31/functions/${functionName}/invocations`, headers: INVOKE_HEADERS, body: '{}' };
    const r = await load(loader, { ...options, method: 'POST', connections: CONNECTIONS, duration: step });
    ok += r.ok;
    failed += r.non2xx + r.errors + r.timeouts;
    measured += r.seconds;
    readings.push(await read());
    at.push(at[at.length - 1]! + step);
  }
  const first = readings[0]!;
  const last = readings[readings.length - 1]!;
  const envs = [...first.keys()].map((id) => ({ id, rssMiB: readings.map((m) => m.get(id) ?? null) }));
  const alive = (i: number) => envs.map((e) => e.rssMiB[i]).filter((n): n is number => n !== null);
  const growth = [...first].filter(([id]) => last.has(id)).map(([id, start]) => last.get(id)! - start);
  return {
    seconds,
    at,
    rps: ok / measured,
    failed,
    environments: envs,
    newEnvironments: [...last.keys()].filter((id) => !first.has(id)).length,
    medianMiB: readings.map((_, i) => median(alive(i))),
    maxMiB: readings.map((_, i) => Math.max(...alive(i))),
    growthMiB: { median: median(growth), min: Math.min(...growth), max: Math.max(...growth) },
  };
}

/** A warm Node environment at most 50 MiB resident at the end of the soak, and no environment grown by more than SOAK_FLAT_MIB. */
/** 50 MB, the speed issue's bound on a warm environment's resident memory, in MiB. */
const MB50_MIB = 50e6 / 2 ** 20;

function soakGoals(s: Soak): Goal[] {
  const end = s.medianMiB[s.medianMiB.length - 1]!;
  return [
    { goal: `Node warm env <= 50 MB resident after the ${s.seconds} s soak`, figure: `${fixed(end)} MiB`, met: end <= MB50_MIB },
    {
      goal: `Node warm env RSS flat over the soak (each grows <= ${SOAK_FLAT_MIB} MiB)`,
      figure: `max ${s.growthMiB.max >= 0 ? '+' : ''}${fixed(s.growthMiB.max, 2)} MiB`,
      met: s.growthMiB.max <= SOAK_FLAT_MIB,
    },
  ];
}

function reportSoak(s: Soak): void {
  console.log(
    `\nSoak: ${s.seconds} s of warm Node Invoke at ${CONNECTIONS} connections (${fixed(s.rps, 0)} req/s, ${s.failed} failed); ` +
      `resident memory (VmRSS) of the ${s.environments.length} environments, MiB`,
  );
  const rows = [
    ['median', ...s.medianMiB.map((n) => fixed(n))],
    ['max', ...s.maxMiB.map((n) => fixed(n))],
  ];
  console.log(table(['', ...s.at.map((t) => `${t} s`)], rows));
  const g = s.growthMiB;
  console.log(
    `Growth from start to end, per environment: median ${fixed(g.median, 2)}, min ${fixed(g.min, 2)}, max ${fixed(g.max, 2)} MiB` +
      (s.newEnvironments ? `; ${s.newEnvironments} environment(s) started during the soak` : ''),
  );
}

/** The soak alone (--soak-only): a Node function on a server of its own, warmed up, then soaked. */
async function soakOnly(python: Python): Promise<{ soak: Soak; memory: Memory; sandbox: string }> {
  const loader = await startLoad();
  const versa = await startVersa(python);
  const lambda = new LambdaClient(clientOptions(versa.url));
  try {
    const name = 'bench-soak-node';
    await createFunction(lambda, NODE, name);
    await invokeOnce(versa.url, name);
    const warm = invokeTarget(`Versa Invoke ${NODE.label}`, loader, versa, name);
    process.stdout.write(`warm-up ${warm.label} ... `);
    await warm.warm(WARMUP);
    console.log(`${warm.warmup.map((r) => fixed(r, 0)).join(', ')} req/s`);
    const soaked = await soak(loader, versa.child, versa.url, name, SOAK);
    return { soak: soaked, memory: memoryOf(await environments(versa.child), name), sandbox: versa.sandbox };
  } finally {
    lambda.destroy();
    await stopChild(versa.child);
  }
}

/** The sandbox's goals: warm throughput within 5 % of the same function unsandboxed, cold start at most 100 ms. */
function sandboxGoals(
  sandbox: string,
  warm: { kind: FunctionKind; phase: Phase }[],
  off: { label: string; phase: Phase }[],
  cold: ColdStart[],
): Goal[] {
  if (sandbox === 'off') return [{ goal: 'sandbox measured (bubblewrap runs here)', figure: 'sandbox off', met: false }];
  return warm.flatMap((w, i) => {
    const ratio = w.phase.load.rps / off[i]!.phase.load.rps;
    const c = cold.find((x) => x.runtime === w.kind.label)!.medianMs;
    return [
      { goal: `sandboxed warm ${w.kind.label} throughput >= 95 % of unsandboxed`, figure: pct(ratio), met: ratio >= 0.95 },
      { goal: `sandboxed ${w.kind.label} cold start <= 100 ms`, figure: `${fixed(c)} ms`, met: c <= 100 },
    ];
  });
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL and two nodes

/** The databases this run made: each is dropped at the end, also on failure or Ctrl-C. */
const databases: { name: string; drop: () => Promise<void> }[] = [];

/** A fresh PostgreSQL database (versa_test_<hex>, through createTestDatabase) for this run. */
async function freshDatabase(): Promise<{ url: string; name: string }> {
  const db = await createTestDatabase();
  const name = new URL(db.url).pathname.slice(1);
  databases.push({ name, drop: db.drop });
  return { url: db.url, name };
}

async function dropDatabases(): Promise<void> {
  for (const db of databases.splice(0)) {
    await db.drop().catch((err: unknown) => console.error(`could not drop the database ${db.name}: ${String(err)}`));
  }
}

/** The run's first PostgreSQL database, or why the PostgreSQL figures cannot be measured (no server answered). */
async function firstDatabase(): Promise<{ url: string; name: string } | { skipped: string }> {
  try {
    return await freshDatabase();
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    return {
      skipped:
        `PostgreSQL and two-node figures skipped: no PostgreSQL server answered at ` +
        `${new URL(process.env.VERSA_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres').host} (${cause}); ` +
        'start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set VERSA_TEST_PG, and run again.',
    };
  }
}

interface Versa {
  child: Child;
  url: string;
}

interface Cluster {
  /** One node alone on its own database. */
  single: Versa & { database: string };
  /** Two nodes sharing another database; `a` leads. */
  a: Versa;
  b: Versa;
  database: string;
}

interface Health {
  cluster: { node: string; leader?: string; leading: boolean; nodes: { id: string }[] };
}

async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url}/_versa/health`)).json()) as Health;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One node on `first`, and two nodes (A leading, then B) on a second fresh database, all as `versa start --store` runs them. */
async function startCluster(python: Python, first: { url: string; name: string }): Promise<Cluster> {
  const single = await startVersa(python, { store: first.url });
  const shared = await freshDatabase();
  const a = await startVersa(python, { store: shared.url });
  await until('node A to lead', 10_000, async () => ((await health(a.url)).cluster.leading ? true : undefined));
  const b = await startVersa(python, { store: shared.url });
  await until('node B to see both nodes', 10_000, async () => ((await health(b.url)).cluster.nodes.length >= 2 ? true : undefined));
  const hb = await health(b.url);
  if (hb.cluster.leading || hb.cluster.leader !== (await health(a.url)).cluster.node) {
    throw new Error(`node B should follow node A: ${JSON.stringify(hb.cluster)}`);
  }
  return { single: { ...single, database: first.name }, a, b, database: shared.name };
}

/** A function whose versions 1 and 2 answer with their own version number, and `live` on 1. */
async function twoVersions(lambda: LambdaClient, name: string): Promise<void> {
  const files = (tag: string) => ({
    'index.mjs': `// ${name} ${tag}\nexport const handler = async () => process.env.AWS_LAMBDA_FUNCTION_VERSION;\n`,
  });
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: NODE.runtime,
      Handler: NODE.handler,
      Role: ROLE,
      Code: { ZipFile: zip(files('1')) },
    }),
  );
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip(files('2')) }));
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
}

/** The version that served one Invoke of `name:qualifier` on the server at `url`. */
async function servedVersion(url: string, name: string, qualifier: string): Promise<string> {
  const res = await fetch(`${url}/2015-03-31/functions/${name}/invocations?Qualifier=${qualifier}`, {
    method: 'POST',
    headers: INVOKE_HEADERS,
    body: '{}',
  });
  const body = await res.text();
  if (res.status !== 200 || res.headers.get('x-amz-function-error')) {
    throw new Error(`Invoke ${name}:${qualifier} answered ${res.status}: ${body.slice(0, 500)}`);
  }
  return JSON.parse(body) as string;
}

/** How long after an alias moved the server reading it served the new version. */
interface Invalidation {
  label: string;
  /** Per flip, from UpdateAlias's answer (on the writing node) to the first Invoke answered by the new version (on the reading node), ms. */
  delayMs: number[];
  /** Per flip, the Invokes sent until one was served by the new version (1: the first already was). */
  invokes: number[];
  /** Per flip, UpdateAlias itself, client-side ms. */
  updateMs: number[];
}

/** Flips `live` between 1 and 2 through `writer`, each time polling `readUrl` with back-to-back Invokes until it serves the new version. */
async function invalidationDelays(label: string, writer: LambdaClient, readUrl: string, name: string): Promise<Invalidation> {
  // Both versions' environments warm on the reading node, and the alias in its cache.
  for (let i = 0; i < 3; i++) for (const q of ['1', '2', 'live']) await servedVersion(readUrl, name, q);
  const out: Invalidation = { label, delayMs: [], invokes: [], updateMs: [] };
  for (let i = 0; i < FLIPS; i++) {
    const to = i % 2 === 0 ? '2' : '1';
    const sent = performance.now();
    await writer.send(new UpdateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: to }));
    const moved = performance.now();
    let invokes = 0;
    for (;;) {
      invokes++;
      if ((await servedVersion(readUrl, name, 'live')) === to) break;
      if (performance.now() - moved > 10_000) throw new Error(`${label}: version ${to} not served 10 s after the alias moved`);
    }
    out.delayMs.push(performance.now() - moved);
    out.invokes.push(invokes);
    out.updateMs.push(moved - sent);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The benchmark

interface Goal {
  goal: string;
  figure: string;
  met: boolean;
}

async function benchmark(python: Python) {
  const date = new Date().toISOString();
  const info = machine(python);
  console.log(`Versa benchmark, ${date}`);
  console.log(`Machine: ${info.cpu} x ${info.cpus}, ${info.memoryGiB} GiB RAM, ${info.os}`);
  console.log(`Node ${info.node}; Python ${info.python}`);
  const busy = await machineBusyPct(1000);
  if (busy > 20) {
    console.log(`Note: the machine was ${fixed(busy, 0)} % busy just before the run: other work on it may skew the figures.`);
  }
  console.log(
    `Load: autocannon, ${CONNECTIONS} connections. Each target is warmed up (${BARE_WARMUP} s for the bare server, ${WARMUP} s ` +
      `for Versa), then measured for ${DURATION} s in ${ROUNDS} rounds that alternate between the targets.\n`,
  );

  // First, while nothing else of the benchmark runs.
  const readiness = await readinessPhase(STARTS);
  const loader = await startLoad();
  const bare = await startBare();
  const floorServer = await startFloor();
  const versa = await startVersa(python);
  const lambda = new LambdaClient(clientOptions(versa.url));
  try {
    // Cold starts first, while nothing else runs: on this server (sandboxed where bubblewrap runs) and on a
    // twin with the sandbox off, alternating runtime by runtime so that drift moves both alike.
    console.log(`sandbox: ${versa.sandbox}`);
    const unsandboxed = await startVersa(python, { sandbox: 'off' });
    const plainLambda = new LambdaClient(clientOptions(unsandboxed.url));
    process.stdout.write('cold starts ... ');
    const cold: ColdStart[] = [];
    const coldOff: ColdStart[] = [];
    for (const [kind, tag] of [
      [NODE, 'node'],
      [PYTHON, 'python'],
    ] as const) {
      cold.push(await coldStarts(lambda, versa.url, kind, tag));
      coldOff.push(await coldStarts(plainLambda, unsandboxed.url, kind, tag));
    }
    console.log(cold.map((c, i) => `${c.runtime} ${fixed(c.medianMs)} ms (sandbox off ${fixed(coldOff[i]!.medianMs)} ms)`).join(', '));

    const reference = new Target('bare node:http "hello"', loader, bare.child, { url: bare.url, method: 'GET' });
    const floor = new Target(FLOOR_LABEL, loader, floorServer.child, { url: floorServer.url, method: 'POST', body: '{}' });
    const functions: { kind: FunctionKind; name: string; target: Target }[] = [];
    for (const kind of [NODE, PYTHON]) {
      const name = `bench-warm-${kind === NODE ? 'node' : 'python'}`;
      await createFunction(lambda, kind, name);
      await invokeOnce(versa.url, name);
      const target = invokeTarget(`Versa Invoke ${kind.label}`, loader, versa, name);
      functions.push({ kind, name, target });
    }
    // The same Node function behind an API Gateway stage, with and without a 10 % canary.
    const nodeFn = functions.find((f) => f.kind === NODE)!;
    const stages = await gatewayStages(versa.url, nodeFn.name);
    const gateway = stages.map(
      (s) => new Target(`Versa GET via stage${s.canary ? ' (10 % canary)' : ''}`, loader, versa.child, { url: s.url, method: 'GET' }),
    );
    // The same Node function on a second server that records no metrics: what recording costs.
    const quiet = await startVersa(python, { metrics: 'off' });
    const quietLambda = new LambdaClient(clientOptions(quiet.url));
    await createFunction(quietLambda, NODE, nodeFn.name);
    quietLambda.destroy();
    await invokeOnce(quiet.url, nodeFn.name);
    const metricsOff = invokeTarget(`Versa Invoke ${NODE.label} (metrics off)`, loader, quiet, nodeFn.name);
    // The same Node function on a server that checks every signature against a configured key.
    const { signing, signed } = await signingTarget(python, loader, nodeFn.name);
    // The same Node and Python functions on the server with the sandbox off: what the sandbox costs warm.
    const sandboxOff: Target[] = [];
    for (const f of functions) {
      await createFunction(plainLambda, f.kind, f.name);
      await invokeOnce(unsandboxed.url, f.name);
      sandboxOff.push(invokeTarget(`Versa Invoke ${f.kind.label} (sandbox off)`, loader, unsandboxed, f.name));
    }
    plainLambda.destroy();
    // The same Node function on one node on PostgreSQL, and on two nodes sharing another database with
    // the connections split between them (connection i to node A when i is even, else B).
    const first = await firstDatabase();
    const skipped = 'skipped' in first ? first.skipped : undefined;
    if (skipped) console.log(skipped);
    const cluster = 'skipped' in first ? undefined : await startCluster(python, first);
    const postgres: Target[] = [];
    if (cluster) {
      const invokeUrl = (url: string) => `${url}/2015-03-31/functions/${nodeFn.name}/invocations`;
      for (const url of [cluster.single.url, cluster.a.url]) {
        const client = new LambdaClient(clientOptions(url));
        await createFunction(client, NODE, nodeFn.name);
        client.destroy();
      }
      for (const url of [cluster.single.url, cluster.a.url, cluster.b.url]) await invokeOnce(url, nodeFn.name);
      const request = { method: 'POST' as const, headers: INVOKE_HEADERS, body: '{}' };
      postgres.push(
        new Target(
          `Versa Invoke ${NODE.label} (PostgreSQL, one node)`,
          loader,
          cluster.single.child,
          { url: invokeUrl(cluster.single.url), ...request },
          { database: cluster.single.database },
        ),
        new Target(
          `Versa Invoke ${NODE.label} (PostgreSQL, two nodes)`,
          loader,
          [cluster.a.child, cluster.b.child],
          { url: [invokeUrl(cluster.a.url), invokeUrl(cluster.b.url)], ...request },
          { database: cluster.database },
        ),
      );
    }
    const targets = [reference, floor, ...functions.map((f) => f.target), ...postgres, ...sandboxOff, metricsOff, signed, ...gateway];
    await warmAndMeasure(targets, (target) =>
      target === reference || target === floor || gateway.includes(target) ? BARE_WARMUP : WARMUP,
    );
    // Both functions' environments are still alive (24 slots): read their memory now.
    const envs = await environments(versa.child);
    const warm = functions.map(({ kind, name, target }) => ({ kind, phase: target.phase(), memory: memoryOf(envs, name) }));
    if (SOAK > 0) process.stdout.write(`soak: ${SOAK} s of warm Node Invoke ... `);
    const soaked = SOAK > 0 ? await soak(loader, versa.child, versa.url, nodeFn.name, SOAK) : undefined;
    if (soaked) console.log(`RSS median ${soaked.medianMiB.map((n) => fixed(n)).join(' → ')} MiB`);
    // Cache invalidation, once nothing is under load: the alias moved on one node, read on the same or the other.
    process.stdout.write(`cache invalidation: ${FLIPS} alias moves each ... `);
    const invalidation: Invalidation[] = [];
    const flipName = 'bench-flip';
    await twoVersions(lambda, flipName);
    invalidation.push(await invalidationDelays('SQLite, one node (moved and read on it)', lambda, versa.url, flipName));
    if (cluster) {
      for (const [label, writer, reader] of [
        ['PostgreSQL, one node (moved and read on it)', cluster.single, cluster.single],
        ['PostgreSQL, two nodes (moved on A, read on B)', cluster.a, cluster.b],
      ] as const) {
        const client = new LambdaClient(clientOptions(writer.url));
        try {
          await twoVersions(client, flipName);
          invalidation.push(await invalidationDelays(label, client, reader.url, flipName));
        } finally {
          client.destroy();
        }
      }
    }
    console.log(invalidation.map((i) => `${i.label}: median ${fixed(median(i.delayMs), 2)} ms`).join('; '));
    await stopChild(versa.child);
    await stopChild(quiet.child);
    await stopChild(signing.child);
    await stopChild(unsandboxed.child);
    await stopChild(bare.child);
    await stopChild(floorServer.child);
    if (cluster) for (const server of [cluster.single, cluster.a, cluster.b]) await stopChild(server.child);
    // Last, on a server of its own, once nothing else runs: on SQLite, then on PostgreSQL.
    const deployments = DEPLOYMENTS > 0 ? await deploymentPhase(python) : undefined;
    const deploymentsPostgres = DEPLOYMENTS > 0 && cluster ? await deploymentPhase(python, (await freshDatabase()).url) : undefined;
    return {
      date,
      info,
      readiness,
      reference: reference.phase(),
      floor: floor.phase(),
      sandbox: versa.sandbox,
      cold,
      coldOff,
      warm,
      soak: soaked,
      sandboxOff: sandboxOff.map((t) => ({ label: t.label, phase: t.phase() })),
      gateway: gateway.map((g) => ({ label: g.label, phase: g.phase() })),
      metricsOff: { label: metricsOff.label, phase: metricsOff.phase() },
      signed: { label: signed.label, phase: signed.phase() },
      deployments,
      cluster: {
        skipped,
        warm: postgres.map((t) => ({ label: t.label, phase: t.phase() })),
        invalidation,
        deployments: deploymentsPostgres,
      },
    };
  } finally {
    lambda.destroy();
  }
}

/**
 * Warms each target up (for `warmup(target)` seconds), then measures them in ROUNDS rounds of
 * DURATION / ROUNDS seconds each, alternating between them.
 */
async function warmAndMeasure(targets: Target[], warmup: (target: Target) => number): Promise<void> {
  for (const target of targets) {
    process.stdout.write(`warm-up ${target.label} ... `);
    await target.warm(warmup(target));
    console.log(`${target.warmup.map((r) => fixed(r, 0)).join(', ')} req/s`);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`round ${round} of ${ROUNDS} ... `);
    // Each round starts one target further on, so no target always runs in the same place in the round
    // (a machine that is slower late in each round would otherwise always charge the same targets).
    const rps = new Map<Target, number>();
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round - 1) % targets.length]!;
      rps.set(target, await target.measure(DURATION / ROUNDS));
    }
    console.log(`${targets.map((t) => fixed(rps.get(t), 0)).join(', ')} req/s`);
  }
}

/**
 * The signature check alone (--signatures-only): warm Node Invoke on a server that accepts any key and
 * on one that checks every signature, in alternating rounds: what checking costs, measured in minutes.
 */
async function signaturesOnly(python: Python): Promise<{ anyKey: Phase; signed: Phase }> {
  const loader = await startLoad();
  const open = await startVersa(python);
  const name = 'bench-warm-node';
  const lambda = new LambdaClient(clientOptions(open.url));
  try {
    await createFunction(lambda, NODE, name);
  } finally {
    lambda.destroy();
  }
  const { signing, signed } = await signingTarget(python, loader, name);
  try {
    const anyKey = invokeTarget(`Versa Invoke ${NODE.label}`, loader, open, name);
    await warmAndMeasure([anyKey, signed], () => WARMUP);
    return { anyKey: anyKey.phase(), signed: signed.phase() };
  } finally {
    await stopChild(open.child);
    await stopChild(signing.child);
  }
}

/** A REST API with `GET /` on `functionName` on two stages: `prod`, and `canary` with a 10 % canary. */
async function gatewayStages(url: string, functionName: string): Promise<{ url: string; canary: boolean }[]> {
  const apigw = new APIGatewayClient(clientOptions(url));
  try {
    const api = await apigw.send(new CreateRestApiCommand({ name: 'bench-api' }));
    const root = (await apigw.send(new GetResourcesCommand({ restApiId: api.id }))).items![0]!.id!;
    await apigw.send(new PutMethodCommand({ restApiId: api.id, resourceId: root, httpMethod: 'GET', authorizationType: 'NONE' }));
    const uri = `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:${functionName}/invocations`;
    // Non-proxy (the console's default): the function's string comes back as a JSON string.
    await apigw.send(
      new PutIntegrationCommand({
        restApiId: api.id,
        resourceId: root,
        httpMethod: 'GET',
        type: 'AWS',
        integrationHttpMethod: 'POST',
        uri,
      }),
    );
    await apigw.send(new PutMethodResponseCommand({ restApiId: api.id, resourceId: root, httpMethod: 'GET', statusCode: '200' }));
    await apigw.send(
      new PutIntegrationResponseCommand({
        restApiId: api.id,
        resourceId: root,
        httpMethod: 'GET',
        statusCode: '200',
        selectionPattern: '',
      }),
    );
    await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'prod' }));
    await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'canary' }));
    await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'canary', canarySettings: { percentTraffic: 10 } }));
    return [
      { url: `${url}/restapis/${api.id!}/prod/_user_request_/`, canary: false },
      { url: `${url}/restapis/${api.id!}/canary/_user_request_/`, canary: true },
    ];
  } finally {
    apigw.destroy();
  }
}

/** What checking signatures costs: the signed Invoke's throughput and server CPU beside any key's. */
function signaturesLine(signed: Phase, anyKey: Phase): string {
  // The server's CPU per Invoke moves less with the machine's drift than throughput does.
  const serverUs = (phase: Phase) => (10_000 * phase.cpu.server) / phase.load.rps;
  const mainUs = (phase: Phase) => (10_000 * phase.cpu.serverMainThread) / phase.load.rps;
  return (
    `Signatures: warm Node Invoke with credentials on (every request's SigV4 checked) is ${pct(signed.load.rps / anyKey.load.rps)} ` +
    `of its throughput with any key accepted (${fixed(signed.load.rps, 0)} vs ${fixed(anyKey.load.rps, 0)} req/s; goal: within 5 %); ` +
    `the server's CPU per Invoke ${fixed(serverUs(signed), 1)} vs ${fixed(serverUs(anyKey), 1)} µs, ` +
    `its main thread's ${fixed(mainUs(signed), 1)} vs ${fixed(mainUs(anyKey), 1)} µs.`
  );
}

function report(r: Awaited<ReturnType<typeof benchmark>>) {
  const { reference, floor, cold, coldOff, warm, sandboxOff, gateway, metricsOff, signed, cluster } = r;
  const bareRps = reference.load.rps;
  const errs = (l: LoadResult) => String(l.non2xx + l.errors + l.timeouts);
  const throughputRow = (label: string, load: LoadResult) => [
    label,
    fixed(load.rps, 0),
    fixed(load.latencyMs.p50, 2),
    fixed(load.latencyMs.p99, 2),
    pct(load.rps / bareRps),
    errs(load),
  ];
  const throughputRows = [
    throughputRow('bare node:http "hello"', reference.load),
    throughputRow(FLOOR_LABEL, floor.load),
    ...warm.map(({ kind, phase }) => throughputRow(`Versa Invoke ${kind.label}`, phase.load)),
    ...[...cluster.warm, ...sandboxOff, metricsOff, signed, ...gateway].map(({ label, phase }) => throughputRow(label, phase.load)),
  ];
  const cpuRows = [
    [
      'bare node:http "hello"',
      fixed(reference.cpu.loadGenerator, 0),
      fixed(reference.cpu.server, 0),
      '-',
      '-',
      fixed(reference.cpu.other, 0),
      '-',
    ],
    ...[
      { label: FLOOR_LABEL, phase: floor },
      ...warm.map(({ kind, phase }) => ({ label: `Versa ${kind.label}`, phase })),
      ...cluster.warm,
      ...sandboxOff,
      metricsOff,
      signed,
      ...gateway,
    ].map(({ label, phase }) => [
      label.replace('Versa Invoke ', 'Versa '),
      fixed(phase.cpu.loadGenerator, 0),
      fixed(phase.cpu.server, 0),
      `${fixed(phase.cpu.runtimes, 0)} (${phase.cpu.runtimeProcesses} busy)`,
      phase.cpu.database ? fixed(phase.cpu.database, 0) : '-',
      fixed(phase.cpu.other, 0),
      fixed((1000 * (phase.cpu.server + phase.cpu.runtimes)) / 100 / phase.load.rps, 3),
    ]),
  ];
  const coldRows = [
    ...cold.map((c) => ({ ...c, runtime: `${c.runtime} (sandbox ${r.sandbox})` })),
    ...coldOff.map((c) => ({ ...c, runtime: `${c.runtime} (sandbox off)` })),
  ].map((c) => [
    c.runtime,
    fixed(c.medianMs),
    fixed(c.minMs),
    fixed(c.maxMs),
    fixed(c.medianInitMs),
    c.samples.map((s) => fixed(s.ms, 0)).join(' '),
  ]);
  const memRows = warm.map(({ kind, memory }) => [
    kind.label,
    String(memory.environments),
    fixed(memory.medianMiB),
    fixed(memory.minMiB),
    fixed(memory.maxMiB),
    fixed(memory.medianPssMiB),
    fixed(memory.medianPrivateMiB),
  ]);

  const node = warm.find((w) => w.kind === NODE)!;
  const python = warm.find((w) => w.kind !== NODE)!;
  const stage = gateway[0]!;
  const ratioOf = (p: Phase) => p.load.rps / bareRps;
  const p99Of = (p: Phase) => p.load.latencyMs.p99;
  const coldOf = (label: string) => cold.find((c) => c.runtime === label)!.medianMs;
  const memOf = (label: string) => warm.find((w) => w.kind.label === label)!.memory.medianMiB;
  // The speed issue's goals; 50 MB is decimal megabytes (47.7 MiB).
  const goals: Goal[] = [
    { goal: 'warm Node Invoke >= 25 % of bare', figure: pct(ratioOf(node.phase)), met: ratioOf(node.phase) >= 0.25 },
    { goal: 'warm Node Invoke p99 <= 5 ms', figure: `${fixed(p99Of(node.phase), 2)} ms`, met: p99Of(node.phase) <= 5 },
    { goal: `${stage.label} >= 20 % of bare`, figure: pct(ratioOf(stage.phase)), met: ratioOf(stage.phase) >= 0.2 },
    { goal: `${stage.label} p99 <= 5 ms`, figure: `${fixed(p99Of(stage.phase), 2)} ms`, met: p99Of(stage.phase) <= 5 },
    {
      goal: 'warm Python Invoke within 20 % of Node',
      figure: `x ${fixed(python.phase.load.rps / node.phase.load.rps, 2)}`,
      met: python.phase.load.rps >= 0.8 * node.phase.load.rps,
    },
    { goal: 'Node cold start <= 60 ms', figure: `${fixed(coldOf('nodejs20.x'))} ms`, met: coldOf('nodejs20.x') <= 60 },
    { goal: 'Python cold start <= 60 ms', figure: `${fixed(coldOf('python3.12'))} ms`, met: coldOf('python3.12') <= 60 },
    { goal: 'Node warm env <= 50 MB resident', figure: `${fixed(memOf('nodejs20.x'))} MiB`, met: memOf('nodejs20.x') <= MB50_MIB },
    { goal: 'Python warm env <= 50 MB resident', figure: `${fixed(memOf('python3.12'))} MiB`, met: memOf('python3.12') <= MB50_MIB },
    {
      goal: 'credentials on within 5 % of any key',
      figure: pct(signed.phase.load.rps / node.phase.load.rps),
      met: signed.phase.load.rps >= 0.95 * node.phase.load.rps,
    },
    ...(r.soak ? soakGoals(r.soak) : []),
    ...sandboxGoals(r.sandbox, warm, sandboxOff, cold),
    readinessGoal(r.readiness),
  ];

  console.log(`\nThroughput and latency (${CONNECTIONS} connections, ${DURATION} s measured per target, after its warm-up)`);
  console.log(table(['target', 'req/s', 'p50 ms', 'p99 ms', 'vs bare', 'failed'], throughputRows));
  const nodePhase = warm.find((w) => w.kind === NODE)!.phase;
  const nodeLoad = nodePhase.load;
  console.log(
    `Floor: warm Node Invoke is ${pct(nodeLoad.rps / floor.load.rps)} of the floor's throughput, which is ${pct(floor.load.rps / bareRps)} of bare ` +
      `(HTTP and one pipe round trip to a warm child process, nothing else).`,
  );
  console.log(
    `Metrics: warm Node Invoke with metrics on is ${pct(nodeLoad.rps / metricsOff.phase.load.rps)} of its throughput with them off ` +
      `(${fixed(nodeLoad.rps, 0)} vs ${fixed(metricsOff.phase.load.rps, 0)} req/s; goal: within 10 %).`,
  );
  console.log(signaturesLine(signed.phase, nodePhase));
  for (const [i, w] of warm.entries()) {
    const off = sandboxOff[i]!.phase.load;
    console.log(
      `Sandbox: warm ${w.kind.label} Invoke with the sandbox ${r.sandbox} is ${pct(w.phase.load.rps / off.rps)} of its throughput with it off ` +
        `(${fixed(w.phase.load.rps, 0)} vs ${fixed(off.rps, 0)} req/s; goal: within 5 %); cold start ${fixed(cold[i]!.medianMs)} vs ${fixed(coldOff[i]!.medianMs)} ms.`,
    );
  }
  const direct = nodeLoad.latencyMs.p50;
  for (const g of gateway) {
    console.log(
      `${g.label}: adds ${fixed(g.phase.load.latencyMs.p50 - direct, 2)} ms at p50 over a direct Node Invoke (goal: under 1 ms).`,
    );
  }
  const rounds = (p: Phase) => p.rounds.map((x) => fixed(x, 0)).join(', ');
  console.log(`Per round, req/s: bare ${rounds(reference)}; ${warm.map(({ kind, phase }) => `${kind.label} ${rounds(phase)}`).join('; ')}`);
  const drift = (Math.max(...reference.rounds) - Math.min(...reference.rounds)) / Math.max(...reference.rounds);
  if (drift > 0.15) {
    console.log(
      `Note: the bare server's rounds differ by ${pct(drift)}: the machine's speed drifted (the ratios stay fair; absolute figures less so).`,
    );
  }
  console.log(
    `Warm-up, req/s per ${WARMUP / Math.ceil(WARMUP / WARMUP_STEP)} s step: ` +
      warm.map(({ kind, phase }) => `${kind.label} ${phase.warmup.map((x) => fixed(x, 0)).join(', ')}`).join('; '),
  );
  console.log(`\nCPU during the measured run (% of one core; the machine has ${r.info.cpus} cores, so at most ${r.info.cpus * 100})`);
  console.log(
    table(
      ['target', 'load generator', 'server', 'runtime processes', 'PostgreSQL backends', 'other + kernel', 'Versa CPU ms/invoke'],
      cpuRows,
    ),
  );
  const disturbed = [reference, ...warm.map((w) => w.phase)].some((p) => p.cpu.other > 25);
  if (disturbed) {
    console.log('Note: "other + kernel" above 25 means something else was busy on this machine during a run; re-run when it is quiet.');
  }
  console.log(`\nCold start: first Invoke of a freshly created function (${COLD} per runtime, client-side time)`);
  console.log(table(['runtime', 'median ms', 'min ms', 'max ms', 'Init Duration median ms', 'samples ms'], coldRows));
  console.log('\nMemory per warm environment, after the load: resident (VmRSS), proportional (PSS) and private, of each runtime process');
  console.log(table(['runtime', 'environments', 'RSS median MiB', 'RSS min', 'RSS max', 'PSS median', 'private median'], memRows));
  if (r.soak) reportSoak(r.soak);
  console.log(`\nServer ready: from spawning \`versa start --port 0\` to its first answers (${STARTS} starts per data dir)`);
  console.log(table(READINESS_HEAD, readinessRows(r.readiness), 2));
  reportCluster(cluster, nodeLoad);
  if (r.deployments) reportDeployments(r.deployments, cluster.deployments);
  console.log('\nGoals');
  console.log(
    table(
      ['goal', 'figure', 'status'],
      goals.map((g) => [g.goal, g.figure, g.met ? 'met' : 'NOT met']),
    ),
  );
  return goals;
}

/** The PostgreSQL and two-node figures beside SQLite's: throughput (already in the table above), cache invalidation. */
function reportCluster(c: Awaited<ReturnType<typeof benchmark>>['cluster'], sqlite: LoadResult): void {
  console.log('\nPostgreSQL and two nodes');
  if (c.skipped) {
    console.log(c.skipped);
    return;
  }
  for (const { label, phase } of c.warm) {
    console.log(
      `${label}: ${pct(phase.load.rps / sqlite.rps)} of the same Invoke on one SQLite node (${fixed(phase.load.rps, 0)} vs ` +
        `${fixed(sqlite.rps, 0)} req/s; p50 ${fixed(phase.load.latencyMs.p50, 2)} vs ${fixed(sqlite.latencyMs.p50, 2)} ms); ` +
        `its PostgreSQL backends used ${fixed(phase.cpu.database, 0)} % of a core.`,
    );
  }
  console.log(
    `\nCache invalidation: live moved between versions 1 and 2 ${FLIPS} times with UpdateAlias, then Invokes of live sent back to back until the new version answered (both versions warm)`,
  );
  console.log(
    table(
      ['run', 'median ms', 'max ms', 'Invokes until seen, median / max', 'UpdateAlias median ms'],
      c.invalidation.map((i) => [
        i.label,
        fixed(median(i.delayMs), 2),
        fixed(Math.max(...i.delayMs), 2),
        `${fixed(median(i.invokes), 0)} / ${Math.max(...i.invokes)}`,
        fixed(median(i.updateMs), 2),
      ]),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------
// Phase 5: the deployment controller under many simultaneous deployments

/** The platform clock of the deployments phase runs this many times faster than real time. */
const DEPLOY_SCALE = 120;
const DEPLOY_CONFIG = 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute';
/** Its ten shifts: 10 % at once, then 10 % more every platform minute, all of it nine minutes in. */
const DEPLOY_STEPS = 10;
const DEPLOY_SHIFT_MS = 9 * 60_000;
const DEPLOY_SCHEDULE_MS = DEPLOY_SHIFT_MS / DEPLOY_SCALE;
/** Requests in flight while the functions and groups are made (not measured). */
const SETUP_WIDTH = 8;

interface DeploymentRun {
  deployments: number;
  /** Controller steps taken, all deployments together. */
  steps: number;
  /** Per step: loading the state, reading alarms, step(), storing the result. */
  stepMs: LatencyStats;
  /** Per step: performing its actions (alias weights and warm capacity, pre-warming, releases). */
  actMs: LatencyStats;
  /** From the first CreateDeployment sent until every CreateDeployment had answered. */
  createdMs: number;
  /** From the first CreateDeployment sent until the last deployment ended. */
  wallMs: number;
  /** Per deployment, how late its last traffic shift came compared with the schedule (real ms, from its stored AllowTraffic times). */
  lateMs: LatencyStats;
  succeeded: number;
}

interface DeploymentPhase {
  store: 'sqlite' | 'postgresql';
  timeScale: number;
  config: string;
  scheduleMs: number;
  maxEnvironments: number;
  alone: DeploymentRun;
  together: DeploymentRun;
}

/** Runs `fn` over `items`, at most `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/**
 * A server at time scale DEPLOY_SCALE with DEPLOYMENTS + 2 Node functions, each with versions 1 and 2,
 * `live` on 1 and a deployment group of its own (a group runs one deployment at a time). One deployment
 * runs alone to warm the server's code up, a second alone is the reference, then DEPLOYMENTS are created
 * at once; the server reports every controller step's timing over IPC.
 */
async function deploymentPhase(python: Python, store?: string): Promise<DeploymentPhase> {
  // Start pre-warms each target: a few slots keep that from turning into hundreds of processes.
  const maxEnvironments = 8;
  const versa = await startVersa(python, { timeScale: DEPLOY_SCALE, maxEnvironments, ...(store && { store }) });
  const on = store ? ' on PostgreSQL' : '';
  const options = clientOptions(versa.url);
  const lambda = new LambdaClient(options);
  const codeDeploy = new CodeDeployClient(options);
  const app = 'bench-deployments';
  // One to warm the server's code up (not counted), one alone (the reference), and the crowd.
  const names = Array.from({ length: DEPLOYMENTS + 2 }, (_, i) => `bench-deploy-${i}`);
  try {
    process.stdout.write(`deployments${on}: ${names.length} functions with two versions and a deployment group each ... `);
    const setupStarted = Date.now();
    await codeDeploy.send(new CreateApplicationCommand({ applicationName: app, computePlatform: 'Lambda' }));
    await inParallel(names, SETUP_WIDTH, async (name) => {
      await createFunction(lambda, NODE, name);
      await lambda.send(new PublishVersionCommand({ FunctionName: name }));
      await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip(NODE.files(`${name} v2`)) }));
      await lambda.send(new PublishVersionCommand({ FunctionName: name }));
      await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
      await codeDeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: app,
          deploymentGroupName: name,
          serviceRoleArn: 'arn:aws:iam::000000000000:role/codedeploy',
          deploymentConfigName: DEPLOY_CONFIG,
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        }),
      );
    });
    console.log(`${fixed((Date.now() - setupStarted) / 1000, 1)} s`);

    const run = async (groups: string[]): Promise<DeploymentRun & { ids: string[] }> => {
      await ask(versa.child.proc, { type: 'deployment-timings-start' }, 10_000);
      const started = Date.now();
      const created = await Promise.all(
        groups.map((name) => {
          const content = JSON.stringify({
            version: 0.0,
            Resources: [
              { fn: { Type: 'AWS::Lambda::Function', Properties: { Name: name, Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } },
            ],
          });
          return codeDeploy.send(
            new CreateCodeDeployDeploymentCommand({
              applicationName: app,
              deploymentGroupName: name,
              revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
            }),
          );
        }),
      );
      const createdMs = Date.now() - started;
      const waitMs = 20 * DEPLOY_SCHEDULE_MS + 60_000;
      const timings = await ask<Answer & { stepMs: number[]; actMs: number[]; endedAt: number[]; lateMs: number[] }>(
        versa.child.proc,
        { type: 'deployment-timings-wait', count: groups.length, timeoutMs: waitMs, shiftMs: DEPLOY_SHIFT_MS },
        waitMs + 10_000,
      );
      if (timings.endedAt.length < groups.length) {
        throw new Error(`only ${timings.endedAt.length} of ${groups.length} deployments ended within ${waitMs / 1000} s`);
      }
      const sorted = (xs: number[]) => Float64Array.from(xs).sort();
      return {
        deployments: groups.length,
        steps: timings.stepMs.length,
        stepMs: latencyStats(sorted(timings.stepMs)),
        actMs: latencyStats(sorted(timings.actMs)),
        createdMs,
        wallMs: Math.max(...timings.endedAt) - started,
        lateMs: latencyStats(sorted(timings.lateMs)),
        succeeded: 0,
        ids: created.map((c) => c.deploymentId!),
      };
    };
    process.stdout.write(`deployments${on}: one alone to warm up, then one alone ... `);
    await run(names.slice(0, 1));
    const alone = await run(names.slice(1, 2));
    console.log(`${fixed(alone.wallMs / 1000, 2)} s`);
    process.stdout.write(`deployments${on}: ${DEPLOYMENTS} at once ... `);
    const together = await run(names.slice(2));
    console.log(`${fixed(together.wallMs / 1000, 2)} s`);
    const succeeded = new Set(
      (await codeDeploy.send(new ListDeploymentsCommand({ applicationName: app, includeOnlyStatuses: ['Succeeded'] }))).deployments,
    );
    const outcome = ({ ids, ...r }: DeploymentRun & { ids: string[] }): DeploymentRun => ({
      ...r,
      succeeded: ids.filter((id) => succeeded.has(id)).length,
    });
    await stopChild(versa.child);
    return {
      store: store ? 'postgresql' : 'sqlite',
      timeScale: DEPLOY_SCALE,
      config: DEPLOY_CONFIG,
      scheduleMs: DEPLOY_SCHEDULE_MS,
      maxEnvironments,
      alone: outcome(alone),
      together: outcome(together),
    };
  } finally {
    lambda.destroy();
    codeDeploy.destroy();
  }
}

function reportDeployments(d: DeploymentPhase, pg?: DeploymentPhase): void {
  const row = (label: string, r: DeploymentRun) => [
    label,
    String(r.deployments),
    `${r.steps} (${r.succeeded} ok)`,
    fixed(r.stepMs.p50, 2),
    fixed(r.stepMs.p99, 2),
    fixed(r.stepMs.max, 1),
    fixed(r.actMs.p50, 2),
    fixed(r.actMs.p99, 2),
    fixed(r.createdMs / 1000, 2),
    fixed(r.wallMs / 1000, 2),
    fixed(r.lateMs.p50, 1),
    fixed(r.lateMs.max, 1),
  ];
  console.log(
    `\nDeployments: ${d.config} at time scale ${d.timeScale} (its schedule: ${fixed(d.scheduleMs / 1000, 2)} s real, ` +
      `${DEPLOY_STEPS} controller steps each; at most ${d.maxEnvironments} environments)`,
  );
  console.log(
    table(
      [
        'run',
        'deployments',
        'steps',
        'step+persist p50 ms',
        'p99 ms',
        'max ms',
        'act p50 ms',
        'act p99 ms',
        'created s',
        'wall s',
        'late p50 ms',
        'late max ms',
      ],
      [
        row('one alone (reference)', d.alone),
        row('all at once', d.together),
        ...(pg ? [row('PostgreSQL: one alone', pg.alone), row('PostgreSQL: all at once', pg.together)] : []),
      ],
    ),
  );
  console.log(
    `${d.together.deployments} at once vs one alone: step+persist p50 x${fixed(d.together.stepMs.p50 / d.alone.stepMs.p50, 1)}, ` +
      `p99 x${fixed(d.together.stepMs.p99 / d.alone.stepMs.p99, 1)}; the last shift came a median ${fixed(d.together.lateMs.p50, 1)} ms ` +
      `(at most ${fixed(d.together.lateMs.max, 1)} ms) after its schedule (one alone: ${fixed(d.alone.lateMs.p50, 1)} ms); ` +
      `all ${d.together.deployments} in ${fixed(d.together.wallMs / 1000, 2)} s, ${fixed(d.together.steps / (d.together.wallMs / 1000), 0)} steps/s.`,
  );
  if (pg) {
    console.log(
      `On one PostgreSQL node: step+persist p50 ${fixed(pg.together.stepMs.p50, 2)} ms, p99 ${fixed(pg.together.stepMs.p99, 2)} ms with ` +
        `${pg.together.deployments} at once (SQLite x${fixed(pg.together.stepMs.p50 / d.together.stepMs.p50, 1)} at p50, ` +
        `x${fixed(pg.together.stepMs.p99 / d.together.stepMs.p99, 1)} at p99); alone p50 ${fixed(pg.alone.stepMs.p50, 2)} ms ` +
        `(SQLite ${fixed(d.alone.stepMs.p50, 2)} ms); late p50 ${fixed(pg.together.lateMs.p50, 1)} ms, max ${fixed(pg.together.lateMs.max, 1)} ms; ` +
        `all in ${fixed(pg.together.wallMs / 1000, 2)} s.`,
    );
  }
  for (const run of [d, ...(pg ? [pg] : [])]) {
    if (run.together.succeeded !== run.together.deployments || run.alone.succeeded !== run.alone.deployments) {
      console.log(`Note: not every deployment on ${run.store} succeeded (${run.together.succeeded} of ${run.together.deployments}).`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// --profile: where a warm Node invoke spends the server's time

async function profile(python: Python) {
  const loader = await startLoad();
  // The runtime processes profile themselves on SIGUSR2 (bench/runtime-profiler.ts), which they load from
  // this checkout and write to a host folder: neither is inside the function sandbox's view, so it is off.
  const versa = await startVersa(python, { sandbox: 'off', ...(flags.credentials && { credentials: BENCH_KEY }) });
  const lambda = new LambdaClient({ ...clientOptions(versa.url), ...(flags.credentials && { credentials: BENCH_KEY }) });
  try {
    mkdirSync(RESULTS, { recursive: true });
    const runtimeDir = tempDir(mkdtempSync(path.join(os.tmpdir(), 'versa-bench-profiles-')));
    const name = 'bench-profile-node';
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: NODE.runtime,
        Handler: NODE.handler,
        Role: ROLE,
        Code: { ZipFile: zip(NODE.files(name)) },
        Environment: { Variables: { NODE_OPTIONS: `--import=${here('runtime-profiler.js').href}`, BENCH_PROFILE_DIR: runtimeDir } },
      }),
    );
    await lambda.send(new InvokeCommand({ FunctionName: name }));
    const url = `${versa.url}/2015-03-31/functions/${name}/invocations`;
    const options: LoadOptions = {
      url,
      method: 'POST',
      headers: flags.credentials ? await signedHeaders(url, '{}') : INVOKE_HEADERS,
      body: '{}',
      connections: CONNECTIONS,
      duration: WARMUP,
    };
    await load(loader, options);
    const serverPid = versa.child.proc.pid!;
    const runtimes = descendantsRunning(serverPid, 'bootstrap.js');
    const signal = () => {
      for (const pid of runtimes) process.kill(pid, 'SIGUSR2');
    };
    const file = path.join(RESULTS, 'versa-server.cpuprofile');
    await ask(versa.child.proc, { type: 'profile-start', intervalUs: 500 }, 10_000);
    signal();
    const before = cpuSnapshot(serverPid);
    // A runtime handles the signal between invocations: once the load ends it waits blocked in a read of
    // its channel, where no handler runs, so the profiles are stopped while it still has work.
    const stop = setTimeout(signal, DURATION * 1000 - 500);
    const result = await load(loader, { ...options, duration: DURATION });
    clearTimeout(stop);
    const cpu = cpuBetween(before, cpuSnapshot(serverPid));
    await ask(versa.child.proc, { type: 'profile-stop', file }, 30_000);
    const server = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const runtimeFiles = await waitForFiles(runtimeDir, runtimes.length, 10_000);
    const runtime = summarise(runtimeFiles.map((f) => JSON.parse(readFileSync(f, 'utf8')) as CpuProfile));
    printProfile(server, runtime, runtimeFiles.length, result, cpu);
    writeFileSync(
      path.join(RESULTS, 'profile.json'),
      JSON.stringify({ date: new Date().toISOString(), machine: machine(python), load: result, cpu, server, runtime }, null, 2) + '\n',
    );
    console.log(`\nWrote ${path.relative(ROOT, file)} (open it in Chrome DevTools) and bench/results/profile.json`);
  } finally {
    lambda.destroy();
  }
}

async function waitForFiles(dir: string, count: number, ms: number): Promise<string[]> {
  const until = Date.now() + ms;
  for (;;) {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f));
    if (files.length >= count || Date.now() > until) return files;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function printProfile(
  server: ProfileSummary,
  runtime: ProfileSummary,
  runtimes: number,
  load: LoadResult,
  cpu: ReturnType<typeof cpuBetween>,
) {
  const rows = (entries: Entry[]) => entries.map((e) => [e.name, fixed(e.ms, 0), `${fixed(e.pct)} %`]);
  console.log(
    `Warm nodejs20.x Invoke at ${CONNECTIONS} connections for ${DURATION} s with profilers on (so slower than the benchmark): ` +
      `${fixed(load.rps, 0)} req/s, p50 ${fixed(load.latencyMs.p50, 2)} ms, p99 ${fixed(load.latencyMs.p99, 2)} ms.`,
  );
  console.log(
    `CPU (% of one core): load generator ${fixed((100 * load.cpuSeconds) / load.seconds, 0)}, server ${fixed(cpu.selfPct, 0)}, ` +
      `runtime processes ${fixed(cpu.descendantsPct, 0)} (${cpu.busyDescendants} busy), whole machine ${fixed(cpu.machinePct, 0)}.`,
  );
  console.log(
    `CPU per invocation: server ${fixed((cpu.selfPct * 10) / load.rps, 3)} ms, runtimes ${fixed((cpu.descendantsPct * 10) / load.rps, 3)} ms.`,
  );
  for (const [title, s] of [
    ['Versa server', server],
    [`Node runtime processes (${runtimes} profiles added together)`, runtime],
  ] as const) {
    console.log(`\n=== ${title}: busy ${fixed(s.busyMs, 0)} ms of ${fixed(s.wallMs, 0)} ms sampled ===`);
    console.log(`\nBy kind of code (% of sampled time, idle included)`);
    console.log(table(['kind', 'ms', 'share'], rows(s.byKind)));
    console.log(`\nTop functions by self time (% of busy time)`);
    console.log(table(['function', 'ms', 'share'], rows(s.topSelf)));
    console.log(`\nTop files by self time`);
    console.log(table(['file', 'ms', 'share'], rows(s.topFiles.slice(0, 15))));
    console.log(`\nVersa functions by inclusive time (self + callees)`);
    console.log(table(['function', 'ms', 'share'], rows(s.topVersaInclusive.slice(0, 20))));
  }
}

// ---------------------------------------------------------------------------------------------------

async function stopChild(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.proc.kill('SIGKILL');
      resolve();
    }, 5000);
    child.proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.proc.disconnect();
  });
}

async function main(): Promise<number> {
  const python = findPython();
  if (flags.profile) {
    await profile(python);
    return 0;
  }
  if (flags['readiness-only']) {
    const info = machine(python);
    console.log(`Versa benchmark, server ready phase only, ${new Date().toISOString()}`);
    console.log(`Machine: ${info.cpu} x ${info.cpus}, ${info.memoryGiB} GiB RAM, ${info.os}; Node ${info.node}`);
    const readiness = await readinessPhase(STARTS);
    console.log(`\nServer ready: from spawning \`versa start --port 0\` to its first answers (${STARTS} starts per data dir)`);
    console.log(table(READINESS_HEAD, readinessRows(readiness), 2));
    const goal = readinessGoal(readiness);
    console.log(`\nGoal: ${goal.goal}: ${goal.figure}, ${goal.met ? 'met' : 'NOT met'}`);
    mkdirSync(RESULTS, { recursive: true });
    const out = path.join(RESULTS, 'readiness.json');
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: info, readiness, goal }, null, 2) + '\n');
    console.log(`\nWrote ${path.relative(ROOT, out)}`);
    return 0;
  }
  if (flags['deployments-only']) {
    const info = machine(python);
    console.log(`Versa benchmark, deployments phase only, ${new Date().toISOString()}`);
    console.log(`Machine: ${info.cpu} x ${info.cpus}, ${info.memoryGiB} GiB RAM, ${info.os}; Node ${info.node}`);
    const deployments = await deploymentPhase(python);
    const first = await firstDatabase();
    if ('skipped' in first) console.log(first.skipped);
    const postgres = 'skipped' in first ? undefined : await deploymentPhase(python, first.url);
    reportDeployments(deployments, postgres);
    mkdirSync(RESULTS, { recursive: true });
    const out = path.join(RESULTS, 'deployments.json');
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: info, deployments, postgres }, null, 2) + '\n');
    console.log(`\nWrote ${path.relative(ROOT, out)}`);
    return 0;
  }
  if (flags['signatures-only']) {
    const info = machine(python);
    console.log(`Versa benchmark, signature check only, ${new Date().toISOString()}`);
    console.log(`Machine: ${info.cpu} x ${info.cpus}, ${info.memoryGiB} GiB RAM, ${info.os}; Node ${info.node}`);
    const { anyKey, signed } = await signaturesOnly(python);
    console.log(`\n${signaturesLine(signed, anyKey)}`);
    const ratios = signed.rounds.map((rps, i) => rps / anyKey.rounds[i]!);
    console.log(
      `Per round, credentials on ÷ any key: ${ratios.map((r) => fixed(r, 3)).join(', ')}; machine ${fixed(anyKey.cpu.machine, 0)} % busy, other work ${fixed(anyKey.cpu.other, 0)} %.`,
    );
    mkdirSync(RESULTS, { recursive: true });
    const out = path.join(RESULTS, 'signatures.json');
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: info, anyKey, signed, ratios }, null, 2) + '\n');
    console.log(`\nWrote ${path.relative(ROOT, out)}`);
    return 0;
  }
  if (flags['soak-only']) {
    const info = machine(python);
    console.log(`Versa benchmark, soak only, ${new Date().toISOString()}`);
    console.log(`Machine: ${info.cpu} x ${info.cpus}, ${info.memoryGiB} GiB RAM, ${info.os}; Node ${info.node}`);
    const { soak: soaked, memory, sandbox } = await soakOnly(python);
    console.log(`sandbox: ${sandbox}`);
    reportSoak(soaked);
    console.log(
      `After the soak, RSS median ${fixed(memory.medianMiB)} (min ${fixed(memory.minMiB)}, max ${fixed(memory.maxMiB)}), ` +
        `PSS median ${fixed(memory.medianPssMiB)}, private median ${fixed(memory.medianPrivateMiB)} MiB`,
    );
    const goals = soakGoals(soaked);
    console.log(
      table(
        ['goal', 'figure', 'status'],
        goals.map((g) => [g.goal, g.figure, g.met ? 'met' : 'NOT met']),
      ),
    );
    mkdirSync(RESULTS, { recursive: true });
    const out = path.join(RESULTS, 'soak.json');
    writeFileSync(
      out,
      JSON.stringify({ date: new Date().toISOString(), machine: info, sandbox, soak: soaked, memory, goals }, null, 2) + '\n',
    );
    console.log(`\nWrote ${path.relative(ROOT, out)}`);
    return 0;
  }
  const results = await benchmark(python);
  const goals = report(results);
  mkdirSync(RESULTS, { recursive: true });
  const out = path.join(RESULTS, 'latest.json');
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: results.date,
        machine: results.info,
        settings: {
          connections: CONNECTIONS,
          durationSeconds: DURATION,
          warmupSeconds: WARMUP,
          bareWarmupSeconds: BARE_WARMUP,
          rounds: ROUNDS,
          coldFunctionsPerRuntime: COLD,
          deployments: DEPLOYMENTS,
          starts: STARTS,
        },
        readiness: results.readiness,
        reference: results.reference,
        warm: results.warm.map((w) => ({
          runtime: w.kind.label,
          ...w.phase,
          ratioToBare: w.phase.load.rps / results.reference.load.rps,
          memory: w.memory,
        })),
        coldStart: results.cold,
        soak: results.soak,
        deployments: results.deployments,
        cluster: {
          skipped: results.cluster.skipped,
          warm: results.cluster.warm.map((w) => ({ ...w, ratioToBare: w.phase.load.rps / results.reference.load.rps })),
          invalidation: results.cluster.invalidation.map((i) => ({ ...i, medianMs: median(i.delayMs), maxMs: Math.max(...i.delayMs) })),
          deployments: results.cluster.deployments,
        },
        goals,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nWrote ${path.relative(ROOT, out)}`);
  return 0;
}

process.on('exit', killAllNow);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the benchmark's processes`);
    void stopAll()
      .then(dropDatabases)
      .finally(() => process.exit(130));
  });
}
const limit = setTimeout(() => {
  console.error(`\nThe benchmark did not finish within ${TIME_LIMIT_MS / 1000} s; stopping.`);
  void stopAll()
    .then(dropDatabases)
    .finally(() => process.exit(1));
}, TIME_LIMIT_MS);

main()
  .catch((err: unknown) => {
    if (interrupted) return 130;
    console.error(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    const output = capturedOutput();
    if (output) console.error(output);
    return 1;
  })
  .then(async (code) => {
    clearTimeout(limit);
    await stopAll();
    await dropDatabases();
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
