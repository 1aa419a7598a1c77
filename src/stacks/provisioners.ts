import { PlatformError } from '../core/errors.js';
import { alnumId, uuid } from '../core/ids.js';
import { ACCOUNT_ID, functionArn, parseFunctionRef } from '../domain/arn.js';
import { runtimeFamily, SUPPORTED_RUNTIMES } from '../domain/runtimes.js';
import { MAX_RESOURCES_PER_API, tooManyResources } from '../domain/rest-api.js';
import type { CodeDeployService } from '../deploy/code-deploy-service.js';
import type { RestApiService } from '../gateway/rest-api-service.js';
import type { Caller, CodeInput, FunctionService } from '../lambda/function-service.js';
import type { ReservedConcurrencyService } from '../lambda/reserved-concurrency.js';
import type { S3Service } from '../s3/s3-service.js';
import { PARAMETER_TIERS, type ParameterService, type ParameterTier } from '../ssm/parameter-service.js';
import type { AlarmInput, AlarmService } from '../telemetry/alarms.js';
import { booleanProperty, doubleProperty, integerOf, integerProperty, type PropertySchema } from './property-types.js';
import { asText, isObject } from './template-values.js';
import type { Json, JsonObject, StackResource } from '../domain/stack.js';

/** The platform services a stack's resources are made with. */
export interface StackServices {
  functions: FunctionService;
  concurrency: ReservedConcurrencyService;
  restApis: RestApiService;
  alarms: AlarmService;
  codeDeploy: CodeDeployService;
  s3: S3Service;
  parameters: ParameterService;
}

export interface ProvisionContext {
  services: StackServices;
  stackName: string;
  caller: Caller;
}

export interface Provisioned {
  physicalId: string;
  attributes: Record<string, string>;
}

/**
 * How one CloudFormation resource type is created, changed in place and deleted with Versa's own
 * services. A change to a property in `replaceOn` makes a new resource instead (the old one is deleted
 * once the update has succeeded), as CloudFormation's "Replacement: True" properties do.
 */
/** What a plan checks resources against, before anything is made. */
export interface PlanFacts {
  /** The deployment configurations a group may name: the predefined ones, the server's, and the template's own. */
  deploymentConfigs: ReadonlySet<string>;
  /** The value a property has while it names something the stack has yet to make: nothing to check yet. */
  pending: string;
}

export interface Provisioner {
  replaceOn: readonly string[] | 'all';
  /**
   * The properties the type takes, with CloudFormation's types: any other property, or a value not of
   * its type, is refused when the deploy is planned (and again, once every value is known, when the
   * resource is made).
   */
  properties?: PropertySchema;
  /**
   * Problems with the resolved properties that creating the resource would run into, found when the
   * deploy is planned with the template's other problems, rather than after the stack made what comes
   * before it and must roll it back.
   */
  check?(props: JsonObject, facts: PlanFacts): string[];
  create(ctx: ProvisionContext, logicalId: string, props: JsonObject): Promise<Provisioned>;
  update(ctx: ProvisionContext, current: StackResource, props: JsonObject): Promise<Provisioned>;
  delete(ctx: ProvisionContext, resource: StackResource): Promise<void>;
}

/** A name CloudFormation would make up: `stack-LogicalId-RANDOM`, cut to `max` characters. */
export function generatedName(ctx: ProvisionContext, logicalId: string, max = 64): string {
  const suffix = alnumId(12).toUpperCase();
  const head = `${ctx.stackName}-${logicalId}`.slice(0, max - suffix.length - 1);
  return `${head}-${suffix}`;
}

const str = (v: Json | undefined): string | undefined => (v === undefined || v === null ? undefined : asText(v));

/** Turns CloudFormation's PascalCase members into the camelCase the CodeDeploy API uses. */
function camel(value: Json): Json {
  if (Array.isArray(value)) return value.map(camel);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camel(v)]));
}

function changed(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
}

/**
 * AWS::Lambda::Function's properties Versa takes (docs/cloudformation.md). Numbers are checked here
 * because Number("abc") is NaN, which passes every range check made after it.
 */
const LAMBDA_FUNCTION: PropertySchema = {
  FunctionName: 'String',
  Description: 'String',
  Handler: 'String',
  Runtime: 'String',
  Role: 'String',
  Timeout: 'Integer',
  MemorySize: 'Integer',
  ReservedConcurrentExecutions: 'Integer',
  Architectures: { list: 'String' },
  // ZipFileSha256: the code SAM's CodeUri was packaged into, uploaded with the template.
  Code: { object: { S3Bucket: 'String', S3Key: 'String', S3ObjectVersion: 'String', ZipFile: 'String', ZipFileSha256: 'String' } },
  Environment: { object: { Variables: { map: 'String' } } },
  EphemeralStorage: { object: { Size: 'Integer' } },
  // Accepted and recorded, with no effect on Versa: tags and tracing are not modelled.
  Tags: 'Json',
  TracingConfig: 'Json',
};

