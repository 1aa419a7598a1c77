import { createHash } from 'node:crypto';
import { PREDEFINED_CONFIGS } from '../domain/deployment.js';
import { pruneConditions } from './intrinsics.js';
import { isObject, setOwn, TemplateError } from './template-values.js';
import { PROVISIONERS } from './provisioners.js';
import type { Json, JsonObject, OutputDefinition, ResourceDefinition } from '../domain/stack.js';

/**
 * The AWS::Serverless-2016-10-31 transform, for the part of SAM Versa honours: functions with
 * AutoPublishAlias and DeploymentPreference, Api events on the implicit or an explicit REST API, and
 * Globals. It emits the same CloudFormation resources, under the same logical ids, as the SAM
 * translator (test/sam-oracle.test.ts compares the two), so `Ref`s and outputs written for SAM work.
 */

/** Where a function's code came from: CodeUri as written, and the zip the client packaged from it. */
export type Artifacts = Record<string, { codeSha256: string }>;

export interface Transformed {
  resources: Record<string, ResourceDefinition>;
  outputs: Record<string, OutputDefinition>;
  mappings: JsonObject;
}

/** What a resource may hold besides its type (CloudFormation's resource attributes); anything else is refused. */
const RESOURCE_ATTRIBUTES = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'Metadata',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'UpdatePolicy',
  'CreationPolicy',
]);
const TOP_LEVEL = new Set([
  'AWSTemplateFormatVersion',
  'Rules',
  'Transform',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Globals',
  'Resources',
  'Outputs',
]);

/** Properties of AWS::Serverless::Function Versa acts on. */
const FUNCTION_PROPERTIES = new Set([
  'CodeUri',
  'InlineCode',
  'Handler',
  'Runtime',
  'Timeout',
  'MemorySize',
  'Environment',
  'FunctionName',
  'Description',
  'AutoPublishAlias',
  'AutoPublishAliasAllProperties',
  'AutoPublishCodeSha256',
  'VersionDescription',
  'DeploymentPreference',
  'Events',
  'EphemeralStorage',
  'ReservedConcurrentExecutions',
]);
/** Properties accepted and recorded that change nothing on Versa (IAM, tracing and tags are not modelled). */
const FUNCTION_PROPERTIES_WITHOUT_EFFECT = new Set(['Role', 'Policies', 'Tags', 'Tracing', 'Architectures', 'PermissionsBoundary']);
const API_PROPERTIES = new Set([
  'StageName',
  'Name',
  'Description',
  'Variables',
  'OpenApiVersion',
  'EndpointConfiguration',
  'TracingEnabled',
  'Tags',
  'MethodSettings',
]);
const DEPLOYMENT_PREFERENCE_PROPERTIES = new Set(['Type', 'Alarms', 'Hooks', 'Enabled', 'Role', 'PassthroughCondition']);

const SAM_APPLICATION = 'ServerlessDeploymentApplication';
const SAM_SERVICE_ROLE = 'CodeDeployServiceRole';
const IMPLICIT_API = 'ServerlessRestApi';
const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9\-_]+)$/;

/**
 * Expands the template's serverless resources. `parameters` are the values in force (used, as SAM
 * does, to resolve parameter references inside the properties hashed into a version's logical id).
 * Every unsupported item and template error is collected and thrown together.
 */
export function transform(
  template: JsonObject,
  artifacts: Artifacts,
  parameters: Record<string, Json>,
  conditions: Record<string, boolean> = {},
): Transformed {
  const { problems, ...transformed } = expand(template, artifacts, parameters, conditions);
  if (problems.length > 0) throw new TemplateError(problems);
  return transformed;
}

/**
 * The transform, returning its problems with everything it could expand, so that a deploy can report
 * them together with those found later (references, runtimes, configurations). `deploymentConfigs`
 * names the custom deployment configurations the server has: given, a DeploymentPreference.Type that is
 * neither SAM's nor one of them (nor one the template declares) is a problem.
 */
