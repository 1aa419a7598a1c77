/** The runnable examples keep working: each is run as a newcomer would, against a real server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('examples/versions-and-aliases/walk.sh', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('walk.sh: plays the tutorial with the AWS CLI and ends with prod on version 2', async () => {
    const { stdout } = await run('bash', [path.join(ROOT, 'examples/versions-and-aliases/walk.sh')], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: t.url },
      timeout: 120_000,
    });
    assert.match(stdout, /dev {6}→ "this is version two\." \(version \$LATEST\)/);
    assert.match(stdout, /test {5}→ "this is version two\." \(version 2\)/);
    assert.match(stdout, /prod {5}→ "this is version one\." \(version 1\)/);
    assert.match(stdout, /An error occurred \(ValidationException\) when calling the UpdateAlias operation/);
    const counts = /^ {2}version 1 +(\d+) +\(.*\n {2}version 2 +(\d+) +\(/m.exec(stdout);
    assert.ok(counts, 'versa invoke --count printed the split');
    assert.ok(Number(counts[1]) > 20 && Number(counts[2]) > 20, `a 50/50 split of 100 invocations: ${counts[0]}`);
    assert.match(stdout.trimEnd().split('\n').slice(-3).join('\n'), /prod {5}→ "this is version two\." \(version 2\)/);
  });
});

describe('examples/api-canary/walk.sh', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('walk.sh: plays tutorial 001 with the AWS CLI and curl, ending with every request on MathFloor', async () => {
    const { stdout } = await run('bash', [path.join(ROOT, 'examples/api-canary/walk.sh')], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: t.url },
      timeout: 120_000,
    });
    const counts = [...stdout.matchAll(/(\d+) requests: MathCeil (\d+), MathFloor (\d+)/g)].map((m) => [Number(m[2]), Number(m[3])]);
    assert.equal(counts.length, 6, stdout);
    assert.deepEqual(counts[0], [20, 0], 'the first deployment serves MathCeil');
    assert.deepEqual(counts[1], [20, 0], 'changing the integration changes nothing until a deployment');
    // 10% of 100: P(floor count outside 1..25) is below 1e-4.
    assert.ok(counts[2]![1]! >= 1 && counts[2]![1]! <= 25, `10% canary gave ${counts[2]![1]}`);
    // 50% of 100: P(outside 25..75) is below 1e-6.
    assert.ok(counts[3]![1]! >= 25 && counts[3]![1]! <= 75, `50% canary gave ${counts[3]![1]}`);
    assert.deepEqual(counts[4], [0, 20], 'after promotion every request gets MathFloor');
    assert.deepEqual(counts[5], [0, 10], 'after removing the canary too');
    assert.match(stdout, /200\s+"this is the original function \(Math\.ceil\) = 1000"/);
    assert.match(stdout, /An error occurred \(BadRequestException\) when calling the UpdateStage operation/);
  });
});

describe('examples/canary-deployment/walk.sh', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ timeScale: 60 });
  });
  after(() => t.close());

  it('walk.sh: a pre-traffic hook, an alarm and a Canary10Percent5Minutes deployment that versa deployments watch follows to Succeeded', async () => {
    const { stdout } = await run('bash', [path.join(ROOT, 'examples/canary-deployment/walk.sh')], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: t.url },
      timeout: 120_000,
    });
    const id = /^Deployment (d-[A-Z0-9]{9}): greeter:live from version 1 to version 2$/m.exec(stdout)?.[1];
    assert.ok(id, stdout);
    const watch = stdout.slice(stdout.indexOf(`Deployment ${id}:`), stdout.indexOf('live while the canary ran:'));
    assert.match(watch, /watching alarms: greeter-live-new-version-errors/);
    assert.match(watch, /^BeforeAllowTraffic +Succeeded/m, 'the ESM hook reported Succeeded through the SDK');
    // Five platform minutes, give or take the controller's real-time wake latency times the time scale.
    assert.match(watch, /^AllowTraffic +Succeeded .*\(5m \d{1,2}s\)$/m);
    assert.match(watch, /^\[██░{18}\] 10% on version 2 {2}at \d\d:\d\d:\d\d$/m);
    assert.match(watch, /^\[█{20}\] 100% on version 2 {2}at \d\d:\d\d:\d\d$/m);
    assert.equal(watch.trimEnd().split('\n').at(-1), 'Succeeded: greeter:live is wholly on version 2.');
    assert.match(stdout, /10 invocations of greeter:live:\n {2}version 2 +10 /);
    assert.match(
      stdout,
      new RegExp(`^${id} +greeter-app/greeter-live +greeter:live 1→2 +Succeeded +CodeDeployDefault\\.LambdaCanary10Percent5Minutes`, 'm'),
    );
  });
});
