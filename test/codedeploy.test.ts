/**
 * CodeDeploy for Lambda end to end: real deployments on a fast platform clock move a real alias, real
 * hook functions report through the SDK from inside their runtime, real invocation errors trip real
 * alarms, and every failure puts the alias back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
  type CloudWatchClient,
  type Dimension,
} from '@aws-sdk/client-cloudwatch';
import {
  BatchGetApplicationsCommand,
  BatchGetDeploymentsCommand,
  BatchGetDeploymentTargetsCommand,
  CreateDeploymentCommand,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  ListDeploymentConfigsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  StopDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListDeploymentsCommand,
  paginateListDeployments,
  ListDeploymentTargetsCommand,
  type CodeDeployClient,
} from '@aws-sdk/client-codedeploy';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  aliasOf,
  appSpec,
  cloudWatchClientFor,
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
  reportingHook,
  SERVICE_ROLE,
  THROWING_HOOK,
  waitForStatus,
} from './codedeploy-helpers.js';
import { errorOf, startTestServer, type TestServer } from './harness.js';

const seconds = (d: Date | undefined) => (d ? d.getTime() / 1000 : NaN);
const liveDims = (fn: string, version: string): Dimension[] => [
  { Name: 'FunctionName', Value: fn },
  { Name: 'Resource', Value: `${fn}:live` },
  { Name: 'ExecutedVersion', Value: version },
];

describe('CodeDeploy at time scale 60 (a platform minute is a real second)', () => {
  let t: TestServer;
  let cd: CodeDeployClient;
  let cw: CloudWatchClient;
  before(async () => {
    t = await startTestServer({ timeScale: 60 });
    cd = codeDeployClientFor(t.url);
    cw = cloudWatchClientFor(t.url);
    await createHookFunction(t.lambda, 'hook-ok', reportingHook('Succeeded'));
    await createHookFunction(t.lambda, 'hook-fail', reportingHook('Failed'));
    await createHookFunction(t.lambda, 'hook-throw', THROWING_HOOK);
    await createHookFunction(t.lambda, 'hook-parked', PARKING_HOOK);
  });
  after(async () => {
    cd.destroy();
    cw.destroy();
    await t.close();
  });

  /** Waits for the canary weight to show on the alias (the deployment is then in AllowTraffic). */
  const canaryOn = (fn: string) =>
    eventually(`the canary weight on ${fn}:live`, 8000, async () => {
      const a = await aliasOf(t.lambda, fn);
      return a.weights ? a : undefined;
    });
  const invocationsOf = async (fn: string, version: string) => {
    const now = t.server.services.clock.now();
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: liveDims(fn, version),
        Period: 3600,
        Statistics: ['Sum'],
        StartTime: new Date(now - 3_600_000),
        EndTime: new Date(now + 3_600_000),
      }),
    );
    return (out.Datapoints ?? []).reduce((acc, d) => acc + (d.Sum ?? 0), 0);
  };

  it('a healthy canary: 10% on version 2 for the interval (observed split), then all of it, with hooks and records', async () => {
    const fn = 'canary-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await cd.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Canary10Percent6Minutes',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 6 } },
      }),
    );
    const config = await cd.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'Canary10Percent6Minutes' }));
    assert.deepEqual(config.deploymentConfigInfo?.trafficRoutingConfig, {
      type: 'TimeBasedCanary',
      timeBasedCanary: { canaryPercentage: 10, canaryInterval: 6 },
    });
    await createAppAndGroup(cd, 'canary-app', 'canary-group', { deploymentConfigName: 'Canary10Percent6Minutes' });
    const id = await deploy(cd, 'canary-app', 'canary-group', appSpec(fn, { before: 'hook-ok', after: 'hook-ok' }));
    assert.match(id, /^d-[A-Z0-9]{9}$/);

    // The pre-traffic hook reports from inside its runtime; then the canary weight appears on the alias.
    const canary = await canaryOn(fn);
    assert.deepEqual(canary, { version: '1', weights: { '2': 0.1 } });
    const during = await getTarget(cd, id, fn);
    assert.equal(during.lambdaFunctionInfo?.targetVersionWeight, 0.1);
    assert.equal(during.status, 'InProgress');
    assert.deepEqual(
      during.lifecycleEvents?.map((e) => [e.lifecycleEventName, e.status]),
      [
        ['Start', 'Succeeded'],
        ['BeforeAllowTraffic', 'Succeeded'],
        ['AllowTraffic', 'InProgress'],
        ['AfterAllowTraffic', 'Pending'],
        ['End', 'Pending'],
      ],
    );
    const running = await getDeployment(cd, id);
    assert.equal(running.status, 'InProgress');
    assert.equal(running.deploymentOverview?.InProgress, 1);
    assert.equal(running.deploymentOverview?.Succeeded, 0);

    // The split as invocations see it. The alias still carries 10% afterwards, so every sample fell in
    // the window. Binomial(300, 0.1): mean 30, sd 5.2; 10..60 fails with probability below 1e-4.
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const out = await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
      const answer = JSON.parse(Buffer.from(out.Payload!).toString()) as string;
      assert.equal(answer, `v${out.ExecutedVersion}`);
      counts[out.ExecutedVersion!] = (counts[out.ExecutedVersion!] ?? 0) + 1;
    }
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: { '2': 0.1 } }, 'the samples were all in the canary window');
    assert.equal((counts['1'] ?? 0) + (counts['2'] ?? 0), 300, JSON.stringify(counts));
    assert.ok(counts['2']! >= 10 && counts['2']! <= 60, `version 2 served ${counts['2']} of 300`);

    const done = await waitForStatus(cd, id, ['Succeeded'], 10_000);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
    assert.equal(done.creator, 'user');
    assert.equal(done.errorInformation, undefined);
    assert.deepEqual(done.deploymentOverview, { Pending: 0, InProgress: 0, Succeeded: 1, Failed: 0, Skipped: 0, Ready: 0 });
    assert.ok(seconds(done.createTime) <= seconds(done.startTime) && seconds(done.startTime) <= seconds(done.completeTime));

    const target = await getTarget(cd, id, fn);
    assert.equal(target.status, 'Succeeded');
    assert.equal(target.lambdaFunctionInfo?.targetVersionWeight, 1);
    assert.deepEqual(
      target.lifecycleEvents?.map((e) => [e.lifecycleEventName, e.status]),
      [
        ['Start', 'Succeeded'],
        ['BeforeAllowTraffic', 'Succeeded'],
        ['AllowTraffic', 'Succeeded'],
        ['AfterAllowTraffic', 'Succeeded'],
        ['End', 'Succeeded'],
      ],
    );
    let last = seconds(done.startTime);
    for (const e of target.lifecycleEvents ?? []) {
      const [s, f] = [seconds(e.startTime), seconds(e.endTime)];
      assert.ok(s >= last && f >= s, `${e.lifecycleEventName} runs ${s}..${f}, after ${last}`);
      last = f;
    }
    const shift = eventOf(target, 'AllowTraffic');
    const shiftSeconds = seconds(shift?.endTime) - seconds(shift?.startTime);
    assert.ok(shiftSeconds >= 360 && shiftSeconds < 360 + 120, `AllowTraffic took ${shiftSeconds} platform seconds`);

    const group = await cd.send(new GetDeploymentGroupCommand({ applicationName: 'canary-app', deploymentGroupName: 'canary-group' }));
    assert.equal(group.deploymentGroupInfo?.lastSuccessfulDeployment?.deploymentId, id);
    assert.equal(group.deploymentGroupInfo?.lastSuccessfulDeployment?.status, 'Succeeded');
    assert.equal(group.deploymentGroupInfo?.lastAttemptedDeployment?.deploymentId, id);
    const listed = await cd.send(new ListDeploymentsCommand({ applicationName: 'canary-app', deploymentGroupName: 'canary-group' }));
    assert.deepEqual(listed.deployments, [id]);
    const succeeded = await cd.send(
      new ListDeploymentsCommand({
        applicationName: 'canary-app',
        deploymentGroupName: 'canary-group',
        includeOnlyStatuses: ['Succeeded'],
      }),
    );
    assert.deepEqual(succeeded.deployments, [id]);
    const inProgress = await cd.send(
      new ListDeploymentsCommand({
        applicationName: 'canary-app',
        deploymentGroupName: 'canary-group',
        includeOnlyStatuses: ['InProgress'],
      }),
    );
    assert.deepEqual(inProgress.deployments, []);
    assert.deepEqual((await cd.send(new ListDeploymentTargetsCommand({ deploymentId: id }))).targetIds, [`${fn}:live`]);
  });

  it('ListDeployments answers a page of 100 ids, newest first, and its nextToken leads through the rest; a bad token or status is refused', async () => {
    // 230 finished deployments of a group of their own, written to the store as the controller leaves them.
    await createAppAndGroup(cd, 'page-app', 'page-group');
    const [real] = (await cd.send(new ListDeploymentsCommand({ applicationName: 'canary-app', deploymentGroupName: 'canary-group' })))
      .deployments!;
    const template = (await t.server.services.store.codeDeploy.getDeployment(real!))!;
    const made: string[] = [];
    for (let i = 0; i < 230; i++) {
      const deploymentId = `d-PAGE${String(i).padStart(5, '0')}`;
      const status = i % 2 ? 'Succeeded' : 'Stopped';
      await t.server.services.store.codeDeploy.putDeployment({
        ...template,
        deploymentId,
        status,
        applicationName: 'page-app',
        deploymentGroupName: 'page-group',
      });
      made.push(deploymentId);
    }
    try {
      const pages: string[][] = [];
      for await (const page of paginateListDeployments(
        { client: cd },
        { applicationName: 'page-app', deploymentGroupName: 'page-group' },
      )) {
        pages.push(page.deployments ?? []);
      }
      assert.deepEqual(
        pages.map((p) => p.length),
        [100, 100, 30],
      );
      assert.deepEqual(pages.flat(), [...made].reverse());
      // The status filter is applied before the page is cut: the first page is full.
      const stopped = await cd.send(new ListDeploymentsCommand({ applicationName: 'page-app', includeOnlyStatuses: ['Stopped'] }));
      assert.equal(stopped.deployments?.length, 100);
      const rest = await cd.send(
        new ListDeploymentsCommand({ applicationName: 'page-app', includeOnlyStatuses: ['Stopped'], nextToken: stopped.nextToken }),
      );
      assert.deepEqual(
        rest.deployments,
        made
          .filter((_, i) => i % 2 === 0)
          .reverse()
          .slice(100),
      );
      assert.equal(rest.nextToken, undefined);
      const bad = await errorOf(() => cd.send(new ListDeploymentsCommand({ nextToken: 'not-a-token' })));
      assert.equal(bad.name, 'InvalidNextTokenException');
      assert.equal(bad.$metadata?.httpStatusCode, 400);
      const status = await errorOf(() => cd.send(new ListDeploymentsCommand({ includeOnlyStatuses: ['Done' as 'Succeeded'] })));
      assert.equal(status.name, 'InvalidDeploymentStatusException');
    } finally {
      await t.server.services.store.codeDeploy.deleteDeployments({ application: 'page-app' });
    }
  });

  it('real errors of version 2 trip its alarm: Stopped (ALARM_ACTIVE), the alias goes back, the rollback is recorded', async () => {
    const fn = 'erring-fn';
    await functionWithTwoVersions(t.lambda, fn, { v2Throws: true });
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'erring-v2-errors',
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: liveDims(fn, '2'),
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await createAppAndGroup(cd, 'erring-app', 'erring-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'erring-v2-errors' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
    });
    const id = await deploy(cd, 'erring-app', 'erring-group', appSpec(fn));
    assert.deepEqual(await canaryOn(fn), { version: '1', weights: { '2': 0.1 } });

    // Customers call the alias until one lands on version 2 and fails (about one call in ten).
    let failed = false;
    for (let i = 0; i < 400 && !failed; i++) {
      const out = await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
      if (out.ExecutedVersion === '2') {
        assert.equal(out.FunctionError, 'Unhandled');
        failed = true;
      } else assert.equal(out.FunctionError, undefined);
    }
    assert.ok(failed, 'version 2 served none of 400 calls at 10%');

    // The alarm evaluates every 10 platform seconds (1/6 s here); the 30-minute canary had 30 s left.
    const stopped = await waitForStatus(cd, id, ['Stopped'], 5000);
    assert.equal(stopped.errorInformation?.code, 'ALARM_ACTIVE');
    assert.match(stopped.errorInformation?.message ?? '', /erring-v2-errors/);
    const alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['erring-v2-errors'] }))).MetricAlarms![0]!;
    assert.equal(alarm.StateValue, 'ALARM');
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    for (let i = 0; i < 20; i++) {
      const out = await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
      assert.equal(out.ExecutedVersion, '1');
    }
    const target = await getTarget(cd, id, fn);
    assert.equal(target.lambdaFunctionInfo?.targetVersionWeight, 0);
    assert.equal(eventOf(target, 'End')?.status, 'Skipped');

    // The rollback, as CodeDeploy records it: a new deployment by codeDeployRollback, linked both ways.
    const rollbackId = stopped.rollbackInfo?.rollbackDeploymentId;
    assert.match(rollbackId ?? '', /^d-[A-Z0-9]{9}$/);
    assert.notEqual(rollbackId, id);
    const rollback = await getDeployment(cd, rollbackId!);
    assert.equal(rollback.creator, 'codeDeployRollback');
    assert.equal(rollback.rollbackInfo?.rollbackTriggeringDeploymentId, id);
    assert.equal(rollback.status, 'Succeeded');
    assert.equal(rollback.applicationName, 'erring-app');
    assert.equal(rollback.deploymentGroupName, 'erring-group');
    const listed = await cd.send(new ListDeploymentsCommand({ applicationName: 'erring-app', deploymentGroupName: 'erring-group' }));
    assert.deepEqual(new Set(listed.deployments), new Set([id, rollbackId]));
    const group = await cd.send(new GetDeploymentGroupCommand({ applicationName: 'erring-app', deploymentGroupName: 'erring-group' }));
    assert.equal(group.deploymentGroupInfo?.lastSuccessfulDeployment, undefined);
  });

  it('a BeforeAllowTraffic hook that reports Failed fails the deployment before version 2 takes any traffic', async () => {
    const fn = 'guarded-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'guarded-app', 'guarded-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    });
    const id = await deploy(cd, 'guarded-app', 'guarded-group', appSpec(fn, { before: 'hook-fail', after: 'hook-ok' }));

    // Customers keep calling the alias, and we keep looking at it, until the deployment ends.
    const versions = new Set<string>();
    const aliases = new Set<string>();
    let calls = 0;
    const failed = await eventually('the deployment to end', 8000, async () => {
      const out = await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
      versions.add(out.ExecutedVersion!);
      calls++;
      aliases.add(JSON.stringify(await aliasOf(t.lambda, fn)));
      const d = await getDeployment(cd, id);
      return ['Succeeded', 'Failed', 'Stopped'].includes(d.status!) ? d : undefined;
    });
    assert.equal(failed.status, 'Failed');
    assert.equal(failed.errorInformation?.code, 'HOOK_EXECUTION_FAILURE');
    assert.match(failed.errorInformation?.message ?? '', /BeforeAllowTraffic/);
    assert.deepEqual([...versions], ['1']);
    assert.deepEqual([...aliases], [JSON.stringify({ version: '1', weights: undefined })]);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    assert.equal(await invocationsOf(fn, '2'), 0);
    assert.ok((await invocationsOf(fn, '1')) >= calls, 'the metric sees the calls version 1 served');

    const target = await getTarget(cd, id, fn);
    assert.equal(target.status, 'Failed');
    assert.equal(target.lambdaFunctionInfo?.targetVersionWeight, 0);
    assert.equal(eventOf(target, 'BeforeAllowTraffic')?.status, 'Failed');
    assert.ok(eventOf(target, 'BeforeAllowTraffic')?.diagnostics?.errorCode);
    assert.equal(eventOf(target, 'AllowTraffic')?.status, 'Skipped');
    assert.equal(eventOf(target, 'AllowTraffic')?.startTime, undefined, 'traffic never started shifting');
    assert.equal(eventOf(target, 'AfterAllowTraffic')?.status, 'Skipped');
    const group = await cd.send(new GetDeploymentGroupCommand({ applicationName: 'guarded-app', deploymentGroupName: 'guarded-group' }));
    assert.equal(group.deploymentGroupInfo?.lastAttemptedDeployment?.deploymentId, id);
    assert.equal(group.deploymentGroupInfo?.lastAttemptedDeployment?.status, 'Failed');
    assert.equal(group.deploymentGroupInfo?.lastSuccessfulDeployment, undefined);
  });

  it('a BeforeAllowTraffic hook function that throws fails the deployment too', async () => {
    const fn = 'guarded-fn';
    const id = await deploy(cd, 'guarded-app', 'guarded-group', appSpec(fn, { before: 'hook-throw' }));
    const failed = await waitForStatus(cd, id, ['Failed'], 8000);
    assert.equal(failed.errorInformation?.code, 'HOOK_EXECUTION_FAILURE');
    assert.match(failed.errorInformation?.message ?? '', /hook-throw/);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    const target = await getTarget(cd, id, fn);
    assert.equal(eventOf(target, 'AllowTraffic')?.startTime, undefined);
    assert.equal(await invocationsOf(fn, '2'), 0);
  });

  it('a forced ALARM (SetAlarmState) during the canary stops the deployment within a second of real time', async () => {
    const fn = 'forced-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'forced-pager',
        Namespace: 'Versa/Test',
        MetricName: 'Quiet',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await createAppAndGroup(cd, 'forced-app', 'forced-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'forced-pager' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
    });
    const id = await deploy(cd, 'forced-app', 'forced-group', appSpec(fn));
    await canaryOn(fn);
    const forcedAt = Date.now();
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'forced-pager', StateValue: 'ALARM', StateReason: 'forced by the test' }));
    const stopped = await eventually(
      'the deployment to stop',
      1000,
      async () => {
        const d = await getDeployment(cd, id);
        return d.status === 'InProgress' ? undefined : d;
      },
      10,
    );
    const took = Date.now() - forcedAt;
    assert.equal(stopped.status, 'Stopped');
    assert.ok(took < 1000, `stopped ${took} ms after the alarm`);
    assert.equal(stopped.errorInformation?.code, 'ALARM_ACTIVE');
    assert.match(stopped.errorInformation?.message ?? '', /forced-pager/);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    assert.ok(stopped.rollbackInfo?.rollbackDeploymentId);
  });

  it('an alarm already in ALARM when a deployment starts stops it at once, before any traffic moves', async () => {
    const fn = 'doomed-fn';
    await functionWithTwoVersions(t.lambda, fn);
    // Missing data counts as breaching, so this alarm settles in ALARM on its own and stays there.
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'always-alarm',
        Namespace: 'Versa/Test',
        MetricName: 'NeverReported',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
      }),
    );
    await eventually('always-alarm to be in ALARM', 3000, async () =>
      (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['always-alarm'] }))).MetricAlarms![0]!.StateValue === 'ALARM'
        ? true
        : undefined,
    );
    await createAppAndGroup(cd, 'doomed-app', 'doomed-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'always-alarm' }] },
    });
    const createdAt = Date.now();
    const id = await deploy(cd, 'doomed-app', 'doomed-group', appSpec(fn));
    const stopped = await eventually(
      'the deployment to stop',
      1000,
      async () => {
        const d = await getDeployment(cd, id);
        return d.status === 'InProgress' || d.status === 'Created' ? undefined : d;
      },
      10,
    );
    assert.ok(Date.now() - createdAt < 1000);
    assert.equal(stopped.status, 'Stopped');
    assert.equal(stopped.errorInformation?.code, 'ALARM_ACTIVE');
    assert.match(stopped.errorInformation?.message ?? '', /always-alarm/);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    const target = await getTarget(cd, id, fn);
    assert.equal(eventOf(target, 'AllowTraffic')?.startTime, undefined);
    assert.equal(await invocationsOf(fn, '2'), 0);
  });

  it('a group alarm that does not exist stops the deployment at once (ALARM_ACTIVE) unless ignorePollAlarmFailure is set', async () => {
    const fn = 'unwatched-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'unwatched-app', 'strict-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'no-such-alarm' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
    });
    const id = await deploy(cd, 'unwatched-app', 'strict-group', appSpec(fn));
    const stopped = await waitForStatus(cd, id, ['Stopped'], 2000);
    assert.equal(stopped.errorInformation?.code, 'ALARM_ACTIVE');
    assert.match(stopped.errorInformation?.message ?? '', /could not be read: <no-such-alarm>/);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    assert.equal(eventOf(await getTarget(cd, id, fn), 'AllowTraffic')?.startTime, undefined, 'traffic never started shifting');
    assert.equal(await invocationsOf(fn, '2'), 0);

    // The same missing alarm in a group that ignores poll failures: the deployment goes through.
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'unwatched-app',
        deploymentGroupName: 'lenient-group',
        serviceRoleArn: SERVICE_ROLE,
        deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
        alarmConfiguration: { enabled: true, ignorePollAlarmFailure: true, alarms: [{ name: 'no-such-alarm' }] },
      }),
    );
    const through = await deploy(cd, 'unwatched-app', 'lenient-group', appSpec(fn));
    await waitForStatus(cd, through, ['Succeeded'], 5000);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
  });

  it('deleting a watched alarm mid-canary stops the deployment within a second and rolls it back', async () => {
    const fn = 'orphaned-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'short-lived-alarm',
        Namespace: 'Versa/Test',
        MetricName: 'Quiet',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await createAppAndGroup(cd, 'orphaned-app', 'orphaned-group', {
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      alarmConfiguration: { enabled: true, alarms: [{ name: 'short-lived-alarm' }] },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] },
    });
    const id = await deploy(cd, 'orphaned-app', 'orphaned-group', appSpec(fn));
    await canaryOn(fn);
    assert.equal((await getDeployment(cd, id)).status, 'InProgress', 'a readable alarm not in ALARM lets the canary run');
    const deletedAt = Date.now();
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['short-lived-alarm'] }));
    const stopped = await waitForStatus(cd, id, ['Stopped'], 1000);
    assert.ok(Date.now() - deletedAt < 1000);
    assert.equal(stopped.errorInformation?.code, 'ALARM_ACTIVE');
    assert.match(stopped.errorInformation?.message ?? '', /<short-lived-alarm>/);
    assert.ok(stopped.rollbackInfo?.rollbackDeploymentId);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
  });

  it('StopDeployment with autoRollbackEnabled: Stopped (MANUAL_STOP), the alias back on 1; a finished one cannot be stopped', async () => {
    const fn = 'stopped-fn';
    await functionWithTwoVersions(t.lambda, fn);
    // The group has no automatic rollback: the request's autoRollbackEnabled decides.
    await createAppAndGroup(cd, 'stop-app', 'stop-group', { deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' });
    const id = await deploy(cd, 'stop-app', 'stop-group', appSpec(fn));
    assert.deepEqual(await canaryOn(fn), { version: '1', weights: { '2': 0.1 } });
    const answer = await cd.send(new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }));
    assert.ok(answer.status === 'Succeeded' || answer.status === 'Pending', answer.status);
    const stopped = await waitForStatus(cd, id, ['Stopped'], 2000);
    assert.equal(stopped.errorInformation?.code, 'MANUAL_STOP');
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
    assert.equal((await getTarget(cd, id, fn)).lambdaFunctionInfo?.targetVersionWeight, 0);
    const rollbackId = stopped.rollbackInfo?.rollbackDeploymentId;
    assert.ok(rollbackId);
    const rollback = await getDeployment(cd, rollbackId);
    assert.equal(rollback.creator, 'codeDeployRollback');
    assert.equal(rollback.rollbackInfo?.rollbackTriggeringDeploymentId, id);

    const again = await errorOf(() => cd.send(new StopDeploymentCommand({ deploymentId: id })));
    assert.equal(again.name, 'DeploymentAlreadyCompletedException');
    assert.equal((await getDeployment(cd, id)).status, 'Stopped');
  });

  it('bad input gets the AWS error and changes nothing', async () => {
    const fn = 'strict-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'strict-app', 'strict-group');
    const deployments = async () => (await cd.send(new ListDeploymentsCommand({}))).deployments ?? [];
    const before = await deployments();
    const unchanged = async (what: string) => {
      assert.deepEqual(await deployments(), before, `${what}: no deployment was created`);
      assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined }, `${what}: the alias did not move`);
    };
    const create = (app: string, group: string, content: string) =>
      errorOf(() =>
        cd.send(
          new CreateDeploymentCommand({
            applicationName: app,
            deploymentGroupName: group,
            revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
          }),
        ),
      );

    assert.equal((await create('no-such-app', 'strict-group', appSpec(fn))).name, 'ApplicationDoesNotExistException');
    await unchanged('unknown application');
    assert.equal((await create('strict-app', 'no-such-group', appSpec(fn))).name, 'DeploymentGroupDoesNotExistException');
    await unchanged('unknown group');
    const badSpecs: [string, string][] = [
      ['unknown alias', appSpec(fn).replace('Alias: live', 'Alias: nope')],
      ['non-numeric version', appSpec(fn, {}, { current: '1', target: 'two' })],
      ['$LATEST as a version', appSpec(fn, {}, { current: '1', target: '$LATEST' })],
      ['unpublished version', appSpec(fn, {}, { current: '1', target: '9' })],
      ['unknown function', appSpec('no-such-fn')],
      ['unknown hook function', appSpec(fn, { before: 'no-such-hook' })],
      ['unparseable JSON', '{"Resources": [ {"f": '],
      ['unparseable YAML', 'Resources: [\n  - : : :\n'],
      ['no resources', 'version: 0.0\nResources: []\n'],
    ];
    for (const [what, content] of badSpecs) {
      const e = await create('strict-app', 'strict-group', content);
      assert.equal(e.name, 'InvalidRevisionException', `${what}: ${e.name} ${e.message}`);
      await unchanged(what);
    }

    // A group holds at most 10 triggers, as on AWS (2,900 made a 2 MB record, read by every step).
    const trigger = (i: number) => ({
      triggerName: `t${i}`,
      triggerTargetArn: 'arn:aws:sns:us-east-1:000000000000:topic',
      triggerEvents: ['DeploymentFailure' as const],
    });
    const groupWith = (name: string, count: number) =>
      cd.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'strict-app',
          deploymentGroupName: name,
          serviceRoleArn: 'arn:aws:iam::000000000000:role/codedeploy',
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          triggerConfigurations: Array.from({ length: count }, (_, i) => trigger(i)),
        }),
      );
    assert.equal((await errorOf(() => groupWith('eleven-triggers', 11))).name, 'TriggerTargetsLimitExceededException');
    assert.equal(
      (
        await errorOf(() =>
          cd.send(new GetDeploymentGroupCommand({ applicationName: 'strict-app', deploymentGroupName: 'eleven-triggers' })),
        )
      ).name,
      'DeploymentGroupDoesNotExistException',
    );
    await groupWith('ten-triggers', 10);

    // Batches past AWS's limits (each id is read and answered: 138,000 of one id took the server to 1 GB).
    const batches: [string, () => Promise<unknown>][] = [
      ['BatchLimitExceededException', () => cd.send(new BatchGetDeploymentsCommand({ deploymentIds: Array(26).fill('d-X') }))],
      ['BatchLimitExceededException', () => cd.send(new BatchGetApplicationsCommand({ applicationNames: Array(101).fill('strict-app') }))],
      [
        'DeploymentTargetListSizeExceededException',
        () => cd.send(new BatchGetDeploymentTargetsCommand({ deploymentId: 'd-X', targetIds: Array(26).fill(`${fn}:live`) })),
      ],
    ];
    for (const [name, call] of batches) assert.equal((await errorOf(call)).name, name);
    assert.equal(
      (await cd.send(new BatchGetApplicationsCommand({ applicationNames: Array(100).fill('strict-app') }))).applicationsInfo?.length,
      100,
    );

    const configs = (await cd.send(new ListDeploymentConfigsCommand({}))).deploymentConfigsList;
    const reserved = await errorOf(() =>
      cd.send(
        new CreateDeploymentConfigCommand({
          deploymentConfigName: 'CodeDeployDefault.x',
          computePlatform: 'Lambda',
          trafficRoutingConfig: { type: 'AllAtOnce' },
        }),
      ),
    );
    assert.equal(reserved.name, 'InvalidDeploymentConfigNameException');
    assert.deepEqual((await cd.send(new ListDeploymentConfigsCommand({}))).deploymentConfigsList, configs);
    assert.ok(configs?.includes('CodeDeployDefault.LambdaLinear10PercentEvery10Minutes'));

    assert.equal((await errorOf(() => getDeployment(cd, 'nope'))).name, 'InvalidDeploymentIdException');
    assert.equal((await errorOf(() => getDeployment(cd, 'd-AAAAAAAAA'))).name, 'DeploymentDoesNotExistException');

    // A deployment parked in its BeforeAllowTraffic hook: the hook wrote down its event and reports nothing.
    const id = await deploy(cd, 'strict-app', 'strict-group', appSpec(fn, { before: 'hook-parked' }));
    const event = await eventually('the parked hook to run', 8000, async () => (await parkedEvents(t.url, id))[0]);
    assert.equal(event.DeploymentId, id);
    assert.ok(event.LifecycleEventHookExecutionId);
    const active = [id, ...before];
    const stillParked = async (what: string) => {
      assert.deepEqual(new Set(await deployments()), new Set(active), `${what}: no deployment was created`);
      const d = await getTarget(cd, id, fn);
      assert.equal(d.status, 'InProgress', what);
      assert.equal(eventOf(d, 'BeforeAllowTraffic')?.status, 'InProgress', what);
      assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined }, `${what}: the alias did not move`);
    };

    const second = await create('strict-app', 'strict-group', appSpec(fn));
    assert.equal(second.name, 'DeploymentLimitExceededException');
    assert.match(second.message, /already has an active Deployment/);
    assert.ok(second.message.includes(id), second.message);
    await stillParked('a second deployment');

    const report = (executionId: string, status: string) =>
      cd.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: id,
          lifecycleEventHookExecutionId: executionId,
          status: status as 'Succeeded',
        }),
      );
    const unknownId = await errorOf(() => report('00000000-0000-0000-0000-000000000000', 'Succeeded'));
    assert.equal(unknownId.name, 'InvalidLifecycleEventHookExecutionIdException');
    await stillParked('an unknown execution id');
    const pending = await errorOf(() => report(event.LifecycleEventHookExecutionId, 'Pending'));
    assert.equal(pending.name, 'InvalidLifecycleEventHookExecutionStatusException');
    await stillParked('status Pending');

    // Another function that read the execution id (the hook logs its event) may not report for it: only the
    // hook function itself, or an operator.
    const meddled = await t.lambda.send(new InvokeCommand({ FunctionName: 'hook-ok', Payload: JSON.stringify(event) }));
    assert.equal(meddled.FunctionError, 'Unhandled');
    assert.equal((JSON.parse(Buffer.from(meddled.Payload!).toString()) as { errorType: string }).errorType, 'AccessDeniedException');
    await stillParked('a report from another function');

    // The real report lets it finish (AllAtOnce); a second report is refused.
    const ok = await report(event.LifecycleEventHookExecutionId, 'Succeeded');
    assert.equal(ok.lifecycleEventHookExecutionId, event.LifecycleEventHookExecutionId);
    await waitForStatus(cd, id, ['Succeeded'], 3000);
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
    const twice = await errorOf(() => report(event.LifecycleEventHookExecutionId, 'Failed'));
    assert.equal(twice.name, 'LifecycleEventAlreadyCompletedException');
    assert.equal((await getDeployment(cd, id)).status, 'Succeeded');
  });
});