export function expand(
  template: JsonObject,
  artifacts: Artifacts,
  parameters: Record<string, Json>,
  conditions: Record<string, boolean> = {},
  deploymentConfigs?: ReadonlySet<string>,
): Transformed & { problems: string[] } {
  const problems: string[] = [];
  for (const key of Object.keys(template)) if (!TOP_LEVEL.has(key)) problems.push(`Template section ${key} is not supported by Versa.`);
  const globals = readGlobals(template.Globals, problems);
  const input = template.Resources as JsonObject;
  const resources: Record<string, ResourceDefinition> = {};
  const renames = new Map<string, string>();
  const apiEvents = new Map<string, ApiEvent[]>();
  const sam = { application: false, serviceRole: false };
  const configs = deploymentConfigs && new Set([...deploymentConfigs, ...declaredConfigs(input)]);

  for (const [id, raw] of Object.entries(input)) {
    if (!isObject(raw) || typeof raw.Type !== 'string') {
      problems.push(`Template format error: [/Resources/${id}] Every Resources object must contain a Type member.`);
      continue;
    }
    if (raw.Type === 'AWS::Serverless::Function') {
      expandFunction(id, raw, globals.Function ?? {}, artifacts, parameters, { resources, renames, apiEvents, sam, problems, configs });
    } else if (raw.Type === 'AWS::Serverless::Api') {
      const props = mergeGlobals(globals.Api ?? {}, isObject(raw.Properties ?? null) ? (raw.Properties as JsonObject) : {});
      for (const key of Object.keys(props))
        if (!API_PROPERTIES.has(key)) problems.push(`Resource ${id}: property ${key} of AWS::Serverless::Api is not supported by Versa.`);
      if (props.StageName === undefined) problems.push(`Resource ${id}: property StageName is required.`);
      if (!apiEvents.has(id)) apiEvents.set(id, []);
    } else if (Object.hasOwn(PROVISIONERS, raw.Type)) {
      const unknown = Object.keys(raw).find((key) => !RESOURCE_ATTRIBUTES.has(key));
      if (unknown !== undefined) problems.push(`Invalid template resource property '${unknown}'`);
      else resources[id] = raw as unknown as ResourceDefinition;
    } else {
      problems.push(`Resource ${id}: type ${raw.Type} is not supported by Versa.`);
    }
  }

  for (const [apiId, events] of apiEvents) {
    const declared = input[apiId];
    if (apiId !== IMPLICIT_API && !(isObject(declared) && declared.Type === 'AWS::Serverless::Api')) {
      for (const e of events)
        problems.push(
          `Resource ${e.functionId}: event ${e.eventId} names RestApiId ${apiId}, which is not an AWS::Serverless::Api of the template.`,
        );
      continue;
    }
    if (apiId === IMPLICIT_API) {
      for (const key of Object.keys(globals.Api ?? {}))
        if (!API_PROPERTIES.has(key)) problems.push(`Globals.Api: property ${key} is not supported by Versa.`);
    }
    // The implicit API takes Globals.Api too; its stage is always Prod.
    const props =
      apiId === IMPLICIT_API
        ? { ...globals.Api, StageName: 'Prod' }
        : mergeGlobals(globals.Api ?? {}, ((declared as JsonObject).Properties as JsonObject | undefined) ?? {});
    expandApi(apiId, props, events, resources, conditions);
  }

  const rewrite = (value: Json) => rewriteReferences(value, renames);
  for (const resource of Object.values(resources)) {
    if (resource.Properties) resource.Properties = rewrite(resource.Properties) as JsonObject;
    if (resource.UpdatePolicy) resource.UpdatePolicy = rewrite(resource.UpdatePolicy) as JsonObject;
  }
  // Keyed by the template's output names, which the parser has checked are alphanumeric.
  const outputs: Transformed['outputs'] = {};
  for (const [key, out] of Object.entries(isObject(template.Outputs ?? null) ? (template.Outputs as JsonObject) : {})) {
    if (!isObject(out) || out.Value === undefined) {
      problems.push('Template format error: Every Outputs member must contain a Value object');
      continue;
    }
    if (out.Value === null) {
      problems.push(`[/Outputs/${key}/Value] 'null' values are not allowed in templates`);
      continue;
    }
    outputs[key] = {
      Value: rewrite(out.Value),
      ...(out.Description !== undefined && { Description: rewrite(out.Description) }),
      ...(typeof out.Condition === 'string' && { Condition: out.Condition }),
      ...(out.Export !== undefined && { Export: rewrite(out.Export) }),
    };
  }
  return {
    resources,
    outputs,
    mappings: (template.Mappings as JsonObject | undefined) ?? {},
    problems,
  };
}

