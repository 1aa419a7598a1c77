import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { alnumId } from '../core/ids.js';
import { PatternProblem, wholeMatch } from '../core/linear-regexp.js';
import { own } from '../core/own.js';
import { Violations } from '../domain/validation.js';
import { ACCOUNT_ID } from '../domain/arn.js';
import {
  applyStagePatch,
  badRequest,
  childPath,
  MAX_RESOURCES_PER_API,
  tooManyResources,
  validatePercentTraffic,
  validateStageName,
  validateStageVariables,
  type CanarySettingsDoc,
  type DeploymentDoc,
  type IntegrationDoc,
  type IntegrationResponseDoc,
  type IntegrationType,
  type MethodDoc,
  type MethodResponseDoc,
  type PatchOperation,
  type ResourceDoc,
  type RestApiDoc,
  type StageDoc,
} from '../domain/rest-api.js';
import { checkTags, mergeTags, type Tags } from '../domain/tags.js';
import type { Store } from '../store/store.js';

const HTTP_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'ANY']);
/** The integration types in the order AWS's enum message lists them. */
const INTEGRATION_TYPE_ORDER: IntegrationType[] = ['HTTP', 'MOCK', 'AWS_PROXY', 'HTTP_PROXY', 'AWS'];
const INTEGRATION_TYPES = new Set<IntegrationType>(INTEGRATION_TYPE_ORDER);
const LAMBDA_URI = /^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9-]+:lambda:path\/2015-03-31\/functions\/.+\/invocations$/;

export interface CreateRestApiInput {
  name?: string;
  description?: string;
  version?: string;
  binaryMediaTypes?: string[];
  endpointTypes?: string[];
  ipAddressType?: string;
  tags?: Record<string, string>;
  disableExecuteApiEndpoint?: boolean;
}

export interface PutIntegrationInput {
  type?: string;
  httpMethod?: string;
  uri?: string;
  requestTemplates?: Record<string, string | null>;
  requestParameters?: Record<string, string>;
  passthroughBehavior?: string;
  timeoutInMillis?: number;
  cacheNamespace?: string;
  cacheKeyParameters?: string[];
  contentHandling?: string;
}

export interface CreateDeploymentInput {
  stageName?: string;
  stageDescription?: string;
  description?: string;
  variables?: Record<string, string>;
  canarySettings?: { percentTraffic?: number; stageVariableOverrides?: Record<string, string>; useStageCache?: boolean };
}

export interface CreateStageInput {
  stageName?: string;
  deploymentId?: string;
  description?: string;
  variables?: Record<string, string>;
  canarySettings?: {
    deploymentId?: string;
    percentTraffic?: number;
    stageVariableOverrides?: Record<string, string>;
    useStageCache?: boolean;
  };
  tracingEnabled?: boolean;
  tags?: Record<string, string>;
}

const ENDPOINT_TYPES = ['PRIVATE', 'EDGE', 'REGIONAL'];
const IP_ADDRESS_TYPES = ['ipv4', 'dualstack'];

/**
 * CreateRestApi's endpoint configuration (and its description), checked in AWS's order (recorded): the
 * model's enums first, all reported together, then each rule on its own. A private API is reached over
 * dualstack only, which is also its default; every other type defaults to ipv4.
 */
function validateEndpointConfiguration(input: CreateRestApiInput): RestApiDoc['endpointConfiguration'] {
  const types = input.endpointTypes ?? ['EDGE'];
  const v = new Violations();
  if (types.some((t) => !ENDPOINT_TYPES.includes(t))) {
    v.add(
      `[${types.join(', ')}]`,
      'createRestApiInput.endpointConfiguration.types',
      `Member must satisfy constraint: [Member must satisfy enum value set: [${ENDPOINT_TYPES.join(', ')}]]`,
    );
  }
  if (input.ipAddressType !== undefined && !IP_ADDRESS_TYPES.includes(input.ipAddressType)) {
    v.add(
      input.ipAddressType,
      'createRestApiInput.endpointConfiguration.ipAddressType',
      `Member must satisfy enum value set: [${IP_ADDRESS_TYPES.join(', ')}]`,
    );
  }
  v.throwIfAny();
  if (input.description === '') throw badRequest('Description cannot be an empty string');
  if (types.length === 0) throw badRequest('REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.');
  if (types.length > 1) throw badRequest('Cannot create an api with multiple Endpoint Types.');
  const isPrivate = types[0] === 'PRIVATE';
  if (isPrivate && input.ipAddressType === 'ipv4') throw badRequest('Only dualstack ipAddressType is supported for Private APIs.');
  return { types, ipAddressType: input.ipAddressType ?? (isPrivate ? 'dualstack' : 'ipv4') };
}

/** UpdateRestApi paths whose only operation is `replace`. */
const REPLACE_ONLY_API_PATHS = new Set(['/name', '/version', '/disableExecuteApiEndpoint']);

