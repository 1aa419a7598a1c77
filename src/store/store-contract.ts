/**
 * The behaviour every Store implementation must show. Each implementation's test calls
 * `storeContract(name, open)`; the same suite will run on PostgreSQL when it lands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AliasRecord, FunctionRecord, VersionRecord } from '../domain/lambda-function.js';
import type { Store } from './store.js';

const spec = (sha: string) => ({
  runtime: 'nodejs20.x',
  handler: 'index.handler',
  role: 'arn:aws:iam::000000000000:role/r',
  description: '',
  timeout: 3,
  memorySize: 128,
  environment: undefined,
  codeSha256: sha,
  codeSize: 10,
  architectures: ['x86_64'],
  ephemeralStorageSize: 512,
  tracingMode: 'PassThrough' as const,
});

const fn = (name: string): FunctionRecord => ({
  name,
  spec: spec('sha-a'),
  revisionId: 'r1',
  state: 'Active',
  lastUpdateStatus: 'Successful',
  lastModified: 1,
  nextVersion: 1,
  lastPublished: undefined,
});

const version = (functionName: string, v: string): VersionRecord => ({
  functionName,
  version: v,
  spec: spec('sha-a'),
  revisionId: `rv${v}`,
  lastModified: 2,
});
const alias = (functionName: string, name: string, functionVersion: string): AliasRecord => ({
  functionName,
  name,
  functionVersion,
  description: '',
  additionalVersionWeights: undefined,
  revisionId: `ra-${name}`,
});

export function storeContract(
  name: string,
  open: () => Promise<{ store: Store; reopen: () => Promise<Store>; cleanup: () => Promise<void> }>,
): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let reopen: () => Promise<Store>;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, reopen, cleanup } = await open());
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    it('functions: put, get, list in name order, overwrite', async () => {
      await store.functions.put(fn('b'));
      await store.functions.put(fn('a'));
      await store.functions.put({ ...fn('b'), revisionId: 'r2' });
      assert.equal((await store.functions.get('b'))?.revisionId, 'r2');
      assert.deepEqual(
        (await store.functions.list()).map((f) => f.name),
        ['a', 'b'],
      );
      assert.equal(await store.functions.get('missing'), undefined);
    });

    it('versions: listed in numeric order, not text order', async () => {
      for (const v of ['10', '2', '1']) await store.versions.put(version('a', v));
      assert.deepEqual(
        (await store.versions.list('a')).map((v) => v.version),
        ['1', '2', '10'],
      );
      assert.equal((await store.versions.get('a', '10'))?.revisionId, 'rv10');
      assert.equal(await store.versions.get('a', '$LATEST'), undefined);
    });

    it('aliases and policies: put, get, list, delete', async () => {
      await store.aliases.put(alias('a', 'prod', '1'));
      await store.aliases.put(alias('a', 'dev', '$LATEST'));
      assert.deepEqual(
        (await store.aliases.list('a')).map((x) => x.name),
        ['dev', 'prod'],
      );
      await store.policies.put('a', '', { sid: 's1', statement: { Sid: 's1' } });
      assert.deepEqual(await store.policies.list('a', ''), [{ sid: 's1', statement: { Sid: 's1' } }]);
      await store.aliases.delete('a', 'dev');
      await store.policies.delete('a', '', 's1');
      assert.deepEqual(
        (await store.aliases.list('a')).map((x) => x.name),
        ['prod'],
      );
      assert.deepEqual(await store.policies.list('a', ''), []);
    });

    it('code: kept once per sha256', async () => {
      await store.code.put('sha-a', new Uint8Array([1, 2, 3]));
      await store.code.put('sha-a', new Uint8Array([9]));
      assert.deepEqual(await store.code.get('sha-a'), new Uint8Array([1, 2, 3]));
      assert.equal(await store.code.get('sha-b'), undefined);
    });

    it('transaction: a failure rolls every write back', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.functions.put(fn('c'));
          await tx.aliases.put(alias('a', 'temp', '1'));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.functions.get('c'), undefined);
      assert.equal(await store.aliases.get('a', 'temp'), undefined);
    });

    it('transaction: other operations wait for it instead of interleaving', async () => {
      const order: string[] = [];
      const tx = store.transaction(async (t) => {
        await t.settings.put('k', 'in-tx');
        await new Promise((r) => setTimeout(r, 20));
        order.push('tx done');
      });
      const read = store.settings.get('k').then((v) => order.push(`read ${v}`));
      await Promise.all([tx, read]);
      assert.deepEqual(order, ['tx done', 'read in-tx']);
    });

    it('functions.delete: removes its versions, aliases and policies too', async () => {
      await store.policies.put('a', 'prod', { sid: 's2', statement: {} });
      await store.functions.delete('a');
      assert.equal(await store.functions.get('a'), undefined);
      assert.deepEqual(await store.versions.list('a'), []);
      assert.deepEqual(await store.aliases.list('a'), []);
      assert.deepEqual(await store.policies.list('a', 'prod'), []);
    });

    it('reopen: data survives closing and opening again', async () => {
      await store.settings.put('timeScale', '60');
      await store.close();
      store = await reopen();
      assert.equal(await store.settings.get('timeScale'), '60');
      assert.equal((await store.functions.get('b'))?.revisionId, 'r2');
    });
  });
}