/** The names the template's own AWS::CodeDeploy::DeploymentConfig resources give their configurations. */
function declaredConfigs(resources: JsonObject): string[] {
  const names: string[] = [];
  for (const raw of Object.values(resources)) {
    if (!isObject(raw) || raw.Type !== 'AWS::CodeDeploy::DeploymentConfig' || !isObject(raw.Properties ?? null)) continue;
    const name = (raw.Properties as JsonObject).DeploymentConfigName;
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

interface ApiEvent {
  functionId: string;
  eventId: string;
  path: string;
  method: string;
  /** What API Gateway invokes: the function's alias (whose Ref is its ARN) when it has one. */
  target: { logicalId: string; arn: string };
  /** The function's Condition, which its permissions carry too. */
  condition?: Json;
}

interface Expansion {
  resources: Record<string, ResourceDefinition>;
  renames: Map<string, string>;
  apiEvents: Map<string, ApiEvent[]>;
  sam: { application: boolean; serviceRole: boolean };
  problems: string[];
  /** Custom deployment configurations a DeploymentPreference.Type may name; undefined: any name goes. */
  configs: ReadonlySet<string> | undefined;
}

function readGlobals(value: Json | undefined, problems: string[]): { Function?: JsonObject; Api?: JsonObject } {
  if (value === undefined) return {};
  if (!isObject(value)) {
    problems.push('Globals must be a mapping.');
    return {};
  }
  const out: { Function?: JsonObject; Api?: JsonObject } = {};
  for (const [section, props] of Object.entries(value)) {
    if (section !== 'Function' && section !== 'Api') {
      problems.push(`Globals section ${section} is not supported by Versa.`);
      continue;
    }
    if (!isObject(props)) problems.push(`Globals.${section} must be a mapping.`);
    else if (section === 'Api' && props.StageName !== undefined) {
      // SAM refuses it too: each AWS::Serverless::Api names its own stage, the implicit one is Prod.
      problems.push("Globals.Api: 'StageName' is not a supported property of 'Api'.");
    } else out[section] = props;
  }
  return out;
}

/** SAM's Globals rule: the resource's own value wins, maps merge, lists concatenate. */
function mergeGlobals(global: JsonObject, own: JsonObject): JsonObject {
  const out: JsonObject = { ...global };
  for (const [key, value] of Object.entries(own)) {
    const g = Object.hasOwn(out, key) ? out[key] : undefined;
    if (isObject(g) && isObject(value) && !isIntrinsic(value)) setOwn(out, key, mergeGlobals(g, value));
    else if (Array.isArray(g) && Array.isArray(value)) setOwn(out, key, [...g, ...value]);
    else setOwn(out, key, value);
  }
  return out;
}

function isIntrinsic(value: JsonObject): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

function expandFunction(
  id: string,
  raw: JsonObject,
  global: JsonObject,
  artifacts: Artifacts,
  parameters: Record<string, Json>,
  x: Expansion,
): void {
  const problems = x.problems;
  const props = mergeGlobals(global, isObject(raw.Properties ?? null) ? (raw.Properties as JsonObject) : {});
  for (const key of Object.keys(props)) {
    if (!FUNCTION_PROPERTIES.has(key) && !FUNCTION_PROPERTIES_WITHOUT_EFFECT.has(key)) {
      problems.push(`Resource ${id}: property ${key} of AWS::Serverless::Function is not supported by Versa.`);
    }
  }
  const uri = props.CodeUri;
  let code: JsonObject | undefined;
  if (props.InlineCode !== undefined) {
    if (uri !== undefined) problems.push(`Resource ${id}: specify either CodeUri or InlineCode, not both.`);
    else if (typeof props.InlineCode !== 'string' && !isObject(props.InlineCode))
      problems.push(`Resource ${id}: property InlineCode must be the function's source.`);
    else code = { ZipFile: props.InlineCode };
  } else if (uri === undefined) problems.push(`Resource ${id}: property CodeUri is required (a folder or .zip file next to the template).`);
  else if (typeof uri === 'string' && /^s3:\/\//.test(uri)) {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
    if (m) code = { S3Bucket: m[1]!, S3Key: m[2]! };
    else problems.push(`Resource ${id}: property CodeUri ${JSON.stringify(uri)} must name an object, s3://bucket/key.`);
  } else if (isObject(uri) && typeof uri.Bucket === 'string' && typeof uri.Key === 'string') {
    code = { S3Bucket: uri.Bucket, S3Key: uri.Key, ...(typeof uri.Version === 'string' && { S3ObjectVersion: uri.Version }) };
  } else if (typeof uri !== 'string') {
    problems.push(
      `Resource ${id}: property CodeUri must be a local folder or .zip file, s3://bucket/key, or {Bucket, Key[, Version]}; got ${JSON.stringify(uri).slice(0, 200)}.`,
    );
  } else if (!artifacts[uri]) problems.push(`Resource ${id}: property CodeUri: no code was packaged for ${uri}.`);
  else code = { ZipFileSha256: artifacts[uri].codeSha256 };
  for (const required of ['Handler', 'Runtime'] as const) {
    if (props[required] === undefined) problems.push(`Resource ${id}: property ${required} is required.`);
  }

  // SAM passes the function's Condition to every resource made from it.
  const condition = typeof raw.Condition === 'string' ? { Condition: raw.Condition } : {};
  const fn: JsonObject = {};
  for (const key of [
    'FunctionName',
    'Description',
    'Handler',
    'Runtime',
    'Timeout',
    'MemorySize',
    'Environment',
    'EphemeralStorage',
    'Architectures',
    'ReservedConcurrentExecutions',
    'Tags',
  ] as const) {
    if (props[key] !== undefined) fn[key] = props[key];
  }
  if (code) fn.Code = code;
  if (props.Role !== undefined) fn.Role = props.Role;
  else {
    fn.Role = { 'Fn::GetAtt': [`${id}Role`, 'Arn'] };
    x.resources[`${id}Role`] = {
      Type: 'AWS::IAM::Role',
      ...condition,
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: ['sts:AssumeRole'], Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] } }],
        },
        ManagedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      },
    };
  }
  x.resources[id] = {
    Type: 'AWS::Lambda::Function',
    Properties: fn,
    ...condition,
    ...((typeof raw.DependsOn === 'string' || Array.isArray(raw.DependsOn)) && { DependsOn: raw.DependsOn as string | string[] }),
  };

  let aliasId: string | undefined;
  // A Ref to a template parameter is resolved, as SAM does.
  const aliasName = props.AutoPublishAlias === undefined ? undefined : substituteParameters(props.AutoPublishAlias, parameters);
  if (aliasName !== undefined) {
    if (typeof aliasName !== 'string' || !ALIAS_NAME.test(aliasName)) {
      problems.push(
        `Resource ${id}: property AutoPublishAlias must match (?!^[0-9]+$)([a-zA-Z0-9\\-_]+)$; got ${JSON.stringify(aliasName)}.`,
      );
    } else {
      const versionId = `${id}Version${versionHash(props, fn, parameters)}`;
      aliasId = `${id}Alias${aliasName.replace(/-/g, 'D').replace(/_/g, 'U')}`;
      x.resources[versionId] = {
        Type: 'AWS::Lambda::Version',
        ...condition,
        DeletionPolicy: 'Retain',
        Properties: { FunctionName: { Ref: id }, ...(props.VersionDescription !== undefined && { Description: props.VersionDescription }) },
      };
      x.resources[aliasId] = {
        Type: 'AWS::Lambda::Alias',
        ...condition,
        Properties: { Name: aliasName, FunctionName: { Ref: id }, FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] } },
      };
      x.renames.set(`${id}.Version`, versionId);
      x.renames.set(`${id}.Alias`, aliasId);
    }
  }

  const preference = props.DeploymentPreference;
  if (preference !== undefined) expandDeploymentPreference(id, substituteParameters(preference, parameters), aliasId, x);

  const events = props.Events ?? {};
  if (!isObject(events)) problems.push(`Resource ${id}: property Events must be a mapping.`);
  else {
    for (const [eventId, event] of Object.entries(events)) {
      const where = `Resource ${id}: event ${eventId}`;
      if (!isObject(event) || event.Type !== 'Api') {
        problems.push(`${where}: event type ${JSON.stringify(isObject(event) ? event.Type : event)} is not supported by Versa (only Api).`);
        continue;
      }
      const ep = isObject(event.Properties ?? null) ? (event.Properties as JsonObject) : {};
      for (const key of Object.keys(ep)) {
        if (!['Path', 'Method', 'RestApiId'].includes(key)) problems.push(`${where}: property ${key} is not supported by Versa.`);
      }
      if (typeof ep.Path !== 'string' || !ep.Path.startsWith('/')) problems.push(`${where}: property Path must be a path starting with /.`);
      if (typeof ep.Method !== 'string') problems.push(`${where}: property Method is required.`);
      const api =
        ep.RestApiId === undefined
          ? IMPLICIT_API
          : isObject(ep.RestApiId) && typeof ep.RestApiId.Ref === 'string'
            ? ep.RestApiId.Ref
            : undefined;
      if (api === undefined) {
        problems.push(`${where}: property RestApiId must be a Ref to an AWS::Serverless::Api of the template.`);
        continue;
      }
      if (typeof ep.Path !== 'string' || typeof ep.Method !== 'string') continue;
      const list = x.apiEvents.get(api) ?? [];
      list.push({
        functionId: id,
        eventId,
        path: ep.Path,
        method: ep.Method.toLowerCase(),
        target: aliasId ? { logicalId: aliasId, arn: `\${${aliasId}}` } : { logicalId: id, arn: `\${${id}.Arn}` },
        condition: raw.Condition,
      });
      x.apiEvents.set(api, list);
    }
  }
}