/**
 * The API Gateway control plane: REST APIs, resources, methods, integrations, deployments and stages.
 * Each change is validated first, written in one transaction, then announced so the data plane drops
 * what it cached.
 */
export class RestApiService {
  private readonly listeners: ((restApiId: string) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Calls `listener` with the API's id whenever its stages or the API itself change. */
  onChange(listener: (restApiId: string) => void): void {
    this.listeners.push(listener);
  }

  private changed(id: string): void {
    for (const l of this.listeners) l(id);
  }

  private seconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  // ---- REST APIs ----

  async createRestApi(input: CreateRestApiInput): Promise<RestApiDoc> {
    if (!input.name) throw badRequest('Invalid REST API name specified: a name is required');
    const endpointConfiguration = validateEndpointConfiguration(input);
    if (input.tags) checkTags(input.tags, {}, TAG_ERRORS);
    const rootId = alnumId(10);
    const api: RestApiDoc = {
      id: alnumId(10),
      name: input.name,
      ...(input.description !== undefined && { description: input.description }),
      ...(input.version !== undefined && { version: input.version }),
      createdDate: this.seconds(),
      ...(input.binaryMediaTypes?.length && { binaryMediaTypes: input.binaryMediaTypes }),
      apiKeySource: 'HEADER',
      endpointConfiguration,
      disableExecuteApiEndpoint: input.disableExecuteApiEndpoint ?? false,
      rootResourceId: rootId,
      ...(input.tags && { tags: input.tags }),
      resources: { [rootId]: { id: rootId, path: '/' } },
    };
    await this.store.restApis.put(api);
    return api;
  }

  async getRestApi(id: string): Promise<RestApiDoc> {
    const api = await this.store.restApis.get(id);
    if (!api) throw apiNotFound(id);
    return api;
  }

  listRestApis(): Promise<RestApiDoc[]> {
    return this.store.restApis.list();
  }

  async updateRestApi(id: string, ops: PatchOperation[]): Promise<RestApiDoc> {
    return this.mutateApi(id, (api) => {
      for (const { op, path, value } of ops) {
        // AWS's words: a path that takes only `replace` says so; a path it does not know is an invalid path.
        if (REPLACE_ONLY_API_PATHS.has(path) && op !== 'replace') {
          throw badRequest('Invalid patch operation specified. Must be one of: [replace]');
        }
        if (path === '/name' && value) api.name = value;
        else if (path === '/description' && (op === 'replace' || op === 'add')) api.description = value ?? '';
        else if (path === '/description' && op === 'remove') delete api.description;
        else if (path === '/version') api.version = value ?? '';
        else if (path === '/disableExecuteApiEndpoint') api.disableExecuteApiEndpoint = value === 'true';
        else if (path.startsWith('/binaryMediaTypes/') && (op === 'add' || op === 'remove')) {
          const type = path.slice('/binaryMediaTypes/'.length).replace(/~1/g, '/');
          const types = new Set(api.binaryMediaTypes ?? []);
          if (op === 'add') types.add(type);
          else types.delete(type);
          api.binaryMediaTypes = [...types];
        } else throw badRequest(`Invalid patch path ${path}`);
      }
    });
  }

  async deleteRestApi(id: string): Promise<void> {
    await this.getRestApi(id);
    await this.store.restApis.delete(id);
    this.changed(id);
  }

  // ---- Resources ----

  async getResource(id: string, resourceId: string): Promise<ResourceDoc> {
    return requireResource(await this.getRestApi(id), resourceId);
  }

  async createResource(id: string, parentId: string, pathPart: string | undefined): Promise<ResourceDoc> {
    let created: ResourceDoc | undefined;
    await this.mutateApi(id, (api) => {
      const parent = requireResource(api, parentId);
      if (!pathPart) throw badRequest('Invalid resource path part: a pathPart is required');
      if (Object.keys(api.resources).length >= MAX_RESOURCES_PER_API) throw tooManyResources();
      const resource: ResourceDoc = { id: alnumId(10), parentId, pathPart, path: childPath(api, parent, pathPart) };
      api.resources[resource.id] = resource;
      created = resource;
    });
    return created!;
  }

  async deleteResource(id: string, resourceId: string): Promise<void> {
    await this.mutateApi(id, (api) => {
      requireResource(api, resourceId);
      if (resourceId === api.rootResourceId) throw badRequest('Cannot delete root resource');
      const doomed = new Set([resourceId]);
      for (let grew = true; grew;) {
        grew = false;
        for (const r of Object.values(api.resources)) {
          if (r.parentId && doomed.has(r.parentId) && !doomed.has(r.id)) {
            doomed.add(r.id);
            grew = true;
          }
        }
      }
      for (const d of doomed) delete api.resources[d];
    });
  }

  // ---- Methods ----

  async putMethod(
    id: string,
    resourceId: string,
    httpMethod: string,
    input: {
      authorizationType?: string;
      authorizerId?: string;
      apiKeyRequired?: boolean;
      operationName?: string;
      requestParameters?: Record<string, boolean>;
    },
  ): Promise<MethodDoc> {
    let method: MethodDoc | undefined;
    await this.mutateMethodApi(id, (api) => {
      // AWS looks the resource up first: a bad verb on an unknown resource is an unknown resource.
      const resource = requireResource(api, resourceId);
      const verb = validateHttpMethod(httpMethod);
      validateMethodInput(input);
      if (own(resource.resourceMethods, verb)) throw new PlatformError('ConflictException', 'Method already exists for this resource');
      method = {
        httpMethod: verb,
        authorizationType: input.authorizationType!,
        apiKeyRequired: input.apiKeyRequired ?? false,
        ...(input.operationName && { operationName: input.operationName }),
        ...(input.requestParameters && { requestParameters: input.requestParameters }),
      };
      resource.resourceMethods = { ...resource.resourceMethods, [verb]: method };
    });
    return method!;
  }

  async getMethod(id: string, resourceId: string, httpMethod: string): Promise<MethodDoc> {
    return requireMethod(await this.methodApi(id), resourceId, httpMethod);
  }

  async deleteMethod(id: string, resourceId: string, httpMethod: string): Promise<void> {
    await this.mutateMethodApi(id, (api) => {
      requireMethod(api, resourceId, httpMethod);
      delete api.resources[resourceId]!.resourceMethods![httpMethod];
    });
  }

  async putMethodResponse(
    id: string,
    resourceId: string,
    httpMethod: string,
    statusCode: string,
    input: { responseParameters?: Record<string, boolean>; responseModels?: Record<string, string> },
  ): Promise<MethodResponseDoc> {
    validateStatusCode(statusCode);
    const response: MethodResponseDoc = { statusCode, ...input };
    await this.mutateMethodApi(id, (api) => {
      const method = requireMethod(api, resourceId, httpMethod);
      method.methodResponses = { ...method.methodResponses, [statusCode]: response };
    });
    return response;
  }

  async getMethodResponse(id: string, resourceId: string, httpMethod: string, statusCode: string): Promise<MethodResponseDoc> {
    validateStatusCode(statusCode);
    const response = own(requireMethod(await this.methodApi(id), resourceId, httpMethod).methodResponses, statusCode);
    if (!response) throw new PlatformError('NotFoundException', 'Invalid Response status code specified');
    return response;
  }

  async deleteMethodResponse(id: string, resourceId: string, httpMethod: string, statusCode: string): Promise<void> {
    validateStatusCode(statusCode);
    await this.mutateMethodApi(id, (api) => {
      const method = requireMethod(api, resourceId, httpMethod);
      if (!own(method.methodResponses, statusCode)) throw new PlatformError('NotFoundException', 'Invalid Response status code specified');
      delete method.methodResponses![statusCode];
    });
  }

  // ---- Integrations ----

  async putIntegration(id: string, resourceId: string, httpMethod: string, input: PutIntegrationInput): Promise<IntegrationDoc> {
    const integration = validateIntegration(input);
    await this.mutateMethodApi(id, (api) => {
      const method = requireMethod(api, resourceId, httpMethod);
      // Re-putting an integration (to point it at another function) keeps its integration responses.
      const responses = method.methodIntegration?.integrationResponses;
      method.methodIntegration = { ...integration, ...(responses && { integrationResponses: responses }) };
    });
    return integration;
  }

  async updateIntegration(id: string, resourceId: string, httpMethod: string, ops: PatchOperation[]): Promise<IntegrationDoc> {
    let updated: IntegrationDoc | undefined;
    await this.mutateMethodApi(id, (api) => {
      const current = requireIntegration(api, resourceId, httpMethod);
      const input: PutIntegrationInput = { ...current };
      for (const { op, path, value } of ops) {
        if (op !== 'replace' && op !== 'add') throw badRequest('Invalid patch operation specified. Must be one of: [add, replace]');
        if (path === '/uri') input.uri = value;
        else if (path === '/httpMethod') input.httpMethod = value;
        else if (path === '/timeoutInMillis') input.timeoutInMillis = Number(value);
        else if (path === '/passthroughBehavior') input.passthroughBehavior = value;
        else if (path.startsWith('/requestTemplates/')) {
          input.requestTemplates = {
            ...input.requestTemplates,
            [path.slice('/requestTemplates/'.length).replace(/~1/g, '/')]: value ?? null,
          };
        } else throw badRequest(`Invalid patch path ${path}`);
      }
      updated = {
        ...validateIntegration(input),
        ...(current.integrationResponses && { integrationResponses: current.integrationResponses }),
      };
      requireMethod(api, resourceId, httpMethod).methodIntegration = updated;
    });
    return updated!;
  }

  async getIntegration(id: string, resourceId: string, httpMethod: string): Promise<IntegrationDoc> {
    return requireIntegration(await this.methodApi(id), resourceId, httpMethod);
  }

  async deleteIntegration(id: string, resourceId: string, httpMethod: string): Promise<void> {
    await this.mutateMethodApi(id, (api) => {
      requireIntegration(api, resourceId, httpMethod);
      delete requireMethod(api, resourceId, httpMethod).methodIntegration;
    });
  }

  async putIntegrationResponse(
    id: string,
    resourceId: string,
    httpMethod: string,
    statusCode: string,
    input: Omit<IntegrationResponseDoc, 'statusCode'>,
  ): Promise<IntegrationResponseDoc> {
    validateStatusCode(statusCode);
    validateTemplates(input.responseTemplates, 'response');
    validateMemberSizes({
      selectionPattern: input.selectionPattern,
      responseParameters: input.responseParameters,
      contentHandling: input.contentHandling,
    });
    validateContentHandling(input.contentHandling, 'putIntegrationResponse');
    if (input.selectionPattern) {
      try {
        wholeMatch(input.selectionPattern, 's');
      } catch (err) {
        if (!(err instanceof PatternProblem)) throw err;
        throw badRequest(`Invalid selection pattern specified: ${input.selectionPattern} (it ${err.message})`);
      }
    }
    const response: IntegrationResponseDoc = { statusCode, ...input };
    await this.mutateMethodApi(id, (api) => {
      // AWS takes an integration response before the method response of its status (recorded).
      const integration = requireIntegration(api, resourceId, httpMethod);
      integration.integrationResponses = { ...integration.integrationResponses, [statusCode]: response };
    });
    return response;
  }

  async getIntegrationResponse(id: string, resourceId: string, httpMethod: string, statusCode: string): Promise<IntegrationResponseDoc> {
    validateStatusCode(statusCode);
    const response = own(requireIntegration(await this.methodApi(id), resourceId, httpMethod).integrationResponses, statusCode);
    if (!response) throw new PlatformError('NotFoundException', 'Invalid Response status code specified');
    return response;
  }

  async deleteIntegrationResponse(id: string, resourceId: string, httpMethod: string, statusCode: string): Promise<void> {
    validateStatusCode(statusCode);
    await this.mutateMethodApi(id, (api) => {
      // Here alone AWS calls a method the resource lacks a missing integration (recorded for POST and WRONG).
      const integration = own(requireResource(api, resourceId).resourceMethods, httpMethod)?.methodIntegration;
      if (!integration) throw integrationNotFound();
      if (!own(integration.integrationResponses, statusCode))
        throw new PlatformError('NotFoundException', 'Invalid Response status code specified');
      delete integration.integrationResponses![statusCode];
    });
  }

  // ---- Deployments ----

  async createDeployment(id: string, input: CreateDeploymentInput): Promise<DeploymentDoc> {
    if (input.canarySettings && !input.stageName) {
      throw badRequest(
        `Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is ${input.stageName ?? 'null'}`,
      );
    }
    // An empty stageName means no stage, as on AWS (the Terraform provider always sends the member).
    if (input.stageName) validateStageName(input.stageName);
    validateStageVariables(input.variables);
    validateStageVariables(input.canarySettings?.stageVariableOverrides);
    const percent = input.canarySettings?.percentTraffic === undefined ? 0 : validatePercentTraffic(input.canarySettings.percentTraffic);
    const now = this.seconds();
    const deployment = await this.store.transaction(async (tx) => {
      const api = await tx.restApis.get(id);
      if (!api) throw apiNotFound(id);
      const resources = Object.values(api.resources);
      const methods = resources.flatMap((r) => Object.values(r.resourceMethods ?? {}));
      if (methods.length === 0) throw badRequest("The REST API doesn't contain any methods");
      if (methods.some((m) => !m.methodIntegration)) throw badRequest('No integration defined for method');
      const doc: DeploymentDoc = {
        id: alnumId(6),
        restApiId: id,
        ...(input.description !== undefined && { description: input.description }),
        createdDate: now,
        resources: structuredClone(resources),
      };
      if (input.stageName) {
        const stage = await tx.stages.get(id, input.stageName);
        if (input.canarySettings) {
          if (!stage) {
            throw badRequest(
              `Invalid deployment content specified.Stage ${input.stageName} must already be created before making a canary release deployment`,
            );
          }
          const canary: CanarySettingsDoc = {
            deploymentId: doc.id,
            percentTraffic: percent,
            useStageCache: input.canarySettings.useStageCache ?? false,
            ...(input.canarySettings.stageVariableOverrides && { stageVariableOverrides: input.canarySettings.stageVariableOverrides }),
          };
          await tx.stages.put({ ...stage, canarySettings: canary, lastUpdatedDate: now });
        } else if (stage) {
          await tx.stages.put({
            ...stage,
            deploymentId: doc.id,
            ...(input.variables && { variables: { ...stage.variables, ...input.variables } }),
            ...(input.stageDescription !== undefined && { description: input.stageDescription }),
            lastUpdatedDate: now,
          });
        } else {
          await tx.stages.put(
            newStage(id, input.stageName, doc.id, now, { description: input.stageDescription, variables: input.variables }),
          );
        }
      }
      await tx.deployments.put(doc);
      return doc;
    });
    if (input.stageName) this.changed(id);
    return deployment;
  }

  async getDeployment(id: string, deploymentId: string): Promise<DeploymentDoc> {
    await this.getRestApi(id);
    const d = await this.store.deployments.get(id, deploymentId);
    if (!d) throw new PlatformError('NotFoundException', 'Invalid Deployment identifier specified');
    return d;
  }

  async listDeployments(id: string): Promise<DeploymentDoc[]> {
    await this.getRestApi(id);
    return this.store.deployments.list(id);
  }

  async deleteDeployment(id: string, deploymentId: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (!(await tx.restApis.get(id))) throw apiNotFound(id);
      if (!(await tx.deployments.get(id, deploymentId)))
        throw new PlatformError('NotFoundException', 'Invalid Deployment identifier specified');
      const users = (await tx.stages.list(id)).filter(
        (s) => s.deploymentId === deploymentId || s.canarySettings?.deploymentId === deploymentId,
      );
      if (users.length) throw badRequest('Active stages pointing to this deployment must be moved or deleted');
      await tx.deployments.delete(id, deploymentId);
    });
  }

  // ---- Stages ----

  async createStage(id: string, input: CreateStageInput): Promise<StageDoc> {
    const name = validateStageName(input.stageName);
    if (!input.deploymentId) throw badRequest('Invalid deployment identifier: deploymentId is required');
    if (input.tags) checkTags(input.tags, {}, TAG_ERRORS);
    validateStageVariables(input.variables);
    validateStageVariables(input.canarySettings?.stageVariableOverrides);
    const percent = input.canarySettings?.percentTraffic === undefined ? 0 : validatePercentTraffic(input.canarySettings.percentTraffic);
    const now = this.seconds();
    const stage = await this.store.transaction(async (tx) => {
      if (!(await tx.restApis.get(id))) throw apiNotFound(id);
      if (!(await tx.deployments.get(id, input.deploymentId!)))
        throw new PlatformError('NotFoundException', 'Invalid Deployment identifier specified');
      if (await tx.stages.get(id, name)) throw new PlatformError('ConflictException', 'Stage already exists');
      let canary: CanarySettingsDoc | undefined;
      if (input.canarySettings) {
        const canaryDeployment = input.canarySettings.deploymentId ?? input.deploymentId!;
        if (!(await tx.deployments.get(id, canaryDeployment))) throw badRequest('Deployment id does not exist');
        canary = {
          deploymentId: canaryDeployment,
          percentTraffic: percent,
          useStageCache: input.canarySettings.useStageCache ?? false,
          ...(input.canarySettings.stageVariableOverrides && { stageVariableOverrides: input.canarySettings.stageVariableOverrides }),
        };
      }
      const doc = newStage(id, name, input.deploymentId!, now, input, canary);
      await tx.stages.put(doc);
      return doc;
    });
    this.changed(id);
    return stage;
  }

  async getStage(id: string, name: string): Promise<StageDoc> {
    await this.getRestApi(id);
    const stage = await this.store.stages.get(id, name);
    if (!stage) throw stageNotFound();
    return stage;
  }

  async listStages(id: string): Promise<StageDoc[]> {
    await this.getRestApi(id);
    return this.store.stages.list(id);
  }

  async updateStage(id: string, name: string, ops: PatchOperation[]): Promise<StageDoc> {
    const now = this.seconds();
    const stage = await this.store.transaction(async (tx) => {
      if (!(await tx.restApis.get(id))) throw apiNotFound(id);
      const current = await tx.stages.get(id, name);
      if (!current) throw stageNotFound();
      const known = new Set((await tx.deployments.list(id)).map((d) => d.id));
      const next = applyStagePatch(current, ops, (d) => known.has(d), now);
      validateStageVariables(next.variables);
      validateStageVariables(next.canarySettings?.stageVariableOverrides);
      await tx.stages.put(next);
      return next;
    });
    this.changed(id);
    return stage;
  }

  async deleteStage(id: string, name: string): Promise<void> {
    await this.getStage(id, name);
    await this.store.stages.delete(id, name);
    this.changed(id);
  }

  // ---- Tags (kept in the API's and the stage's own documents, which every GET returns) ----

  /** The tags of the REST API or stage an `arn:aws:apigateway:REGION::/restapis/ID[/stages/NAME]` names. */
  async getTags(arn: string): Promise<Tags> {
    const target = tagTarget(arn);
    if (target.stage === undefined) return (await this.getRestApi(target.id)).tags ?? {};
    return (await this.getStage(target.id, target.stage)).tags ?? {};
  }

  /** Adds tags to the REST API or stage `arn` names, or with `remove`, takes those keys off. */
  async changeTags(arn: string, add: Tags, remove: readonly string[] = []): Promise<void> {
    const target = tagTarget(arn);
    const retag = <T extends { tags?: Tags }>(doc: T): T => {
      checkTags(add, doc.tags ?? {}, TAG_ERRORS);
      const { tags: _old, ...rest } = doc;
      const tags = mergeTags(doc.tags ?? {}, add, remove);
      return (Object.keys(tags).length > 0 ? { ...rest, tags } : rest) as T;
    };
    await this.store.transaction(async (tx) => {
      const api = await tx.restApis.get(target.id);
      if (!api) throw apiNotFound(target.id);
      if (target.stage === undefined) return tx.restApis.put(retag(api));
      const stage = await tx.stages.get(target.id, target.stage);
      if (!stage) throw stageNotFound();
      return tx.stages.put(retag(stage));
    });
  }

  /**
   * The API that holds a method, for the operations on a method and what hangs off it: AWS answers an
   * unknown API there as an unknown resource (recorded for PutMethod, GetIntegration, the integration
   * responses), since it looks the resource up by both ids at once.
   */
  private async methodApi(id: string): Promise<RestApiDoc> {
    const api = await this.store.restApis.get(id);
    if (!api) throw resourceNotFound();
    return api;
  }

  /** mutateApi for the operations on a method: an unknown API is an unknown resource, as methodApi says. */
  private mutateMethodApi(id: string, change: (api: RestApiDoc) => void): Promise<RestApiDoc> {
    return this.mutateApi(id, change, resourceNotFound);
  }

  /** Runs `change` on a copy of the API inside a transaction and stores the result. */
  private async mutateApi(
    id: string,
    change: (api: RestApiDoc) => void,
    missing: (id: string) => PlatformError = apiNotFound,
  ): Promise<RestApiDoc> {
    const api = await this.store.transaction(async (tx) => {
      const current = await tx.restApis.get(id);
      if (!current) throw missing(id);
      const next = structuredClone(current);
      change(next);
      await tx.restApis.put(next);
      return next;
    });
    this.changed(id);
    return api;
  }
}

