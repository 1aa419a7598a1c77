/**
 * `versa deployments` (list, watch, stop) as a user runs it: a real process against a real server whose
 * clock runs 120 times faster, so a five-minute canary takes 2.5 seconds.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
} from '@aws-sdk/client-codedeploy';
import {
  GetAliasCommand,
  CreateAliasCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { createFunction, startTestServer, zipOf, type TestServer } from './harness.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');
const exec = promisify(execFile);
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const SERVICE_ROLE = 'arn:aws:iam::000000000000:role/codedeploy-role';
const ALARM = 'shop-live-v2-errors';

/** Runs `versa args...` to completion; never throws, returns the exit code and output. */
async function versa(args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts `versa args...` and lets the test read its output while it runs. */
function spawnVersa(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  void exited.then(() => clearTimeout(killer));
  return {
    exited,
    /** Resolves once the output so far matches `pattern`. */
    async waitFor(pattern: RegExp): Promise<void> {
      while (!pattern.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`versa exited before printing ${pattern}:\n${stdout}\n${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

/** An AppSpec moving shop:live from one version to another, with an optional pre-traffic hook. */
function appSpec(current: string, target: string, hook?: string) {
  const content = JSON.stringify({
    version: 0.0,
    Resources: [
      {
        shop: {
          Type: 'AWS::Lambda::Function',
          Properties: { Name: 'shop', Alias: 'live', CurrentVersion: current, TargetVersion: target },
        },
      },
    ],
    ...(hook && { Hooks: [{ BeforeAllowTraffic: hook }] }),
  });
  return { revisionType: 'AppSpecContent' as const, appSpecContent: { content } };
}

/**
 * The pre-traffic hook: it waits at a gate the test opens, then reports Succeeded. The gate lets the
 * test start `watch` before any traffic moves, so the 10% window is never missed on a slow machine.
 */
const HOOK = `
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
const client = new CodeDeployClient({});
export const handler = async (event) => {
  await fetch(process.env.GATE_URL);
  await client.send(new PutLifecycleEventHookExecutionStatusCommand({
    deploymentId: event.DeploymentId,
    lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
    status: 'Succeeded',
  }));
  return 'reported';
};
`;

describe('versa deployments', { timeout: 120_000 }, () => {
  let t: TestServer;
  let codeDeploy: CodeDeployClient;
  let cloudWatch: CloudWatchClient;
  let gate: http.Server;
  let openGate: () => void = () => {};
  let gateOpen: Promise<void> = Promise.resolve();
  const args = (...a: string[]) => [...a, '--endpoint-url', t.url];

  before(async () => {
    t = await startTestServer({ timeScale: 120 });
    codeDeploy = new CodeDeployClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    cloudWatch = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    gate = http.createServer((_req, res) => void gateOpen.then(() => res.end('go')));
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));

    await createFunction(t.lambda, 'shop', { 'index.mjs': 'export const handler = async () => "version one";' });
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'shop' }));
    await t.lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'shop',
        ZipFile: zipOf({ 'index.mjs': 'export const handler = async () => "version two";' }),
      }),
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'shop' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'shop', Name: 'live', FunctionVersion: '1' }));
    await createFunction(
      t.lambda,
      'shop-pre-traffic',
      { 'index.mjs': HOOK },
      { Timeout: 60, Environment: { Variables: { GATE_URL: `http://127.0.0.1:${(gate.address() as AddressInfo).port}/` } } },
    );
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: ALARM,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [
          { Name: 'FunctionName', Value: 'shop' },
          { Name: 'Resource', Value: 'shop:live' },
          { Name: 'ExecutedVersion', Value: '2' },
        ],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    await codeDeploy.send(new CreateApplicationCommand({ applicationName: 'shop', computePlatform: 'Lambda' }));
    const group = (name: string, config: string) =>
      codeDeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'shop',
          deploymentGroupName: name,
          serviceRoleArn: SERVICE_ROLE,
          deploymentConfigName: config,
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          alarmConfiguration: { enabled: true, alarms: [{ name: ALARM }] },
          autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
        }),
      );
    await group('canary', 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
    await group('slow', 'CodeDeployDefault.LambdaCanary10Percent30Minutes');
    await group('linear', 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
  });

  after(async () => {
    openGate();
    codeDeploy?.destroy();
    cloudWatch?.destroy();
    gate?.closeAllConnections();
    await new Promise((resolve) => gate?.close(resolve));
    await t?.close();
  });

  /** Waits until `check` holds, asking every 50 ms, for at most 10 s. */
  async function until(what: string, check: () => Promise<boolean>) {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Puts shop:live wholly on `version` and waits until the alarm is out of ALARM, so a deployment can start clean. */
  async function reset(version: string) {
    await t.lambda.send(new UpdateAliasCommand({ FunctionName: 'shop', Name: 'live', FunctionVersion: version, RoutingConfig: {} }));
    await until('the alarm is out of ALARM', async () => {
      const alarm = (await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }))).MetricAlarms?.[0];
      return alarm?.StateValue !== 'ALARM';
    });
  }

  async function untilCanary(deploymentId: string) {
    await until(`${deploymentId} is at 10%`, async () => {
      const out = await codeDeploy.send(new GetDeploymentTargetCommand({ deploymentId, targetId: 'shop:live' }));
      return out.deploymentTarget?.lambdaTarget?.lambdaFunctionInfo?.targetVersionWeight === 0.1;
    });
  }

  let canaryId = '';

  it('watch: follows a canary from 10% to 100% with each lifecycle event and the alarm, and exits 0 on Succeeded', async () => {
    await reset('1');
    gateOpen = new Promise((resolve) => (openGate = resolve));
    const { deploymentId } = await codeDeploy.send(
      new CreateDeploymentCommand({
        applicationName: 'shop',
        deploymentGroupName: 'canary',
        revision: appSpec('1', '2', 'shop-pre-traffic'),
      }),
    );
    canaryId = deploymentId!;
    const watch = spawnVersa(args('deployments', 'watch', canaryId));
    await watch.waitFor(/BeforeAllowTraffic +InProgress/);
    openGate();
    const { code, stdout, stderr } = await watch.exited;
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.equal(stderr, '');
    assert.match(stdout, new RegExp(`^Deployment ${canaryId}: shop:live from version 1 to version 2\\n`));
    assert.match(stdout, /CodeDeployDefault\.LambdaCanary10Percent5Minutes/);
    assert.match(stdout, new RegExp(`watching alarms: ${ALARM}`));
    assert.match(stdout, new RegExp(`alarm ${ALARM}: (OK|INSUFFICIENT_DATA)`));
    const lines = stdout.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const order = [
      at(/^Start +Succeeded/),
      at(/^BeforeAllowTraffic +InProgress +since \d\d:\d\d:\d\d$/),
      at(/^End +Pending$/),
      at(/^\[░{20}\] 0% on version 2$/),
      at(/^BeforeAllowTraffic +Succeeded/),
      at(/^AllowTraffic +InProgress/),
      at(/^\[██░{18}\] 10% on version 2 {2}at \d\d:\d\d:\d\d$/),
      at(/^\[█{20}\] 100% on version 2 {2}at \d\d:\d\d:\d\d$/),
      // Five minutes of canary. At time scale 120 every real millisecond the controller wakes late is 0.12 platform
      // seconds, so a loaded machine records 5m 0s to 5m 10s or so: the assertion is the five minutes.
      at(/^AllowTraffic +Succeeded +\d\d:\d\d:\d\d → \d\d:\d\d:\d\d \(5m \d{1,2}s\)$/),
      at(/^AfterAllowTraffic +Skipped$/),
      at(/^End +Succeeded/),
      at(/^Succeeded: shop:live is wholly on version 2\.$/),
    ];
    assert.ok(
      order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)),
      `the watch printed each step once, in order (${order.join(', ')}):\n${stdout}`,
    );
    assert.equal(lines.filter((l) => l.includes('% on version')).length, 3, 'the bar is drawn only when the weight changes');
    assert.equal(lines.filter((l) => /^AllowTraffic +InProgress/.test(l)).length, 1, 'an unchanged event is not printed again');
    assert.equal(lines.at(-2), 'Succeeded: shop:live is wholly on version 2.');
    assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'shop', Name: 'live' }))).FunctionVersion, '2');
  });

  it('versa deployments: lists deployments newest first with target, status, config and time, filtered by application and group', async () => {
    assert.ok(canaryId, 'the canary test ran first');
    const all = await versa(args('deployments'));
    assert.equal(all.code, 0, all.stderr);
    const [header, row] = all.stdout.split('\n');
    assert.match(header!, /^ID +APPLICATION\/GROUP +TARGET +STATUS +CONFIG +CREATED +WHY IT ENDED$/);
    assert.match(
      row!,
      new RegExp(
        `^${canaryId} +shop/canary +shop:live 1→2 +Succeeded +CodeDeployDefault\\.LambdaCanary10Percent5Minutes +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`,
      ),
    );
    const group = await versa(args('deployments', '--application', 'shop', '--group', 'canary'));
    assert.equal(group.code, 0, group.stderr);
    assert.ok(group.stdout.includes(canaryId));
    const none = await versa(args('deployments', '--application', 'shop', '--group', 'slow'));
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, 'No deployments in group slow of shop yet.\n');
  });

  it('stop --rollback: stops a long canary and puts the alias back; watch on it exits 1 with the reason; the list links both sides', async () => {
    await reset('1');
    const { deploymentId } = await codeDeploy.send(
      new CreateDeploymentCommand({ applicationName: 'shop', deploymentGroupName: 'slow', revision: appSpec('1', '2') }),
    );
    const id = deploymentId!;
    await untilCanary(id);

    const stop = await versa(args('deployments', 'stop', id, '--rollback'));
    assert.equal(stop.code, 0, stop.stderr);
    const m = new RegExp(`^Deployment ${id} was stopped and rolled back by (d-[A-Z0-9]{9}): shop:live is wholly on version 1\\.\\n$`).exec(
      stop.stdout,
    );
    assert.ok(m, stop.stdout);
    const rollbackId = m[1]!;
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: 'shop', Name: 'live' }));
    assert.equal(alias.FunctionVersion, '1');
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights ?? {}, {});

    const watch = await versa(args('deployments', 'watch', id));
    assert.equal(watch.code, 1, watch.stderr);
    // Watched after the fact, the deployment shows every step it took from its record: 10% on version 2,
    // then the rollback's 0%; and AllowTraffic, which ran, ended Failed by the stop, not Skipped.
    const lines = watch.stdout.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const order = [
      at(/^\[██░{18}\] 10% on version 2 {2}at \d\d:\d\d:\d\d$/),
      at(/^\[░{20}\] 0% on version 2 {2}at \d\d:\d\d:\d\d$/),
      at(/^AllowTraffic +Failed +\d\d:\d\d:\d\d → \d\d:\d\d:\d\d \([^)]+\) {2}The deployment was stopped on request\.$/),
    ];
    assert.ok(
      order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)),
      `10%, 0%, AllowTraffic Failed in order (${order.join(', ')}):\n${watch.stdout}`,
    );
    assert.doesNotMatch(watch.stdout, /^AllowTraffic +Skipped/m);
    // CodeDeploy's own record says the same.
    const events = (await codeDeploy.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: 'shop:live' }))).deploymentTarget
      ?.lambdaTarget?.lifecycleEvents;
    const allow = events?.find((e) => e.lifecycleEventName === 'AllowTraffic');
    assert.equal(allow?.status, 'Failed');
    assert.ok(allow?.startTime && allow.endTime && allow.endTime > allow.startTime, 'AllowTraffic ran for a while');
    assert.deepEqual(
      allow?.diagnostics?.logTail?.split('\n').map((l) => l.replace(/^\S+ /, '')),
      ['10% on version 2', '0% on version 2'],
    );
    assert.equal(
      watch.stdout.trimEnd().split('\n').at(-1),
      `Stopped: The deployment was stopped on request (MANUAL_STOP); rolled back by ${rollbackId}, so shop:live is wholly on version 1.`,
    );

    const rollback = await versa(args('deployments', 'watch', rollbackId));
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stdout, new RegExp(`a rollback of ${id}`));
    assert.match(rollback.stdout, new RegExp(`Succeeded: rolled back ${id}; shop:live is wholly on version 1\\.\\n$`));

    const list = await versa(args('deployments', '--application', 'shop', '--group', 'slow'));
    assert.equal(list.code, 0, list.stderr);
    const [, first, second] = list.stdout.split('\n');
    assert.match(first!, new RegExp(`^${rollbackId} +shop/slow +shop:live 2→1 +Succeeded .* rollback of ${id}$`));
    assert.match(
      second!,
      new RegExp(`^${id} +shop/slow +shop:live 1→2 +Stopped .* The deployment was stopped on request; rolled back by ${rollbackId}$`),
    );

    const again = await versa(args('deployments', 'stop', id));
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `versa deployments stop: The deployment ${id} has already completed. (DeploymentAlreadyCompletedException)\n`,
    );
  });

  it('watch: an alarm that fires during the canary stops and rolls back the deployment, and watch exits 1 naming the alarm', async () => {
    await reset('1');
    const { deploymentId } = await codeDeploy.send(
      new CreateDeploymentCommand({ applicationName: 'shop', deploymentGroupName: 'slow', revision: appSpec('1', '2') }),
    );
    const id = deploymentId!;
    const watch = spawnVersa(args('deployments', 'watch', id));
    await watch.waitFor(/10% on version 2/);
    await cloudWatch.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'ALARM', StateReason: 'test: errors on version 2' }));
    const { code, stdout } = await watch.exited;
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^\[░{20}\] 0% on version 2 {2}at \d\d:\d\d:\d\d$/m);
    assert.match(stdout, /^AllowTraffic +Failed .*Activated alarms/m);
    const last = stdout.trimEnd().split('\n').at(-1)!;
    assert.match(
      last,
      new RegExp(
        `^Stopped: .*Activated alarms: <${ALARM}> \\(ALARM_ACTIVE\\); rolled back by d-[A-Z0-9]{9}, so shop:live is wholly on version 1\\.$`,
      ),
    );
    const d = (await codeDeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
    assert.equal(d.status, 'Stopped');
    assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'shop', Name: 'live' }))).FunctionVersion, '1');
  });

  it('watch: a linear deployment at time scale 120 shows every 10% step once, in order, though each is as short as a poll', async () => {
    await reset('1');
    const { deploymentId } = await codeDeploy.send(
      new CreateDeploymentCommand({ applicationName: 'shop', deploymentGroupName: 'linear', revision: appSpec('1', '2') }),
    );
    const id = deploymentId!;
    const live = await spawnVersa(args('deployments', 'watch', id)).exited;
    assert.equal(live.code, 0, `${live.stdout}\n${live.stderr}`);
    const percents = (stdout: string) =>
      stdout
        .split('\n')
        .map((l) => /^\[[█░]{20}\] (\d+)% on version 2 {2}at \d\d:\d\d:\d\d$/.exec(l)?.[1])
        .filter((p) => p !== undefined)
        .map(Number);
    const everyStep = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    assert.deepEqual(percents(live.stdout), everyStep, live.stdout);
    // Watched after it ended, the record still shows every step (sampling would see only 100%).
    const later = await versa(args('deployments', 'watch', id));
    assert.equal(later.code, 0, later.stderr);
    assert.deepEqual(percents(later.stdout), everyStep, later.stdout);

    const target = (await codeDeploy.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: 'shop:live' }))).deploymentTarget
      ?.lambdaTarget;
    const allow = target?.lifecycleEvents?.find((e) => e.lifecycleEventName === 'AllowTraffic');
    assert.equal(allow?.status, 'Succeeded');
    const shifts = (allow?.diagnostics?.logTail ?? '').split('\n').map((l) => {
      const [time, percent] = l.split(' ');
      return { at: Date.parse(time!), percent: parseFloat(percent!) };
    });
    assert.deepEqual(
      shifts.map((s) => s.percent),
      everyStep,
    );
    // A minute of platform time apart, give or take the controller's real-time wake latency at 120 times.
    for (let i = 1; i < shifts.length; i++) assert.ok(shifts[i]!.at - shifts[i - 1]!.at > 50_000, JSON.stringify(shifts));
    assert.ok(shifts.at(-1)!.at - shifts[0]!.at >= 9 * 60_000, JSON.stringify(shifts));
    const d = (await codeDeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
    assert.equal(d.status, 'Succeeded');
  });

  it('stop without --rollback: a group without DEPLOYMENT_STOP_ON_REQUEST leaves the alias where the shift stopped', async () => {
    await reset('1');
    const { deploymentId } = await codeDeploy.send(
      new CreateDeploymentCommand({ applicationName: 'shop', deploymentGroupName: 'slow', revision: appSpec('1', '2') }),
    );
    const id = deploymentId!;
    await untilCanary(id);
    const stop = await versa(args('deployments', 'stop', id));
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, `Deployment ${id} was stopped without a rollback: shop:live stays 10% on version 2 and 90% on version 1.\n`);
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: 'shop', Name: 'live' }));
    assert.equal(alias.FunctionVersion, '1');
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { '2': 0.1 });
    const watch = await versa(args('deployments', 'watch', id));
    assert.equal(watch.code, 1);
    assert.equal(
      watch.stdout.trimEnd().split('\n').at(-1),
      'Stopped: The deployment was stopped on request (MANUAL_STOP); not rolled back, so shop:live stays 10% on version 2 and 90% on version 1.',
    );
  });

  it('bad input: an unknown or malformed deployment id is one plain sentence and a non-zero exit status', async () => {
    const [unknown, unknownStop, malformed, missing] = await Promise.all([
      versa(args('deployments', 'watch', 'd-AAAAAAAAA')),
      versa(args('deployments', 'stop', 'd-AAAAAAAAA', '--rollback')),
      versa(args('deployments', 'watch', 'deploy-1')),
      versa(args('deployments', 'stop')),
    ]);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'versa deployments watch: The deployment d-AAAAAAAAA could not be found. (DeploymentDoesNotExistException)\n',
    );
    assert.equal(unknown.stdout, '');
    assert.equal(unknownStop.code, 1);
    assert.equal(
      unknownStop.stderr,
      'versa deployments stop: The deployment d-AAAAAAAAA could not be found. (DeploymentDoesNotExistException)\n',
    );
    assert.equal(malformed.code, 2);
    assert.equal(
      malformed.stderr,
      'versa deployments watch: deploy-1 is not a deployment id; they look like d-ABCDEF123 (see `versa deployments`).\n',
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^versa deployments stop: name one deployment id, e\.g\. `versa deployments stop d-ABCDEF123`\.\n$/);
  });

  it('bad input: bad filters and options are one plain sentence; an unknown application is the server’s', async () => {
    const [groupOnly, noApp, badFlag, badAction] = await Promise.all([
      versa(args('deployments', '--group', 'canary')),
      versa(args('deployments', '--application', 'nope')),
      versa(args('deployments', 'stop', 'd-AAAAAAAAA', '--force')),
      versa(args('deployments', 'list')),
    ]);
    assert.equal(groupOnly.code, 2);
    assert.equal(groupOnly.stderr, 'versa deployments: --group needs --application, since group names are per application.\n');
    assert.equal(noApp.code, 1);
    assert.equal(noApp.stderr, 'versa deployments: No application found for name: nope (ApplicationDoesNotExistException)\n');
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /^versa deployments: Unknown option '--force'/);
    assert.equal(badAction.code, 2);
    assert.match(badAction.stderr, /^versa deployments: unknown action 'list'; use watch or stop, or no action to list\.\n/);
  });

  it('bad input: no server is one plain sentence saying how to start one', async () => {
    const runs = await Promise.all(
      [['deployments'], ['deployments', 'watch', 'd-AAAAAAAAA'], ['deployments', 'stop', 'd-AAAAAAAAA']].map((a) =>
        versa([...a, '--endpoint-url', 'http://127.0.0.1:9']),
      ),
    );
    for (const r of runs) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^versa deployments( watch| stop)?: Could not reach Versa at http:\/\/127\.0\.0\.1:9\. Start it with `versa start` or pass --endpoint-url\.\n$/,
      );
    }
  });
});