/**
 * SAM's version hash: the first 10 hex digits of SHA-1 over the key-sorted JSON of the code and the
 * properties that make a new version (Environment, MemorySize), parameter references substituted.
 */
function versionHash(props: JsonObject, fn: JsonObject, parameters: Record<string, Json>): string {
  if (typeof props.AutoPublishCodeSha256 === 'string') return props.AutoPublishCodeSha256.slice(0, 10);
  const basis: JsonObject =
    props.AutoPublishAliasAllProperties === true
      ? fn
      : {
          ...(isObject(fn.Code ?? null) ? (fn.Code as JsonObject) : {}),
          ...(fn.Environment !== undefined && { Environment: fn.Environment }),
          ...(fn.MemorySize !== undefined && { MemorySize: fn.MemorySize }),
        };
  return createHash('sha1')
    .update(sortedJson(substituteParameters(basis, parameters)))
    .digest('hex')
    .slice(0, 10);
}

function substituteParameters(value: Json, parameters: Record<string, Json>): Json {
  if (Array.isArray(value)) return value.map((v) => substituteParameters(v, parameters));
  if (!isObject(value)) return value;
  if (typeof value.Ref === 'string' && Object.keys(value).length === 1 && value.Ref in parameters) return parameters[value.Ref]!;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteParameters(v, parameters)]));
}

