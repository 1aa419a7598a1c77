import { PlatformError } from '../core/errors.js';
import { alnumId } from '../core/ids.js';
import { ACCOUNT_ID, functionArn, parseFunctionRef } from '../domain/arn.js';
import type { CodeDeployService } from '../deploy/code-deploy-service.js';
import type { RestApiService } from '../gateway/rest-api-service.js';
import type { Caller, CodeInput, FunctionService } from '../lambda/function-service.js';
import type { AlarmInput, AlarmService } from '../telemetry/alarms.js';
import { asText, isObject } from './template.js';
import type { Json, JsonObject, StackResource } from './types.js';

/** The platform services a stack's resources are made with. */
export interface StackServices {
  functions: FunctionService;
  restApis: RestApiService;
  alarms: AlarmService;
  codeDeploy: CodeDeployService;
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
export interface Provisioner {
  replaceOn: readonly string[] | 'all';
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
const num = (v: Json | undefined): number | undefined => (v === undefined || v === null ? undefined : Number(v));

/** Turns CloudFormation's PascalCase members into the camelCase the CodeDeploy API uses. */
function camel(value: Json): Json {
  if (Array.isArray(value)) return value.map(camel);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), camel(v)]));
}

function changed(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
}

const lambdaFunction: Provisioner = {
  replaceOn: ['FunctionName'],
  async create(ctx, logicalId, props) {
    const name = str(props.FunctionName) ?? generatedName(ctx, logicalId);
    const code = await codeOf(ctx, props);
    const { config } = await ctx.services.functions.createFunction(ctx.caller, {
      functionName: name,
      code,
      ...configuration(props),
      ...(Array.isArray(props.Architectures) && { architectures: props.Architectures.map(String) }),
    });
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
        timeout: num(props.Timeout) ?? 3,
        memorySize: num(props.MemorySize) ?? 128,
        environment: environmentOf(props) ?? {},
      });
    }
    if (changed(before.Code, props.Code)) {
      await ctx.services.functions.updateFunctionCode(ctx.caller, name, { code: await codeOf(ctx, props) });
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
    timeout: num(props.Timeout),
    memorySize: num(props.MemorySize),
    environment: environmentOf(props),
    ...(isObject(props.EphemeralStorage ?? null) && { ephemeralStorageSize: num((props.EphemeralStorage as JsonObject).Size) }),
  };
}

function environmentOf(props: JsonObject): Record<string, string> | undefined {
  const env = props.Environment;
  const vars = isObject(env ?? null) ? (env as JsonObject).Variables : undefined;
  if (!isObject(vars ?? null)) return undefined;
  return Object.fromEntries(Object.entries(vars as JsonObject).map(([k, v]) => [k, asText(v)]));
}

/** The code packaged with the template (by its SHA-256), or an object in Versa's S3 (`S3Bucket`/`S3Key`). */
async function codeOf(ctx: ProvisionContext, props: JsonObject): Promise<CodeInput> {
  const code = isObject(props.Code ?? null) ? (props.Code as JsonObject) : {};
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
  return Object.fromEntries(weights.filter(isObject).map((w) => [asText(w.FunctionVersion), Number(w.FunctionWeight)]));
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

const alarm: Provisioner = {
  replaceOn: ['AlarmName'],
  async create(ctx, logicalId, props) {
    const name = str(props.AlarmName) ?? generatedName(ctx, logicalId, 255);
    await ctx.services.alarms.putMetricAlarm({ ...(props as AlarmInput), AlarmName: name });
    return { physicalId: name, attributes: { Arn: `arn:aws:cloudwatch:${ctx.caller.region}:${ACCOUNT_ID}:alarm:${name}` } };
  },
  async update(ctx, current, props) {
    await ctx.services.alarms.putMetricAlarm({ ...(props as AlarmInput), AlarmName: current.physicalId });
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
  async create(ctx, logicalId, props) {
    const body = isObject(props.Body ?? null) ? (props.Body as JsonObject) : undefined;
    const info = body && isObject(body.info ?? null) ? (body.info as JsonObject) : undefined;
    const api = await ctx.services.restApis.createRestApi({
      name: str(props.Name) ?? str(info?.title) ?? logicalId,
      description: str(props.Description),
    });
    if (body) await importPaths(ctx, api.id, api.rootResourceId, body);
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
      if (isObject(props.Body ?? null)) await importPaths(ctx, api.id, api.rootResourceId, props.Body as JsonObject);
    }
    return { physicalId: current.physicalId, attributes: current.attributes };
  },
  async delete(ctx, resource) {
    await ctx.services.restApis.deleteRestApi(resource.physicalId);
  },
};

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

const apiStage: Provisioner = {
  replaceOn: ['RestApiId', 'StageName'],
  async create(ctx, _logicalId, props) {
    const stage = await ctx.services.restApis.createStage(asText(props.RestApiId), {
      stageName: str(props.StageName),
      deploymentId: str(props.DeploymentId),
      description: str(props.Description),
      ...(isObject(props.Variables ?? null) && { variables: props.Variables as Record<string, string> }),
    });
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
  'AWS::CloudWatch::Alarm': alarm,
  'AWS::CodeDeploy::Application': codeDeployApplication,
  'AWS::CodeDeploy::DeploymentConfig': codeDeployConfig,
  'AWS::CodeDeploy::DeploymentGroup': codeDeployGroup,
  'AWS::ApiGateway::RestApi': restApi,
  'AWS::ApiGateway::Deployment': apiDeployment,
  'AWS::ApiGateway::Stage': apiStage,
};

/** Whether moving from `before` to `after` needs a new resource rather than a change in place. */
export function needsReplacement(provisioner: Provisioner, before: JsonObject, after: JsonObject): boolean {
  if (provisioner.replaceOn === 'all') return changed(before, after);
  return provisioner.replaceOn.some((k) => changed(before[k], after[k]));
}