function newStage(
  restApiId: string,
  stageName: string,
  deploymentId: string,
  now: number,
  input: {
    description?: string | undefined;
    variables?: Record<string, string> | undefined;
    tracingEnabled?: boolean;
    tags?: Record<string, string>;
  },
  canarySettings?: CanarySettingsDoc,
): StageDoc {
  return {
    restApiId,
    stageName,
    deploymentId,
    ...(input.description !== undefined && { description: input.description }),
    ...(input.variables && Object.keys(input.variables).length > 0 && { variables: input.variables }),
    ...(canarySettings && { canarySettings }),
    methodSettings: {},
    tracingEnabled: input.tracingEnabled ?? false,
    cacheClusterEnabled: false,
    cacheClusterStatus: 'NOT_AVAILABLE',
    ...(input.tags && { tags: input.tags }),
    createdDate: now,
    lastUpdatedDate: now,
  };
}

/** API Gateway answers every broken tag rule with BadRequestException. */
const TAG_ERRORS = { invalid: 'BadRequestException', tooMany: 'BadRequestException' } as const;

/** The REST API (and stage) an API Gateway tagging ARN names; the only resources Versa's API Gateway tags. */
function tagTarget(arn: string): { id: string; stage?: string } {
  const m = /^arn:aws[a-z-]*:apigateway:[a-z0-9-]*::\/restapis\/([^/]+)(?:\/stages\/([^/]+))?$/.exec(arn);
  if (!m) throw badRequest(`Invalid resource ARN ${arn}: Versa tags REST APIs (/restapis/ID) and their stages (/restapis/ID/stages/NAME).`);
  return m[2] === undefined ? { id: m[1]! } : { id: m[1]!, stage: m[2] };
}