describe('CodeDeploy at time scale 600 (a platform minute is a tenth of a real second)', () => {
  let t: TestServer;
  let cd: CodeDeployClient;
  before(async () => {
    t = await startTestServer({ timeScale: 600 });
    cd = codeDeployClientFor(t.url);
  });
  after(async () => {
    cd.destroy();
    await t.close();
  });

  /** Samples the target's weight as fast as the API answers until the deployment ends. */
  const sampleWeights = async (id: string, fn: string) => {
    const weights: number[] = [];
    const ended = await eventually(
      `deployment ${id} to end`,
      8000,
      async () => {
        const target = await getTarget(cd, id, fn);
        weights.push(target.lambdaFunctionInfo!.targetVersionWeight!);
        return target.status === 'Succeeded' || target.status === 'Failed' ? target : undefined;
      },
      2,
    );
    return { weights, ended };
  };
  const shiftSeconds = (target: { lifecycleEvents?: { lifecycleEventName?: string; startTime?: Date; endTime?: Date }[] }) => {
    const e = eventOf(target, 'AllowTraffic');
    return seconds(e?.endTime) - seconds(e?.startTime);
  };

  it('a custom TimeBasedLinear config: the weight rises 0.25 → 0.5 → 0.75 → 1, a step a platform minute', async () => {
    const fn = 'linear-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await cd.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Linear25PercentEvery1Minute',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 25, linearInterval: 1 } },
      }),
    );
    await createAppAndGroup(cd, 'linear-app', 'linear-group', { deploymentConfigName: 'Linear25PercentEvery1Minute' });
    const id = await deploy(cd, 'linear-app', 'linear-group', appSpec(fn));
    const { weights, ended } = await sampleWeights(id, fn);
    assert.equal(ended.status, 'Succeeded');
    for (let i = 1; i < weights.length; i++) assert.ok(weights[i]! >= weights[i - 1]!, `weights went down: ${weights.join(' ')}`);
    const distinct = [...new Set(weights)];
    assert.ok(
      distinct.every((w) => [0, 0.25, 0.5, 0.75, 1].includes(w)),
      `only whole steps of 25%: ${distinct.join(' ')}`,
    );
    // Each step lasts 100 ms of real time, which a loaded machine's samples can miss; the deployment's own
    // record (AllowTraffic's log tail) has every step, a platform minute apart.
    const record = (eventOf(await getTarget(cd, id, fn), 'AllowTraffic')?.diagnostics?.logTail ?? '').split('\n').map((line) => {
      const [time, percent] = line.split(' ');
      return { at: Date.parse(time!), weight: parseFloat(percent!) / 100 };
    });
    assert.deepEqual(
      record.map((r) => r.weight),
      [0.25, 0.5, 0.75, 1],
      `recorded steps: ${JSON.stringify(record)}`,
    );
    // Each step at least a platform minute after the one before: a late controller delays a step, never skips one.
    for (let i = 1; i < record.length; i++) assert.ok(record[i]!.at - record[i - 1]!.at >= 60_000, JSON.stringify(record));
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
    // Shifts at 0, 1, 2 and 3 minutes: AllowTraffic lasts three platform minutes (each late step, here a
    // tenth of a real second per platform minute, adds its lateness; a real second is bound enough).
    const shift = shiftSeconds(ended);
    assert.ok(shift >= 180 && shift < 180 + 600, `AllowTraffic took ${shift} platform seconds`);
  });

  it('the predefined LambdaCanary10Percent5Minutes: 10% for five platform minutes (half a real second), then all', async () => {
    const fn = 'quick-canary-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'quick-app', 'quick-group', { deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' });
    const id = await deploy(cd, 'quick-app', 'quick-group', appSpec(fn));
    const { weights, ended } = await sampleWeights(id, fn);
    assert.equal(ended.status, 'Succeeded');
    assert.deepEqual(
      [...new Set(weights)].filter((w) => w > 0),
      [0.1, 1],
    );
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
    const shift = shiftSeconds(ended);
    assert.ok(shift >= 300 && shift < 300 + 60, `AllowTraffic took ${shift} platform seconds`);
  });

  it('AllAtOnce switches the alias at once, with no weighted step', async () => {
    const fn = 'big-bang-fn';
    await functionWithTwoVersions(t.lambda, fn);
    await createAppAndGroup(cd, 'big-bang-app', 'big-bang-group');
    const startedAt = Date.now();
    const id = await deploy(cd, 'big-bang-app', 'big-bang-group', appSpec(fn), 'CodeDeployDefault.LambdaAllAtOnce');
    const { weights, ended } = await sampleWeights(id, fn);
    assert.ok(Date.now() - startedAt < 2000);
    assert.equal(ended.status, 'Succeeded');
    assert.deepEqual(
      [...new Set(weights)].filter((w) => w > 0),
      [1],
    );
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });
    assert.ok(shiftSeconds(ended) < 60, `AllowTraffic took ${shiftSeconds(ended)} platform seconds`);
    const d = await getDeployment(cd, id);
    assert.equal(d.deploymentConfigName, 'CodeDeployDefault.LambdaAllAtOnce');
    const out = await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
    assert.equal(out.ExecutedVersion, '2');
  });
});