export function sortedJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (!isObject(value)) return JSON.stringify(value);
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${sortedJson(value[k]!)}`)
    .join(',')}}`;
}

function expandDeploymentPreference(id: string, preference: Json, aliasId: string | undefined, x: Expansion): void {
  const where = `Resource ${id}: DeploymentPreference`;
  if (!isObject(preference)) {
    x.problems.push(`${where} must be a mapping.`);
    return;
  }
  for (const key of Object.keys(preference)) {
    if (!DEPLOYMENT_PREFERENCE_PROPERTIES.has(key)) x.problems.push(`${where}: property ${key} is not supported by Versa.`);
  }
  const enabled = preference.Enabled;
  if (enabled === false || enabled === 'false' || enabled === 'False') return;
  if (preference.Type === undefined) {
    x.problems.push(`${where}: 'DeploymentPreference' is missing required Property 'Type'.`);
    return;
  }
  if (!aliasId) {
    x.problems.push(`${where}: 'DeploymentPreference' requires AutoPublishAlias property to be specified.`);
    return;
  }
  // A predefined type names CodeDeploy's config; anything else is the name of a custom one.
  const type = preference.Type;
  const predefined = typeof type === 'string' && PREDEFINED_CONFIGS[`CodeDeployDefault.Lambda${type}`] !== undefined;
  if (typeof type === 'string' && !predefined && x.configs && !x.configs.has(type)) {
    // Found now rather than when the deployment group is created, after the stack made everything before it.
    const near = nearest(type, SAM_TYPES);
    x.problems.push(
      `${where}: Type ${type} is neither one of SAM's types (${SAM_TYPES.join(', ')}) nor a deployment configuration this server has or the template declares${near ? `; did you mean ${near}?` : '.'}`,
    );
    return;
  }
  const configName = predefined ? `CodeDeployDefault.Lambda${type}` : type;
  const alarms = preference.Alarms ?? [];
  if (!Array.isArray(alarms)) x.problems.push(`${where}: property Alarms must be a list.`);
  const hooks = preference.Hooks ?? {};
  if (!isObject(hooks)) x.problems.push(`${where}: property Hooks must be a mapping.`);
  else {
    for (const key of Object.keys(hooks)) {
      if (key !== 'PreTraffic' && key !== 'PostTraffic') x.problems.push(`${where}: hook ${key} is not one of PreTraffic, PostTraffic.`);
    }
  }
  if (!x.sam.application) {
    x.sam.application = true;
    x.resources[SAM_APPLICATION] = { Type: 'AWS::CodeDeploy::Application', Properties: { ComputePlatform: 'Lambda' } };
  }
  if (preference.Role === undefined && !x.sam.serviceRole) {
    x.sam.serviceRole = true;
    x.resources[SAM_SERVICE_ROLE] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: ['sts:AssumeRole'], Effect: 'Allow', Principal: { Service: ['codedeploy.amazonaws.com'] } }],
        },
        ManagedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda'],
      },
    };
  }
  const groupId = `${id}DeploymentGroup`;
  x.resources[groupId] = {
    Type: 'AWS::CodeDeploy::DeploymentGroup',
    Properties: {
      ApplicationName: { Ref: SAM_APPLICATION },
      ...(Array.isArray(alarms) &&
        alarms.length > 0 && { AlarmConfiguration: { Enabled: true, Alarms: alarms.map((a) => ({ Name: a })) } }),
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
      DeploymentConfigName: configName ?? null,
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ServiceRoleArn: preference.Role ?? { 'Fn::GetAtt': [SAM_SERVICE_ROLE, 'Arn'] },
    },
  };
  const hookMap = isObject(hooks) ? hooks : {};
  x.resources[aliasId]!.UpdatePolicy = {
    CodeDeployLambdaAliasUpdate: {
      ApplicationName: { Ref: SAM_APPLICATION },
      DeploymentGroupName: { Ref: groupId },
      ...(hookMap.PreTraffic !== undefined && { BeforeAllowTrafficHook: hookMap.PreTraffic }),
      ...(hookMap.PostTraffic !== undefined && { AfterAllowTrafficHook: hookMap.PostTraffic }),
    },
  };
}