export function apiNotFound(id: string): PlatformError {
  return new PlatformError('NotFoundException', `Invalid API identifier specified ${ACCOUNT_ID}:${id}`);
}

function stageNotFound(): PlatformError {
  return new PlatformError('NotFoundException', 'Invalid Stage identifier specified');
}

function resourceNotFound(): PlatformError {
  return new PlatformError('NotFoundException', 'Invalid Resource identifier specified');
}

function requireResource(api: RestApiDoc, resourceId: string): ResourceDoc {
  const resource = own(api.resources, resourceId);
  if (!resource) throw resourceNotFound();
  return resource;
}

function requireMethod(api: RestApiDoc, resourceId: string, httpMethod: string): MethodDoc {
  const method = own(requireResource(api, resourceId).resourceMethods, httpMethod);
  if (!method) throw new PlatformError('NotFoundException', 'Invalid Method identifier specified');
  return method;
}

function integrationNotFound(): PlatformError {
  return new PlatformError('NotFoundException', 'Invalid Integration identifier specified');
}

function requireIntegration(api: RestApiDoc, resourceId: string, httpMethod: string): IntegrationDoc {
  const integration = requireMethod(api, resourceId, httpMethod).methodIntegration;
  if (!integration) throw integrationNotFound();
  return integration;
}

