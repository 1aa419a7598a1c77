/**
 * Resource tags on every service, over the wire with the AWS SDK: given on create, listed, added,
 * removed, checked by AWS's rules, refused for a missing resource in each service's own words, and gone
 * with their resource. Also the smaller members the Terraform provider reads back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  APIGatewayClient,
  CreateDeploymentCommand as CreateApiDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateStageCommand,
  GetResourcesCommand,
  GetStagesCommand,
  GetTagsCommand,
  PutIntegrationCommand,
  PutMethodCommand,
  TagResourceCommand as TagApiCommand,
  UntagResourceCommand as UntagApiCommand,
} from '@aws-sdk/client-api-gateway';
import {
  DeleteAlarmsCommand,
  ListTagsForResourceCommand as ListAlarmTagsCommand,
  PutMetricAlarmCommand,
  TagResourceCommand as TagAlarmCommand,
  UntagResourceCommand as UntagAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  ListTagsForResourceCommand as ListLogTagsCommand,
  ListTagsLogGroupCommand,
  TagLogGroupCommand,
  TagResourceCommand as TagLogCommand,
  UntagLogGroupCommand,
  UntagResourceCommand as UntagLogCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
  DeleteApplicationCommand,
  GetDeploymentGroupCommand,
  ListTagsForResourceCommand as ListDeployTagsCommand,
  TagResourceCommand as TagDeployCommand,
  UntagResourceCommand as UntagDeployCommand,
  UpdateDeploymentGroupCommand,
} from '@aws-sdk/client-codedeploy';
import {
  DeleteFunctionCommand,
  GetFunctionCommand,
  GetFunctionCodeSigningConfigCommand,
  ListTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-lambda';
import { cloudWatchClientFor, codeDeployClientFor, credentials, SERVICE_ROLE } from './codedeploy-helpers.js';
import { createFunction, errorOf, startTestServer, type TestServer } from './harness.js';

const FN_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `v${i}`]));
const pairs = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

describe('resource tags', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  let apigw: APIGatewayClient;
  const code = { 'index.js': 'exports.handler = async () => 1;' };

  before(async () => {
    t = await startTestServer();
    logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    apigw = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    logs.destroy();
    apigw.destroy();
    await t.close();
  });

  it('Lambda: Tags on CreateFunction, TagResource merges, UntagResource removes, GetFunction shows them', async () => {
    await createFunction(t.lambda, 'tagged', code, { Tags: { team: 'a', env: 'dev' } });
    const arn = `${FN_ARN}tagged`;
    assert.deepEqual((await t.lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { team: 'a', env: 'dev' });
    await t.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { env: 'prod', cost: '7' } }));
    await t.lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['team'] }));
    assert.deepEqual((await t.lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { env: 'prod', cost: '7' });
    assert.deepEqual((await t.lambda.send(new GetFunctionCommand({ FunctionName: 'tagged' }))).Tags, { env: 'prod', cost: '7' });
  });

  it('Lambda: a missing function, a broken rule, too many tags and a qualified ARN are refused', async () => {
    const missing = await errorOf(() => t.lambda.send(new ListTagsCommand({ Resource: `${FN_ARN}nope` })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(missing.message, `Function not found: ${FN_ARN}nope`);
    const reserved = await errorOf(() => t.lambda.send(new TagResourceCommand({ Resource: `${FN_ARN}tagged`, Tags: { 'aws:x': '1' } })));
    assert.equal(reserved.name, 'InvalidParameterValueException');
    const tooMany = await errorOf(() => createFunction(t.lambda, 'too-many', code, { Tags: { ...fifty, one: 'more' } }));
    assert.equal(tooMany.name, 'InvalidParameterValueException');
    assert.equal(tooMany.message, 'Number of tags exceeds resource tag limit.');
    const notCreated = await errorOf(() => t.lambda.send(new GetFunctionCommand({ FunctionName: 'too-many' })));
    assert.equal(notCreated.name, 'ResourceNotFoundException', 'tags are checked before the function is created');
  });

  it("Lambda: a qualified ARN, an ARN of no Lambda resource, no tags and no keys are refused in AWS's words", async () => {
    const refused = async (call: () => Promise<unknown>, code: string, message: string) => {
      const err = await errorOf(call);
      assert.equal(err.name, code, err.message);
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.equal(err.message, message);
    };
    const qualifiers = 'Tags on function aliases and versions are not supported. Please specify a function ARN.';
    // Before the function is looked for: `nope` does not exist.
    for (const arn of [`${FN_ARN}tagged:1`, `${FN_ARN}tagged:$LATEST`, `${FN_ARN}nope:live`]) {
      await refused(
        () => t.lambda.send(new TagResourceCommand({ Resource: arn, Tags: { a: 'b' } })),
        'InvalidParameterValueException',
        qualifiers,
      );
      await refused(() => t.lambda.send(new ListTagsCommand({ Resource: arn })), 'InvalidParameterValueException', qualifiers);
    }
    await refused(
      () => t.lambda.send(new ListTagsCommand({ Resource: 'arn:aws:something' })),
      'ValidationException',
      "1 validation error detected: Value 'arn:aws:something' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)",
    );
    await refused(
      () => t.lambda.send(new TagResourceCommand({ Resource: `${FN_ARN}tagged`, Tags: {} })),
      'InvalidParameterValueException',
      'An error occurred and the request cannot be processed.',
    );
    await refused(
      () => t.lambda.send(new UntagResourceCommand({ Resource: `${FN_ARN}tagged`, TagKeys: [] })),
      'ValidationException',
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    );
  });

  it('Lambda: deleting a function deletes its tags', async () => {
    await createFunction(t.lambda, 'reborn', code, { Tags: { old: 'yes' } });
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'reborn' }));
    await createFunction(t.lambda, 'reborn', code);
    assert.deepEqual((await t.lambda.send(new ListTagsCommand({ Resource: `${FN_ARN}reborn` }))).Tags, {});
  });

  it('GetFunctionCodeSigningConfig: no function has a config; a missing function is not found', async () => {
    const out = await t.lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'tagged' }));
    assert.equal(out.FunctionName, 'tagged');
    assert.equal(out.CodeSigningConfigArn, '');
    const missing = await errorOf(() => t.lambda.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'nope' })));
    assert.equal(missing.name, 'ResourceNotFoundException');
  });

  it('CloudWatch Logs: tags on CreateLogGroup, by ARN and by the older log-group operations; gone with the group', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/tagged', tags: { a: '1' } }));
    const arn = 'arn:aws:logs:us-east-1:000000000000:log-group:/tagged';
    await logs.send(new TagLogCommand({ resourceArn: arn, tags: { b: '2' } }));
    await logs.send(new TagLogGroupCommand({ logGroupName: '/tagged', tags: { c: '3' } }));
    await logs.send(new UntagLogCommand({ resourceArn: `${arn}:*`, tagKeys: ['a'] }));
    await logs.send(new UntagLogGroupCommand({ logGroupName: '/tagged', tags: ['c'] }));
    assert.deepEqual((await logs.send(new ListLogTagsCommand({ resourceArn: arn }))).tags, { b: '2' });
    assert.deepEqual((await logs.send(new ListTagsLogGroupCommand({ logGroupName: '/tagged' }))).tags, { b: '2' });

    const missing = await errorOf(() => logs.send(new ListLogTagsCommand({ resourceArn: `${arn}-nope` })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(missing.message, 'The specified log group does not exist.');
    const tooMany = await errorOf(() => logs.send(new TagLogCommand({ resourceArn: arn, tags: fifty })));
    assert.equal(tooMany.name, 'TooManyTagsException');
    const longKey = await errorOf(() => logs.send(new TagLogCommand({ resourceArn: arn, tags: { ['k'.repeat(129)]: 'v' } })));
    assert.equal(longKey.name, 'InvalidParameterException');

    await logs.send(new DeleteLogGroupCommand({ logGroupName: '/tagged' }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/tagged' }));
    assert.deepEqual((await logs.send(new ListLogTagsCommand({ resourceArn: arn }))).tags, {});
  });

  it('CloudWatch: Tags on PutMetricAlarm apply when it creates the alarm only; TagResource and UntagResource change them', async () => {
    const cw = cloudWatchClientFor(t.url);
    const alarm = (Tags: { Key: string; Value: string }[]): PutMetricAlarmCommandInput => ({
      AlarmName: 'tagged-alarm',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Tags,
    });
    const arn = 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:tagged-alarm';
    const list = async () => (await cw.send(new ListAlarmTagsCommand({ ResourceARN: arn }))).Tags;
    await cw.send(new PutMetricAlarmCommand(alarm(pairs({ a: '1' }))));
    await cw.send(new PutMetricAlarmCommand(alarm(pairs({ ignored: 'on update' }))));
    assert.deepEqual(await list(), pairs({ a: '1' }));
    await cw.send(new TagAlarmCommand({ ResourceARN: arn, Tags: pairs({ b: '2' }) }));
    await cw.send(new UntagAlarmCommand({ ResourceARN: arn, TagKeys: ['a'] }));
    assert.deepEqual(await list(), pairs({ b: '2' }));

    // A missing alarm has no tags, as AWS answers it (test_tagging_metric_alarm), rather than an error.
    assert.deepEqual((await cw.send(new ListAlarmTagsCommand({ ResourceARN: `${arn}-nope` }))).Tags, []);
    const tooMany = await errorOf(() => cw.send(new TagAlarmCommand({ ResourceARN: arn, Tags: pairs(fifty) })));
    assert.equal(tooMany.name, 'InvalidParameterValueException');

    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['tagged-alarm'] }));
    await cw.send(new PutMetricAlarmCommand(alarm([])));
    assert.deepEqual(await list(), [], 'the deleted alarm took its tags');
    cw.destroy();
  });

  it('CodeDeploy: tags on applications and groups, by ARNs with or without the account; gone with the application', async () => {
    const cd = codeDeployClientFor(t.url);
    const appArn = 'arn:aws:codedeploy:us-east-1::application:tag-app';
    const groupArn = 'arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:tag-app/g';
    const list = async (arn: string) => (await cd.send(new ListDeployTagsCommand({ ResourceArn: arn }))).Tags;
    const create = async () => {
      await cd.send(new CreateApplicationCommand({ applicationName: 'tag-app', computePlatform: 'Lambda', tags: pairs({ app: '1' }) }));
      await cd.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'tag-app',
          deploymentGroupName: 'g',
          serviceRoleArn: SERVICE_ROLE,
          tags: pairs({ group: '1' }),
        }),
      );
    };
    await create();
    assert.deepEqual(await list(appArn), pairs({ app: '1' }));
    assert.deepEqual(await list(groupArn), pairs({ group: '1' }));
    await cd.send(new TagDeployCommand({ ResourceArn: groupArn, Tags: pairs({ more: '2' }) }));
    await cd.send(new UntagDeployCommand({ ResourceArn: groupArn, TagKeys: ['group'] }));
    assert.deepEqual(await list(groupArn), pairs({ more: '2' }));

    const missingApp = await errorOf(() => list('arn:aws:codedeploy:us-east-1::application:nope'));
    assert.equal(missingApp.name, 'ApplicationDoesNotExistException');
    const missingGroup = await errorOf(() => list('arn:aws:codedeploy:us-east-1::deploymentgroup:tag-app/nope'));
    assert.equal(missingGroup.name, 'DeploymentGroupDoesNotExistException');
    const badArn = await errorOf(() => list('not-an-arn'));
    assert.equal(badArn.name, 'InvalidArnException');
    const tooMany = await errorOf(() => cd.send(new TagDeployCommand({ ResourceArn: appArn, Tags: pairs(fifty) })));
    assert.equal(tooMany.name, 'TagLimitExceededException');

    await cd.send(new DeleteApplicationCommand({ applicationName: 'tag-app' }));
    await cd.send(new CreateApplicationCommand({ applicationName: 'tag-app', computePlatform: 'Lambda' }));
    await cd.send(new CreateDeploymentGroupCommand({ applicationName: 'tag-app', deploymentGroupName: 'g', serviceRoleArn: SERVICE_ROLE }));
    assert.deepEqual(await list(appArn), []);
    assert.deepEqual(await list(groupArn), [], "the application's groups lost their tags with it");
    cd.destroy();
  });

  it('CodeDeploy: a group keeps outdatedInstancesStrategy, triggers and terminationHookEnabled, and its tags when renamed', async () => {
    const cd = codeDeployClientFor(t.url);
    await cd.send(new CreateApplicationCommand({ applicationName: 'members-app', computePlatform: 'Lambda' }));
    const trigger = {
      triggerName: 'ops',
      triggerTargetArn: 'arn:aws:sns:us-east-1:000000000000:ops',
      triggerEvents: ['DeploymentFailure' as const],
    };
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'members-app',
        deploymentGroupName: 'g',
        serviceRoleArn: SERVICE_ROLE,
        outdatedInstancesStrategy: 'IGNORE',
        triggerConfigurations: [trigger],
        terminationHookEnabled: true,
        tags: pairs({ keep: 'me' }),
      }),
    );
    const get = async (name: string) =>
      (await cd.send(new GetDeploymentGroupCommand({ applicationName: 'members-app', deploymentGroupName: name }))).deploymentGroupInfo;
    const created = await get('g');
    assert.equal(created?.outdatedInstancesStrategy, 'IGNORE');
    assert.deepEqual(created?.triggerConfigurations, [trigger]);
    assert.equal(created?.terminationHookEnabled, true);

    await cd.send(
      new UpdateDeploymentGroupCommand({ applicationName: 'members-app', currentDeploymentGroupName: 'g', newDeploymentGroupName: 'g2' }),
    );
    const renamed = await get('g2');
    assert.equal(renamed?.outdatedInstancesStrategy, 'IGNORE', 'an update that does not name a member keeps it');
    assert.deepEqual(renamed?.triggerConfigurations, [trigger]);
    const tags = await cd.send(new ListDeployTagsCommand({ ResourceArn: 'arn:aws:codedeploy:us-east-1::deploymentgroup:members-app/g2' }));
    assert.deepEqual(tags.Tags, pairs({ keep: 'me' }));

    await cd.send(
      new CreateDeploymentGroupCommand({ applicationName: 'members-app', deploymentGroupName: 'plain', serviceRoleArn: SERVICE_ROLE }),
    );
    const plain = await get('plain');
    assert.equal(plain?.outdatedInstancesStrategy, 'UPDATE');
    assert.deepEqual(plain?.triggerConfigurations, []);
    assert.equal(plain?.terminationHookEnabled, false);
    const bad = await errorOf(() =>
      cd.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'members-app',
          deploymentGroupName: 'bad',
          serviceRoleArn: SERVICE_ROLE,
          outdatedInstancesStrategy: 'SOMETIMES' as 'UPDATE',
        }),
      ),
    );
    assert.equal(bad.name, 'ValidationException');
    cd.destroy();
  });

  it('API Gateway: GetTags, TagResource and UntagResource on a REST API and a stage; CreateDeployment with stageName "" makes no stage', async () => {
    const api = await apigw.send(new CreateRestApiCommand({ name: 'tagged-api', tags: { a: '1' } }));
    const id = api.id!;
    const root = (await apigw.send(new GetResourcesCommand({ restApiId: id }))).items![0]!.id!;
    const res = await apigw.send(new CreateResourceCommand({ restApiId: id, parentId: root, pathPart: 'x' }));
    await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: res.id, httpMethod: 'GET', authorizationType: 'NONE' }));
    await apigw.send(new PutIntegrationCommand({ restApiId: id, resourceId: res.id, httpMethod: 'GET', type: 'MOCK' }));
    const deployment = await apigw.send(new CreateApiDeploymentCommand({ restApiId: id, stageName: '' }));
    assert.deepEqual((await apigw.send(new GetStagesCommand({ restApiId: id }))).item, []);
    await apigw.send(new CreateStageCommand({ restApiId: id, stageName: 'prod', deploymentId: deployment.id, tags: { s: '1' } }));

    const apiArn = `arn:aws:apigateway:us-east-1::/restapis/${id}`;
    const stageArn = `${apiArn}/stages/prod`;
    await apigw.send(new TagApiCommand({ resourceArn: apiArn, tags: { b: '2' } }));
    await apigw.send(new UntagApiCommand({ resourceArn: apiArn, tagKeys: ['a'] }));
    await apigw.send(new TagApiCommand({ resourceArn: stageArn, tags: { t: '2' } }));
    assert.deepEqual((await apigw.send(new GetTagsCommand({ resourceArn: apiArn }))).tags, { b: '2' });
    assert.deepEqual((await apigw.send(new GetTagsCommand({ resourceArn: stageArn }))).tags, { s: '1', t: '2' });

    const missing = await errorOf(() => apigw.send(new GetTagsCommand({ resourceArn: `${apiArn}x` })));
    assert.equal(missing.name, 'NotFoundException');
    const tooMany = await errorOf(() => apigw.send(new TagApiCommand({ resourceArn: stageArn, tags: fifty })));
    assert.equal(tooMany.name, 'BadRequestException');
  });
});