/** DeploymentPreference types SAM knows: CodeDeploy's predefined Lambda configurations without their prefix. */
const SAM_TYPES = Object.keys(PREDEFINED_CONFIGS).map((name) => name.slice('CodeDeployDefault.Lambda'.length));

/** The candidate closest to `text` (case ignored) when it is a plausible typo of it: a few edits away. */
function nearest(text: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(text.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(text.length / 5)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function expandApi(
  apiId: string,
  props: JsonObject,
  events: ApiEvent[],
  resources: Record<string, ResourceDefinition>,
  conditions: Record<string, boolean>,
): void {
  const paths: JsonObject = {};
  for (const e of events) {
    const byMethod = (paths[e.path] ??= {}) as JsonObject;
    const method: JsonObject = {
      'x-amazon-apigateway-integration': {
        httpMethod: 'POST',
        type: 'aws_proxy',
        uri: { 'Fn::Sub': `arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/${e.target.arn}/invocations` },
      },
      responses: {},
    };
    // A conditional function's methods exist only when its condition holds, as SAM writes them.
    byMethod[e.method === 'any' ? 'x-amazon-apigateway-any-method' : e.method] =
      typeof e.condition === 'string' ? { 'Fn::If': [e.condition, method, { Ref: 'AWS::NoValue' }] } : method;
  }
  const body: JsonObject = { info: { version: '1.0', title: props.Name ?? { Ref: 'AWS::StackName' } }, paths, swagger: '2.0' };
  // Hashed with the conditions in force, so that a condition turning a function's methods on or off
  // makes a new API deployment (SAM hashes the unresolved body and would leave the stage as it was).
  const hash = sha1(sortedJson(pruneConditions(body, conditions)));
  const deploymentId = `${apiId}Deployment${hash.slice(0, 10)}`;
  const stageName = props.StageName!;
  // SAM's ids: the stage name when it is alphanumeric, else the first 10 hex digits of its SHA-1.
  const alphanumeric = (name: string) => (/^[A-Za-z0-9]+$/.test(name) ? name : sha1(name).slice(0, 10));
  const stageId =
    typeof stageName === 'string' && /^[A-Za-z0-9]+$/.test(stageName)
      ? `${apiId}${stageName}Stage`
      : `${apiId}Stage${typeof stageName === 'string' ? sha1(stageName).slice(0, 10) : ''}`;
  resources[apiId] = {
    Type: 'AWS::ApiGateway::RestApi',
    Properties: { Body: body, ...(props.Description !== undefined && { Description: props.Description }) },
  };
  resources[deploymentId] = {
    Type: 'AWS::ApiGateway::Deployment',
    Properties: { Description: `RestApi deployment id: ${hash}`, RestApiId: { Ref: apiId }, StageName: 'Stage' },
  };
  resources[stageId] = {
    Type: 'AWS::ApiGateway::Stage',
    Properties: {
      DeploymentId: { Ref: deploymentId },
      RestApiId: { Ref: apiId },
      StageName: stageName,
      ...(props.Variables !== undefined && { Variables: props.Variables }),
      ...(props.MethodSettings !== undefined && { MethodSettings: props.MethodSettings }),
    },
  };
  const permissionSuffix = alphanumeric(typeof stageName === 'string' ? stageName : 'Stage');
  for (const e of events) {
    // As SAM does: path parameters become wildcards and a trailing slash goes.
    const arnPath = e.path.replace(/\{[^}]+\}/g, '*').replace(/^(.+)\/$/, '$1');
    resources[`${e.functionId}${e.eventId}Permission${permissionSuffix}`] = {
      Type: 'AWS::Lambda::Permission',
      ...(typeof e.condition === 'string' && { Condition: e.condition }),
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: e.target.logicalId },
        Principal: 'apigateway.amazonaws.com',
        SourceArn: {
          'Fn::Sub': [
            `arn:aws:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${__ApiId__}/\${__Stage__}/${e.method === 'any' ? '*' : e.method.toUpperCase()}${arnPath}`,
            { __ApiId__: { Ref: apiId }, __Stage__: '*' },
          ],
        },
      },
    };
  }
}