/** The authorization types that name an authorizer by its id. */
const NEEDS_AUTHORIZER = new Set(['CUSTOM', 'COGNITO_USER_POOLS']);

function validateMethodInput(input: {
  authorizationType?: string;
  authorizerId?: string;
  requestParameters?: Record<string, boolean>;
}): void {
  if (!input.authorizationType)
    throw badRequest('Invalid authorization type specified: authorizationType is required (NONE for an open method)');
  if (NEEDS_AUTHORIZER.has(input.authorizationType) && !input.authorizerId) {
    throw badRequest(
      'Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.',
    );
  }
  // `method.request.querystring.q` and `method.request.header.q` would both be `q` to a mapping expression.
  const names = new Set<string>();
  for (const key of Object.keys(input.requestParameters ?? {})) {
    const [, location, name] = /^method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.(.+)$/.exec(key) ?? [];
    if (name === undefined) {
      throw badRequest(
        `Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: ${key}]`,
      );
    }
    if (!location!.startsWith('multivalue')) {
      if (names.has(name)) throw badRequest('Parameter names must be unique across querystring, header and path');
      names.add(name);
    }
  }
}

function validateHttpMethod(method: string): string {
  if (!HTTP_METHODS.has(method))
    throw badRequest('Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY');
  return method;
}

/** A status code in the path is checked against the model's pattern before anything is looked up. */
function validateStatusCode(code: string): void {
  new Violations().pattern(code, 'statusCode', /^[1-5]\d\d$/, '[1-5]\\d\\d').throwIfAny();
}

