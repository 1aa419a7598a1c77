import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { PlatformError } from '../../core/errors.js';
import { assertStacksMigrated, stacksAsDocuments, storeContract } from '../store-contract.js';
import { MIGRATIONS } from './migrations.js';
import { openPostgresStore } from './postgres-store.js';
import { createTestDatabase } from './test-database.js';

// Runs against the PostgreSQL server at VERSA_TEST_PG (default: postgres on 127.0.0.1:5432), in a database of its own.
storeContract('postgres', async () => {
  const { url, drop } = await createTestDatabase();
  return {
    store: await openPostgresStore(url),
    reopen: () => openPostgresStore(url),
    cleanup: drop,
  };
});

describe('postgres store: log events written before chunks', () => {
  it('a database whose events are rows opens with every event kept, in order, and seq carries on', async () => {
    const { url, drop } = await createTestDatabase();
    try {
      // The schema as it was, with events written one row each, some out of time order.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const old: { seq: number; timestamp: number; message: string; streamName: string }[] = [];
      try {
        await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)');
        // The migrations before the one that made chunks.
        const before = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE log_chunks'));
        for (const [i, sql] of MIGRATIONS.slice(0, before).entries()) {
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [i + 1]);
        }
        await client.query("INSERT INTO log_groups (name, created_at) VALUES ('/old', 1)");
        await client.query("INSERT INTO log_streams (group_id, name, created_at, stored_bytes) VALUES (1, 'a', 1, 0), (1, 'b', 1, 0)");
        for (let i = 0; i < 2101; i++) {
          // Messages as functions print them: quotes, backslashes, line breaks, U+0000, non-ASCII.
          const message = i % 7 === 0 ? `m${i}\u0000nul\u0000\\ "q"\n é 😀` : `m${i} "quoted" é`;
          const streamName = i % 2 === 0 ? 'a' : 'b';
          old.push({ seq: i + 1, timestamp: 10_000 - i - (i % 3) * 5, message, streamName });
          await client.query('INSERT INTO log_events (group_id, stream_id, ts, ingested, message) VALUES (1, $1, $2, 1, $3)', [
            1 + (i % 2),
            old[i]!.timestamp,
            Buffer.from(message, 'utf8'),
          ]);
        }
        // The newest event is gone (retention, say): its seq is still never given again.
        await client.query('DELETE FROM log_events WHERE seq = 2101');
        old.pop();
      } finally {
        await client.end();
      }
      const expected = old
        .sort((x, y) => x.timestamp - y.timestamp || x.seq - y.seq)
        .map((e) => ({ seq: e.seq, timestamp: e.timestamp, ingestionTime: 1, message: e.message, streamName: e.streamName }));

      const store = await openPostgresStore(url);
      try {
        assert.deepEqual(await store.logs.events({ groupName: '/old', limit: 5000 }), expected);
        assert.deepEqual(await store.logs.events({ groupName: '/old', limit: 5000, descending: true }), [...expected].reverse());
        const page = await store.logs.events({ groupName: '/old', limit: 10, after: expected[99]!, streamNames: ['b'] });
        assert.deepEqual(
          page,
          expected
            .slice(100)
            .filter((e) => e.streamName === 'b')
            .slice(0, 10),
        );
        await store.logs.append([{ groupName: '/old', streamName: 'a', timestamp: 1, message: 'new', ingestionTime: 2 }]);
        const [first] = await store.logs.events({ groupName: '/old', limit: 1 });
        assert.deepEqual([first!.message, first!.seq], ['new', 2102]);
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });
});

describe('postgres store: reads over many chunks', () => {
  it('a read that needs more than its first page of chunks gets every event once, in order, both ways and in pages', async () => {
    const { url, drop } = await createTestDatabase();
    const store = await openPostgresStore(url);
    try {
      // 200 batches of three streams, their times overlapping: 600 chunks.
      for (let b = 0; b < 200; b++) {
        await store.logs.append(
          ['x', 'y', 'z'].flatMap((streamName, s) =>
            [0, 1].map((k) => ({
              groupName: '/many',
              streamName,
              timestamp: b * 3 + ((s * 7 + k * 11 + b) % 40),
              message: `${b}.${s}.${k}`,
              ingestionTime: 1,
            })),
          ),
        );
      }
      const all = await store.logs.events({ groupName: '/many', limit: 10_000 });
      assert.equal(all.length, 1200);
      const sorted = [...all].sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
      assert.deepEqual(all, sorted);
      assert.equal(new Set(all.map((e) => e.seq)).size, 1200);
      assert.deepEqual(await store.logs.events({ groupName: '/many', limit: 10_000, descending: true }), [...all].reverse());
      const paged: number[] = [];
      for (let after: { timestamp: number; seq: number } | undefined; ;) {
        const page = await store.logs.events({ groupName: '/many', limit: 333, ...(after && { after }) });
        paged.push(...page.map((e) => e.seq));
        if (page.length < 333) break;
        after = page.at(-1)!;
      }
      assert.deepEqual(
        paged,
        all.map((e) => e.seq),
      );
      const window = await store.logs.events({ groupName: '/many', limit: 500, from: 100, to: 500, descending: true, streamPrefix: 'y' });
      assert.deepEqual(
        window,
        [...all]
          .reverse()
          .filter((e) => e.timestamp >= 100 && e.timestamp < 500 && e.streamName === 'y')
          .slice(0, 500),
      );
    } finally {
      await store.close();
      await drop();
    }
  });
});

describe('postgres store: U+0000, which its text cannot hold', () => {
  it('a name carrying it is refused as a validation error before any statement runs, and nothing is written', async () => {
    const { url, drop } = await createTestDatabase();
    const store = await openPostgresStore(url);
    try {
      await assert.rejects(
        store.logs.createGroup('/nul\u0000group', 1),
        (err: unknown) => err instanceof PlatformError && err.code === 'ValidationException' && /U\+0000/.test(err.message),
      );
      // A key past what PostgreSQL indexes (a btree entry holds about 2.7 KB) is the same: the caller's, not a 500.
      const long = Array.from({ length: 100 }, (_, k) => createHash('sha256').update(String(k)).digest('hex')).join('');
      await assert.rejects(
        store.logs.createGroup(`/${long}`, 1),
        (err: unknown) => err instanceof PlatformError && err.code === 'ValidationException' && /cannot hold/.test(err.message),
      );
      assert.deepEqual(await store.logs.listGroups(), []);
    } finally {
      await store.close();
      await drop();
    }
  });
});

describe('postgres store: stacks written as one document each', () => {
  it('a database whose stacks are whole documents opens with each stack as it was, and its operation carries on', async () => {
    const { url, drop } = await createTestDatabase();
    try {
      const stacks = stacksAsDocuments();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)');
        const before = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE stack_plans'));
        for (const [i, sql] of MIGRATIONS.slice(0, before).entries()) {
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [i + 1]);
        }
        for (const stack of stacks)
          await client.query('INSERT INTO stacks (name, doc) VALUES ($1, $2)', [stack.name, JSON.stringify(stack)]);
      } finally {
        await client.end();
      }

      const store = await openPostgresStore(url);
      try {
        await assertStacksMigrated(store, stacks);
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });
});
