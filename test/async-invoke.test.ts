/**
 * Asynchronous invocation (InvocationType Event) is durable and runs each attempt once.
 *
 * Side effects are counted by a sink: a small HTTP server in this test process to which each invocation
 * posts its request id (carried by Lambda's context, the same for every attempt of an event) as soon as
 * its handler starts. It is counted outside Versa, so the count does not depend on the durability under
 * test (Versa's own logs are flushed in batches a kill -9 can lose), and it needs nothing but the shared
 * network, which a sandboxed function keeps.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  ListFunctionEventInvokeConfigsCommand,
  PublishVersionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionEventInvokeConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { FakeClock } from '../src/core/clock.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { awsFetch, createFunction, errorOf, lambdaClientFor, startTestServer, type TestServer } from './harness.js';
import { sleep, waitFor } from './invoke-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Posts {id, version, event} to `event.sink` on start, then sleeps `event.sleep` ms, then fails if asked. */
const WORKER = {
  'index.js': `
exports.handler = async (event, context) => {
  await fetch(event.sink, {
    method: 'POST',
    body: JSON.stringify({ id: context.awsRequestId, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, event }),
  });
  if (event.sleep) await new Promise((resolve) => setTimeout(resolve, event.sleep));
  if (event.fail === true || event.fail === process.env.AWS_LAMBDA_FUNCTION_VERSION) throw new Error('failing on purpose');
  return { ok: true, tag: event.tag };
};
`,
};
/** A destination: posts the record it receives to the sink named in the original event. */
const RECORDER = {
  'index.js': `
exports.handler = async (record, context) => {
  const sink = record.requestPayload && record.requestPayload.sink;
  await fetch(sink, { method: 'POST', body: JSON.stringify({ id: context.awsRequestId, record }) });
};
`,
};

/** The record Lambda sends a destination (the members these tests read). */
interface DestinationRecord {
  version: string;
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext?: Record<string, unknown>;
  responsePayload?: { errorMessage?: string } & Record<string, unknown>;
}

interface Posted {
  id: string;
  version?: string;
  event?: Record<string, unknown>;
  record?: DestinationRecord;
}

/** The test's side-effect counter. */
class Sink {
  readonly posts: Posted[] = [];
  truncated = 0;
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // A post cut short (its environment stopped by the kill -9 mid-request) records nothing.
      try {
        this.posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Posted);
      } catch {
        this.truncated++;
      }
      res.end('ok');
    });
    req.on('error', () => this.truncated++);
  });
  url = '';

  async start(): Promise<void> {
    // A runtime between invocations runs none of its code (as Lambda freezes it), so it cannot see the
    // sink close its idle connection: kept open longer than any test waits between two posts of one
    // environment, or the next post goes on a closed connection and fails ("fetch failed").
    this.server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  counts(filter: (p: Posted) => boolean = () => true): Map<string, number> {
    const counts = new Map<string, number>();
    for (const p of this.posts.filter(filter)) counts.set(p.id, (counts.get(p.id) ?? 0) + 1);
    return counts;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Sends `count` Event invokes, `parallel` at a time; returns the request ids answered 202. */
async function sendEvents(lambda: LambdaClient, functionName: string, count: number, event: (i: number) => unknown, parallel = 50) {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const out = await lambda.send(
          new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event(i))) }),
        );
        assert.equal(out.StatusCode, 202);
        ids.push(out.$metadata.requestId!);
      }
    }),
  );
  return ids;
}

/** Waits until none of the function's events is pending or running. */
async function queueEmpty(url: string, name: string, timeoutMs: number): Promise<void> {
  await waitFor(
    'the queue to empty',
    async () => {
      const d = await queueDepth(url, name);
      return d.pending + d.running === 0;
    },
    timeoutMs,
  );
}

async function queueDepth(url: string, name: string): Promise<{ pending: number; running: number; bytes: number }> {
  const res = await awsFetch(`${url}/_versa/api/functions/${name}/queue`);
  assert.equal(res.status, 200);
  return (await res.json()) as { pending: number; running: number; bytes: number };
}

