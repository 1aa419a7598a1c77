import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { codeSha256 } from '../../domain/lambda-function.js';
import { assertStacksMigrated, stacksAsDocuments, storeContract } from '../store-contract.js';
import { MIGRATIONS } from './migrations.js';
import { openSqliteStore } from './sqlite-store.js';

storeContract('sqlite', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'versa-store-'));
  const file = path.join(dir, 'versa.db');
  return {
    store: openSqliteStore(file),
    reopen: () => Promise.resolve(openSqliteStore(file)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('sqlite store: log events written before chunks', () => {
  it('a data dir whose events are rows opens with every event kept, in order, and seq carries on', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'versa-store-'));
    const file = path.join(dir, 'versa.db');
    try {
      // The schema as it was, with events written one row each, some out of time order.
      const db = new Database(file);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      // The migrations before the one that made chunks.
      const before = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE log_chunks'));
      MIGRATIONS.slice(0, before).forEach((sql, i) => {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(i + 1, 'then');
      });
      db.prepare("INSERT INTO log_groups (name, created_at) VALUES ('/old', 1)").run();
      db.prepare("INSERT INTO log_streams (group_id, name, created_at, stored_bytes) VALUES (1, 'a', 1, 0), (1, 'b', 1, 0)").run();
      const add = db.prepare('INSERT INTO log_events (group_id, stream_id, ts, ingested, message) VALUES (1, ?, ?, 1, ?)');
      for (let i = 0; i < 2100; i++) add.run(1 + (i % 2), 10_000 - i, `m${i} "quoted" é`);
      // A queued event from before events' sizes were kept: its payload's bytes count once it opens.
      db.prepare(
        "INSERT INTO async_events (id, function_name, status, attempts, next_attempt_at, doc) VALUES ('e', 'f', 'pending', 0, 0, ?)",
      ).run(JSON.stringify({ id: 'e', functionName: 'f', payload: '{"k":"é"}' }));
      db.close();

      const store = openSqliteStore(file);
      try {
        assert.deepEqual(await store.asyncEvents.depth('f'), { pending: 1, running: 0, bytes: 10 });
        const events = await store.logs.events({ groupName: '/old', limit: 5000 });
        assert.equal(events.length, 2100);
        assert.deepEqual(events[0], { seq: 2100, timestamp: 7901, ingestionTime: 1, message: 'm2099 "quoted" é', streamName: 'b' });
        assert.ok(events.every((e, i) => i === 0 || e.timestamp > events[i - 1]!.timestamp));
        await store.logs.append([{ groupName: '/old', streamName: 'a', timestamp: 1, message: 'new', ingestionTime: 2 }]);
        const [first] = await store.logs.events({ groupName: '/old', limit: 1 });
        assert.deepEqual([first!.message, first!.seq], ['new', 2101]);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: stacks written as one document each', () => {
  it('a data dir whose stacks are whole documents opens with each stack as it was, and its operation carries on', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'versa-store-'));
    const file = path.join(dir, 'versa.db');
    try {
      const db = new Database(file);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      const before = MIGRATIONS.findIndex((sql) => sql.includes('CREATE TABLE stack_plans'));
      MIGRATIONS.slice(0, before).forEach((sql, i) => {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(i + 1, 'then');
      });
      const stacks = stacksAsDocuments();
      for (const stack of stacks) db.prepare('INSERT INTO stacks (name, doc) VALUES (?, ?)').run(stack.name, JSON.stringify(stack));
      db.close();

      const store = openSqliteStore(file);
      try {
        await assertStacksMigrated(store, stacks);
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite store: code packages', () => {
  it('are files beside the database, not rows; packages an earlier Versa kept as rows are still read', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'versa-store-'));
    const file = path.join(dir, 'versa.db');
    try {
      const old = Buffer.from('an earlier package');
      const oldSha = codeSha256(old);
      const store = openSqliteStore(file);
      await store.close();
      const db = new Database(file);
      db.prepare('INSERT INTO code_packages (sha256, size, zip) VALUES (?, ?, ?)').run(oldSha, old.length, old);
      db.close();

      const reopened = openSqliteStore(file);
      try {
        const zip = Buffer.from('a new package');
        const sha = codeSha256(zip);
        await reopened.code.put(sha, zip);
        const hex = Buffer.from(sha, 'base64').toString('hex');
        assert.deepEqual(await readFile(path.join(dir, 'packages', hex.slice(0, 2), `${hex}.zip`)), zip);
        assert.deepEqual(Buffer.from((await reopened.code.get(sha))!), zip);
        assert.deepEqual(Buffer.from((await reopened.code.get(oldSha))!), old);
        // No temporary file is left beside it.
        assert.deepEqual(await readdir(path.join(dir, 'packages', hex.slice(0, 2))), [`${hex}.zip`]);
        // A key that is not a SHA-256 never becomes a path.
        await assert.rejects(reopened.code.put('../../etc/x', zip), /not a package key/);
      } finally {
        await reopened.close();
      }
      const check = new Database(file, { readonly: true });
      assert.deepEqual(check.prepare('SELECT sha256 FROM code_packages').all(), [{ sha256: oldSha }], 'the new package is no row');
      check.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
