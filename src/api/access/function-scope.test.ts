import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../core/logger.js';
import { apiGatewayApi } from '../aws/apigateway/operations.js';
import { cloudFormationApi } from '../aws/cloudformation/operations.js';
import { cloudWatchApi } from '../aws/cloudwatch/operations.js';
import { codeDeployApi } from '../aws/codedeploy/operations.js';
import { lambdaApi } from '../aws/lambda/operations.js';
import { logsApi } from '../aws/logs/operations.js';
import type { ApiRequest, ServiceHandler } from '../aws/protocol/http.js';
import { s3Api } from '../aws/s3/operations.js';
import { ssmApi } from '../aws/ssm/operations.js';
import { stsApi } from '../aws/sts/operations.js';
import { FUNCTION_SCOPE, functionCaller, type ScopedService } from './function-scope.js';
import { Keyring } from './keyring.js';

const logger = createLogger('silent');
// No service behind the tables: a refused operation must answer before it would reach one.
const none = undefined as never;
const cloudWatch = cloudWatchApi({ metrics: none, alarms: none, tags: none, logger });

/** Every service's operation table, as the server builds it (the wire fuzzer finds them the same way). */
const TABLES: Record<ScopedService, ServiceHandler[]> = {
  lambda: [lambdaApi({ functions: none, eventInvokeConfigs: none, invocations: none, concurrency: none, tags: none, logger })],
  apigateway: [apiGatewayApi({ restApis: none, dataPlane: none, logger })],
  cloudwatch: [cloudWatch.json, cloudWatch.query],
  codedeploy: [codeDeployApi({ codeDeploy: none, tags: none, logger })],
  cloudformation: [cloudFormationApi({ stacks: none, logger, objects: none })],
  logs: [logsApi({ logs: none, tags: none, logger })],
  ssm: [ssmApi({ parameters: none, logger })],
  sts: [stsApi({ keyring: new Keyring([]), logger })],
  s3: [s3Api({ s3: none, logger })],
};

const caller = functionCaller('prober', 'arn:aws:iam::000000000000:role/prober-role');

function request(over: Partial<ApiRequest>): ApiRequest {
  return {
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers: { host: '127.0.0.1:4566' },
    body: Buffer.alloc(0),
    region: 'us-east-1',
    requestId: 'req-1',
    origin: 'http://127.0.0.1:4566',
    sourceIp: '127.0.0.1',
    caller,
    ...over,
  };
}

