/**
 * A deployment never reports a release that did not happen: a traffic switch that fails (the target
 * version deleted mid-deployment) fails the deployment, never Succeeded. The platform clock is a
 * FakeClock, so every traffic step happens when the test advances it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutLifecycleEventHookExecutionStatusCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
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
import { startTestServer, type TestServer } from './harness.js';

const LINEAR = 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute';

describe('CodeDeploy: a failed traffic switch is a failure (FakeClock)', () => {
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
