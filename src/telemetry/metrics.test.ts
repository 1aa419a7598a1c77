import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { Metrics } from './metrics.js';

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
});
