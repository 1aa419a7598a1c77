/**
 * The stack API behind `versa deploy`, driven over HTTP against a real server: removal of resources a
 * template drops, one operation per stack, a restart in the middle of a canary, failures while
 * creating, intrinsic errors, an explicit API with Globals, Parameters and Conditions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { APIGatewayClient, CreateResourceCommand, GetResourcesCommand, GetRestApisCommand } from '@aws-sdk/client-api-gateway';
import { CodeDeployClient, CreateDeploymentConfigCommand, ListApplicationsCommand } from '@aws-sdk/client-codedeploy';
import { strToU8, zipSync } from 'fflate';
import { SUPPORTED_RUNTIMES } from '../src/domain/runtimes.js';
import { awsFetch, errorOf, payloadOf, startTestServer, type TestServer } from './harness.js';

let t: TestServer;

before(async () => {
  t = await startTestServer({ timeScale: 120 });
});

after(async () => {
  await t.close();
});

/** CodeDeploy at the server's current address (a test restarts it on a new port). */
async function codeDeploy<T>(use: (client: CodeDeployClient) => Promise<T>): Promise<T> {
  const client = new CodeDeployClient({
    endpoint: t.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}

const functionNames = async () => ((await t.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName).sort();

interface Stack {
  status: string;
  reason?: string;
  outputs: { key: string; value: string }[];
  resources: Record<string, { type: string; physicalId: string }>;
  operation?: { phase: string; deployments: { deploymentId: string }[] };
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function handler(message: string): string {
  return `exports.handler = async () => ({ statusCode: 200, body: JSON.stringify({ message: ${JSON.stringify(message)} }) });`;
}

/** The same message always makes the same zip (a fixed timestamp), as `versa deploy` packages folders. */
const code = (message: string) =>
  Buffer.from(zipSync({ 'index.js': [strToU8(handler(message)), { mtime: new Date('1980-01-01T00:00:00Z') }] })).toString('base64');

async function deploy(name: string, template: string, artifacts: Record<string, string>, parameters: Record<string, string> = {}) {
  return call('POST', `/_versa/api/stacks/${name}/deploy`, { template, artifacts, parameters });
}

async function stackOf(name: string): Promise<Stack> {
  const { status, json } = await call('GET', `/_versa/api/stacks/${name}`);
  assert.equal(status, 200, JSON.stringify(json));
  return json.stack as Stack;
}

/** [actual, expected, message] for assert.equal: the stack's status, with its reason when it differs. */
function statusOf(stack: Stack, expected: string): [string, string, string] {
  return [stack.status, expected, `${stack.status}: ${stack.reason ?? ''}`];
}

/** Waits (bounded) until the stack has no operation in flight, and returns it. */
async function settled(name: string, limitMs = 30_000): Promise<Stack> {
  const end = Date.now() + limitMs;
  for (;;) {
    const stack = await stackOf(name);
    if (!stack.operation) return stack;
    if (Date.now() > end) throw new Error(`stack ${name} still ${stack.status} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TWO_FUNCTIONS = (type: string, withHelper: boolean) => `
Transform: AWS::Serverless-2016-10-31
Resources:
  Main:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-main
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
      AutoPublishAlias: live
      DeploymentPreference:
        Type: ${type}
${
  withHelper
    ? `  Helper:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-helper
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
`
    : ''
}`;

test('a resource the template no longer lists is deleted on the next deploy', async () => {
  const first = await deploy('removal', TWO_FUNCTIONS('AllAtOnce', true), { 'main/': code('one') });
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.equal(...statusOf(await settled('removal'), 'CREATE_COMPLETE'));
  await t.lambda.send(new GetFunctionCommand({ FunctionName: 'stack-helper' }));

  const second = await deploy('removal', TWO_FUNCTIONS('AllAtOnce', false), { 'main/': code('one') });
  const changes = second.json.changes as { action: string; logicalId: string }[];
  assert.deepEqual(
    changes.map((c) => `${c.action} ${c.logicalId}`).sort(),
    ['Remove Helper', 'Remove HelperRole'],
    JSON.stringify(second.json),
  );
  const stack = await settled('removal');
  assert.equal(stack.status, 'UPDATE_COMPLETE');
  assert.equal(stack.resources.Helper, undefined);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'stack-helper' })), { name: 'ResourceNotFoundException' });
  // The function that stays is untouched.
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'stack-main', Name: 'live' }))).FunctionVersion, '1');
  assert.equal((await call('DELETE', '/_versa/api/stacks/removal')).status, 200);
});

test('a restart in the middle of making resources carries the create on from the last step stored', async () => {
  // A chain of parameters, each waiting on the one before: one step each.
  const count = 120;
  const lines = ['Resources:'];
  for (let i = 0; i < count; i++) {
    lines.push(`  P${i}:`, '    Type: AWS::SSM::Parameter', ...(i > 0 ? [`    DependsOn: P${i - 1}`] : []));
    // Named, so that making one twice is refused: a step not stored would be made again.
    lines.push('    Properties:', `      Name: /resume-apply/P${i}`, '      Type: String', `      Value: v${i}`);
  }
  const res = await deploy('resume-apply', lines.join('\n'), {});
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const end = Date.now() + 15_000;
  let under: Stack;
  while (Object.keys((under = await stackOf('resume-apply')).resources).length < 10) {
    assert.ok(Date.now() < end, 'the create did not get under way');
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(under.status, 'CREATE_IN_PROGRESS');
  await t.restart();
  const stack = await settled('resume-apply');
  assert.equal(...statusOf(stack, 'CREATE_COMPLETE'));
  // Every parameter, in the stack's order.
  assert.deepEqual(
    Object.keys(stack.resources),
    Array.from({ length: count }, (_, i) => `P${i}`),
  );
  const last = await t.server.services.store.parameters.get(stack.resources.P119!.physicalId);
  assert.equal(last?.versions.at(-1)?.value, 'v119');
  assert.equal((await call('DELETE', '/_versa/api/stacks/resume-apply')).status, 200);
});

test('a stack takes one operation at a time, and a restart in the middle of a canary finishes it', async () => {
  await deploy('resume', TWO_FUNCTIONS('Canary10Percent10Minutes', false), { 'main/': code('v1') });
  assert.equal(...statusOf(await settled('resume'), 'CREATE_COMPLETE'));

  const update = await deploy('resume', TWO_FUNCTIONS('Canary10Percent10Minutes', false), { 'main/': code('v2') });
  assert.equal(update.status, 200, JSON.stringify(update.json));
  // Wait for the canary: 10% on version 2.
  const end = Date.now() + 15_000;
  for (;;) {
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: 'stack-main', Name: 'live' }));
    if (alias.RoutingConfig?.AdditionalVersionWeights?.['2'] === 0.1) break;
    assert.ok(Date.now() < end, 'the canary never started');
    await new Promise((r) => setTimeout(r, 25));
  }
  const busy = await deploy('resume', TWO_FUNCTIONS('AllAtOnce', false), { 'main/': code('v3') });
  assert.equal(busy.status, 400);
  assert.equal(busy.json.message, 'Stack resume is in UPDATE_IN_PROGRESS state and can not be updated.');

  await t.restart();
  const stack = await settled('resume');
  assert.equal(stack.status, 'UPDATE_COMPLETE', stack.reason);
  const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: 'stack-main', Name: 'live' }));
  assert.equal(alias.FunctionVersion, '2');
  assert.equal(alias.RoutingConfig?.AdditionalVersionWeights, undefined);
  const out = await t.lambda.send(new InvokeCommand({ FunctionName: 'stack-main:live' }));
  assert.deepEqual(JSON.parse((payloadOf(out) as { body: string }).body), { message: 'v2' });
  assert.equal((await call('DELETE', '/_versa/api/stacks/resume')).status, 200);
});

test('a resource the platform refuses while creating rolls the whole stack back', async () => {
  const template = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Good:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-good
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
  Bad:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-bad
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
      MemorySize: 64
      Environment:
        Variables:
          GOOD: !GetAtt Good.Arn
`;
  const res = await deploy('failing', template, { 'main/': code('x') });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const stack = await settled('failing');
  assert.equal(stack.status, 'ROLLBACK_COMPLETE');
  assert.match(stack.reason ?? '', /memorySize/);
  assert.deepEqual(stack.resources, {});
  const names = ((await t.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName);
  assert.ok(!names.includes('stack-good') && !names.includes('stack-bad'), `left behind: ${names.join(', ')}`);
  // A stack that never got created can be deployed again once the template is fixed.
  const fixed = await deploy('failing', template.replace('MemorySize: 64', 'MemorySize: 128'), { 'main/': code('x') });
  assert.equal(fixed.status, 200);
  assert.equal(...statusOf(await settled('failing'), 'CREATE_COMPLETE'));
  assert.equal((await call('DELETE', '/_versa/api/stacks/failing')).status, 200);
});

test('ReservedConcurrentExecutions: set when a function is made, changed by an update, removed with the property', async () => {
  const template = (sam: string, cfn: string) => `
Transform: AWS::Serverless-2016-10-31
Resources:
  Sam:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-reserved-sam
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
${sam}
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: stack-reserved-cfn
      Handler: index.handler
      Runtime: nodejs20.x
      Role: arn:aws:iam::000000000000:role/lambda-role
      Code:
        ZipFile: exports.handler = async () => 'plain';
${cfn}
`;
  const reserved = async (name: string) =>
    (await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }))).ReservedConcurrentExecutions;
  const apply = async (sam: string, cfn: string, expected: string) => {
    const res = await deploy('reserved', template(sam, cfn), { 'main/': code('r') });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(...statusOf(await settled('reserved'), expected));
  };
  await apply('      ReservedConcurrentExecutions: 2', '      ReservedConcurrentExecutions: 0', 'CREATE_COMPLETE');
  assert.deepEqual([await reserved('stack-reserved-sam'), await reserved('stack-reserved-cfn')], [2, 0]);

  await apply('      ReservedConcurrentExecutions: 3', '', 'UPDATE_COMPLETE');
  assert.deepEqual([await reserved('stack-reserved-sam'), await reserved('stack-reserved-cfn')], [3, undefined]);

  await apply('', '      ReservedConcurrentExecutions: 1', 'UPDATE_COMPLETE');
  assert.deepEqual([await reserved('stack-reserved-sam'), await reserved('stack-reserved-cfn')], [undefined, 1]);
  assert.equal((await call('DELETE', '/_versa/api/stacks/reserved')).status, 200);
  for (const end = Date.now() + 30_000; (await call('GET', '/_versa/api/stacks/reserved')).status === 200;) {
    assert.ok(Date.now() < end, 'the stack was not deleted within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }

  // More than the server can reserve (32 environments keep 4 unreserved) fails the create, and the stack
  // rolls back without leaving the function behind.
  await apply('      ReservedConcurrentExecutions: 29', '', 'ROLLBACK_COMPLETE');
  const stack = await stackOf('reserved');
  assert.match(stack.reason ?? '', /decreases account's UnreservedConcurrentExecution below its minimum value of \[4\]/);
  assert.deepEqual(await functionNames().then((names) => names.filter((n) => n?.startsWith('stack-reserved'))), []);
});

test("an unsupported runtime is refused before anything is created, with the template's other problems", async () => {
  const template = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Old:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-old
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs12.x
  Queue:
    Type: AWS::SQS::Queue
`;
  const res = await deploy('old-runtime', template, { 'main/': code('x') });
  assert.equal(res.status, 400);
  const message = (res.json as { message: string }).message;
  assert.match(message, /Runtime nodejs12\.x is not supported by Versa/);
  assert.match(message, /type AWS::SQS::Queue is not supported by Versa/);
  const names = ((await t.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName);
  assert.ok(!names.includes('stack-old'));
  const absent = await call('GET', '/_versa/api/stacks/old-runtime');
  assert.match((absent.json as { message: string }).message, /does not exist/);
});

test('a reference to a missing resource is refused before anything is created, naming the resource', async () => {
  const template = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-dangling
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
      Environment:
        Variables:
          OTHER: !GetAtt Missing.Arn
`;
  const res = await deploy('dangling', template, { 'main/': code('x') });
  assert.equal(res.status, 400);
  assert.equal(res.json.message, 'Resource Fn refers to Missing, which is not a parameter or resource of the template.');
  assert.equal((await call('GET', '/_versa/api/stacks/dangling')).status, 400);
  await assert.rejects(t.lambda.send(new GetFunctionCommand({ FunctionName: 'stack-dangling' })), { name: 'ResourceNotFoundException' });
});

test('a dangling Ref, an unsupported runtime and a mistyped DeploymentPreference.Type are all refused in one answer, and nothing changes', async () => {
  const template = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: upfront-api
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minute
      Environment:
        Variables:
          TABLE: !Ref Tabel
  Old:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: upfront-old
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs12.x
`;
  const functionsBefore = await functionNames();
  const stacksBefore = (await call('GET', '/_versa/api/stacks')).json;
  const applicationsBefore = (await codeDeploy((c) => c.send(new ListApplicationsCommand({})))).applications ?? [];
  const res = await deploy('upfront', template, { 'main/': code('x') });
  assert.equal(res.status, 400);
  const message = (res.json as { message: string }).message;
  const runtimes = SUPPORTED_RUNTIMES.join(', ');
  const problems = [
    'Resource Api refers to Tabel, which is not a parameter or resource of the template.',
    `Resource Old: Runtime nodejs12.x is not supported by Versa; use one of ${runtimes}.`,
  ];
  assert.ok(message.startsWith(`3 problems:\n`), message);
  for (const p of problems) assert.ok(message.includes(`\n  - ${p}`), `${p}\nnot in\n${message}`);
  assert.match(
    message,
    /\n {2}- Resource Api: DeploymentPreference: Type Canary10Percent5Minute is neither .*; did you mean Canary10Percent5Minutes\?/,
  );
  // Nothing was made or stored: no function, no stack, no CodeDeploy application.
  assert.deepEqual(await functionNames(), functionsBefore);
  assert.deepEqual((await call('GET', '/_versa/api/stacks')).json, stacksBefore);
  assert.match(((await call('GET', '/_versa/api/stacks/upfront')).json as { message: string }).message, /does not exist/);
  assert.deepEqual((await codeDeploy((c) => c.send(new ListApplicationsCommand({})))).applications ?? [], applicationsBefore);
});

test("a DeploymentPreference.Type naming the server's own deployment configuration is taken", async () => {
  await codeDeploy((c) =>
    c.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: 'TeamCanary',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 20, canaryInterval: 1 } },
      }),
    ),
  );
  const template = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: team-canary
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
      AutoPublishAlias: live
      DeploymentPreference:
        Type: TeamCanary
`;
  const res = await deploy('team-canary', template, { 'main/': code('x') });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(...statusOf(await settled('team-canary'), 'CREATE_COMPLETE'));
  assert.equal((await call('DELETE', '/_versa/api/stacks/team-canary')).status, 200);
});

test('an explicit API with Globals, Parameters and Conditions serves the function at its stage', async () => {
  const template = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: nodejs20.x
    Handler: index.handler
    Environment:
      Variables:
        STAGE: !Ref Stage
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      MethodSettings:
        - ResourcePath: /*
          HttpMethod: '*'
          ThrottlingBurstLimit: 2
          ThrottlingRateLimit: 0.1
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub 'stack-api-\${Stage}'
      CodeUri: main/
      MemorySize: !If [IsProd, 512, 128]
      Events:
        Get:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /items/{id}
            Method: get
Outputs:
  Url:
    Value: !Sub 'https://\${Api}.execute-api.\${AWS::Region}.amazonaws.com/\${Stage}/items/'
  Memory:
    Condition: IsProd
    Value: big
`;
  const bad = await deploy('api', template, { 'main/': code('x') }, { Stage: 'qa' });
  assert.equal(bad.status, 400);
  assert.match(bad.json.message as string, /Parameter 'Stage' must be one of AllowedValues/);

  const res = await deploy('api', template, { 'main/': code('from the api') }, { Stage: 'prod' });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const stack = await settled('api');
  assert.equal(stack.status, 'CREATE_COMPLETE', stack.reason);
  const fn = (await t.lambda.send(new GetFunctionCommand({ FunctionName: 'stack-api-prod' }))).Configuration!;
  assert.equal(fn.MemorySize, 512);
  assert.deepEqual(fn.Environment?.Variables, { STAGE: 'prod' });
  assert.deepEqual(
    stack.outputs.map((o) => o.key),
    ['Url', 'Memory'],
  );
  const m = /^https:\/\/([a-z0-9]+)\.execute-api\.us-east-1\.amazonaws\.com\/prod\/items\/$/.exec(stack.outputs[0]!.value);
  assert.ok(m, stack.outputs[0]!.value);
  const answer = await fetch(`${t.url}/restapis/${m[1]}/prod/_user_request_/items/42`);
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), { message: 'from the api' });
  // The Api's MethodSettings throttle its stage: a burst of two, then one in ten seconds.
  const after = [];
  for (let i = 0; i < 2; i++) after.push((await fetch(`${t.url}/restapis/${m[1]}/prod/_user_request_/items/42`)).status);
  assert.deepEqual(after, [200, 429]);
  assert.equal((await call('DELETE', '/_versa/api/stacks/api')).status, 200);
  assert.notEqual((await fetch(`${t.url}/restapis/${m[1]}/prod/_user_request_/items/42`)).status, 200);
});

test('a DeploymentPreference may name a custom config the template declares', async () => {
  const template = (message: string) => `
Transform: AWS::Serverless-2016-10-31
Resources:
  HalfAndHalf:
    Type: AWS::CodeDeploy::DeploymentConfig
    Properties:
      ComputePlatform: Lambda
      TrafficRoutingConfig:
        Type: TimeBasedLinear
        TimeBasedLinear:
          LinearPercentage: 50
          LinearInterval: 1
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-custom
      CodeUri: main/
      Handler: index.handler
      Runtime: nodejs20.x
      Description: ${message}
      AutoPublishAlias: live
      DeploymentPreference:
        Type: !Ref HalfAndHalf
`;
  await deploy('custom', template('one'), { 'main/': code('one') });
  assert.equal(...statusOf(await settled('custom'), 'CREATE_COMPLETE'));
  // A description change alone publishes nothing (SAM's rule), so nothing moves.
  const same = await deploy('custom', template('two'), { 'main/': code('one') });
  assert.deepEqual(
    (same.json.changes as { action: string; logicalId: string }[]).map((c) => `${c.action} ${c.logicalId}`),
    ['Modify Fn'],
  );
  assert.equal(...statusOf(await settled('custom'), 'UPDATE_COMPLETE'));
  const moved = await deploy('custom', template('two'), { 'main/': code('two') });
  assert.equal(moved.status, 200);
  const stack = await settled('custom');
  assert.equal(stack.status, 'UPDATE_COMPLETE', stack.reason);
  const config = stack.resources.HalfAndHalf!.physicalId;
  const { json } = await call('GET', '/_versa/api/stacks/custom');
  const events = (json.stack as { events: { logicalId: string; reason?: string }[] }).events;
  const started = events.find((e) => e.logicalId === 'FnAliaslive' && /CodeDeploy deployment d-/.test(e.reason ?? ''));
  assert.ok(started, 'no deployment moved the alias');
  const id = /(d-[A-Z0-9]+)/.exec(started.reason!)![1]!;
  const res = await awsFetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'CodeDeploy_20141006.GetDeployment' },
    body: JSON.stringify({ deploymentId: id }),
  });
  const info = ((await res.json()) as { deploymentInfo: { deploymentConfigName: string; status: string } }).deploymentInfo;
  assert.equal(info.deploymentConfigName, config);
  assert.equal(info.status, 'Succeeded');
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'stack-custom', Name: 'live' }))).FunctionVersion, '2');
  assert.equal((await call('DELETE', '/_versa/api/stacks/custom')).status, 200);
});

test('a function whose condition is false is left out with its API method, and comes in when it holds', async () => {
  const template = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  WithB:
    Type: String
    Default: 'no'
Conditions:
  HasB: !Equals [!Ref WithB, 'yes']
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-cond-a
      CodeUri: a/
      Handler: index.handler
      Runtime: nodejs20.x
      Events:
        Get: { Type: Api, Properties: { Path: /a, Method: get } }
  B:
    Type: AWS::Serverless::Function
    Condition: HasB
    Properties:
      FunctionName: stack-cond-b
      CodeUri: b/
      Handler: index.handler
      Runtime: nodejs20.x
      AutoPublishAlias: live
      Events:
        Get: { Type: Api, Properties: { Path: /b, Method: get } }
`;
  const artifacts = { 'a/': code('from a'), 'b/': code('from b') };
  const first = await deploy('cond', template, artifacts);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  let stack = await settled('cond');
  assert.equal(stack.status, 'CREATE_COMPLETE', stack.reason);
  assert.equal(stack.resources.B, undefined);
  const api = stack.resources.ServerlessRestApi!.physicalId;
  const get = (p: string) => fetch(`${t.url}/restapis/${api}/Prod/_user_request_${p}`);
  assert.deepEqual(await (await get('/a')).json(), { message: 'from a' });
  assert.notEqual((await get('/b')).status, 200);

  await deploy('cond', template, artifacts, { WithB: 'yes' });
  stack = await settled('cond');
  assert.equal(stack.status, 'UPDATE_COMPLETE', stack.reason);
  assert.ok(stack.resources.BAliaslive);
  assert.deepEqual(await (await get('/b')).json(), { message: 'from b' });
  assert.equal((await call('DELETE', '/_versa/api/stacks/cond')).status, 200);
});

test('when one function fails its release, the stack stops the other functions deployments and rolls everything back', async () => {
  const hook = `
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
const codeDeploy = new CodeDeployClient({});
export const handler = async (event) => {
  await codeDeploy.send(new PutLifecycleEventHookExecutionStatusCommand({
    deploymentId: event.DeploymentId,
    lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
    status: 'Failed',
  }));
};`;
  const template = `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Handler: index.handler
    Runtime: nodejs20.x
Resources:
  Refused:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-refused
      CodeUri: main/
      AutoPublishAlias: live
      DeploymentPreference:
        Type: AllAtOnce
        Hooks:
          PreTraffic: !Ref Veto
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: stack-slow
      CodeUri: main/
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Linear10PercentEvery10Minutes
  Veto:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: CodeDeployHook_veto
      CodeUri: hook/
`;
  const hookZip = Buffer.from(zipSync({ 'index.mjs': [strToU8(hook), { mtime: new Date('1980-01-01T00:00:00Z') }] })).toString('base64');
  const first = await deploy('pair', template, { 'main/': code('one'), 'hook/': hookZip });
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.equal(...statusOf(await settled('pair'), 'CREATE_COMPLETE'));

  await deploy('pair', template, { 'main/': code('two'), 'hook/': hookZip });
  const stack = await settled('pair');
  assert.equal(...statusOf(stack, 'UPDATE_ROLLBACK_COMPLETE'));
  assert.match(
    stack.reason ?? '',
    /^Deployment d-[A-Z0-9]+ of stack-refused:live to version 2 failed: The BeforeAllowTraffic hook \(CodeDeployHook_veto\) failed/,
  );
  // The slow function's deployment did not go on shifting traffic behind the rolled-back stack.
  const { json } = await call('GET', '/_versa/api/stacks/pair');
  const events = (json.stack as { events: { reason?: string }[] }).events;
  const slowId = events.map((e) => /CodeDeploy deployment (d-[A-Z0-9]+) moves stack-slow:live/.exec(e.reason ?? '')?.[1]).find(Boolean);
  assert.ok(slowId, 'no deployment moved stack-slow');
  const res = await awsFetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'CodeDeploy_20141006.GetDeployment' },
    body: JSON.stringify({ deploymentId: slowId }),
  });
  assert.equal(((await res.json()) as { deploymentInfo: { status: string } }).deploymentInfo.status, 'Stopped');
  for (const fn of ['stack-refused', 'stack-slow']) {
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
    assert.equal(alias.FunctionVersion, '1', fn);
    assert.equal(alias.RoutingConfig?.AdditionalVersionWeights, undefined, fn);
  }
  assert.equal((await call('DELETE', '/_versa/api/stacks/pair')).status, 200);
});

test("an API's OpenAPI body of more than 300 resources is refused before anything is made; 300 import in bounded time", async () => {
  const bodyOf = (paths: string[]) =>
    JSON.stringify({
      Resources: {
        Api: {
          Type: 'AWS::ApiGateway::RestApi',
          Properties: {
            Name: 'many-paths',
            Body: {
              swagger: '2.0',
              info: { title: 'many-paths' },
              paths: Object.fromEntries(paths.map((p) => [p, { get: { 'x-amazon-apigateway-integration': { type: 'mock' } } }])),
            },
          },
        },
      },
    });
  const apis = new APIGatewayClient({
    endpoint: t.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const names = async () => ((await apis.send(new GetRestApisCommand({}))).items ?? []).map((a) => a.name);
  // 150 paths of two parts: 300 resources and the root.
  const tooMany = Array.from({ length: 150 }, (_, i) => `/a${i}/b`);
  const refused = await deploy('too-many-paths', bodyOf(tooMany), {});
  assert.equal(refused.status, 400);
  assert.match(JSON.stringify(refused.json), /Resource Api: Maximum number of Resources for this API has been reached \(300\)/);
  assert.equal((await call('GET', '/_versa/api/stacks/too-many-paths')).status, 400);
  assert.ok(!(await names()).includes('many-paths'), 'no API is made');

  const started = Date.now();
  const most = Array.from({ length: 299 }, (_, i) => `/p${i}`);
  assert.equal((await deploy('most-paths', bodyOf(most), {})).status, 200);
  const stack = await settled('most-paths', 60_000);
  assert.equal(...statusOf(stack, 'CREATE_COMPLETE'));
  const took = Date.now() - started;
  assert.ok(took < 30_000, `imported 299 paths in ${took} ms`);
  const apiId = stack.resources.Api!.physicalId;
  const resources = (await apis.send(new GetResourcesCommand({ restApiId: apiId, limit: 500 }))).items ?? [];
  assert.equal(resources.length, 300);
  const root = resources.find((r) => r.path === '/')!.id!;
  const e = await errorOf(() => apis.send(new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'one-more' })));
  assert.equal(e.name, 'LimitExceededException');
  assert.equal(e.$metadata?.httpStatusCode, 429);
  assert.equal((await call('DELETE', '/_versa/api/stacks/most-paths')).status, 200);
  apis.destroy();
});
