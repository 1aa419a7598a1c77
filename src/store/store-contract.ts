/**
 * The behaviour every Store implementation must show. Each implementation's test calls
 * `storeContract(name, open)`; the same suite will run on PostgreSQL when it lands.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { compareSeriesIds } from '../domain/metric.js';
import type { AlarmHistoryItem } from '../domain/alarm.js';
import type { AsyncEventRecord } from '../domain/async-event.js';
import type { DeploymentGroupDoc } from '../domain/code-deploy.js';
import type { DeploymentState } from '../domain/deployment.js';
import { codeSha256, type AliasRecord, type FunctionRecord, type VersionRecord } from '../domain/lambda-function.js';
import type { LogEventQuery } from '../domain/log.js';
import type { ObjectDoc } from '../domain/s3.js';
import { MAX_STACK_EVENTS, type StackDoc, type StackResource } from '../domain/stack.js';
import { LeaseLost, StoreConflict, type SharedBlob, type Store } from './store.js';

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

/** A function record as the contract's cases store it (also used by implementation-specific tests). */
export const fn = (name: string): FunctionRecord => ({
  name,
  spec: spec('sha-a'),
  revisionId: 'r1',
  state: 'Active',
  lastUpdateStatus: 'Successful',
  lastModified: 1,
  nextVersion: 1,
  lastPublished: undefined,
});

