import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { openPostgresStore } from '../store/postgres/postgres-store.js';
import { createTestDatabase } from '../store/postgres/test-database.js';
import { loopHolds } from '../../test/loop-holds.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { MAX_CUSTOM_SERIES_BYTES, Metrics, ONE_FUNCTIONS_SHARE } from './metrics.js';

describe('Metrics.flush', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('writes the buckets of a flush that failed at the next flush (the store was out of reach)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'versa-metrics-'));
    dirs.push(dir);
    const store = openSqliteStore(path.join(dir, 'versa.db'));
    let down = true;
    // The store as a node sees it while its database is down: writing points fails.
    const repo = store.metrics;
    const metricsRepo: Store['metrics'] = Object.assign(Object.create(repo) as Store['metrics'], {
      putPoints: (...args: Parameters<Store['metrics']['putPoints']>) =>
        down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : repo.putPoints(...args),
    });
    const flaky: Store = Object.assign(Object.create(store) as Store, { metrics: metricsRepo });
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const opts = { flushIntervalMs: 1000, retentionMs: 86_400_000, memoryWindowMs: 3_600_000 };
    const metrics = new Metrics(flaky, clock, createLogger('silent'), { ...opts, node: 'node-a' });
    const metric = { namespace: 'AWS/Lambda', name: 'Invocations', dimensions: [{ Name: 'FunctionName', Value: 'hello' }] };
    metrics.series(metric.namespace, metric.name, metric.dimensions).record(1, clock.now(), 3);

    await metrics.flush(); // fails, logged
    down = false;
    await metrics.flush();

    // Another node reads only what is stored.
    const other = new Metrics(store, clock, createLogger('silent'), { ...opts, node: 'node-b' });
    const start = clock.now() - 60_000;
    const got = await other.summaries(metric, start, clock.now() + 60_000, 60);
    assert.equal(
      [...got.values()].reduce((n, s) => n + s.sum, 0),
      3,
    );
    await store.close();
  });

  const opts = { flushIntervalMs: 1000, retentionMs: 14 * 86_400_000, memoryWindowMs: 3 * 3_600_000, node: 'node-a' };
  const sumOf = async (metrics: Metrics, metric: { namespace: string; name: string; dimensions: [] }, from: number, to: number) =>
    [...(await metrics.summaries(metric, from, to, 60)).values()].reduce((n, s) => n + s.sum, 0);

  async function storeIn(): Promise<Store> {
    const dir = await mkdtemp(path.join(tmpdir(), 'versa-metrics-'));
    dirs.push(dir);
    return openSqliteStore(path.join(dir, 'versa.db'));
  }

  it('a bucket this node stored before it restarted, or let go of, is added to, not replaced', async () => {
    const store = await storeIn();
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 20));
    const metric = { namespace: 'MyApp', name: 'Orders', dimensions: [] as [] };
    const first = new Metrics(store, clock, createLogger('silent'), opts);
    first.series(metric.namespace, metric.name, []).record(3);
    // Far back, past the memory window: written, then let go at once.
    const old = clock.now() - 5 * 3_600_000;
    first.series(metric.namespace, metric.name, []).record(10, old);
    await first.flush();
    first.series(metric.namespace, metric.name, []).record(20, old);
    await first.flush();
    assert.equal(await sumOf(first, metric, old - 60_000, old + 60_000), 30);
    // The same node (its id is its data directory's) restarted within the minute.
    clock.advance(10_000);
    const second = new Metrics(store, clock, createLogger('silent'), opts);
    second.series(metric.namespace, metric.name, []).record(2);
    // Read before and after its flush: both see what was stored and what is held.
    const minute = Date.UTC(2026, 0, 1, 12, 0, 0);
    assert.equal(await sumOf(second, metric, minute, minute + 60_000), 5);
    await second.flush();
    assert.equal(await sumOf(second, metric, minute, minute + 60_000), 5);
    const reader = new Metrics(store, clock, createLogger('silent'), { ...opts, node: 'node-b' });
    assert.equal(await sumOf(reader, metric, minute, minute + 60_000), 5);
    assert.equal(await sumOf(reader, metric, old - 60_000, old + 60_000), 30);
    await store.close();
  });

  it("custom series' buckets in memory are bounded: data backfilled into two weeks of minutes is written through, and reads whole", async () => {
    const store = await storeIn();
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 12, 0, 0));
    const maxBucketBytes = 1024 * 1024;
    const metrics = new Metrics(store, clock, createLogger('silent'), { ...opts, maxBucketBytes });
    const metric = { namespace: 'Backfill', name: 'm', dimensions: [] as [] };
    const series = metrics.series(metric.namespace, metric.name, []);
    const minutes = 14 * 24 * 60 - 10;
    let most = 0;
    for (let i = 0; i < minutes; i++) {
      // Values far apart: every bucket's histogram gets bins of its own.
      series.record(1, clock.now() - i * 60_000);
      series.record(1e12 + i, clock.now() - i * 60_000);
      if (i % 2_000 === 1_999) {
        await metrics.flush();
        most = Math.max(most, metrics.heldBucketBytes);
      }
    }
    await metrics.flush();
    assert.ok(metrics.heldBucketBytes <= maxBucketBytes, `${metrics.heldBucketBytes} bytes held`);
    assert.ok(series.buckets.size < minutes / 4, `${series.buckets.size} buckets held`);
    const from = clock.now() - minutes * 60_000;
    const got = await metrics.summaries(metric, from, clock.now() + 60_000, 60);
    assert.equal(got.size, minutes);
    assert.equal(
      [...got.values()].reduce((n, s) => n + s.count, 0),
      2 * minutes,
    );
    // A platform series is never charged.
    metrics.series('AWS/Lambda', 'Invocations', []).record(1);
    assert.ok(metrics.heldBucketBytes <= maxBucketBytes);
    await store.close();
  });

  it('high-resolution data backfilled over days is merged and written a bounded slice at a time, so a flush never holds the event loop for long', async () => {
    const store = await storeIn();
    // What each call to the store took (rows read or written): a SQLite call holds the event loop for all of it.
    const repo = store.metrics;
    let most = 0;
    const count = <T>(rows: T[]): T[] => ((most = Math.max(most, rows.length)), rows);
    const counted: Store['metrics'] = Object.assign(Object.create(repo) as Store['metrics'], {
      putPoints: (points: Parameters<Store['metrics']['putPoints']>[0], series: Parameters<Store['metrics']['putPoints']>[1]) =>
        repo.putPoints(count(points), series),
      points: async (...args: Parameters<Store['metrics']['points']>) => count(await repo.points(...args)),
      pointsAt: async (...args: Parameters<Store['metrics']['pointsAt']>) => count(await repo.pointsAt(...args)),
    });
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 12, 0, 0));
    const metrics = new Metrics(Object.assign(Object.create(store) as Store, { metrics: counted }), clock, createLogger('silent'), opts);
    const metric = { namespace: 'Backfill', name: 'hires', dimensions: [] as [] };
    const series = metrics.series(metric.namespace, metric.name, [], { resolution: 1 });
    let seed = 3;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    // Seconds scattered over 13 days, before this node started: each bucket may be stored already, and is
    // merged with what is before it is written.
    const second = () => clock.now() - 1000 * Math.ceil(random() * 13 * 86_400);
    const backfill = async (n: number) => {
      for (let i = 0; i < n; i++) series.record(1, second());
      await metrics.flush();
    };
    await backfill(30_000);
    most = 0;
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      longest = Math.max(longest, performance.now() - last);
      last = performance.now();
    }, 1);
    last = performance.now();
    await backfill(3_000);
    clearInterval(ticker);
    longest = Math.max(longest, performance.now() - last);
    console.log(
      `# a flush of 3,000 backfilled seconds over 30,000 stored: at most ${most} rows a store call, the event loop held ${longest.toFixed(0)} ms at most`,
    );
    // Reading the stretch the backfilled buckets spanned read every stored bucket of the series in one call.
    assert.ok(most <= 500, `a store call took ${most} rows`);
    assert.ok(longest < 1000, `the event loop was held ${longest.toFixed(0)} ms`);
    // Every value accepted is read back, from the store alone as well.
    const reader = new Metrics(store, clock, createLogger('silent'), { ...opts, node: 'node-b' });
    for (const m of [metrics, reader]) {
      const got = await m.summaries(metric, clock.now() - 14 * 86_400_000, clock.now(), 86_400);
      assert.equal(
        [...got.values()].reduce((n, s) => n + s.count, 0),
        33_000,
      );
    }
    await store.close();
  });

  it('reading two hours of a high-resolution series with wide histograms lets other work run every few milliseconds', async () => {
    const store = await storeIn();
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 12, 0, 0));
    const metrics = new Metrics(store, clock, createLogger('silent'), opts);
    const metric = { namespace: 'Wide', name: 'm', dimensions: [] as [] };
    const series = metrics.series(metric.namespace, metric.name, [], { resolution: 1 });
    const seconds = 7_200;
    let seed = 1;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < seconds; i++) {
      // Values spread over 200 orders of magnitude: a histogram bin each.
      for (let v = 0; v < 100; v++) series.record(10 ** (random() * 200 - 100), clock.now() - i * 1000);
      if (i === seconds / 2) await metrics.flush(); // half stored, half still held by this node
    }
    const started = performance.now();
    const { result: got, heldMs } = await loopHolds(
      () => metrics.summaries(metric, clock.now() - seconds * 1000, clock.now() + 1000, 1),
      1,
    );
    const took = performance.now() - started;
    assert.equal(got.size, seconds);
    assert.equal(
      [...got.values()].reduce((n, s) => n + s.count, 0),
      100 * seconds,
    );
    assert.ok(heldMs < 150, `the event loop was held ${heldMs.toFixed(0)} ms at a time (the read took ${took.toFixed(0)} ms)`);
    await store.close();
  });

  it("one function's key makes series in at most a quarter of the budget, all functions' in nine tenths; the operator's in all of it", async () => {
    const store = await storeIn();
    const clock = new FakeClock(Date.UTC(2026, 0, 15, 12, 0, 0));
    const metrics = new Metrics(store, clock, createLogger('silent'), opts);
    const make = (owner: string | undefined, prefix: string): number => {
      let made = 0;
      for (;;) {
        const batch = Array.from({ length: 100 }, (_, i) => ({ name: `${prefix}-${made + i}`, dimensions: [] }));
        if (metrics.refusal('Flood', batch, owner) !== undefined) return made;
        for (const m of batch) metrics.series('Flood', m.name, [], owner === undefined ? {} : { owner });
        made += batch.length;
      }
    };
    const perSeries = 2_560 + 2 * 'Flood|a-0000'.length;
    const quarter = (MAX_CUSTOM_SERIES_BYTES * ONE_FUNCTIONS_SHARE) / perSeries;
    const a = make('a', 'a');
    assert.ok(a > quarter * 0.95 && a <= quarter, `${a} series by a`);
    const hundred = (prefix: string) => Array.from({ length: 100 }, (_, i) => ({ name: `${prefix}-${i}`, dimensions: [] }));
    assert.match(metrics.refusal('Flood', hundred('a-more'), 'a')!, /a quarter of it at most/);
    const others = make('b', 'b') + make('c', 'c') + make('d', 'd');
    assert.match(metrics.refusal('Flood', hundred('e'), 'e')!, /the last tenth for operators' keys/);
    const operator = make(undefined, 'o');
    assert.ok(operator > 1_000, `${operator} series by the operator after ${a + others} by functions`);
    assert.equal(metrics.refusal('Flood', [{ name: 'a-0', dimensions: [] }], 'a'), undefined, 'a known series takes data');
    await store.close();
  });
});

