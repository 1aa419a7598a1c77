import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { SessionRecord, SessionRepository } from '../../store/store.js';
import { Keyring } from './keyring.js';

describe('Keyring: STS sessions', () => {
  it('accepts a session key until it expires, then forgets it', async () => {
    let now = 1_000_000;
    const keyring = new Keyring([{ accessKeyId: 'AKIAOPERATOR', secretAccessKey: 's' }], () => now);
    const identity = { arn: 'arn:aws:sts::000000000000:assumed-role/r/s', userId: 'AROAX:s' };
    const session = await keyring.issueSession(900, identity);
    assert.match(session.accessKeyId, /^ASIA[0-9A-F]{16}$/);
    assert.equal(session.expiresAt, now + 900_000);
    const entry = keyring.lookup(session.accessKeyId);
    assert.equal(entry?.secretAccessKey, session.secretAccessKey);
    assert.equal(entry?.sessionToken, session.sessionToken);
    assert.deepEqual(entry?.identity, identity);
    now += 899_999;
    assert.ok(keyring.lookup(session.accessKeyId), 'still valid a millisecond before expiry');
    now += 1;
    assert.equal(keyring.lookup(session.accessKeyId), undefined);
    assert.ok(keyring.lookup('AKIAOPERATOR'), 'operator keys do not expire');
  });

  it('refuses a session once the temporary key that asked for it is refused: an environment cannot outlive itself', async () => {
    const keyring = new Keyring([{ accessKeyId: 'AKIAOPERATOR', secretAccessKey: 's' }]);
    const environment = keyring.issue('function:f');
    const session = await keyring.issueSession(3600, undefined, environment.accessKeyId);
    const chained = await keyring.issueSession(3600, undefined, session.accessKeyId);
    const own = await keyring.issueSession(3600);
    assert.ok(keyring.lookup(session.accessKeyId) && keyring.lookup(chained.accessKeyId));
    environment.revoke();
    assert.equal(keyring.lookup(chained.accessKeyId), undefined);
    assert.equal(keyring.lookup(session.accessKeyId), undefined);
    assert.ok(keyring.lookup(own.accessKeyId), 'a session of the operator lives its hours');
  });

  it('guestOf: one function is one guest, whatever environments and sessions its requests come from', async () => {
    for (const enforcing of [true, false]) {
      const keyring = new Keyring(enforcing ? [{ accessKeyId: 'AKIAOPERATOR', secretAccessKey: 's' }] : []);
      const [a1, a2, b] = [keyring.issue('function:a'), keyring.issue('function:a'), keyring.issue('function:b')];
      const chained = await keyring.issueSession(
        3600,
        undefined,
        (await keyring.issueSession(3600, undefined, a2.accessKeyId)).accessKeyId,
      );
      const own = await keyring.issueSession(3600);
      assert.equal(keyring.guestOf(a1.accessKeyId), 'function:a');
      assert.equal(keyring.guestOf(chained.accessKeyId), 'function:a', 'an STS key counts as the function that minted it');
      assert.equal(keyring.guestOf(b.accessKeyId), 'function:b');
      assert.equal(keyring.guestOf(own.accessKeyId), own.accessKeyId, "an operator's session is a guest of its own");
      assert.equal(keyring.guestOf(undefined), '', 'unsigned');
      assert.equal(keyring.guestOf('AKIAOPERATOR'), undefined, 'the operator is no guest');
      assert.equal(keyring.guestOf('AKIAUNKNOWN'), enforcing ? '' : undefined, 'an unknown key is a guest only when keys are checked');
    }
  });

  it('a line of chained sessions thousands long is checked in one step, and ends with its first key', async () => {
    const keyring = new Keyring([]);
    const environment = keyring.issue('function:f');
    let key = environment.accessKeyId;
    for (let i = 0; i < 20_000; i++) key = (await keyring.issueSession(3600, undefined, key)).accessKeyId;
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) assert.equal(keyring.guestOf(key), 'function:f');
    assert.ok(performance.now() - started < 1_000, 'not a walk up the line');
    environment.revoke();
    assert.equal(keyring.lookup(key), undefined);
  });

  it("a function minting sessions ends its own oldest at 1,000, never the operator's", async () => {
    const keyring = new Keyring([]);
    const operators = await keyring.issueSession(900);
    const environment = keyring.issue('function:greedy');
    const first = await keyring.issueSession(900, undefined, environment.accessKeyId);
    for (let i = 0; i < 1_000; i++) await keyring.issueSession(3600, undefined, environment.accessKeyId);
    assert.equal(keyring.lookup(first.accessKeyId), undefined, 'its own closest to expiry went');
    assert.ok(keyring.lookup(operators.accessKeyId), "the operator's session stays");
  });

  it("one operator key's burst ends only its own sessions closest to expiry, never another key's", async () => {
    const keyring = new Keyring([
      { accessKeyId: 'AKIAA', secretAccessKey: 'a' },
      { accessKeyId: 'AKIAB', secretAccessKey: 'b' },
    ]);
    const other = await keyring.issueSession(900, undefined, undefined, 'AKIAB');
    const first = await keyring.issueSession(3600, undefined, undefined, 'AKIAA');
    for (let i = 0; i < 1_000; i++) await keyring.issueSession(3600, undefined, undefined, 'AKIAA');
    assert.equal(keyring.lookup(first.accessKeyId), undefined, "the burst's own first session went");
    assert.ok(keyring.lookup(other.accessKeyId), "the other key's session, sooner to expire, stays");
  });

  it('keeps at most 10,000 live sessions: at the whole an owner gives up its own, and one that holds none is refused', async () => {
    const keyring = new Keyring([]);
    const firsts = [];
    for (let k = 0; k < 10; k++) {
      firsts.push(await keyring.issueSession(900, undefined, undefined, `AKIA${k}`));
      for (let i = 1; i < 1_000; i++) await keyring.issueSession(3600, undefined, undefined, `AKIA${k}`);
    }
    await assert.rejects(keyring.issueSession(3600, undefined, undefined, 'AKIANEW'), { name: 'PlatformError', code: 'Throttling' });
    await keyring.issueSession(3600, undefined, undefined, 'AKIA3');
    assert.equal(keyring.lookup(firsts[3]!.accessKeyId), undefined, 'its own closest to expiry made room');
    for (const k of [0, 1, 2, 4, 5, 6, 7, 8, 9]) assert.ok(keyring.lookup(firsts[k]!.accessKeyId), `AKIA${k}'s stay`);
  });

  it('through the store: past its share, a burst of one operator key ends its own first session; another key’s, sooner to expire, stays', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'versa-keyring-'));
    const store = openSqliteStore(path.join(dir, 'versa.db'));
    try {
      const keys = [
        { accessKeyId: 'AKIAA', secretAccessKey: 'a' },
        { accessKeyId: 'AKIAB', secretAccessKey: 'b' },
      ];
      const node = new Keyring(keys, Date.now, store.sessions);
      const other = await node.issueSession(900, undefined, undefined, 'AKIAB');
      const first = await node.issueSession(3600, undefined, undefined, 'AKIAA');
      for (let i = 0; i < 1_000; i++) await node.issueSession(3600, undefined, undefined, 'AKIAA');
      // Another node (or this one after a restart) reads what the store kept.
      const fresh = new Keyring(keys, Date.now, store.sessions);
      assert.ok(await fresh.resolve(other.accessKeyId), "the other key's session is still in the store");
      assert.equal(await fresh.resolve(first.accessKeyId), undefined, "the burst's own first session left the store");
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("in memory: a burst of 10,000 sessions by one operator key leaves another key's sooner-expiring session accepted", async () => {
    const keyring = new Keyring([]);
    const other = await keyring.issueSession(900, undefined, undefined, 'AKIAB');
    for (let i = 0; i < 10_000; i++) await keyring.issueSession(3600, undefined, undefined, 'AKIAA');
    assert.ok(keyring.lookup(other.accessKeyId));
  });

  it("an operator's session is shared through the store; a function's is not; a key id found nowhere is looked for once", async () => {
    const rows = new Map<string, SessionRecord>();
    let reads = 0;
    const shared: SessionRepository = {
      get: (id) => {
        reads++;
        return Promise.resolve(rows.get(id));
      },
      put: (session) => {
        rows.set(session.accessKeyId, session);
        return Promise.resolve(true);
      },
    };
    let now = 1_000_000;
    const [a, b] = [new Keyring([], () => now, shared), new Keyring([], () => now, shared)];
    const identity = { arn: 'arn:aws:sts::000000000000:assumed-role/r/s', userId: 'AROAX:s' };
    const operators = await a.issueSession(900, identity);
    const environment = a.issue('function:f');
    const functions = await a.issueSession(900, undefined, environment.accessKeyId);
    assert.deepEqual([...rows.keys()], [operators.accessKeyId], "only the operator's session is stored");
    assert.equal(b.lookup(operators.accessKeyId), undefined, 'not in memory on another node');
    const found = await b.resolve(operators.accessKeyId);
    assert.deepEqual(
      [found?.secretAccessKey, found?.sessionToken, found?.identity],
      [operators.secretAccessKey, operators.sessionToken, identity],
    );
    assert.ok(b.lookup(operators.accessKeyId), 'kept once read');
    assert.equal(await b.resolve(functions.accessKeyId), undefined);
    reads = 0;
    for (let i = 0; i < 3; i++) assert.equal(await b.resolve('ASIA0000000000000000'), undefined);
    assert.equal(await b.resolve('AKIANOTASESSION'), undefined);
    assert.equal(reads, 1, 'one read for the unknown session id, none for a key that is not one');
    now += 900_000;
    assert.equal(await b.resolve(operators.accessKeyId), undefined, 'expired');
    assert.equal(await new Keyring([], () => now, shared).resolve(operators.accessKeyId), undefined, 'expired in the store too');
  });
});
