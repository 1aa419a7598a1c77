/**
 * What a function's own key may call, tried from inside a function as a compromised one would (AWS SDK v3
 * and boto3, through AWS_ENDPOINT_URL): the data plane and reads work; other functions' configurations,
 * changes to the platform and alarm changes are refused as IAM refuses them, and nothing changes. In
 * both modes (credentials configured, and none), and with `--function-access full`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, CreateLogStreamCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteParameterCommand, DeleteParametersCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { createFunction, errorOf, payloadOf, startTestServer, zipOf, type TestServer, type TestServerOptions } from './harness.js';
import { s3ClientFor } from './s3-helpers.js';

const OPS = { accessKeyId: 'AKIDVERSAOPS', secretAccessKey: 'operator-secret' };
const PROBER_ROLE = 'arn:aws:iam::000000000000:role/prober-role';

/** Each probe's outcome: its value, or the error as the SDK saw it. */
type Outcome = { ok: unknown } | { error: string; status?: number; message: string };

/** Tries, with the function's own credentials, what a compromised function would; reports every outcome. */
const PROBER = {
  'index.mjs': `import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, DeleteLogGroupCommand, DescribeLogStreamsCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CodeDeployClient, CreateApplicationCommand, ListApplicationsCommand } from "@aws-sdk/client-codedeploy";
import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand, ListStacksCommand } from "@aws-sdk/client-cloudformation";
import { APIGatewayClient, GetRestApisCommand, GetStagesCommand } from "@aws-sdk/client-api-gateway";
import { CreateFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, UpdateFunctionConfigurationCommand } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const attempt = async (fn) => {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: e.name, status: e.$metadata?.httpStatusCode, message: String(e.message) };
  }
};

export const handler = async ({ target, bucket, parameter, alarm }) => {
  const lambda = new LambdaClient({ maxAttempts: 1 });
  const cw = new CloudWatchClient({ maxAttempts: 1 });
  const out = {};
  out.getConfiguration = await attempt(async () => (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: target }))).Environment);
  out.updateConfiguration = await attempt(() =>
    lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: target, Environment: { Variables: { SECRET: "pwned" } } })),
  );
  out.createFunction = await attempt(() =>
    lambda.send(new CreateFunctionCommand({ FunctionName: "evil", Runtime: "nodejs20.x", Handler: "index.handler", Role: "arn:aws:iam::000000000000:role/r", Code: { ZipFile: new Uint8Array([80, 75, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) } })),
  );
  out.invoke = await attempt(async () => JSON.parse(Buffer.from((await lambda.send(new InvokeCommand({ FunctionName: target }))).Payload).toString()));
  out.putAlarm = await attempt(() =>
    cw.send(new PutMetricAlarmCommand({ AlarmName: "evil", Namespace: "AWS/Lambda", MetricName: "Errors", Statistic: "Sum", Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanThreshold" })),
  );
  out.setAlarmState = await attempt(() => cw.send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: "ALARM", StateReason: "forced" })));
  out.putMetricData = await attempt(() => cw.send(new PutMetricDataCommand({ Namespace: "Probe", MetricData: [{ MetricName: "m", Value: 1 }] })).then(() => "sent"));
  // About itself, as it may; about another function, whose alarm the data could trip, not.
  const named = (name) => cw.send(new PutMetricDataCommand({ Namespace: "MyApp", MetricData: [{ MetricName: "Errors", Value: 100, Dimensions: [{ Name: "FunctionName", Value: name }] }] })).then(() => "sent");
  out.ownMetric = await attempt(() => named(process.env.AWS_LAMBDA_FUNCTION_NAME));
  out.othersMetric = await attempt(() => named(target));
  out.describeAlarms = await attempt(async () => (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms.map((a) => a.AlarmName));
  const s3 = new S3Client({ forcePathStyle: true, maxAttempts: 1 });
  out.s3 = await attempt(async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "probe.txt", Body: "written by a function" }));
    return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "probe.txt" }))).Body.transformToString();
  });
  // A bucket of its own making would be the one the operator's next template names; its settings and deletion are the operator's.
  out.createBucket = await attempt(() => s3.send(new CreateBucketCommand({ Bucket: "squatted" })));
  out.deleteBucket = await attempt(() => s3.send(new DeleteBucketCommand({ Bucket: "empty-bucket" })));
  out.bucketPolicy = await attempt(() => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: "{}" })));
  // Versa's own endpoints, unsigned: the operator's only from the operator's side of the machine.
  out.stacksApi = await attempt(async () => (await fetch(process.env.AWS_ENDPOINT_URL + "/_versa/api/stacks")).status);
  out.ssm = await attempt(async () => (await new SSMClient({ maxAttempts: 1 }).send(new GetParameterCommand({ Name: parameter }))).Parameter.Value);
  const logs = new CloudWatchLogsClient({ maxAttempts: 1 });
  out.logs = await attempt(async () => {
    // Its own group, as Lambda's default role allows: made if the first START line is not written yet.
    const own = "/aws/lambda/" + process.env.AWS_LAMBDA_FUNCTION_NAME;
    await logs.send(new CreateLogGroupCommand({ logGroupName: own })).catch((e) => { if (e.name !== "ResourceAlreadyExistsException") throw e; });
    await logs.send(new CreateLogStreamCommand({ logGroupName: own, logStreamName: "mine" }));
    await logs.send(new PutLogEventsCommand({ logGroupName: own, logStreamName: "mine", logEvents: [{ timestamp: Date.now(), message: "own line" }] }));
    return (await logs.send(new DescribeLogStreamsCommand({ logGroupName: own, logStreamNamePrefix: "mine" }))).logStreams.map((l) => l.logStreamName);
  });
  out.otherGroup = await attempt(() => logs.send(new CreateLogGroupCommand({ logGroupName: "/probe/own" })));
  out.forged = await attempt(() => logs.send(new CreateLogStreamCommand({ logGroupName: "/aws/lambda/" + target, logStreamName: "forged" })));
  // A key of its own making, which a server without credentials accepts from anyone.
  out.madeUpKey = await attempt(async () => {
    const credentials = { accessKeyId: "AKIAMADEUPBYAFUNCTION", secretAccessKey: "anything" };
    return (await new LambdaClient({ credentials, maxAttempts: 1 }).send(new GetFunctionConfigurationCommand({ FunctionName: target }))).Environment;
  });
  out.madeUpKeyLogs = await attempt(() =>
    new CloudWatchLogsClient({ credentials: { accessKeyId: "AKIAMADEUPBYAFUNCTION", secretAccessKey: "anything" }, maxAttempts: 1 })
      .send(new CreateLogGroupCommand({ logGroupName: "/aws/lambda/" })));
  out.deleteLogGroup = await attempt(() => logs.send(new DeleteLogGroupCommand({ logGroupName: "/aws/lambda/" + target })));
  const cd = new CodeDeployClient({ maxAttempts: 1 });
  out.listApplications = await attempt(async () => (await cd.send(new ListApplicationsCommand({}))).applications);
  out.createApplication = await attempt(() => cd.send(new CreateApplicationCommand({ applicationName: "evil", computePlatform: "Lambda" })));
  // What builds the platform carries secrets too: templates (functions' variables, NoEcho values), integrations.
  const cfn = new CloudFormationClient({ maxAttempts: 1 });
  out.listStacks = await attempt(async () => (await cfn.send(new ListStacksCommand({}))).StackSummaries.length);
  out.describeStacks = await attempt(() => cfn.send(new DescribeStacksCommand({})));
  out.getTemplate = await attempt(() => cfn.send(new GetTemplateCommand({ StackName: "any" })));
  const apigw = new APIGatewayClient({ maxAttempts: 1 });
  out.getRestApis = await attempt(async () => (await apigw.send(new GetRestApisCommand({}))).items.length);
  out.getStages = await attempt(() => apigw.send(new GetStagesCommand({ restApiId: "any" })));
  const sts = new STSClient({ maxAttempts: 1 });
  out.whoAmI = await attempt(async () => {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    return [me.Account, me.Arn, me.UserId];
  });
  out.assumed = await attempt(async () => {
    const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::000000000000:role/admin", RoleSessionName: "escape" }));
    const credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    return (await new LambdaClient({ credentials, maxAttempts: 1 }).send(new GetFunctionConfigurationCommand({ FunctionName: target }))).Environment;
  });
  out.madeUpKeyLogs = await attempt(() =>
    new CloudWatchLogsClient({ credentials: { accessKeyId: "AKIAMADEUPBYAFUNCTION", secretAccessKey: "anything" }, maxAttempts: 1 })
      .send(new CreateLogGroupCommand({ logGroupName: "/aws/lambda/" })));
  out.key = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY, sessionToken: process.env.AWS_SESSION_TOKEN };
  return out;
};
`,
};