/**
 * The most a mapping template may be, in bytes of UTF-8 (API Gateway's quota "Mapping template size",
 * 300 KB, which cannot be raised). A template is the operator's, but it is parsed on the event loop every
 * request shares; this bounds that work as API Gateway bounds it.
 */
export const MAX_TEMPLATE_BYTES = 300 * 1024;

/** Refuses a mapping template past MAX_TEMPLATE_BYTES, before anything is stored. */
function validateTemplates(templates: Record<string, string | null> | undefined, what: string): void {
  for (const [contentType, template] of Object.entries(templates ?? {})) {
    // A UTF-8 byte is at most a UTF-16 unit, and a unit at most three bytes: the exact count only when it matters.
    if (typeof template !== 'string' || template.length <= MAX_TEMPLATE_BYTES / 3) continue;
    const bytes = Buffer.byteLength(template);
    if (bytes > MAX_TEMPLATE_BYTES) {
      throw badRequest(
        `The ${what} template for ${contentType.slice(0, 100)} is ${bytes} bytes; a mapping template may be at most ${MAX_TEMPLATE_BYTES} bytes (300 KB).`,
      );
    }
  }
}

/**
 * The most characters an integration's member other than a template may hold, a map's or a list's names
 * and values counted together. API Gateway's model sets no length on them and its quotas name none; each
 * becomes part of a request or an answer (a URI the URL called, parameters its headers, query and path, a
 * selection pattern matched against each answer), and 10,240 is API Gateway's quota on both a URL (a
 * regional API's) and a request's headers together. Without it, a member as large as a request body may
 * be (70 MB) was stored in the API, which is read and written whole at every later change. Members held to
 * an enum are sized too, so that a refusal never echoes megabytes.
 */