const lambdaFunction: Provisioner = {
  replaceOn: ['FunctionName'],
  properties: LAMBDA_FUNCTION,
  check(props, facts) {
    const problems: string[] = [];
    const runtime = props.Runtime;
    if (typeof runtime === 'string' && runtime !== facts.pending && !runtimeFamily(runtime)) {
      problems.push(`Runtime ${runtime} is not supported by Versa; use one of ${SUPPORTED_RUNTIMES.join(', ')}.`);
    }
    // Its type is checked with the other properties' (LAMBDA_FUNCTION); here, that it is not negative.
    const reserved = integerOf(props.ReservedConcurrentExecutions);
    if (reserved !== undefined && reserved < 0) {
      problems.push(`ReservedConcurrentExecutions must be a whole number of at least 0; got ${JSON.stringify(reserved)}.`);
    }
    return problems;
  },
  async create(ctx, logicalId, props) {
    const name = str(props.FunctionName) ?? generatedName(ctx, logicalId);
    const code = await codeOf(ctx, props);
    const { config } = await ctx.services.functions.createFunction(ctx.caller, {
      functionName: name,
      code,
      ...configuration(props),
      ...(Array.isArray(props.Architectures) && { architectures: props.Architectures.map(String) }),
    });
    const reserved = reservedOf(props);
    if (reserved !== undefined) {
      try {
        await ctx.services.concurrency.put(ctx.caller, name, reserved);
      } catch (err) {
        // The resource was not made: the function it half made goes, as CloudFormation's handler cleans up.
        await ctx.services.functions.deleteFunction(ctx.caller, name, undefined).catch(() => undefined);
        throw err;
      }
    }
    return { physicalId: name, attributes: { Arn: functionArn(ctx.caller.region, config.name) } };
  },
  async update(ctx, current, props) {
    const name = current.physicalId;
    const before = current.properties;
    const configKeys = ['Handler', 'Runtime', 'Timeout', 'MemorySize', 'Environment', 'Description', 'Role', 'EphemeralStorage'];
    if (configKeys.some((k) => changed(before[k], props[k]))) {
      await ctx.services.functions.updateFunctionConfiguration(ctx.caller, name, {
        ...configuration(props),
        // A property taken out of the template goes back to its default.
        description: str(props.Description) ?? '',
        timeout: integerProperty(props.Timeout, 'Timeout') ?? 3,
        memorySize: integerProperty(props.MemorySize, 'MemorySize') ?? 128,
        environment: environmentOf(props) ?? {},
      });
    }
    if (changed(before.Code, props.Code)) {
      await ctx.services.functions.updateFunctionCode(ctx.caller, name, { code: await codeOf(ctx, props) });
    }
    if (changed(before.ReservedConcurrentExecutions, props.ReservedConcurrentExecutions)) {
      // Taken out of the template, the reservation is removed.
      const reserved = reservedOf(props);
      if (reserved === undefined) await ctx.services.concurrency.delete(ctx.caller, name);
      else await ctx.services.concurrency.put(ctx.caller, name, reserved);
    }
    return { physicalId: name, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.functions.deleteFunction(ctx.caller, resource.physicalId, undefined);
  },
};

function configuration(props: JsonObject) {
  return {
    runtime: str(props.Runtime),
    handler: str(props.Handler),
    role: str(props.Role),
    description: str(props.Description),
    timeout: integerProperty(props.Timeout, 'Timeout'),
    memorySize: integerProperty(props.MemorySize, 'MemorySize'),
    environment: environmentOf(props),
    ...(isObject(props.EphemeralStorage ?? null) && {
      ephemeralStorageSize: integerProperty((props.EphemeralStorage as JsonObject).Size, 'EphemeralStorage.Size'),
    }),
  };
}

/** ReservedConcurrentExecutions as a whole number of at least 0, or undefined (absent or not such a number). */
function reservedOf(props: JsonObject): number | undefined {
  const n = integerOf(props.ReservedConcurrentExecutions);
  return n !== undefined && n >= 0 ? n : undefined;
}

function environmentOf(props: JsonObject): Record<string, string> | undefined {
  const env = props.Environment;
  const vars = isObject(env ?? null) ? (env as JsonObject).Variables : undefined;
  if (!isObject(vars ?? null)) return undefined;
  return Object.fromEntries(Object.entries(vars as JsonObject).map(([k, v]) => [k, asText(v)]));
}

/**
 * The function's code: packaged with the template (by its SHA-256), an object in Versa's S3
 * (`S3Bucket`/`S3Key`, read as Lambda reads it), or `Code.ZipFile` source written in the template, which
 * CloudFormation packages as `index.js` or `index.py` by the runtime.
 */
async function codeOf(ctx: ProvisionContext, props: JsonObject): Promise<CodeInput> {
  const code = isObject(props.Code ?? null) ? (props.Code as JsonObject) : {};
  if (typeof code.ZipFile === 'string') {
    const family = runtimeFamily(str(props.Runtime) ?? '');
    if (family !== 'nodejs' && family !== 'python') {
      throw new PlatformError('ValidationError', `Code.ZipFile needs a Node.js or Python runtime, not ${str(props.Runtime) ?? 'none'}.`);
    }
    // Loaded here, for the few templates that write code inline: the server need not load it to start.
    const { strToU8, zipSync } = await import('fflate');
    return { zipFile: zipSync({ [family === 'nodejs' ? 'index.js' : 'index.py']: strToU8(code.ZipFile) }) };
  }
  if (code.S3Bucket !== undefined || code.S3Key !== undefined) {
    return { s3Bucket: str(code.S3Bucket), s3Key: str(code.S3Key), s3ObjectVersion: str(code.S3ObjectVersion) };
  }
  const sha = str(code.ZipFileSha256);
  const zip = sha ? await ctx.services.functions.getCode(sha) : undefined;
  if (!zip) throw new PlatformError('ValidationError', 'The function code was not uploaded with the template; deploy again.');
  return { zipFile: zip };
}

const lambdaVersion: Provisioner = {
  replaceOn: 'all',
  async create(ctx, _logicalId, props) {
    const fn = parseFunctionRef(asText(props.FunctionName));
    const config = await ctx.services.functions.publishVersion(ctx.caller, fn.name, { description: str(props.Description) });
    return { physicalId: functionArn(ctx.caller.region, config.name, config.version), attributes: { Version: config.version } };
  },
  update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
  async delete(ctx, resource) {
    const fn = parseFunctionRef(resource.physicalId);
    await ctx.services.functions.deleteFunction(ctx.caller, fn.name, fn.qualifier);
  },
};

function routingOf(props: JsonObject): Record<string, unknown> {
  const routing = props.RoutingConfig;
  const weights = isObject(routing ?? null) ? (routing as JsonObject).AdditionalVersionWeights : undefined;
  if (!Array.isArray(weights)) return {};
  return Object.fromEntries(
    weights
      .filter(isObject)
      .map((w) => [asText(w.FunctionVersion), doubleProperty(w.FunctionWeight, 'RoutingConfig.AdditionalVersionWeights.FunctionWeight')]),
  );
}

export const lambdaAlias: Provisioner = {
  replaceOn: ['Name', 'FunctionName'],
  async create(ctx, _logicalId, props) {
    const fn = parseFunctionRef(asText(props.FunctionName));
    const alias = await ctx.services.functions.createAlias(ctx.caller, fn.name, str(props.Name), {
      functionVersion: str(props.FunctionVersion),
      description: str(props.Description),
      additionalVersionWeights: routingOf(props),
    });
    const arn = functionArn(ctx.caller.region, fn.name, alias.name);
    return { physicalId: arn, attributes: { AliasArn: arn, Name: alias.name } };
  },
  /** Moves the alias at once; aliases under CodeDeploy's update policy are moved by a deployment instead. */
  async update(ctx, current, props) {
    const fn = parseFunctionRef(asText(props.FunctionName));
    await ctx.services.functions.updateAlias(ctx.caller, fn.name, asText(props.Name), {
      functionVersion: str(props.FunctionVersion),
      description: str(props.Description) ?? '',
      additionalVersionWeights: routingOf(props),
    });
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    const fn = parseFunctionRef(resource.physicalId);
    await ctx.services.functions.deleteAlias(ctx.caller, fn.name, fn.qualifier!);
  },
};

const lambdaPermission: Provisioner = {
  replaceOn: 'all',
  async create(ctx, logicalId, props) {
    const fn = parseFunctionRef(asText(props.FunctionName));
    const sid = `${ctx.stackName}-${logicalId}`.slice(0, 100);
    await ctx.services.functions.addPermission(ctx.caller, fn.name, fn.qualifier, {
      statementId: sid,
      action: str(props.Action),
      principal: str(props.Principal),
      sourceArn: str(props.SourceArn),
      sourceAccount: str(props.SourceAccount),
    });
    return { physicalId: `${asText(props.FunctionName)}#${sid}`, attributes: {} };
  },
  update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
  async delete(ctx, resource) {
    const [functionRef, sid] = resource.physicalId.split('#') as [string, string];
    const fn = parseFunctionRef(functionRef);
    await ctx.services.functions.removePermission(ctx.caller, fn.name, fn.qualifier, sid);
  },
};

const iamRole: Provisioner = {
  replaceOn: ['RoleName', 'Path'],
  create(ctx, logicalId, props) {
    const name = str(props.RoleName) ?? generatedName(ctx, logicalId);
    return Promise.resolve({
      physicalId: name,
      attributes: { Arn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}`, RoleId: `AROA${alnumId(17).toUpperCase()}` },
    });
  },
  update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
  delete: () => Promise.resolve(),
};

/**
 * A resource Versa keeps in the stack but does not run (IAM is not enforced; ECR and KMS are not
 * modelled): it gets the physical id and the attributes templates read, as CloudFormation would give
 * them, and nothing else happens. docs/cloudformation.md lists these types.
 */
function recorded(
  make: (ctx: ProvisionContext, logicalId: string, props: JsonObject) => Provisioned,
  replaceOn: readonly string[] | 'all' = 'all',
): Provisioner {
  return {
    replaceOn,
    create: (ctx, logicalId, props) => Promise.resolve(make(ctx, logicalId, props)),
    update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
    delete: () => Promise.resolve(),
  };
}

const iamPolicy = recorded((ctx, logicalId) => ({ physicalId: generatedName(ctx, logicalId, 128), attributes: {} }), ['PolicyName']);

const iamManagedPolicy = recorded(
  (ctx, logicalId, props) => {
    const name = str(props.ManagedPolicyName) ?? generatedName(ctx, logicalId, 128);
    const arn = `arn:aws:iam::${ACCOUNT_ID}:policy${str(props.Path) ?? '/'}${name}`;
    return { physicalId: arn, attributes: { PolicyArn: arn, PolicyId: `ANPA${alnumId(17).toUpperCase()}` } };
  },
  ['ManagedPolicyName', 'Path'],
);

const ecrRepository = recorded(
  (ctx, logicalId, props) => {
    const name = str(props.RepositoryName) ?? generatedName(ctx, logicalId, 256).toLowerCase();
    return {
      physicalId: name,
      attributes: {
        Arn: `arn:aws:ecr:${ctx.caller.region}:${ACCOUNT_ID}:repository/${name}`,
        RepositoryUri: `${ACCOUNT_ID}.dkr.ecr.${ctx.caller.region}.amazonaws.com/${name}`,
      },
    };
  },
  ['RepositoryName'],
);

const kmsKey = recorded((ctx) => {
  const id = uuid();
  return { physicalId: id, attributes: { Arn: `arn:aws:kms:${ctx.caller.region}:${ACCOUNT_ID}:key/${id}`, KeyId: id } };
}, []);

const kmsAlias = recorded((_ctx, _logicalId, props) => ({ physicalId: str(props.AliasName) ?? '', attributes: {} }), ['AliasName']);

/** The CDK's `AWS::CDK::Metadata`: what the app was built with, kept and otherwise unused. */
const cdkMetadata = recorded((ctx, logicalId) => ({ physicalId: generatedName(ctx, logicalId), attributes: {} }), []);

/** AWS::CloudWatch::Alarm's properties for a single-metric alarm, the kind Versa evaluates. */
const ALARM: PropertySchema = {
  AlarmName: 'String',
  AlarmDescription: 'String',
  ActionsEnabled: 'Boolean',
  OKActions: { list: 'String' },
  AlarmActions: { list: 'String' },
  InsufficientDataActions: { list: 'String' },
  Namespace: 'String',
  MetricName: 'String',
  Dimensions: { list: { object: { Name: 'String', Value: 'String' }, name: 'Dimension' } },
  Statistic: 'String',
  ExtendedStatistic: 'String',
  Period: 'Integer',
  Unit: 'String',
  EvaluationPeriods: 'Integer',
  DatapointsToAlarm: 'Integer',
  Threshold: 'Double',
  ComparisonOperator: 'String',
  TreatMissingData: 'String',
  // Accepted and recorded, with no effect on Versa: tags are not modelled.
  Tags: 'Json',
};

/**
 * The alarm as PutMetricAlarm takes it, each property converted to its type (Threshold "5" is 5), as
 * CloudFormation converts them: the alarm service stores what it is given.
 */
function alarmInput(props: JsonObject, name: string): AlarmInput {
  const list = (v: Json | undefined) => (Array.isArray(v) ? v.map(asText) : undefined);
  const input: AlarmInput = {
    AlarmName: name,
    AlarmDescription: str(props.AlarmDescription),
    ActionsEnabled: booleanProperty(props.ActionsEnabled, 'ActionsEnabled'),
    OKActions: list(props.OKActions),
    AlarmActions: list(props.AlarmActions),
    InsufficientDataActions: list(props.InsufficientDataActions),
    Namespace: str(props.Namespace),
    MetricName: str(props.MetricName),
    Dimensions: Array.isArray(props.Dimensions)
      ? props.Dimensions.filter(isObject).map((d) => ({ Name: asText(d.Name), Value: asText(d.Value) }))
      : undefined,
    Statistic: str(props.Statistic),
    ExtendedStatistic: str(props.ExtendedStatistic),
    Period: integerProperty(props.Period, 'Period'),
    Unit: str(props.Unit),
    EvaluationPeriods: integerProperty(props.EvaluationPeriods, 'EvaluationPeriods'),
    DatapointsToAlarm: integerProperty(props.DatapointsToAlarm, 'DatapointsToAlarm'),
    Threshold: doubleProperty(props.Threshold, 'Threshold'),
    ComparisonOperator: str(props.ComparisonOperator),
    TreatMissingData: str(props.TreatMissingData),
  };
  // Absent stays absent: the alarm service tells a missing member from one given.
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

const alarm: Provisioner = {
  replaceOn: ['AlarmName'],
  properties: ALARM,
  async create(ctx, logicalId, props) {
    const name = str(props.AlarmName) ?? generatedName(ctx, logicalId, 255);
    await ctx.services.alarms.putMetricAlarm(alarmInput(props, name));
    return { physicalId: name, attributes: { Arn: `arn:aws:cloudwatch:${ctx.caller.region}:${ACCOUNT_ID}:alarm:${name}` } };
  },
  async update(ctx, current, props) {
    await ctx.services.alarms.putMetricAlarm(alarmInput(props, current.physicalId));
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.alarms.deleteAlarms([resource.physicalId]);
  },
};

const codeDeployApplication: Provisioner = {
  replaceOn: 'all',
  async create(ctx, logicalId, props) {
    const name = str(props.ApplicationName) ?? generatedName(ctx, logicalId, 100);
    await ctx.services.codeDeploy.createApplication(name, str(props.ComputePlatform) ?? 'Lambda');
    return { physicalId: name, attributes: {} };
  },
  update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
  async delete(ctx, resource) {
    await ctx.services.codeDeploy.deleteApplication(resource.physicalId);
  },
};

const codeDeployConfig: Provisioner = {
  replaceOn: 'all',
  async create(ctx, logicalId, props) {
    const name = str(props.DeploymentConfigName) ?? generatedName(ctx, logicalId, 100);
    const routing = camel(props.TrafficRoutingConfig ?? null) as Parameters<CodeDeployService['createDeploymentConfig']>[2];
    await ctx.services.codeDeploy.createDeploymentConfig(name, str(props.ComputePlatform) ?? 'Lambda', routing ?? undefined);
    return { physicalId: name, attributes: {} };
  },
  update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
  async delete(ctx, resource) {
    await ctx.services.codeDeploy.deleteDeploymentConfig(resource.physicalId);
  },
};

function groupInput(props: JsonObject, name: string) {
  const input = camel(props) as JsonObject;
  delete input.deploymentGroupName;
  return { ...(input as Parameters<CodeDeployService['createDeploymentGroup']>[0]), deploymentGroupName: name };
}

const codeDeployGroup: Provisioner = {
  replaceOn: ['ApplicationName', 'DeploymentGroupName'],
  check(props, facts) {
    const name = props.DeploymentConfigName;
    if (typeof name !== 'string' || name === facts.pending || facts.deploymentConfigs.has(name)) return [];
    return [
      `DeploymentConfigName ${name} is neither a predefined configuration (CodeDeployDefault.Lambda...) nor one this server has or the template declares.`,
    ];
  },
  async create(ctx, logicalId, props) {
    const name = str(props.DeploymentGroupName) ?? generatedName(ctx, logicalId, 100);
    await ctx.services.codeDeploy.createDeploymentGroup(groupInput(props, name));
    return { physicalId: name, attributes: {} };
  },
  async update(ctx, current, props) {
    const input = groupInput(props, current.physicalId);
    await ctx.services.codeDeploy.updateDeploymentGroup({
      ...input,
      alarmConfiguration: input.alarmConfiguration ?? { enabled: false, alarms: [] },
      currentDeploymentGroupName: current.physicalId,
    });
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.codeDeploy.deleteDeploymentGroup(asText(resource.properties.ApplicationName), resource.physicalId);
  },
};

const restApi: Provisioner = {
  replaceOn: [],
  // Counted when the deploy is planned too: at create, a SAM API's functions and roles are made already.
  check(props) {
    const body = isObject(props.Body ?? null) ? (props.Body as JsonObject) : undefined;
    try {
      if (body) countResources(body);
    } catch (err) {
      if (err instanceof PlatformError) return [err.message];
      throw err;
    }
    return [];
  },
  async create(ctx, logicalId, props) {
    const body = isObject(props.Body ?? null) ? (props.Body as JsonObject) : undefined;
    const info = body && isObject(body.info ?? null) ? (body.info as JsonObject) : undefined;
    if (body) countResources(body);
    const api = await ctx.services.restApis.createRestApi({
      name: str(props.Name) ?? str(info?.title) ?? logicalId,
      description: str(props.Description),
    });
    try {
      if (body) await importPaths(ctx, api.id, api.rootResourceId, body);
    } catch (err) {
      // Not yet the stack's (it has no physical id to roll back): the API goes with the failure.
      await ctx.services.restApis.deleteRestApi(api.id).catch(() => undefined);
      throw err;
    }
    return { physicalId: api.id, attributes: { RootResourceId: api.rootResourceId } };
  },
  async update(ctx, current, props) {
    if (changed(current.properties.Body, props.Body)) {
      const apis = ctx.services.restApis;
      const api = await apis.getRestApi(current.physicalId);
      // Rebuild the resource tree from the new definition: the root's children go, then come back.
      const resources = Object.values(api.resources);
      for (const r of resources) {
        if (r.parentId === api.rootResourceId) await apis.deleteResource(api.id, r.id);
      }
      for (const method of Object.keys(resources.find((r) => r.id === api.rootResourceId)?.resourceMethods ?? {})) {
        await apis.deleteMethod(api.id, api.rootResourceId, method);
      }
      if (isObject(props.Body ?? null)) {
        countResources(props.Body as JsonObject);
        await importPaths(ctx, api.id, api.rootResourceId, props.Body as JsonObject);
      }
    }
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.restApis.deleteRestApi(resource.physicalId);
  },
};

/** Refuses a Swagger/OpenAPI definition of more resources than an API may have, before anything is made. */
function countResources(body: JsonObject): void {
  const paths = isObject(body.paths ?? null) ? (body.paths as JsonObject) : {};
  const resources = new Set<string>(['/']);
  for (const path of Object.keys(paths)) {
    let parent = '';
    for (const part of path.split('/').filter(Boolean)) resources.add((parent = `${parent}/${part}`));
    if (resources.size > MAX_RESOURCES_PER_API) throw tooManyResources();
  }
}

/** Creates the resources, methods and Lambda proxy integrations a Swagger/OpenAPI `paths` map describes. */
async function importPaths(ctx: ProvisionContext, apiId: string, rootId: string, body: JsonObject): Promise<void> {
  const apis = ctx.services.restApis;
  const ids = new Map<string, string>([['/', rootId]]);
  const paths = isObject(body.paths ?? null) ? (body.paths as JsonObject) : {};
  for (const path of Object.keys(paths).sort()) {
    let parent = '/';
    for (const part of path.split('/').filter(Boolean)) {
      const full = parent === '/' ? `/${part}` : `${parent}/${part}`;
      if (!ids.has(full)) ids.set(full, (await apis.createResource(apiId, ids.get(parent)!, part)).id);
      parent = full;
    }
    const resourceId = ids.get(parent)!;
    for (const [verb, op] of Object.entries(paths[path] as JsonObject)) {
      const method = verb === 'x-amazon-apigateway-any-method' ? 'ANY' : verb.toUpperCase();
      await apis.putMethod(apiId, resourceId, method, { authorizationType: 'NONE' });
      const integration =
        isObject(op) && isObject(op['x-amazon-apigateway-integration'] ?? null)
          ? (op['x-amazon-apigateway-integration'] as JsonObject)
          : undefined;
      if (integration) {
        await apis.putIntegration(apiId, resourceId, method, {
          type: asText(integration.type).toUpperCase(),
          httpMethod: str(integration.httpMethod),
          uri: str(integration.uri),
        });
      }
    }
  }
}

/** `AWS::ApiGateway::Resource`: one path part under its parent. */
const apiResource: Provisioner = {
  replaceOn: 'all',
  async create(ctx, _logicalId, props) {
    const resource = await ctx.services.restApis.createResource(asText(props.RestApiId), asText(props.ParentId), str(props.PathPart));
    return { physicalId: resource.id, attributes: { ResourceId: resource.id } };
  },
  update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
  async delete(ctx, resource) {
    await ctx.services.restApis.deleteResource(asText(resource.properties.RestApiId), resource.physicalId);
  },
};

/**
 * `AWS::ApiGateway::Method` with its `Integration`, `MethodResponses` and `IntegrationResponses`, as
 * the CDK's `LambdaRestApi` writes them. A change puts the method anew.
 */
const apiMethod: Provisioner = {
  replaceOn: ['RestApiId', 'ResourceId', 'HttpMethod'],
  async create(ctx, logicalId, props) {
    await putMethod(ctx, props);
    return { physicalId: generatedName(ctx, logicalId), attributes: {} };
  },
  async update(ctx, current, props) {
    await ctx.services.restApis.deleteMethod(asText(props.RestApiId), asText(props.ResourceId), asText(props.HttpMethod));
    await putMethod(ctx, props);
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    const p = resource.properties;
    await ctx.services.restApis.deleteMethod(asText(p.RestApiId), asText(p.ResourceId), asText(p.HttpMethod));
  },
};

async function putMethod(ctx: ProvisionContext, props: JsonObject): Promise<void> {
  const apis = ctx.services.restApis;
  const [api, resource, verb] = [asText(props.RestApiId), asText(props.ResourceId), asText(props.HttpMethod)];
  const flags = (v: Json | undefined) =>
    isObject(v ?? null) ? Object.fromEntries(Object.entries(v as JsonObject).map(([k, x]) => [k, x === true || x === 'true'])) : undefined;
  const strings = (v: Json | undefined) =>
    isObject(v ?? null) ? Object.fromEntries(Object.entries(v as JsonObject).map(([k, x]) => [k, asText(x)])) : undefined;
  await apis.putMethod(api, resource, verb, {
    authorizationType: str(props.AuthorizationType) ?? 'NONE',
    apiKeyRequired: props.ApiKeyRequired === true || props.ApiKeyRequired === 'true',
    ...(props.OperationName !== undefined && { operationName: asText(props.OperationName) }),
    ...(flags(props.RequestParameters) && { requestParameters: flags(props.RequestParameters) }),
  });
  for (const r of Array.isArray(props.MethodResponses) ? props.MethodResponses.filter(isObject) : []) {
    await apis.putMethodResponse(api, resource, verb, asText(r.StatusCode), {
      ...(flags(r.ResponseParameters) && { responseParameters: flags(r.ResponseParameters) }),
      ...(strings(r.ResponseModels) && { responseModels: strings(r.ResponseModels) }),
    });
  }
  const integration = isObject(props.Integration ?? null) ? (props.Integration as JsonObject) : undefined;
  if (!integration) return;
  await apis.putIntegration(api, resource, verb, {
    type: str(integration.Type),
    httpMethod: str(integration.IntegrationHttpMethod),
    uri: str(integration.Uri),
    ...(strings(integration.RequestTemplates) && { requestTemplates: strings(integration.RequestTemplates) }),
    ...(strings(integration.RequestParameters) && { requestParameters: strings(integration.RequestParameters) }),
    ...(integration.PassthroughBehavior !== undefined && { passthroughBehavior: asText(integration.PassthroughBehavior) }),
    ...(integration.TimeoutInMillis !== undefined && {
      timeoutInMillis: integerProperty(integration.TimeoutInMillis, 'Integration.TimeoutInMillis'),
    }),
    ...(integration.ContentHandling !== undefined && { contentHandling: asText(integration.ContentHandling) }),
  });
  for (const r of Array.isArray(integration.IntegrationResponses) ? integration.IntegrationResponses.filter(isObject) : []) {
    await apis.putIntegrationResponse(api, resource, verb, asText(r.StatusCode), {
      ...(r.SelectionPattern !== undefined && { selectionPattern: asText(r.SelectionPattern) }),
      ...(strings(r.ResponseTemplates) && { responseTemplates: strings(r.ResponseTemplates) }),
      ...(strings(r.ResponseParameters) && { responseParameters: strings(r.ResponseParameters) }),
    });
  }
}

/** `AWS::S3::Bucket`: a bucket of Versa's S3; its versioning is applied, its other settings kept in the stack. */
const s3Bucket: Provisioner = {
  replaceOn: ['BucketName'],
  async create(ctx, logicalId, props) {
    const name = str(props.BucketName) ?? generatedName(ctx, logicalId, 63).toLowerCase();
    await ctx.services.s3.createBucket(name, ctx.caller.region);
    await applyVersioning(ctx, name, props);
    return { physicalId: name, attributes: bucketAttributes(ctx, name) };
  },
  async update(ctx, current, props) {
    if (changed(current.properties.VersioningConfiguration, props.VersioningConfiguration))
      await applyVersioning(ctx, current.physicalId, props);
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.s3.deleteBucket(resource.physicalId);
  },
};

async function applyVersioning(ctx: ProvisionContext, bucket: string, props: JsonObject): Promise<void> {
  const status = isObject(props.VersioningConfiguration ?? null) ? str((props.VersioningConfiguration as JsonObject).Status) : undefined;
  if (status === 'Enabled' || status === 'Suspended') await ctx.services.s3.putVersioning(bucket, status);
}

function bucketAttributes(ctx: ProvisionContext, name: string): Record<string, string> {
  return {
    Arn: `arn:aws:s3:::${name}`,
    DomainName: `${name}.s3.amazonaws.com`,
    RegionalDomainName: `${name}.s3.${ctx.caller.region}.amazonaws.com`,
    DualStackDomainName: `${name}.s3.dualstack.${ctx.caller.region}.amazonaws.com`,
    WebsiteURL: `http://${name}.s3-website-${ctx.caller.region}.amazonaws.com`,
  };
}

/** `AWS::S3::BucketPolicy`: the bucket's policy document, stored (S3 policies are not enforced by Versa). */
const s3BucketPolicy: Provisioner = {
  replaceOn: ['Bucket'],
  async create(ctx, logicalId, props) {
    await ctx.services.s3.putSetting(asText(props.Bucket), 'policy', JSON.stringify(props.PolicyDocument ?? {}));
    return { physicalId: generatedName(ctx, logicalId), attributes: {} };
  },
  async update(ctx, current, props) {
    await ctx.services.s3.putSetting(asText(props.Bucket), 'policy', JSON.stringify(props.PolicyDocument ?? {}));
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.s3.putSetting(asText(resource.properties.Bucket), 'policy', undefined);
  },
};

/** `AWS::SSM::Parameter`: a parameter of Versa's Parameter Store (the CDK bootstrap keeps its version there). */
const ssmParameter: Provisioner = {
  replaceOn: ['Name'],
  async create(ctx, logicalId, props) {
    const name = str(props.Name) ?? `CFN-${logicalId}-${alnumId(12)}`;
    await putParameter(ctx, name, props, false);
    return { physicalId: name, attributes: { Type: str(props.Type) ?? 'String', Value: asText(props.Value) } };
  },
  async update(ctx, current, props) {
    await putParameter(ctx, current.physicalId, props, true);
    return { physicalId: current.physicalId, attributes: { Type: str(props.Type) ?? 'String', Value: asText(props.Value) } };
  },
  async delete(ctx, resource) {
    await ctx.services.parameters.delete(resource.physicalId);
  },
};

async function putParameter(ctx: ProvisionContext, name: string, props: JsonObject, overwrite: boolean): Promise<void> {
  const type = str(props.Type) ?? 'String';
  if (type !== 'String' && type !== 'StringList')
    throw new PlatformError('ValidationError', `Parameter type ${type} cannot be made by a template; use String or StringList.`);
  const tier = str(props.Tier);
  if (tier !== undefined && !PARAMETER_TIERS.includes(tier as ParameterTier))
    throw new PlatformError('ValidationError', `Parameter tier ${tier} is not one of ${PARAMETER_TIERS.join(', ')}.`);
  await ctx.services.parameters.put({
    name,
    value: asText(props.Value),
    type,
    overwrite,
    ...(props.Description !== undefined && { description: asText(props.Description) }),
    ...(props.DataType !== undefined && { dataType: asText(props.DataType) }),
    ...(tier !== undefined && { tier: tier as ParameterTier }),
  });
}

/** `AWS::ApiGateway::Account`: the account's CloudWatch role, which Versa does not need. */
const apiAccount = recorded((ctx, logicalId) => ({ physicalId: generatedName(ctx, logicalId), attributes: {} }), []);

const apiDeployment: Provisioner = {
  replaceOn: 'all',
  async create(ctx, _logicalId, props) {
    const deployment = await ctx.services.restApis.createDeployment(asText(props.RestApiId), {
      stageName: str(props.StageName),
      description: str(props.Description),
    });
    return { physicalId: deployment.id, attributes: {} };
  },
  update: (_ctx, current) => Promise.resolve({ physicalId: current.physicalId, attributes: current.attributes }),
  async delete(ctx, resource) {
    const apiId = asText(resource.properties.RestApiId);
    // A stage the deployment made (StageName) goes with the API; here only the snapshot is removed.
    const stages = await ctx.services.restApis.listStages(apiId).catch(() => []);
    for (const stage of stages)
      if (stage.deploymentId === resource.physicalId) await ctx.services.restApis.deleteStage(apiId, stage.stageName);
    await ctx.services.restApis.deleteDeployment(apiId, resource.physicalId);
  },
};

/** A stage's `MethodSettings` property as UpdateStage's patch paths and values (`/*\/*\/throttling/rateLimit`: "10"). */
function methodSettingValues(settings: Json | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(settings)) return out;
  for (const entry of settings) {
    if (!isObject(entry)) continue;
    const resource = str(entry.ResourcePath) ?? '/*';
    const key = `${resource === '/*' ? '*' : resource.replace(/~/g, '~0').replace(/\//g, '~1')}/${str(entry.HttpMethod) ?? '*'}`;
    for (const [property, path] of METHOD_SETTING_PROPERTIES) {
      const value = entry[property];
      if (value !== undefined && value !== null) out.set(`/${key}/${path}`, asText(value));
    }
  }
  return out;
}

const METHOD_SETTING_PROPERTIES: readonly [string, string][] = [
  ['ThrottlingRateLimit', 'throttling/rateLimit'],
  ['ThrottlingBurstLimit', 'throttling/burstLimit'],
  ['MetricsEnabled', 'metrics/enabled'],
  ['LoggingLevel', 'logging/loglevel'],
  ['DataTraceEnabled', 'logging/dataTrace'],
  ['CachingEnabled', 'caching/enabled'],
  ['CacheTtlInSeconds', 'caching/ttlInSeconds'],
  ['CacheDataEncrypted', 'caching/dataEncrypted'],
];

const apiStage: Provisioner = {
  replaceOn: ['RestApiId', 'StageName'],
  async create(ctx, _logicalId, props) {
    const apiId = asText(props.RestApiId);
    const stage = await ctx.services.restApis.createStage(apiId, {
      stageName: str(props.StageName),
      deploymentId: str(props.DeploymentId),
      description: str(props.Description),
      ...(isObject(props.Variables ?? null) && { variables: props.Variables as Record<string, string> }),
    });
    const settings = [...methodSettingValues(props.MethodSettings)].map(([path, value]) => ({ op: 'replace', path, value }));
    if (settings.length > 0) await ctx.services.restApis.updateStage(apiId, stage.stageName, settings);
    return { physicalId: stage.stageName, attributes: {} };
  },
  async update(ctx, current, props) {
    const ops: { op: string; path: string; value?: string }[] = [];
    if (changed(current.properties.DeploymentId, props.DeploymentId))
      ops.push({ op: 'replace', path: '/deploymentId', value: str(props.DeploymentId) });
    if (changed(current.properties.Description, props.Description))
      ops.push({ op: 'replace', path: '/description', value: str(props.Description) ?? '' });
    const before = (current.properties.Variables as Record<string, string> | undefined) ?? {};
    const after = (props.Variables as Record<string, string> | undefined) ?? {};
    for (const k of Object.keys(before)) if (!(k in after)) ops.push({ op: 'remove', path: `/variables/${k}` });
    for (const [k, v] of Object.entries(after)) if (before[k] !== v) ops.push({ op: 'replace', path: `/variables/${k}`, value: String(v) });
    const settingsBefore = methodSettingValues(current.properties.MethodSettings);
    const settingsAfter = methodSettingValues(props.MethodSettings);
    for (const path of settingsBefore.keys()) if (!settingsAfter.has(path)) ops.push({ op: 'remove', path });
    for (const [path, value] of settingsAfter) if (settingsBefore.get(path) !== value) ops.push({ op: 'replace', path, value });
    if (ops.length > 0) await ctx.services.restApis.updateStage(asText(props.RestApiId), current.physicalId, ops);
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.restApis.deleteStage(asText(resource.properties.RestApiId), resource.physicalId);
  },
};

export const PROVISIONERS: Readonly<Record<string, Provisioner>> = {
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::Lambda::Version': lambdaVersion,
  'AWS::Lambda::Alias': lambdaAlias,
  'AWS::Lambda::Permission': lambdaPermission,
  'AWS::IAM::Role': iamRole,
  'AWS::IAM::Policy': iamPolicy,
  'AWS::IAM::ManagedPolicy': iamManagedPolicy,
  'AWS::ECR::Repository': ecrRepository,
  'AWS::KMS::Key': kmsKey,
  'AWS::KMS::Alias': kmsAlias,
  'AWS::CDK::Metadata': cdkMetadata,
  'AWS::CloudWatch::Alarm': alarm,
  'AWS::CodeDeploy::Application': codeDeployApplication,
  'AWS::CodeDeploy::DeploymentConfig': codeDeployConfig,
  'AWS::CodeDeploy::DeploymentGroup': codeDeployGroup,
  'AWS::ApiGateway::RestApi': restApi,
  'AWS::S3::Bucket': s3Bucket,
  'AWS::S3::BucketPolicy': s3BucketPolicy,
  'AWS::SSM::Parameter': ssmParameter,
  'AWS::ApiGateway::Resource': apiResource,
  'AWS::ApiGateway::Method': apiMethod,
  'AWS::ApiGateway::Account': apiAccount,
  'AWS::ApiGateway::Deployment': apiDeployment,
  'AWS::ApiGateway::Stage': apiStage,
};

/** Whether moving from `before` to `after` needs a new resource rather than a change in place. */
export function needsReplacement(provisioner: Provisioner, before: JsonObject, after: JsonObject): boolean {
  if (provisioner.replaceOn === 'all') return changed(before, after);
  return provisioner.replaceOn.some((k) => changed(before[k], after[k]));
}