const PY_PROBER = {
  'app.py': `import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    try:
        return {"ok": boto3.client("lambda").get_function_configuration(FunctionName=event["target"]).get("Environment")}
    except ClientError as e:
        return {"error": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"], "message": e.response["Error"]["Message"]}
`,
};

interface Setup {
  t: TestServer;
  /** The operator's clients. */
  lambda: LambdaClient;
  cw: CloudWatchClient;
  probe: Record<string, Outcome> & { key: { accessKeyId: string; secretAccessKey: string; sessionToken: string } };
  /** The operator's key. */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** Boots a server, creates the target (with a secret), the prober, a bucket, a parameter and an alarm, and runs the prober once. */
async function setUp(opts: TestServerOptions, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<Setup> {
  const t = await startTestServer(opts);
  const config = { endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 };
  const lambda = new LambdaClient(config);
  const cw = new CloudWatchClient(config);
  await createFunction(
    lambda,
    'target',
    { 'index.mjs': 'export const handler = async () => "target answered";' },
    { Environment: { Variables: { SECRET: 'hunter2' } } },
  );
  await createFunction(lambda, 'prober', PROBER, { Role: PROBER_ROLE, Timeout: 60, MemorySize: 512 });
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'probe-bucket' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'empty-bucket' }));
  s3.destroy();
  await new SSMClient(config).send(new PutParameterCommand({ Name: '/probe/p', Value: 'parameter value', Type: 'String' }));
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: 'guard',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: 'prober',
      Payload: JSON.stringify({ target: 'target', bucket: 'probe-bucket', parameter: '/probe/p', alarm: 'guard' }),
    }),
  );
  assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
  return { t, lambda, cw, probe: payloadOf(out) as Setup['probe'], credentials };
}