/** An S3 object record of one byte pointing at `blob` (also used by implementation-specific tests). */
export const objectRecord = (bucket: string, key: string, blob: string): ObjectDoc => ({
  bucket,
  key,
  blob,
  size: 1,
  etag: 'e',
  lastModified: 1,
  contentType: 'text/plain',
  metadata: {},
  headers: {},
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

const deployment = (id: string, application: string, group: string, status: DeploymentState['status']): DeploymentState => ({
  deploymentId: id,
  applicationName: application,
  deploymentGroupName: group,
  deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
  routing: { type: 'AllAtOnce' },
  creator: 'user',
  status,
  createTime: 1,
  revision: { revisionType: 'AppSpecContent' },
  functionName: 'f',
  alias: 'live',
  currentVersion: '1',
  targetVersion: '2',
  events: [],
  targetWeight: 0,
  bakeMinutes: 0,
  alarms: [],
  alarmsEnabled: false,
  autoRollback: { enabled: false, events: [] },
});

const asyncEvent = (id: string, functionName: string, nextAttemptAt = 0): AsyncEventRecord => ({
  id,
  functionName,
  qualifier: undefined,
  region: 'us-east-1',
  payload: '{}',
  receivedAt: 0,
  status: 'pending',
  attempts: 0,
  throttles: 0,
  nextAttemptAt,
  leaseUntil: undefined,
  lastResponse: undefined,
  condition: undefined,
  finishedAt: undefined,
});

const stackResource = (id: string, value: string): StackResource => ({
  logicalId: id,
  type: 'AWS::SSM::Parameter',
  physicalId: `p-${id}`,
  // Written in this order, which a change to a resource is told by (JSON.stringify of its properties).
  properties: { Value: value, Type: 'String' },
  attributes: {},
});

/**
 * A stack in the middle of an update: resources in an order that is not their names', an operation with
 * its plan, a template and a change set. The migration tests store it as the stores wrote it before.
 */
const stackInFlight = (name: string): StackDoc => ({
  name,
  stackId: `arn:aws:cloudformation:us-east-1:000000000000:stack/${name}/1`,
  region: 'us-east-1',
  status: 'UPDATE_IN_PROGRESS',
  createdAt: 1,
  updatedAt: 2,
  parameters: { Zed: 'z', Alpha: 'a' },
  resources: { Zeta: stackResource('Zeta', 'z'), Alpha: stackResource('Alpha', 'a') },
  outputs: [{ key: 'Out', value: 'z' }],
  previousAliasVersions: [],
  operation: {
    kind: 'update',
    phase: 'apply',
    startedAt: 2,
    definitions: { Zeta: { Type: 'AWS::SSM::Parameter', Properties: { Value: 'z2', Type: 'String' } } },
    outputs: { Out: { Value: { Ref: 'Zeta' } } },
    conditions: {},
    mappings: {},
    parameters: { Zed: 'z2' },
    before: { Zeta: stackResource('Zeta', 'z') },
    deployments: [],
  },
  events: [1, 2, 3].map((i) => ({
    id: `e${i}`,
    timestamp: i,
    logicalId: name,
    resourceType: 'AWS::CloudFormation::Stack',
    status: `S${i}`,
  })),
  template: '{"Resources":{}}',
  changeSets: [
    {
      id: 'cs',
      name: 'cs',
      type: 'UPDATE',
      createdAt: 2,
      status: 'CREATE_COMPLETE',
      executionStatus: 'EXECUTE_IN_PROGRESS',
      template: '{"Resources":{}}',
      parameters: {},
      capabilities: [],
      changes: [],
    },
  ],
});

/** The stack as read, with the order of its resources, parameters and properties, which deepEqual does not see. */
const stackOrder = (stack: StackDoc | undefined) =>
  stack && {
    resources: Object.keys(stack.resources),
    parameters: Object.keys(stack.parameters),
    properties: Object.values(stack.resources).map((r) => JSON.stringify(r.properties)),
  };

/** The two stacks the migration tests store as the stores wrote them before: one mid-update, one settled. */
export function stacksAsDocuments(): [StackDoc, StackDoc] {
  const { operation: _op, template: _t, changeSets: _c, ...settled } = stackInFlight('settled');
  return [stackInFlight('in-flight'), settled];
}

/**
 * What the migration of stacks stored as one document each must leave: each stack read back as it was, in
 * its order, and a step of the in-flight operation adding its resource after those kept.
 */
export async function assertStacksMigrated(store: Store, [inFlight, settled]: [StackDoc, StackDoc]): Promise<void> {
  assert.deepEqual(await store.stacks.list(), [inFlight, settled]);
  assert.deepEqual(stackOrder(await store.stacks.get('in-flight')), stackOrder(inFlight));
  const added = { ...inFlight.resources.Alpha!, logicalId: 'Added' };
  await store.stacks.step(inFlight, { resources: [added], removed: [], events: [] });
  assert.deepEqual(Object.keys((await store.stacks.get('in-flight'))!.resources), ['Zeta', 'Alpha', 'Added']);
}

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

    it('functions: create, get, list in name order; update guarded by the revision read', async () => {
      await store.functions.create(fn('b'));
      await store.functions.create(fn('a'));
      await assert.rejects(store.functions.create({ ...fn('b'), revisionId: 'other' }), StoreConflict);
      await store.functions.update({ ...fn('b'), revisionId: 'r2' }, 'r1');
      await assert.rejects(store.functions.update({ ...fn('b'), revisionId: 'r3' }, 'r1'), StoreConflict, 'r1 is no longer current');
      await assert.rejects(store.functions.update(fn('missing'), 'r1'), StoreConflict);
      assert.equal((await store.functions.get('b'))?.revisionId, 'r2');
      assert.deepEqual(
        (await store.functions.list()).map((f) => f.name),
        ['a', 'b'],
      );
      assert.equal(await store.functions.get('missing'), undefined);
    });

    it('versions: created once, listed in numeric order, not text order, whole or a page after a number', async () => {
      for (const v of ['10', '2', '1']) await store.versions.create(version('a', v));
      await assert.rejects(store.versions.create({ ...version('a', '2'), revisionId: 'other' }), StoreConflict);
      assert.equal((await store.versions.get('a', '2'))?.revisionId, 'rv2');
      const listed = async (page?: { after?: number; limit?: number }) => (await store.versions.list('a', page)).map((v) => v.version);
      assert.deepEqual(await listed(), ['1', '2', '10']);
      assert.deepEqual(await listed({ limit: 2 }), ['1', '2']);
      assert.deepEqual(await listed({ after: 2, limit: 2 }), ['10']);
      assert.deepEqual(await listed({ after: 1 }), ['2', '10']);
      assert.deepEqual(await listed({ after: 10, limit: 5 }), []);
      assert.equal((await store.versions.get('a', '10'))?.revisionId, 'rv10');
      assert.equal(await store.versions.get('a', '$LATEST'), undefined);
    });

    it('aliases and policies: create, update by revision, get, list, delete', async () => {
      await store.aliases.create(alias('a', 'prod', '1'));
      await store.aliases.create(alias('a', 'dev', '$LATEST'));
      await assert.rejects(store.aliases.create(alias('a', 'prod', '2')), StoreConflict);
      await store.aliases.update({ ...alias('a', 'prod', '2'), revisionId: 'ra-prod-2' }, 'ra-prod');
      await assert.rejects(store.aliases.update(alias('a', 'prod', '10'), 'ra-prod'), StoreConflict);
      assert.equal((await store.aliases.get('a', 'prod'))?.functionVersion, '2');
      assert.deepEqual(
        (await store.aliases.list('a')).map((x) => x.name),
        ['dev', 'prod'],
      );
      assert.equal(await store.policies.revision('a', ''), undefined);
      await store.policies.put('a', '', { sid: 's1', statement: { Sid: 's1' } }, 'r1');
      assert.deepEqual(await store.policies.list('a', ''), [{ sid: 's1', statement: { Sid: 's1' } }]);
      assert.equal(await store.policies.revision('a', ''), 'r1');
      await store.aliases.delete('a', 'dev');
      await store.policies.delete('a', '', 's1', 'r2');
      assert.equal(await store.policies.revision('a', ''), 'r2');
      assert.deepEqual(
        (await store.aliases.list('a')).map((x) => x.name),
        ['prod'],
      );
      assert.deepEqual(await store.policies.list('a', ''), []);
    });

    it('code: kept once per sha256', async () => {
      const [a, b] = [codeSha256(new Uint8Array([1, 2, 3])), codeSha256(new Uint8Array([4]))];
      await store.code.put(a, new Uint8Array([1, 2, 3]));
      await store.code.put(a, new Uint8Array([9]));
      assert.deepEqual(Buffer.from((await store.code.get(a))!), Buffer.from([1, 2, 3]));
      assert.equal(await store.code.get(b), undefined);
    });

    it('transaction: a failure rolls every write back', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.functions.create(fn('c'));
          await tx.aliases.create(alias('a', 'temp', '1'));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.functions.get('c'), undefined);
      assert.equal(await store.aliases.get('a', 'temp'), undefined);
    });

    it('transaction: nobody sees its writes before it commits, everybody after', async () => {
      let inside!: () => void;
      const written = new Promise<void>((resolve) => (inside = resolve));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const tx = store.transaction(async (t) => {
        await t.settings.put('k', 'in-tx');
        inside();
        await held;
      });
      await written;
      // Either this read waits for the commit (one writer at a time) or it reads what was there before.
      const read = store.settings.get('k');
      release();
      await tx;
      assert.notEqual(await Promise.race([read, new Promise((r) => setTimeout(() => r('waited'), 5_000))]), 'waited');
      assert.ok([undefined, 'in-tx'].includes(await read));
      assert.equal(await store.settings.get('k'), 'in-tx');
    });

    it('transaction: two that check, then create the same function: one creates, the other runs again and sees it', async () => {
      const attempts: string[] = [];
      const create = (who: string) =>
        store.transaction(async (tx) => {
          attempts.push(who);
          if (await tx.functions.get('raced')) return 'exists';
          await new Promise((r) => setTimeout(r, 20));
          await tx.functions.create({ ...fn('raced'), revisionId: who });
          return 'created';
        });
      const outcomes = await Promise.all([create('x'), create('y')]);
      assert.deepEqual([...outcomes].sort(), ['created', 'exists']);
      const winner = (await store.functions.get('raced'))!.revisionId;
      assert.equal(outcomes[winner === 'x' ? 0 : 1], 'created');
      assert.ok(attempts.length >= 2);
      await store.functions.delete('raced');
    });

    it('transaction: a StoreConflict inside makes the work run again on fresh reads', async () => {
      await store.functions.create({ ...fn('moved'), revisionId: 'm1' });
      let runs = 0;
      const result = await store.transaction(async (tx) => {
        runs += 1;
        const current = (await tx.functions.get('moved'))!;
        // The first run acts on a revision that another writer has since replaced.
        const read = runs === 1 ? 'stale' : current.revisionId;
        await tx.functions.update({ ...current, revisionId: `m${runs + 1}` }, read);
        return runs;
      });
      assert.equal(result, 2);
      assert.equal((await store.functions.get('moved'))?.revisionId, 'm3');
      await store.functions.delete('moved');
    });

    it('functions.delete: removes its versions, aliases and policies too', async () => {
      await store.policies.put('a', 'prod', { sid: 's2', statement: {} }, 'r3');
      await store.functions.delete('a');
      assert.equal(await store.functions.get('a'), undefined);
      assert.deepEqual(await store.versions.list('a'), []);
      assert.deepEqual(await store.aliases.list('a'), []);
      assert.deepEqual(await store.policies.list('a', 'prod'), []);
      assert.equal(await store.policies.revision('a', 'prod'), undefined);
      assert.equal(await store.policies.revision('a', ''), undefined);
    });

    it('reopen: data survives closing and opening again', async () => {
      await store.settings.put('timeScale', '60');
      await store.close();
      store = await reopen();
      assert.equal(await store.settings.get('timeScale'), '60');
      assert.equal((await store.functions.get('b'))?.revisionId, 'r2');
    });

    it('logs: append creates groups and streams, keeps stream statistics, lists by name', async () => {
      const ev = (groupName: string, streamName: string, timestamp: number, message: string, ingestionTime = timestamp + 1) => ({
        groupName,
        streamName,
        timestamp,
        message,
        ingestionTime,
      });
      await store.logs.append([
        ev('/aws/lambda/b', 's1', 100, 'hello', 150),
        ev('/aws/lambda/b', 's1', 90, 'héllo'),
        ev('/aws/lambda/b', 's2', 200, 'x'),
        ev('/aws/lambda/a', 's1', 300, 'y'),
        ev('/custom', 's', 5, 'z'),
      ]);
      const b = await store.logs.getGroup('/aws/lambda/b');
      assert.deepEqual(b, { name: '/aws/lambda/b', createdAt: 150, retentionInDays: undefined, storedBytes: 5 + 6 + 1 });
      assert.deepEqual(await store.logs.getStream('/aws/lambda/b', 's1'), {
        groupName: '/aws/lambda/b',
        name: 's1',
        createdAt: 150,
        firstEventAt: 90,
        lastEventAt: 100,
        lastIngestionAt: 150,
        storedBytes: 11,
      });
      assert.deepEqual(
        (await store.logs.listGroups()).map((g) => g.name),
        ['/aws/lambda/a', '/aws/lambda/b', '/custom'],
      );
      assert.deepEqual(
        (await store.logs.listGroups({ prefix: '/aws/', after: '/aws/lambda/a', limit: 5 })).map((g) => g.name),
        ['/aws/lambda/b'],
      );
      assert.deepEqual(
        (await store.logs.listGroups({ limit: 1 })).map((g) => g.name),
        ['/aws/lambda/a'],
      );
      assert.deepEqual(
        (await store.logs.listStreams('/aws/lambda/b')).map((s) => s.name),
        ['s1', 's2'],
      );
      assert.deepEqual(
        (await store.logs.listStreams('/aws/lambda/b', 's2')).map((s) => s.name),
        ['s2'],
      );
      assert.equal(await store.logs.getGroup('/nope'), undefined);
      assert.equal(await store.logs.getStream('/aws/lambda/b', 'nope'), undefined);
      assert.deepEqual(await store.logs.listStreams('/nope'), []);
    });

    it('logs: streams in pages, by name or by last event time, either way, from where the last page ended', async () => {
      await store.logs.createGroup('/paged', 1);
      // Names that sort differently by locale than by byte (`B` < `a`), ties in time, and streams with no event.
      const last: Record<string, number | undefined> = { a1: 30, B2: 10, a3: 30, c4: undefined, Z5: 20, 'a-6': undefined, é7: 10 };
      for (const [name, at] of Object.entries(last)) {
        if (at === undefined) await store.logs.createStream('/paged', name, 1);
        else await store.logs.append([{ groupName: '/paged', streamName: name, timestamp: at, message: name, ingestionTime: at }]);
      }
      for (const orderBy of ['LogStreamName', 'LastEventTime'] as const) {
        for (const descending of [false, true]) {
          const key = (name: string): [number, string] => [orderBy === 'LastEventTime' ? (last[name] ?? 0) : 0, name];
          const expected = Object.keys(last).sort((x, y) => {
            const [a, b] = [key(x), key(y)];
            return (a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)) * (descending ? -1 : 1);
          });
          const seen: string[] = [];
          let after: [number, string] | undefined;
          for (;;) {
            const page = await store.logs.listStreams('/paged', undefined, { orderBy, descending, ...(after && { after }), limit: 2 });
            seen.push(...page.map((p) => p.name));
            if (page.length < 2) break;
            after = key(page[1]!.name);
          }
          assert.deepEqual(seen, expected, `${orderBy} ${descending ? 'descending' : 'ascending'}`);
        }
      }
      const prefixed = await store.logs.listStreams('/paged', 'a', { orderBy: 'LogStreamName', descending: false, limit: 10 });
      assert.deepEqual(
        prefixed.map((p) => p.name),
        ['a-6', 'a1', 'a3'],
      );
    });

    it('logs: events in (timestamp, seq) order, filtered by stream, prefix, time, position and direction', async () => {
      const g = '/q';
      await store.logs.append(
        [
          ['a-1', 10, 'one'],
          ['a-1', 10, 'two'],
          ['b-1', 10, 'three'],
          ['a-2', 20, 'four'],
          ['a-1', 5, 'zero'],
        ].map(([streamName, timestamp, message]) => ({
          groupName: g,
          streamName: streamName as string,
          timestamp: timestamp as number,
          message: message as string,
          ingestionTime: 1,
        })),
      );
      const messages = async (q: Partial<LogEventQuery>) =>
        (await store.logs.events({ groupName: g, limit: 100, ...q })).map((e) => e.message);
      assert.deepEqual(await messages({}), ['zero', 'one', 'two', 'three', 'four']);
      assert.deepEqual(await messages({ descending: true, limit: 2 }), ['four', 'three']);
      assert.deepEqual(await messages({ streamNames: ['a-1'] }), ['zero', 'one', 'two']);
      assert.deepEqual(await messages({ streamNames: ['a-2', 'b-1'] }), ['three', 'four']);
      assert.deepEqual(await messages({ streamNames: [] }), []);
      assert.deepEqual(await messages({ streamPrefix: 'a-' }), ['zero', 'one', 'two', 'four']);
      assert.deepEqual(await messages({ from: 10, to: 20 }), ['one', 'two', 'three']);
      const all = await store.logs.events({ groupName: g, limit: 100 });
      const two = all[2]!;
      assert.equal(two.message, 'two');
      assert.equal(two.streamName, 'a-1');
      assert.equal(two.ingestionTime, 1);
      assert.ok(all.every((e, i) => i === 0 || e.seq !== all[i - 1]!.seq));
      assert.deepEqual(await messages({ after: { timestamp: two.timestamp, seq: two.seq } }), ['three', 'four']);
      assert.deepEqual(await messages({ before: { timestamp: two.timestamp, seq: two.seq }, descending: true }), ['one', 'zero']);
      assert.deepEqual(await messages({ groupName: '/missing' }), []);
    });

    it('logs: create refuses duplicates, retention is set and cleared, delete takes streams and events', async () => {
      assert.equal(await store.logs.createGroup('/made', 7), true);
      assert.equal(await store.logs.createGroup('/made', 8), false);
      assert.equal((await store.logs.getGroup('/made'))?.createdAt, 7);
      assert.equal(await store.logs.createStream('/made', 'st', 9), true);
      assert.equal(await store.logs.createStream('/made', 'st', 10), false);
      assert.equal(await store.logs.createStream('/no-group', 'st', 10), false);
      assert.equal(await store.logs.countStreams('/made'), 1);
      assert.equal(await store.logs.createStream('/made', 'st2', 11), true);
      assert.equal(await store.logs.countStreams('/made'), 2);
      assert.equal(await store.logs.countStreams('/no-group'), 0);
      assert.deepEqual(await store.logs.getStream('/made', 'st'), {
        groupName: '/made',
        name: 'st',
        createdAt: 9,
        firstEventAt: undefined,
        lastEventAt: undefined,
        lastIngestionAt: undefined,
        storedBytes: 0,
      });
      assert.equal(await store.logs.setRetention('/made', 30), true);
      assert.equal((await store.logs.getGroup('/made'))?.retentionInDays, 30);
      assert.equal(await store.logs.setRetention('/made', undefined), true);
      assert.equal((await store.logs.getGroup('/made'))?.retentionInDays, undefined);
      assert.equal(await store.logs.setRetention('/no-group', 30), false);

      await store.logs.append([{ groupName: '/made', streamName: 'st', timestamp: 1, message: 'm', ingestionTime: 1 }]);
      assert.equal(await store.logs.deleteGroup('/made'), true);
      assert.equal(await store.logs.deleteGroup('/made'), false);
      assert.equal(await store.logs.getGroup('/made'), undefined);
      // Written again, the group starts empty.
      await store.logs.append([{ groupName: '/made', streamName: 'other', timestamp: 2, message: 'n', ingestionTime: 2 }]);
      assert.deepEqual(
        (await store.logs.listStreams('/made')).map((s) => s.name),
        ['other'],
      );
      assert.deepEqual(
        (await store.logs.events({ groupName: '/made', limit: 10 })).map((e) => e.message),
        ['n'],
      );
    });

    it('logs: deleteEventsBefore drops one group’s older events and recounts its bytes; seq never repeats', async () => {
      await store.logs.append(
        [1, 2, 3, 4].flatMap((t) => [
          { groupName: '/old', streamName: 's', timestamp: t * 100, message: `m${t}`, ingestionTime: t },
          { groupName: '/kept', streamName: 's', timestamp: t * 100, message: `m${t}`, ingestionTime: t },
        ]),
      );
      const before = await store.logs.events({ groupName: '/old', limit: 10 });
      assert.equal(await store.logs.deleteEventsBefore('/old', 300), 2);
      assert.equal(await store.logs.deleteEventsBefore('/missing', 300), 0);
      assert.deepEqual(
        (await store.logs.events({ groupName: '/old', limit: 10 })).map((e) => e.message),
        ['m3', 'm4'],
      );
      assert.equal((await store.logs.events({ groupName: '/kept', limit: 10 })).length, 4);
      assert.equal((await store.logs.getGroup('/old'))?.storedBytes, 4);
      assert.equal((await store.logs.getStream('/old', 's'))?.firstEventAt, 300);
      await store.logs.append([{ groupName: '/old', streamName: 's', timestamp: 50, message: 'late', ingestionTime: 5 }]);
      const late = (await store.logs.events({ groupName: '/old', limit: 1 }))[0]!;
      assert.equal(late.message, 'late');
      assert.ok(before.every((e) => e.seq < late.seq));
    });

    it('logs: cutForSize says where to cut a group to keep its newest bytes, across streams and within a chunk', async () => {
      // Ten events of 100 bytes in two streams, in three batches (so several chunks).
      const event = (t: number) => ({
        groupName: '/big',
        streamName: `s${t % 2}`,
        timestamp: t * 10,
        message: 'x'.repeat(100),
        ingestionTime: t,
      });
      await store.logs.append([1, 2, 3].map(event));
      await store.logs.append([4, 5, 6, 7].map(event));
      await store.logs.append([8, 9, 10].map(event));
      assert.equal(await store.logs.cutForSize('/big', 1000), undefined, 'it fits already');
      assert.equal(await store.logs.cutForSize('/missing', 10), undefined);
      for (const keep of [950, 500, 99]) {
        const before = await store.logs.cutForSize('/big', keep);
        assert.ok(before !== undefined, `keep ${keep}`);
        const kept = (await store.logs.events({ groupName: '/big', limit: 100 })).filter((e) => e.timestamp >= before);
        assert.ok(kept.length * 100 <= keep, `keep ${keep}: ${kept.length} events after ${before}`);
        // Never more than a few events short of what fits: the newest are the ones kept.
        assert.ok(kept.length >= Math.floor(keep / 100) - 2, `keep ${keep}: only ${kept.length}`);
        assert.deepEqual(
          kept.map((e) => e.timestamp),
          [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
            .slice(0, kept.length)
            .map((t) => t * 10)
            .reverse(),
        );
      }
      await store.logs.deleteEventsBefore('/big', (await store.logs.cutForSize('/big', 500))!);
      assert.ok((await store.logs.getGroup('/big'))!.storedBytes <= 500);
    });

    it('logs: events crowded into one millisecond, many chunks of it, page forward and back from any position, each once', async () => {
      const g = '/crowd';
      const ev = (streamName: string, i: number) => ({
        groupName: g,
        streamName,
        timestamp: 7,
        message: `${streamName}:${i}`,
        ingestionTime: 1,
      });
      // Three batches of 2,500 (three chunks each), two streams interleaved in the last: 10,000 events at 7 ms.
      for (const stream of ['a', 'b']) await store.logs.append(Array.from({ length: 2500 }, (_, i) => ev(stream, i)));
      await store.logs.append(Array.from({ length: 5000 }, (_, i) => ev(i % 2 ? 'a' : 'b', 2500 + i)));
      await store.logs.append([
        { ...ev('a', -1), timestamp: 6 },
        { ...ev('b', -2), timestamp: 8 },
      ]);
      const all = await store.logs.events({ groupName: g, limit: 20_000 });
      assert.equal(all.length, 10_002);
      const page = async (q: Partial<LogEventQuery>, size: number) => {
        const seqs: number[] = [];
        for (let at: { timestamp: number; seq: number } | undefined; ;) {
          const got = await store.logs.events({
            groupName: g,
            limit: size,
            ...q,
            ...(at && (q.descending ? { before: at } : { after: at })),
          });
          seqs.push(...got.map((e) => e.seq));
          if (got.length < size) return seqs;
          at = { timestamp: got.at(-1)!.timestamp, seq: got.at(-1)!.seq };
        }
      };
      assert.deepEqual(
        await page({}, 100),
        all.map((e) => e.seq),
      );
      assert.deepEqual(
        await page({ descending: true }, 333),
        [...all].reverse().map((e) => e.seq),
      );
      assert.deepEqual(
        await page({ streamNames: ['a'] }, 250),
        all.filter((e) => e.streamName === 'a').map((e) => e.seq),
      );
      // From a position in the middle of the millisecond: the next events, none before it.
      const middle = all[6_000]!;
      const next = await store.logs.events({ groupName: g, limit: 3, after: { timestamp: middle.timestamp, seq: middle.seq } });
      assert.deepEqual(
        next.map((e) => e.seq),
        all.slice(6_001, 6_004).map((e) => e.seq),
      );
      const previous = await store.logs.events({ groupName: g, limit: 3, descending: true, before: { timestamp: 7, seq: middle.seq } });
      assert.deepEqual(
        previous.map((e) => e.seq),
        all
          .slice(5_997, 6_000)
          .reverse()
          .map((e) => e.seq),
      );
    });

    it('logs: batches that overlap in time, and a batch larger than a chunk, read in (timestamp, seq) order in pages', async () => {
      const g = '/merge';
      const ev = (streamName: string, timestamp: number) => ({
        groupName: g,
        streamName,
        timestamp,
        message: `${streamName}@${timestamp}`,
        ingestionTime: 1,
      });
      await store.logs.append([ev('s1', 10), ev('s1', 30), ev('s2', 25)]);
      await store.logs.append([ev('s1', 20), ev('s1', 40), ev('s1', 5), ev('s2', 25)]);
      // 2,500 events of one stream in one batch, newest first, some sharing a timestamp.
      await store.logs.append(Array.from({ length: 2500 }, (_, i) => ev('s3', 3000 - Math.floor(i / 2))));
      const all = await store.logs.events({ groupName: g, limit: 10_000 });
      assert.equal(all.length, 2507);
      const sorted = [...all].sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
      assert.deepEqual(
        all.map((e) => e.seq),
        sorted.map((e) => e.seq),
      );
      assert.deepEqual(
        all.slice(0, 6).map((e) => e.message),
        ['s1@5', 's1@10', 's1@20', 's2@25', 's2@25', 's1@30'],
      );
      const descending = await store.logs.events({ groupName: g, limit: 10_000, descending: true });
      assert.deepEqual(
        descending.map((e) => e.seq),
        [...all].reverse().map((e) => e.seq),
      );
      // Pages of 97 after the last event of each page give back every event once, in order.
      const paged: number[] = [];
      for (let after: { timestamp: number; seq: number } | undefined; ;) {
        const page = await store.logs.events({ groupName: g, limit: 97, ...(after && { after }) });
        paged.push(...page.map((e) => e.seq));
        if (page.length < 97) break;
        after = { timestamp: page.at(-1)!.timestamp, seq: page.at(-1)!.seq };
      }
      assert.deepEqual(
        paged,
        all.map((e) => e.seq),
      );
      const window = await store.logs.events({ groupName: g, limit: 10_000, from: 25, to: 1760, streamNames: ['s2', 's3'] });
      assert.deepEqual(
        window.map((e) => e.seq),
        all.filter((e) => e.timestamp >= 25 && e.timestamp < 1760 && e.streamName !== 's1').map((e) => e.seq),
      );
      // Retention cuts through the middle of the large batch.
      assert.equal(await store.logs.deleteEventsBefore(g, 2000), all.filter((e) => e.timestamp < 2000).length);
      const left = await store.logs.events({ groupName: g, limit: 10_000 });
      assert.deepEqual(
        left.map((e) => e.seq),
        all.filter((e) => e.timestamp >= 2000).map((e) => e.seq),
      );
      assert.equal((await store.logs.getStream(g, 's3'))?.firstEventAt, 2000);
      assert.equal(
        (await store.logs.getStream(g, 's3'))?.storedBytes,
        left.reduce((n, e) => n + Buffer.byteLength(e.message), 0),
      );
      assert.equal((await store.logs.getStream(g, 's1'))?.storedBytes, 0);
    });

    it('codeDeploy.groupNames: one application’s group names in order, and no other’s', async () => {
      const group = (applicationName: string, deploymentGroupName: string) =>
        ({ applicationName, deploymentGroupName, deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }) as DeploymentGroupDoc;
      for (const [app, name] of [
        ['app', 'g2'],
        ['app', 'g1'],
        ['other', 'g0'],
      ] as const)
        await store.codeDeploy.putGroup(group(app, name));
      assert.deepEqual(await store.codeDeploy.groupNames('app'), ['g1', 'g2']);
      assert.deepEqual(await store.codeDeploy.groupNames('nothing-here'), []);
    });

    it('codeDeploy.deleteDeployments: removes one group’s deployments, or a whole application’s, and no others', async () => {
      const ids = (list: DeploymentState[]) => list.map((d) => d.deploymentId).sort();
      await store.codeDeploy.putDeployment(deployment('d-AAAAAAAA1', 'app', 'g1', 'Succeeded'));
      await store.codeDeploy.putDeployment(deployment('d-AAAAAAAA2', 'app', 'g1', 'InProgress'));
      await store.codeDeploy.putDeployment(deployment('d-AAAAAAAA3', 'app', 'g2', 'Failed'));
      await store.codeDeploy.putDeployment(deployment('d-AAAAAAAA4', 'other', 'g1', 'Succeeded'));
      assert.equal(await store.codeDeploy.deleteDeployments({ application: 'app', group: 'g1' }), 2);
      assert.equal(await store.codeDeploy.getDeployment('d-AAAAAAAA1'), undefined);
      assert.deepEqual(ids(await store.codeDeploy.activeDeployments()), []);
      assert.deepEqual(ids(await store.codeDeploy.listDeployments({})), ['d-AAAAAAAA3', 'd-AAAAAAAA4']);
      assert.equal(await store.codeDeploy.deleteDeployments({ application: 'app' }), 1);
      assert.deepEqual(ids(await store.codeDeploy.listDeployments({})), ['d-AAAAAAAA4']);
      assert.equal(await store.codeDeploy.deleteDeployments({ application: 'nothing-here' }), 0);
    });

    it('codeDeploy.deploymentIds: pages newest first, before a cursor, filtered by application, group and status', async () => {
      for (let i = 1; i <= 7; i++) {
        await store.codeDeploy.putDeployment(
          deployment(`d-PAGE0000${i}`, i === 7 ? 'other' : 'app', i <= 3 ? 'g1' : 'g2', i % 2 ? 'Succeeded' : 'Stopped'),
        );
      }
      // Only this test's (earlier tests leave theirs, older).
      const ids = (rows: { id: string }[]) =>
        rows
          .filter((r) => r.id.startsWith('d-PAGE'))
          .map((r) => r.id.slice(-1))
          .join('');
      const first = await store.codeDeploy.deploymentIds({}, { limit: 3 });
      assert.equal(ids(first), '765');
      assert.equal(ids(await store.codeDeploy.deploymentIds({}, { before: first.at(-1)!.seq, limit: 3 })), '432');
      assert.equal(ids(await store.codeDeploy.deploymentIds({ application: 'app' }, { limit: 10 })), '654321');
      assert.equal(ids(await store.codeDeploy.deploymentIds({ application: 'app', group: 'g1' }, { limit: 10 })), '321');
      assert.equal(ids(await store.codeDeploy.deploymentIds({ statuses: ['Stopped'] }, { limit: 10 })), '642');
      assert.equal(ids(await store.codeDeploy.deploymentIds({ statuses: ['Stopped', 'Succeeded'], group: 'g2' }, { limit: 2 })), '76');
      // A deployment updated later keeps its place.
      await store.codeDeploy.putDeployment(deployment('d-PAGE00001', 'app', 'g1', 'Failed'));
      assert.equal(ids(await store.codeDeploy.deploymentIds({}, { limit: 10 })), '7654321');
    });

    it('alarms.history: pages past a place, newest or oldest first, filtered by alarm, type and time', async () => {
      const item = (name: string, ts: number, type: AlarmHistoryItem['HistoryItemType']): AlarmHistoryItem => ({
        AlarmName: name,
        AlarmType: 'MetricAlarm',
        Timestamp: ts,
        HistoryItemType: type,
        HistorySummary: `${name}@${ts}`,
        HistoryData: '{}',
      });
      // Two items at one moment: written order breaks the tie.
      for (const [name, ts, type] of [
        ['a', 1000, 'StateUpdate'],
        ['b', 2000, 'StateUpdate'],
        ['a', 2000, 'ConfigurationUpdate'],
        ['a', 3000, 'StateUpdate'],
        ['a', 4000, 'StateUpdate'],
      ] as const) {
        await store.alarms.addHistory(item(name, ts, type));
      }
      const names = (rows: { item: AlarmHistoryItem }[]) => rows.map((r) => r.item.HistorySummary).join(' ');
      const first = await store.alarms.history({}, { limit: 2 });
      assert.equal(names(first), 'a@4000 a@3000');
      const second = await store.alarms.history({}, { after: first.at(-1)!.place, limit: 2 });
      assert.equal(names(second), 'a@2000 b@2000');
      assert.equal(names(await store.alarms.history({}, { after: second.at(-1)!.place, limit: 2 })), 'a@1000');
      const up = await store.alarms.history({}, { ascending: true, limit: 2 });
      assert.equal(names(up), 'a@1000 b@2000');
      assert.equal(names(await store.alarms.history({}, { ascending: true, after: up.at(-1)!.place, limit: 9 })), 'a@2000 a@3000 a@4000');
      assert.equal(names(await store.alarms.history({ alarmName: 'a', type: 'StateUpdate' }, { limit: 9 })), 'a@4000 a@3000 a@1000');
      assert.equal(names(await store.alarms.history({ from: 2000, to: 3000 }, { limit: 9 })), 'a@3000 a@2000 b@2000');
    });

    it('asyncEvents: claimed oldest first when due, skipping busy functions, each claim counting an attempt', async () => {
      await store.asyncEvents.enqueue(asyncEvent('e1', 'q1'));
      await store.asyncEvents.enqueue(asyncEvent('e2', 'q2'));
      // A backlog's bytes are its payloads' UTF-8 bytes: 2 of `{}` and 8 of this one.
      await store.asyncEvents.enqueue({ ...asyncEvent('e3', 'q1', 500), payload: '{"é":1}' });
      await assert.rejects(store.asyncEvents.enqueue(asyncEvent('e1', 'q1')));
      assert.deepEqual(await store.asyncEvents.depth('q1'), { pending: 2, running: 0, bytes: 10 });
      const first = await store.asyncEvents.claim(100, 1000, ['q2']);
      assert.equal(first?.id, 'e1');
      assert.equal(first?.status, 'running');
      assert.equal(first?.attempts, 1);
      assert.equal(first?.leaseUntil, 1000);
      // e2's function is skipped, e3 is not due yet.
      assert.equal(await store.asyncEvents.claim(100, 1000, ['q2']), undefined);
      assert.equal(await store.asyncEvents.nextDue(['q2']), 500);
      assert.equal(await store.asyncEvents.nextDue([]), 0);
      assert.deepEqual(await store.asyncEvents.depth('q1'), { pending: 1, running: 1, bytes: 10 });
      assert.deepEqual(
        (await store.asyncEvents.running()).map((e) => e.id),
        ['e1'],
      );
    });

    it('asyncEvents: an attempt is settled once, by the claim that counted it', async () => {
      const claimed = (await store.asyncEvents.get('e1'))!;
      const done: AsyncEventRecord = { ...claimed, status: 'done', leaseUntil: undefined, condition: 'Success', finishedAt: 200 };
      assert.equal(await store.asyncEvents.settle(done, 2), false, 'settled under another claim');
      assert.equal(await store.asyncEvents.settle(done, 1), true);
      assert.equal(await store.asyncEvents.settle(done, 1), false, 'settled twice');
      assert.equal((await store.asyncEvents.get('e1'))?.status, 'done');
      assert.equal(await store.asyncEvents.deleteFinishedBefore(200), 0);
      assert.equal(await store.asyncEvents.deleteFinishedBefore(201), 1);
      assert.equal(await store.asyncEvents.get('e1'), undefined);
    });

    it('eventInvokeConfigs: put, get, list, delete; deleting the function drops its configs and queued events', async () => {
      const config = (qualifier: string) => ({
        functionName: 'q1',
        qualifier,
        maximumRetryAttempts: 1,
        maximumEventAgeInSeconds: undefined,
        onSuccess: undefined,
        onFailure: 'arn:aws:lambda:us-east-1:000000000000:function:d',
        lastModified: 1,
      });
      await store.functions.create(fn('q1'));
      await store.eventInvokeConfigs.put(config('live'));
      await store.eventInvokeConfigs.put(config('$LATEST'));
      assert.deepEqual(
        (await store.eventInvokeConfigs.list('q1')).map((c) => c.qualifier),
        ['$LATEST', 'live'],
      );
      assert.equal((await store.eventInvokeConfigs.get('q1', 'live'))?.maximumRetryAttempts, 1);
      assert.equal(await store.eventInvokeConfigs.delete('q1', 'live'), true);
      assert.equal(await store.eventInvokeConfigs.delete('q1', 'live'), false);
      await store.functions.delete('q1');
      assert.deepEqual(await store.eventInvokeConfigs.list('q1'), []);
      assert.equal(await store.asyncEvents.get('e3'), undefined);
      assert.deepEqual(await store.asyncEvents.depth('q1'), { pending: 0, running: 0, bytes: 0 });
      assert.equal((await store.asyncEvents.get('e2'))?.status, 'pending');
    });

    it('tags: put replaces, get reads; each resource kind keeps its own; deleting a resource drops its tags', async () => {
      const group = { kind: 'deployment-group', application: 'tag-app', name: 'g' } as const;
      await store.functions.create(fn('tagged'));
      await store.tags.put({ kind: 'function', name: 'tagged' }, { a: '1', b: '2' });
      await store.tags.put({ kind: 'function', name: 'tagged' }, { b: '3' });
      await store.tags.put({ kind: 'alarm', name: 'tagged' }, { alarm: 'x' });
      await store.tags.put({ kind: 'log-group', name: '/tagged' }, { lg: 'y' });
      await store.tags.put({ kind: 'application', name: 'tag-app' }, { app: 'z' });
      await store.tags.put(group, { grp: 'w' });
      assert.deepEqual(await store.tags.get({ kind: 'function', name: 'tagged' }), { b: '3' });
      assert.deepEqual(await store.tags.get({ kind: 'alarm', name: 'tagged' }), { alarm: 'x' });
      assert.deepEqual(await store.tags.get({ kind: 'function', name: 'other' }), {});
      assert.deepEqual(await store.tags.get({ ...group, application: 'other-app' }), {});

      await store.functions.delete('tagged');
      assert.deepEqual(await store.tags.get({ kind: 'function', name: 'tagged' }), {});
      assert.deepEqual(await store.tags.get({ kind: 'alarm', name: 'tagged' }), { alarm: 'x' }, 'another kind of the same name stays');
      await store.alarms.delete('tagged');
      assert.deepEqual(await store.tags.get({ kind: 'alarm', name: 'tagged' }), {});
      await store.logs.createGroup('/tagged', 1);
      await store.logs.deleteGroup('/tagged');
      assert.deepEqual(await store.tags.get({ kind: 'log-group', name: '/tagged' }), {});
      await store.codeDeploy.deleteApplication('tag-app');
      assert.deepEqual(await store.tags.get({ kind: 'application', name: 'tag-app' }), {});
      assert.deepEqual(await store.tags.get(group), {}, "an application's groups lose their tags with it");
    });

    it('s3: buckets created once; objects listed in UTF-8 byte order by prefix and after; blobs counted while referenced', async () => {
      const bucket = { name: 'b1', region: 'us-east-1', createdAt: 1, settings: {} };
      assert.equal(await store.s3.createBucket(bucket), true);
      assert.equal(await store.s3.createBucket({ ...bucket, region: 'eu-west-1' }), false);
      assert.equal((await store.s3.getBucket('b1'))?.region, 'us-east-1');
      await store.s3.putBucket({ ...bucket, settings: { policy: '{"Statement":[]}' } });
      assert.deepEqual(await store.s3.listBuckets(), [{ name: 'b1', region: 'us-east-1', createdAt: 1 }], 'listed without its settings');
      const object = (key: string, blob: string) => objectRecord('b1', key, blob);
      const blobA = 'a'.repeat(64);
      const blobB = 'b'.repeat(64);
      for (const key of ['z', 'a%_', 'a/2', 'a/1', '\u00e9', 'a\u{1F600}'])
        assert.equal(await store.s3.putObject(object(key, blobA)), undefined);
      assert.equal(await store.s3.putObject(object('z', blobB)), blobA, 'the replaced blob is returned');
      const keys = async (filter: { prefix: string; after: string; limit: number }) =>
        (await store.s3.listObjects('b1', filter)).map((o) => o.key);
      assert.deepEqual(await keys({ prefix: '', after: '', limit: 100 }), ['a%_', 'a/1', 'a/2', 'a\u{1F600}', 'z', '\u00e9']);
      assert.deepEqual(await keys({ prefix: 'a/', after: '', limit: 100 }), ['a/1', 'a/2']);
      assert.deepEqual(await keys({ prefix: 'a%', after: '', limit: 100 }), ['a%_'], '% is not a wildcard');
      assert.deepEqual(await keys({ prefix: '', after: 'a/1', limit: 2 }), ['a/2', 'a\u{1F600}']);
      assert.equal(await store.s3.blobInUse(blobB), true);
      assert.equal(await store.s3.deleteObject('b1', 'z'), blobB);
      assert.equal(await store.s3.deleteObject('b1', 'z'), undefined);
      assert.equal(await store.s3.blobInUse(blobB), false);
      assert.equal(await store.s3.hasObjects('b1'), true);

      const upload = { uploadId: 'u1', bucket: 'b1', key: 'big', initiated: 1, contentType: 'x', metadata: {}, headers: {} };
      await store.s3.putUpload(upload);
      assert.equal(await store.s3.countUploads('b1'), 1);
      assert.equal(await store.s3.countUploads('b2'), 0);
      await store.s3.putPart({ uploadId: 'u1', partNumber: 2, blob: blobB, size: 1, etag: 'p2', lastModified: 1 });
      await store.s3.putPart({ uploadId: 'u1', partNumber: 1, blob: blobA, size: 1, etag: 'p1', lastModified: 1 });
      assert.deepEqual(
        (await store.s3.listParts('u1')).map((p) => p.partNumber),
        [1, 2],
      );
      assert.equal(await store.s3.blobInUse(blobB), true, 'a part holds it');
      assert.deepEqual((await store.s3.deleteUpload('u1'))?.sort(), [blobA, blobB]);
      assert.equal(await store.s3.getUpload('u1'), undefined);
      assert.equal(await store.s3.deleteUpload('u1'), undefined, 'an upload ended already is not ended again');
      await store.s3.putUpload({ ...upload, uploadId: 'u2' });
      await store.s3.deleteBucket('b1');
      assert.equal(await store.s3.getUpload('u2'), undefined, 'a bucket takes its uploads');
    });

    it('s3 blobs: a shared copy kept once per SHA-256 in the chunks it was given, read back in order, deleted', async () => {
      const sha = 'c'.repeat(64);
      const from =
        (...chunks: number[][]) =>
        () =>
          Readable.from(chunks.map((chunk) => new Uint8Array(chunk)));
      const read = async (blob: SharedBlob | undefined) => {
        const out: number[][] = [];
        for await (const chunk of blob!.chunks) out.push([...chunk]);
        return out;
      };
      assert.equal(await store.s3.openBlob(sha), undefined);
      await store.s3.putBlob(sha, from([1, 2, 0], [255], [7, 7]));
      await store.s3.putBlob(sha, from([9]));
      const copy = await store.s3.openBlob(sha);
      assert.equal(copy?.size, 6);
      assert.deepEqual(await read(copy), [[1, 2, 0], [255], [7, 7]]);
      const empty = 'd'.repeat(64);
      await store.s3.putBlob(empty, from());
      const none = await store.s3.openBlob(empty);
      assert.equal(none?.size, 0, 'an empty blob is kept, with no chunk');
      assert.deepEqual(await read(none), []);
      const opened = await store.s3.openBlob(sha);
      assert.equal(await store.s3.deleteBlob(sha), true);
      assert.equal(await store.s3.openBlob(sha), undefined);
      assert.equal(await store.s3.deleteBlob(sha), false, 'nothing to delete');
      assert.deepEqual(await read(opened), [], 'a copy deleted while open ends early');
      await store.s3.putBlob(sha, from([3]));
      assert.deepEqual(await read(await store.s3.openBlob(sha)), [[3]], 'kept again after its deletion');
    });

    it('s3 blobs: a shared copy an object or a part points at is not deleted; a transaction holds only a copy that is kept', async () => {
      const sha = 'e'.repeat(64);
      const kept = () => Readable.from([new Uint8Array([1])]);
      await store.s3.createBucket({ name: 'held', region: 'us-east-1', createdAt: 1, settings: {} });
      assert.equal(await store.transaction((tx) => tx.s3.holdBlob(sha)), false, 'no copy to hold');
      await store.s3.putBlob(sha, kept);
      const object = objectRecord('held', 'k', sha);
      await store.transaction(async (tx) => {
        assert.equal(await tx.s3.holdBlob(sha), true);
        await tx.s3.putObject(object);
      });
      assert.equal(await store.s3.deleteBlob(sha), false, 'an object points at it');
      assert.equal((await store.s3.openBlob(sha))?.size, 1);
      await store.s3.putUpload({
        uploadId: 'held-u',
        bucket: 'held',
        key: 'k',
        initiated: 1,
        contentType: 'text/plain',
        metadata: {},
        headers: {},
      });
      await store.s3.putPart({ uploadId: 'held-u', partNumber: 1, blob: sha, size: 1, etag: 'p', lastModified: 1 });
      await store.s3.deleteObject('held', 'k');
      assert.equal(await store.s3.deleteBlob(sha), false, 'a part points at it');
      await store.s3.deleteUpload('held-u');
      assert.equal(await store.s3.deleteBlob(sha), true);
      assert.equal(await store.s3.openBlob(sha), undefined);
    });

    it('parameters: put, get, list by prefix (no wildcards), delete', async () => {
      const doc = (name: string) => ({
        name,
        type: 'String' as const,
        dataType: 'text',
        versions: [{ version: 1, value: name, type: 'String' as const, modified: 1 }],
      });
      for (const name of ['/a/x', '/a/y', '/a_/z', '/b']) await store.parameters.put(doc(name));
      assert.deepEqual(
        (await store.parameters.list('/a/')).map((p) => p.name),
        ['/a/x', '/a/y'],
      );
      assert.equal((await store.parameters.get('/b'))?.versions[0]?.value, '/b');
      // In pages, in byte order whatever the database's collation (`/a/Z` before `/a/x`).
      await store.parameters.put(doc('/a/Z'));
      assert.deepEqual(
        (await store.parameters.list('/a/', { limit: 2 })).map((p) => p.name),
        ['/a/Z', '/a/x'],
      );
      assert.deepEqual(
        (await store.parameters.list('/a/', { after: '/a/x', limit: 2 })).map((p) => p.name),
        ['/a/y'],
      );
      // Only the path's own children: nothing deeper, which is read past in the store, not after it.
      for (const name of ['/a/deep/1', '/a/deep/2', '/a/%/3']) await store.parameters.put(doc(name));
      assert.deepEqual(
        (await store.parameters.list('/a/', { limit: 10, children: true })).map((p) => p.name),
        ['/a/Z', '/a/x', '/a/y'],
      );
      assert.deepEqual(
        (await store.parameters.list('/a/', { after: '/a/Z', limit: 1, children: true })).map((p) => p.name),
        ['/a/x'],
      );
      for (const name of ['/a/deep/1', '/a/deep/2', '/a/%/3']) await store.parameters.delete(name);
      await store.parameters.delete('/a/Z');
      assert.equal(await store.parameters.count(), 4);
      assert.equal(await store.parameters.delete('/b'), true);
      assert.equal(await store.parameters.delete('/b'), false);
      assert.equal(await store.parameters.count(), 3);
    });

    it('metrics: each node keeps its own summary of a bucket; readers get them all', async () => {
      const point = (node: string, count: number) => ({
        seriesId: 's\u0000m',
        node,
        namespace: 's',
        name: 'm',
        resolution: 60,
        timestamp: 60_000,
        summary: { count, sum: count, min: 1, max: 1 } as never,
      });
      const series = { seriesId: 's\u0000m', namespace: 's', name: 'm', dimensions: [], unit: undefined, resolution: 60, lastSeen: 60_000 };
      await store.metrics.putPoints([point('n1', 1), point('n2', 2)], [series]);
      await store.metrics.putPoints([point('n1', 5)], [{ ...series, lastSeen: 30_000 }]);
      const points = await store.metrics.points('s\u0000m', 0, 120_000);
      assert.deepEqual(
        points.map((p) => [p.node, (p.summary as unknown as { count: number }).count]),
        [
          ['n1', 5],
          ['n2', 2],
        ],
      );
      assert.deepEqual(
        (await store.metrics.points('s\u0000m', 0, 120_000, 1)).map((p) => p.node),
        ['n1'],
        'the first `limit` in time and node order',
      );
      assert.equal(
        (await store.metrics.series({ prefix: 's\u0000', after: '', limit: 10 }))[0]?.lastSeen,
        60_000,
        'a later flush never moves lastSeen back',
      );
    });

    it("metrics: pointsAt gives one node's buckets of one resolution at exactly the starts asked, in time order", async () => {
      const point = (node: string, resolution: number, timestamp: number) => ({
        seriesId: 'at\u0000m',
        node,
        namespace: 'at',
        name: 'm',
        resolution,
        timestamp,
        summary: { count: timestamp } as never,
      });
      await store.metrics.putPoints(
        [
          point('n1', 1, 3000),
          point('n1', 1, 1000),
          point('n1', 1, 2000),
          point('n2', 1, 1000),
          point('n1', 60, 60_000),
          point('n1', 1, 60_000),
        ],
        [],
      );
      const at = await store.metrics.pointsAt('at\u0000m', 'n1', 1, [60_000, 1000, 5000, 3000, 1000]);
      assert.deepEqual(
        at.map((p) => [p.node, p.resolution, p.timestamp, (p.summary as unknown as { count: number }).count]),
        [
          ['n1', 1, 1000, 1000],
          ['n1', 1, 3000, 3000],
          ['n1', 1, 60_000, 60_000],
        ],
      );
      assert.deepEqual(await store.metrics.pointsAt('at\u0000m', 'n1', 1, []), []);
    });

    it('metrics: the catalogue pages by id prefix in the byte order of UTF-8, NUL separators and all', async () => {
      // Ids as seriesIdOf makes them; names past U+FFFF sort after U+E000–U+FFFF in UTF-8 (not in UTF-16).
      const ids = [
        'p',
        'p\u0000a',
        'p\u0000a\u0000D=1',
        'p\u0000a\u0000D=2',
        'p\u0000ab',
        'p\u0000\ue000',
        'p\u0000\u{1f600}',
        'pq\u0000a',
        'q\u0000a',
      ];
      const doc = (seriesId: string) => ({
        seriesId,
        namespace: 'p',
        name: 'a',
        dimensions: [],
        unit: undefined,
        resolution: 60,
        lastSeen: 1,
      });
      await store.metrics.putPoints([], [...ids].reverse().map(doc));
      const list = async (prefix: string, after = '', limit = 100) =>
        (await store.metrics.series({ prefix, after, limit })).map((s) => s.seriesId);
      const sorted = [...ids].sort(compareSeriesIds);
      assert.deepEqual(sorted.slice(-3), ['p\u0000\u{1f600}', 'pq\u0000a', 'q\u0000a']);
      assert.deepEqual(
        await list('p\u0000'),
        sorted.filter((id) => id.startsWith('p\u0000')),
      );
      assert.deepEqual(await list('p\u0000a'), ['p\u0000a', 'p\u0000a\u0000D=1', 'p\u0000a\u0000D=2', 'p\u0000ab']);
      assert.deepEqual(await list('p\u0000a', 'p\u0000a\u0000D=1', 2), ['p\u0000a\u0000D=2', 'p\u0000ab']);
      assert.deepEqual(await list('p\u0000\u{1f600}'), ['p\u0000\u{1f600}']);
      assert.deepEqual(await list('p\u0000', 'p\u0000\ue000'), ['p\u0000\u{1f600}']);
      assert.deepEqual((await list('')).slice(0, 2), ['p', 'p\u0000a']);
    });

    it('cluster: heartbeats list the nodes seen lately', async () => {
      await store.cluster.heartbeat({ id: 'n-a', url: 'http://a', startedAt: 1 }, 60_000);
      const nodes = await store.cluster.heartbeat({ id: 'n-b', url: 'http://b', startedAt: 2 }, 60_000);
      assert.deepEqual(
        nodes.map((n) => [n.id, n.url]),
        [
          ['n-a', 'http://a'],
          ['n-b', 'http://b'],
        ],
      );
      assert.ok(nodes.every((n) => n.seenAt > 0));
    });

    it('cluster: a node restarted under the same id is listed with its new start time', async () => {
      await store.cluster.heartbeat({ id: 'n-r', url: 'http://r:1', startedAt: 1 }, 60_000);
      const nodes = await store.cluster.heartbeat({ id: 'n-r', url: 'http://r:2', startedAt: 7 }, 60_000);
      assert.deepEqual(
        nodes.filter((n) => n.id === 'n-r').map((n) => [n.url, n.startedAt]),
        [['http://r:2', 7]],
      );
    });

    it('cluster: a lease is held by one node; renewal keeps its epoch, a takeover after expiry raises it', async () => {
      const first = await store.cluster.acquireLease('leader', 'n-a', 60_000);
      assert.equal(first?.nodeId, 'n-a');
      assert.equal(await store.cluster.acquireLease('leader', 'n-b', 60_000), undefined, 'held by another, unexpired');
      const renewed = await store.cluster.acquireLease('leader', 'n-a', 60_000);
      assert.equal(renewed?.epoch, first.epoch);
      await store.transaction((tx) => tx.cluster.checkLease('leader', 'n-a', first.epoch));
      // n-a stops renewing: a lease of 1 ms runs out, and n-b takes over under a higher epoch.
      await store.cluster.acquireLease('leader', 'n-a', 1);
      await new Promise((r) => setTimeout(r, 10));
      const taken = await store.cluster.acquireLease('leader', 'n-b', 60_000);
      assert.deepEqual([taken?.nodeId, taken?.epoch], ['n-b', first.epoch + 1]);
      assert.equal((await store.cluster.lease('leader'))?.nodeId, 'n-b');
      // The old holder's fenced writes are refused, and roll back.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.settings.put('fenced', 'written');
          await tx.cluster.checkLease('leader', 'n-a', first.epoch);
        }),
        LeaseLost,
      );
      assert.equal(await store.settings.get('fenced'), undefined);
      await store.cluster.releaseLease('leader', 'n-b');
      assert.equal((await store.cluster.acquireLease('leader', 'n-a', 60_000))?.epoch, first.epoch + 2, 'released: free at once');
    });

    it("cluster: notifications reach listeners; a transaction's only once it commits, a rolled back one's never", async () => {
      const heard: string[] = [];
      const stop = store.cluster.listen((m) => m !== undefined && heard.push(m));
      const waitFor = async (message: string) => {
        for (let i = 0; i < 200 && !heard.includes(message); i++) await new Promise((r) => setTimeout(r, 10));
        assert.ok(heard.includes(message), `${message} heard`);
      };
      await store.cluster.notify('plain');
      await waitFor('plain');
      await store.transaction(async (tx) => {
        await tx.cluster.notify('committed');
        await new Promise((r) => setTimeout(r, 20));
        assert.ok(!heard.includes('committed'), 'not before the commit');
      });
      await waitFor('committed');
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.cluster.notify('rolled back');
          throw new Error('boom');
        }),
      );
      await store.cluster.notify('after');
      await waitFor('after');
      assert.ok(!heard.includes('rolled back'));
      stop();
      await store.cluster.notify('unheard');
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(!heard.includes('unheard'));
    });

    it('sessions: put and get; expired ones go at the next put; past the bound, those closest to expiry', async () => {
      const session = (id: string, expiresAt: number) => ({
        accessKeyId: id,
        secretAccessKey: `secret-${id}`,
        sessionToken: `token-${id}`,
        expiresAt,
        ...(id.endsWith('1') && { identity: { arn: 'arn:aws:sts::000000000000:assumed-role/r/s', userId: 'AROAX:s' } }),
      });
      await store.sessions.put(session('ASIA1', 5_000), 1_000, { perIssuer: 3, total: 3 });
      assert.deepEqual(await store.sessions.get('ASIA1'), session('ASIA1', 5_000));
      assert.equal(await store.sessions.get('ASIA9'), undefined);
      await store.sessions.put(session('ASIA2', 9_000), 1_000, { perIssuer: 3, total: 3 });
      await store.sessions.put(session('ASIA3', 8_000), 6_000, { perIssuer: 3, total: 3 });
      assert.equal(await store.sessions.get('ASIA1'), undefined, 'expired by the put at 6,000');
      await store.sessions.put(session('ASIA4', 7_000), 6_000, { perIssuer: 3, total: 3 });
      await store.sessions.put(session('ASIA5', 9_500), 6_000, { perIssuer: 3, total: 3 });
      assert.equal(await store.sessions.get('ASIA4'), undefined, 'the one closest to expiry made room');
      for (const id of ['ASIA2', 'ASIA3', 'ASIA5']) assert.ok(await store.sessions.get(id), id);
    });

    it('sessions: each issuer is bounded apart; at the whole, an issuer gives up its own or is refused, never another’s', async () => {
      const session = (id: string, issuer: string, expiresAt: number) => ({
        accessKeyId: id,
        secretAccessKey: `secret-${id}`,
        sessionToken: `token-${id}`,
        expiresAt,
        issuer,
      });
      const limits = { perIssuer: 2, total: 3 };
      const stored = async () => {
        const out = [];
        for (const id of ['SA1', 'SA2', 'SB1', 'SB2', 'SB3', 'SC1']) if (await store.sessions.get(id)) out.push(id);
        return out;
      };
      assert.equal(await store.sessions.put(session('SA1', 'a', 90_000), 10_000, limits), true);
      await store.sessions.put(session('SB1', 'b', 50_000), 10_000, limits);
      await store.sessions.put(session('SB2', 'b', 60_000), 10_000, limits);
      // b's burst past its share ends b's own closest to expiry, not a's, which expires sooner than SB3.
      assert.equal(await store.sessions.put(session('SB3', 'b', 70_000), 10_000, limits), true);
      assert.deepEqual(await stored(), ['SA1', 'SB2', 'SB3']);
      assert.deepEqual(await store.sessions.get('SA1'), session('SA1', 'a', 90_000));
      // At the whole: a gives up its own; c, which holds none, is refused and nothing of anyone's goes.
      assert.equal(await store.sessions.put(session('SA2', 'a', 80_000), 10_000, limits), true);
      assert.deepEqual(await stored(), ['SA2', 'SB2', 'SB3']);
      assert.equal(await store.sessions.put(session('SC1', 'c', 99_000), 10_000, limits), false);
      assert.deepEqual(await stored(), ['SA2', 'SB2', 'SB3']);
    });

    it('stacks: put stores a stack whole; a step writes its record, the resources it names and the events it adds', async () => {
      const stack = stackInFlight('st');
      await store.stacks.put(stack);
      assert.deepEqual(await store.stacks.get('st'), stack);
      assert.deepEqual(stackOrder(await store.stacks.get('st')), stackOrder(stack));

      // A step: a resource replaced (it keeps its place), one added (last), one removed, events added.
      const next = structuredClone(stack);
      next.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
      next.operation!.phase = 'rollback';
      next.resources.Zeta = stackResource('Zeta', 'z2');
      next.resources.Beta = stackResource('Beta', 'b');
      delete next.resources.Alpha;
      const added = Array.from({ length: MAX_STACK_EVENTS }, (_, i) => ({ ...stack.events[0]!, id: `n${i}`, status: `N${i}` }));
      next.events.push(...added);
      // What a step leaves as the last put stored it.
      const fixed = { ...next, template: 'changed', changeSets: [] };
      await store.stacks.step(fixed, {
        resources: [next.resources.Zeta, next.resources.Beta],
        removed: ['Alpha'],
        events: added,
      });
      const read = await store.stacks.get('st');
      assert.deepEqual(read, { ...next, events: next.events.slice(-MAX_STACK_EVENTS) });
      assert.deepEqual(Object.keys(read.resources), ['Zeta', 'Beta']);
      assert.equal(read.events.length, MAX_STACK_EVENTS);
      assert.deepEqual(read.events[0]?.id, 'n0');

      // The operation's end is a put: the plan goes with the operation.
      const done = structuredClone(read);
      delete done.operation;
      done.status = 'UPDATE_ROLLBACK_COMPLETE';
      await store.stacks.put(done);
      await store.stacks.step(done, { resources: [], removed: [], events: [] });
      assert.deepEqual(await store.stacks.get('st'), done);
      await store.stacks.put(stackInFlight('other'));
      assert.deepEqual(
        (await store.stacks.list()).map((s) => [s.name, Object.keys(s.resources)]),
        [
          ['other', ['Zeta', 'Alpha']],
          ['st', ['Zeta', 'Beta']],
        ],
      );
      await store.stacks.delete('st');
      await store.stacks.delete('other');
      assert.equal(await store.stacks.get('st'), undefined);
      assert.deepEqual(await store.stacks.list(), []);
    });

    it('logs: survive closing and opening again', async () => {
      await store.close();
      store = await reopen();
      assert.deepEqual(
        (await store.logs.events({ groupName: '/q', limit: 100, streamNames: ['a-1'] })).map((e) => e.message),
        ['zero', 'one', 'two'],
      );
      assert.equal((await store.logs.getStream('/aws/lambda/b', 's1'))?.lastEventAt, 100);
    });
  });
}
