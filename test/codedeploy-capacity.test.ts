/**
 * Warm capacity follows traffic during a deployment, like a rolling replacement of instances: the two
 * versions' environments stay one fleet, the new version's part of it grows with its share and the old
 * one's surplus idle environments retire; a rollback gives the old version its fleet back. The platform
 * clock is a FakeClock, so every traffic step happens exactly when the test advances it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateDeploymentConfigCommand, StopDeploymentCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CreateAliasCommand, InvokeCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { FakeClock } from '../src/core/clock.js';
import type { DeploymentState } from '../src/domain/deployment.js';
import { aliasOf, appSpec, codeDeployClientFor, createAppAndGroup, deploy, eventually } from './codedeploy-helpers.js';
import { createFunction, startTestServer, zipOf, type TestServer } from './harness.js';

const MINUTE = 60_000;

describe('CodeDeploy: warm capacity follows the traffic (FakeClock)', () => {
  let t: TestServer;
  let cd: CodeDeployClient;
  const clock = new FakeClock();
  /** What every step of every deployment left behind: its weight, and the live environments of each version. */
  const seen: { id: string; status: string; weight: number; v1: number; v2: number }[] = [];

  before(async () => {
    t = await startTestServer({ clock, maxEnvironments: 20 });
    cd = codeDeployClientFor(t.url);
    await cd.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'Linear25PercentEvery1Minute',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 25, linearInterval: 1 } },
      }),
    );
    // Listeners run after a step's actions (alias, environments) are done: the counts are the step's result.
    t.server.services.deployments.onChange((d: DeploymentState) => {
      seen.push({
        id: d.deploymentId,
        status: d.status,
        weight: d.targetWeight,
        v1: count(d.functionName, '1'),
        v2: count(d.functionName, '2'),
      });
    });
  });
  after(async () => {
    cd.destroy();
    await t.close();
  });

  const count = (fn: string, version: string) =>
    t.server.services.environments.environments().filter((e) => e.target.functionName === fn && e.target.version === version).length;
  const afterStep = (id: string, what: string, match: (s: (typeof seen)[number]) => boolean) =>
    eventually(`deployment ${id}: ${what}`, 20_000, () => seen.find((s) => s.id === id && match(s)));
  const fleet = (s: { v1: number; v2: number }) => ({ v1: s.v1, v2: s.v2 });

  /** `fn` with version 1 (slow, so concurrent calls each need an environment) and version 2, and `fn:live` on 1 with `n` warm environments. */
  async function warmFunction(fn: string, n: number): Promise<void> {
    await createFunction(t.lambda, fn, {
      'index.js': 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 1000)); return "v1"; };',
    });
    await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    await t.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: zipOf({ 'index.js': 'exports.handler = async () => "v2";' }) }),
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
    const outs = await Promise.all(
      Array.from({ length: n }, () => t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }))),
    );
    assert.ok(outs.every((o) => o.ExecutedVersion === '1' && !o.FunctionError));
    assert.equal(count(fn, '1'), n, `${n} concurrent calls left ${n} warm environments of version 1`);
    assert.equal(count(fn, '2'), 0);
  }

  it('a linear 25% deployment: version 2 grows 2 → 4 → 6 → 7 of the 7 environments while version 1 shrinks 5 → 3 → 1 → 0', async () => {
    const fn = 'fleet-fn';
    await warmFunction(fn, 6);
    await createAppAndGroup(cd, 'fleet-app', 'fleet-group', { deploymentConfigName: 'Linear25PercentEvery1Minute' });
    const id = await deploy(cd, 'fleet-app', 'fleet-group', appSpec(fn));

    // Start pre-warms one environment of version 2: a fleet of 7, split ceil(share × 7) for version 2.
    assert.deepEqual(fleet(await afterStep(id, '25%', (s) => s.weight === 0.25)), { v1: 5, v2: 2 });
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: { '2': 0.25 } });
    clock.advance(MINUTE);
    assert.deepEqual(fleet(await afterStep(id, '50%', (s) => s.weight === 0.5)), { v1: 3, v2: 4 });
    clock.advance(MINUTE);
    assert.deepEqual(fleet(await afterStep(id, '75%', (s) => s.weight === 0.75)), { v1: 1, v2: 6 });
    clock.advance(MINUTE);
    // All traffic moves, then End releases version 1's last environment.
    assert.deepEqual(fleet(await afterStep(id, 'Succeeded', (s) => s.status === 'Succeeded')), { v1: 0, v2: 7 });
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '2', weights: undefined });

    // The health endpoint sees the same fleet: seven idle environments, all of version 2.
    const health = (await (await fetch(`${t.url}/_versa/health`)).json()) as { environments: { total: number; idle: number } };
    assert.deepEqual(health.environments, { total: 7, busy: 0, idle: 7 });
  });

  it('a rollback gives version 1 its whole fleet back and stops version 2’s environments', async () => {
    const fn = 'rollback-fleet-fn';
    await warmFunction(fn, 4);
    await createAppAndGroup(cd, 'rollback-fleet-app', 'rollback-fleet-group', { deploymentConfigName: 'Linear25PercentEvery1Minute' });
    const id = await deploy(cd, 'rollback-fleet-app', 'rollback-fleet-group', appSpec(fn));
    assert.deepEqual(fleet(await afterStep(id, '25%', (s) => s.weight === 0.25)), { v1: 3, v2: 2 });
    clock.advance(MINUTE);
    assert.deepEqual(fleet(await afterStep(id, '50%', (s) => s.weight === 0.5)), { v1: 2, v2: 3 });

    // StopDeployment applies the stop and its rollback before it answers.
    await cd.send(new StopDeploymentCommand({ deploymentId: id, autoRollbackEnabled: true }));
    assert.deepEqual(fleet(await afterStep(id, 'Stopped', (s) => s.status === 'Stopped')), { v1: 5, v2: 0 });
    assert.deepEqual({ v1: count(fn, '1'), v2: count(fn, '2') }, { v1: 5, v2: 0 });
    assert.deepEqual(await aliasOf(t.lambda, fn), { version: '1', weights: undefined });
  });
});
