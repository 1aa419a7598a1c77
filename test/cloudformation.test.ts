/**
 * CloudFormation's wire API over Versa's stack engine, driven as users drive it: the AWS CLI's
 * `cloudformation deploy` (change sets and waiters), and the SDK v3 client through change sets, a
 * canary released by CodeDeploy, an alarm that rolls an update back, and the errors AWS answers with.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  CloudFormationClient,
  CancelUpdateStackCommand,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListExportsCommand,
  DescribeStackResourceCommand,
  DescribeStackResourcesCommand,
  ListStacksCommand,
  UpdateStackCommand,
  ValidateTemplateCommand,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import Database from 'better-sqlite3';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { launchBrowser, screenshot } from './browser.js';
import { awsFetch, createFunction, startTestServer, type TestServer } from './harness.js';
import { s3ClientFor } from './s3-helpers.js';
import { CreateBucketCommand, GetBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awsToolEnv, runTool } from './tools.js';
import { loopHolds } from './loop-holds.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');
let t: TestServer;
let cfn: CloudFormationClient;
let scratch: string;

before(async () => {
  t = await startTestServer({ timeScale: 120 });
  cfn = new CloudFormationClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  scratch = await mkdtemp(path.join(tmpdir(), 'versa-cfn-'));
});

after(async () => {
  cfn.destroy();
  await t.close();
  await rm(scratch, { recursive: true, force: true });
});

const waiter = () => ({ client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1 });

async function stack(name: string): Promise<Stack> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: name }));
  return out.Stacks![0]!;
}

async function rejects(work: Promise<unknown>, name: string, message: RegExp): Promise<void> {
  await assert.rejects(work, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, name);
    assert.match(err.message, message);
    return true;
  });
}

const PLAIN = `
AWSTemplateFormatVersion: '2010-09-09'
Description: A function with inline code
Parameters:
  Greeting:
    Type: String
    Default: hi
  Token:
    Type: String
    NoEcho: true
    Default: s3cr3t
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/r
      Code:
        ZipFile: |
          exports.handler = async () => ({ says: process.env.GREETING });
      Environment:
        Variables:
          GREETING: !Ref Greeting
Outputs:
  FnArn:
    Value: !GetAtt Fn.Arn
`;

test('the AWS CLI deploys, updates and deletes a stack with `cloudformation deploy`', async () => {
  const env = awsToolEnv(scratch);
  const file = path.join(scratch, 'plain.yaml');
  await writeFile(file, PLAIN);
  const aws = (...args: string[]) => runTool('aws', ['--endpoint-url', t.url, 'cloudformation', ...args], env);
  // The CLI names its change sets by the second; two deploys within one would reuse a name (on AWS too).
  const nextSecond = () => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));

  const first = await aws('deploy', '--stack-name', 'cli-stack', '--template-file', file, '--parameter-overrides', 'Greeting=hello');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Successfully created\/updated stack - cli-stack/);
  const made = await stack('cli-stack');
  assert.equal(made.StackStatus, 'CREATE_COMPLETE');
  assert.equal(made.Description, 'A function with inline code');
  assert.deepEqual(
    made.Parameters?.map((p) => [p.ParameterKey, p.ParameterValue]),
    [
      ['Greeting', 'hello'],
      ['Token', '****'],
    ],
  );
  const arn = made.Outputs?.find((o) => o.OutputKey === 'FnArn')?.OutputValue;
  assert.match(arn ?? '', /^arn:aws:lambda:us-east-1:\d{12}:function:cli-stack-Fn-[A-Z0-9]+$/);
  const invoked = await t.lambda.send(new InvokeCommand({ FunctionName: arn }));
  assert.deepEqual(JSON.parse(Buffer.from(invoked.Payload!).toString()), { says: 'hello' });

  // The same template again: no change set to run, which the CLI reports (and fails on, by default).
  await nextSecond();
  const same = await aws('deploy', '--stack-name', 'cli-stack', '--template-file', file, '--parameter-overrides', 'Greeting=hello');
  assert.notEqual(same.code, 0);
  assert.match(same.stdout + same.stderr, /No changes to deploy\. Stack cli-stack is up to date/);
  await nextSecond();
  const allowed = await aws(
    'deploy',
    '--stack-name',
    'cli-stack',
    '--template-file',
    file,
    '--parameter-overrides',
    'Greeting=hello',
    '--no-fail-on-empty-changeset',
  );
  assert.equal(allowed.code, 0, allowed.stderr);

  await nextSecond();
  const second = await aws('deploy', '--stack-name', 'cli-stack', '--template-file', file, '--parameter-overrides', 'Greeting=bonjour');
  assert.equal(second.code, 0, second.stderr);
  const again = await t.lambda.send(new InvokeCommand({ FunctionName: arn }));
  assert.deepEqual(JSON.parse(Buffer.from(again.Payload!).toString()), { says: 'bonjour' });

  const events = await aws(
    'describe-stack-events',
    '--stack-name',
    'cli-stack',
    '--query',
    'StackEvents[].[LogicalResourceId,ResourceStatus]',
    '--output',
    'text',
  );
  const story = events.stdout
    .trim()
    .split('\n')
    .map((line) => line.split('\t').join(' '));
  // Newest first, as AWS lists them: the update, then the create, then the review the change set began with.
  assert.deepEqual(story.slice(0, 5), [
    'cli-stack UPDATE_COMPLETE',
    'cli-stack UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
    'Fn UPDATE_COMPLETE',
    'Fn UPDATE_IN_PROGRESS',
    'cli-stack UPDATE_IN_PROGRESS',
  ]);
  assert.equal(story.at(-1), 'cli-stack REVIEW_IN_PROGRESS');

  const deleted = await aws('delete-stack', '--stack-name', 'cli-stack');
  assert.equal(deleted.code, 0, deleted.stderr);
  const waited = await aws('wait', 'stack-delete-complete', '--stack-name', 'cli-stack');
  assert.equal(waited.code, 0, waited.stderr);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: arn })), { name: 'ResourceNotFoundException' });
});

const samTemplate = (marker: string) => `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: cfn-hello
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        exports.handler = async (event) => {
          if (${marker === 'broken'}) throw new Error('broken release');
          return { marker: '${marker}' };
        };
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms:
          - !Ref Errors
  Errors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      Dimensions:
        - Name: FunctionName
          Value: !Ref Hello
        - Name: Resource
          Value: !Sub '\${Hello}:live'
Outputs:
  Alias:
    Value: !Ref Hello.Alias
`;

test('change sets: capabilities, review, execute, a canary through CodeDeploy, an empty change set, an alarm rollback', async () => {
  const create = (
    name: string,
    template: string,
    type: 'CREATE' | 'UPDATE',
    capabilities?: ('CAPABILITY_IAM' | 'CAPABILITY_AUTO_EXPAND')[],
  ) =>
    cfn.send(
      new CreateChangeSetCommand({
        StackName: 'sam-stack',
        ChangeSetName: name,
        ChangeSetType: type,
        TemplateBody: template,
        ...(capabilities && { Capabilities: capabilities }),
      }),
    );

  // SAM makes the function a role: without CAPABILITY_IAM nothing is created, not even the stack.
  await rejects(
    create('first', samTemplate('v1'), 'CREATE'),
    'InsufficientCapabilitiesException',
    /^Requires capabilities : \[CAPABILITY_IAM\]$/,
  );
  await rejects(stack('sam-stack'), 'ValidationError', /^Stack with id sam-stack does not exist$/);

  const made = await create('first', samTemplate('v1'), 'CREATE', ['CAPABILITY_IAM']);
  assert.match(made.Id ?? '', /^arn:aws:cloudformation:us-east-1:\d{12}:changeSet\/first\//);
  assert.equal((await stack('sam-stack')).StackStatus, 'REVIEW_IN_PROGRESS');
  const planned = await cfn.send(new DescribeChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: 'first' }));
  assert.equal(planned.Status, 'CREATE_COMPLETE');
  assert.equal(planned.ExecutionStatus, 'AVAILABLE');
  const added = planned.Changes?.map((c) => `${c.ResourceChange?.Action} ${c.ResourceChange?.ResourceType}`).sort();
  assert.ok(added?.includes('Add AWS::Lambda::Function'), JSON.stringify(added));
  assert.ok(added?.includes('Add AWS::CodeDeploy::DeploymentGroup'), JSON.stringify(added));
  assert.ok(added?.includes('Add AWS::IAM::Role'), JSON.stringify(added));

  await cfn.send(new ExecuteChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: 'first' }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'sam-stack' });
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'cfn-hello', Name: 'live' }))).FunctionVersion, '1');
  const executed = await cfn.send(new DescribeChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: made.Id! }));
  assert.equal(executed.ExecutionStatus, 'EXECUTE_COMPLETE');

  // New code: a new version, released by a CodeDeploy canary that the stack update waits for.
  await create('second', samTemplate('v2'), 'UPDATE', ['CAPABILITY_IAM']);
  const second = await cfn.send(new DescribeChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: 'second' }));
  assert.ok(second.Changes?.some((c) => c.ResourceChange?.ResourceType === 'AWS::Lambda::Alias' && c.ResourceChange.Action === 'Modify'));
  await cfn.send(new ExecuteChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: 'second' }));
  assert.equal((await stack('sam-stack')).StackStatus, 'UPDATE_IN_PROGRESS');
  await waitUntilStackUpdateComplete(waiter(), { StackName: 'sam-stack' });
  const live = await t.lambda.send(new GetAliasCommand({ FunctionName: 'cfn-hello', Name: 'live' }));
  assert.equal(live.FunctionVersion, '2');
  const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'sam-stack' }))).StackEvents ?? [];
  assert.ok(events.some((e) => /CodeDeploy deployment d-\w+ moves cfn-hello:live from version 1 to 2/.test(e.ResourceStatusReason ?? '')));
  assert.equal(new Set(events.map((e) => e.EventId)).size, events.length, 'every event has its own id');

  // Nothing changed: the change set is kept as FAILED with AWS's reason, and cannot run.
  await create('same', samTemplate('v2'), 'UPDATE', ['CAPABILITY_IAM']);
  const same = await cfn.send(new DescribeChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: 'same' }));
  assert.equal(same.Status, 'FAILED');
  assert.equal(same.StatusReason, "The submitted information didn't contain changes. Submit different information to create a change set.");
  await rejects(
    cfn.send(new ExecuteChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: 'same' })),
    'InvalidChangeSetStatusException',
    /cannot be executed in its current status of \[FAILED\]$/,
  );

  // A broken release: its errors trip the alarm, CodeDeploy rolls back and so does the stack.
  await create('broken', samTemplate('broken'), 'UPDATE', ['CAPABILITY_IAM']);
  await cfn.send(new ExecuteChangeSetCommand({ StackName: 'sam-stack', ChangeSetName: 'broken' }));
  const deadline = Date.now() + 60_000;
  let status = '';
  while (Date.now() < deadline) {
    status = (await stack('sam-stack')).StackStatus ?? '';
    if (status === 'UPDATE_ROLLBACK_COMPLETE' || status === 'UPDATE_COMPLETE') break;
    // Traffic on the alias reaches the new version about one time in ten during the canary.
    await Promise.all(Array.from({ length: 10 }, () => t.lambda.send(new InvokeCommand({ FunctionName: 'cfn-hello', Qualifier: 'live' }))));
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 'UPDATE_ROLLBACK_COMPLETE');
  const after = await stack('sam-stack');
  assert.match(after.StackStatusReason ?? '', /alarm .* went into ALARM/);
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'cfn-hello', Name: 'live' }))).FunctionVersion, '2');

  await cfn.send(new DeleteStackCommand({ StackName: 'sam-stack' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'sam-stack' });
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'cfn-hello' })), { name: 'ResourceNotFoundException' });
});

test('CreateStack, UpdateStack and the errors CloudFormation answers with', async () => {
  await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'nope' })), 'ValidationError', /^Stack with id nope does not exist$/);
  await rejects(cfn.send(new ValidateTemplateCommand({ TemplateBody: 'Resources: [unclosed' })), 'ValidationError', /./);
  // A malformed escape in a TemplateURL names no object: a 400, never a 500.
  for (const TemplateURL of ['http://127.0.0.1/%ff/x', 'https://bucket.s3.amazonaws.com/%E0%A4%A', 'http://x/%']) {
    await rejects(cfn.send(new ValidateTemplateCommand({ TemplateURL })), 'ValidationError', /^TemplateURL must be a supported URL\.$/);
    await rejects(
      cfn.send(new CreateStackCommand({ StackName: 'bad-url', TemplateURL })),
      'ValidationError',
      /^TemplateURL must be a supported URL\.$/,
    );
  }
  const validated = await cfn.send(new ValidateTemplateCommand({ TemplateBody: PLAIN }));
  assert.deepEqual(
    validated.Parameters?.map((p) => [p.ParameterKey, p.DefaultValue, p.NoEcho]),
    [
      ['Greeting', 'hi', false],
      ['Token', 's3cr3t', true],
    ],
  );

  const made = await cfn.send(new CreateStackCommand({ StackName: 'direct', TemplateBody: PLAIN }));
  assert.match(made.StackId ?? '', /^arn:aws:cloudformation:us-east-1:\d{12}:stack\/direct\//);
  await waitUntilStackCreateComplete(waiter(), { StackName: made.StackId! });
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'direct', TemplateBody: PLAIN })),
    'AlreadyExistsException',
    /^Stack \[direct\] already exists$/,
  );
  await rejects(
    cfn.send(new UpdateStackCommand({ StackName: 'direct', TemplateBody: PLAIN })),
    'ValidationError',
    /^No updates are to be performed\.$/,
  );
  const template = await cfn.send(new GetTemplateCommand({ StackName: 'direct' }));
  assert.equal(template.TemplateBody, PLAIN);

  // UsePreviousTemplate with one parameter changed and the other kept.
  await cfn.send(
    new UpdateStackCommand({
      StackName: 'direct',
      UsePreviousTemplate: true,
      Parameters: [
        { ParameterKey: 'Greeting', ParameterValue: 'salut' },
        { ParameterKey: 'Token', UsePreviousValue: true },
      ],
    }),
  );
  await waitUntilStackUpdateComplete(waiter(), { StackName: 'direct' });
  const fn = (await stack('direct')).Outputs?.[0]?.OutputValue;
  const out = await t.lambda.send(new InvokeCommand({ FunctionName: fn }));
  assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { says: 'salut' });

  // A create that fails rolls back what it made, says why, and cannot be updated afterwards.
  const bad = PLAIN.replace('GREETING: !Ref Greeting', 'G: !Ref Greeting');
  await cfn.send(new CreateStackCommand({ StackName: 'failing', TemplateBody: bad }));
  await assert.rejects(waitUntilStackCreateComplete(waiter(), { StackName: 'failing' }));
  const failed = await stack('failing');
  assert.equal(failed.StackStatus, 'ROLLBACK_COMPLETE');
  const failedEvents = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'failing' }))).StackEvents ?? [];
  assert.ok(
    failedEvents.some(
      (e) =>
        e.LogicalResourceId === 'Fn' && e.ResourceStatus === 'CREATE_FAILED' && /environment\.variables/.test(e.ResourceStatusReason ?? ''),
    ),
  );
  await rejects(
    cfn.send(new UpdateStackCommand({ StackName: 'failing', TemplateBody: PLAIN })),
    'ValidationError',
    /^Stack:arn:aws:cloudformation:.*:stack\/failing\/.* is in ROLLBACK_COMPLETE state and can not be updated\.$/,
  );
  const listed = await cfn.send(new ListStacksCommand({ StackStatusFilter: ['ROLLBACK_COMPLETE'] }));
  assert.deepEqual(
    listed.StackSummaries?.map((s) => s.StackName),
    ['failing'],
  );

  // SAM's transform run by CreateStack (not a change set) needs CAPABILITY_AUTO_EXPAND as well.
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'direct-sam', TemplateBody: samTemplate('x'), Capabilities: ['CAPABILITY_IAM'] })),
    'InsufficientCapabilitiesException',
    /^Requires capabilities : \[CAPABILITY_AUTO_EXPAND\]$/,
  );
  // DeleteStack of a stack that does not exist is no error, as on AWS.
  await cfn.send(new DeleteStackCommand({ StackName: 'never-made' }));
});

test('exports: Fn::ImportValue reads another stack’s export, names are unique, an export in use stays', async () => {
  const exporter = `${PLAIN}    Export:
      Name: shared-fn-arn
`;
  const importer = (name: string) => `
Resources:
  Reader:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: ${name}
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/r
      Code:
        ZipFile: "exports.handler = async () => process.env.TARGET;"
      Environment:
        Variables:
          TARGET: !ImportValue shared-fn-arn
`;
  await cfn.send(new CreateStackCommand({ StackName: 'exporter', TemplateBody: exporter }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'exporter' });
  const arn = (await stack('exporter')).Outputs?.[0];
  assert.equal(arn?.ExportName, 'shared-fn-arn');
  const exports = await cfn.send(new ListExportsCommand({}));
  assert.deepEqual(
    exports.Exports?.map((e) => [e.Name, e.Value]),
    [['shared-fn-arn', arn?.OutputValue]],
  );

  await cfn.send(new CreateStackCommand({ StackName: 'importer', TemplateBody: importer('cfn-reader') }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'importer' });
  const read = await t.lambda.send(new InvokeCommand({ FunctionName: 'cfn-reader' }));
  assert.equal(JSON.parse(Buffer.from(read.Payload!).toString()), arn?.OutputValue);

  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'exporter-two', TemplateBody: exporter })),
    'ValidationError',
    /^Export with name shared-fn-arn is already exported by stack exporter$/,
  );
  assert.equal(
    (await cfn.send(new ListStacksCommand({}))).StackSummaries?.some((s) => s.StackName === 'exporter-two'),
    false,
  );
  await rejects(
    cfn.send(new DeleteStackCommand({ StackName: 'exporter' })),
    'ValidationError',
    /^Export shared-fn-arn cannot be deleted as it is in use by importer$/,
  );
  await rejects(
    cfn.send(
      new CreateStackCommand({ StackName: 'orphan', TemplateBody: importer('cfn-orphan').replace('shared-fn-arn', 'missing-export') }),
    ),
    'ValidationError',
    /No export named missing-export found/,
  );

  await cfn.send(new DeleteStackCommand({ StackName: 'importer' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'importer' });
  await cfn.send(new DeleteStackCommand({ StackName: 'exporter' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'exporter' });
  assert.deepEqual((await cfn.send(new ListExportsCommand({}))).Exports ?? [], []);
});

test('one engine, two doors: a stack made through CloudFormation is listed by `versa stacks` and shown by the console', async () => {
  await cfn.send(new CreateStackCommand({ StackName: 'seen', TemplateBody: PLAIN }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'seen' });

  const listed = await runTool(process.execPath, [BIN, 'stacks', '--endpoint-url', t.url]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /seen\s+CREATE_COMPLETE/);

  const browser = await launchBrowser();
  try {
    const page = await browser.page();
    await page.goto(`${t.url}/_versa/`);
    const card = page.getByRole('region', { name: 'Stacks' });
    await card.getByRole('link', { name: 'seen', exact: true }).waitFor();
    await card.getByText('CREATE_COMPLETE').first().waitFor();
    await page.goto(`${t.url}/_versa/#/stacks/seen`);
    await page.getByText('AWS::Lambda::Function').first().waitFor();
    await screenshot(page, 'cloudformation-stack');
  } finally {
    await browser.close();
  }
});

test('a REST API written as resources and methods (as the CDK writes them) answers; Rules assertions are checked first', async () => {
  const template = `
Parameters:
  Stage:
    Type: String
    Default: prod
Rules:
  KnownStage:
    Assertions:
      - Assert:
          Fn::Contains: [[prod, test], !Ref Stage]
        AssertDescription: Stage must be prod or test.
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: cfn-api-fn
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/r
      Code:
        ZipFile: "exports.handler = async (e) => ({ statusCode: 200, body: 'proxied ' + e.path });"
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Name: cfn-api
  Proxy:
    Type: AWS::ApiGateway::Resource
    Properties:
      RestApiId: !Ref Api
      ParentId: !GetAtt Api.RootResourceId
      PathPart: "{proxy+}"
  ProxyAny:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Proxy
      HttpMethod: ANY
      AuthorizationType: NONE
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Join ['', ['arn:aws:apigateway:', !Ref AWS::Region, ':lambda:path/2015-03-31/functions/', !GetAtt Fn.Arn, '/invocations']]
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !GetAtt Fn.Arn
      Principal: apigateway.amazonaws.com
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: ProxyAny
    Properties:
      RestApiId: !Ref Api
  StageResource:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Deployment
      StageName: !Ref Stage
Outputs:
  ApiId:
    Value: !Ref Api
`;
  await rejects(
    cfn.send(
      new CreateStackCommand({
        StackName: 'cfn-api',
        TemplateBody: template,
        Parameters: [{ ParameterKey: 'Stage', ParameterValue: 'dev' }],
      }),
    ),
    'ValidationError',
    /Stage must be prod or test\./,
  );
  await cfn.send(new CreateStackCommand({ StackName: 'cfn-api', TemplateBody: template }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'cfn-api' });
  const apiId = (await stack('cfn-api')).Outputs?.[0]?.OutputValue;
  const res = await fetch(`${t.url}/restapis/${apiId}/prod/_user_request_/hello/there`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'proxied /hello/there');
  await cfn.send(new DeleteStackCommand({ StackName: 'cfn-api' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'cfn-api' });
  assert.equal((await fetch(`${t.url}/restapis/${apiId}/prod/_user_request_/hello/there`)).status >= 400, true);
});

test('CancelUpdateStack during a canary stops the deployment and rolls the update back', async () => {
  const template = (marker: string) =>
    samTemplate(marker)
      .replace('FunctionName: cfn-hello', 'FunctionName: cfn-cancel')
      .replace('Canary10Percent5Minutes', 'Canary10Percent30Minutes');
  await cfn.send(
    new CreateStackCommand({
      StackName: 'cancel-me',
      TemplateBody: template('v1'),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'],
    }),
  );
  await waitUntilStackCreateComplete(waiter(), { StackName: 'cancel-me' });
  await rejects(
    cfn.send(new CancelUpdateStackCommand({ StackName: 'cancel-me' })),
    'ValidationError',
    /^CancelUpdateStack cannot be called from current stack status$/,
  );

  await cfn.send(
    new UpdateStackCommand({
      StackName: 'cancel-me',
      TemplateBody: template('v2'),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'],
    }),
  );
  // Wait until the alias is being moved (the canary holds 10% for 30 platform minutes, 15 s here).
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'cancel-me' }))).StackEvents ?? [];
    if (events.some((e) => /CodeDeploy deployment d-\w+ moves cfn-cancel:live from version 1 to 2/.test(e.ResourceStatusReason ?? '')))
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await cfn.send(new CancelUpdateStackCommand({ StackName: 'cancel-me' }));
  await assert.rejects(waitUntilStackUpdateComplete(waiter(), { StackName: 'cancel-me' }));
  assert.equal((await stack('cancel-me')).StackStatus, 'UPDATE_ROLLBACK_COMPLETE');
  const live = await t.lambda.send(new GetAliasCommand({ FunctionName: 'cfn-cancel', Name: 'live' }));
  assert.equal(live.FunctionVersion, '1');
  assert.equal(live.RoutingConfig?.AdditionalVersionWeights, undefined);
});

test('intrinsic functions yield at most 4 MiB for a stack operation: nested Fn::Sub and Fn::Split are a ValidationError, nothing stored', async () => {
  // A few hundred bytes that would make 100 MB (and with Fn::Split, lists of a hundred million strings).
  let sub: unknown = 'A'.repeat(10);
  for (let i = 0; i < 7; i++) sub = { 'Fn::Sub': ['${a}'.repeat(10), { a: sub }] };
  const template = (properties: object) =>
    JSON.stringify({
      Parameters: { Long: { Type: 'String', Default: 'x'.repeat(4000) } },
      Resources: { R: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, ...properties } } },
    });
  const rssBefore = process.memoryUsage().rss;
  for (const [name, properties] of [
    ['amplified', { Description: sub }],
    ['split', { Tags: { 'Fn::Split': ['', sub] } }],
    // Many copies of a value under the bound add up to more than it: a 4,000-character parameter, 1,100 times.
    ['copies', { Policies: Array.from({ length: 1100 }, () => ({ Ref: 'Long' })) }],
  ] as const) {
    const body = template(properties);
    assert.ok(body.length < 51_200, `${name}: a template CloudFormation takes`);
    await rejects(
      cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: body, Capabilities: ['CAPABILITY_IAM'] })),
      'ValidationError',
      /yields more than Versa resolves for one stack operation \(4194304 characters in all/,
    );
    assert.equal(
      (await cfn.send(new ListStacksCommand({}))).StackSummaries?.some((s) => s.StackName === name),
      false,
      name,
    );
  }
  assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'the server (this process) never held the result');
  // Under the bound it resolves as before.
  let small: unknown = 'A';
  for (let i = 0; i < 3; i++) small = { 'Fn::Sub': ['${a}'.repeat(10), { a: small }] };
  await cfn.send(
    new CreateStackCommand({ StackName: 'resolved', TemplateBody: template({ Description: small }), Capabilities: ['CAPABILITY_IAM'] }),
  );
  await waitUntilStackCreateComplete(waiter(), { StackName: 'resolved' });
  const resource = await cfn.send(new DescribeStackResourcesCommand({ StackName: 'resolved' }));
  assert.equal(resource.StackResources?.[0]?.ResourceStatus, 'CREATE_COMPLETE');
});

test('a parameter’s AllowedPattern runs in linear time; a pattern that is invalid or cannot is a ValidationError', async () => {
  const template = (pattern: string, value: string) =>
    JSON.stringify({
      Parameters: { P: { Type: 'String', Default: value, AllowedPattern: pattern } },
      Resources: { R: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } } },
    });
  // (a+)+ against 40 a's and a '!' backtracks for hours; in linear time it is refused at once.
  const started = Date.now();
  const health = setInterval(() => void fetch(`${t.url}/_versa/health`).catch(() => undefined), 50);
  try {
    await rejects(
      cfn.send(new CreateStackCommand({ StackName: 'redos', TemplateBody: template('(a+)+', `${'a'.repeat(40)}!`) })),
      'ValidationError',
      /^Parameter 'P' must match pattern \(a\+\)\+$/,
    );
  } finally {
    clearInterval(health);
  }
  assert.ok(Date.now() - started < 10_000, `refused in ${Date.now() - started} ms`);
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'bad-pattern', TemplateBody: template('(', 'a') })),
    'ValidationError',
    /^Parameter 'P': AllowedPattern \( is not a valid regular expression$/,
  );
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'backref', TemplateBody: template('(a)\\1', 'aa') })),
    'ValidationError',
    /AllowedPattern \(a\)\\1 cannot be matched in linear time, as Versa matches patterns: it uses a backreference or lookaround/,
  );
  assert.equal(
    (await cfn.send(new ListStacksCommand({}))).StackSummaries?.some((s) => ['redos', 'bad-pattern', 'backref'].includes(s.StackName!)),
    false,
  );
  // A pattern that matches is still a pattern.
  await cfn.send(new CreateStackCommand({ StackName: 'patterned', TemplateBody: template('[a-z]+-\\d{2}', 'abc-12') }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'patterned' });
});

test('CloudFormation’s section limits: 500 resources, 200 outputs, parameters and mappings', async () => {
  const section = (n: number, make: (i: number) => unknown) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`X${i}`, make(i)]));
  const parameter = { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } };
  const cases: [string, object, RegExp][] = [
    [
      'resources',
      { Resources: section(501, () => parameter) },
      /^Template format error: Number of resources, 501, is greater than maximum allowed, 500$/,
    ],
    [
      'outputs',
      { Resources: { R: parameter }, Outputs: section(201, () => ({ Value: 'v' })) },
      /^Template format error: Number of outputs, 201, is greater than maximum allowed, 200$/,
    ],
    [
      'parameters',
      { Resources: { R: parameter }, Parameters: section(201, () => ({ Type: 'String', Default: 'd' })) },
      /^Template format error: Number of parameters, 201, is greater than maximum allowed, 200$/,
    ],
    [
      'mappings',
      { Resources: { R: parameter }, Mappings: section(201, () => ({ k: { v: 'x' } })) },
      /^Template format error: Number of mappings, 201, is greater than maximum allowed, 200$/,
    ],
  ];
  for (const [name, body, message] of cases) {
    await rejects(
      cfn.send(new CreateStackCommand({ StackName: `too-many-${name}`, TemplateBody: JSON.stringify(body) })),
      'ValidationError',
      message,
    );
    await rejects(cfn.send(new ValidateTemplateCommand({ TemplateBody: JSON.stringify(body) })), 'ValidationError', message);
  }
  assert.equal(
    (await cfn.send(new ListStacksCommand({}))).StackSummaries?.some((s) => s.StackName!.startsWith('too-many-')),
    false,
  );
});

test('an output naming an attribute its resource lacks rolls the create back; the stack can be deleted', async () => {
  const body = JSON.stringify({
    Resources: { R: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/cfn/output-attr', Type: 'String', Value: 'x' } } },
    Outputs: { O: { Value: { 'Fn::GetAtt': ['R', 'Nope'] } } },
  });
  await cfn.send(new CreateStackCommand({ StackName: 'bad-output', TemplateBody: body }));
  await assert.rejects(waitUntilStackCreateComplete(waiter(), { StackName: 'bad-output' }));
  const failed = await stack('bad-output');
  assert.equal(failed.StackStatus, 'ROLLBACK_COMPLETE');
  assert.match(failed.StackStatusReason ?? '', /Output O: Fn::GetAtt: R has no attribute Nope/);
  // What it made is gone, and the stack goes when asked.
  const ssm = await awsFetch(`${t.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
    body: JSON.stringify({ Name: '/cfn/output-attr' }),
  });
  assert.equal(ssm.status, 400);
  await cfn.send(new DeleteStackCommand({ StackName: 'bad-output' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'bad-output' });
});

test('a TemplateURL naming an object past 1 MB is refused before it is read; looking at a template marks no bucket', async () => {
  const s3 = s3ClientFor(t.url);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'templates' }));
    // 64 MB: far past a template, and the server would have held all of it (and a string of it) to find out.
    await s3.send(new PutObjectCommand({ Bucket: 'templates', Key: 'huge.yaml', Body: Buffer.alloc(64 * 1024 * 1024, 'a') }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'templates',
        Key: 'small.json',
        Body: JSON.stringify({ Resources: { R: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } } } }),
      }),
    );
    for (const send of [
      () => cfn.send(new ValidateTemplateCommand({ TemplateURL: 'http://127.0.0.1/templates/huge.yaml' })),
      () => cfn.send(new CreateStackCommand({ StackName: 'huge-url', TemplateURL: 'http://127.0.0.1/templates/huge.yaml' })),
    ]) {
      await rejects(send(), 'ValidationError', /^Template may not exceed 1048576 bytes in size \(this one is 67108864 bytes\)\.$/);
    }
    await cfn.send(new ValidateTemplateCommand({ TemplateURL: 'http://127.0.0.1/templates/small.json' }));
    assert.equal(
      (await t.server.services.store.s3.getBucket('templates'))?.artifacts,
      undefined,
      'ValidateTemplate deploys nothing from it',
    );
    await cfn.send(new CreateStackCommand({ StackName: 'from-url', TemplateURL: 'http://127.0.0.1/templates/small.json' }));
    await waitUntilStackCreateComplete(waiter(), { StackName: 'from-url' });
    assert.equal((await t.server.services.store.s3.getBucket('templates'))?.artifacts, true, 'a stack was made from it');
  } finally {
    s3.destroy();
  }
});

test('templates are parsed two at a time: a flood of ValidateTemplate is throttled, not a thread and a heap each', async () => {
  const once = new CloudFormationClient({
    endpoint: t.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  // A YAML template (under the 51,200 bytes a body may have) that takes a parse a while: aliases that
  // expand to many values.
  const lines = ['Resources:', '  R:', '    Type: AWS::SSM::Parameter', '    Properties: {Type: String, Value: x}', 'Metadata:'];
  lines.push('  a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]');
  for (let i = 1; i < 4; i++)
    lines.push(`  a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
  for (let i = 0; i < 500; i++) lines.push(`  m${i}: {a: [1, 2, {b: c}], d: "e${i}"}`);
  const TemplateBody = lines.join('\n');
  assert.ok(TemplateBody.length < 51_200);
  const threads = () => readdirSync('/proc/self/task').length;
  const baseline = threads();
  let most = baseline;
  const sampler = setInterval(() => (most = Math.max(most, threads())), 5);
  try {
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, () => once.send(new ValidateTemplateCommand({ TemplateBody }))));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason as Error);
    assert.ok(refused.length >= 30 - 2 - 8, `${refused.length} refused`);
    for (const e of refused) {
      assert.equal(e.name, 'Throttling', e.message);
      assert.equal(e.message, 'Rate exceeded');
    }
    assert.ok(outcomes.some((o) => o.status === 'fulfilled'));
  } finally {
    clearInterval(sampler);
    once.destroy();
  }
  assert.ok(most - baseline <= 2 * 3, `${most - baseline} threads more at most`);
  // Once the flood is past, a template is read as ever.
  await cfn.send(new ValidateTemplateCommand({ TemplateBody }));
});

/** A plain function (inline code) with `extra` merged into its properties, as a JSON template. */
function functionTemplate(extra: Record<string, unknown>, name = 'typed-fn'): string {
  return JSON.stringify({
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: 'arn:aws:iam::000000000000:role/r',
          Code: { ZipFile: 'exports.handler = async () => 1;' },
          ...extra,
        },
      },
    },
  });
}

