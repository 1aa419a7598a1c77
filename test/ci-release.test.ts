/**
 * examples/ci/release.sh — `aws cloudformation package` into Versa's S3, then `aws cloudformation
 * deploy` of the tutorials' SAM project — run as a pipeline runs it on three pushes: version 1, version
 * 2 released through the canary with its hooks, and a broken version 3 that users' traffic exposes, the
 * alarm stops, and the stack rolls back (`UPDATE_ROLLBACK_COMPLETE`), failing the build.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from './harness.js';
import { awsToolEnv, type Run } from './tools.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RELEASE = path.join(ROOT, 'examples/ci/release.sh');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let t: TestServer;
let project: string;

before(async () => {
  t = await startTestServer({ timeScale: 120 });
  project = await mkdtemp(path.join(tmpdir(), 'versa-ci-'));
  await cp(path.join(ROOT, 'examples/sam-canary'), project, { recursive: true });
});

after(async () => {
  await t.close();
  await rm(project, { recursive: true, force: true });
});

function release(): Promise<Run> {
  const env = { ...awsToolEnv(project, credentials), AWS_ENDPOINT_URL: t.url };
  return new Promise((resolve) => {
    execFile('bash', [RELEASE, project, 'ci-demo'], { env, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function setMessage(from: string, to: string, broken = false): Promise<void> {
  const file = path.join(project, 'hello_world', 'app.py');
  let code = (await readFile(file, 'utf8')).replace(from, to);
  if (broken)
    code = code.replace('    return {\n        "statusCode"', '    raise RuntimeError("broken")\n    return {\n        "statusCode"');
  await writeFile(file, code);
}

const live = async () => (await t.lambda.send(new GetAliasCommand({ FunctionName: 'hello-world', Name: 'live' }))).FunctionVersion;

async function stack() {
  const cfn = new CloudFormationClient({ endpoint: t.url, region: 'us-east-1', credentials });
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: 'ci-demo' }))).Stacks![0]!;
  } finally {
    cfn.destroy();
  }
}

async function apiUrl(): Promise<string> {
  const value = (await stack()).Outputs?.find((o) => o.OutputKey === 'HelloWorldApi')?.OutputValue ?? '';
  const m = /^https:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/Prod\/hello\/$/.exec(value);
  assert.ok(m, `unexpected output ${value}`);
  return `${t.url}/restapis/${m[1]}/Prod/_user_request_/hello/`;
}

test('three pushes: a first release, a canary release, and a broken release that fails the build', async () => {
  const first = await release();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /Released: CREATE_COMPLETE/);
  assert.equal(await live(), '1');
  // The code went through S3: `package` uploaded both folders and the template points at them.
  const s3 = new S3Client({ endpoint: t.url, region: 'us-east-1', credentials, forcePathStyle: true });
  const objects = (await s3.send(new ListObjectsV2Command({ Bucket: 'versa-artifacts' }))).Contents ?? [];
  s3.destroy();
  assert.equal(objects.length, 2, JSON.stringify(objects.map((o) => o.Key)));

  await setMessage('hello world v1', 'hello world v2');
  const second = await release();
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /Released: UPDATE_COMPLETE/);
  assert.equal(await live(), '2');
  const answer = (await (await fetch(await apiUrl())).json()) as { message: string };
  assert.equal(answer.message, 'hello world v2');

  await setMessage('hello world v2', 'hello world v3', true);
  const url = await apiUrl();
  let releasing = true;
  // Users keep calling the API while the canary runs; a tenth of them reach the broken version.
  const traffic = (async () => {
    while (releasing) {
      await fetch(url).then((r) => r.arrayBuffer());
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const third = await release();
  releasing = false;
  await traffic;
  assert.equal(third.code, 1, third.stdout + third.stderr);
  assert.match(third.stderr, /Release failed: the stack is UPDATE_ROLLBACK_COMPLETE/);
  assert.match(third.stderr, /Deployment d-[A-Z0-9]+ of hello-world:live to version 3 was stopped because alarm .* went into ALARM\./);
  assert.equal(await live(), '2');
  assert.equal((await stack()).StackStatus, 'UPDATE_ROLLBACK_COMPLETE');
});