describe('Metrics.flush on PostgreSQL', () => {
  it('a metric point the store refuses is dropped alone: every other point of the flush is written, and later flushes go on', async () => {
    const { url, drop } = await createTestDatabase();
    const store = await openPostgresStore(url);
    try {
      const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
      const opts = { flushIntervalMs: 1000, retentionMs: 86_400_000, memoryWindowMs: 3_600_000 };
      const errors: string[] = [];
      const logger = { ...createLogger('silent'), error: (message: string) => void errors.push(message) };
      const metrics = new Metrics(store, clock, logger, { ...opts, node: 'node-a' });
      // No API lets such a name in (PutMetricData refuses control characters); this is the guard behind it.
      metrics.series('Poison', 'm\u0000', []).record(1);
      // Nor one whose key is past what PostgreSQL indexes, though CloudWatch takes it: 30 dimensions of 1,024 characters.
      // (Values that do not compress: PostgreSQL compresses an index entry before it measures it.)
      const noise = (i: number) => Array.from({ length: 16 }, (_, k) => createHash('sha256').update(`${i}.${k}`).digest('hex')).join('');
      const wide = Array.from({ length: 30 }, (_, i) => ({ Name: `d${i}`, Value: noise(i) }));
      metrics.series('Wide', 'm', wide).record(1);
      const good = { namespace: 'Shop', name: 'Orders', dimensions: [] };
      metrics.series(good.namespace, good.name, good.dimensions).record(1, clock.now(), 3);
      await metrics.flush();
      clock.advance(60_000);
      metrics.series(good.namespace, good.name, good.dimensions).record(1, clock.now(), 4);
      // A series refused once is not tried again point by point at every flush: its new points are dropped unwritten.
      metrics.series('Poison', 'm\u0000', []).record(2);
      metrics.series('Wide', 'm', wide).record(2);
      await metrics.flush();

      const other = new Metrics(store, clock, createLogger('silent'), { ...opts, node: 'node-b' });
      const stored = await other.summaries(good, clock.now() - 120_000, clock.now() + 60_000, 60);
      assert.deepEqual(
        [...stored.values()].map((s) => s.sum),
        [3, 4],
      );
      assert.deepEqual(errors, ['dropped metric data the store cannot hold']);
    } finally {
      await store.close();
      await drop();
    }
  });
});