test('a function’s numeric properties must be whole numbers (or strings of digits): anything else is a ValidationError, nothing made', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ Timeout: 'abc' }, /Value of property Timeout must be of type Integer/],
    [{ Timeout: { a: 1 } }, /Value of property Timeout must be of type Integer/],
    [{ Timeout: [5] }, /Value of property Timeout must be of type Integer/],
    [{ Timeout: 2.5 }, /Value of property Timeout must be of type Integer/],
    [{ MemorySize: 'lots' }, /Value of property MemorySize must be of type Integer/],
    [{ EphemeralStorage: { Size: 'abc' } }, /Value of property EphemeralStorage\.Size must be of type Integer/],
  ];
  for (const [extra, message] of cases) {
    await rejects(
      cfn.send(new CreateStackCommand({ StackName: 'typed', TemplateBody: functionTemplate(extra) })),
      'ValidationError',
      message,
    );
    await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'typed' })), 'ValidationError', /does not exist/);
    await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'typed-fn' })), { name: 'ResourceNotFoundException' });
  }
  // A string of digits is an Integer to CloudFormation.
  await cfn.send(
    new CreateStackCommand({ StackName: 'typed', TemplateBody: functionTemplate({ Timeout: '30', EphemeralStorage: { Size: '1024' } }) }),
  );
  await waitUntilStackCreateComplete(waiter(), { StackName: 'typed' });
  const made = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'typed-fn' }));
  assert.equal(made.Configuration?.Timeout, 30);
  assert.equal(made.Configuration?.EphemeralStorage?.Size, 1024);
  const out = await t.lambda.send(new InvokeCommand({ FunctionName: 'typed-fn' }));
  assert.equal(Buffer.from(out.Payload!).toString(), '1');
  await cfn.send(new DeleteStackCommand({ StackName: 'typed' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'typed' });
});

