import { PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { functionArn } from '../../../domain/arn.js';
import { trafficLog, type DeploymentState, type TrafficRouting } from '../../../domain/deployment.js';
import { checkTags, taggedResourceOf, type TaggedResource, type Tags } from '../../../domain/tags.js';
import type { CodeDeployService, CreateDeploymentInput, GroupInput } from '../../../deploy/code-deploy-service.js';
import type { ApplicationDoc, DeploymentConfigDoc, DeploymentGroupDoc } from '../../../domain/code-deploy.js';
import { functionDenied, type ServiceHandler } from '../protocol/http.js';
import { jsonRpcService, type JsonOperation } from '../protocol/json-rpc.js';
import { memberReader } from '../protocol/members.js';
import type { ResourceTags, TagDialect } from '../tagging.js';
import { functionScope } from '../../access/function-scope.js';

type Input = Record<string, unknown>;
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
/** A member of the wrong JSON type is a SerializationException on AWS's JSON 1.1 services. */
const read = memberReader(
  (member, expected) => new PlatformError('SerializationException', `Could not read request member ${member}: expected ${expected}.`),
);
const str = read.string;
const strings = (input: Input, key: string): string[] => read.stringList(input, key) ?? [];

/** Only the members a Lambda deployment group has, each of its type; the service never sees raw input. */
function groupInput(input: Input): GroupInput & { currentDeploymentGroupName?: string; newDeploymentGroupName?: string } {
  const alarmConfiguration = read.object(input, 'alarmConfiguration');
  const autoRollback = read.object(input, 'autoRollbackConfiguration');
  const style = read.object(input, 'deploymentStyle');
  const blueGreen = read.object(input, 'blueGreenDeploymentConfiguration');
  const terminate = blueGreen && read.object(blueGreen, 'terminateBlueInstancesOnDeploymentSuccess');
  const ready = blueGreen && read.object(blueGreen, 'deploymentReadyOption');
  const green = blueGreen && read.object(blueGreen, 'greenFleetProvisioningOption');
  const triggers = read.objectList(input, 'triggerConfigurations');
  return defined({
    applicationName: str(input, 'applicationName'),
    deploymentGroupName: str(input, 'deploymentGroupName'),
    currentDeploymentGroupName: str(input, 'currentDeploymentGroupName'),
    newDeploymentGroupName: str(input, 'newDeploymentGroupName'),
    deploymentConfigName: str(input, 'deploymentConfigName'),
    serviceRoleArn: str(input, 'serviceRoleArn'),
    alarmConfiguration: alarmConfiguration && alarmsOf(alarmConfiguration),
    autoRollbackConfiguration: autoRollback && rollbackOf(autoRollback),
    deploymentStyle: style && defined({ deploymentType: str(style, 'deploymentType'), deploymentOption: str(style, 'deploymentOption') }),
    blueGreenDeploymentConfiguration: blueGreen && {
      ...(terminate && {
        terminateBlueInstancesOnDeploymentSuccess: defined({
          action: str(terminate, 'action'),
          terminationWaitTimeInMinutes: read.integer(terminate, 'terminationWaitTimeInMinutes'),
        }),
      }),
      ...(ready && {
        deploymentReadyOption: defined({
          actionOnTimeout: str(ready, 'actionOnTimeout'),
          waitTimeInMinutes: read.integer(ready, 'waitTimeInMinutes'),
        }),
      }),
      ...(green && { greenFleetProvisioningOption: defined({ action: str(green, 'action') }) }),
    },
    outdatedInstancesStrategy: str(input, 'outdatedInstancesStrategy'),
    triggerConfigurations: triggers?.map((t) =>
      defined({
        triggerName: str(t, 'triggerName'),
        triggerTargetArn: str(t, 'triggerTargetArn'),
        triggerEvents: read.stringList(t, 'triggerEvents'),
      }),
    ),
    terminationHookEnabled: read.boolean(input, 'terminationHookEnabled'),
  });
}

function alarmsOf(c: Input) {
  return defined({
    enabled: read.boolean(c, 'enabled'),
    ignorePollAlarmFailure: read.boolean(c, 'ignorePollAlarmFailure'),
    alarms: read.objectList(c, 'alarms')?.map((a) => defined({ name: str(a, 'name') })),
  });
}

function rollbackOf(c: Input) {
  return defined({ enabled: read.boolean(c, 'enabled'), events: read.stringList(c, 'events') });
}

function deploymentInput(input: Input): CreateDeploymentInput {
  const revision = read.object(input, 'revision');
  const content = (r: Input, key: string) => {
    const c = read.object(r, key);
    return c && defined({ content: str(c, 'content'), sha256: str(c, 'sha256') });
  };
  const autoRollback = read.object(input, 'autoRollbackConfiguration');
  const alarms = read.object(input, 'overrideAlarmConfiguration');
  return defined({
    applicationName: str(input, 'applicationName'),
    deploymentGroupName: str(input, 'deploymentGroupName'),
    deploymentConfigName: str(input, 'deploymentConfigName'),
    description: str(input, 'description'),
    revision:
      revision &&
      defined({
        revisionType: str(revision, 'revisionType'),
        appSpecContent: content(revision, 'appSpecContent'),
        string: content(revision, 'string'),
      }),
    autoRollbackConfiguration: autoRollback && rollbackOf(autoRollback),
    overrideAlarmConfiguration: alarms && alarmsOf(alarms),
  });
}

function routingInput(input: Input) {
  const c = read.object(input, 'trafficRoutingConfig');
  if (!c) return undefined;
  const canary = read.object(c, 'timeBasedCanary');
  const linear = read.object(c, 'timeBasedLinear');
  return defined({
    type: str(c, 'type'),
    timeBasedCanary:
      canary &&
      defined({ canaryPercentage: read.number(canary, 'canaryPercentage'), canaryInterval: read.number(canary, 'canaryInterval') }),
    timeBasedLinear:
      linear &&
      defined({ linearPercentage: read.number(linear, 'linearPercentage'), linearInterval: read.number(linear, 'linearInterval') }),
  });
}

/** Drops undefined members, so optional properties stay absent (`exactOptionalPropertyTypes`-style). */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function applicationShape(a: ApplicationDoc) {
  return {
    applicationId: a.applicationId,
    applicationName: a.applicationName,
    createTime: seconds(a.createTime),
    linkedToGitHub: false,
    computePlatform: a.computePlatform,
  };
}

function groupShape(g: DeploymentGroupDoc) {
  const summary = (s: DeploymentGroupDoc['lastSuccessfulDeployment']) =>
    s && { deploymentId: s.deploymentId, status: s.status, endTime: seconds(s.endTime), createTime: seconds(s.createTime) };
  return {
    ...g,
    outdatedInstancesStrategy: g.outdatedInstancesStrategy ?? 'UPDATE',
    triggerConfigurations: g.triggerConfigurations ?? [],
    terminationHookEnabled: g.terminationHookEnabled ?? false,
    // EC2 and on-premises members: a Lambda group has none, and CodeDeploy says so with empty lists.
    ec2TagFilters: [],
    onPremisesInstanceTagFilters: [],
    autoScalingGroups: [],
    computePlatform: 'Lambda',
    lastSuccessfulDeployment: summary(g.lastSuccessfulDeployment),
    lastAttemptedDeployment: summary(g.lastAttemptedDeployment),
  };
}

function routingShape(r: TrafficRouting) {
  if (r.type === 'AllAtOnce') return { type: 'AllAtOnce' };
  if (r.type === 'TimeBasedCanary')
    return { type: r.type, timeBasedCanary: { canaryPercentage: r.percentage, canaryInterval: r.intervalMinutes } };
  return { type: r.type, timeBasedLinear: { linearPercentage: r.percentage, linearInterval: r.intervalMinutes } };
}

function configShape(c: DeploymentConfigDoc) {
  return {
    deploymentConfigId: c.deploymentConfigId,
    deploymentConfigName: c.deploymentConfigName,
    createTime: seconds(c.createTime),
    computePlatform: 'Lambda',
    trafficRoutingConfig: routingShape(c.routing),
  };
}

/** A diagnostics log tail holds at most 4 KB on AWS: the last this many shifts (about 45 bytes each) fit. */
const MAX_LOGGED_SHIFTS = 80;

/** Deployment ids in one ListDeployments answer; a `nextToken` leads to the rest. */
const PAGE_SIZE = 100;
const DEPLOYMENT_STATUSES: ReadonlySet<string> = new Set([
  'Created',
  'Queued',
  'InProgress',
  'Baking',
  'Succeeded',
  'Failed',
  'Stopped',
  'Ready',
]);

/** An opaque `nextToken` carrying where the next page starts (a deployment's number: pages do not shift as deployments are made). */
const cursorToken = (seq: number): string => Buffer.from(`deployments:${seq}`).toString('base64url');

function pageCursor(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  const m = /^deployments:(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('latin1'));
  if (!m) throw new PlatformError('InvalidNextTokenException', 'The next token was specified in an invalid format.');
  return Number(m[1]);
}

const TERMINAL: Record<string, string> = { Succeeded: 'Succeeded', Failed: 'Failed', Stopped: 'Failed' };

function targetStatus(d: DeploymentState): string {
  if (d.status === 'Created') return 'Pending';
  return TERMINAL[d.status] ?? 'InProgress';
}

function deploymentShape(d: DeploymentState) {
  const status = targetStatus(d);
  return {
    applicationName: d.applicationName,
    deploymentGroupName: d.deploymentGroupName,
    deploymentConfigName: d.deploymentConfigName,
    deploymentId: d.deploymentId,
    revision: d.revision,
    status: d.status,
    errorInformation: d.errorInformation,
    createTime: seconds(d.createTime),
    startTime: seconds(d.startTime),
    completeTime: seconds(d.completeTime),
    deploymentOverview: {
      Pending: status === 'Pending' ? 1 : 0,
      InProgress: status === 'InProgress' ? 1 : 0,
      Succeeded: status === 'Succeeded' ? 1 : 0,
      Failed: status === 'Failed' ? 1 : 0,
      Skipped: 0,
      Ready: 0,
    },
    description: d.description,
    creator: d.creator,
    autoRollbackConfiguration: d.autoRollback,
    rollbackInfo: d.rollbackInfo,
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    computePlatform: 'Lambda',
  };
}

function targetShape(region: string, d: DeploymentState) {
  return {
    deploymentTargetType: 'LambdaTarget',
    lambdaTarget: {
      deploymentId: d.deploymentId,
      targetId: `${d.functionName}:${d.alias}`,
      targetArn: functionArn(region, d.functionName, d.alias),
      status: targetStatus(d),
      lastUpdatedAt: seconds(
        d.completeTime ?? Math.max(d.startTime ?? d.createTime, ...d.events.map((e) => e.endTime ?? e.startTime ?? 0)),
      ),
      lifecycleEvents: d.events.map((e) => {
        // AllowTraffic's log tail lists every traffic shift, so that a watcher sees steps shorter than its polls.
        const shifts = e.lifecycleEventName === 'AllowTraffic' && d.trafficShifts?.length ? d.trafficShifts : undefined;
        return {
          lifecycleEventName: e.lifecycleEventName,
          status: e.status,
          startTime: seconds(e.startTime),
          endTime: seconds(e.endTime),
          ...((e.diagnostics || shifts) && {
            diagnostics: {
              errorCode: e.diagnostics?.errorCode ?? 'Success',
              message: e.diagnostics?.message ?? `Traffic was shifted ${shifts!.length} time${shifts!.length === 1 ? '' : 's'}.`,
              scriptName: e.hookFunction,
              ...(shifts && { logTail: trafficLog(shifts.slice(-MAX_LOGGED_SHIFTS), d.targetVersion) }),
            },
          }),
        };
      }),
      lambdaFunctionInfo: {
        functionName: d.functionName,
        functionAlias: d.alias,
        currentVersion: d.currentVersion,
        targetVersion: d.targetVersion,
        targetVersionWeight: d.targetWeight,
      },
    },
  };
}

/** CodeDeploy's answers about tags: a missing application or group is named by its own exception, as CodeDeploy does. */
const TAGS: TagDialect = {
  invalid: 'InvalidTagsToAddException',
  tooMany: 'TagLimitExceededException',
  notFound: (r: TaggedResource) =>
    r.kind === 'deployment-group'
      ? new PlatformError(
          'DeploymentGroupDoesNotExistException',
          `The deployment group ${r.name} does not exist for application ${r.application}.`,
        )
      : new PlatformError('ApplicationDoesNotExistException', `No application found for name: ${r.name}`),
};

/** The application or deployment group a tagging ARN names (its account field may be empty). */
function taggedResource(input: Input): TaggedResource {
  const arn = str(input, 'ResourceArn');
  if (!arn) throw new PlatformError('ResourceArnRequiredException', 'The ARN of a resource is required, but was not found.');
  const resource = taggedResourceOf(arn);
  if (!resource) {
    if (!/^arn:aws[a-z-]*:codedeploy:/.test(arn))
      throw new PlatformError('InvalidArnException', `The specified ARN is not in a valid format: ${arn.slice(0, 1011)}`);
    throw new PlatformError('ArnNotSupportedException', `The specified ARN is not supported: ${arn.slice(0, 1011)}`);
  }
  if (resource.kind !== 'application' && resource.kind !== 'deployment-group') {
    throw new PlatformError('InvalidArnException', `The specified ARN is not in a valid format: ${arn.slice(0, 1011)}`);
  }
  return resource;
}

/** A list of `{Key, Value}` tags as a map; a repeated key keeps its last value. */
function tagList(input: Input, member: string): Tags | undefined {
  const list = read.objectList(input, member);
  if (list === undefined) return undefined;
  return Object.fromEntries<string>(list.map((t) => [str(t, 'Key') ?? '', str(t, 'Value') ?? '']));
}

/** A batch of names or ids, refused past AWS's limit for the operation (each id is read and answered). */
function batch(
  items: string[],
  limit: number,
  what: string,
  code: 'BatchLimitExceededException' | 'DeploymentTargetListSizeExceededException',
): string[] {
  if (items.length > limit)
    throw new PlatformError(code, `The maximum number of ${what} that can be specified is ${limit}; got ${items.length}.`);
  return items;
}

/** CodeDeploy (JSON 1.1, `CodeDeploy_20141006.*`) for Lambda deployments. */
export function codeDeployApi({
  codeDeploy,
  tags,
  logger,
}: {
  codeDeploy: CodeDeployService;
  tags: ResourceTags;
  logger: Logger;
}): ServiceHandler {
  const scope = functionScope('codedeploy');
  const requireTarget = async (input: Input) => {
    const d = await codeDeploy.getDeployment(str(input, 'deploymentId'));
    const targetId = str(input, 'targetId');
    if (targetId !== `${d.functionName}:${d.alias}`) {
      throw new PlatformError(
        'DeploymentTargetDoesNotExistException',
        `The target ${String(targetId).slice(0, 128)} is not part of deployment ${d.deploymentId}.`,
      );
    }
    return d;
  };
  const operations: Record<string, JsonOperation> = {
    async CreateApplication(input) {
      const newTags = tagList(input, 'tags');
      if (newTags) checkTags(newTags, {}, TAGS);
      const app = await codeDeploy.createApplication(str(input, 'applicationName'), str(input, 'computePlatform'));
      if (newTags) await tags.add({ kind: 'application', name: app.applicationName }, newTags, TAGS);
      return { applicationId: app.applicationId };
    },
    async GetApplication(input) {
      return { application: applicationShape(await codeDeploy.getApplication(str(input, 'applicationName'))) };
    },
    async BatchGetApplications(input) {
      const names = batch(strings(input, 'applicationNames'), 100, 'application names', 'BatchLimitExceededException');
      return { applicationsInfo: await Promise.all(names.map(async (n) => applicationShape(await codeDeploy.getApplication(n)))) };
    },
    async ListApplications() {
      return { applications: (await codeDeploy.listApplications()).map((a) => a.applicationName) };
    },
    async DeleteApplication(input) {
      await codeDeploy.deleteApplication(str(input, 'applicationName'));
      return {};
    },
    async CreateDeploymentGroup(input) {
      const newTags = tagList(input, 'tags');
      if (newTags) checkTags(newTags, {}, TAGS);
      const group = await codeDeploy.createDeploymentGroup(groupInput(input));
      if (newTags) {
        await tags.add({ kind: 'deployment-group', application: group.applicationName, name: group.deploymentGroupName }, newTags, TAGS);
      }
      return { deploymentGroupId: group.deploymentGroupId };
    },
    async ListTagsForResource(input) {
      const own = await tags.list(taggedResource(input), TAGS);
      return { Tags: Object.entries(own).map(([Key, Value]) => ({ Key, Value })) };
    },
    async TagResource(input) {
      const add = tagList(input, 'Tags');
      if (!add || Object.keys(add).length === 0) throw new PlatformError('TagRequiredException', 'A tag was not specified.');
      await tags.add(taggedResource(input), add, TAGS);
      return {};
    },
    async UntagResource(input) {
      const keys = read.stringList(input, 'TagKeys');
      if (!keys || keys.length === 0) throw new PlatformError('TagRequiredException', 'A tag was not specified.');
      await tags.remove(taggedResource(input), keys, TAGS);
      return {};
    },
    async GetDeploymentGroup(input) {
      return {
        deploymentGroupInfo: groupShape(
          await codeDeploy.getDeploymentGroup(str(input, 'applicationName'), str(input, 'deploymentGroupName')),
        ),
      };
    },
    async ListDeploymentGroups(input) {
      const app = str(input, 'applicationName');
      return { applicationName: app, deploymentGroups: await codeDeploy.listDeploymentGroups(app) };
    },
    async UpdateDeploymentGroup(input) {
      await codeDeploy.updateDeploymentGroup(groupInput(input));
      return { hooksNotCleanedUp: [] };
    },
    async DeleteDeploymentGroup(input) {
      await codeDeploy.deleteDeploymentGroup(str(input, 'applicationName'), str(input, 'deploymentGroupName'));
      return { hooksNotCleanedUp: [] };
    },
    async CreateDeploymentConfig(input) {
      const config = await codeDeploy.createDeploymentConfig(
        str(input, 'deploymentConfigName'),
        str(input, 'computePlatform'),
        routingInput(input),
      );
      return { deploymentConfigId: config.deploymentConfigId };
    },
    async GetDeploymentConfig(input) {
      return { deploymentConfigInfo: configShape(await codeDeploy.getDeploymentConfig(str(input, 'deploymentConfigName'))) };
    },
    async ListDeploymentConfigs() {
      return { deploymentConfigsList: await codeDeploy.listDeploymentConfigs() };
    },
    async DeleteDeploymentConfig(input) {
      await codeDeploy.deleteDeploymentConfig(str(input, 'deploymentConfigName'));
      return {};
    },
    async CreateDeployment(input) {
      // `creator` is not a member of the wire request: a client cannot pose as CloudFormation.
      return { deploymentId: (await codeDeploy.createDeployment({ ...deploymentInput(input), creator: 'user' })).deploymentId };
    },
    async GetDeployment(input) {
      return { deploymentInfo: deploymentShape(await codeDeploy.getDeployment(str(input, 'deploymentId'))) };
    },
    async BatchGetDeployments(input) {
      const ids = batch(strings(input, 'deploymentIds'), 25, 'deployment IDs', 'BatchLimitExceededException');
      return { deploymentsInfo: await Promise.all(ids.map(async (id) => deploymentShape(await codeDeploy.getDeployment(id)))) };
    },
    async ListDeployments(input) {
      const statuses = strings(input, 'includeOnlyStatuses');
      const unknown = statuses.find((s) => !DEPLOYMENT_STATUSES.has(s));
      if (unknown !== undefined)
        throw new PlatformError('InvalidDeploymentStatusException', `The deployment status ${unknown.slice(0, 64)} is not valid.`);
      const before = pageCursor(str(input, 'nextToken'));
      const app = str(input, 'applicationName');
      const group = str(input, 'deploymentGroupName');
      if (group && !app)
        throw new PlatformError('ApplicationNameRequiredException', 'An application name is required with a deployment group name.');
      if (app && group) await codeDeploy.getDeploymentGroup(app, group);
      else if (app) await codeDeploy.getApplication(app);
      const { ids, next } = await codeDeploy.deploymentPage(
        { ...(app && { application: app }), ...(group && { group }), statuses },
        before,
        PAGE_SIZE,
      );
      return { deployments: ids, ...(next !== undefined && { nextToken: cursorToken(next) }) };
    },
    async StopDeployment(input) {
      return codeDeploy.stopDeployment(str(input, 'deploymentId'), read.boolean(input, 'autoRollbackEnabled'));
    },
    async ListDeploymentTargets(input) {
      const d = await codeDeploy.getDeployment(str(input, 'deploymentId'));
      return { targetIds: [`${d.functionName}:${d.alias}`] };
    },
    async GetDeploymentTarget(input, req) {
      return { deploymentTarget: targetShape(req.region, await requireTarget(input)) };
    },
    async BatchGetDeploymentTargets(input, req) {
      const ids = batch(strings(input, 'targetIds'), 25, 'targets', 'DeploymentTargetListSizeExceededException');
      const d = await codeDeploy.getDeployment(str(input, 'deploymentId'));
      for (const id of ids) await requireTarget({ deploymentId: d.deploymentId, targetId: id });
      return { deploymentTargets: ids.map(() => targetShape(req.region, d)) };
    },
    async PutLifecycleEventHookExecutionStatus(input, req) {
      const deploymentId = str(input, 'deploymentId');
      const executionId = str(input, 'lifecycleEventHookExecutionId');
      // A function reports its own hook only: another that read the execution id (hooks log their event)
      // must not pass a deployment its hook would fail.
      if (req.caller !== undefined) {
        const hook = await codeDeploy.hookFunction(deploymentId, executionId);
        if (hook !== undefined && hook !== req.caller.function) throw functionDenied(scope, 'PutLifecycleEventHookExecutionStatus', req);
      }
      const id = await codeDeploy.putHookStatus(deploymentId, executionId, str(input, 'status'));
      return { lifecycleEventHookExecutionId: id };
    },
  };
  return jsonRpcService({ targetPrefix: 'CodeDeploy_20141006', contentType: 'application/x-amz-json-1.1', operations, scope }, logger);
}
