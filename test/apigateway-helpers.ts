/** Helpers shared by the apigateway-*.test.ts files: an API Gateway client, error checks, stage requests and API builders. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import {
  APIGatewayClient,
  CreateResourceCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  type PutIntegrationCommandInput,
  type PutIntegrationResponseCommandInput,
} from '@aws-sdk/client-api-gateway';
import { errorOf } from './harness.js';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';

export function apiGatewayClientFor(endpoint: string, region = REGION): APIGatewayClient {
  return new APIGatewayClient({ endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** The integration URI that invokes a Lambda function (`fn` may carry `:alias` or `:${stageVariables.x}`). */
export const lambdaUri = (fn: string) =>
  `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn}/invocations`;

/** Asserts that `call` fails with the API Gateway error `name`, HTTP `status` and (if given) exactly `message`. */
export async function expectError(call: () => Promise<unknown>, name: string, status: number, message?: string | RegExp): Promise<void> {
  const err = await errorOf(call);
  assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
  assert.equal(err.$metadata?.httpStatusCode, status);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
}

/** What the SDK returns minus `$metadata`, for comparing a resource before and after a refused change. */
export function shapeOf<T extends { $metadata?: unknown }>(out: T): Omit<T, '$metadata'> {
  const rest = { ...out };
  delete rest.$metadata;
  return rest;
}

export interface StageAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** The legacy stage URL of a REST API: `/restapis/{id}/{stage}/_user_request_/{path}`. */
export const stageUrl = (base: string, apiId: string, stage: string, path = '/') =>
  `${base}/restapis/${apiId}/${stage}/_user_request_${path.startsWith('/') ? path : `/${path}`}`;

/** One request to a stage URL with fetch. */
export async function call(url: string, init: RequestInit = {}): Promise<StageAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A GET with an explicit Host header, through node:http (fetch does not let a caller set Host). */
export function getWithHost(url: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Creates a REST API and returns its id and root resource id. */
export async function createApi(apigw: APIGatewayClient, name: string): Promise<{ id: string; rootId: string }> {
  const api = await apigw.send(new CreateRestApiCommand({ name }));
  const resources = await apigw.send(new GetResourcesCommand({ restApiId: api.id }));
  const root = resources.items?.find((r) => r.path === '/');
  assert.ok(api.id && root?.id);
  return { id: api.id, rootId: root.id };
}

/** Creates the resources of `path` (e.g. `/pets/{id}`) under the root, reusing those that exist, and returns the last one's id. */
export async function resourceAt(apigw: APIGatewayClient, restApiId: string, path: string): Promise<string> {
  const items = (await apigw.send(new GetResourcesCommand({ restApiId }))).items ?? [];
  const byPath = new Map(items.map((r) => [r.path!, r.id!]));
  let current = '/';
  for (const part of path.split('/').filter(Boolean)) {
    const next = current === '/' ? `/${part}` : `${current}/${part}`;
    if (!byPath.has(next)) {
      const created = await apigw.send(new CreateResourceCommand({ restApiId, parentId: byPath.get(current)!, pathPart: part }));
      byPath.set(next, created.id!);
    }
    current = next;
  }
  return byPath.get(current)!;
}

export interface MethodSpec {
  integration: Omit<PutIntegrationCommandInput, 'restApiId' | 'resourceId' | 'httpMethod'>;
  /** Method + integration responses to add (status code → integration response fields). */
  responses?: Record<string, Omit<PutIntegrationResponseCommandInput, 'restApiId' | 'resourceId' | 'httpMethod' | 'statusCode'>>;
}

/** PutMethod (authorization NONE) + PutIntegration + a method and integration response per entry of `responses`. */
export async function putMethod(apigw: APIGatewayClient, restApiId: string, resourceId: string, httpMethod: string, spec: MethodSpec) {
  await apigw.send(new PutMethodCommand({ restApiId, resourceId, httpMethod, authorizationType: 'NONE' }));
  await apigw.send(new PutIntegrationCommand({ restApiId, resourceId, httpMethod, ...spec.integration }));
  for (const [statusCode, response] of Object.entries(spec.responses ?? {})) {
    await apigw.send(new PutMethodResponseCommand({ restApiId, resourceId, httpMethod, statusCode }));
    await apigw.send(new PutIntegrationResponseCommand({ restApiId, resourceId, httpMethod, statusCode, ...response }));
  }
}

/** A Lambda proxy integration to `fn`. */
export const proxyTo = (fn: string, extra: Partial<MethodSpec['integration']> = {}): MethodSpec => ({
  integration: { type: 'AWS_PROXY', integrationHttpMethod: 'POST', uri: lambdaUri(fn), ...extra },
});

/** A non-proxy Lambda integration to `fn` with a default 200 response. */
export const lambdaTo = (fn: string, extra: Partial<MethodSpec['integration']> = {}): MethodSpec => ({
  integration: { type: 'AWS', integrationHttpMethod: 'POST', uri: lambdaUri(fn), ...extra },
  responses: { '200': { selectionPattern: '' } },
});
