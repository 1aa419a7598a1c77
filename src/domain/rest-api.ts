/**
 * API Gateway REST APIs: the shapes (kept as API Gateway names them, so the wire is a plain copy), and
 * the pure rules — resource paths, deployment snapshots, stage patches, the canary pick.
 */
import { PlatformError } from '../core/errors.js';
import type { Random } from '../core/random.js';

export interface IntegrationResponseDoc {
  statusCode: string;
  selectionPattern?: string;
  responseTemplates?: Record<string, string | null>;
  responseParameters?: Record<string, string>;
  contentHandling?: string;
}

export type IntegrationType = 'AWS' | 'AWS_PROXY' | 'MOCK' | 'HTTP' | 'HTTP_PROXY';

export interface IntegrationDoc {
  type: IntegrationType;
  httpMethod?: string;
  uri?: string;
  /** `INTERNET` on an HTTP or HTTP_PROXY integration, the only connection Versa makes. */
  connectionType?: string;
  requestTemplates?: Record<string, string | null>;
  requestParameters?: Record<string, string>;
  passthroughBehavior: string;
  timeoutInMillis: number;
  cacheNamespace: string;
  cacheKeyParameters: string[];
  contentHandling?: string;
  integrationResponses?: Record<string, IntegrationResponseDoc>;
}

export interface MethodResponseDoc {
  statusCode: string;
  responseParameters?: Record<string, boolean>;
  responseModels?: Record<string, string>;
}

export interface MethodDoc {
  httpMethod: string;
  authorizationType: string;
  apiKeyRequired: boolean;
  operationName?: string;
  requestParameters?: Record<string, boolean>;
  requestModels?: Record<string, string>;
  methodResponses?: Record<string, MethodResponseDoc>;
  methodIntegration?: IntegrationDoc;
}

export interface ResourceDoc {
  id: string;
  parentId?: string;
  pathPart?: string;
  path: string;
  resourceMethods?: Record<string, MethodDoc>;
}

export interface RestApiDoc {
  id: string;
  name: string;
  description?: string;
  version?: string;
  createdDate: number;
  binaryMediaTypes?: string[];
  apiKeySource: string;
  endpointConfiguration: { types: string[]; ipAddressType?: string };
  disableExecuteApiEndpoint: boolean;
  rootResourceId: string;
  tags?: Record<string, string>;
  resources: Record<string, ResourceDoc>;
}

export interface DeploymentDoc {
  id: string;
  restApiId: string;
  description?: string;
  createdDate: number;
  /** The API's resources, methods and integrations when the deployment was made. Never changes. */
  resources: ResourceDoc[];
}

export interface CanarySettingsDoc {
  deploymentId: string;
  percentTraffic: number;
  stageVariableOverrides?: Record<string, string>;
  useStageCache: boolean;
}

/**
 * Resources an API may have, its root included (API Gateway's quota): each change of an API reads and
 * writes it whole, so an OpenAPI body of thousands of paths would take minutes to import.
 */
export const MAX_RESOURCES_PER_API = 300;

export const tooManyResources = () =>
  new PlatformError('LimitExceededException', `Maximum number of Resources for this API has been reached (${MAX_RESOURCES_PER_API}).`);

/** One method's settings in a stage (or every method's: `*\/*`), as GetStage shows them. */
export interface MethodSetting {
  metricsEnabled: boolean;
  loggingLevel?: string;
  dataTraceEnabled: boolean;
  throttlingBurstLimit: number;
  throttlingRateLimit: number;
  cachingEnabled: boolean;
  cacheTtlInSeconds: number;
  cacheDataEncrypted: boolean;
  requireAuthorizationForCacheControl: boolean;
  unauthorizedCacheControlHeaderStrategy: string;
}

/** What a method's settings are until a patch changes one: API Gateway's defaults (the account's throttle among them). */
export const DEFAULT_METHOD_SETTING: Readonly<MethodSetting> = {
  metricsEnabled: false,
  dataTraceEnabled: false,
  throttlingBurstLimit: 5000,
  throttlingRateLimit: 10000,
  cachingEnabled: false,
  cacheTtlInSeconds: 300,
  cacheDataEncrypted: false,
  requireAuthorizationForCacheControl: true,
  unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER',
};

const bool = (v: string) => (v === 'true' ? true : v === 'false' ? false : undefined);
const int = (v: string) => (/^\d{1,9}$/.test(v) ? Number(v) : undefined);
const oneOf = (values: string[]) => (v: string) => (values.includes(v) ? v : undefined);

