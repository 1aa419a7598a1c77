/**
 * CloudFormation, SSM Parameter Store and STS answering as AWS does: each case states what a response
 * recorded against real AWS holds (LocalStack's AWS-validated snapshots, or AWS's own words where a
 * tool quotes them) and checks that Versa answers the same over the AWS SDK v3.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  UpdateStackCommand,
  ValidateTemplateCommand,
  waitUntilStackCreateComplete,
} from '@aws-sdk/client-cloudformation';
import { DescribeParametersCommand, GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { clientConfig, errorOf, startTestServer, type TestServer, refused } from './harness.js';

const STANDARD_TOO_LONG =
  'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html';
const NO_DOWNGRADE =
  "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter. Be aware that standard parameters have a value limit of 4096 characters.";

describe('SSM: parameter tiers', () => {
  let t: TestServer;
  let ssm: SSMClient;
  before(async () => {
    t = await startTestServer();
    ssm = new SSMClient(clientConfig(t.url));
  });
  after(async () => {
    ssm.destroy();
    await t.close();
  });

  it('PutParameter(Tier: Advanced) takes a value of 8 KB, and answers Tier Advanced', async () => {
    // AWS's model: Advanced parameters hold up to 8 KB; PutParameter's result holds the Tier.
    const out = await ssm.send(new PutParameterCommand({ Name: '/tier/adv', Value: 'x'.repeat(8192), Type: 'String', Tier: 'Advanced' }));
    assert.equal(out.Tier, 'Advanced');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/tier/adv' }))).Parameter?.Value?.length, 8192);
  });

  it('PutParameter of a Standard value over 4096 characters: AWS own message', async () => {
    // Quoted by tools from AWS's answer: ValidationException "Standard tier parameters support a maximum
    // parameter value of 4096 characters. To create a larger ... advanced-parameter tier. For more information, see <doc URL>".
    await refused(
      () => ssm.send(new PutParameterCommand({ Name: '/tier/std', Value: 'x'.repeat(4097), Type: 'String' })),
      'ValidationException',
      400,
      STANDARD_TOO_LONG,
    );
    await refused(
      () => ssm.send(new PutParameterCommand({ Name: '/tier/std', Value: 'x'.repeat(4097), Type: 'String', Tier: 'Standard' })),
      'ValidationException',
      400,
      STANDARD_TOO_LONG,
    );
  });

  it('an Advanced parameter stays Advanced: Tier Standard is refused, no Tier keeps it', async () => {
    // AWS (as quoted in a CloudFormation stack's failure reason): ValidationException "This parameter uses
    // the advanced-parameter tier. You can't downgrade ... value limit of 4096 characters."
    await ssm.send(new PutParameterCommand({ Name: '/tier/keep', Value: 'small', Type: 'String', Tier: 'Advanced' }));
    await refused(
      () => ssm.send(new PutParameterCommand({ Name: '/tier/keep', Value: 'v2', Type: 'String', Tier: 'Standard', Overwrite: true })),
      'ValidationException',
      400,
      NO_DOWNGRADE,
    );
    const kept = await ssm.send(new PutParameterCommand({ Name: '/tier/keep', Value: 'y'.repeat(5000), Overwrite: true }));
    assert.deepEqual([kept.Version, kept.Tier], [2, 'Advanced']);
  });

  it('DescribeParameters shows each parameter’s Tier, kept across a restart', async () => {
    // AWS's model: ParameterMetadata (DescribeParameters) carries Tier; test_ssm.py::test_parameters_with_path
    // records PutParameter answering Tier "Standard" for a parameter put without one.
    await ssm.send(new PutParameterCommand({ Name: '/described/std', Value: 'v', Type: 'String', Description: 'd' }));
    await ssm.send(new PutParameterCommand({ Name: '/described/adv', Value: 'v', Type: 'SecureString', Tier: 'Advanced' }));
    await t.restart();
    ssm.destroy();
    ssm = new SSMClient(clientConfig(t.url));
    const all = [];
    let NextToken: string | undefined;
    do {
      const page = await ssm.send(new DescribeParametersCommand({ MaxResults: 5, NextToken }));
      all.push(...(page.Parameters ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const byName = new Map(all.map((p) => [p.Name, p]));
    assert.deepEqual(
      [byName.get('/described/std')?.Tier, byName.get('/described/std')?.Description, byName.get('/described/adv')?.Tier],
      ['Standard', 'd', 'Advanced'],
    );
    assert.equal(byName.get('/described/adv')?.KeyId, 'alias/aws/ssm');
    assert.equal(byName.get('/tier/adv')?.Tier, 'Advanced');
  });

  it('Intelligent-Tiering: Standard while the value fits, Advanced when it does not', async () => {
    // AWS's model (ParameterTier): Intelligent-Tiering makes a parameter Advanced only when the request needs it.
    const small = await ssm.send(new PutParameterCommand({ Name: '/tier/it', Value: 's', Type: 'String', Tier: 'Intelligent-Tiering' }));
    assert.equal(small.Tier, 'Standard');
    const big = await ssm.send(
      new PutParameterCommand({ Name: '/tier/it', Value: 'b'.repeat(5000), Tier: 'Intelligent-Tiering', Overwrite: true }),
    );
    assert.equal(big.Tier, 'Advanced');
  });
});

describe('SSM: reading parameters', () => {
  let t: TestServer;
  let ssm: SSMClient;
  before(async () => {
    t = await startTestServer();
    ssm = new SSMClient(clientConfig(t.url));
  });
  after(async () => {
    ssm.destroy();
    await t.close();
  });

  it('GetParameter and GetParameters take the ARN for the name', async () => {
    // test_ssm.py::test_parameters_with_path / test_get_parameter_by_arn: by ARN, the same Parameter as by name.
    for (const name of ['/test/param-arn', 'param-arn']) {
      await ssm.send(new PutParameterCommand({ Name: name, Value: '123', Type: 'String' }));
      const byName = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter!;
      const byArn = (await ssm.send(new GetParameterCommand({ Name: byName.ARN }))).Parameter!;
      assert.deepEqual([byArn.Name, byArn.ARN, byArn.Value], [name, byName.ARN, '123']);
      const many = await ssm.send(new GetParametersCommand({ Names: [byName.ARN!] }));
      assert.deepEqual([many.Parameters?.map((p) => p.Name), many.InvalidParameters], [[name], []]);
    }
  });

  it('GetParameter of a malformed path is a ValidationException, not a miss', async () => {
    // test_ssm.py::test_hierarchical_parameter: "/<p>//b//c" and "<p>/b/c" fail with ValidationException
    // whose message says "sub-paths divided by slash symbol".
    await ssm.send(new PutParameterCommand({ Name: '/p/b/c', Value: '123', Type: 'String' }));
    for (const name of ['/p//b//c', 'p/b/c']) {
      const err = await errorOf(() => ssm.send(new GetParameterCommand({ Name: name })));
      assert.equal(err.name, 'ValidationException');
      assert.match(err.message, /sub-paths divided by slash symbol/);
    }
  });
});

describe('STS: AssumeRole refusals', () => {
  let t: TestServer;
  let sts: STSClient;
  const role = 'arn:aws:iam::000000000000:role/fidelity';
  before(async () => {
    t = await startTestServer();
    sts = new STSClient(clientConfig(t.url));
  });
  after(async () => {
    sts.destroy();
    await t.close();
  });

  it('a RoleArn that is no ARN: "<arn> is invalid"', async () => {
    // test_sts.py::test_sts_invalid_parameters: ValidationError 400 "nothing-valid-in-here is invalid", and
    // the same for "arn::b:::something/test-role", "arn:a::::something/test-role", "arn:a:::something/test-role", "arn:a:a::aaaaaaaaaa:".
    for (const arn of [
      'nothing-valid-in-here',
      'arn::b:::something/test-role',
      'arn:a::::something/test-role',
      'arn:a:::something/test-role',
      'arn:a:a::aaaaaaaaaa:',
    ]) {
      await refused(
        () => sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'Session1' })),
        'ValidationError',
        400,
        `${arn} is invalid`,
      );
    }
  });

  it('an ARN with a bad session name: the session name is what is refused', async () => {
    // test_sts.py::test_sts_invalid_parameters (invalid-session-name): RoleArn "arn:a:b:::something/test-role".
    await refused(
      () => sts.send(new AssumeRoleCommand({ RoleArn: 'arn:a:b:::something/test-role', RoleSessionName: 'Session1:2' })),
      'ValidationError',
      400,
      "1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  });

  it('session tags: a transitive key not among the tags, and keys equal but for case', async () => {
    // test_sts.py::test_assume_role_tag_validation: InvalidParameterValue 400 with these two messages.
    await refused(
      () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: role,
            RoleSessionName: 'SessionInvalidTransitiveKeys',
            Tags: [{ Key: 'SessionTag1', Value: 'SessionValue1' }],
            TransitiveTagKeys: ['InvalidKey'],
          }),
        ),
      'InvalidParameterValue',
      400,
      'The specified transitive tag key must be included in the requested tags.',
    );
    await refused(
      () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: role,
            RoleSessionName: 'SessionDuplicate',
            Tags: [
              { Key: 'SessionTag1', Value: 'a' },
              { Key: 'sessiontag1', Value: 'b' },
            ],
          }),
        ),
      'InvalidParameterValue',
      400,
      'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
    );
    // Transitive keys match the tags whatever their case, as on AWS.
    const ok = await sts.send(
      new AssumeRoleCommand({
        RoleArn: role,
        RoleSessionName: 'SessionCasing',
        Tags: [{ Key: 'SessionTag1', Value: 'v' }],
        TransitiveTagKeys: ['sessiontag1'],
      }),
    );
    assert.ok(ok.Credentials?.AccessKeyId);
  });
});

describe('CloudFormation: refusals worded as AWS words them', () => {
  let t: TestServer;
  let cfn: CloudFormationClient;
  let stackId: string;
  const template = JSON.stringify({ Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'v' } } } });
  before(async () => {
    t = await startTestServer();
    cfn = new CloudFormationClient(clientConfig(t.url));
    stackId = (await cfn.send(new CreateStackCommand({ StackName: 'fid', TemplateBody: template }))).StackId!;
    await waitUntilStackCreateComplete({ client: cfn, maxWaitTime: 60, minDelay: 1 }, { StackName: 'fid' });
  });
  after(async () => {
    cfn.destroy();
    await t.close();
  });

  it('CreateStack with a malformed name: the model pattern', async () => {
    // test_stacks.py::test_stack_name_creation: ValidationError 400 "1 validation error detected: Value '*@da591fa3_$' at 'stackName' ...".
    await refused(
      () => cfn.send(new CreateStackCommand({ StackName: '*@da591fa3_$', TemplateBody: template })),
      'ValidationError',
      400,
      "1 validation error detected: Value '*@da591fa3_$' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*",
    );
  });

  it('DescribeStackEvents and DescribeStackResource of a missing stack', async () => {
    // test_stacks.py::test_describe_stack_events_errors: "Stack [does-not-exist] does not exist".
    await refused(
      () => cfn.send(new DescribeStackEventsCommand({ StackName: 'does-not-exist' })),
      'ValidationError',
      400,
      'Stack [does-not-exist] does not exist',
    );
    // test_resources.py::test_describe_non_existent_stack: "Stack 'not-a-valid-stack' does not exist".
    await refused(
      () => cfn.send(new DescribeStackResourceCommand({ StackName: 'not-a-valid-stack', LogicalResourceId: 'not-a-valid-resource' })),
      'ValidationError',
      400,
      "Stack 'not-a-valid-stack' does not exist",
    );
  });

  it('DescribeStackResource of a missing resource names the stack as the request did', async () => {
    // test_resources.py::test_describe_non_existent_resource: "Resource not-a-valid-resource does not exist for stack <stack-id>".
    await refused(
      () => cfn.send(new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: 'not-a-valid-resource' })),
      'ValidationError',
      400,
      `Resource not-a-valid-resource does not exist for stack ${stackId}`,
    );
  });

  it('change sets: a stack that does not exist, and a name without its stack', async () => {
    // test_changesets.py::test_delete_change_set_exception: "Stack [nostack] does not exist", then
    // "StackName must be specified if ChangeSetName is not specified as an ARN.".
    await refused(
      () => cfn.send(new DeleteChangeSetCommand({ StackName: 'nostack', ChangeSetName: 'DoesNotExist' })),
      'ValidationError',
      400,
      'Stack [nostack] does not exist',
    );
    await refused(
      () => cfn.send(new DeleteChangeSetCommand({ ChangeSetName: 'DoesNotExist' })),
      'ValidationError',
      400,
      'StackName must be specified if ChangeSetName is not specified as an ARN.',
    );
    // test_changesets.py::test_describe_change_set_nonexisting: "Stack [somestack] does not exist".
    await refused(
      () => cfn.send(new DescribeChangeSetCommand({ StackName: 'somestack', ChangeSetName: 'DoesNotExist' })),
      'ValidationError',
      400,
      'Stack [somestack] does not exist',
    );
  });

  it('a CREATE change set for a stack named by its ARN names it by the ARN', async () => {
    // test_changesets.py::test_create_changeset_with_stack_id: "Stack [<stack ARN>] already exists and cannot be created again with the changeSet [revived-stack-changeset].".
    await refused(
      () =>
        cfn.send(
          new CreateChangeSetCommand({
            StackName: stackId,
            ChangeSetName: 'revived-stack-changeset',
            ChangeSetType: 'CREATE',
            TemplateBody: template,
          }),
        ),
      'ValidationError',
      400,
      `Stack [${stackId}] already exists and cannot be created again with the changeSet [revived-stack-changeset].`,
    );
  });

  it('GetTemplate without a stack', async () => {
    // test_templates.py::test_get_template_no_arguments and ::test_get_template_missing_resources_change_set.
    await refused(
      () => cfn.send(new GetTemplateCommand({})),
      'ValidationError',
      400,
      'StackName is required if ChangeSetName is not specified.',
    );
    await refused(
      () => cfn.send(new GetTemplateCommand({ ChangeSetName: 'does-not-exist' })),
      'ValidationError',
      400,
      'StackName is a required parameter.',
    );
  });

  it('GetTemplateSummary of a stack in review, and UpdateStack without a template', async () => {
    // test_templates.py::test_get_template_summary_non_executed_change_set: "GetTemplateSummary cannot be called on REVIEW_IN_PROGRESS stacks.".
    await cfn.send(
      new CreateChangeSetCommand({ StackName: 'in-review', ChangeSetName: 'c', ChangeSetType: 'CREATE', TemplateBody: template }),
    );
    await refused(
      () => cfn.send(new GetTemplateSummaryCommand({ StackName: 'in-review' })),
      'ValidationError',
      400,
      'GetTemplateSummary cannot be called on REVIEW_IN_PROGRESS stacks.',
    );
    // test_update_stack.py::test_no_template_error: "Either Template URL or Template Body must be specified.".
    await refused(
      () => cfn.send(new UpdateStackCommand({ StackName: 'fid' })),
      'ValidationError',
      400,
      'Either Template URL or Template Body must be specified.',
    );
  });
});

describe('CloudFormation: template format errors', () => {
  let t: TestServer;
  let cfn: CloudFormationClient;
  const param = { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } };
  const create = (name: string, template: unknown) =>
    cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: typeof template === 'string' ? template : JSON.stringify(template) }));
  before(async () => {
    t = await startTestServer();
    cfn = new CloudFormationClient(clientConfig(t.url));
  });
  after(async () => {
    cfn.destroy();
    await t.close();
  });

  it('JSON and YAML that do not parse: where, not what', async () => {
    // test_templates.py::test_validate_invalid_json_template_should_fail: "Template format error: JSON not well-formed. (line 1, column 25)".
    await refused(
      () => cfn.send(new ValidateTemplateCommand({ TemplateBody: '{"this is invalid JSON"="bobbins"}' })),
      'ValidationError',
      400,
      'Template format error: JSON not well-formed. (line 1, column 25)',
    );
    // test_templates.py::test_create_stack_invalid_yaml_template_should_fail: "Template format error: YAML not
    // well-formed." followed by its place in parentheses (which the recording leaves out).
    const yaml =
      'Resources:\n  MyBucket:\n    Type: AWS::S3::Bucket\n    Properties:\n        BucketName: test\n      VersioningConfiguration:\n        Status: Enabled\n';
    const err = await errorOf(() => create('bad-yaml', yaml));
    assert.equal(err.name, 'ValidationError');
    assert.match(err.message, /^Template format error: YAML not well-formed\. \(line \d+, column \d+\)$/);
  });

  it('Resources that is no object, a resource without Type or with an unknown attribute', async () => {
    // test_stacks.py::test_linting_error_during_creation: "Template format error: Any Resources member must be an object.".
    await refused(
      () => create('lint', { Resources: '', Outputs: '' }),
      'ValidationError',
      400,
      'Template format error: Any Resources member must be an object.',
    );
    // test_validations.py::test_resources_blocks[missing-type] and [invalid-key].
    await refused(
      () => create('no-type', { Resources: { A: { Properties: {} } } }),
      'ValidationError',
      400,
      'Template format error: [/Resources/A] Every Resources object must contain a Type member.',
    );
    await refused(
      () => create('bad-key', { Resources: { A: { ...param, Invalid: 10 } } }),
      'ValidationError',
      400,
      "Invalid template resource property 'Invalid'",
    );
  });

  it('a template that is no mapping: "unsupported structure"', async () => {
    // test_stacks.py::test_create_stack_url_as_template (a URL given as TemplateBody): "Template format error: unsupported structure.".
    await refused(
      () =>
        create(
          'url-body',
          'https://raw.githubusercontent.com/aws-cloudformation/aws-cloudformation-templates/refs/heads/main/EC2/InstanceWithCfnInit.yaml',
        ),
      'ValidationError',
      400,
      'Template format error: unsupported structure.',
    );
  });

  it('ExecuteChangeSet of a change set that failed (no changes): refused for its status', async () => {
    // test_changesets.py::test_empty_changeset: InvalidChangeSetStatus "ChangeSet [<arn>] cannot be executed in its current status of [FAILED]".
    await create('empty', { Resources: { F: param } });
    await waitUntilStackCreateComplete({ client: cfn, maxWaitTime: 60, minDelay: 1 }, { StackName: 'empty' });
    const { Id } = await cfn.send(
      new CreateChangeSetCommand({
        StackName: 'empty',
        ChangeSetName: 'nothing',
        TemplateBody: JSON.stringify({ Resources: { F: param } }),
      }),
    );
    await refused(
      () => cfn.send(new ExecuteChangeSetCommand({ StackName: 'empty', ChangeSetName: Id })),
      // The wire's code InvalidChangeSetStatus is the SDK's InvalidChangeSetStatusException.
      'InvalidChangeSetStatusException',
      400,
      `ChangeSet [${Id}] cannot be executed in its current status of [FAILED]`,
    );
  });

  it('an Output without a Value, or with a null one', async () => {
    // test_validations.py::test_invalid_output_structure[multiple-nones] and [none-value].
    await refused(
      () => create('no-value', { Resources: { F: param }, Outputs: { MyOutput: {} } }),
      'ValidationError',
      400,
      'Template format error: Every Outputs member must contain a Value object',
    );
    await refused(
      () => create('null-value', { Resources: { F: param }, Outputs: { MyOutput: { Value: null } } }),
      'ValidationError',
      400,
      "[/Outputs/MyOutput/Value] 'null' values are not allowed in templates",
    );
  });
});