describe('asynchronous invocation: 1,000 events', () => {
  let t: TestServer;
  const sink = new Sink();
  before(async () => {
    await sink.start();
    t = await startTestServer();
  });
  after(async () => {
    await t.close();
    await sink.close();
  });

  it('Invoke Event: 1,000 accepted events of a slow function each run exactly once', async () => {
    await createFunction(t.lambda, 'slow', WORKER, { Timeout: 10 });
    const started = Date.now();
    const ids = await sendEvents(t.lambda, 'slow', 1000, (i) => ({ sink: sink.url, sleep: 100, tag: i }));
    const accepted = Date.now() - started;
    assert.equal(new Set(ids).size, 1000);
    await waitFor('every event to run', () => sink.posts.length >= 1000, 60_000, 100);
    await waitFor('the queue to empty', async () => (await queueDepth(t.url, 'slow')).running === 0, 10_000);
    const ran = Date.now() - started;
    await sleep(300);
    const counts = sink.counts();
    assert.deepEqual([...counts.keys()].sort(), [...ids].sort(), 'the ids that ran are the ids accepted');
    const repeated = [...counts].filter(([, n]) => n !== 1);
    assert.deepEqual(repeated, [], 'some events ran more than once');
    assert.deepEqual(await queueDepth(t.url, 'slow'), { pending: 0, running: 0, bytes: 0 });
    const stored = await t.server.services.store.asyncEvents.get(ids[0]!);
    assert.equal(stored?.status, 'done');
    assert.equal(stored?.attempts, 1);
    // Kept a day for what it did, without its payloads: events that ran are no load on the disk.
    assert.equal(stored?.payload, '');
    assert.equal(stored?.lastResponse?.payload, '');
    console.log(`# 1,000 events: accepted in ${accepted} ms, all run in ${ran} ms, 0 lost, 0 repeated`);
  });

  it("Invoke Event: one function's backlog takes at most half the asynchronous attempts; another function's events run at once", async () => {
    await createFunction(t.lambda, 'hog', WORKER, { Timeout: 10 });
    await createFunction(t.lambda, 'victim', WORKER, { Timeout: 10 });
    // 32 environments: 16 asynchronous attempts at once, 8 of them one function's.
    await sendEvents(t.lambda, 'hog', 40, (i) => ({ sink: sink.url, sleep: 1500, tag: `hog-${i}` }));
    await waitFor('the hog to take its share', async () => (await queueDepth(t.url, 'hog')).running >= 8);
    const [victim] = await sendEvents(t.lambda, 'victim', 1, () => ({ sink: sink.url, tag: 'victim' }));
    // The victim's event starts (a cold start, slow on a busy machine) while the hog's backlog is still
    // waiting: 40 events of 1.5 s, 8 at a time, keep it waiting for about 7 s.
    await waitFor("the other function's event to start", () => sink.posts.some((p) => p.id === victim), 5000, 20);
    const hog = await queueDepth(t.url, 'hog');
    assert.equal(hog.running, 8);
    assert.ok(hog.pending > 0, "the other function's event waited for the whole backlog");
    await queueEmpty(t.url, 'hog', 30_000);
  });

  it('Invoke Event: asynchronous runs leave room for synchronous invokes of the same function', async () => {
    const ids = sendEvents(t.lambda, 'slow', 200, (i) => ({ sink: sink.url, sleep: 200, tag: `busy-${i}` }));
    await waitFor('asynchronous runs to be under way', async () => (await queueDepth(t.url, 'slow')).running > 0);
    const out = await t.lambda.send(new InvokeCommand({ FunctionName: 'slow', Payload: Buffer.from(JSON.stringify({ sink: sink.url })) }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    await ids;
    await queueEmpty(t.url, 'slow', 30_000);
  });
});

interface ChildServer {
  url: string;
  child: ChildProcess;
}

async function startChild(dataDir: string): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/versa.js'), 'start', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--time-scale', '60'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Versa is ready at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`versa start exited with ${code}: ${out}`)));
  });
  child.stdout.resume();
  return { url, child };
}