/** The settings a patch path may end with, the field each sets and how its value is read (undefined: not valid). */
const METHOD_SETTING_PATHS: ReadonlyMap<string, [keyof MethodSetting, (value: string) => boolean | number | string | undefined]> = new Map([
  ['metrics/enabled', ['metricsEnabled', bool]],
  ['logging/loglevel', ['loggingLevel', oneOf(['OFF', 'ERROR', 'INFO'])]],
  ['logging/dataTrace', ['dataTraceEnabled', bool]],
  ['throttling/burstLimit', ['throttlingBurstLimit', int]],
  ['throttling/rateLimit', ['throttlingRateLimit', (v: string) => (/^\d{1,9}(\.\d{1,6})?$/.test(v) ? Number(v) : undefined)]],
  ['caching/enabled', ['cachingEnabled', bool]],
  ['caching/ttlInSeconds', ['cacheTtlInSeconds', (v: string) => (int(v) !== undefined && int(v)! <= 3600 ? int(v) : undefined)]],
  ['caching/dataEncrypted', ['cacheDataEncrypted', bool]],
  ['caching/requireAuthorizationForCacheControl', ['requireAuthorizationForCacheControl', bool]],
  [
    'caching/unauthorizedCacheControlHeaderStrategy',
    ['unauthorizedCacheControlHeaderStrategy', oneOf(['FAIL_WITH_403', 'SUCCEED_WITH_RESPONSE_HEADER', 'SUCCEED_WITHOUT_RESPONSE_HEADER'])],
  ],
]);

/**
 * The setting a method of `resourcePath` gets in `stage`: its own (keyed by its path escaped as the patch
 * names it, or without the leading slash as Terraform's `method_path` does), or every method's (`*\/*`).
 */
export function methodSettingOf(
  stage: Pick<StageDoc, 'methodSettings'>,
  resourcePath: string,
  httpMethod: string,
): MethodSetting | undefined {
  const settings = stage.methodSettings;
  const own = (key: string) => (Object.hasOwn(settings, key) ? settings[key] : undefined);
  return (
    own(`${resourcePath.replace(/~/g, '~0').replace(/\//g, '~1')}/${httpMethod}`) ??
    own(`${resourcePath.slice(1)}/${httpMethod}`) ??
    own('*/*')
  );
}

export interface StageDoc {
  restApiId: string;
  stageName: string;
  deploymentId: string;
  description?: string;
  variables?: Record<string, string>;
  canarySettings?: CanarySettingsDoc;
  /** By `*\/*` or a method's key (`~1items~1{id}/GET`, as the patch path names it), as GetStage shows them. */
  methodSettings: Record<string, MethodSetting>;
  tracingEnabled: boolean;
  cacheClusterEnabled: boolean;
  cacheClusterStatus: string;
  tags?: Record<string, string>;
  createdDate: number;
  lastUpdatedDate: number;
}

export interface PatchOperation {
  op: string;
  path: string;
  value?: string;
  from?: string;
}

