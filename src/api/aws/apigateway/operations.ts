import { PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import type { DeploymentDoc, PatchOperation, ResourceDoc, RestApiDoc, StageDoc } from '../../../domain/rest-api.js';
import { Violations } from '../../../domain/validation.js';
import type { GatewayDataPlane } from '../../../gateway/data-plane.js';
import type { RestApiService } from '../../../gateway/rest-api-service.js';
import type { ApiRequest, ApiResponse, ServiceHandler } from '../protocol/http.js';
import { isPrototypeKey, memberReader } from '../protocol/members.js';
import { emptyResponse, jsonResponse, parseJsonBody, routeTable, type Route } from '../protocol/rest-json.js';
import { functionScope } from '../../access/function-scope.js';

export interface ApiGatewayDeps {
  restApis: RestApiService;
  dataPlane: GatewayDataPlane;
  logger: Logger;
}

/** API Gateway's error form: the code in `x-amzn-ErrorType`, the text in `message`. */
export function apiGatewayError(error: PlatformError): ApiResponse {
  return jsonResponse(error.spec.status, { message: error.message }, { 'x-amzn-errortype': error.code, ...error.details.headers });
}

/**
 * The Java classes API Gateway names when a JSON true/false or number stands where it reads a string
 * (recorded: `requestParameters` values true, a `responseTemplates` value 123).
 */
const JAVA_CLASS: Partial<Record<string, string>> = {
  boolean: 'java.lang.Boolean',
  number: 'com.amazon.coral.value.json.numbers.TruncatingBigNumber',
};

/**
 * API Gateway answers a true/false or a number where a string belongs as its deserializer does,
 * SerializationException; any other member of the wrong type, as every invalid input, BadRequestException.
 */
const read = memberReader((member, expected, value) => {
  const javaClass = JAVA_CLASS[typeof value];
  if (javaClass && /string/.test(expected)) {
    return new PlatformError('SerializationException', `class ${javaClass} can not be converted to an String`);
  }
  return new PlatformError('BadRequestException', `Invalid request body: member ${member} must be ${expected}.`);
});
const { string: optString, number: optNumber, boolean: optBoolean, object: optObject, stringList: optStringList } = read;
const optStringMap = read.stringMap;

/** PatchOperation's `op` values, in the order AWS lists them. */
const PATCH_OPS = ['add', 'remove', 'move', 'test', 'replace', 'copy'];

const restApiShape = ({ resources: _resources, ...api }: RestApiDoc) => api;
const deploymentShape = ({ resources: _r, restApiId: _a, ...d }: DeploymentDoc) => d;
const stageShape = ({ restApiId: _a, ...s }: StageDoc) => s;
const resourceShape = (r: ResourceDoc) => r;

/** The API Gateway control plane's rest-json operation table. */
export function apiGatewayApi({ restApis, dataPlane, logger }: ApiGatewayDeps): ServiceHandler {
  const body = (req: ApiRequest) => parseJsonBody(req, (m) => new PlatformError('BadRequestException', `Invalid request body: ${m}`));
  /** The patch operations of `operation` (UpdateStage, ...): an op outside the model's enum is a member violation. */
  const patchOps = (req: ApiRequest, operation: string): PatchOperation[] => {
    const ops = read.objectList(body(req), 'patchOperations') ?? [];
    const v = new Violations();
    ops.forEach((op, i) => {
      const name = optString(op, 'op');
      if (name !== undefined && !PATCH_OPS.includes(name)) {
        v.add(
          name,
          `${operation[0]!.toLowerCase()}${operation.slice(1)}Input.patchOperations.${i + 1}.member.op`,
          `Member must satisfy enum value set: [${PATCH_OPS.join(', ')}]`,
        );
      }
    });
    v.throwIfAny();
    return ops.map((op) => {
      const patch = {
        op: optString(op, 'op') ?? '',
        path: optString(op, 'path') ?? '',
        value: optString(op, 'value'),
        from: optString(op, 'from'),
      };
      // A patch path names keys of stored maps (`/variables/{name}`): none may reach a prototype.
      for (const pointer of [patch.path, patch.from ?? '']) {
        if (pointer.split('/').some((part) => isPrototypeKey(part.replace(/~1/g, '/').replace(/~0/g, '~')))) {
          throw new PlatformError('BadRequestException', `Invalid patch path ${pointer}`);
        }
      }
      return patch;
    });
  };
  const R = '/restapis/{id}/resources/{rid}/methods/{m}';
  const route = (method: string, pattern: string, operation: string, handle: Route['handle']): Route => ({
    method,
    pattern,
    operation,
    handle,
  });
  const p = (params: Record<string, string>, k: string) => params[k] ?? '';

  const routes: Route[] = [
    route('POST', '/restapis', 'CreateRestApi', async (req) => {
      const b = body(req);
      const api = await restApis.createRestApi({
        name: optString(b, 'name'),
        description: optString(b, 'description'),
        version: optString(b, 'version'),
        binaryMediaTypes: optStringList(b, 'binaryMediaTypes'),
        endpointTypes: optStringList(optObject(b, 'endpointConfiguration') ?? {}, 'types'),
        ipAddressType: optString(optObject(b, 'endpointConfiguration') ?? {}, 'ipAddressType'),
        tags: optStringMap(b, 'tags'),
        disableExecuteApiEndpoint: optBoolean(b, 'disableExecuteApiEndpoint'),
      });
      return jsonResponse(201, restApiShape(api));
    }),
    route('GET', '/restapis', 'GetRestApis', async () => jsonResponse(200, { item: (await restApis.listRestApis()).map(restApiShape) })),
    route('GET', '/restapis/{id}', 'GetRestApi', async (_req, params) =>
      jsonResponse(200, restApiShape(await restApis.getRestApi(p(params, 'id')))),
    ),
    route('PATCH', '/restapis/{id}', 'UpdateRestApi', async (req, params) =>
      jsonResponse(200, restApiShape(await restApis.updateRestApi(p(params, 'id'), patchOps(req, 'UpdateRestApi')))),
    ),
    route('DELETE', '/restapis/{id}', 'DeleteRestApi', async (_req, params) => {
      await restApis.deleteRestApi(p(params, 'id'));
      return emptyResponse(202);
    }),

    route('GET', '/restapis/{id}/resources', 'GetResources', async (_req, params) => {
      const api = await restApis.getRestApi(p(params, 'id'));
      return jsonResponse(200, { item: Object.values(api.resources).map(resourceShape) });
    }),
    route('GET', '/restapis/{id}/resources/{rid}', 'GetResource', async (_req, params) =>
      jsonResponse(200, resourceShape(await restApis.getResource(p(params, 'id'), p(params, 'rid')))),
    ),
    route('POST', '/restapis/{id}/resources/{rid}', 'CreateResource', async (req, params) =>
      jsonResponse(201, resourceShape(await restApis.createResource(p(params, 'id'), p(params, 'rid'), optString(body(req), 'pathPart')))),
    ),
    route('DELETE', '/restapis/{id}/resources/{rid}', 'DeleteResource', async (_req, params) => {
      await restApis.deleteResource(p(params, 'id'), p(params, 'rid'));
      return emptyResponse(202);
    }),

    route('PUT', R, 'PutMethod', async (req, params) => {
      const b = body(req);
      const method = await restApis.putMethod(p(params, 'id'), p(params, 'rid'), p(params, 'm'), {
        authorizationType: optString(b, 'authorizationType'),
        authorizerId: optString(b, 'authorizerId'),
        apiKeyRequired: optBoolean(b, 'apiKeyRequired'),
        operationName: optString(b, 'operationName'),
        requestParameters: read.booleanMap(b, 'requestParameters'),
      });
      return jsonResponse(201, method);
    }),
    route('GET', R, 'GetMethod', async (_req, params) =>
      jsonResponse(200, await restApis.getMethod(p(params, 'id'), p(params, 'rid'), p(params, 'm'))),
    ),
    route('DELETE', R, 'DeleteMethod', async (_req, params) => {
      await restApis.deleteMethod(p(params, 'id'), p(params, 'rid'), p(params, 'm'));
      return emptyResponse(204);
    }),
    route('POST', R, 'TestInvokeMethod', async (req, params) => {
      const b = body(req);
      const id = p(params, 'id');
      const resource = await restApis.getResource(id, p(params, 'rid'));
      await restApis.getMethod(id, resource.id, p(params, 'm'));
      const pathWithQuery = optString(b, 'pathWithQueryString') ?? resource.path;
      const q = pathWithQuery.indexOf('?');
      const headers = Object.fromEntries(Object.entries(optStringMap(b, 'headers') ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      const out = await dataPlane.testInvoke(id, resource, {
        method: p(params, 'm'),
        path: q >= 0 ? pathWithQuery.slice(0, q) : pathWithQuery,
        query: new URLSearchParams(q >= 0 ? pathWithQuery.slice(q + 1) : ''),
        headers,
        body: Buffer.from(optString(b, 'body') ?? ''),
        sourceIp: 'test-invoke-source-ip',
        region: req.region,
        stageVariables: optStringMap(b, 'stageVariables') ?? {},
      });
      const text = typeof out.body === 'string' ? out.body : out.body.toString('utf8');
      return jsonResponse(200, {
        status: out.status,
        body: text,
        headers: out.headers,
        multiValueHeaders: Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k, [v]])),
        log: `Execution log for request test-request\nMethod completed with status: ${out.status}\n`,
        latency: Math.round(out.latencyMs),
      });
    }),

    route('PUT', `${R}/integration`, 'PutIntegration', async (req, params) => {
      const b = body(req);
      const integration = await restApis.putIntegration(p(params, 'id'), p(params, 'rid'), p(params, 'm'), {
        type: optString(b, 'type'),
        httpMethod: optString(b, 'httpMethod') ?? optString(b, 'integrationHttpMethod'),
        uri: optString(b, 'uri'),
        requestTemplates: read.nullableStringMap(b, 'requestTemplates'),
        requestParameters: optStringMap(b, 'requestParameters'),
        passthroughBehavior: optString(b, 'passthroughBehavior'),
        timeoutInMillis: optNumber(b, 'timeoutInMillis'),
        cacheNamespace: optString(b, 'cacheNamespace'),
        cacheKeyParameters: optStringList(b, 'cacheKeyParameters'),
        contentHandling: optString(b, 'contentHandling'),
      });
      return jsonResponse(201, integration);
    }),
    route('PATCH', `${R}/integration`, 'UpdateIntegration', async (req, params) =>
      jsonResponse(
        200,
        await restApis.updateIntegration(p(params, 'id'), p(params, 'rid'), p(params, 'm'), patchOps(req, 'UpdateIntegration')),
      ),
    ),
    route('GET', `${R}/integration`, 'GetIntegration', async (_req, params) =>
      jsonResponse(200, await restApis.getIntegration(p(params, 'id'), p(params, 'rid'), p(params, 'm'))),
    ),
    route('DELETE', `${R}/integration`, 'DeleteIntegration', async (_req, params) => {
      await restApis.deleteIntegration(p(params, 'id'), p(params, 'rid'), p(params, 'm'));
      return emptyResponse(204);
    }),

    route('PUT', `${R}/responses/{code}`, 'PutMethodResponse', async (req, params) => {
      const b = body(req);
      const response = await restApis.putMethodResponse(p(params, 'id'), p(params, 'rid'), p(params, 'm'), p(params, 'code'), {
        ...(read.booleanMap(b, 'responseParameters') && { responseParameters: read.booleanMap(b, 'responseParameters') }),
        ...(optStringMap(b, 'responseModels') && { responseModels: optStringMap(b, 'responseModels') }),
      });
      return jsonResponse(201, response);
    }),
    route('GET', `${R}/responses/{code}`, 'GetMethodResponse', async (_req, params) =>
      jsonResponse(200, await restApis.getMethodResponse(p(params, 'id'), p(params, 'rid'), p(params, 'm'), p(params, 'code'))),
    ),
    route('DELETE', `${R}/responses/{code}`, 'DeleteMethodResponse', async (_req, params) => {
      await restApis.deleteMethodResponse(p(params, 'id'), p(params, 'rid'), p(params, 'm'), p(params, 'code'));
      return emptyResponse(204);
    }),

    route('PUT', `${R}/integration/responses/{code}`, 'PutIntegrationResponse', async (req, params) => {
      const b = body(req);
      const response = await restApis.putIntegrationResponse(p(params, 'id'), p(params, 'rid'), p(params, 'm'), p(params, 'code'), {
        ...(optString(b, 'selectionPattern') !== undefined && { selectionPattern: optString(b, 'selectionPattern') }),
        ...(read.nullableStringMap(b, 'responseTemplates') && { responseTemplates: read.nullableStringMap(b, 'responseTemplates') }),
        ...(optStringMap(b, 'responseParameters') && { responseParameters: optStringMap(b, 'responseParameters') }),
        ...(optString(b, 'contentHandling') && { contentHandling: optString(b, 'contentHandling') }),
      });
      return jsonResponse(201, response);
    }),
    route('GET', `${R}/integration/responses/{code}`, 'GetIntegrationResponse', async (_req, params) =>
      jsonResponse(200, await restApis.getIntegrationResponse(p(params, 'id'), p(params, 'rid'), p(params, 'm'), p(params, 'code'))),
    ),
    route('DELETE', `${R}/integration/responses/{code}`, 'DeleteIntegrationResponse', async (_req, params) => {
      await restApis.deleteIntegrationResponse(p(params, 'id'), p(params, 'rid'), p(params, 'm'), p(params, 'code'));
      return emptyResponse(204);
    }),

    route('POST', '/restapis/{id}/deployments', 'CreateDeployment', async (req, params) => {
      const b = body(req);
      const canary = optObject(b, 'canarySettings');
      const deployment = await restApis.createDeployment(p(params, 'id'), {
        stageName: optString(b, 'stageName'),
        stageDescription: optString(b, 'stageDescription'),
        description: optString(b, 'description'),
        variables: optStringMap(b, 'variables'),
        ...(canary && {
          canarySettings: {
            percentTraffic: optNumber(canary, 'percentTraffic'),
            stageVariableOverrides: optStringMap(canary, 'stageVariableOverrides'),
            useStageCache: optBoolean(canary, 'useStageCache'),
          },
        }),
      });
      return jsonResponse(201, deploymentShape(deployment));
    }),
    route('GET', '/restapis/{id}/deployments', 'GetDeployments', async (_req, params) =>
      jsonResponse(200, { item: (await restApis.listDeployments(p(params, 'id'))).map(deploymentShape) }),
    ),
    route('GET', '/restapis/{id}/deployments/{did}', 'GetDeployment', async (_req, params) =>
      jsonResponse(200, deploymentShape(await restApis.getDeployment(p(params, 'id'), p(params, 'did')))),
    ),
    route('DELETE', '/restapis/{id}/deployments/{did}', 'DeleteDeployment', async (_req, params) => {
      await restApis.deleteDeployment(p(params, 'id'), p(params, 'did'));
      return emptyResponse(202);
    }),

    route('POST', '/restapis/{id}/stages', 'CreateStage', async (req, params) => {
      const b = body(req);
      const canary = optObject(b, 'canarySettings');
      const stage = await restApis.createStage(p(params, 'id'), {
        stageName: optString(b, 'stageName'),
        deploymentId: optString(b, 'deploymentId'),
        description: optString(b, 'description'),
        variables: optStringMap(b, 'variables'),
        tracingEnabled: optBoolean(b, 'tracingEnabled'),
        tags: optStringMap(b, 'tags'),
        ...(canary && {
          canarySettings: {
            deploymentId: optString(canary, 'deploymentId'),
            percentTraffic: optNumber(canary, 'percentTraffic'),
            stageVariableOverrides: optStringMap(canary, 'stageVariableOverrides'),
            useStageCache: optBoolean(canary, 'useStageCache'),
          },
        }),
      });
      return jsonResponse(201, stageShape(stage));
    }),
    route('GET', '/restapis/{id}/stages', 'GetStages', async (_req, params) =>
      jsonResponse(200, { item: (await restApis.listStages(p(params, 'id'))).map(stageShape) }),
    ),
    route('GET', '/restapis/{id}/stages/{name}', 'GetStage', async (_req, params) =>
      jsonResponse(200, stageShape(await restApis.getStage(p(params, 'id'), p(params, 'name')))),
    ),
    route('PATCH', '/restapis/{id}/stages/{name}', 'UpdateStage', async (req, params) =>
      jsonResponse(200, stageShape(await restApis.updateStage(p(params, 'id'), p(params, 'name'), patchOps(req, 'UpdateStage')))),
    ),
    route('DELETE', '/restapis/{id}/stages/{name}', 'DeleteStage', async (_req, params) => {
      await restApis.deleteStage(p(params, 'id'), p(params, 'name'));
      return emptyResponse(202);
    }),

    route('GET', '/tags/{arn}', 'GetTags', async (_req, params) => jsonResponse(200, { tags: await restApis.getTags(p(params, 'arn')) })),
    route('PUT', '/tags/{arn}', 'TagResource', async (req, params) => {
      const tags = optStringMap(body(req), 'tags');
      if (tags === undefined) throw new PlatformError('BadRequestException', 'Invalid request body: tags are required.');
      await restApis.changeTags(p(params, 'arn'), tags);
      return emptyResponse(204);
    }),
    route('DELETE', '/tags/{arn}', 'UntagResource', async (req, params) => {
      const keys = req.query.getAll('tagKeys');
      if (keys.length === 0) throw new PlatformError('BadRequestException', 'tagKeys are required.');
      await restApis.changeTags(p(params, 'arn'), {}, keys);
      return emptyResponse(204);
    }),
  ];

  return routeTable(
    routes,
    apiGatewayError,
    logger,
    (req) => {
      return new PlatformError('NotFoundException', `Versa does not implement the API Gateway operation at ${req.method} ${req.path}.`);
    },
    functionScope('apigateway'),
  );
}
