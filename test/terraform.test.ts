/**
 * Terraform's AWS provider, unchanged, against a real Versa server: the tutorials' resources
 * (test/fixtures/terraform/main.tf) are applied, planned again without changes, given new code and a
 * stage canary, promoted, deployed by CodeDeploy and destroyed, and each step is checked through the AWS
 * SDK and real stage traffic. Needs `terraform` on the PATH and the hashicorp/aws provider in a
 * filesystem mirror (TF_PLUGIN_MIRROR, default /opt/tf-plugins); without them the test fails, it does
 * not skip.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APIGatewayClient, GetRestApisCommand, GetStageCommand } from '@aws-sdk/client-api-gateway';
import { DescribeAlarmsCommand, ListTagsForResourceCommand as ListAlarmTagsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand as ListLogTagsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateDeploymentCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  ListApplicationsCommand,
  ListDeploymentConfigsCommand,
  ListTagsForResourceCommand as ListDeployTagsCommand,
} from '@aws-sdk/client-codedeploy';
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  ListFunctionsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { cloudWatchClientFor, codeDeployClientFor, credentials, eventually } from './codedeploy-helpers.js';
import { createFunction, payloadOf, startTestServer, zipOf, type TestServer } from './harness.js';
import { awsToolEnv } from './tools.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../test/fixtures/terraform/main.tf');
const MIRROR = process.env.TF_PLUGIN_MIRROR ?? '/opt/tf-plugins';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
/** Each terraform command's bound: an apply waits 5 s for the provider's own Lambda update waiter. */
const COMMAND_TIMEOUT_MS = 180_000;

interface Run {
  code: number;
  output: string;
}

/** Runs terraform in `dir` and returns its exit code and combined output; it never throws for a non-zero exit. */
function terraform(dir: string, env: NodeJS.ProcessEnv, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile('terraform', args, { cwd: dir, env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`terraform ${args[0]} could not run (${err.message}); is terraform on the PATH?`));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Fails with a clear message when the machine cannot run this test: a missing tool is a failure, not a skip. */
async function requireTerraform(): Promise<void> {
  const version = await new Promise<string>((resolve, reject) => {
    execFile('terraform', ['version'], { timeout: 30_000 }, (err, stdout) => {
      if (err) {
        reject(
          new Error(
            'terraform is not on the PATH (or does not run): this test drives Terraform 1.11+ with the hashicorp/aws provider; ' +
              `install it and put the provider in a filesystem mirror at ${MIRROR} (or set TF_PLUGIN_MIRROR). ${err.message}`,
          ),
        );
        return;
      }
      resolve(stdout);
    });
  });
  assert.match(version, /Terraform v1\./, `unexpected terraform version output: ${version}`);
  const provider = path.join(MIRROR, 'registry.terraform.io/hashicorp/aws');
  if (!(await stat(provider).catch(() => undefined))?.isDirectory()) {
    throw new Error(`the hashicorp/aws provider is not in the filesystem mirror ${MIRROR} (expected ${provider}); set TF_PLUGIN_MIRROR`);
  }
}

/**
 * Starts the provider once in Terraform's debug mode and returns the TF_REATTACH_PROVIDERS value that makes
 * every terraform command use it. The provider is the same binary `init` installed; started normally, it
 * takes seconds of CPU to load and each command starts it three times, which would make this test slow.
 */
async function startProvider(workDir: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; reattach: string }> {
  const dir = path.join(workDir, '.terraform/providers/registry.terraform.io/hashicorp/aws');
  const [version] = await readdir(dir);
  const platformDir = path.join(dir, version!, `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`);
  const binary = (await readdir(platformDir)).find((f) => f.startsWith('terraform-provider-aws'));
  assert.ok(binary, `terraform init installed no provider binary in ${platformDir}`);
  // Its working directory is the configuration's, as when terraform starts it: the configuration's relative paths resolve there.
  const child = spawn(path.join(platformDir, binary), ['-debug'], { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const reattach = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the provider did not start in debug mode within 120 s: ${seen}`)), 120_000);
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const m = /TF_REATTACH_PROVIDERS='([^']+)'/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr.resume();
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the provider exited (${code}) before it was ready: ${seen}`));
    });
  });
  return { child, reattach };
}

