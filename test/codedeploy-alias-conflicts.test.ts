/**
 * A deployment owns its alias while it runs, and never reports a release that did not happen: a second
 * deployment of the same alias (from any group or application) fails at its start without touching it;
 * an alias changed under a running deployment ends that deployment instead of being overwritten; and a
 * traffic switch that fails (the target version deleted mid-deployment) fails the deployment, never
 * Succeeded. The platform clock is a FakeClock, so every traffic step happens when the test advances it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutLifecycleEventHookExecutionStatusCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DeleteFunctionCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { FakeClock } from '../src/core/clock.js';
import {
  aliasOf,
  appSpec,
  codeDeployClientFor,
  createAppAndGroup,
  createHookFunction,
  deploy,
  eventOf,
  eventually,
  functionWithTwoVersions,
  getDeployment,
  getTarget,
  PARKING_HOOK,
  parkedEvents,
  waitForStatus,
} from './codedeploy-helpers.js';
import { startTestServer, zipOf, type TestServer } from './harness.js';

const MINUTE = 60_000;
const LINEAR = 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute';

describe('CodeDeploy: one deployment moves an alias at a time, and a failed switch is a failure (FakeClock)', () => {
  let t: TestServer;
  let cd: CodeDeployClient;
  const clock = new FakeClock();

  before(async () => {
    t = await startTestServer({ clock });
    cd = codeDeployClientFor(t.url);
    await createHookFunction(t.lambda, 'hook-parked', PARKING_HOOK);
  });
  after(async () => {
    cd.destroy();
    await t.close();
  });

  /** `fn` with versions 1, 2 and 3 and `fn:live` on 1. */
  async function threeVersions(fn: string): Promise<void> {
    await functionWithTwoVersions(t.lambda, fn);
    await t.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: zipOf({ 'index.js': 'exports.handler = async () => "v3";' }) }),
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
  }

  const weightIs = (fn: string, version: string, weights: Record<string, number> | undefined) =>
    eventually(`${fn}:live at ${version} ${JSON.stringify(weights)}`, 10_000, async () => {
      const a = await aliasOf(t.lambda, fn);
      return a.version === version && JSON.stringify(a.weights) === JSON.stringify(weights) ? a : undefined;
    });

  /** Reports `status` for the parked BeforeAllowTraffic hook of deployment `id`. */
  async function reportHook(id: string, status: 'Succeeded' | 'Failed'): Promise<void> {
    const parked = await eventually('the hook to run', 10_000, async () => (await parkedEvents(t.url, id))[0]);
    await cd.send(
      new PutLifecycleEventHookExecutionStatusCommand({
        deploymentId: id,
        lifecycleEventHookExecutionId: parked.LifecycleEventHookExecutionId,
        status,
      }),
    );
  }

  it('CreateDeployment: a second group deploying an alias another group is shifting fails at its start and leaves the alias alone', async () => {
    const fn = 'race';
    await threeVersions(fn);
    await createAppAndGroup(cd, 'race-app', 'race-linear', { deploymentConfigName: LINEAR });
    await createAppAndGroup(cd, 'race-other-app', 'race-at-once');
    const first = await deploy(cd, 'race-app', 'race-linear', appSpec(fn));
    await weightIs(fn, '1', { '2': 0.1 });

    // Another application's group, AllAtOnce to version 3: accepted, as CodeDeploy accepts it, then Failed.
    const second = await deploy(cd, 'race-other-app', 'race-at-once', appSpec(fn, {}, { current: '1', target: '3' }));
    const failed = await waitForStatus(cd, second, ['Failed'], 10_000);
    assert.equal(failed.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
    assert.match(failed.errorInformation?.message ?? '', new RegExp(`alias live of race is being deployed by ${first}`));
    assert.equal(failed.rollbackInfo, undefined);
    const target = await getTarget(cd, second, fn);
    assert.equal(eventOf(target, 'Start')?.status, 'Failed');
    assert.equal(eventOf(target, 'AllowTraffic')?.status, 'Skipped');
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: { '2': 0.1 } }, 'the second deployment moved nothing');

    // The first goes on undisturbed, and its Succeeded is true.
    for (const w of [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) {
      clock.advance(MINUTE);
      await weightIs(fn, '1', { '2': w });
    }
    clock.advance(MINUTE);
    await waitForStatus(cd, first, ['Succeeded'], 10_000);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
  });

  it('CreateDeployment: an alias whose deployment has not moved it yet (its pre-traffic hook runs) is still taken', async () => {
    const fn = 'race-early';
    await threeVersions(fn);
    await createAppAndGroup(cd, 'early-app', 'early-a');
    await createAppAndGroup(cd, 'early-other-app', 'early-b');
    const first = await deploy(cd, 'early-app', 'early-a', appSpec(fn, { before: 'hook-parked' }));
    const second = await deploy(cd, 'early-other-app', 'early-b', appSpec(fn, {}, { current: '1', target: '3' }));
    const failed = await waitForStatus(cd, second, ['Failed'], 10_000);
    assert.equal(failed.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
    assert.match(failed.errorInformation?.message ?? '', new RegExp(first));
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });

    await reportHook(first, 'Succeeded');
    await waitForStatus(cd, first, ['Succeeded'], 10_000);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
    // Once it has ended, the alias may be deployed again.
    const third = await deploy(cd, 'early-other-app', 'early-b', appSpec(fn, {}, { current: '2', target: '3' }));
    await waitForStatus(cd, third, ['Succeeded'], 10_000);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '3', weights: undefined });
  });

  it('CreateDeployment: an alias that is not wholly on the AppSpec’s CurrentVersion fails the deployment at its start', async () => {
    const fn = 'elsewhere';
    await threeVersions(fn);
    await t.lambda.send(
      new UpdateAliasCommand({
        FunctionName: fn,
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '3': 0.5 } },
      }),
    );
    await createAppAndGroup(cd, 'elsewhere-app', 'elsewhere-group');
    const id = await deploy(cd, 'elsewhere-app', 'elsewhere-group', appSpec(fn));
    const failed = await waitForStatus(cd, id, ['Failed'], 10_000);
    assert.equal(failed.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
    assert.match(failed.errorInformation?.message ?? '', /alias version does not match the current version in AppSpec file/);
    assert.match(failed.errorInformation?.message ?? '', /50% on version 1 and 50% on version 3/);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: { '3': 0.5 } });
  });

  it('an alias changed under a running deployment ends it Failed, and neither its next step nor its rollback overwrites the change', async () => {
    const fn = 'moved';
    await threeVersions(fn);
    await createAppAndGroup(cd, 'moved-app', 'moved-group', {
      deploymentConfigName: LINEAR,
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] },
    });
    const id = await deploy(cd, 'moved-app', 'moved-group', appSpec(fn));
    await weightIs(fn, '1', { '2': 0.1 });
    await t.lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '3', RoutingConfig: {} }));

    clock.advance(MINUTE);
    const failed = await waitForStatus(cd, id, ['Failed'], 10_000);
    assert.equal(failed.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
    assert.match(failed.errorInformation?.message ?? '', /changed outside this deployment: it routes to version 3/);
    assert.match(failed.errorInformation?.message ?? '', /90% on version 1 and 10% on version 2/);
    assert.equal(failed.rollbackInfo, undefined, 'no rollback: it would overwrite the change as well');
    assert.equal(eventOf(await getTarget(cd, id, fn), 'AllowTraffic')?.status, 'Failed');
    clock.advance(MINUTE);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '3', weights: undefined });
  });

  it('a deployment taken over by a new leader carries on over its own last move, never over an alias moved back meanwhile', async () => {
    const deployments = t.server.services.deployments;
    for (const moved of [false, true]) {
      const fn = moved ? 'resumed-moved' : 'resumed';
      await functionWithTwoVersions(t.lambda, fn);
      await createAppAndGroup(cd, `${fn}-app`, `${fn}-group`, { deploymentConfigName: LINEAR });
      const id = await deploy(cd, `${fn}-app`, `${fn}-group`, appSpec(fn));
      await weightIs(fn, '1', { '2': 0.1 });
      // The leader stops between two steps; the operator may put the alias back; another leader resumes.
      await deployments.close();
      if (moved) await t.lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1', RoutingConfig: {} }));
      await deployments.start();
      if (!moved) {
        clock.advance(MINUTE);
        await weightIs(fn, '1', { '2': 0.2 });
        await deployments.close(); // this deployment's steps are not the next one's
        await deployments.start();
        continue;
      }
      const failed = await waitForStatus(cd, id, ['Failed'], 10_000);
      assert.equal(failed.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
      assert.match(failed.errorInformation?.message ?? '', /changed outside this deployment: it routes to version 1/);
      clock.advance(3 * MINUTE);
      assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined }, 'the operator’s move stands');
    }
  });

  it('a target version deleted while the pre-traffic hook runs: the final switch fails, and the deployment is Failed, not Succeeded', async () => {
    const fn = 'deleted-target';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'deleted-app', 'deleted-group');
    const id = await deploy(cd, 'deleted-app', 'deleted-group', appSpec(fn, { before: 'hook-parked' }));
    await eventually('the hook to run', 10_000, async () => (await parkedEvents(t.url, id))[0]);
    // No alias routes to version 2 yet, so Lambda lets it go (as AWS Lambda does).
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '2' }));
    await reportHook(id, 'Succeeded');

    const failed = await waitForStatus(cd, id, ['Failed'], 10_000);
    assert.equal(failed.errorInformation?.code, 'INVALID_LAMBDA_FUNCTION');
    assert.match(
      failed.errorInformation?.message ?? '',
      /could not be moved to version 2: Function not found: .*function:deleted-target:2/,
    );
    const target = await getTarget(cd, id, fn);
    assert.equal(eventOf(target, 'BeforeAllowTraffic')?.status, 'Succeeded');
    assert.equal(eventOf(target, 'AllowTraffic')?.status, 'Failed');
    assert.equal(eventOf(target, 'End')?.status, 'Skipped');
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
  });

  it('a target version deleted before a linear shift: the first shift fails, and the deployment ends Failed and rolled back instead of hanging', async () => {
    const fn = 'deleted-linear';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'deleted-linear-app', 'deleted-linear-group', {
      deploymentConfigName: LINEAR,
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
    const id = await deploy(cd, 'deleted-linear-app', 'deleted-linear-group', appSpec(fn, { before: 'hook-parked' }));
    await eventually('the hook to run', 10_000, async () => (await parkedEvents(t.url, id))[0]);
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '2' }));
    await reportHook(id, 'Succeeded');

    const failed = await waitForStatus(cd, id, ['Failed'], 10_000);
    assert.equal(failed.errorInformation?.code, 'INVALID_LAMBDA_FUNCTION');
    assert.ok(failed.rollbackInfo?.rollbackDeploymentId, 'DEPLOYMENT_FAILURE rolls it back');
    const rollback = await getDeployment(cd, failed.rollbackInfo.rollbackDeploymentId);
    assert.equal(rollback.status, 'Succeeded');
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
  });
});
