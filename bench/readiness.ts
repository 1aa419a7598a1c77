/**
 * How soon `versa start` answers: the time from spawning `node bin/versa.js start --port 0` (as a user
 * runs it, with its defaults: SQLite, the sandbox where bubblewrap runs) until its first answers, over
 * several starts on a fresh data directory and several restarts on one that already holds functions.
 *
 * Two answers are timed, each from the spawn: `GET /_versa/health` answering 200 (asked as soon as the
 * banner names the URL, and again every few milliseconds until it is 200, should the server ever listen
 * before it can answer), then a signed ListFunctions answering 200 (a real AWS call through the front
 * door, the access gate, the Lambda API and the store).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { strToU8, zipSync } from 'fflate';
import { alive, start, tempDir, type Child } from './procs.js';
import { median } from './stats.js';

const VERSA = new URL('../../bin/versa.js', import.meta.url);
/** The goal: the server answers within this of `versa start`. */
export const READY_GOAL_MS = 500;
/** Functions (each with a published version and an alias) in the data directory of the restarts. */
const SEEDED_FUNCTIONS = 20;

/** One start: milliseconds from the spawn to the banner, the first health 200 and the first ListFunctions 200. */
export interface StartTiming {
  bannerMs: number;
  healthMs: number;
  listMs: number;
}

export interface ReadinessCase {
  label: string;
  starts: StartTiming[];
}

export interface Readiness {
  fresh: ReadinessCase;
  restart: ReadinessCase;
}

/** The environment of a start: the caller's, without VERSA_* settings that would make runs differ. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VERSA_')));
}

/** The headers of a signed request as an SDK sends them; a server without credentials checks that they are whole. */
function signedShape(): Record<string, string> {
  const now = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return {
    'x-amz-date': now,
    authorization:
      `AWS4-HMAC-SHA256 Credential=bench/${now.slice(0, 8)}/us-east-1/lambda/aws4_request, ` +
      `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
  };
}

/** Starts `versa start` on `dataDir` and resolves once it has printed its URL. */
async function spawnVersa(dataDir: string): Promise<{ child: Child; url: string; started: number }> {
  const started = performance.now();
  const child = start('versa start', VERSA, ['start', '--port', '0', '--data-dir', dataDir], {
    group: true,
    capture: true,
    env: cleanEnv(),
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('versa start printed no URL within 30 s')), 30_000);
    child.proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`versa start exited (${code}) before printing its URL`));
    });
  });
  return { child, url, started };
}

/** Ends a `versa start` as Ctrl-C would, and waits for it to be gone. */
async function stopVersa(child: Child): Promise<void> {
  if (!alive(child.proc)) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.proc.kill('SIGKILL');
      resolve();
    }, 10_000);
    child.proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.proc.kill('SIGTERM');
  });
}

/** Asks until the answer is a 200 (a refused connection or a 503 counts as "not yet"), for at most 10 s. */
async function firstOk(url: string, headers: Record<string, string>): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const status = await fetch(url, { headers }).then(
      async (res) => {
        await res.arrayBuffer();
        return res.status;
      },
      () => 0,
    );
    if (status === 200) return;
    if ((status !== 0 && status !== 503) || performance.now() > deadline) throw new Error(`${url} answered ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function timeStart(dataDir: string): Promise<StartTiming> {
  const { child, url, started } = await spawnVersa(dataDir);
  try {
    const bannerMs = performance.now() - started;
    await firstOk(`${url}/_versa/health`, {});
    const healthMs = performance.now() - started;
    await firstOk(`${url}/2015-03-31/functions/`, signedShape());
    const listMs = performance.now() - started;
    return { bannerMs, healthMs, listMs };
  } finally {
    await stopVersa(child);
  }
}

/** Fills `dataDir` with functions, each with a published version and an alias, through a server of its own. */
async function seed(dataDir: string): Promise<void> {
  const { child, url } = await spawnVersa(dataDir);
  const lambda = new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  try {
    for (let i = 0; i < SEEDED_FUNCTIONS; i++) {
      const name = `bench-ready-${i}`;
      const code = zipSync({ 'index.mjs': strToU8(`export const handler = async () => ${i};\n`) });
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: 'arn:aws:iam::000000000000:role/lambda-role',
          Code: { ZipFile: code },
        }),
      );
      const { Version } = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
      await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: Version }));
    }
  } finally {
    lambda.destroy();
    await stopVersa(child);
  }
}

/** `starts` starts on a fresh data directory each, then `starts` restarts on one data directory holding functions. */
export async function readinessPhase(starts: number): Promise<Readiness> {
  const freshDir = () => tempDir(mkdtempSync(path.join(os.tmpdir(), 'versa-ready-')));
  process.stdout.write('server ready ... ');
  const fresh: StartTiming[] = [];
  for (let i = 0; i < starts; i++) fresh.push(await timeStart(freshDir()));
  const seeded = freshDir();
  await seed(seeded);
  const restart: StartTiming[] = [];
  for (let i = 0; i < starts; i++) restart.push(await timeStart(seeded));
  const r = {
    fresh: { label: 'fresh data dir', starts: fresh },
    restart: { label: `restart (${SEEDED_FUNCTIONS} functions)`, starts: restart },
  };
  console.log(
    `ListFunctions answered after ${median(fresh.map((s) => s.listMs)).toFixed(0)} ms (fresh), ${median(restart.map((s) => s.listMs)).toFixed(0)} ms (restart)`,
  );
  return r;
}

/** The worse of the two medians, spawn to ListFunctions: what the goal is held against. */
function readyMs(r: Readiness): number {
  return Math.max(median(r.fresh.starts.map((s) => s.listMs)), median(r.restart.starts.map((s) => s.listMs)));
}

export function readinessGoal(r: Readiness): { goal: string; figure: string; met: boolean } {
  const ms = readyMs(r);
  return { goal: `server ready <= ${READY_GOAL_MS} ms`, figure: `${ms.toFixed(0)} ms`, met: ms <= READY_GOAL_MS };
}

/** The table rows: per case, per answer, median / min / max and the samples. */
export function readinessRows(r: Readiness): string[][] {
  const rows: string[][] = [];
  for (const c of [r.fresh, r.restart]) {
    for (const [answer, of] of [
      ['banner printed', (s: StartTiming) => s.bannerMs],
      ['GET /_versa/health 200', (s: StartTiming) => s.healthMs],
      ['ListFunctions 200', (s: StartTiming) => s.listMs],
    ] as const) {
      const xs = c.starts.map(of);
      rows.push([
        c.label,
        answer,
        median(xs).toFixed(0),
        Math.min(...xs).toFixed(0),
        Math.max(...xs).toFixed(0),
        xs.map((x) => x.toFixed(0)).join(' '),
      ]);
    }
  }
  return rows;
}

export const READINESS_HEAD = ['data dir', 'answer', 'median ms', 'min ms', 'max ms', 'samples ms'];
