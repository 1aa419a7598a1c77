/**
 * CodeDeploy's bounds on what a caller sends, probed as an attacker would: every member of a deployment
 * group or a deployment past AWS's documented bounds or outside its enums is refused with the exception
 * CodeDeploy's model names for it, and nothing is changed (the group reads the same before and after).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  GetApplicationCommand,
  GetDeploymentGroupCommand,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListDeploymentsCommand,
  ListTagsForResourceCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  UpdateDeploymentGroupCommand,
  type CodeDeployClient,
  type CreateDeploymentGroupCommandInput,
  type CreateDeploymentInput,
  type TriggerConfig,
} from '@aws-sdk/client-codedeploy';
import { appSpec, codeDeployClientFor, deploy, functionWithTwoVersions, SERVICE_ROLE, waitForStatus } from './codedeploy-helpers.js';
import { errorOf, startTestServer, type TestServer } from './harness.js';

const APP = 'bounds-app';
const GROUP = 'bounds-group';
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:deployments';

type Refusal = [what: string, code: string, message: RegExp, change: Partial<CreateDeploymentGroupCommandInput>];

/** A trigger; `over` may hold what the SDK's types would not let through. */
const trigger = (triggerName: string, over: Record<string, unknown> = {}): TriggerConfig => ({
  triggerName,
  triggerTargetArn: TOPIC,
  triggerEvents: ['DeploymentFailure'],
  ...over,
});
const alarms = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `alarm-${i}` }));