test('a function stored with a timeout and memory that are not numbers (before they were checked) runs with the defaults; the server stays up', async () => {
  await createFunction(t.lambda, 'stored-nan', { 'index.js': 'exports.handler = async () => "ran";' });
  // As a stack made it before its properties were typed: NaN, which JSON keeps as null.
  const db = new Database(path.join(t.dataDir, 'versa.db'));
  try {
    db.prepare(
      "UPDATE functions SET doc = json_set(doc, '$.spec.timeout', json('null'), '$.spec.memorySize', json('null')) WHERE name = ?",
    ).run('stored-nan');
  } finally {
    db.close();
  }
  // Any write to the function makes the server read it again from the store.
  await t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: 'stored-nan', ReservedConcurrentExecutions: 1 }));
  const out = await t.lambda.send(new InvokeCommand({ FunctionName: 'stored-nan' }));
  assert.equal(out.FunctionError, undefined);
  assert.equal(Buffer.from(out.Payload!).toString(), '"ran"');
  // Past the default 3 s timeout the server still answers.
  await new Promise((r) => setTimeout(r, 3500));
  assert.equal((await t.lambda.send(new GetFunctionCommand({ FunctionName: 'stored-nan' }))).Configuration?.FunctionName, 'stored-nan');
  await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'stored-nan' }));
});

