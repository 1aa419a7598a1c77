/**
 * What a deployment leaves behind: its records go with DeleteApplication and DeleteDeploymentGroup (a
 * running one is ended first), and a deployment that ends before its target version takes traffic
 * stops the environments it pre-warmed for it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  DeleteApplicationCommand,
  DeleteDeploymentConfigCommand,
  DeleteDeploymentGroupCommand,
  ListDeploymentConfigsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  type CodeDeployClient,
} from '@aws-sdk/client-codedeploy';
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
  PARKING_HOOK,
  parkedEvents,
  SERVICE_ROLE,
  waitForStatus,
} from './codedeploy-helpers.js';
import { errorOf, startTestServer, type TestServer } from './harness.js';

describe('CodeDeploy cleanup at time scale 60 (a platform minute is a real second)', () => {
  let t: TestServer;
  let cd: CodeDeployClient;
  before(async () => {
    t = await startTestServer({ timeScale: 60 });
    cd = codeDeployClientFor(t.url);
    await createHookFunction(t.lambda, 'hook-parked', PARKING_HOOK);
  });
  after(async () => {
    cd.destroy();
    await t.close();
  });

  const gone = async (id: string) => (await errorOf(() => getDeployment(cd, id))).name;
  const allDeployments = async () => (await cd.send(new ListDeploymentsCommand({}))).deployments ?? [];
  /** Waits for the weighted step on fn:live (the deployment is then in AllowTraffic). */
  const canaryOn = (fn: string) =>
    eventually(`the canary weight on ${fn}:live`, 8000, async () => ((await aliasOf(t.lambda, fn)).weights ? true : undefined));
  /** Live environments of one version of a function. */
  const environmentsOf = (fn: string, version: string) =>
    t.server.services.environments.environments().filter((e) => e.target.functionName === fn && e.target.version === version).length;

  it('ListDeploymentGroups names an application’s groups; DeleteDeploymentConfig refuses a config a group uses, then deletes it', async () => {
    const trafficRoutingConfig = { type: 'TimeBasedLinear' as const, timeBasedLinear: { linearPercentage: 50, linearInterval: 1 } };
    await cd.send(
      new CreateDeploymentConfigCommand({ deploymentConfigName: 'half-linear', computePlatform: 'Lambda', trafficRoutingConfig }),
    );
    await createAppAndGroup(cd, 'listed-app', 'b-group', { deploymentConfigName: 'half-linear' });
    await cd.send(
      new CreateDeploymentGroupCommand({ applicationName: 'listed-app', deploymentGroupName: 'a-group', serviceRoleArn: SERVICE_ROLE }),
    );
    const listed = await cd.send(new ListDeploymentGroupsCommand({ applicationName: 'listed-app' }));
    assert.deepEqual([listed.applicationName, listed.deploymentGroups], ['listed-app', ['a-group', 'b-group']]);
    const inUse = await errorOf(() => cd.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'half-linear' })));
    assert.equal(inUse.name, 'DeploymentConfigInUseException');
    await cd.send(new DeleteDeploymentGroupCommand({ applicationName: 'listed-app', deploymentGroupName: 'b-group' }));
    await cd.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'half-linear' }));
    assert.ok(!(await cd.send(new ListDeploymentConfigsCommand({}))).deploymentConfigsList!.includes('half-linear'));
  });

  it('DeleteDeploymentGroup deletes its deployments’ records, the other groups keep theirs, DeleteApplication takes the rest', async () => {
    const fn = 'kept-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'records-app', 'first-group', { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    const first = await deploy(cd, 'records-app', 'first-group', appSpec(fn));
    await waitForStatus(cd, first, ['Succeeded'], 5000);
    await createAppAndGroup(cd, 'other-app', 'second-group', { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    const second = await deploy(cd, 'other-app', 'second-group', appSpec(fn, {}, { current: '2', target: '1' }));
    await waitForStatus(cd, second, ['Succeeded'], 5000);

    await cd.send(new DeleteDeploymentGroupCommand({ applicationName: 'records-app', deploymentGroupName: 'first-group' }));
    assert.equal(await gone(first), 'DeploymentDoesNotExistException');
    assert.equal((await getDeployment(cd, second)).status, 'Succeeded');
    assert.ok(!(await allDeployments()).includes(first));

    await cd.send(new DeleteApplicationCommand({ applicationName: 'other-app' }));
    assert.equal(await gone(second), 'DeploymentDoesNotExistException');
    assert.ok(!(await allDeployments()).includes(second));
    // Deleting them moved no traffic: the alias is where the last deployment put it.
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
  });

  it('DeleteDeploymentGroup mid-canary ends the deployment (rolled back, as on a failure) and leaves no record of it', async () => {
    const fn = 'abandoned-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'abandon-app', 'abandon-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
    const id = await deploy(cd, 'abandon-app', 'abandon-group', appSpec(fn));
    await canaryOn(fn);
    await cd.send(new DeleteDeploymentGroupCommand({ applicationName: 'abandon-app', deploymentGroupName: 'abandon-group' }));
    // Ended before the answer: the alias is back, and neither the deployment nor its rollback is on record.
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    assert.equal(await gone(id), 'DeploymentDoesNotExistException');
    assert.deepEqual(
      (await t.server.services.store.codeDeploy.listDeployments({ application: 'abandon-app' })).map((d) => d.deploymentId),
      [],
    );
    assert.deepEqual(await t.server.services.store.codeDeploy.activeDeployments(), []);

    // The group made again under the same name starts clean: no active deployment blocks it.
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'abandon-app',
        deploymentGroupName: 'abandon-group',
        serviceRoleArn: SERVICE_ROLE,
        deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
      }),
    );
    const again = await deploy(cd, 'abandon-app', 'abandon-group', appSpec(fn));
    await waitForStatus(cd, again, ['Succeeded'], 5000);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
  });

  it('DeleteApplication mid-canary without rollback: the alias stays where the shift stopped, and no record remains', async () => {
    const fn = 'left-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'left-app', 'left-group', { deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' });
    const id = await deploy(cd, 'left-app', 'left-group', appSpec(fn));
    await canaryOn(fn);
    await cd.send(new DeleteApplicationCommand({ applicationName: 'left-app' }));
    assert.equal(await gone(id), 'DeploymentDoesNotExistException');
    assert.deepEqual(await t.server.services.store.codeDeploy.activeDeployments(), []);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: { '2': 0.1 } });
  });

  it('a hook execution takes one report: eight sent at once, one is accepted and the rest refused, the deployment ends by it', async () => {
    const fn = 'reported-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'report-app', 'report-group');
    const id = await deploy(cd, 'report-app', 'report-group', appSpec(fn, { before: 'hook-parked' }));
    const event = await eventually('the pre-traffic hook to run', 8000, async () => (await parkedEvents(t.url, id))[0]);
    // In the server's own process, all in one turn: every call reads the hook as in progress before any
    // report is stored, which is how reports sent at once over the wire race.
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        const status = i % 2 ? 'Failed' : 'Succeeded';
        return t.server.services.codeDeploy.putHookStatus(id, event.LifecycleEventHookExecutionId, status).then(
          () => status,
          (e: Error & { code?: string }) => e.code ?? e.name,
        );
      }),
    );
    const accepted = outcomes.filter((o) => o === 'Succeeded' || o === 'Failed');
    assert.equal(accepted.length, 1, outcomes.join(' '));
    assert.ok(
      outcomes.every((o) => o === accepted[0] || o === 'LifecycleEventAlreadyCompletedException'),
      outcomes.join(' '),
    );
    await waitForStatus(cd, id, [accepted[0] === 'Succeeded' ? 'Succeeded' : 'Failed'], 5000);
  });

  it('a deployment that fails before traffic moves, without rollback, stops the environment it pre-warmed for the target', async () => {
    const fn = 'prewarmed-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'prewarm-app', 'prewarm-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    });
    const id = await deploy(cd, 'prewarm-app', 'prewarm-group', appSpec(fn, { before: 'hook-parked' }));
    // The hook runs after the pre-warm: once it has parked its event, version 2 has its warm environment.
    const event = await eventually('the pre-traffic hook to run', 8000, async () => (await parkedEvents(t.url, id))[0]);
    assert.equal(environmentsOf(fn, '2'), 1, 'the target version was pre-warmed');
    await cd.send(
      new PutLifecycleEventHookExecutionStatusCommand({
        deploymentId: id,
        lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
        status: 'Failed',
      }),
    );
    const failed = await waitForStatus(cd, id, ['Failed'], 2000);
    assert.equal(failed.rollbackInfo, undefined, 'no rollback was configured');
    assert.equal(environmentsOf(fn, '2'), 0, 'the pre-warmed environment was stopped when the deployment ended');
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
  });
});