/** Rewrites SAM's `Fn.Version` and `Fn.Alias` references to the generated resources' logical ids. */
function rewriteReferences(value: Json, renames: Map<string, string>): Json {
  if (renames.size === 0) return value;
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, renames));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'Ref' && typeof v === 'string' && renames.has(v)) out[key] = renames.get(v)!;
    else if (key === 'Fn::GetAtt' && Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') {
      out[key] = renameGetAtt(`${v[0]}.${v[1]}`, renames) ?? v;
    } else if (key === 'Fn::Sub') {
      const subst = (text: Json) =>
        typeof text === 'string'
          ? text.replace(/\$\{([^}!][^}]*)\}/g, (whole, name: string) => {
              if (renames.has(name)) return `\${${renames.get(name)!}}`;
              const att = renameGetAtt(name, renames);
              return att ? `\${${att[0]}.${att[1]}}` : whole;
            })
          : text;
      out[key] = Array.isArray(v) ? [subst(v[0]!), rewriteReferences(v[1] ?? {}, renames)] : subst(v);
    } else setOwn(out, key, rewriteReferences(v, renames));
  }
  return out;
}

/**
 * `Fn.Alias.Arn` as the renamed resource's attribute. Renames are `Id.Version` and `Id.Alias`, and ids
 * have no dots, so the name to look up is the text before the second dot: one lookup, not a scan of
 * every rename for every reference (Globals copied into 200 functions, each with thousands of `${…}`,
 * held the event loop for 19 s).
 */
function renameGetAtt(dotted: string, renames: Map<string, string>): [string, string] | undefined {
  const first = dotted.indexOf('.');
  const second = first < 0 ? -1 : dotted.indexOf('.', first + 1);
  if (second < 0) return undefined;
  const to = renames.get(dotted.slice(0, second));
  return to === undefined ? undefined : [to, dotted.slice(second + 1)];
}