/** `count` GETs of a stage path, tallied by answer body. */
async function traffic(url: string, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const res = await fetch(url);
    const body = await res.text();
    assert.equal(res.status, 200, `GET ${url}: ${res.status} ${body}`);
    seen.set(body, (seen.get(body) ?? 0) + 1);
  }
  return seen;
}

describe('Terraform AWS provider against Versa', () => {
  let t: TestServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let provider: ChildProcess | undefined;
  let apiId: string;
  const handler = (body: string) => zipOf({ 'index.js': `exports.handler = async () => (${body});` });
  const tf = async (...args: string[]): Promise<Run> => terraform(dir, env, [...args, '-input=false', '-no-color']);
  /** Applies with `vars` and fails the test, showing terraform's output, unless it succeeds. */
  const apply = async (...vars: string[]) => {
    const run = await tf('apply', '-auto-approve', ...vars.flatMap((v) => ['-var', v]));
    assert.equal(run.code, 0, `terraform apply failed:\n${run.output}`);
    return run;
  };
  /** `plan -detailed-exitcode` must exit 0: every attribute read back is what the configuration says. */
  const planIsClean = async (...vars: string[]) => {
    const run = await tf('plan', '-detailed-exitcode', ...vars.flatMap((v) => ['-var', v]));
    assert.equal(run.code, 0, `terraform plan after apply wants changes (exit ${run.code}):\n${run.output}`);
  };

  before(async () => {
    await requireTerraform();
    // A fast platform clock: the CodeDeploy config shifts traffic every minute, a tenth of a second here.
    t = await startTestServer({ timeScale: 600 });
    dir = await mkdtemp(path.join(tmpdir(), 'versa-terraform-'));
    await copyFile(FIXTURE, path.join(dir, 'main.tf'));
    await writeFile(path.join(dir, 'code.zip'), handler('{ fn: "ceil", v: "v1" }'));
    await writeFile(path.join(dir, 'floor.zip'), handler('{ fn: "floor" }'));
    const cliConfig = path.join(dir, 'cli.tfrc');
    await writeFile(
      cliConfig,
      `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(MIRROR)}\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n`,
    );
    env = {
      ...awsToolEnv(dir),
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_DATA_DIR: path.join(dir, '.terraform'),
      TF_PLUGIN_CACHE_DIR: '',
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      TF_VAR_endpoint: t.url,
    };
    // The endpoint is plain http: a machine's CA bundle has nothing to add, and the provider refuses one in debug mode.
    for (const name of ['TF_LOG', 'TF_LOG_PATH', 'TF_REATTACH_PROVIDERS', 'TF_WORKSPACE', 'AWS_CA_BUNDLE']) delete env[name];
    const init = await tf('init');
    assert.equal(init.code, 0, `terraform init (from the filesystem mirror ${MIRROR}) failed:\n${init.output}`);
    const started = await startProvider(dir, env);
    provider = started.child;
    env.TF_REATTACH_PROVIDERS = started.reattach;
  });

  after(async () => {
    provider?.kill();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('apply: creates every resource of the tutorials, tags included', async () => {
    await apply();
    const api = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const made = (await api.send(new GetRestApisCommand({}))).items ?? [];
    api.destroy();
    assert.deepEqual(
      made.map((a) => [a.name, a.description, a.tags]),
      [['tf-math', 'Terraform-made API', { app: 'tutorial' }]],
    );
    apiId = made[0]!.id!;

    const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'tf-ceil' }));
    assert.deepEqual(fn.Tags, { app: 'tutorial' });
    assert.deepEqual(fn.Configuration?.Environment?.Variables, { GREETING: 'hello' });
    assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'tf-ceil', Name: 'live' }))).FunctionVersion, '1');
    assert.deepEqual((await t.lambda.send(new ListTagsCommand({ Resource: `${ARN}tf-ceil` }))).Tags, { app: 'tutorial' });
    const floor = await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'tf-floor' }));
    assert.equal(floor.ReservedConcurrentExecutions, 2);

    const logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const group = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/tf-ceil' }))).logGroups?.[0];
    assert.equal(group?.retentionInDays, 7);
    assert.deepEqual((await logs.send(new ListLogTagsCommand({ resourceArn: group.logGroupArn }))).tags, { app: 'tutorial' });
    logs.destroy();

    const cw = cloudWatchClientFor(t.url);
    const alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['tf-ceil-errors'] }))).MetricAlarms?.[0];
    assert.deepEqual((await cw.send(new ListAlarmTagsCommand({ ResourceARN: alarm?.AlarmArn }))).Tags, [{ Key: 'app', Value: 'tutorial' }]);
    cw.destroy();

    const cd = codeDeployClientFor(t.url);
    const info = (await cd.send(new GetDeploymentGroupCommand({ applicationName: 'tf-app', deploymentGroupName: 'tf-group' })))
      .deploymentGroupInfo;
    assert.equal(info?.deploymentConfigName, 'tf-linear-50-every-1');
    assert.equal(info?.outdatedInstancesStrategy, 'UPDATE');
    assert.deepEqual(info?.alarmConfiguration?.alarms, [{ name: 'tf-ceil-errors' }]);
    // The provider names groups by ARNs with an empty account field, and so may anyone.
    const tags = await cd.send(new ListDeployTagsCommand({ ResourceArn: 'arn:aws:codedeploy:us-east-1::deploymentgroup:tf-app/tf-group' }));
    assert.deepEqual(tags.Tags, [{ Key: 'app', Value: 'tutorial' }]);
    cd.destroy();

    const stage = await traffic(`${t.url}/restapis/${apiId}/prod/_user_request_/math`, 3);
    assert.deepEqual([...stage.keys()], ['{"fn":"ceil","v":"v1"}']);
    // aws_api_gateway_method_settings: read back as AWS shows them (the plan below finds no change).
    const gateway = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const settings = (await gateway.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }))).methodSettings?.['*/*'];
    assert.equal(settings?.metricsEnabled, true);
    assert.equal(settings?.throttlingRateLimit, 500);
    assert.equal(settings?.throttlingBurstLimit, 200);
    gateway.destroy();
  });

  it('plan: a second plan shows no changes', async () => {
    await planIsClean();
  });

  it('apply: new code publishes a new version and moves the aliases; a stage canary splits real traffic', async () => {
    await writeFile(path.join(dir, 'code.zip'), handler('{ fn: "ceil", v: "v2" }'));
    await apply('canary_percent=50');

    const live = await t.lambda.send(new GetAliasCommand({ FunctionName: 'tf-ceil', Name: 'live' }));
    assert.equal(live.FunctionVersion, '2');
    const weighted = await t.lambda.send(new GetAliasCommand({ FunctionName: 'tf-ceil', Name: 'weighted' }));
    assert.equal(weighted.FunctionVersion, '1');
    assert.deepEqual(weighted.RoutingConfig?.AdditionalVersionWeights, { '2': 0.5 });
    const answer = await t.lambda.send(new InvokeCommand({ FunctionName: 'tf-ceil', Qualifier: 'live' }));
    assert.deepEqual(payloadOf(answer), { fn: 'ceil', v: 'v2' });

    const api = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const stage = await api.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }));
    api.destroy();
    assert.equal(stage.canarySettings?.percentTraffic, 50);
    assert.deepEqual(stage.canarySettings?.stageVariableOverrides, { fn: 'tf-floor' });
    // At 50%, 40 requests all on one side would happen once in 2^39 runs.
    const seen = await traffic(`${t.url}/restapis/${apiId}/prod/_user_request_/math`, 40);
    assert.deepEqual([...seen.keys()].sort(), ['{"fn":"ceil","v":"v2"}', '{"fn":"floor"}'], JSON.stringify([...seen]));
    await planIsClean('canary_percent=50');
  });

  it('apply: promoting the canary through Terraform sends every request to it', async () => {
    await apply('stage_fn=tf-floor');
    const api = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const stage = await api.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }));
    api.destroy();
    assert.equal(stage.canarySettings, undefined);
    assert.deepEqual(stage.variables, { fn: 'tf-floor' });
    const seen = await traffic(`${t.url}/restapis/${apiId}/prod/_user_request_/math`, 20);
    assert.deepEqual([...seen], [['{"fn":"floor"}', 20]]);
  });

  it('CodeDeploy: a deployment started with the SDK on the Terraform-made group runs to success', async () => {
    const cd = codeDeployClientFor(t.url);
    const appSpec = {
      version: 0.0,
      Resources: [
        { fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'tf-ceil', Alias: 'live', CurrentVersion: '2', TargetVersion: '1' } } },
      ],
    };
    const { deploymentId } = await cd.send(
      new CreateDeploymentCommand({
        applicationName: 'tf-app',
        deploymentGroupName: 'tf-group',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify(appSpec) } },
      }),
    );
    const info = await eventually('the deployment to end', 30_000, async () => {
      const d = (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
      return d?.status === 'Succeeded' || d?.status === 'Failed' || d?.status === 'Stopped' ? d : undefined;
    });
    cd.destroy();
    assert.equal(info.status, 'Succeeded', JSON.stringify(info.errorInformation));
    assert.equal(info.deploymentConfigName, 'tf-linear-50-every-1');
    const live = await t.lambda.send(new GetAliasCommand({ FunctionName: 'tf-ceil', Name: 'live' }));
    assert.equal(live.FunctionVersion, '1');
    assert.equal(live.RoutingConfig?.AdditionalVersionWeights, undefined);
  });

  it('destroy: leaves no function, API, application, config, alarm, log group or tag behind', async () => {
    const run = await tf('destroy', '-auto-approve', '-var', 'stage_fn=tf-floor');
    assert.equal(run.code, 0, `terraform destroy failed:\n${run.output}`);

    const functions = (await t.lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    assert.deepEqual(
      functions.map((f) => f.FunctionName),
      [],
    );
    const api = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    assert.deepEqual((await api.send(new GetRestApisCommand({}))).items ?? [], []);
    api.destroy();
    const cd = codeDeployClientFor(t.url);
    assert.deepEqual((await cd.send(new ListApplicationsCommand({}))).applications ?? [], []);
    const configs = (await cd.send(new ListDeploymentConfigsCommand({}))).deploymentConfigsList ?? [];
    assert.ok(!configs.includes('tf-linear-50-every-1'), configs.join(', '));
    cd.destroy();
    const cw = cloudWatchClientFor(t.url);
    assert.deepEqual((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? [], []);
    cw.destroy();
    const logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    // Only the group Terraform made: the one Lambda made for tf-floor when it first logged is not Terraform's, as on AWS.
    const groups = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/tf-ceil' }))).logGroups ?? [];
    logs.destroy();
    assert.deepEqual(
      groups.map((g) => g.logGroupName),
      [],
    );
    // A new function of the same name starts without the old one's tags: they went with it.
    await createFunction(t.lambda, 'tf-ceil', { 'index.js': 'exports.handler = async () => 1;' });
    assert.deepEqual((await t.lambda.send(new ListTagsCommand({ Resource: `${ARN}tf-ceil` }))).Tags, {});
  });
});