test('__proto__, constructor and prototype are never a resource’s properties, a parameter or an output; nested, __proto__ is an ordinary key', async () => {
  const refusedWith = async (TemplateBody: string, message: RegExp, Parameters?: { ParameterKey: string; ParameterValue: string }[]) => {
    await rejects(
      cfn.send(
        new CreateStackCommand({
          StackName: 'proto',
          TemplateBody,
          Parameters,
          Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'],
        }),
      ),
      'ValidationError',
      message,
    );
    await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'proto' })), 'ValidationError', /does not exist/);
  };
  // Its members would have become inherited, unseen by the property checks yet read when the resource is made.
  await refusedWith(
    '{"Transform":"AWS::Serverless-2016-10-31","Resources":{"Fn":{"Type":"AWS::Serverless::Function","Properties":{"__proto__":' +
      '{"Runtime":"nodejs20.x","Handler":"index.handler","InlineCode":"exports.handler=async()=>1","Bogus":1}}}}}',
    /Resource Fn: property __proto__ of AWS::Serverless::Function is not supported by Versa/,
  );
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    await refusedWith(
      `{"Resources":{"P":{"Type":"AWS::SSM::Parameter","Properties":{"${key}":{"Type":"String","Value":"x"}}}}}`,
      new RegExp(`Resource P: Encountered unsupported property ${key}`),
    );
  }
  const plain =
    '{"Parameters":{"V":{"Type":"String","Default":"v"}},"Resources":{"P":{"Type":"AWS::SSM::Parameter","Properties":{"Type":"String","Value":"x"}}}}';
  for (const key of ['__proto__', 'constructor', 'toString']) {
    await refusedWith(plain, new RegExp(`^Parameters: \\[${key}\\] do not exist in the template$`), [
      { ParameterKey: key, ParameterValue: 'x' },
    ]);
  }
  await refusedWith(plain.replace('"V"', '"__proto__"'), /Template format error: Parameter name __proto__ is non alphanumeric\./);
  await refusedWith(
    plain.replace('"Resources"', '"Outputs":{"__proto__":{"Value":"x"}},"Resources"'),
    /Template format error: Output name __proto__ is non alphanumeric\./,
  );

  // Inside a property's value __proto__ is a key like any other, kept as it was written.
  const policy = '{"Version":"2012-10-17","__proto__":{"Sid":"kept"},"Statement":[]}';
  await cfn.send(
    new CreateStackCommand({
      StackName: 'proto-nested',
      TemplateBody: `{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"BucketName":"proto-nested"}},"BP":{"Type":"AWS::S3::BucketPolicy","Properties":{"Bucket":{"Ref":"B"},"PolicyDocument":${policy}}}}}`,
    }),
  );
  await waitUntilStackCreateComplete(waiter(), { StackName: 'proto-nested' });
  const s3 = s3ClientFor(t.url);
  try {
    const stored = await s3.send(new GetBucketPolicyCommand({ Bucket: 'proto-nested' }));
    assert.equal(stored.Policy, policy);
  } finally {
    s3.destroy();
  }
  await cfn.send(new DeleteStackCommand({ StackName: 'proto-nested' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'proto-nested' });
});

