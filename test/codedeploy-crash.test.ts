/**
 * A deployment survives a kill -9 of the server: `versa start` as a real process, SIGKILLed in the
 * middle of a canary (or of a hook), started again on the same data directory, finishes the deployment
 * from what the store says — weights intact, waits measured from the stored timestamps, hook execution
 * ids still valid.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import {
  aliasOf,
  appSpec,
  codeDeployClientFor,
  createAppAndGroup,
  createHookFunction,
  deploy,
  eventually,
  functionWithTwoVersions,
  getDeployment,
  getTarget,
  PARKING_HOOK,
  parkedEvents,
  waitForStatus,
} from './codedeploy-helpers.js';
import { lambdaClientFor } from './harness.js';
import { kill9, processesIn, reapLeftovers, startVersa, stopAll, type Versa } from './processes.js';

const SCALE = 60;

describe('CodeDeploy across a kill -9 of the server (versa start --time-scale 60)', () => {
  /** Real times (Date.now()) of the canary run across the crash, for the real-time check below. */
  const canaryRun: { createdAt?: number; killedAt?: number; restartedAt?: number; finishedAt?: number } = {};

  it('a Canary10Percent10Minutes deployment killed mid-canary finishes after a restart, timed from its stored start', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-crash-'));
    const servers: Versa[] = [];
    try {
      const first = await startVersa(dataDir, ['--time-scale', String(SCALE)]);
      servers.push(first);
      let lambda = lambdaClientFor(first.url);
      let cd = codeDeployClientFor(first.url);
      const fn = 'crash-fn';
      await functionWithTwoVersions(lambda, fn);
      await createAppAndGroup(cd, 'crash-app', 'crash-group', {
        deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent10Minutes',
      });
      const createdAt = Date.now();
      const id = await deploy(cd, 'crash-app', 'crash-group', appSpec(fn));
      const canary = await eventually('the canary weight', 5000, async () => {
        const a = await aliasOf(lambda, fn);
        return a.weights ? a : undefined;
      });
      assert.deepEqual(canary, { version: '1', weights: { '2': 0.1 } });
      assert.equal((await getTarget(cd, id, fn)).lambdaFunctionInfo?.targetVersionWeight, 0.1);
      const startTime = (await getDeployment(cd, id)).startTime!.getTime();

      // Four real seconds (four platform minutes) into the ten-minute canary, the server dies.
      await eventually('four seconds into the canary', 6000, () => (Date.now() - createdAt >= 4000 ? true : undefined), 20);
      const runtimes = processesIn(dataDir);
      lambda.destroy();
      cd.destroy();
      await kill9(first);
      const killedAt = Date.now();
      const leftovers = await reapLeftovers(dataDir, runtimes);

      const second = await startVersa(dataDir, ['--time-scale', String(SCALE)]);
      servers.push(second);
      const restartedAt = Date.now();
      lambda = lambdaClientFor(second.url);
      cd = codeDeployClientFor(second.url);
      // The store carried the deployment and the weights through the crash.
      const resumed = await getDeployment(cd, id);
      assert.equal(resumed.status, 'InProgress');
      assert.deepEqual(await aliasOf(lambda, fn), { version: '1', weights: { '2': 0.1 } });
      assert.equal((await getTarget(cd, id, fn)).lambdaFunctionInfo?.targetVersionWeight, 0.1);

      const done = await waitForStatus(cd, id, ['Succeeded'], 20_000);
      const finishedAt = Date.now();
      assert.deepEqual(await aliasOf(lambda, fn), { version: '2', weights: undefined });
      const target = await getTarget(cd, id, fn);
      assert.equal(target.lambdaFunctionInfo?.targetVersionWeight, 1);
      assert.deepEqual(
        target.lifecycleEvents?.map((e) => e.status),
        ['Succeeded', 'Skipped', 'Succeeded', 'Skipped', 'Succeeded'],
      );
      // Ten platform minutes from the stored start, not from the restart.
      const platformSeconds = (done.completeTime!.getTime() - startTime) / 1000;
      Object.assign(canaryRun, { createdAt, killedAt, restartedAt, finishedAt });
      assert.equal(leftovers, 0, 'the killed server’s runtimes exited on their own');
      assert.ok(platformSeconds >= 600 && platformSeconds < 600 + 120, `took ${platformSeconds} platform seconds`);
      lambda.destroy();
      cd.destroy();
    } finally {
      await stopAll(servers);
      await reapLeftovers(dataDir, processesIn(dataDir));
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('the resumed canary ends about ten real seconds after it began, not ten after the restart', () => {
    const { createdAt, killedAt, restartedAt, finishedAt } = canaryRun;
    assert.ok(createdAt && killedAt && restartedAt && finishedAt, 'the crash test above ran to the end');
    const total = finishedAt - createdAt;
    // Ten platform minutes are ten real seconds, downtime included; ending ten seconds after the restart
    // would take 4 s (canary before the kill) + the downtime + 10 s ≈ 15 s.
    assert.ok(
      total >= 9500 && total < 12_500,
      `the canary took ${total} ms of real time (killed ${killedAt - createdAt} ms in, down ${restartedAt - killedAt} ms, ` +
        `finished ${finishedAt - restartedAt} ms after the restart)`,
    );
  });

  it('a deployment killed while its BeforeAllowTraffic hook runs keeps the hook execution id across the restart', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-crash-'));
    const servers: Versa[] = [];
    try {
      const first = await startVersa(dataDir, ['--time-scale', String(SCALE)]);
      servers.push(first);
      let lambda = lambdaClientFor(first.url);
      let cd = codeDeployClientFor(first.url);
      const fn = 'parked-fn';
      await functionWithTwoVersions(lambda, fn);
      await createHookFunction(lambda, 'hook-parked', PARKING_HOOK);
      await createAppAndGroup(cd, 'parked-app', 'parked-group');
      const id = await deploy(cd, 'parked-app', 'parked-group', appSpec(fn, { before: 'hook-parked' }));
      const event = await eventually('the hook to run', 8000, async () => (await parkedEvents(first.url, id))[0]);
      const runtimes = processesIn(dataDir);
      lambda.destroy();
      cd.destroy();
      await kill9(first);
      const restartedAt = Date.now();
      await reapLeftovers(dataDir, runtimes);

      const second = await startVersa(dataDir, ['--time-scale', String(SCALE)]);
      servers.push(second);
      lambda = lambdaClientFor(second.url);
      cd = codeDeployClientFor(second.url);
      // The resumed deployment runs the hook again, with the same execution id.
      const again = await eventually('the hook to run again', 8000, async () =>
        (await parkedEvents(second.url, id)).find((e) => e.loggedAt >= restartedAt),
      );
      assert.equal(again.LifecycleEventHookExecutionId, event.LifecycleEventHookExecutionId);
      assert.deepEqual(await aliasOf(lambda, fn), { version: '1', weights: undefined });
      await cd.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: id,
          lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
          status: 'Succeeded',
        }),
      );
      await waitForStatus(cd, id, ['Succeeded'], 5000);
      assert.deepEqual(await aliasOf(lambda, fn), { version: '2', weights: undefined });
      lambda.destroy();
      cd.destroy();
    } finally {
      await stopAll(servers);
      await reapLeftovers(dataDir, processesIn(dataDir));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