const PATH_PART = /^(\{[a-zA-Z0-9._-]+\+?\}|[a-zA-Z0-9._:@~!$&'()*,;=-]+)$/;
const STAGE_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const REST_API_ID = /^[a-z0-9]{10}$/;

export function badRequest(message: string): PlatformError {
  return new PlatformError('BadRequestException', message);
}

/** Checks a new resource's path part against its siblings and returns its full path. */
export function childPath(api: RestApiDoc, parent: ResourceDoc, pathPart: string): string {
  if (!PATH_PART.test(pathPart)) {
    throw badRequest(
      `Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.`,
    );
  }
  if (parent.pathPart?.endsWith('+}')) {
    throw badRequest(`Cannot create a child of a resource with a greedy path variable: ${parent.pathPart}`);
  }
  const siblings = Object.values(api.resources).filter((r) => r.parentId === parent.id);
  const isVar = pathPart.startsWith('{');
  for (const s of siblings) {
    if (s.pathPart === pathPart)
      throw new PlatformError('ConflictException', `Another resource with the same parent already has this name: ${pathPart}`);
    if (isVar && s.pathPart?.startsWith('{')) {
      throw badRequest(`A sibling (${s.pathPart}) of this resource already has a variable path part -- only one is allowed`);
    }
  }
  return parent.path === '/' ? `/${pathPart}` : `${parent.path}/${pathPart}`;
}

/** Whether `name` can name a stage at all (AWS's rule: letters, digits, `-` and `_`, 1–128 of them). */
export function isStageName(name: string): boolean {
  return STAGE_NAME.test(name);
}

/** Whether `id` has the shape of a REST API id: ten lowercase letters and digits, as CreateRestApi makes them. */
export function isRestApiId(id: string): boolean {
  return REST_API_ID.test(id);
}

export function validateStageName(name: string | undefined): string {
  if (!name || !STAGE_NAME.test(name)) {
    throw badRequest('Stage name only allows a-zA-Z0-9_- and must be between 1 and 128 characters long');
  }
  return name;
}

/** A decimal number as API Gateway reads a patch's percentage: no blanks, no `0x10`, no `Infinity`. */
const DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

export function validatePercentTraffic(value: unknown): number {
  const n = typeof value === 'string' ? (DECIMAL.test(value) ? Number(value) : NaN) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 100) {
    throw badRequest(`Canary traffic percentage must be a number between 0.0 and 100.0; got ${String(value)}`);
  }
  return n;
}

/** API Gateway's quotas on stage variables: 100 a stage, names of 64 characters, values of 512. */
export const MAX_STAGE_VARIABLES = 100;
const MAX_STAGE_VARIABLE_NAME = 64;
const MAX_STAGE_VARIABLE_VALUE = 512;
const STAGE_VARIABLE_NAME = /^[A-Za-z0-9_]+$/;
/** The characters API Gateway allows in a value: they are put into integration URIs and Lambda ARNs as they are. */
const STAGE_VARIABLE_VALUE = /^[A-Za-z0-9\-._~:/?#&=,]*$/;

/**
 * Refuses stage variables (or a canary's overrides of them) API Gateway refuses: a name not of
 * `[A-Za-z0-9_]`, or past 64 characters, a value past 512 or of other characters than
 * `[A-Za-z0-9-._~:/?#&=,]`, more than 100 of them.
 */
export function validateStageVariables(variables: Record<string, string> | undefined): void {
  if (variables === undefined || variables === null) return;
  const names = Object.keys(variables);
  if (names.length > MAX_STAGE_VARIABLES)
    throw badRequest(`A stage may have at most ${MAX_STAGE_VARIABLES} stage variables; got ${names.length}`);
  for (const name of names) {
    if (name.length > MAX_STAGE_VARIABLE_NAME || !STAGE_VARIABLE_NAME.test(name)) {
      throw badRequest(
        `Stage variable name ${name.slice(0, 100)} is invalid: it must be 1-${MAX_STAGE_VARIABLE_NAME} characters of A-Z a-z 0-9 and _`,
      );
    }
    const value = variables[name];
    if (typeof value !== 'string' || value.length > MAX_STAGE_VARIABLE_VALUE || !STAGE_VARIABLE_VALUE.test(value)) {
      throw badRequest(
        `Stage variable value for ${name} is invalid: it must be at most ${MAX_STAGE_VARIABLE_VALUE} characters of A-Z a-z 0-9 and -._~:/?#&=,`,
      );
    }
  }
}

// AWS names both ends of the refused copy ("... with path: /x and from /y. Valid ...").
const COPY_ERROR = (path: string, from: string | undefined) =>
  badRequest(
    `Invalid copy operation with path: ${path} and from ${String(from)}. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]`,
  );

/** The stage paths AWS lists when it refuses one, verbatim (its own run-together entries included). */
const STAGE_PATHS =
  '[/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, /{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit/{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled]';

/**
 * A stage path UpdateStage does not know, refused as AWS words it: removing is "no method setting" (AWS
 * reads an unknown path as a method setting), anything else lists the paths it takes.
 */
function unknownStagePath(op: string, path: string): PlatformError {
  return op === 'remove'
    ? badRequest(`Cannot remove method setting ${path.replace(/^\//, '')} because there is no method setting for this method `)
    : badRequest(`Invalid method setting path: ${path}. Must be one of: ${STAGE_PATHS}`);
}

/**
 * Applies UpdateStage patch operations in order and returns the new stage, or throws without having
 * changed anything. `deploymentExists` checks a deployment id named by a patch.
 */
export function applyStagePatch(stage: StageDoc, ops: PatchOperation[], deploymentExists: (id: string) => boolean, now: number): StageDoc {
  const next: StageDoc = structuredClone(stage);
  const requireCanary = (): CanarySettingsDoc => {
    next.canarySettings ??= { deploymentId: next.deploymentId, percentTraffic: 0, useStageCache: false };
    return next.canarySettings;
  };
  for (const { op, path, value, from } of ops) {
    const parts = path.split('/').slice(1).map(unescapePointer);
    const [head, key, sub] = parts;
    const invalid = () => unknownStagePath(op, path);
    if (op === 'copy') {
      // Only the two promotion copies exist; any other copy is refused as such, canary or not (AWS checks
      // the copy's paths before it looks for a canary to promote).
      const promotesDeployment = path === '/deploymentId' && from === '/canarySettings/deploymentId';
      const promotesVariables = path === '/variables' && from === '/canarySettings/stageVariableOverrides';
      if (!promotesDeployment && !promotesVariables) throw COPY_ERROR(path, from);
      if (!next.canarySettings) throw badRequest('Promotion not available. Canary does not exist.');
      if (promotesDeployment) next.deploymentId = next.canarySettings.deploymentId;
      else next.variables = { ...next.variables, ...next.canarySettings.stageVariableOverrides };
      continue;
    }
    if (op !== 'replace' && op !== 'add' && op !== 'remove')
      throw badRequest(`Invalid patch operation specified. Must be one of: [add, remove, replace, move, copy, test]; got ${op}`);
    switch (head) {
      case 'description':
        if (op === 'remove') delete next.description;
        else next.description = value ?? '';
        break;
      case 'deploymentId':
        if (op !== 'replace') throw badRequest(`Invalid ${op} operation with path: ${path}`);
        if (!value || !deploymentExists(value)) throw badRequest('Deployment id does not exist');
        next.deploymentId = value;
        break;
      case 'tracingEnabled':
      case 'cacheClusterEnabled':
        if (op !== 'replace') throw badRequest(`Invalid ${op} operation with path: ${path}`);
        next[head] = value === 'true';
        break;
      case 'variables':
        if (!key || parts.length !== 2) throw invalid();
        if (op === 'remove') {
          if (next.variables) delete next.variables[key];
          if (next.variables && Object.keys(next.variables).length === 0) delete next.variables;
        } else next.variables = { ...next.variables, [key]: value ?? '' };
        break;
      case 'canarySettings': {
        if (key === undefined) {
          if (op !== 'remove') throw invalid();
          delete next.canarySettings;
          break;
        }
        if (key === 'percentTraffic') {
          if (op !== 'replace') throw badRequest(`Invalid ${op} operation with path: ${path}`);
          requireCanary().percentTraffic = validatePercentTraffic(value);
        } else if (key === 'deploymentId') {
          if (op !== 'replace') throw badRequest(`Invalid ${op} operation with path: ${path}`);
          if (!value || !deploymentExists(value)) throw badRequest('Deployment id does not exist');
          requireCanary().deploymentId = value;
        } else if (key === 'useStageCache') {
          if (op !== 'replace') throw badRequest(`Invalid ${op} operation with path: ${path}`);
          requireCanary().useStageCache = value === 'true';
        } else if (key === 'stageVariableOverrides') {
          if (!sub) throw invalid();
          const canary = requireCanary();
          if (op === 'remove') {
            if (canary.stageVariableOverrides) delete canary.stageVariableOverrides[sub];
          } else canary.stageVariableOverrides = { ...canary.stageVariableOverrides, [sub]: value ?? '' };
        } else throw invalid();
        break;
      }
      default: {
        // Method settings: `/*/*/throttling/rateLimit`, `/~1items~1{id}/GET/metrics/enabled`; the method's key
        // is what comes before the setting, as the path names it (still escaped), as GetStage shows it.
        const raw = path.split('/').slice(1);
        // `remove` of `/{resourcePath}/{httpMethod}` (`/*/*`, `/~1items/GET`) drops that method's settings whole.
        if (op === 'remove' && raw.length === 2) {
          const methodKey = raw.join('/');
          if (!Object.hasOwn(next.methodSettings, methodKey)) throw invalid();
          delete next.methodSettings[methodKey];
          break;
        }
        const known = METHOD_SETTING_PATHS.get(raw.slice(-2).join('/'));
        if (raw.length < 4 || !known) throw invalid();
        const methodKey = raw.slice(0, -2).join('/');
        const [field, read] = known;
        const settings = (next.methodSettings[methodKey] ??= { ...DEFAULT_METHOD_SETTING });
        if (op === 'remove') {
          if (field === 'loggingLevel') delete settings.loggingLevel;
          else Object.assign(settings, { [field]: DEFAULT_METHOD_SETTING[field] });
          break;
        }
        const parsed = read(value ?? '');
        if (parsed === undefined) throw badRequest(`Invalid value for ${raw.slice(-2).join('/')}: ${String(value).slice(0, 64)}`);
        Object.assign(settings, { [field]: parsed });
        break;
      }
    }
  }
  next.lastUpdatedDate = now;
  return next;
}

function unescapePointer(part: string): string {
  return part.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Whether one request is served by the stage's canary: with probability percentTraffic / 100. */
export function isCanaryRequest(stage: Pick<StageDoc, 'canarySettings'>, random: Random): boolean {
  const pct = stage.canarySettings?.percentTraffic ?? 0;
  if (pct <= 0) return false;
  if (pct >= 100) return true;
  return random.next() * 100 < pct;
}