export const MAX_INTEGRATION_MEMBER_CHARS = 10_240;

type MemberValue = string | readonly string[] | Readonly<Record<string, string>> | undefined;

/** Refuses a member past MAX_INTEGRATION_MEMBER_CHARS, in API Gateway's words, before anything is stored. */
function validateMemberSizes(members: Record<string, MemberValue>): void {
  for (const [name, value] of Object.entries(members)) {
    if (value === undefined || value === null) continue;
    const whole = typeof value === 'string';
    let chars = 0;
    if (whole) chars = value.length;
    else if (Array.isArray(value)) for (const item of value as readonly string[]) chars += item.length;
    else for (const [key, item] of Object.entries(value)) chars += key.length + item.length;
    if (chars > MAX_INTEGRATION_MEMBER_CHARS) {
      throw badRequest(
        whole
          ? `Invalid ${name} specified: it is ${chars} characters long; it may be at most ${MAX_INTEGRATION_MEMBER_CHARS}.`
          : `Invalid ${name} specified: its names and values come to ${chars} characters; they may come to at most ${MAX_INTEGRATION_MEMBER_CHARS}.`,
      );
    }
  }
}

const PASSTHROUGH_BEHAVIORS = new Set(['WHEN_NO_MATCH', 'WHEN_NO_TEMPLATES', 'NEVER']);
const CONTENT_HANDLING = ['CONVERT_TO_BINARY', 'CONVERT_TO_TEXT'];