test('a plain function’s properties are checked as a SAM function’s are: each unsupported one and each of the wrong type is named', async () => {
  await rejects(
    cfn.send(
      new CreateStackCommand({
        StackName: 'typed',
        TemplateBody: functionTemplate({
          Bogus: { x: 1 },
          Layers: ['arn:layer'],
          Description: ['x'],
          Environment: { Variables: { A: { b: 1 } } },
        }),
      }),
    ),
    'ValidationError',
    new RegExp(
      [
        'Resource Fn: Encountered unsupported property Bogus',
        'Resource Fn: Encountered unsupported property Layers',
        'Resource Fn: Value of property Description must be of type String',
        'Resource Fn: Value of property Environment\\.Variables\\.A must be of type String',
      ].join('[^]*'),
    ),
  );
  await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'typed' })), 'ValidationError', /does not exist/);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'typed-fn' })), { name: 'ResourceNotFoundException' });
});

test('an alarm’s properties are typed as CloudFormation types them: strings of numbers are converted, anything else refused up front', async () => {
  const alarmTemplate = (extra: Record<string, unknown>) =>
    JSON.stringify({
      Resources: {
        A: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmName: 'typed-alarm',
            Namespace: 'AWS/Lambda',
            MetricName: 'Errors',
            Statistic: 'Sum',
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanThreshold',
            ...extra,
          },
        },
      },
    });
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ Threshold: 'abc' }, /Resource A: Value of property Threshold must be of type Double/],
    [{ ActionsEnabled: 'maybe' }, /Resource A: Value of property ActionsEnabled must be of type Boolean/],
    [{ AlarmActions: 'arn:x' }, /Resource A: Value of property AlarmActions must be of type List of String/],
    [{ AlarmActions: [{ a: 1 }] }, /Resource A: Value of property AlarmActions\[0\] must be of type String/],
    [{ Dimensions: 'x' }, /Resource A: Value of property Dimensions must be of type List of Dimension/],
    [{ Dimensions: [{ Name: { a: 1 }, Value: 'v' }] }, /Resource A: Value of property Dimensions\[0\]\.Name must be of type String/],
    [{ Unit: [1] }, /Resource A: Value of property Unit must be of type String/],
    [{ Metrics: 'x' }, /Resource A: Encountered unsupported property Metrics/],
  ];
  for (const [extra, message] of cases) {
    await rejects(cfn.send(new CreateStackCommand({ StackName: 'alarm', TemplateBody: alarmTemplate(extra) })), 'ValidationError', message);
  }
  const cw = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    assert.deepEqual((await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['typed-alarm'] }))).MetricAlarms, []);
    await cfn.send(
      new CreateStackCommand({
        StackName: 'alarm',
        TemplateBody: alarmTemplate({ Threshold: '2.5', Period: '60', ActionsEnabled: 'false', AlarmActions: ['arn:x'] }),
      }),
    );
    await waitUntilStackCreateComplete(waiter(), { StackName: 'alarm' });
    const [made] = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['typed-alarm'] }))).MetricAlarms ?? [];
    assert.deepEqual([made?.Threshold, made?.Period, made?.ActionsEnabled, made?.AlarmActions], [2.5, 60, false, ['arn:x']]);
  } finally {
    cw.destroy();
  }
  await cfn.send(new DeleteStackCommand({ StackName: 'alarm' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'alarm' });
});