/** Each member out of bounds, with the exception and the message AWS's model documents for it. */
const GROUP_REFUSALS: Refusal[] = [
  // (a) triggers
  [
    'a trigger without a name',
    'InvalidTriggerConfigException',
    /^The trigger was specified in an invalid format\./,
    { triggerConfigurations: [trigger('')] },
  ],
  [
    'a 101-character trigger name',
    'InvalidTriggerConfigException',
    /trigger name must be at most 100 characters/,
    { triggerConfigurations: [trigger('t'.repeat(101))] },
  ],
  [
    'a 1 MB trigger name',
    'InvalidTriggerConfigException',
    /trigger name must be at most 100 characters/,
    { triggerConfigurations: [trigger('t'.repeat(1_000_000))] },
  ],
  [
    'a target that is not an SNS topic',
    'InvalidTriggerConfigException',
    /is not an Amazon SNS topic ARN/,
    { triggerConfigurations: [trigger('t', { triggerTargetArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' })] },
  ],
  [
    'a 1 MB target',
    'InvalidTriggerConfigException',
    /is not an Amazon SNS topic ARN/,
    { triggerConfigurations: [trigger('t', { triggerTargetArn: `${TOPIC}${'x'.repeat(1_000_000)}` })] },
  ],
  [
    'an unknown trigger event',
    'InvalidTriggerConfigException',
    /trigger event type DeploymentExploded is not valid/,
    { triggerConfigurations: [trigger('t', { triggerEvents: ['DeploymentStart', 'DeploymentExploded'] })] },
  ],
  [
    'two triggers of one name',
    'InvalidTriggerConfigException',
    /trigger name same is used more than once/,
    { triggerConfigurations: [trigger('same'), trigger('same', { triggerEvents: ['DeploymentStart'] })] },
  ],
  [
    '11 triggers',
    'TriggerTargetsLimitExceededException',
    /^The maximum allowed number of triggers was exceeded\.$/,
    {
      triggerConfigurations: Array.from({ length: 11 }, (_, i) => trigger(`t${i}`)),
    },
  ],
  // (b) automatic rollback
  [
    'an unknown rollback event',
    'InvalidAutoRollbackConfigException',
    /^The automatic rollback configuration was specified in an invalid format\. The event type DEPLOYMENT_EXPLODED is not valid/,
    { autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_EXPLODED' as 'DEPLOYMENT_FAILURE'] } },
  ],
  [
    'rollback enabled with no events',
    'InvalidAutoRollbackConfigException',
    /Automatic rollback is enabled, but no event types were listed\./,
    { autoRollbackConfiguration: { enabled: true, events: [] } },
  ],
  // (c) alarms
  [
    '11 alarms',
    'AlarmsLimitExceededException',
    /^The maximum number of alarms for a deployment group \(10\) was exceeded\.$/,
    { alarmConfiguration: { enabled: true, alarms: alarms(11) } },
  ],
  [
    'a 256-character alarm name',
    'InvalidAlarmConfigException',
    /^The format of the alarm configuration is invalid\. The alarm name is empty or null or exceeds the limit of 255 characters\.$/,
    { alarmConfiguration: { enabled: true, alarms: [{ name: 'a'.repeat(256) }] } },
  ],
  [
    'an empty alarm name',
    'InvalidAlarmConfigException',
    /The alarm name is empty or null/,
    { alarmConfiguration: { enabled: true, alarms: [{ name: '' }] } },
  ],
  [
    'two alarms of one name',
    'InvalidAlarmConfigException',
    /Two alarms with the same name have been specified/,
    { alarmConfiguration: { enabled: true, alarms: [{ name: 'x' }, { name: 'x' }] } },
  ],
  [
    'alarms enabled with none listed',
    'InvalidAlarmConfigException',
    /The alarm configuration is enabled, but the alarm list is empty\./,
    { alarmConfiguration: { enabled: true, alarms: [] } },
  ],
  // (d) deployment style and blue/green options
  [
    'an unknown deployment type',
    'InvalidDeploymentStyleException',
    /^An invalid deployment style was specified\. Valid deployment types include "IN_PLACE" and "BLUE_GREEN\."/,
    { deploymentStyle: { deploymentType: 'SIDEWAYS' as 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } },
  ],
  [
    'an unknown deployment option',
    'InvalidDeploymentStyleException',
    /^An invalid deployment style was specified\./,
    { deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'x'.repeat(100_000) as 'WITH_TRAFFIC_CONTROL' } },
  ],
  [
    'an in-place Lambda group',
    'InvalidDeploymentStyleException',
    /style is BLUE_GREEN with WITH_TRAFFIC_CONTROL, not IN_PLACE/,
    { deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' } },
  ],
  [
    'an unknown termination action',
    'InvalidBlueGreenDeploymentConfigurationException',
    /^The configuration for the blue\/green deployment group was provided in an invalid format\. .*action EXPLODE is not one of TERMINATE, KEEP_ALIVE/,
    { blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'EXPLODE' as 'TERMINATE' } } },
  ],
  [
    'a termination wait past 2 days',
    'InvalidBlueGreenDeploymentConfigurationException',
    /terminationWaitTimeInMinutes must be a whole number of minutes from 0 to 2880/,
    { blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { terminationWaitTimeInMinutes: 2881 } } },
  ],
  [
    'an unknown ready action',
    'InvalidBlueGreenDeploymentConfigurationException',
    /deploymentReadyOption\.actionOnTimeout/,
    { blueGreenDeploymentConfiguration: { deploymentReadyOption: { actionOnTimeout: 'WAIT' as 'STOP_DEPLOYMENT' } } },
  ],
  [
    'an unknown green fleet action',
    'InvalidBlueGreenDeploymentConfigurationException',
    /greenFleetProvisioningOption\.action/,
    { blueGreenDeploymentConfiguration: { greenFleetProvisioningOption: { action: 'BORROW' as 'DISCOVER_EXISTING' } } },
  ],
  // (e) names and the role
  [
    'a 101-character group name',
    'InvalidDeploymentGroupNameException',
    /^The deployment group name was specified in an invalid format\./,
    { deploymentGroupName: 'g'.repeat(101) },
  ],
  [
    'a role that is not an IAM role ARN',
    'InvalidRoleException',
    /^The service role ARN was specified in an invalid format/,
    {
      serviceRoleArn: 'arn:aws:iam::000000000000:user/someone',
    },
  ],
  [
    'a 1 MB role',
    'InvalidRoleException',
    /^The service role ARN was specified in an invalid format/,
    {
      serviceRoleArn: `${SERVICE_ROLE}${'r'.repeat(1_000_000)}`,
    },
  ],
];

describe('CodeDeploy refuses what AWS refuses, and bounds every member a caller sends', () => {
  let t: TestServer;
  let cd: CodeDeployClient;
  const getGroup = async (name = GROUP) =>
    (await cd.send(new GetDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: name }))).deploymentGroupInfo;
  const refused = async (what: string, call: () => Promise<unknown>, code: string, message: RegExp) => {
    const e = await errorOf(call);
    assert.equal(e.name, code, `${what}: ${e.name} ${e.message.slice(0, 200)}`);
    assert.equal(e.$metadata?.httpStatusCode, 400, what);
    assert.match(e.message, message, what);
  };
  /** Runs every case and reports each that fails, not only the first. */
  const each = async <T extends [string, ...unknown[]]>(cases: T[], check: (c: T) => Promise<void>) => {
    const failed: string[] = [];
    for (const c of cases) {
      try {
        await check(c);
      } catch (e) {
        failed.push(`${c[0]}: ${(e as Error).message.split('\n')[0]!.slice(0, 200)}`);
      }
    }
    assert.deepEqual(failed, []);
  };

  before(async () => {
    t = await startTestServer();
    cd = codeDeployClientFor(t.url);
    await cd.send(new CreateApplicationCommand({ applicationName: APP, computePlatform: 'Lambda' }));
    await cd.send(
      new CreateDeploymentGroupCommand({
        applicationName: APP,
        deploymentGroupName: GROUP,
        serviceRoleArn: SERVICE_ROLE,
        deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
        alarmConfiguration: { enabled: true, alarms: alarms(2) },
        autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
        triggerConfigurations: [trigger('on-failure')],
      }),
    );
  });
  after(async () => {
    cd.destroy();
    await t.close();
  });

  it('CreateDeploymentGroup out of bounds is refused with the documented exception, and no group is made', async () => {
    await each(GROUP_REFUSALS, async ([what, code, message, change]) => {
      const name = change.deploymentGroupName ?? `refused-${what.replace(/[^a-z0-9]+/g, '-')}`;
      const input = { applicationName: APP, deploymentGroupName: name, serviceRoleArn: SERVICE_ROLE, ...change };
      await refused(what, () => cd.send(new CreateDeploymentGroupCommand(input)), code, message);
      if (name.length <= 100) {
        const gone = await errorOf(() => getGroup(name));
        assert.equal(gone.name, 'DeploymentGroupDoesNotExistException', `${what}: no group was made`);
      }
    });
  });

  it('UpdateDeploymentGroup out of bounds is refused the same way, and the group reads the same before and after', async () => {
    const before = await getGroup();
    await each(GROUP_REFUSALS, async ([what, code, message, change]) => {
      const { deploymentGroupName, ...rest } = change;
      const input = {
        applicationName: APP,
        currentDeploymentGroupName: GROUP,
        ...(deploymentGroupName !== undefined && { newDeploymentGroupName: deploymentGroupName }),
        ...rest,
      };
      await refused(what, () => cd.send(new UpdateDeploymentGroupCommand(input)), code, message);
      assert.deepEqual(await getGroup(), before, `${what}: the group is unchanged`);
    });
  });

  it('GetDeploymentGroup returns the style and blue/green options as set; repeated events are kept once', async () => {
    await cd.send(
      new UpdateDeploymentGroupCommand({
        applicationName: APP,
        currentDeploymentGroupName: GROUP,
        blueGreenDeploymentConfiguration: {
          terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE', terminationWaitTimeInMinutes: 5 },
          deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
          greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' },
        },
        autoRollbackConfiguration: { enabled: true, events: Array<'DEPLOYMENT_STOP_ON_REQUEST'>(1000).fill('DEPLOYMENT_STOP_ON_REQUEST') },
        triggerConfigurations: [trigger('twice', { triggerEvents: [...Array<string>(1000).fill('DeploymentStart'), 'DeploymentSuccess'] })],
      }),
    );
    const g = await getGroup();
    assert.deepEqual(g?.deploymentStyle, { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' });
    assert.deepEqual(g?.blueGreenDeploymentConfiguration, {
      terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE', terminationWaitTimeInMinutes: 5 },
      deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
      greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' },
    });
    assert.deepEqual(g?.autoRollbackConfiguration, { enabled: true, events: ['DEPLOYMENT_STOP_ON_REQUEST'] });
    assert.deepEqual(g?.triggerConfigurations, [
      { triggerName: 'twice', triggerTargetArn: TOPIC, triggerEvents: ['DeploymentStart', 'DeploymentSuccess'] },
    ]);
  });

  it('names past 100 characters are refused as invalid, not looked up or stored', async () => {
    const long = 'n'.repeat(101);
    await refused(
      'CreateApplication',
      () => cd.send(new CreateApplicationCommand({ applicationName: long })),
      'InvalidApplicationNameException',
      /^The application name was specified in an invalid format\./,
    );
    await refused(
      'GetApplication',
      () => cd.send(new GetApplicationCommand({ applicationName: long })),
      'InvalidApplicationNameException',
      /^The application name was specified in an invalid format\./,
    );
    await refused(
      'GetDeploymentGroup',
      () => cd.send(new GetDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: long })),
      'InvalidDeploymentGroupNameException',
      /^The deployment group name was specified in an invalid format\./,
    );
    await refused(
      'UpdateDeploymentGroup to an empty name',
      () =>
        cd.send(new UpdateDeploymentGroupCommand({ applicationName: APP, currentDeploymentGroupName: GROUP, newDeploymentGroupName: '' })),
      'InvalidDeploymentGroupNameException',
      /^The deployment group name was specified in an invalid format\. It must be from 1 to 100 characters long; it has 0\.$/,
    );
    assert.equal((await getGroup())?.deploymentGroupName, GROUP);
    await refused(
      'CreateDeploymentConfig',
      () =>
        cd.send(
          new CreateDeploymentConfigCommand({
            deploymentConfigName: long,
            computePlatform: 'Lambda',
            trafficRoutingConfig: { type: 'AllAtOnce' },
          }),
        ),
      'InvalidDeploymentConfigNameException',
      /^The deployment configuration name was specified in an invalid format\./,
    );
  });

  it('CreateDeployment out of bounds (override alarms, rollback, description, sha256) is refused and creates nothing', async () => {
    const content = appSpec('some-fn');
    const deploy = (change: Partial<CreateDeploymentInput>) =>
      cd.send(
        new CreateDeploymentCommand({
          applicationName: APP,
          deploymentGroupName: GROUP,
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
          ...change,
        }),
      );
    const cases: [string, string, RegExp, Partial<CreateDeploymentInput>][] = [
      [
        '11 override alarms',
        'AlarmsLimitExceededException',
        /\(10\) was exceeded/,
        { overrideAlarmConfiguration: { enabled: true, alarms: alarms(11) } },
      ],
      [
        'a 1 MB override alarm name',
        'InvalidAlarmConfigException',
        /exceeds the limit of 255 characters/,
        { overrideAlarmConfiguration: { enabled: true, alarms: [{ name: 'a'.repeat(1_000_000) }] } },
      ],
      [
        'an unknown rollback event',
        'InvalidAutoRollbackConfigException',
        /The event type NOPE is not valid/,
        { autoRollbackConfiguration: { enabled: true, events: ['NOPE' as 'DEPLOYMENT_FAILURE'] } },
      ],
      ['a 1 MB description', 'DescriptionTooLongException', /^The description is too long/, { description: 'd'.repeat(1_000_000) }],
      [
        'a sha256 that is not the content hash',
        'InvalidRevisionException',
        /sha256 is not the SHA-256 hash of its content/,
        { revision: { revisionType: 'AppSpecContent', appSpecContent: { content, sha256: 'f'.repeat(100_000) } } },
      ],
    ];
    const group = await getGroup();
    await each(cases, async ([what, code, message, change]) => {
      await refused(what, () => deploy(change), code, message);
      assert.deepEqual((await cd.send(new ListDeploymentsCommand({}))).deployments, [], `${what}: no deployment`);
      assert.deepEqual(await getGroup(), group, `${what}: the group is unchanged`);
    });
  });

  it('an error names what was sent in a line at most: a 1 MB member is not echoed back', async () => {
    await functionWithTwoVersions(t.lambda, 'echo-fn');
    const id = await deploy(cd, APP, GROUP, appSpec('echo-fn'), 'CodeDeployDefault.LambdaAllAtOnce');
    await waitForStatus(cd, id, ['Succeeded', 'Failed', 'Stopped'], 30_000);
    const huge = 'x'.repeat(1_000_000);
    const cases: [string, string, () => Promise<unknown>][] = [
      [
        'CreateApplication computePlatform',
        'InvalidComputePlatformException',
        () => cd.send(new CreateApplicationCommand({ applicationName: 'echo-app', computePlatform: huge as 'Lambda' })),
      ],
      [
        'CreateDeploymentConfig routing type',
        'InvalidTrafficRoutingConfigurationException',
        () =>
          cd.send(
            new CreateDeploymentConfigCommand({
              deploymentConfigName: 'echo-config',
              computePlatform: 'Lambda',
              trafficRoutingConfig: { type: huge as 'AllAtOnce' },
            }),
          ),
      ],
      ['GetDeployment id', 'InvalidDeploymentIdException', () => cd.send(new GetDeploymentCommand({ deploymentId: huge }))],
      [
        'GetDeploymentTarget targetId',
        'DeploymentTargetDoesNotExistException',
        () => cd.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: huge })),
      ],
      [
        'PutLifecycleEventHookExecutionStatus status',
        'InvalidLifecycleEventHookExecutionStatusException',
        () =>
          cd.send(
            new PutLifecycleEventHookExecutionStatusCommand({
              deploymentId: id,
              lifecycleEventHookExecutionId: 'h',
              status: huge as 'Failed',
            }),
          ),
      ],
      [
        'PutLifecycleEventHookExecutionStatus execution id',
        'InvalidLifecycleEventHookExecutionIdException',
        () =>
          cd.send(
            new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: id, lifecycleEventHookExecutionId: huge, status: 'Failed' }),
          ),
      ],
      ['ListTagsForResource ARN', 'InvalidArnException', () => cd.send(new ListTagsForResourceCommand({ ResourceArn: huge }))],
    ];
    await each(cases, async ([what, code, call]) => {
      const e = await errorOf(call);
      assert.equal(e.name, code, `${what}: ${e.name}`);
      assert.ok(e.message.length < 1200, `${what}: a message of ${e.message.length} characters`);
    });
    // The computePlatform CodeDeploy does not know is named as its model documents.
    const bogus = await errorOf(() =>
      cd.send(new CreateApplicationCommand({ applicationName: 'echo-app', computePlatform: 'Bogus' as 'Lambda' })),
    );
    assert.equal(bogus.message, 'The computePlatform is invalid. The computePlatform should be Lambda, Server, or ECS.');
  });
});
