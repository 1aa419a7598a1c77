// PostgreSQL only: what two nodes sharing one database do at the same time, as two stores (two pools) on one database.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import pg from 'pg';
import { PlatformError } from '../../core/errors.js';
import type { AsyncEventRecord } from '../../domain/async-event.js';
import { fn, objectRecord } from '../store-contract.js';
import type { Store } from '../store.js';
import { openPostgresStore } from './postgres-store.js';
import { createTestDatabase } from './test-database.js';

const event = (id: string): AsyncEventRecord => ({
  id,
  functionName: 'f',
  qualifier: undefined,
  region: 'us-east-1',
  payload: '{}',
  receivedAt: 0,
  status: 'pending',
  attempts: 0,
  throttles: 0,
  nextAttemptAt: 0,
  leaseUntil: undefined,
  lastResponse: undefined,
  condition: undefined,
  finishedAt: undefined,
});

describe('postgres store: two nodes on one database', () => {
  let one: Store;
  let two: Store;
  let drop: () => Promise<void>;
  let url: string;
  before(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    url = db.url;
    one = await openPostgresStore(db.url);
    two = await openPostgresStore(db.url);
  });
  after(async () => {
    await one?.close();
    await two?.close();
    await drop?.();
  });

  it('two transactions that both find no function and create it: both complete, one record, the loser ran again and saw it', async () => {
    const runs = { a: [] as string[], b: [] as string[] };
    // Both first runs read before either writes, so the race is certain rather than likely.
    let arrived = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const create = (store: Store, who: 'a' | 'b') =>
      store.transaction(async (tx) => {
        const found = await tx.functions.get('x');
        runs[who].push(found ? `saw ${found.revisionId}` : 'saw nothing');
        if (runs[who].length === 1 && ++arrived === 2) bothRead();
        if (runs[who].length === 1) await barrier;
        if (found) return 'exists';
        await tx.functions.create({ ...fn('x'), revisionId: who });
        return 'created';
      });
    const outcomes = await Promise.all([create(one, 'a'), create(two, 'b')]);
    assert.deepEqual([...outcomes].sort(), ['created', 'exists']);
    const winner = outcomes[0] === 'created' ? 'a' : 'b';
    const loser = winner === 'a' ? 'b' : 'a';
    assert.deepEqual(runs[winner], ['saw nothing']);
    assert.deepEqual(runs[loser], ['saw nothing', `saw ${winner}`]);
    assert.deepEqual(
      (await one.functions.list()).map((f) => [f.name, f.revisionId]),
      [['x', winner]],
    );
  });

  it('appends at once from two stores to one new group and stream: every event kept, the stream counts them all', async () => {
    const batch = (store: Store, i: number) =>
      store.logs.append([
        { groupName: '/race', streamName: 's', timestamp: i, message: `m${i}`, ingestionTime: 1_000 + i },
        { groupName: '/race', streamName: 's', timestamp: 100 + i, message: 'x', ingestionTime: 1_000 + i },
      ]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => batch(i % 2 ? one : two, i)));
    const events = await one.logs.events({ groupName: '/race', limit: 100 });
    assert.equal(events.length, 40);
    assert.equal(new Set(events.map((e) => e.seq)).size, 40);
    const bytes = events.reduce((sum, e) => sum + Buffer.byteLength(e.message), 0);
    assert.deepEqual(await two.logs.getStream('/race', 's'), {
      groupName: '/race',
      name: 's',
      createdAt: (await two.logs.getGroup('/race'))!.createdAt,
      firstEventAt: 0,
      lastEventAt: 119,
      lastIngestionAt: 1_019,
      storedBytes: bytes,
    });
  });

  it('batches of more than one block of seq appended at once from two stores: no seq given twice, each batch in its order', async () => {
    const batch = (store: Store, b: number) =>
      store.logs.append(
        Array.from({ length: 1500 }, (_, i) => ({
          groupName: '/blocks',
          streamName: `s${b}`,
          timestamp: 1,
          message: `${i}`,
          ingestionTime: 1,
        })),
      );
    await Promise.all(Array.from({ length: 6 }, (_, b) => batch(b % 2 ? one : two, b)));
    const events = await two.logs.events({ groupName: '/blocks', limit: 10_000 });
    assert.equal(events.length, 9000);
    assert.equal(new Set(events.map((e) => e.seq)).size, 9000);
    for (let b = 0; b < 6; b++) {
      // Events of one timestamp come in seq order: a batch's, in the order it was given.
      assert.deepEqual(
        events.filter((e) => e.streamName === `s${b}`).map((e) => e.message),
        Array.from({ length: 1500 }, (_, i) => `${i}`),
      );
    }
  });

  it('20 claims at once across two stores never take the same event twice', async () => {
    const ids = Array.from({ length: 15 }, (_, i) => `e${String(i).padStart(2, '0')}`);
    for (const id of ids) await one.asyncEvents.enqueue(event(id));
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).asyncEvents.claim(100, 1000, [])));
    const claimed = claims.flatMap((c) => (c ? [c.id] : []));
    assert.equal(new Set(claimed).size, claimed.length, `claimed twice: ${claimed.join(', ')}`);
    assert.deepEqual([...claimed].sort(), ids, 'every due event was claimed once');
    assert.ok(claims.every((c) => c === undefined || (c.status === 'running' && c.attempts === 1)));
    assert.deepEqual(await two.asyncEvents.depth('f'), { pending: 0, running: 15, bytes: 30 });
  });

  it('a listening connection that drops comes back, tells its listeners they may have missed messages, and hears again', async () => {
    const heard: (string | undefined)[] = [];
    const stop = one.cluster.listen((m) => heard.push(m));
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(ok(), what);
    };
    // Ends every connection LISTENing on this database, as a network failure would.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    );
    await admin.end();
    assert.ok(rowCount! >= 1, 'a listening connection was ended');
    await until('told of the gap', () => heard.includes(undefined));
    await two.cluster.notify('after the gap');
    await until('heard again', () => heard.includes('after the gap'));
    stop();
  });

  it('a transaction whose work caught a failed statement does not report a commit PostgreSQL turned into a rollback', async () => {
    await assert.rejects(
      one.transaction(async (tx) => {
        await tx.settings.put('swallowed', 'written');
        // 1.5 is no bigint: the statement fails, the work carries on as if it had not.
        await tx.asyncEvents.enqueue({ ...event('bad'), nextAttemptAt: 1.5 }).catch(() => undefined);
      }),
      // The statement's own error, as the store gives it (a value it cannot hold: the caller's).
      { code: 'ValidationException', message: /invalid input syntax for type bigint/ },
    );
    assert.equal(await one.settings.get('swallowed'), undefined);
  });

  it('a transaction that keeps meeting conflicts gives up as a throttle its caller may retry, not as an internal error', async () => {
    let runs = 0;
    await assert.rejects(
      one.transaction(() => {
        runs++;
        return Promise.reject(Object.assign(new Error('could not serialize access'), { code: '40001' }));
      }),
      (err: unknown) => err instanceof PlatformError && err.code === 'ThrottlingException',
    );
    assert.equal(runs, 16);
  });

  it('s3: a blob copy deleted on one node while a transaction on the other holds it is kept, and the reference it wrote stays whole', async () => {
    const sha = 'f'.repeat(64);
    const bytes = () => Readable.from([new Uint8Array([5])]);
    await one.s3.createBucket({ name: 'blobs', region: 'us-east-1', createdAt: 1, settings: {} });
    await one.s3.putBlob(sha, bytes);
    const object = objectRecord('blobs', 'k', sha);
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    // Node one holds the copy and writes the object, but does not commit until the delete has been asked.
    const writing = one.transaction(async (tx) => {
      assert.equal(await tx.s3.holdBlob(sha), true);
      await tx.s3.putObject(object);
      held();
      await finished;
    });
    await holding;
    let deleteDone = false;
    const deleting = two.s3.deleteBlob(sha).finally(() => (deleteDone = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(deleteDone, false, 'the delete waits for the transaction holding the copy');
    finish();
    await writing;
    assert.equal(await deleting, false, 'and then finds the object it wrote');
    assert.equal((await two.s3.openBlob(sha))?.size, 1);
    // Once nothing points at it, a delete that runs first leaves a later transaction nothing to hold.
    await two.s3.deleteObject('blobs', 'k');
    assert.equal(await two.s3.deleteBlob(sha), true);
    assert.equal(await one.transaction((tx) => tx.s3.holdBlob(sha)), false);
  });

  it('two nodes opening one empty database at once: one migrates, the other waits and finds it done; a newer schema is refused', async () => {
    const db = await createTestDatabase();
    try {
      const stores = await Promise.all([openPostgresStore(db.url), openPostgresStore(db.url), openPostgresStore(db.url)]);
      await Promise.all(stores.map((s) => s.close()));
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string; v: number }>('SELECT COUNT(*) AS n, MAX(version) AS v FROM schema_migrations');
        assert.equal(Number(rows[0]!.n), rows[0]!.v, 'each migration applied once');
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES (1000, now())');
      } finally {
        await client.end();
      }
      await assert.rejects(openPostgresStore(db.url), /written by a newer Versa \(schema 1000\); upgrade Versa to open it/);
    } finally {
      await db.drop();
    }
  });
});