test('a resource that fails for a reason Versa did not foresee says "Internal Failure", not the error’s internals', async () => {
  // A Swagger path that is not a map of methods fails while the API is being made.
  const TemplateBody = JSON.stringify({
    Resources: { Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Body: { paths: { '/x': null } } } } },
  });
  await cfn.send(new CreateStackCommand({ StackName: 'internal', TemplateBody }));
  await assert.rejects(waitUntilStackCreateComplete(waiter(), { StackName: 'internal' }));
  const failed = await stack('internal');
  assert.equal(failed.StackStatus, 'ROLLBACK_COMPLETE');
  assert.equal(failed.StackStatusReason, 'Internal Failure');
  const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'internal' }))).StackEvents ?? [];
  const reasons = events.map((e) => e.ResourceStatusReason ?? '');
  assert.ok(reasons.includes('Internal Failure'), reasons.join(' | '));
  assert.ok(!reasons.some((r) => /TypeError|Cannot convert/.test(r)), reasons.join(' | '));
  await cfn.send(new DeleteStackCommand({ StackName: 'internal' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'internal' });
});

test('a value XML cannot carry (a NUL, ESC) is written as U+FFFD: DescribeStacks stays readable to boto3, for that stack and every list', async () => {
  // Built inside the template (JSON escapes in a parameter's default), so no request carries it.
  const TemplateBody = JSON.stringify({
    Description: 'd\u0001',
    Parameters: { V: { Type: 'String', Default: 'a\u0000b\u001b[31m' } },
    Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } } },
    Outputs: { O: { Value: { 'Fn::Join': ['', [{ Ref: 'V' }, '\u0002']] } } },
  });
  await cfn.send(new CreateStackCommand({ StackName: 'control-chars', TemplateBody }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'control-chars' });
  const script = `
import boto3, json, sys
cfn = boto3.client('cloudformation', endpoint_url=sys.argv[1])
one = cfn.describe_stacks(StackName='control-chars')['Stacks'][0]
every = cfn.describe_stacks()['Stacks']
print(json.dumps({'description': one['Description'], 'output': one['Outputs'][0]['OutputValue'],
  'parameter': one['Parameters'][0]['ParameterValue'], 'listed': [s['StackName'] for s in every]}))
`;
  const run = await runTool('python3', ['-c', script, t.url], awsToolEnv(scratch));
  assert.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as { description: string; output: string; parameter: string; listed: string[] };
  assert.equal(seen.description, 'd\uFFFD');
  assert.equal(seen.output, 'a\uFFFDb\uFFFD[31m\uFFFD');
  assert.equal(seen.parameter, 'a\uFFFDb\uFFFD[31m');
  assert.ok(seen.listed.includes('control-chars'));
  await cfn.send(new DeleteStackCommand({ StackName: 'control-chars' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'control-chars' });
});

test('CreateStack, UpdateStack and CreateChangeSet refuse a parameter value, tag or description holding a character XML cannot carry', async () => {
  const TemplateBody = JSON.stringify({
    Parameters: { V: { Type: 'String' } },
    Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: { Ref: 'V' } } } },
  });
  for (const value of ['a\u0000b', '\u0001\u0002\u001b[31m', 'x\uffff']) {
    await rejects(
      cfn.send(
        new CreateStackCommand({ StackName: 'xml-input', TemplateBody, Parameters: [{ ParameterKey: 'V', ParameterValue: value }] }),
      ),
      'ValidationError',
      /^Parameters\.member\.1\.ParameterValue contains the character U\+(0000|0001|FFFF), which CloudFormation cannot carry; remove it\.$/,
    );
  }
  await rejects(
    cfn.send(
      new CreateStackCommand({
        StackName: 'xml-input',
        TemplateBody,
        Parameters: [{ ParameterKey: 'V', ParameterValue: 'ok' }],
        Tags: [{ Key: 'k', Value: 'v\u0007' }],
      }),
    ),
    'ValidationError',
    /^Tags\.member\.1\.Value contains the character U\+0007/,
  );
  await rejects(
    cfn.send(
      new CreateChangeSetCommand({
        StackName: 'xml-input',
        ChangeSetName: 'cs',
        ChangeSetType: 'CREATE',
        TemplateBody,
        Parameters: [{ ParameterKey: 'V', ParameterValue: 'ok' }],
        Description: 'd\u0000',
      }),
    ),
    'ValidationError',
    /^Description contains the character U\+0000/,
  );
  await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'xml-input' })), 'ValidationError', /does not exist/);
  await cfn.send(
    new CreateStackCommand({
      StackName: 'xml-input',
      TemplateBody,
      Parameters: [{ ParameterKey: 'V', ParameterValue: 'tab\tand\nnewline' }],
    }),
  );
  await waitUntilStackCreateComplete(waiter(), { StackName: 'xml-input' });
  await rejects(
    cfn.send(
      new UpdateStackCommand({ StackName: 'xml-input', TemplateBody, Parameters: [{ ParameterKey: 'V', ParameterValue: '\u0000' }] }),
    ),
    'ValidationError',
    /^Parameters\.member\.1\.ParameterValue contains the character U\+0000/,
  );
  assert.equal((await stack('xml-input')).Parameters?.[0]?.ParameterValue, 'tab\tand\nnewline');
  await cfn.send(new DeleteStackCommand({ StackName: 'xml-input' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'xml-input' });
});

test('a chain of a thousand conditions, each naming the next, is a ValidationError, not a 500', async () => {
  const chain = (n: number) => {
    const conditions: Record<string, unknown> = { [`C${n}`]: { 'Fn::Equals': ['a', 'a'] } };
    for (let i = 0; i < n; i++) conditions[`C${i}`] = { Condition: `C${i + 1}` };
    return JSON.stringify({
      Conditions: conditions,
      Resources: { P: { Type: 'AWS::SSM::Parameter', Condition: 'C0', Properties: { Type: 'String', Value: 'x' } } },
    });
  };
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'chain', TemplateBody: chain(1000) })),
    'ValidationError',
    /conditions name conditions more than 100 deep; Versa refuses it\./,
  );
  await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'chain' })), 'ValidationError', /does not exist/);
  // A chain of a few dozen is as any template may have.
  await cfn.send(new CreateStackCommand({ StackName: 'chain', TemplateBody: chain(50) }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'chain' });
  await cfn.send(new DeleteStackCommand({ StackName: 'chain' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'chain' });
});

test('DependsOn: a resource that waits on itself is a circular dependency; one that is not a name or a list of names is refused', async () => {
  const withDependsOn = (dependsOn: unknown) =>
    JSON.stringify({ Resources: { A: { Type: 'AWS::SSM::Parameter', DependsOn: dependsOn, Properties: { Type: 'String', Value: 'x' } } } });
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'depends', TemplateBody: withDependsOn('A') })),
    'ValidationError',
    /^Circular dependency between resources: \[A\]$/,
  );
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'depends', TemplateBody: withDependsOn({ x: 1 }) })),
    'ValidationError',
    /^Resource A: DependsOn must be a resource name or a list of them\.$/,
  );
  await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'depends' })), 'ValidationError', /does not exist/);
});

test('hundreds of resources, each waiting on all before it, are made one by one without holding the server, each step writing what it changed', async () => {
  // 300 parameters, each DependsOn every earlier one: 300 steps in a row, each storing what it changed.
  const resources: Record<string, unknown> = {};
  for (let i = 0; i < 300; i++) {
    resources[`P${i}`] = {
      Type: 'AWS::SSM::Parameter',
      DependsOn: Array.from({ length: i }, (_, j) => `P${j}`),
      Properties: { Type: 'String', Value: `v${i}` },
    };
  }
  const s3 = s3ClientFor(t.url);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'dense' }));
    await s3.send(new PutObjectCommand({ Bucket: 'dense', Key: 'dag.json', Body: JSON.stringify({ Resources: resources }) }));
    // What the engine hands the store (the real one, watched): the stack whole, or a step's rows.
    const stacks = t.server.services.store.stacks;
    const writes = { put: 0, largestStep: 0 };
    const [put, step] = [stacks.put.bind(stacks), stacks.step.bind(stacks)];
    stacks.put = (stack) => (writes.put++, put(stack));
    stacks.step = (stack, rows) => {
      writes.largestStep = Math.max(writes.largestStep, JSON.stringify(rows).length);
      return step(stack, rows);
    };
    try {
      const { heldMs } = await loopHolds(async () => {
        await cfn.send(new CreateStackCommand({ StackName: 'dense', TemplateURL: 'http://127.0.0.1/dense/dag.json' }));
        await waitUntilStackCreateComplete({ ...waiter(), maxWaitTime: 240 }, { StackName: 'dense' });
      });
      // Each step's write is one turn of the event loop, not all 300 of them in one (seconds, before).
      assert.ok(heldMs < 1000, `the event loop was held for ${Math.round(heldMs)} ms`);
    } finally {
      Object.assign(stacks, { put, step });
    }
    // The template and the plan (300 KB here) are written when the operation starts and ends, not at
    // each of its 300 steps; a step writes one resource and its events.
    assert.equal(writes.put, 2);
    assert.ok(writes.largestStep < 2000, `a step wrote ${writes.largestStep} bytes of rows`);
    const last299 = await cfn.send(new DescribeStackResourceCommand({ StackName: 'dense', LogicalResourceId: 'P299' }));
    const made = await t.server.services.store.parameters.get(last299.StackResourceDetail!.PhysicalResourceId!);
    assert.equal(made?.versions.at(-1)?.value, 'v299');
  } finally {
    s3.destroy();
  }
  await cfn.send(new DeleteStackCommand({ StackName: 'dense' }));
  await waitUntilStackDeleteComplete({ ...waiter(), maxWaitTime: 240 }, { StackName: 'dense' });
});

