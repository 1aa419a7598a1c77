/**
 * The CDK CLI, unchanged, against Versa: `cdk bootstrap` makes the CDKToolkit stack (S3 bucket, SSM
 * version parameter, roles) through CloudFormation, and `cdk deploy` of examples/cdk-canary uploads its
 * assets to Versa's S3, assumes the bootstrap's deploy role through STS and deploys through a change
 * set; a code change is then released by a CodeDeploy canary that the stack update waits for.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { BatchGetDeploymentsCommand, CodeDeployClient, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startTestServer, type TestServer } from './harness.js';
import { awsToolEnv, type Run } from './tools.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let t: TestServer;
let app: string;

before(async () => {
  t = await startTestServer({ timeScale: 120 });
  app = await mkdtemp(path.join(tmpdir(), 'versa-cdk-'));
  await cp(path.join(ROOT, 'examples/cdk-canary'), app, { recursive: true });
  // The example's own `npm install`, stood in for by the project's devDependencies.
  await symlink(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
});

after(async () => {
  await t.close();
  await rm(app, { recursive: true, force: true });
});

/** Runs a tool of node_modules/.bin in the app's folder, against the test server; never throws. */
function run(tool: string, args: string[]): Promise<Run> {
  const env = {
    ...awsToolEnv(app, credentials),
    AWS_ENDPOINT_URL: t.url,
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
  return new Promise((resolve) => {
    execFile(path.join(BIN, tool), args, { cwd: app, env, timeout: 240_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function apiAnswer(): Promise<{ message: string }> {
  const cfn = new CloudFormationClient({ endpoint: t.url, region: 'us-east-1', credentials });
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'CdkCanary' }))).Stacks![0]!;
  cfn.destroy();
  const endpoint = stack.Outputs?.find((o) => o.OutputKey?.startsWith('ApiEndpoint'))?.OutputValue ?? '';
  const m = /^https:\/\/([a-z0-9]+)\.execute-api\.us-east-1\.amazonaws\.com\/prod\/$/.exec(endpoint);
  assert.ok(m, `the API's endpoint is an output: ${endpoint}`);
  const res = await fetch(`${t.url}/restapis/${m[1]}/prod/_user_request_/hello`);
  assert.equal(res.status, 200);
  return (await res.json()) as { message: string };
}

test('cdk bootstrap, cdk deploy, and a code change released by a CodeDeploy canary', async () => {
  const built = await run('tsc', ['-p', 'tsconfig.json']);
  assert.equal(built.code, 0, built.stdout + built.stderr);

  const boot = await run('cdk', ['bootstrap', 'aws://000000000000/us-east-1', '--no-notices']);
  assert.equal(boot.code, 0, boot.stdout + boot.stderr);
  assert.match(boot.stderr + boot.stdout, /Environment aws:\/\/000000000000\/us-east-1 bootstrapped/);
  const ssm = new SSMClient({ endpoint: t.url, region: 'us-east-1', credentials });
  const version = await ssm.send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version' }));
  ssm.destroy();
  assert.match(version.Parameter?.Value ?? '', /^\d+$/);

  const first = await run('cdk', ['deploy', '--require-approval', 'never', '--no-notices']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'cdk-hello', Name: 'live' }))).FunctionVersion, '1');
  assert.equal((await apiAnswer()).message, 'hello from cdk v1');

  const handler = path.join(app, 'lambda', 'index.mjs');
  await writeFile(handler, (await readFile(handler, 'utf8')).replace('hello from cdk v1', 'hello from cdk v2'));
  const second = await run('cdk', ['deploy', '--require-approval', 'never', '--no-notices']);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'cdk-hello', Name: 'live' }))).FunctionVersion, '2');
  assert.equal((await apiAnswer()).message, 'hello from cdk v2');

  // The alias was moved by CodeDeploy, through the hook and the canary, not written directly.
  const codeDeploy = new CodeDeployClient({ endpoint: t.url, region: 'us-east-1', credentials });
  const ids = (await codeDeploy.send(new ListDeploymentsCommand({}))).deployments ?? [];
  const infos = (await codeDeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: ids }))).deploymentsInfo ?? [];
  codeDeploy.destroy();
  assert.equal(infos.length, 1);
  assert.equal(infos[0]?.status, 'Succeeded');
  assert.equal(infos[0]?.creator, 'CloudFormation');
  assert.equal(infos[0]?.deploymentConfigName, 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
});