describe('function scope', () => {
  it('classifies every operation of every table deliberately, and names none a table lacks', () => {
    for (const [service, handlers] of Object.entries(TABLES) as [ScopedService, ServiceHandler[]][]) {
      const rule = FUNCTION_SCOPE[service];
      const names = new Set(handlers.flatMap((h) => h.operations.map((o) => o.name)));
      assert.ok(names.size > 0, `${service} has operations`);
      if ('all' in rule) continue;
      const allow = new Set<string>(rule.allow);
      const deny = new Set<string>(rule.deny);
      for (const name of names) {
        assert.ok(allow.has(name) !== deny.has(name), `${service}:${name} must be in exactly one of allow and deny (function-scope.ts)`);
      }
      for (const name of [...allow, ...deny]) assert.ok(names.has(name), `${service}:${name} is classified but no table has it`);
    }
  });

  it('a function may not change the platform: no Lambda control plane, alarm change or deployment step', () => {
    const { lambda, cloudwatch, codedeploy, cloudformation, apigateway } = FUNCTION_SCOPE;
    assert.deepEqual([...lambda.allow], ['Invoke']);
    for (const op of ['PutMetricAlarm', 'DeleteAlarms', 'SetAlarmState', 'EnableAlarmActions', 'DisableAlarmActions']) {
      assert.ok((cloudwatch.deny as readonly string[]).includes(op), op);
    }
    assert.ok(codedeploy.allow.every((op) => op === 'PutLifecycleEventHookExecutionStatus' || /^(Get|List|BatchGet)/.test(op)));
    assert.ok(cloudformation.allow.every((op) => /^(Describe|List|Get)/.test(op)));
    assert.ok(apigateway.allow.every((op) => op.startsWith('Get')));
  });

  it('Lambda: a function key is refused GetFunctionConfiguration before any work, as IAM words it', async () => {
    const [lambda] = TABLES.lambda;
    const out = await lambda!(request({ method: 'GET', path: '/2015-03-31/functions/other/configuration' }));
    assert.equal(out.status, 403);
    assert.equal(out.headers['x-amzn-errortype'], 'AccessDeniedException');
    const body = JSON.parse(String(out.body)) as { message: string };
    assert.equal(
      body.message,
      'User: arn:aws:sts::000000000000:assumed-role/prober-role/prober is not authorized to perform: lambda:GetFunctionConfiguration on resource: arn:aws:lambda:us-east-1:000000000000:function:other because no identity-based policy allows the lambda:GetFunctionConfiguration action',
    );
    const list = await lambda!(request({ method: 'GET', path: '/2015-03-31/functions/' }));
    assert.match(String(list.body), /lambda:ListFunctions on resource: \* /);
  });

  it('the same request without a caller (an operator) is not refused', async () => {
    const [lambda] = TABLES.lambda;
    // With no store behind the table an operator's request fails inside: anything but the refusal.
    const out = await lambda!(request({ method: 'GET', path: '/2015-03-31/functions/other/configuration', caller: undefined }));
    assert.notEqual(out.status, 403);
  });

  it('JSON 1.1 services answer AccessDeniedException with 400; CloudWatch and the query protocol AccessDenied with 403', async () => {
    const [codeDeploy] = TABLES.codedeploy;
    const cd = await codeDeploy!(
      request({
        headers: { host: 'h', 'x-amz-target': 'CodeDeploy_20141006.StopDeployment', 'content-type': 'application/x-amz-json-1.1' },
        body: Buffer.from('{"deploymentId":"d-1"}'),
      }),
    );
    assert.equal(cd.status, 400);
    assert.equal((JSON.parse(String(cd.body)) as { __type: string }).__type, 'AccessDeniedException');
    assert.match(String(cd.body), /codedeploy:StopDeployment/);

    const json = await cloudWatch.json(
      request({
        headers: { host: 'h', 'x-amz-target': 'GraniteServiceVersion20100801.SetAlarmState', 'content-type': 'application/x-amz-json-1.0' },
        body: Buffer.from('{}'),
      }),
    );
    assert.equal(json.status, 403);
    assert.equal(json.headers['x-amzn-query-error'], 'AccessDenied;Sender');

    const query = await cloudWatch.query(
      request({ headers: { host: 'h', 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('Action=PutMetricAlarm') }),
    );
    assert.equal(query.status, 403);
    assert.match(String(query.body), /<Code>AccessDenied<\/Code>/);
    assert.match(String(query.body), /cloudwatch:PutMetricAlarm/);

    const [cfn] = TABLES.cloudformation;
    const stack = await cfn!(
      request({
        headers: { host: 'h', 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from('Action=DeleteStack&StackName=s'),
      }),
    );
    assert.equal(stack.status, 403);
    assert.match(String(stack.body), /<Code>AccessDenied<\/Code>/);
  });

  it('API Gateway names the method and path, as its IAM actions do', async () => {
    const [apigw] = TABLES.apigateway;
    const out = await apigw!(request({ method: 'POST', path: '/restapis', body: Buffer.from('{"name":"x"}') }));
    assert.equal(out.status, 403);
    assert.match(String(out.body), /apigateway:POST on resource: arn:aws:apigateway:us-east-1::\/restapis/);
  });

  it('a function named by its role, or versa-function without one', () => {
    assert.equal(functionCaller('f', 'arn:aws:iam::123456789012:role/path/to/r-1').arn, 'arn:aws:sts::000000000000:assumed-role/r-1/f');
    assert.equal(functionCaller('f', '').arn, 'arn:aws:sts::000000000000:assumed-role/versa-function/f');
  });
});

describe('Keyring: function keys', () => {
  it('an STS key minted with a function key stays that function, named as the role it assumed', async () => {
    const keyring = new Keyring([]);
    const env = keyring.issue('function:f', functionCaller('f', undefined));
    const identity = { arn: 'arn:aws:sts::000000000000:assumed-role/other/s', userId: 'AROAX:s' };
    const session = await keyring.issueSession(900, identity, env.accessKeyId);
    const chained = await keyring.issueSession(900, undefined, session.accessKeyId);
    assert.deepEqual(keyring.lookup(env.accessKeyId)?.caller, {
      function: 'f',
      arn: 'arn:aws:sts::000000000000:assumed-role/versa-function/f',
    });
    assert.deepEqual(keyring.lookup(session.accessKeyId)?.caller, { function: 'f', arn: identity.arn });
    assert.equal(keyring.lookup(chained.accessKeyId)?.caller?.function, 'f');
    assert.equal(
      keyring.lookup((await keyring.issueSession(900, identity)).accessKeyId)?.caller,
      undefined,
      "an operator's session is not a function's",
    );
  });
});