function refused(outcome: Outcome | undefined, status: number, code: string, action: string): void {
  assert.ok(outcome && 'error' in outcome, `expected a refusal, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.error, code);
  assert.equal(outcome.status, status);
  assert.match(
    outcome.message,
    new RegExp(`is not authorized to perform: ${action} on resource: .* because no identity-based policy allows the ${action} action`),
  );
}

function allowed(outcome: Outcome | undefined): unknown {
  assert.ok(outcome && 'ok' in outcome, `expected success, got ${JSON.stringify(outcome)}`);
  return outcome.ok;
}

/** The checks both modes share: what the prober was refused and allowed, and that nothing changed. */
function scopedChecks(s: () => Setup): void {
  it('Lambda: another function configuration is refused with 403 AccessDeniedException naming the role, and no secret leaks', () => {
    const { probe } = s();
    refused(probe.getConfiguration, 403, 'AccessDeniedException', 'lambda:GetFunctionConfiguration');
    assert.ok(
      'message' in probe.getConfiguration! &&
        probe.getConfiguration.message.startsWith('User: arn:aws:sts::000000000000:assumed-role/prober-role/prober is not authorized'),
      JSON.stringify(probe.getConfiguration),
    );
    assert.doesNotMatch(JSON.stringify(probe), /hunter2/);
  });

  it('Lambda: UpdateFunctionConfiguration and CreateFunction are refused, and nothing changed', async () => {
    const { probe, lambda } = s();
    refused(probe.updateConfiguration, 403, 'AccessDeniedException', 'lambda:UpdateFunctionConfiguration');
    refused(probe.createFunction, 403, 'AccessDeniedException', 'lambda:CreateFunction');
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'target' }));
    assert.deepEqual(config.Environment?.Variables, { SECRET: 'hunter2' });
    assert.equal((await errorOf(() => lambda.send(new GetFunctionCommand({ FunctionName: 'evil' })))).name, 'ResourceNotFoundException');
  });

  it('CloudWatch: alarm changes are refused (AccessDenied, 403) and the alarms are as the operator left them', async () => {
    const { probe, cw } = s();
    refused(probe.putAlarm, 403, 'AccessDenied', 'cloudwatch:PutMetricAlarm');
    refused(probe.setAlarmState, 403, 'AccessDenied', 'cloudwatch:SetAlarmState');
    const alarms = (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? [];
    assert.deepEqual(
      alarms.map((a) => a.AlarmName),
      ['guard'],
    );
    assert.notEqual(alarms[0]!.StateValue, 'ALARM');
    assert.equal(allowed(probe.putMetricData), 'sent');
    assert.equal(allowed(probe.ownMetric), 'sent');
    refused(probe.othersMetric, 403, 'AccessDenied', 'cloudwatch:PutMetricData');
    assert.deepEqual(allowed(probe.describeAlarms), ['guard']);
  });

  it('CodeDeploy: reads work, CreateApplication is refused with 400 AccessDeniedException', () => {
    const { probe } = s();
    assert.deepEqual(allowed(probe.listApplications), []);
    refused(probe.createApplication, 400, 'AccessDeniedException', 'codedeploy:CreateApplication');
    // Logs: its own lines, never erasing a group's history (another function's audit trail).
    refused(probe.deleteLogGroup, 400, 'AccessDeniedException', 'logs:DeleteLogGroup');
    // Its own group only, as Lambda's default role: no group of its own making, no line in another's.
    refused(probe.otherGroup, 400, 'AccessDeniedException', 'logs:CreateLogGroup');
    refused(probe.forged, 400, 'AccessDeniedException', 'logs:CreateLogStream');
  });

  it('S3: a bucket’s creation, deletion and policy are refused (403 AccessDenied), and the buckets are as they were', async () => {
    const { probe, t } = s();
    for (const outcome of [probe.createBucket, probe.deleteBucket, probe.bucketPolicy]) {
      assert.ok(outcome && 'error' in outcome, JSON.stringify(outcome));
      assert.deepEqual([outcome.error, outcome.status], ['AccessDenied', 403]);
    }
    const operator = s3ClientFor(t.url, 'path', s().credentials);
    const { Buckets } = await operator.send(new ListBucketsCommand({}));
    assert.deepEqual(Buckets?.map((b) => b.Name).sort(), ['empty-bucket', 'probe-bucket']);
    assert.equal((await errorOf(() => operator.send(new GetBucketPolicyCommand({ Bucket: 'probe-bucket' })))).name, 'NoSuchBucketPolicy');
    operator.destroy();
  });

  it('the data plane works: Invoke of another function, S3, SSM, Logs, STS GetCallerIdentity', () => {
    const { probe } = s();
    assert.equal(allowed(probe.invoke), 'target answered');
    assert.equal(allowed(probe.s3), 'written by a function');
    assert.equal(allowed(probe.ssm), 'parameter value');
    assert.deepEqual(allowed(probe.logs), ['mine']);
    // As on Lambda: the function's role, assumed in a session named after the function.
    const [account, arn, userId] = allowed(probe.whoAmI) as string[];
    assert.equal(account, '000000000000');
    assert.equal(arn, 'arn:aws:sts::000000000000:assumed-role/prober-role/prober');
    assert.match(userId!, /^AROA[0-9A-F]{17}:prober$/);
  });

  it('CloudFormation and API Gateway: listing works; templates, outputs and stages are refused', () => {
    const { probe } = s();
    assert.equal(allowed(probe.listStacks), 0);
    assert.equal(allowed(probe.getRestApis), 0);
    refused(probe.describeStacks, 403, 'AccessDenied', 'cloudformation:DescribeStacks');
    refused(probe.getTemplate, 403, 'AccessDenied', 'cloudformation:GetTemplate');
    refused(probe.getStages, 403, 'AccessDeniedException', 'apigateway:GET');
  });

  it('STS: a key assumed with the function key is still the function: GetFunctionConfiguration refused, named as the assumed role', () => {
    const { probe } = s();
    refused(probe.assumed, 403, 'AccessDeniedException', 'lambda:GetFunctionConfiguration');
    assert.match((probe.assumed as { message: string }).message, /^User: arn:aws:sts::000000000000:assumed-role\/admin\/escape /);
  });

  it("Versa's own signed endpoints refuse the function's key", async () => {
    const { t, probe, lambda } = s();
    const location = new URL((await lambda.send(new GetFunctionCommand({ FunctionName: 'target' }))).Code!.Location!);
    const signer = new SignatureV4({ service: 'versa', region: 'us-east-1', credentials: probe.key, sha256: Sha256 });
    const host = new URL(t.url).host;
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: location.pathname,
      query: {},
      headers: { host },
    });
    const zip = await fetch(`${t.url}${location.pathname}`, { headers: signed.headers });
    assert.equal(zip.status, 403);
    assert.equal(zip.headers.get('x-amzn-errortype'), 'AccessDeniedException');
  });

  it('boto3 in a Python function is refused the same way', async () => {
    const { lambda } = s();
    await createFunction(lambda, 'py-prober', PY_PROBER, { Runtime: 'python3.12', Handler: 'app.handler', Timeout: 30 });
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'py-prober', Payload: JSON.stringify({ target: 'target' }) }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    refused(payloadOf(out) as Outcome, 403, 'AccessDeniedException', 'lambda:GetFunctionConfiguration');
  });
}

describe('function scope: without credentials (developer mode)', () => {
  let s: Setup;
  before(async () => {
    s = await setUp({}, { accessKeyId: 'any', secretAccessKey: 'thing' });
  });
  after(() => s?.t.close());
  scopedChecks(() => s);

  it('a key of the function’s own making is still a function’s where its connection says so (a root server)', async () => {
    const health = (await (await fetch(`${s.t.url}/_versa/health`)).json()) as { sandboxDetail: string };
    if (/of the host, not root/.test(health.sandboxDetail)) {
      refused(s.probe.madeUpKey, 403, 'AccessDeniedException', 'lambda:GetFunctionConfiguration');
      assert.match((s.probe.madeUpKey as { message: string }).message, /assumed-role\/versa-function\/unknown-function /);
      // It names no function, so no log group is its own (`/aws/lambda/` with an empty name included).
      refused(s.probe.madeUpKeyLogs, 400, 'AccessDeniedException', 'logs:CreateLogGroup');
      // Unsigned, Versa's own endpoints are the operator's from anywhere but a function's sandbox.
      assert.equal(allowed(s.probe.stacksApi), 403);
    } else {
      // Run as an ordinary user, functions are that user: any key is the operator's, as documented.
      assert.deepEqual(allowed(s.probe.madeUpKey), { Variables: { SECRET: 'hunter2' } });
    }
  });
});

describe('function scope: with --credentials', () => {
  let s: Setup;
  before(async () => {
    s = await setUp({ credentials: [OPS] }, OPS);
  });
  after(() => s?.t.close());
  scopedChecks(() => s);

  it("Versa's own endpoints refuse a function's unsigned request", () => {
    assert.equal(allowed(s.probe.stacksApi), 403);
  });

  it("a function's key may make at most 10,000 streams in its own group (LimitExceededException); the operator's any number", async () => {
    const asFunction = new CloudWatchLogsClient({ endpoint: s.t.url, region: 'us-east-1', credentials: s.probe.key, maxAttempts: 1 });
    const operator = new CloudWatchLogsClient({ endpoint: s.t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    const logGroupName = '/aws/lambda/prober';
    const store = s.t.server.services.store;
    const count = () => store.logs.countStreams(logGroupName);
    // The store makes most of them (as many environments' streams would be); the function's key the last ten.
    const already = await count();
    await store.transaction(async (tx) => {
      for (let i = already; i < 9_990; i++) await tx.logs.createStream(logGroupName, `filler-${i}`, Date.now());
    });
    for (let i = 0; i < 10; i++) await asFunction.send(new CreateLogStreamCommand({ logGroupName, logStreamName: `s-${i}` }));
    const e = await errorOf(() => asFunction.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 'one-too-many' })));
    assert.equal(e.name, 'LimitExceededException');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    assert.equal(await count(), 10_000);
    await operator.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 'the-operator’s' }));
    assert.equal(await count(), 10_001);
    asFunction.destroy();
    operator.destroy();
  });

  it("a function's key leaves the operator the last tenth of the parameters and of a bucket's multipart uploads", async () => {
    const store = s.t.server.services.store;
    const asFunction = new SSMClient({ endpoint: s.t.url, region: 'us-east-1', credentials: s.probe.key, maxAttempts: 1 });
    const operator = new SSMClient({ endpoint: s.t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    const already = await store.parameters.count();
    await store.transaction(async (tx) => {
      for (let i = already; i < 8_999; i++) {
        await tx.parameters.put({
          name: `/filler/${i}`,
          type: 'String',
          dataType: 'text',
          versions: [{ version: 1, value: 'x', type: 'String', modified: 0 }],
        });
      }
    });
    await asFunction.send(new PutParameterCommand({ Name: '/fn/last', Value: 'x', Type: 'String' }));
    const e = await errorOf(() => asFunction.send(new PutParameterCommand({ Name: '/fn/one-more', Value: 'x', Type: 'String' })));
    assert.equal(e.name, 'ParameterLimitExceeded');
    await asFunction.send(new PutParameterCommand({ Name: '/fn/last', Value: 'changed', Type: 'String', Overwrite: true }));
    await operator.send(new PutParameterCommand({ Name: '/ops/still-room', Value: 'x', Type: 'String' }));
    assert.equal(await store.parameters.count(), 9_001);

    const s3 = s3ClientFor(s.t.url, 'path', OPS);
    const s3AsFunction = s3ClientFor(s.t.url, 'path', s.probe.key);
    await s3.send(new CreateBucketCommand({ Bucket: 'uploads' }));
    await store.transaction(async (tx) => {
      for (let i = 0; i < 8_999; i++) {
        await tx.s3.putUpload({
          uploadId: `filler${i}`,
          bucket: 'uploads',
          key: `k${i}`,
          initiated: 1,
          contentType: 'binary/octet-stream',
          metadata: {},
          headers: {},
        });
      }
    });
    await s3AsFunction.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: 'fn-last' }));
    const full = await errorOf(() => s3AsFunction.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: 'fn-one-more' })));
    assert.equal(full.name, 'InvalidRequest');
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: 'operator' }));
    assert.equal(await store.s3.countUploads('uploads'), 9_001);
    for (const c of [asFunction, operator, s3, s3AsFunction]) c.destroy();
  });

  it("a function's key used from outside is held to the same scope, and an operator key is not", async () => {
    const asFunction = new LambdaClient({ endpoint: s.t.url, region: 'us-east-1', credentials: s.probe.key, maxAttempts: 1 });
    const e = await errorOf(() => asFunction.send(new GetFunctionConfigurationCommand({ FunctionName: 'target' })));
    assert.equal(e.name, 'AccessDeniedException');
    assert.equal(e.$metadata?.httpStatusCode, 403);
    const config = await s.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'target' }));
    assert.equal(config.Environment?.Variables?.SECRET, 'hunter2');
  });
});

describe('function scope: buckets Versa deploys from', () => {
  let s: Setup;
  before(async () => {
    s = await setUp({ credentials: [OPS] }, OPS);
  });
  after(() => s?.t.close());

  it("a function's key cannot write to a bucket Versa has deployed code from, so it cannot plant the next deploy", async () => {
    const operator = s3ClientFor(s.t.url, 'path', OPS);
    const asFunction = s3ClientFor(s.t.url, 'path', s.probe.key);
    const code = (answer: string) => zipOf({ 'index.mjs': `export const handler = async () => ${JSON.stringify(answer)};` });
    await operator.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
    await operator.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'app.zip', Body: code('the operator’s code') }));
    // Before Versa deploys from it, it is a bucket like any other.
    await asFunction.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'scratch', Body: 'x' }));
    await s.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'from-s3',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: PROBER_ROLE,
        Code: { S3Bucket: 'artifacts', S3Key: 'app.zip' },
      }),
    );
    for (const write of [
      () => asFunction.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'app.zip', Body: code('planted') })),
      () => asFunction.send(new DeleteObjectCommand({ Bucket: 'artifacts', Key: 'app.zip' })),
      () => asFunction.send(new CopyObjectCommand({ Bucket: 'artifacts', Key: 'app.zip', CopySource: 'probe-bucket/probe.txt' })),
    ]) {
      const e = await errorOf(write);
      assert.equal(e.name, 'AccessDenied');
      assert.equal(e.$metadata?.httpStatusCode, 403);
    }
    // Reading it, and writing other buckets, still work; the operator still writes it.
    const read = await asFunction.send(new GetObjectCommand({ Bucket: 'artifacts', Key: 'app.zip' }));
    assert.ok((await read.Body!.transformToByteArray()).length > 0);
    await asFunction.send(new PutObjectCommand({ Bucket: 'probe-bucket', Key: 'mine', Body: 'x' }));
    await s.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'from-s3', S3Bucket: 'artifacts', S3Key: 'app.zip' }));
    const out = await s.lambda.send(new InvokeCommand({ FunctionName: 'from-s3' }));
    assert.equal(payloadOf(out), 'the operator’s code');
    await operator.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'app.zip', Body: code('v2') }));
    operator.destroy();
    asFunction.destroy();
  });
  it("a function's key changes no object or parameter an operator wrote, only what functions wrote, even in a bucket nothing was deployed from", async () => {
    const operator = s3ClientFor(s.t.url, 'path', OPS);
    const asFunction = s3ClientFor(s.t.url, 'path', s.probe.key);
    const denied = async (call: () => Promise<unknown>, name: string, status: number) => {
      const e = await errorOf(call);
      assert.deepEqual([e.name, e.$metadata?.httpStatusCode], [name, status], e.message);
      return e;
    };
    await operator.send(new CreateBucketCommand({ Bucket: 'fresh' }));
    await operator.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'app.zip', Body: 'the operator’s' }));
    await asFunction.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'scratch', Body: 'x' }));
    for (const write of [
      () => asFunction.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'app.zip', Body: 'planted' })),
      () => asFunction.send(new DeleteObjectCommand({ Bucket: 'fresh', Key: 'app.zip' })),
      () => asFunction.send(new CopyObjectCommand({ Bucket: 'fresh', Key: 'app.zip', CopySource: 'fresh/scratch' })),
      () => asFunction.send(new CreateMultipartUploadCommand({ Bucket: 'fresh', Key: 'app.zip' })),
    ]) {
      await denied(write, 'AccessDenied', 403);
    }
    const batch = await asFunction.send(
      new DeleteObjectsCommand({ Bucket: 'fresh', Delete: { Objects: [{ Key: 'app.zip' }, { Key: 'scratch' }] } }),
    );
    assert.deepEqual(
      batch.Errors?.map((e) => [e.Key, e.Code]),
      [['app.zip', 'AccessDenied']],
    );
    assert.deepEqual(
      batch.Deleted?.map((d) => d.Key),
      ['scratch'],
    );
    // An upload a function started before the operator wrote its key cannot complete over it.
    const { UploadId } = await asFunction.send(new CreateMultipartUploadCommand({ Bucket: 'fresh', Key: 'late' }));
    const part = await asFunction.send(new UploadPartCommand({ Bucket: 'fresh', Key: 'late', UploadId, PartNumber: 1, Body: 'planted' }));
    await operator.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'late', Body: 'the operator’s too' }));
    await denied(
      () =>
        asFunction.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'fresh',
            Key: 'late',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        ),
      'AccessDenied',
      403,
    );
    // Nor can it add to, finish or abort an upload the operator started, to a new key or any.
    const mine = await operator.send(new CreateMultipartUploadCommand({ Bucket: 'fresh', Key: 'release.bin' }));
    const ours = await operator.send(
      new UploadPartCommand({
        Bucket: 'fresh',
        Key: 'release.bin',
        UploadId: mine.UploadId,
        PartNumber: 1,
        Body: 'the operator’s release',
      }),
    );
    const upload = { Bucket: 'fresh', Key: 'release.bin', UploadId: mine.UploadId };
    await denied(() => asFunction.send(new UploadPartCommand({ ...upload, PartNumber: 1, Body: 'planted' })), 'AccessDenied', 403);
    await denied(
      () => asFunction.send(new UploadPartCopyCommand({ ...upload, PartNumber: 1, CopySource: 'fresh/app.zip' })),
      'AccessDenied',
      403,
    );
    await denied(
      () =>
        asFunction.send(
          new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: ours.ETag }] } }),
        ),
      'AccessDenied',
      403,
    );
    await denied(() => asFunction.send(new AbortMultipartUploadCommand(upload)), 'AccessDenied', 403);
    await operator.send(
      new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: ours.ETag }] } }),
    );
    for (const key of ['app.zip', 'late', 'release.bin']) {
      const object = await operator.send(new GetObjectCommand({ Bucket: 'fresh', Key: key }));
      assert.match(await object.Body!.transformToString(), /^the operator’s/);
    }
    // What a function wrote, functions may change, until the operator writes it.
    await asFunction.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'shared', Body: '1' }));
    await asFunction.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'shared', Body: '2' }));
    await operator.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'shared', Body: '3' }));
    await denied(() => asFunction.send(new PutObjectCommand({ Bucket: 'fresh', Key: 'shared', Body: '4' })), 'AccessDenied', 403);

    const ssm = new SSMClient({ endpoint: s.t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    const ssmAsFunction = new SSMClient({ endpoint: s.t.url, region: 'us-east-1', credentials: s.probe.key, maxAttempts: 1 });
    await ssm.send(new PutParameterCommand({ Name: '/app/alarm-threshold', Value: '5', Type: 'String' }));
    await ssmAsFunction.send(new PutParameterCommand({ Name: '/fn/own', Value: 'a', Type: 'String' }));
    await ssmAsFunction.send(new PutParameterCommand({ Name: '/fn/own', Value: 'b', Overwrite: true }));
    const e = await denied(
      () => ssmAsFunction.send(new PutParameterCommand({ Name: '/app/alarm-threshold', Value: '1000000', Overwrite: true })),
      'AccessDeniedException',
      400,
    );
    assert.equal(
      e.message,
      'User: arn:aws:sts::000000000000:assumed-role/prober-role/prober is not authorized to perform: ssm:PutParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter/app/alarm-threshold because no identity-based policy allows the ssm:PutParameter action',
    );
    await denied(() => ssmAsFunction.send(new DeleteParameterCommand({ Name: '/app/alarm-threshold' })), 'AccessDeniedException', 400);
    await denied(
      () => ssmAsFunction.send(new DeleteParametersCommand({ Names: ['/fn/own', '/app/alarm-threshold'] })),
      'AccessDeniedException',
      400,
    );
    const kept = await ssm.send(new GetParametersCommand({ Names: ['/app/alarm-threshold', '/fn/own'] }));
    assert.deepEqual(
      kept.Parameters?.map((p) => [p.Name, p.Value, p.Version]),
      [
        ['/app/alarm-threshold', '5', 1],
        ['/fn/own', 'b', 2],
      ],
    );
    await ssmAsFunction.send(new DeleteParameterCommand({ Name: '/fn/own' }));
    for (const c of [operator, asFunction, ssm, ssmAsFunction]) c.destroy();
  });
  it("a function's key makes custom metric series in at most a quarter of what Versa keeps; the operator's still make theirs", async () => {
    const cw = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
      new CloudWatchClient({ endpoint: s.t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const asFunction = cw(s.probe.key);
    const operator = cw(OPS);
    let made = 0;
    let refused: Error | undefined;
    while (!refused && made < 13_000) {
      const MetricData = Array.from({ length: 500 }, (_, i) => ({ MetricName: `junk-${made + i}`, Value: 1 }));
      refused = await asFunction.send(new PutMetricDataCommand({ Namespace: 'Junk', MetricData })).then(
        () => void (made += 500),
        (e: Error) => e,
      );
    }
    assert.equal(refused?.name, 'LimitExceededFault');
    assert.match(refused.message, /a quarter of it at most for the series one function's key makes/);
    assert.ok(made >= 2_500 && made <= 3_500, `${made} series made by the function`);
    await operator.send(new PutMetricDataCommand({ Namespace: 'MyApp', MetricData: [{ MetricName: 'OrdersFailed', Value: 1 }] }));
    // Series it already made still take its data.
    await asFunction.send(new PutMetricDataCommand({ Namespace: 'Junk', MetricData: [{ MetricName: 'junk-0', Value: 2 }] }));
    asFunction.destroy();
    operator.destroy();
  });
});

describe('function scope: --function-access full', () => {
  let s: Setup;
  before(async () => {
    s = await setUp({ functionAccess: 'full' }, { accessKeyId: 'any', secretAccessKey: 'thing' });
  });
  after(() => s?.t.close());

  it('a function may read and change other functions, as before', async () => {
    assert.deepEqual(allowed(s.probe.getConfiguration), { Variables: { SECRET: 'hunter2' } });
    allowed(s.probe.updateConfiguration);
    allowed(s.probe.putAlarm);
    const config = await s.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'target' }));
    assert.equal(config.Environment?.Variables?.SECRET, 'pwned');
  });
});