describe('asynchronous invocation: kill -9 and restart', () => {
  const sink = new Sink();
  let dataDir = '';
  let server: ChildServer | undefined;
  before(async () => {
    await sink.start();
    dataDir = await mkdtemp(path.join(tmpdir(), 'versa-async-'));
  });
  after(async () => {
    if (server && server.child.exitCode === null) {
      const exited = new Promise((resolve) => server!.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    await sink.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('Invoke Event: every accepted event runs after a kill -9 half-way, once per attempt', async () => {
    server = await startChild(dataDir);
    let lambda = lambdaClientFor(server.url);
    await createFunction(lambda, 'slow', WORKER, { Timeout: 10 });
    const ids = await sendEvents(lambda, 'slow', 1000, (i) => ({ sink: sink.url, sleep: 100, tag: i }));
    await waitFor('half of the events to run', () => sink.counts().size >= 500, 60_000, 20);
    const exited = new Promise((resolve) => server!.child.once('exit', resolve));
    server.child.kill('SIGKILL');
    await exited;
    lambda.destroy();
    const ranBeforeKill = sink.counts().size;

    const restarted = Date.now();
    server = await startChild(dataDir);
    lambda = lambdaClientFor(server.url);
    await waitFor('every accepted event to run', () => ids.every((id) => sink.counts().has(id)), 60_000, 100);
    await queueEmpty(server.url, 'slow', 30_000);
    const afterRestart = Date.now() - restarted;
    lambda.destroy();
    const exitedAgain = new Promise((resolve) => server!.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exitedAgain;

    // Every accepted event ran, and ran once per attempt the store counted: more than once only when
    // the kill interrupted an attempt (it is counted, as Lambda counts an attempt whose runtime died).
    const counts = sink.counts();
    const store = openSqliteStore(path.join(dataDir, 'versa.db'));
    let interrupted = 0;
    try {
      for (const id of ids) {
        const event = await store.asyncEvents.get(id);
        assert.equal(event?.status, 'done', `event ${id} is ${event?.status}`);
        const ran = counts.get(id) ?? 0;
        assert.ok(ran >= 1, `event ${id} never ran`);
        assert.ok(ran <= event.attempts, `event ${id} ran ${ran} times in ${event.attempts} attempts`);
        if (event.attempts > 1) interrupted++;
      }
    } finally {
      await store.close();
    }
    assert.ok(interrupted <= 16, `${interrupted} events were retried; at most the 16 running at the kill may be`);
    console.log(
      `# kill -9 after ${ranBeforeKill} of 1,000 ran: all 1,000 ran ${afterRestart} ms after the restart; ` +
        `${interrupted} interrupted attempts retried; 0 lost`,
    );
  });
});

describe('asynchronous invocation: retries, destinations, configs, aliases, metrics', () => {
  let t: TestServer;
  const clock = new FakeClock(Date.UTC(2025, 0, 1));
  const sink = new Sink();
  before(async () => {
    await sink.start();
    t = await startTestServer({ clock });
    await createFunction(t.lambda, 'worker', WORKER);
    await createFunction(t.lambda, 'recorder', RECORDER);
  });
  after(async () => {
    await t.close();
    await sink.close();
  });
  const arn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
  const records = () => sink.posts.flatMap((p) => (p.record ? [p.record] : []));
  const recordOf = async (id: string): Promise<DestinationRecord> =>
    (await waitFor(`the destination record of ${id}`, () => records().find((r) => r.requestContext.requestId === id)))!;

  it('PutFunctionEventInvokeConfig: round trip, update, list, delete, with Lambda validation', async () => {
    const put = await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'worker',
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnFailure: { Destination: arn('recorder') } },
      }),
    );
    assert.equal(put.FunctionArn, `${arn('worker')}:$LATEST`);
    assert.equal(put.MaximumRetryAttempts, 1);
    assert.equal(put.MaximumEventAgeInSeconds, undefined);
    assert.deepEqual(put.DestinationConfig, { OnSuccess: {}, OnFailure: { Destination: arn('recorder') } });
    assert.ok(put.LastModified instanceof Date);
    const updated = await t.lambda.send(
      new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumEventAgeInSeconds: 600 }),
    );
    assert.equal(updated.MaximumRetryAttempts, 1);
    assert.equal(updated.MaximumEventAgeInSeconds, 600);
    const got = await t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    assert.deepEqual(got.DestinationConfig?.OnFailure, { Destination: arn('recorder') });
    const list = await t.lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'worker' }));
    assert.equal(list.FunctionEventInvokeConfigs?.length, 1);

    const tooMany = await errorOf(() =>
      t.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumRetryAttempts: 5 })),
    );
    assert.equal(tooMany.name, 'ValidationException');
    assert.equal(
      tooMany.message,
      "1 validation error detected: Value '5' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2",
    );
    const tooOld = await errorOf(() =>
      t.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumEventAgeInSeconds: 30 })),
    );
    assert.match(
      tooOld.message,
      /at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60/,
    );
    const empty = await errorOf(() => t.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker' })));
    assert.equal(empty.name, 'InvalidParameterValueException');
    assert.equal(empty.message, 'You must specify at least one of error handling or destination setting.');
    const self = await errorOf(() =>
      t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: 'worker',
          DestinationConfig: { OnSuccess: { Destination: arn('worker') } },
        }),
      ),
    );
    assert.equal(self.message, "You can't specify the function as a destination for itself.");
    const badArn = await errorOf(() =>
      t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({ FunctionName: 'worker', DestinationConfig: { OnSuccess: { Destination: 'invalid' } } }),
      ),
    );
    assert.equal(badArn.name, 'ValidationException');
    assert.match(badArn.message, /at 'destinationConfig.onSuccess.destination' failed to satisfy constraint/);
    const missing = await errorOf(() => t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'worker', Qualifier: '7' })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(missing.message, `The function ${arn('worker')}:7 doesn't have an EventInvokeConfig`);
    const noFunction = await errorOf(() =>
      t.lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'nope', MaximumRetryAttempts: 1 })),
    );
    assert.equal(noFunction.name, 'ResourceNotFoundException');
    // A refusal changed nothing.
    const still = await t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    assert.equal(still.MaximumRetryAttempts, 1);
    assert.equal(still.MaximumEventAgeInSeconds, 600);

    await t.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
    const gone = await errorOf(() => t.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'worker' })));
    assert.equal(gone.message, `The function ${arn('worker')}:$LATEST doesn't have an EventInvokeConfig`);
  });

  it('Invoke Event: a failing event is retried after 1 and 2 minutes of platform time, then sent to OnFailure', async () => {
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'worker',
        DestinationConfig: { OnFailure: { Destination: arn('recorder') } },
      }),
    );
    const event = { sink: sink.url, fail: true, tag: 'fails' };
    const out = await t.lambda.send(
      new InvokeCommand({ FunctionName: 'worker', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const id = out.$metadata.requestId!;
    const runs = () => sink.counts((p) => !p.record).get(id) ?? 0;
    await waitFor('the first attempt', () => runs() === 1);
    await waitFor('the event to wait for its retry', async () => (await queueDepth(t.url, 'worker')).pending === 1);
    clock.advance(59_000);
    await sleep(300);
    assert.equal(runs(), 1, 'retried before a minute had passed');
    clock.advance(1000);
    await waitFor('the second attempt, a minute later', () => runs() === 2);
    await waitFor('the event to wait again', async () => (await queueDepth(t.url, 'worker')).pending === 1);
    clock.advance(119_000);
    await sleep(300);
    assert.equal(runs(), 2, 'retried before two more minutes had passed');
    clock.advance(1000);
    await waitFor('the third attempt, two minutes later', () => runs() === 3);
    const record = await recordOf(id);
    assert.equal(record.version, '1.0');
    assert.equal(record.timestamp, new Date(clock.now()).toISOString());
    assert.deepEqual(record.requestContext, {
      requestId: id,
      functionArn: `${arn('worker')}:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    });
    assert.deepEqual(record.requestPayload, event);
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    assert.equal(record.responsePayload?.errorMessage, 'failing on purpose');
    await sleep(300);
    assert.equal(runs(), 3, 'ran again after its retries were exhausted');
    assert.equal((await t.server.services.store.asyncEvents.get(id))?.status, 'failed');
  });

  it('Invoke Event: MaximumRetryAttempts 0 sends a failure straight to the destination', async () => {
    await t.lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'worker', MaximumRetryAttempts: 0 }));
    const out = await t.lambda.send(
      new InvokeCommand({
        FunctionName: 'worker',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ sink: sink.url, fail: true })),
      }),
    );
    const id = out.$metadata.requestId!;
    const record = await recordOf(id);
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.equal(sink.counts((p) => !p.record).get(id), 1);
  });

  it('Invoke Event: two functions naming each other as destination stop after 16 invocations; payloads past 256 KB leave the record', async () => {
    const looper = {
      'index.js': `
exports.handler = async (event, context) => {
  const seen = { fn: process.env.AWS_LAMBDA_FUNCTION_NAME, size: JSON.stringify(event).length, withPayload: event.requestPayload !== undefined };
  await fetch(process.env.SINK, { method: 'POST', body: JSON.stringify({ id: context.awsRequestId, event: seen }) });
  return event;
};
`,
    };
    for (const name of ['loop-a', 'loop-b'])
      await createFunction(t.lambda, name, looper, { Environment: { Variables: { SINK: sink.url } } });
    for (const [from, to] of [
      ['loop-a', 'loop-b'],
      ['loop-b', 'loop-a'],
    ] as const) {
      await t.lambda.send(
        new PutFunctionEventInvokeConfigCommand({ FunctionName: from, DestinationConfig: { OnSuccess: { Destination: arn(to) } } }),
      );
    }
    const hops = () => sink.posts.filter((p) => typeof p.event?.fn === 'string' && p.event.fn.startsWith('loop-'));
    await t.lambda.send(
      new InvokeCommand({
        FunctionName: 'loop-a',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ pad: 'x'.repeat(100_000) })),
      }),
    );
    await waitFor('16 invocations of the loop', () => hops().length >= 16, 20_000);
    await sleep(1000);
    const seen = hops().map((p) => p.event as { fn: string; size: number; withPayload: boolean });
    assert.equal(seen.length, 16, 'the 17th was not sent');
    assert.deepEqual(
      seen.map((h) => h.fn),
      Array.from({ length: 16 }, (_, i) => (i % 2 ? 'loop-b' : 'loop-a')),
    );
    // 100 KB, then a record of 100 KB twice (request and answer), then one without them (400 KB would be
    // past 256 KB); from there records double again until they would pass it. No event grows past it.
    assert.ok(seen[0]!.size > 100_000 && seen[1]!.size > 200_000 && seen[1]!.withPayload, JSON.stringify(seen.slice(0, 3)));
    assert.ok(seen[2]!.size < 2_000 && !seen[2]!.withPayload, JSON.stringify(seen[2]));
    assert.ok(
      seen.every((h) => h.size < 256 * 1024 + 2_000),
      JSON.stringify(seen.map((h) => h.size)),
    );
    for (const name of ['loop-a', 'loop-b']) await t.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: name }));
  });

  it('Invoke Event: a function that invokes itself asynchronously is stopped at the 16th invocation, as Lambda stops a recursive loop', async () => {
    const selfInvoking = {
      'index.mjs': `
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({});
export const handler = async (event) => {
  await fetch(process.env.SINK, { method: 'POST', body: JSON.stringify({ id: 'self-' + event.hop, event: { fn: 'self', hop: event.hop } }) });
  const next = await lambda.send(new InvokeCommand({ FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME, InvocationType: 'Event', Payload: JSON.stringify({ hop: event.hop + 1 }) }));
  return next.StatusCode;
};
`,
    };
    await createFunction(t.lambda, 'self-invoking', selfInvoking, {
      Handler: 'index.handler',
      Environment: { Variables: { SINK: sink.url } },
    });
    await t.lambda.send(new InvokeCommand({ FunctionName: 'self-invoking', InvocationType: 'Event', Payload: Buffer.from('{"hop":1}') }));
    const hops = () => sink.posts.filter((p) => p.event?.fn === 'self').map((p) => p.event!.hop as number);
    await waitFor('16 invocations', () => hops().length >= 16, 20_000);
    await sleep(1500);
    assert.deepEqual(
      hops().sort((a, b) => a - b),
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
  });

  it('Invoke Event: a success is sent to OnSuccess with the function’s answer', async () => {
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'worker',
        DestinationConfig: { OnSuccess: { Destination: arn('recorder') } },
      }),
    );
    const event = { sink: sink.url, tag: 'works' };
    const out = await t.lambda.send(
      new InvokeCommand({ FunctionName: 'worker', InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const id = out.$metadata.requestId!;
    const record = await recordOf(id);
    assert.equal(record.requestContext.condition, 'Success');
    assert.equal(record.requestContext.approximateInvokeCount, 1);
    assert.deepEqual(record.requestPayload, event);
    assert.deepEqual(record.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
    assert.deepEqual(record.responsePayload, { ok: true, tag: 'works' });
  });

  it('Invoke Event: an event whose next retry would be older than MaximumEventAgeInSeconds goes to OnFailure as EventAgeExceeded', async () => {
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'worker',
        MaximumEventAgeInSeconds: 90,
        DestinationConfig: { OnFailure: { Destination: arn('recorder') } },
      }),
    );
    const out = await t.lambda.send(
      new InvokeCommand({
        FunctionName: 'worker',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ sink: sink.url, fail: true })),
      }),
    );
    const id = out.$metadata.requestId!;
    await waitFor('the first attempt', () => sink.counts((p) => !p.record).get(id) === 1);
    await waitFor('the event to wait for its retry', async () => (await queueDepth(t.url, 'worker')).pending === 1);
    // The retry a minute later is within 90 s; the one two minutes after that would not be.
    clock.advance(60_000);
    const record = await recordOf(id);
    assert.equal(record.requestContext.condition, 'EventAgeExceeded');
    assert.equal(record.requestContext.approximateInvokeCount, 2);
    assert.equal(sink.counts((p) => !p.record).get(id), 2);
    assert.equal((await t.server.services.store.asyncEvents.get(id))?.status, 'dropped');
    await t.lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'worker' }));
  });

  it('Invoke Event: an event for an alias follows the alias weights when it runs, not when it was accepted', async () => {
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'worker' }));
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'worker', Description: 'second' }));
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'worker' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'worker', Name: 'live', FunctionVersion: '1' }));
    // Version 1 fails these events; the alias moves to version 2 before their retry.
    const ids = await sendEvents(t.lambda, 'worker:live', 5, (i) => ({ sink: sink.url, fail: '1', tag: `alias-${i}` }), 5);
    const versions = (id: string) => sink.posts.filter((p) => p.id === id && !p.record).map((p) => p.version);
    await waitFor('the first attempts, on version 1', () => ids.every((id) => versions(id).length === 1));
    assert.ok(ids.every((id) => versions(id)[0] === '1'));
    await waitFor('the events to wait for their retry', async () => (await queueDepth(t.url, 'worker')).pending === 5);
    await t.lambda.send(new UpdateAliasCommand({ FunctionName: 'worker', Name: 'live', FunctionVersion: '2' }));
    clock.advance(60_000);
    await waitFor('the retries, on version 2', () => ids.every((id) => versions(id).length === 2));
    assert.ok(ids.every((id) => versions(id)[1] === '2'));
    await waitFor(
      'the queue to empty',
      async () => (await queueDepth(t.url, 'worker')).pending + (await queueDepth(t.url, 'worker')).running === 0,
    );

    // Mid-shift: half the alias's traffic on version 2.
    await t.lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'worker',
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
      }),
    );
    const shifted = await sendEvents(t.lambda, 'worker:live', 40, (i) => ({ sink: sink.url, tag: `shift-${i}` }), 10);
    await waitFor('the shifted events', () => shifted.every((id) => versions(id).length === 1), 20_000);
    const seen = new Set(shifted.map((id) => versions(id)[0]));
    assert.deepEqual([...seen].sort(), ['1', '2']);
  });

  it('AWS/Lambda: AsyncEventsReceived, AsyncEventAge and AsyncEventsDropped are published per function and resource', async () => {
    const cw = new CloudWatchClient({
      endpoint: t.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const stat = async (metric: string, dims: { Name: string; Value: string }[], statistic: 'Sum' | 'Maximum' | 'SampleCount') => {
      const now = clock.now();
      const out = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: dims,
          Period: 86400,
          Statistics: [statistic],
          StartTime: new Date(now - 86_400_000),
          EndTime: new Date(now + 60_000),
        }),
      );
      return (out.Datapoints ?? []).reduce((acc, d) => acc + (d[statistic] ?? 0), 0);
    };
    const fn = [{ Name: 'FunctionName', Value: 'worker' }];
    try {
      assert.equal(await stat('AsyncEventsReceived', fn, 'Sum'), 49);
      assert.equal(await stat('AsyncEventsReceived', [...fn, { Name: 'Resource', Value: 'worker:live' }], 'Sum'), 45);
      // The failed events: retries exhausted (two) and too old (one).
      assert.equal(await stat('AsyncEventsDropped', fn, 'Sum'), 3);
      // The first failing event waited three minutes of platform time for its last attempt.
      assert.ok((await stat('AsyncEventAge', fn, 'Maximum')) >= 180_000);
      assert.ok((await stat('AsyncEventsReceived', [{ Name: 'FunctionName', Value: 'recorder' }], 'Sum')) >= 4);
    } finally {
      cw.destroy();
    }
  });

  it('DeleteFunction: drops the function’s queued events and configs', async () => {
    await t.lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'worker',
        DestinationConfig: { OnFailure: { Destination: arn('recorder') } },
      }),
    );
    const out = await t.lambda.send(
      new InvokeCommand({
        FunctionName: 'worker',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ sink: sink.url, fail: true })),
      }),
    );
    const id = out.$metadata.requestId!;
    await waitFor('the event to wait for its retry', async () => (await queueDepth(t.url, 'worker')).pending === 1);
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'worker' }));
    assert.equal(await t.server.services.store.asyncEvents.get(id), undefined);
    assert.deepEqual(await t.server.services.store.eventInvokeConfigs.list('worker'), []);
    clock.advance(60_000);
    await sleep(300);
    assert.equal(sink.counts((p) => !p.record).get(id), 1);
  });
});

describe('asynchronous invocation: a full queue throttles', () => {
  let t: TestServer;
  const sink = new Sink();
  before(async () => {
    await sink.start();
    // Two environments, so one asynchronous attempt at a time; a queue of at most 4 events or 300 bytes.
    t = await startTestServer({ maxEnvironments: 2, overrides: { asyncQueueLimit: { events: 4, bytes: 300 } } });
    await createFunction(t.lambda, 'queued', WORKER, { Timeout: 10 });
    await createFunction(t.lambda, 'other', WORKER, { Timeout: 10 });
  });
  after(async () => {
    await t.close();
    await sink.close();
  });

  const event = (name: string, body: unknown) =>
    t.lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(body)) }));

  it('Invoke Event: past a function’s queue limit answers 429 TooManyRequestsException and stores nothing; other functions and synchronous invokes go on', async () => {
    const ids = await sendEvents(t.lambda, 'queued', 4, (i) => ({ sink: sink.url, sleep: 1500, tag: i }), 1);
    const before = await queueDepth(t.url, 'queued');
    assert.equal(before.pending + before.running, 4);
    const e = await errorOf(() => event('queued', { sink: sink.url, tag: 'one-too-many' }));
    assert.equal(e.name, 'TooManyRequestsException');
    assert.equal(e.$metadata?.httpStatusCode, 429);
    assert.equal((e as { Reason?: string }).Reason, 'FunctionInvocationRateLimitExceeded');
    assert.match(e.message, /queue of asynchronous events is full/);
    const after = await queueDepth(t.url, 'queued');
    assert.equal(after.pending + after.running, 4, 'the refused event was not stored');
    // The limit is per function, and synchronous invokes are not queued.
    assert.equal((await event('other', { sink: sink.url, tag: 'other' })).StatusCode, 202);
    const sync = await t.lambda.send(
      new InvokeCommand({ FunctionName: 'queued', Payload: Buffer.from(JSON.stringify({ sink: sink.url })) }),
    );
    assert.equal(sync.StatusCode, 200);
    // Once an event has run there is room again (the backlog is read again after a second).
    await waitFor(
      'an event to run',
      async () => {
        const d = await queueDepth(t.url, 'queued');
        return d.pending + d.running < 4;
      },
      10_000,
    );
    await sleep(1100);
    assert.equal((await event('queued', { sink: sink.url, tag: 'room-again' })).StatusCode, 202);
    assert.equal(new Set(ids).size, 4);
  });

  it('Invoke Event: past a function’s queued bytes answers 429, by the payload’s UTF-8 size', async () => {
    await queueEmpty(t.url, 'queued', 20_000);
    await sleep(1100);
    // 200 bytes queued (an event running for 1.5 s counts until it ends), then 101 more is one too many.
    const pad = (bytes: number, extra: object) => {
      const base = JSON.stringify({ ...extra, pad: '' });
      return {
        ...extra,
        pad: 'é'.repeat(Math.floor((bytes - Buffer.byteLength(base)) / 2)) + 'x'.repeat((bytes - Buffer.byteLength(base)) % 2),
      };
    };
    assert.equal((await event('queued', pad(200, { sink: sink.url, sleep: 1500 }))).StatusCode, 202);
    const d = await queueDepth(t.url, 'queued');
    assert.equal(d.bytes, 200);
    const e = await errorOf(() => event('queued', pad(101, { sink: sink.url })));
    assert.equal(e.name, 'TooManyRequestsException');
    assert.equal((await queueDepth(t.url, 'queued')).bytes, 200);
    assert.equal((await event('queued', pad(100, { sink: sink.url }))).StatusCode, 202);
    assert.equal((await queueDepth(t.url, 'queued')).bytes, 300);
  });
});