test('Fn::Select takes an index written as a number or in decimal digits; "0x0" is refused', async () => {
  const select = (index: unknown) =>
    JSON.stringify({
      Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: { 'Fn::Select': [index, ['a', 'b']] } } } },
    });
  for (const index of ['0x0', '1e0', '', ' 1']) {
    await rejects(
      cfn.send(new CreateStackCommand({ StackName: 'select', TemplateBody: select(index) })),
      'ValidationError',
      /Fn::Select: index .* is outside the list of 2/,
    );
  }
  await cfn.send(new CreateStackCommand({ StackName: 'select', TemplateBody: select('1') }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'select' });
  await cfn.send(new DeleteStackCommand({ StackName: 'select' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'select' });
});

test('broken YAML is refused with its first ten problems and a count of the rest, not one line per problem', async () => {
  const TemplateBody = ('Resources:\n' + '  a: {b: c}} d\n'.repeat(3640)).slice(0, 51_200);
  await assert.rejects(cfn.send(new ValidateTemplateCommand({ TemplateBody })), (err: Error) => {
    assert.equal(err.name, 'ValidationError');
    assert.ok(err.message.length < 10_000, `${err.message.length} characters`);
    assert.match(err.message, /Template format error: YAML not well-formed\. \(line \d+, column \d+\)/);
    assert.match(err.message, /… and \d+ more YAML problems\./);
    return true;
  });
});

test('a SAM API whose paths make more than 300 API resources is refused before anything is made', async () => {
  // Each /p{i}/{x} is two resources: 151 of them and the root make 303.
  const events = Object.fromEntries(
    Array.from({ length: 151 }, (_, i) => [`E${i}`, { Type: 'Api', Properties: { Path: `/p${i}/{x}`, Method: 'get' } }]),
  );
  const TemplateBody = JSON.stringify({
    Transform: 'AWS::Serverless-2016-10-31',
    Resources: {
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          FunctionName: 'many-paths',
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          InlineCode: 'exports.handler = async () => ({ statusCode: 200 });',
          Events: events,
        },
      },
    },
  });
  await rejects(
    cfn.send(new CreateStackCommand({ StackName: 'many-paths', TemplateBody, Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'] })),
    'ValidationError',
    /Resource ServerlessRestApi: Maximum number of Resources for this API has been reached \(300\)\./,
  );
  await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'many-paths' })), 'ValidationError', /does not exist/);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'many-paths' })), { name: 'ResourceNotFoundException' });
});

test('DescribeStackResource of constructor, toString or __proto__ is a resource that does not exist', async () => {
  const TemplateBody = JSON.stringify({ Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } } } });
  await cfn.send(new CreateStackCommand({ StackName: 'dsr', TemplateBody }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'dsr' });
  for (const id of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    await rejects(
      cfn.send(new DescribeStackResourceCommand({ StackName: 'dsr', LogicalResourceId: id })),
      'ValidationError',
      new RegExp(`^Resource ${id} does not exist for stack dsr$`),
    );
  }
  assert.equal(
    (await cfn.send(new DescribeStackResourceCommand({ StackName: 'dsr', LogicalResourceId: 'P' }))).StackResourceDetail?.LogicalResourceId,
    'P',
  );
  await cfn.send(new DeleteStackCommand({ StackName: 'dsr' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'dsr' });
});

test('a SAM function’s Timeout or MemorySize that is not a whole number is refused as a plain function’s is, nothing made', async () => {
  for (const [extra, message] of [
    [{ Timeout: 'abc' }, /Resource F: Value of property Timeout must be of type Integer/],
    [{ Timeout: { a: 1 } }, /Resource F: Value of property Timeout must be of type Integer/],
    [{ MemorySize: 'abc' }, /Resource F: Value of property MemorySize must be of type Integer/],
  ] as const) {
    const TemplateBody = JSON.stringify({
      Transform: 'AWS::Serverless-2016-10-31',
      Resources: {
        F: {
          Type: 'AWS::Serverless::Function',
          Properties: {
            FunctionName: 'sam-typed',
            Runtime: 'nodejs20.x',
            Handler: 'index.handler',
            InlineCode: 'exports.handler=async()=>1',
            ...extra,
          },
        },
      },
    });
    await rejects(
      cfn.send(
        new CreateStackCommand({ StackName: 'sam-typed', TemplateBody, Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'] }),
      ),
      'ValidationError',
      message,
    );
    await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'sam-typed' })), { name: 'ResourceNotFoundException' });
  }
});

test('NoEcho: a parameter’s value shows as **** on both doors, in resources’ properties and change sets too, never in clear', async () => {
  const secret = 's3cr3t-hunter2';
  const later = 'other-s3cret-value';
  const template = (extra: object = {}) =>
    JSON.stringify({
      Parameters: { Secret: { Type: 'String', NoEcho: true }, Plain: { Type: 'String' }, ...extra },
      Resources: {
        P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: { 'Fn::Sub': 'db://u:${Secret}@h/${Plain}' } } },
      },
    });
  const parameters = [
    { ParameterKey: 'Secret', ParameterValue: secret },
    { ParameterKey: 'Plain', ParameterValue: 'visible' },
  ];
  await cfn.send(new CreateStackCommand({ StackName: 'no-echo', TemplateBody: template(), Parameters: parameters }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'no-echo' });
  const shown = Object.fromEntries((await stack('no-echo')).Parameters!.map((p) => [p.ParameterKey!, p.ParameterValue!] as const));
  assert.deepEqual(shown, { Secret: '****', Plain: 'visible' });
  // A change set whose template declares another NoEcho parameter.
  await cfn.send(
    new CreateChangeSetCommand({
      StackName: 'no-echo',
      ChangeSetName: 'more',
      TemplateBody: template({ Later: { Type: 'String', NoEcho: 'true' } }),
      Parameters: [...parameters, { ParameterKey: 'Later', ParameterValue: later }],
    }),
  );
  const described = await cfn.send(new DescribeChangeSetCommand({ StackName: 'no-echo', ChangeSetName: 'more' }));
  assert.equal(described.Parameters?.find((p) => p.ParameterKey === 'Later')?.ParameterValue, '****');

  const get = await awsFetch(`${t.url}/_versa/api/stacks/no-echo`);
  const text = await get.text();
  assert.equal(get.status, 200, text);
  assert.ok(!text.includes(secret) && !text.includes(later), text);
  const { stack: doc } = JSON.parse(text) as {
    stack: { parameters: Record<string, string>; resources: Record<string, { properties: Record<string, unknown> }> };
  };
  assert.deepEqual(doc.parameters, { Secret: '****', Plain: 'visible' });
  assert.equal(doc.resources.P?.properties.Value, 'db://u:****@h/visible', 'the rest of the property still shows');
  const list = await (await awsFetch(`${t.url}/_versa/api/stacks`)).text();
  assert.ok(!list.includes(secret), list);
  // Versa's deploy door answers with the stack as well.
  const planned = await awsFetch(`${t.url}/_versa/api/stacks/no-echo/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ template: template(), parameters: { Secret: secret, Plain: 'visible' }, planOnly: true }),
  });
  const plannedText = await planned.text();
  assert.equal(planned.status, 200, plannedText);
  assert.ok(!plannedText.includes(secret), plannedText);

  await cfn.send(new DeleteStackCommand({ StackName: 'no-echo' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'no-echo' });
});

test('an unknown Transform is refused at ValidateTemplate, CreateStack, UpdateStack and CreateChangeSet, and by versa deploy; nothing stored', async () => {
  const body = (transform: unknown) =>
    JSON.stringify({
      Transform: transform,
      Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } } },
    });
  const sam = 'AWS::Serverless-2016-10-31';
  // What works today keeps working: SAM's transform, with LanguageExtensions beside it.
  const known = await cfn.send(new ValidateTemplateCommand({ TemplateBody: body([sam, 'AWS::LanguageExtensions']) }));
  assert.deepEqual(known.DeclaredTransforms, [sam, 'AWS::LanguageExtensions']);
  for (const [transform, message] of [
    ['AWS::Foo', /^No transform named AWS::Foo found\.$/],
    [[sam, 'Bogus'], /^No transform named 000000000000::Bogus found\.$/],
    [{ Name: 'Bogus', Parameters: {} }, /^No transform named 000000000000::Bogus found\.$/],
    [{ Parameters: {} }, /^Transforms defined as maps require Name key\.$/],
    [{ Name: { Ref: 'MacroName' } }, /^Key Name of transform definition must be a string\.$/],
    [[sam, { Name: 'AWS::Include', Parameters: { Location: 's3://b/k' } }], /^Transform AWS::Include is not supported by Versa/],
  ] as const) {
    const TemplateBody = body(transform);
    await rejects(cfn.send(new ValidateTemplateCommand({ TemplateBody })), 'ValidationError', message);
    await rejects(
      cfn.send(new CreateStackCommand({ StackName: 'bogus-transform', TemplateBody, Capabilities: ['CAPABILITY_AUTO_EXPAND'] })),
      'ValidationError',
      message,
    );
    await rejects(
      cfn.send(new CreateChangeSetCommand({ StackName: 'bogus-transform', ChangeSetName: 'c', ChangeSetType: 'CREATE', TemplateBody })),
      'ValidationError',
      message,
    );
    await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'bogus-transform' })), 'ValidationError', /does not exist/);
    const versa = await awsFetch(`${t.url}/_versa/api/stacks/bogus-transform/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ template: TemplateBody }),
    });
    assert.equal(versa.status, 400);
    assert.match(((await versa.json()) as { message: string }).message, message);
  }
  // An update to one is refused too, and leaves the stack's template as it was.
  await cfn.send(
    new CreateStackCommand({ StackName: 'transform-update', TemplateBody: body(sam), Capabilities: ['CAPABILITY_AUTO_EXPAND'] }),
  );
  await waitUntilStackCreateComplete(waiter(), { StackName: 'transform-update' });
  await rejects(
    cfn.send(
      new UpdateStackCommand({
        StackName: 'transform-update',
        TemplateBody: body([sam, 'Bogus']),
        Capabilities: ['CAPABILITY_AUTO_EXPAND'],
      }),
    ),
    'ValidationError',
    /No transform named 000000000000::Bogus found/,
  );
  assert.equal((await cfn.send(new GetTemplateCommand({ StackName: 'transform-update' }))).TemplateBody, body(sam));
  assert.equal((await stack('transform-update')).StackStatus, 'CREATE_COMPLETE');
  await cfn.send(new DeleteStackCommand({ StackName: 'transform-update' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'transform-update' });
});

