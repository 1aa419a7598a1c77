/**
 * Fencing: a node that still believes it leads after its lease passed to another node can write nothing
 * through its controllers (deployments, alarm evaluation, asynchronous dispatch). A server on SQLite has its lease taken by another node id (as a takeover after
 * a pause would), then is asked to stop its canary before its next heartbeat notices: the step is
 * refused, the alias keeps its weights, and the node steps down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeAlarmsCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  aliasOf,
  appSpec,
  cloudWatchClientFor,
  codeDeployClientFor,
  createAppAndGroup,
  deploy,
  eventually,
  functionWithTwoVersions,
  getDeployment,
} from './codedeploy-helpers.js';
import { lambdaClientFor, startTestServer, type TestServer } from './harness.js';

describe('a deposed leader', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ timeScale: 60 });
  });
  after(() => t.close());

  it('cannot move an alias, end a deployment, change an alarm or claim an event once another node holds the lease', async () => {
    const lambda = lambdaClientFor(t.url);
    const cd = codeDeployClientFor(t.url);
    await functionWithTwoVersions(lambda, 'fenced');
    await createAppAndGroup(cd, 'fenced-app', 'fenced-group', { deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes' });
    const id = await deploy(cd, 'fenced-app', 'fenced-group', appSpec('fenced'));
    await eventually('the canary weight', 5000, async () => ((await aliasOf(lambda, 'fenced')).weights ? true : undefined));
    // An alarm the evaluator will put in ALARM once a datapoint comes (after the takeover below: with it
    // before, an evaluation while this node still leads may rightly move the alarm first).
    const cw = cloudWatchClientFor(t.url);
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'fenced-alarm',
        Namespace: 'Fence',
        MetricName: 'm',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    const store = t.server.services.store;
    const self = t.server.node;
    const epoch = (await store.cluster.lease('leader'))!.epoch;

    // Another node takes the lease over, in one write, between two of this node's heartbeats.
    await store.transaction(async (tx) => {
      await tx.cluster.releaseLease('leader', self);
      assert.equal((await tx.cluster.acquireLease('leader', 'node-intruder', 60_000))?.epoch, epoch + 1);
    });
    await cw.send(new PutMetricDataCommand({ Namespace: 'Fence', MetricData: [{ MetricName: 'm', Value: 5 }] }));
    // This node has not noticed yet: asked to stop the deployment, its controller steps at once, and is refused.
    await cd.send(new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }));
    assert.deepEqual(await aliasOf(lambda, 'fenced'), { version: '1', weights: { '2': 0.1 } }, 'the alias kept its weights');
    assert.equal((await getDeployment(cd, id)).status, 'InProgress', 'the deployment did not end');
    // Its alarm evaluator runs, and changes nothing.
    await t.server.services.alarms.evaluateAll();
    const alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['fenced-alarm'] }))).MetricAlarms![0]!;
    assert.equal(alarm.StateValue, 'INSUFFICIENT_DATA');
    // An Event invocation is stored, and this node's dispatcher cannot claim it.
    const accepted = await lambda.send(new InvokeCommand({ FunctionName: 'fenced', InvocationType: 'Event' }));
    assert.equal(accepted.StatusCode, 202);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await store.asyncEvents.depth('fenced'), { pending: 1, running: 0, bytes: 2 });

    // Its next heartbeat finds the lease taken: it steps down and names the new leader.
    const health = await eventually('the node to step down', 3000, async () => {
      const h = (await (await fetch(`${t.url}/_versa/health`)).json()) as { cluster: { leading: boolean; leader: string } };
      return h.cluster.leading ? undefined : h.cluster;
    });
    assert.equal(health.leader, 'node-intruder');
    // The stop request was kept in the deployment's inbox for whichever node leads next.
    assert.equal((await store.codeDeploy.getDeployment(id))?.inbox?.[0]?.kind, 'stop');
    lambda.destroy();
    cd.destroy();
    cw.destroy();
  });
});