/** Refuses a contentHandling outside the model's enum, as API Gateway's model validation words it. */
function validateContentHandling(value: string | undefined, operation: string): void {
  if (value === undefined || CONTENT_HANDLING.includes(value)) return;
  new Violations()
    .add(value, `${operation}Input.contentHandling`, `Member must satisfy enum value set: [${CONTENT_HANDLING.join(', ')}]`)
    .throwIfAny('BadRequestException');
}

/** `arn:{partition}:apigateway:{region}:{service}:{path|action}/...`, the form of every AWS integration's URI. */
const AWS_INTEGRATION_ARN = /^arn:[^:]*:apigateway:[^:]*:([^:]*):(path|action)\//;

/**
 * An AWS or AWS_PROXY integration's URI, refused in AWS's words (recorded) where AWS refuses it, and in
 * Versa's where AWS would take it but Versa integrates with Lambda only.
 */
function validateAwsUri(type: IntegrationType, uri: string): void {
  if (LAMBDA_URI.test(uri)) return;
  if (!/^arn:[^:]*:[^:]*:[^:]*:[^:]*:./.test(uri)) throw badRequest('Invalid ARN specified in the request');
  const parts = AWS_INTEGRATION_ARN.exec(uri);
  if (!parts) throw badRequest('AWS ARN for integration must contain path or action');
  const firehoseAction = parts[1] === 'firehose' && parts[2] === 'action';
  if (type === 'AWS_PROXY' && !firehoseAction) {
    throw badRequest("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.");
  }
  throw badRequest(
    `Invalid ARN specified in the request: ${uri}. Versa integrates with Lambda URIs of the form arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations`,
  );
}

function validateIntegration(input: PutIntegrationInput): IntegrationDoc {
  validateTemplates(input.requestTemplates, 'request');
  validateMemberSizes({
    uri: input.uri,
    httpMethod: input.httpMethod,
    passthroughBehavior: input.passthroughBehavior,
    cacheNamespace: input.cacheNamespace,
    contentHandling: input.contentHandling,
    requestParameters: input.requestParameters,
    cacheKeyParameters: input.cacheKeyParameters,
  });
  if (input.passthroughBehavior !== undefined && !PASSTHROUGH_BEHAVIORS.has(input.passthroughBehavior)) {
    throw badRequest(
      `Invalid passthrough behavior specified: ${input.passthroughBehavior}. Valid options are WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER`,
    );
  }
  validateContentHandling(input.contentHandling, 'putIntegration');
  // A MOCK integration needs no method, but one it is given is kept and shown: it is checked alike.
  if (input.httpMethod) validateHttpMethod(input.httpMethod);
  const type = input.type as IntegrationType;
  if (input.type === undefined) new Violations().missing('putIntegrationInput.type').throwIfAny();
  if (!INTEGRATION_TYPES.has(type)) {
    new Violations()
      .add(input.type, 'putIntegrationInput.type', `Member must satisfy enum value set: [${INTEGRATION_TYPE_ORDER.join(', ')}]`)
      .throwIfAny();
  }
  const timeout = input.timeoutInMillis ?? 29000;
  if (!Number.isInteger(timeout) || timeout < 50 || timeout > 29000) throw badRequest('Timeout should be between 50 ms and 29000 ms');
  if (type !== 'MOCK') {
    if (!input.httpMethod) throw badRequest('Enumeration value for HttpMethod must be non-empty');
    if (!input.uri) throw badRequest('Invalid integration URI specified: a uri is required');
  }
  if (type === 'AWS' || type === 'AWS_PROXY') {
    validateAwsUri(type, input.uri!);
    if (input.httpMethod !== 'POST') throw badRequest('Lambda integrations must use the POST method to invoke the function');
  }
  if ((type === 'HTTP' || type === 'HTTP_PROXY') && !/^https?:\/\//.test(input.uri!)) {
    throw badRequest('Invalid HTTP endpoint specified for URI');
  }
  return {
    type,
    ...(input.httpMethod && { httpMethod: input.httpMethod }),
    // AWS keeps no URI on a MOCK integration, even one it was given, and shows an HTTP one's connection (recorded).
    ...(input.uri && type !== 'MOCK' && { uri: input.uri }),
    ...((type === 'HTTP' || type === 'HTTP_PROXY') && { connectionType: 'INTERNET' }),
    ...(input.requestTemplates && { requestTemplates: input.requestTemplates }),
    ...(input.requestParameters && { requestParameters: input.requestParameters }),
    passthroughBehavior: input.passthroughBehavior ?? 'WHEN_NO_MATCH',
    timeoutInMillis: timeout,
    cacheNamespace: input.cacheNamespace ?? alnumId(10),
    cacheKeyParameters: input.cacheKeyParameters ?? [],
    ...(input.contentHandling && { contentHandling: input.contentHandling }),
  };
}