test('an update that rolls back leaves the stack as its last deploy made it: parameters (NoEcho masked), template, description, outputs, tags', async () => {
  const secret = 'old-s3cret-value';
  const template = (description: string, noEcho: boolean, extra: object = {}) =>
    JSON.stringify({
      Description: description,
      Parameters: { P: { Type: 'String' }, S: { Type: 'String', ...(noEcho && { NoEcho: true }) } },
      Resources: {
        A: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: { 'Fn::Sub': '${P}:${S}' } } },
        ...extra,
      },
      Outputs: { Out: { Value: { 'Fn::Sub': 'out-${P}' } } },
    });
  const given = (p: string, s: string) => [
    { ParameterKey: 'P', ParameterValue: p },
    { ParameterKey: 'S', ParameterValue: s },
  ];
  const before = template('first', true);
  // The second parameter of the name fails to be made, after the first was: the update rolls back.
  const failing = (name: string) =>
    template('second', false, {
      One: { Type: 'AWS::SSM::Parameter', Properties: { Name: `/${name}/dup`, Type: 'String', Value: 'x' } },
      Two: { Type: 'AWS::SSM::Parameter', DependsOn: 'One', Properties: { Name: `/${name}/dup`, Type: 'String', Value: 'x' } },
    });
  const check = async (name: string) => {
    const s = await stack(name);
    assert.equal(s.StackStatus, 'UPDATE_ROLLBACK_COMPLETE');
    assert.deepEqual(
      s.Parameters?.map((p) => [p.ParameterKey, p.ParameterValue]),
      [
        ['P', 'one'],
        ['S', '****'],
      ],
    );
    assert.equal(s.Description, 'first');
    assert.deepEqual(
      s.Outputs?.map((o) => [o.OutputKey, o.OutputValue]),
      [['Out', 'out-one']],
    );
    assert.deepEqual(
      s.Tags?.map((tag) => [tag.Key, tag.Value]),
      [['team', 'a']],
    );
    assert.equal((await cfn.send(new GetTemplateCommand({ StackName: name }))).TemplateBody, before);
    // Versa's own door shows the same, the restored resource's secret masked.
    const get = await awsFetch(`${t.url}/_versa/api/stacks/${name}`);
    const text = await get.text();
    assert.equal(get.status, 200, text);
    assert.ok(!text.includes(secret), text);
    const { stack: doc } = JSON.parse(text) as { stack: { parameters: Record<string, string> } };
    assert.deepEqual(doc.parameters, { P: 'one', S: '****' });
  };

  for (const name of ['rolled-back', 'rolled-back-set']) {
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: before,
        Parameters: given('one', secret),
        Tags: [{ Key: 'team', Value: 'a' }],
      }),
    );
    await waitUntilStackCreateComplete(waiter(), { StackName: name });
  }
  await cfn.send(
    new UpdateStackCommand({
      StackName: 'rolled-back',
      TemplateBody: failing('rolled-back'),
      Parameters: given('two', 'new-value'),
      Tags: [{ Key: 'team', Value: 'b' }],
    }),
  );
  await assert.rejects(waitUntilStackUpdateComplete(waiter(), { StackName: 'rolled-back' }));
  await check('rolled-back');

  await cfn.send(
    new CreateChangeSetCommand({
      StackName: 'rolled-back-set',
      ChangeSetName: 'fails',
      TemplateBody: failing('rolled-back-set'),
      Parameters: given('two', 'new-value'),
      Tags: [{ Key: 'team', Value: 'b' }],
    }),
  );
  await cfn.send(new ExecuteChangeSetCommand({ StackName: 'rolled-back-set', ChangeSetName: 'fails' }));
  await assert.rejects(waitUntilStackUpdateComplete(waiter(), { StackName: 'rolled-back-set' }));
  await check('rolled-back-set');

  for (const name of ['rolled-back', 'rolled-back-set']) {
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    await waitUntilStackDeleteComplete(waiter(), { StackName: name });
  }
});

test('SAM resource types without the SAM transform are unrecognized: refused at ValidateTemplate, CreateStack, UpdateStack and CreateChangeSet, nothing made', async () => {
  const body = (transform?: string) =>
    JSON.stringify({
      ...(transform && { Transform: transform }),
      Resources: {
        P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } },
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: { FunctionName: 'no-transform-fn', Runtime: 'nodejs20.x', Handler: 'index.handler', InlineCode: 'x' },
        },
        Api: { Type: 'AWS::Serverless::Api', Properties: { StageName: 'prod' } },
        Other: { Type: 'AWS::Serverless::Function', Properties: { Runtime: 'nodejs20.x', Handler: 'index.handler', InlineCode: 'x' } },
      },
    });
  const message = /^Template format error: Unrecognized resource types: \[AWS::Serverless::Function, AWS::Serverless::Api\]$/;
  for (const TemplateBody of [body(), body('AWS::LanguageExtensions')]) {
    await rejects(cfn.send(new ValidateTemplateCommand({ TemplateBody })), 'ValidationError', message);
    await rejects(cfn.send(new CreateStackCommand({ StackName: 'no-transform', TemplateBody })), 'ValidationError', message);
    await rejects(
      cfn.send(new CreateChangeSetCommand({ StackName: 'no-transform', ChangeSetName: 'c', ChangeSetType: 'CREATE', TemplateBody })),
      'ValidationError',
      message,
    );
    await rejects(cfn.send(new DescribeStacksCommand({ StackName: 'no-transform' })), 'ValidationError', /does not exist/);
  }
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'no-transform-fn' })), { name: 'ResourceNotFoundException' });
  // An update to such a template is refused too, and leaves the stack as it was.
  await cfn.send(new CreateStackCommand({ StackName: 'no-transform', TemplateBody: PLAIN }));
  await waitUntilStackCreateComplete(waiter(), { StackName: 'no-transform' });
  await rejects(cfn.send(new UpdateStackCommand({ StackName: 'no-transform', TemplateBody: body() })), 'ValidationError', message);
  await rejects(
    cfn.send(new CreateChangeSetCommand({ StackName: 'no-transform', ChangeSetName: 'u', ChangeSetType: 'UPDATE', TemplateBody: body() })),
    'ValidationError',
    message,
  );
  assert.equal((await cfn.send(new GetTemplateCommand({ StackName: 'no-transform' }))).TemplateBody, PLAIN);
  assert.equal((await stack('no-transform')).StackStatus, 'CREATE_COMPLETE');
  await cfn.send(new DeleteStackCommand({ StackName: 'no-transform' }));
  await waitUntilStackDeleteComplete(waiter(), { StackName: 'no-transform' });
});
