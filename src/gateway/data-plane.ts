import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { uuid } from '../core/ids.js';
import { isLiteralPattern, linearCost, PatternProblem, wholeMatch } from '../core/linear-regexp.js';
import { own } from '../core/own.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import { ACCOUNT_ID, parseFunctionRef, type FunctionRef } from '../domain/arn.js';
import {
  isCanaryRequest,
  isRestApiId,
  isStageName,
  methodSettingOf,
  type IntegrationDoc,
  type IntegrationResponseDoc,
  type ResourceDoc,
  type StageDoc,
} from '../domain/rest-api.js';
import type { InvocationService } from '../invoke/invocation-service.js';
import type { Store } from '../store/store.js';
import { RouteTable } from './route-table.js';
import { mockStatusCode } from './mock-status.js';
import { jsonShape, renderMapping, renderTemplate, type TemplateContext } from './templates.js';
import { StageThrottle } from './throttle.js';

export interface GatewayRequest {
  method: string;
  /** The resource path after the stage, percent-encoded as received (`/pets/1`). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  region: string;
}

export interface GatewayResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string;
}

/** What one request through a stage did; the metrics work publishes `AWS/ApiGateway` from these. */
export interface GatewayRequestRecord {
  restApiId: string;
  apiName: string;
  stage: string;
  canary: boolean;
  resourcePath: string | undefined;
  httpMethod: string;
  status: number;
  latencyMs: number;
  integrationLatencyMs: number | undefined;
  timestamp: number;
}

interface Served {
  stage: StageDoc;
  /** The API's binary media types: a request body of one of them reaches a proxy integration in base64. */
  binaryMediaTypes: readonly string[];
  routes: RouteTable;
  variables: Record<string, string>;
  canary: boolean;
}

const INTERNAL_ERROR = { message: 'Internal server error' };
/** Why a MOCK integration answered 500, in the words of API Gateway's execution log. */
const MOCK_NO_STATUS =
  'Execution failed due to configuration error: Unable to parse statusCode. It should be an integer that is defined in the request template.';

/**
 * The API Gateway data plane: a request to `/{stage}/{path}` → the stage (or its canary, by share) →
 * the deployment's compiled route table → the method's integration → the mapped answer. Stages and
 * route tables are cached in memory; the control plane invalidates stages on every change, and
 * deployments never change.
 */
/** API Gateway's limit on a request payload: 10 MiB. */
export const MAX_GATEWAY_PAYLOAD_BYTES = 10_485_760;

/** API Gateway's own answer to a body past MAX_GATEWAY_PAYLOAD_BYTES, in plain text, before any stage or integration is looked at. */
export function payloadTooLarge(): GatewayResponse {
  return {
    status: 413,
    headers: { 'content-type': 'text/plain' },
    body: `HTTP content length exceeded ${MAX_GATEWAY_PAYLOAD_BYTES} bytes.`,
  };
}

export class GatewayDataPlane {
  /**
   * Stages found, by `apiId/stageName`. Misses are not kept: both parts come from the URL, and a map of
   * every name a caller made up grew without bound (15 KB a request, never released).
   */
  private readonly stages = new Map<string, StageDoc>();
  /** API names by id, for the `ApiName` metric dimension; dropped with the API's stages. */
  private readonly apiNames = new Map<string, string>();
  /** The binary media types of each API whose stages are cached; dropped with them. */
  private readonly binaryMediaTypes = new Map<string, readonly string[]>();
  private readonly routeTables = new Map<string, Promise<RouteTable | undefined>>();
  private readonly generation = new Map<string, number>();
  private readonly listeners: ((record: GatewayRequestRecord) => void)[] = [];
  /** When each API's failed integration (a template that cannot be made, ...) was last logged: at most once a second each. */
  private readonly failureLoggedAt = new Map<string, number>();
  /** HTTP integration exchanges under way (maxHttpInFlight). */
  private httpInFlight = 0;

  constructor(
    private readonly store: Store,
    private readonly invocations: InvocationService,
    private readonly random: Random,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /**
     * HTTP integration exchanges under way at once, all stages together: each holds two descriptors (the
     * caller's connection and the backend's) for as long as the backend takes, and a connection being
     * answered is never one the server sheds, so a slow backend's callers could otherwise hold them all.
     */
    private readonly maxHttpInFlight = 1024,
    private readonly throttle = new StageThrottle(),
  ) {}

  /** Whether the stage's throttle (its method settings, if it has any) lets one more request of this method through. */
  private admitted(restApiId: string, stage: StageDoc, resourcePath: string, httpMethod: string): boolean {
    if (Object.keys(stage.methodSettings).length === 0) return true;
    const setting = methodSettingOf(stage, resourcePath, httpMethod);
    if (!setting) return true;
    const key = `${restApiId}/${stage.stageName}/${setting === stage.methodSettings['*/*'] ? '*/*' : `${resourcePath}/${httpMethod}`}`;
    return this.throttle.admit(key, setting.throttlingRateLimit, setting.throttlingBurstLimit);
  }

  onRequest(listener: (record: GatewayRequestRecord) => void): void {
    this.listeners.push(listener);
  }

  /** How many stages are cached (each one that exists and was asked for since its API last changed). */
  get cachedStages(): number {
    return this.stages.size;
  }

  /** Drops what is cached about an API's stages after a control-plane change. */
  invalidate(restApiId: string): void {
    this.generation.set(restApiId, (this.generation.get(restApiId) ?? 0) + 1);
    for (const key of this.stages.keys()) if (key.startsWith(`${restApiId}/`)) this.stages.delete(key);
    this.apiNames.delete(restApiId);
    this.binaryMediaTypes.delete(restApiId);
    this.throttle.forget(`${restApiId}/`);
  }

  /** Drops what is cached about every API (another node's changes may have gone unheard). */
  invalidateAll(): void {
    for (const id of new Set([...this.apiNames.keys(), ...[...this.stages.keys()].map((k) => k.slice(0, k.indexOf('/')))])) {
      this.invalidate(id);
    }
  }

  async handle(restApiId: string, stageName: string, req: GatewayRequest): Promise<GatewayResponse> {
    if (req.body.byteLength > MAX_GATEWAY_PAYLOAD_BYTES) return payloadTooLarge();
    const started = performance.now();
    const stage = await this.stage(restApiId, stageName);
    if (!stage) return gatewayError(403, 'ForbiddenException', 'Forbidden');
    const canary = isCanaryRequest(stage, this.random);
    const deploymentId = canary ? stage.canarySettings!.deploymentId : stage.deploymentId;
    const routes = await this.routeTable(restApiId, deploymentId);
    if (!routes) return gatewayError(500, 'InternalServerErrorException', INTERNAL_ERROR.message);
    const variables = canary ? { ...stage.variables, ...stage.canarySettings?.stageVariableOverrides } : { ...stage.variables };
    const served: Served = { stage, binaryMediaTypes: this.binaryMediaTypes.get(restApiId) ?? [], routes, variables, canary };
    const { response, resourcePath, integrationLatencyMs } = await this.serve(restApiId, served, req);
    const record: GatewayRequestRecord = {
      restApiId,
      apiName: this.apiNames.get(restApiId) ?? restApiId,
      stage: stageName,
      canary,
      resourcePath,
      httpMethod: req.method,
      status: response.status,
      latencyMs: performance.now() - started,
      integrationLatencyMs,
      timestamp: this.clock.now(),
    };
    for (const l of this.listeners) l(record);
    return withoutHopHeaders(response);
  }

  /** TestInvokeMethod: runs one method of the API as it is now (undeployed), with given stage variables. */
  async testInvoke(
    restApiId: string,
    resource: ResourceDoc,
    req: GatewayRequest & { stageVariables: Record<string, string> },
  ): Promise<GatewayResponse & { latencyMs: number }> {
    const started = performance.now();
    const only = new RouteTable([resource]);
    // A test path that does not fit the resource (or none) runs the resource with its literal path.
    const path = only.match(req.method, req.path) ? req.path : resource.path;
    const stage: StageDoc = {
      restApiId,
      stageName: 'test-invoke-stage',
      deploymentId: 'test-invoke-deployment',
      methodSettings: {},
      tracingEnabled: false,
      cacheClusterEnabled: false,
      cacheClusterStatus: 'NOT_AVAILABLE',
      createdDate: 0,
      lastUpdatedDate: 0,
    };
    const { response } = await this.serve(
      restApiId,
      {
        stage,
        binaryMediaTypes: (await this.store.restApis.get(restApiId))?.binaryMediaTypes ?? [],
        routes: only,
        variables: req.stageVariables,
        canary: false,
      },
      { ...req, path },
    );
    return { ...response, latencyMs: performance.now() - started };
  }

  private async serve(
    restApiId: string,
    served: Served,
    req: GatewayRequest,
  ): Promise<{ response: GatewayResponse; resourcePath: string | undefined; integrationLatencyMs: number | undefined }> {
    const match = served.routes.match(req.method, req.path);
    if (!match) {
      return {
        response: gatewayError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'),
        resourcePath: undefined,
        integrationLatencyMs: undefined,
      };
    }
    if (!this.admitted(restApiId, served.stage, match.resource.path, match.method.httpMethod)) {
      return {
        response: gatewayError(429, 'TooManyRequestsException', 'Too Many Requests'),
        resourcePath: match.resource.path,
        integrationLatencyMs: undefined,
      };
    }
    const integration = match.method.methodIntegration;
    if (!integration)
      return {
        response: gatewayError(500, 'InternalServerErrorException', INTERNAL_ERROR.message),
        resourcePath: match.resource.path,
        integrationLatencyMs: undefined,
      };
    const requestId = uuid();
    const context: Record<string, string | boolean | number> = {
      requestId,
      extendedRequestId: requestId,
      apiId: restApiId,
      stage: served.stage.stageName,
      resourceId: match.resource.id,
      resourcePath: match.resource.path,
      httpMethod: req.method,
      path: `/${served.stage.stageName}${req.path}`,
      accountId: ACCOUNT_ID,
      isCanaryRequest: served.canary,
      requestTimeEpoch: this.clock.now(),
      protocol: 'HTTP/1.1',
      'identity.sourceIp': req.sourceIp,
      // `$context.identity.userAgent`, as the console's passthrough template reads it.
      ...(typeof req.headers['user-agent'] === 'string' && { 'identity.userAgent': req.headers['user-agent'] }),
    };
    const started = performance.now();
    try {
      const response = await this.integrate(integration, req, match.resource, match.pathParameters, served, context);
      return { response, resourcePath: match.resource.path, integrationLatencyMs: performance.now() - started };
    } catch (err) {
      if (err instanceof IntegrationTimeout) {
        return {
          response: gatewayError(504, 'IntegrationTimeoutException', 'Endpoint request timed out'),
          resourcePath: match.resource.path,
          integrationLatencyMs: performance.now() - started,
        };
      }
      if (!(err instanceof PlatformError)) this.logger.error('integration failed', { restApiId, err });
      else this.integrationFailed(restApiId, served.stage.stageName, `${req.method} ${match.resource.path}`, err);
      return {
        response: gatewayError(500, 'InternalServerErrorException', INTERNAL_ERROR.message),
        resourcePath: match.resource.path,
        integrationLatencyMs: performance.now() - started,
      };
    }
  }

  /**
   * Says why an integration answered 500 (a mapping template that cannot be parsed or passes a bound, a
   * function that cannot be invoked): the caller sees only "Internal server error", as on API Gateway, and
   * the API's author needs the reason. At most once a second per API, as a public caller can repeat it.
   */
  private integrationFailed(restApiId: string, stage: string, route: string, err: PlatformError): void {
    const now = Date.now();
    if (now - (this.failureLoggedAt.get(restApiId) ?? -Infinity) < 1000) return;
    if (this.failureLoggedAt.size >= 10_000) this.failureLoggedAt.clear();
    this.failureLoggedAt.set(restApiId, now);
    this.logger.warn('integration failed: the caller was answered 500 Internal server error', {
      restApiId,
      stage,
      route,
      reason: err.message,
    });
  }

  private async integrate(
    integration: IntegrationDoc,
    req: GatewayRequest,
    resource: ResourceDoc,
    pathParameters: Record<string, string>,
    served: Served,
    context: Record<string, string | boolean | number>,
  ): Promise<GatewayResponse> {
    const headers = singleHeaders(req.headers);
    const query = Object.fromEntries(req.query);
    const templateContext = (body: string): TemplateContext => ({
      body,
      params: { path: pathParameters, querystring: query, header: headers },
      context,
      stageVariables: served.variables,
    });
    switch (integration.type) {
      case 'AWS_PROXY': {
        const event = proxyEvent(req, resource, pathParameters, served, context, headers);
        const result = await this.invokeLambda(integration, served.variables, req.region, Buffer.from(JSON.stringify(event)));
        if (result.functionError) return gatewayError(502, 'InternalServerErrorException', INTERNAL_ERROR.message);
        return proxyResponse(result.payload) ?? gatewayError(502, 'InternalServerErrorException', INTERNAL_ERROR.message);
      }
      case 'AWS': {
        const payload = mapRequest(integration, templateContext(req.body.toString('utf8')));
        if (payload === undefined) return gatewayError(415, 'UnsupportedMediaTypeException', 'Unsupported Media Type');
        const result = await this.invokeLambda(integration, served.variables, req.region, Buffer.from(payload));
        const body = result.payload.toString('utf8');
        const errorMessage = result.functionError ? errorMessageOf(body) : undefined;
        const chosen = selectResponse(integration, errorMessage);
        if (!chosen) return gatewayError(500, 'InternalServerErrorException', INTERNAL_ERROR.message);
        return mapResponse(chosen, body, templateContext(body));
      }
      case 'MOCK': {
        const ctx = templateContext(req.body.toString('utf8'));
        const template = requestTemplate(integration, ctx);
        // Without a template the default response answers, as API Gateway documents: the caller's body is not read.
        const status = template === undefined ? undefined : mockStatusCode(renderTemplate(template, ctx));
        if (template !== undefined && status === undefined) throw new PlatformError('SerializationException', MOCK_NO_STATUS);
        const chosen = selectResponse(integration, status);
        if (!chosen) return gatewayError(500, 'InternalServerErrorException', INTERNAL_ERROR.message);
        return mapResponse(chosen, '', templateContext(''));
      }
      case 'HTTP':
      case 'HTTP_PROXY':
        return this.forwardHttp(integration, req, pathParameters, served.variables, /\{([^}]+)\+\}/.exec(resource.path)?.[1]);
    }
  }

  private async invokeLambda(integration: IntegrationDoc, variables: Record<string, string>, region: string, payload: Buffer) {
    const ref = functionOf(substituteStageVariables(integration.uri ?? '', variables));
    return withTimeout(
      this.invocations.invoke({ region }, { functionName: ref.name, qualifier: ref.qualifier, payload }),
      integration.timeoutInMillis,
    );
  }

  private async forwardHttp(
    integration: IntegrationDoc,
    req: GatewayRequest,
    pathParameters: Record<string, string>,
    variables: Record<string, string>,
    /** The resource's greedy path parameter (`{proxy+}`), whose value is a path of its own. */
    greedyName: string | undefined,
  ): Promise<GatewayResponse> {
    let dotSegment = false;
    let url = substituteStageVariables(integration.uri ?? '', variables).replace(/\{([^}]+?)\+?\}/g, (_, name: string) => {
      // A value is the caller's: it fills its place in the path and no more. Each segment is escaped, so no
      // `/`, `?` or `#` of its own becomes the URL's; a greedy one's slashes stay. A `.` or `..` segment
      // the URL would resolve, climbing out of the path the integration names: such a request is refused.
      const value = own(pathParameters, name) ?? '';
      const segments = name === greedyName ? value.split('/') : [value];
      if (segments.some((s) => s === '.' || s === '..')) dotSegment = true;
      return segments.map(encodeURIComponent).join('/');
    });
    if (dotSegment) return gatewayError(400, 'BadRequestException', 'A path parameter may not be "." or "..".');
    const search = req.query.toString();
    if (search) url += (url.includes('?') ? '&' : '?') + search;
    // Whatever a caller sends only makes the count larger: a negative or non-number is 0.
    const given = Number.parseInt(String(req.headers[FORWARDED_HOPS] ?? '0'), 10);
    const hops = Number.isSafeInteger(given) && given > 0 ? given : 0;
    if (hops >= MAX_FORWARDED_HOPS) {
      this.logger.warn('an HTTP integration forwarded a request in a loop', { url: url.slice(0, 200), hops });
      return gatewayError(500, 'InternalServerErrorException', INTERNAL_ERROR.message);
    }
    // Hop-by-hop headers (and those `Connection` names) are this connection's, not the backend's.
    const named = req.headers.connection?.toLowerCase().split(/\s*,\s*/) ?? [];
    const headers = Object.fromEntries(
      Object.entries(singleHeaders(req.headers)).filter(([k]) => !NOT_FORWARDED.has(k) && !named.includes(k)),
    );
    // Marks the request as a stage's, whoever sent it to the stage: should the URL be Versa's own, the
    // request reaches it as an outsider's (never as the server's own loopback call), and a loop ends.
    headers[FORWARDED_HOPS] = String(hops + 1);
    // The caller's address is appended to those a proxy in front named, as API Gateway does.
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.sourceIp}` : req.sourceIp;
    if (this.httpInFlight >= this.maxHttpInFlight) return gatewayError(429, 'TooManyRequestsException', 'Too Many Requests');
    // The whole exchange, answer included, within the integration's timeout; past it the request is
    // abandoned, not left running (a chain of stages would otherwise go on without its caller).
    const abort = new AbortController();
    this.httpInFlight++;
    const { res, body } = await withTimeout(
      (async () => {
        const res = await fetch(url, {
          method: integration.httpMethod === 'ANY' ? req.method : (integration.httpMethod ?? req.method),
          headers,
          // API Gateway answers a redirect as it came; following it would send the caller's headers on.
          redirect: 'manual',
          signal: abort.signal,
          ...(req.method !== 'GET' && req.method !== 'HEAD' && { body: req.body }),
        });
        return { res, body: await readAtMost(res, MAX_INTEGRATION_RESPONSE_BYTES) };
      })(),
      integration.timeoutInMillis,
      () => abort.abort(),
    ).finally(() => this.httpInFlight--);
    if (body === undefined) {
      this.logger.warn('an HTTP integration answered more than API Gateway passes on', { url: url.slice(0, 200) });
      return gatewayError(502, 'InternalServerErrorException', INTERNAL_ERROR.message);
    }
    // fetch has decoded the body: its encoding is no longer the answer's (hop-by-hop headers go in handle()).
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k !== 'content-encoding') out[k] = v;
    });
    return { status: res.status, headers: out, body };
  }

  /**
   * The stage a URL names, or undefined. An id or a name that no API or stage can have is refused by
   * its shape before any lookup; a stage not found is looked up again next time, never kept.
   */
  private async stage(restApiId: string, name: string): Promise<StageDoc | undefined> {
    if (!isRestApiId(restApiId) || !isStageName(name)) return undefined;
    const key = `${restApiId}/${name}`;
    const hit = this.stages.get(key);
    if (hit !== undefined) return hit;
    const gen = this.generation.get(restApiId) ?? 0;
    const [stage, api] = await Promise.all([this.store.stages.get(restApiId, name), this.store.restApis.get(restApiId)]);
    if (stage && api && (this.generation.get(restApiId) ?? 0) === gen) {
      this.stages.set(key, stage);
      this.apiNames.set(restApiId, api.name);
      this.binaryMediaTypes.set(restApiId, api.binaryMediaTypes ?? []);
    }
    return stage;
  }

  private routeTable(restApiId: string, deploymentId: string): Promise<RouteTable | undefined> {
    const key = `${restApiId}/${deploymentId}`;
    let table = this.routeTables.get(key);
    if (!table) {
      table = this.store.deployments.get(restApiId, deploymentId).then((d) => (d ? new RouteTable(d.resources) : undefined));
      this.routeTables.set(key, table);
      table.then(
        (t) => {
          if (!t) this.routeTables.delete(key);
        },
        () => this.routeTables.delete(key),
      );
    }
    return table;
  }
}

/**
 * The header an HTTP integration adds to what it forwards: how many stages the request has passed. Versa
 * takes a request carrying it for an outsider's, whatever connection it arrives on (access/gate.ts).
 */
export const FORWARDED_HOPS = 'x-versa-forwarded-hops';
/** Request headers an HTTP integration does not forward: hop-by-hop (RFC 9110), or the gateway's own to set. */
const NOT_FORWARDED = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'expect',
  'trailer',
  FORWARDED_HOPS,
]);
/**
 * Headers of an answer that frame it or steer the connection (RFC 9110 7.6.1, RFC 9112): the server that
 * writes the answer sets them, never an integration. A function's `transfer-encoding` beside the server's
 * `content-length` would frame one answer two ways, and `upgrade` would turn a proxy's pooled connection
 * into a tunnel.
 */
const NOT_ANSWERED = new Set([
  'content-length',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Headers of an integration's answer that API Gateway's own answer carries, which it sends on as
 * `x-amzn-Remapped-<name>` (AWS's "important notes" for REST APIs): the server's `Date` (Node leaves its
 * own out when the answer has one) and `Server` stay the gateway's.
 */
const REMAPPED = new Set(['date', 'server']);

/**
 * The answer without NOT_ANSWERED headers, nor those its `connection` header names, and with REMAPPED
 * ones renamed; the same object when it has none.
 */
function withoutHopHeaders(response: GatewayResponse): GatewayResponse {
  const names = Object.keys(response.headers);
  if (!names.some((k) => NOT_ANSWERED.has(k) || REMAPPED.has(k))) return response;
  const connection = response.headers.connection ?? '';
  const named = (Array.isArray(connection) ? connection.join(',') : connection).split(',').map((n) => n.trim().toLowerCase());
  const headers = Object.create(null) as Record<string, string | string[]>;
  for (const k of names) {
    if (NOT_ANSWERED.has(k) || named.includes(k)) continue;
    headers[REMAPPED.has(k) ? `x-amzn-remapped-${k}` : k] = response.headers[k]!;
  }
  return { ...response, headers };
}

/** API Gateway's limit on an integration's answer (10 MB); past it the caller gets a 502. */
const MAX_INTEGRATION_RESPONSE_BYTES = 10 * 1024 * 1024;
/** Stages a request may pass through HTTP integrations before the next refuses it: enough for any chain, not a loop. */
const MAX_FORWARDED_HOPS = 5;

class IntegrationTimeout extends Error {}

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new IntegrationTimeout());
    }, ms);
  });
  // The abandoned work's own failure (an abort) is nobody's to report.
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A response body of at most `max` bytes; undefined (and the rest unread) when it is longer. */
async function readAtMost(res: Response, max: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    if (size > max) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks);
}

export function gatewayError(status: number, type: string, message: string): GatewayResponse {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': type }, body: JSON.stringify({ message }) };
}

function substituteStageVariables(text: string, variables: Record<string, string>): string {
  if (!text.includes('${')) return text;
  return text.replace(/\$\{stageVariables\.([a-zA-Z0-9_]+)\}/g, (_, name: string) => own(variables, name) ?? '');
}

function singleHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/**
 * What a request re-derived from what a deployment fixes, kept by its text: the function an integration
 * URI names (as its stage variables make it) and the regular expression of a selection pattern. A
 * deployment holds a handful of each; the bound only stops a flood of distinct stage variables.
 */
const MAX_DERIVED = 1024;
const functionRefs = new Map<string, FunctionRef>();
/** A pattern stored before patterns had to run in linear time, and cannot, is null: it matches nothing. */
const selectionPatterns = new Map<string, RegExp | null>();

function remember<T>(cache: Map<string, T>, key: string, derive: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = derive();
    if (cache.size >= MAX_DERIVED) cache.clear();
    cache.set(key, value);
  }
  return value;
}

/** The function a Lambda integration URI names; ResourceNotFoundException when it names none. */
function functionOf(uri: string): FunctionRef {
  return remember(functionRefs, uri, () => {
    const fnArn = /\/functions\/(.+)\/invocations$/.exec(uri)?.[1];
    if (!fnArn) throw new PlatformError('ResourceNotFoundException', `No function in integration URI ${uri}`);
    return parseFunctionRef(decodeURIComponent(fnArn));
  });
}

/** The AWS_PROXY event, payload format 1.0. */
function proxyEvent(
  req: GatewayRequest,
  resource: ResourceDoc,
  pathParameters: Record<string, string>,
  served: Served,
  context: Record<string, string | boolean | number>,
  headers: Record<string, string>,
): Record<string, unknown> {
  // Keyed by request data (`?constructor=1`, a `__proto__` header): null-prototype maps.
  const multiHeaders = Object.create(null) as Record<string, string[]>;
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) multiHeaders[k] = Array.isArray(v) ? v : [v];
  const query = Object.create(null) as Record<string, string>;
  const multiQuery = Object.create(null) as Record<string, string[]>;
  for (const [k, v] of req.query) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const hasQuery = Object.keys(query).length > 0;
  const binary = req.body.length > 0 && isBinaryMediaType(headers['content-type'], served.binaryMediaTypes);
  return {
    resource: resource.path,
    path: decodePath(req.path || '/'),
    httpMethod: req.method,
    headers,
    multiValueHeaders: multiHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : null,
    stageVariables: Object.keys(served.variables).length ? served.variables : null,
    requestContext: {
      resourceId: context.resourceId,
      resourcePath: resource.path,
      httpMethod: req.method,
      extendedRequestId: context.requestId,
      requestTime: new Date(Number(context.requestTimeEpoch)).toUTCString(),
      path: context.path,
      accountId: ACCOUNT_ID,
      protocol: 'HTTP/1.1',
      stage: served.stage.stageName,
      domainPrefix: context.apiId,
      requestTimeEpoch: context.requestTimeEpoch,
      requestId: context.requestId,
      identity: { sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? null },
      domainName: headers.host ?? null,
      apiId: context.apiId,
      isCanaryRequest: served.canary,
    },
    body: req.body.length ? (binary ? req.body.toString('base64') : req.body.toString('utf8')) : null,
    isBase64Encoded: binary,
  };
}

/**
 * Whether a request's Content-Type is one of the API's binary media types, as API Gateway decides it
 * for a proxy integration's `isBase64Encoded`: its type and subtype (parameters aside) compared without
 * regard to case, `*` standing for any type or subtype (`image/*`, `*\/*`). A body of any other type, or
 * of none, is passed as text (UTF-8), whatever its bytes, and an API without binary media types passes
 * every body as text.
 */
export function isBinaryMediaType(contentType: string | undefined, binaryMediaTypes: readonly string[]): boolean {
  const [type, subtype] = mediaType(contentType ?? '');
  if (!type || !subtype) return false;
  return binaryMediaTypes.some((candidate) => {
    const [t, st] = mediaType(candidate);
    return (t === '*' || t === type) && (st === '*' || st === subtype);
  });
}

/** The type and subtype of a media type, lower-cased, without its parameters. */
function mediaType(text: string): [string | undefined, string | undefined] {
  const [type, subtype, extra] = text.split(';', 1)[0]!.trim().toLowerCase().split('/');
  return extra === undefined ? [type?.trim(), subtype?.trim()] : [undefined, undefined];
}

const PROXY_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

/** A path as the function sees it: percent-decoded, or as received where an escape is malformed. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Whether `name: value` can be sent as an HTTP header (a token name; no CR, LF or NUL in the value). */
function isSendableHeader(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/** Most header lines, and bytes of names and values together, a proxy answer may carry; past either it is a 502. */
const MAX_ANSWER_HEADERS = 500;
const MAX_ANSWER_HEADER_BYTES = 64 * 1024;

/**
 * A proxy answer's `headers` (string values) and `multiValueHeaders` (arrays of strings), absent or null
 * as empty; undefined when either is of another shape (an array, a value that is a number, null or an
 * object: API Gateway answers those 502) or when they are too many or too large to send, counted before
 * anything is copied: a function answering 400,000 headers (5 MB, within the payload limit) held the
 * server 2 s a request.
 */
function answerHeaderGroups(
  single: unknown,
  multi: unknown,
): { single: Record<string, string>; multi: Record<string, string[]> } | undefined {
  const isGroup = (group: unknown) => group === undefined || group === null || (typeof group === 'object' && !Array.isArray(group));
  if (!isGroup(single) || !isGroup(multi)) return undefined;
  const singles = (single ?? {}) as Record<string, unknown>;
  const multis = (multi ?? {}) as Record<string, unknown>;
  let lines = 0;
  let bytes = 0;
  for (const [group, isMulti] of [
    [singles, false],
    [multis, true],
  ] as const) {
    const names = Object.keys(group);
    if (lines + names.length > MAX_ANSWER_HEADERS) return undefined;
    for (const name of names) {
      const value = group[name];
      if (isMulti && !Array.isArray(value)) return undefined;
      const values: unknown[] = isMulti ? (value as unknown[]) : [value];
      lines += values.length;
      if (lines > MAX_ANSWER_HEADERS) return undefined;
      for (const v of values) {
        if (typeof v !== 'string') return undefined;
        bytes += name.length + v.length;
      }
      if (bytes > MAX_ANSWER_HEADER_BYTES) return undefined;
    }
  }
  return { single: singles as Record<string, string>, multi: multis as Record<string, string[]> };
}

/**
 * The most a well-formed proxy answer can nest (`multiValueHeaders` → a name's list of values) and the
 * most values it can hold (the whole, its proxy keys, and at most MAX_ANSWER_HEADERS names and as many
 * lines of headers). An answer past either is malformed whatever it holds, and is found so by one scan
 * of its text, before it is parsed: a function answering 4.9 MB of 420,000 keys held the event loop
 * 0.8 s a request in JSON.parse before its shape was looked at.
 */
const MAX_ANSWER_DEPTH = 3;
const MAX_ANSWER_VALUES = 1 + PROXY_KEYS.size + 2 * MAX_ANSWER_HEADERS;
/** How deeply a Lambda error's answer may nest, and how many values it may hold, for its errorMessage to be read. */
const MAX_ERROR_DEPTH = 100;
const MAX_ERROR_VALUES = 10_000;

/**
 * `text` parsed as JSON when it nests at most `depth` levels and holds at most `values` values (counted
 * in one linear scan first); undefined when it is not JSON or past either bound.
 */
function boundedJson(text: string, depth: number, values: number): unknown {
  const shape = jsonShape(text, { depth, values });
  if (shape.depth > depth || shape.values > values) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A proxy answer's `statusCode`: an integer, or a string of one (`"200"`, as AWS's own blueprints answer). */
function answerStatus(value: unknown): number | undefined {
  if (value === undefined) return 200;
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^[0-9]{1,3}$/.test(value)) return Number(value);
  return undefined;
}

/**
 * Maps a Lambda proxy answer to the HTTP response, or undefined when it is malformed (a 502, as AWS
 * answers): not a JSON object of the proxy keys, a bad status, or a header that cannot be sent.
 */
function proxyResponse(payload: Buffer): GatewayResponse | undefined {
  const value = boundedJson(payload.toString('utf8'), MAX_ANSWER_DEPTH, MAX_ANSWER_VALUES);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const answer = value as Record<string, unknown>;
  if (Object.keys(answer).some((k) => !PROXY_KEYS.has(k))) return undefined;
  const status = answerStatus(answer.statusCode);
  // A 1xx is not an answer (the exchange goes on after it): malformed, as any status outside 200–599.
  if (status === undefined || status < 200 || status > 599) return undefined;
  // A header of `multiValueHeaders` is sent as one line per value (a Set-Cookie must never be folded into
  // one), after the value `headers` gives the same name unless it repeats it, as API Gateway merges the two.
  const groups = answerHeaderGroups(answer.headers, answer.multiValueHeaders);
  if (!groups) return undefined;
  const headers = Object.create(null) as Record<string, string | string[]>;
  for (const [k, v] of Object.entries(groups.single)) headers[k.toLowerCase()] = v;
  for (const [k, multi] of Object.entries(groups.multi)) {
    const name = k.toLowerCase();
    const values = [...[headers[name] ?? []].flat().filter((value) => !multi.includes(value)), ...multi];
    if (values.length > 0) headers[name] = values.length === 1 ? values[0]! : values;
  }
  if (answer.body !== undefined && answer.body !== null && typeof answer.body !== 'string') return undefined;
  if (Object.entries(headers).some(([k, v]) => [v].flat().some((value) => !isSendableHeader(k, value)))) return undefined;
  const text = (answer.body as string | undefined) ?? '';
  const body = answer.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text);
  headers['content-type'] ??= 'application/json';
  return { status, headers, body };
}

/** The request template for the request's content type, if the integration has one. */
function requestTemplate(integration: IntegrationDoc, ctx: TemplateContext): string | undefined {
  // Media types compare without regard to case (RFC 9110 8.3.1): `APPLICATION/JSON` picks `application/json`'s template.
  const contentType = (own(ctx.params.header, 'content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  const templates = integration.requestTemplates ?? {};
  const key = Object.keys(templates).find((k) => k.toLowerCase() === contentType);
  return (key !== undefined && templates[key]) || undefined;
}

/** The request template for the request's content type, rendered; passthrough rules when there is none. */
function mapRequest(integration: IntegrationDoc, ctx: TemplateContext): string | undefined {
  const template = requestTemplate(integration, ctx);
  if (template) return renderTemplate(template, ctx);
  const hasTemplates = Object.keys(integration.requestTemplates ?? {}).length > 0;
  if (integration.passthroughBehavior === 'NEVER' || (integration.passthroughBehavior === 'WHEN_NO_TEMPLATES' && hasTemplates))
    return undefined;
  return ctx.body || '{}';
}

/** A Lambda error's message (its answer's `errorMessage`), or the whole answer when it has none or is not JSON within bounds. */
function errorMessageOf(body: string): string {
  const parsed = boundedJson(body, MAX_ERROR_DEPTH, MAX_ERROR_VALUES);
  const message = parsed !== null && typeof parsed === 'object' ? (parsed as { errorMessage?: unknown }).errorMessage : undefined;
  return typeof message === 'string' ? message : body;
}

/**
 * Picks the integration response: the first whose selection pattern matches the whole of `subject`
 * (a Lambda error message, or a MOCK/HTTP status), else the default (no pattern). Successful Lambda
 * answers always take the default.
 */
function selectResponse(integration: IntegrationDoc, subject: string | undefined): IntegrationResponseDoc | undefined {
  const responses = Object.values(integration.integrationResponses ?? {});
  if (subject !== undefined) {
    // Each pattern has an equal share of the budget; a subject longer than its share matches is matched by its beginning.
    const share = SELECTION_BUDGET / responses.filter((r) => r.selectionPattern).length;
    for (const r of responses) {
      const pattern = r.selectionPattern;
      const re = pattern ? remember(selectionPatterns, pattern, () => linearOrNull(pattern)) : null;
      if (!pattern || !re) continue;
      const chars = Math.max(1, Math.floor(share / (isLiteralPattern(pattern) ? 1 : linearCost(pattern))));
      if (re.test(chars < subject.length ? subject.slice(0, chars) : subject)) return r;
    }
  }
  return responses.find((r) => !r.selectionPattern);
}

/**
 * What matching a request's selection patterns may cost, in linearCost's units (about 100 ns each): a
 * function's error message can be megabytes (and a caller's words), and the linear engine takes about a
 * microsecond a character.
 */
const SELECTION_BUDGET = 1_000_000;

function linearOrNull(pattern: string): RegExp | null {
  try {
    return wholeMatch(pattern, 's');
  } catch (err) {
    if (err instanceof PatternProblem) return null;
    throw err;
  }
}

function mapResponse(response: IntegrationResponseDoc, body: string, ctx: TemplateContext): GatewayResponse {
  const template = own(response.responseTemplates ?? {}, 'application/json');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [target, source] of Object.entries(response.responseParameters ?? {})) {
    const header = /^method\.response\.header\.(.+)$/.exec(target)?.[1];
    const literal = /^'(.*)'$/.exec(source)?.[1];
    // The control plane stores what it is given; a header that cannot be sent is left out.
    if (header && literal !== undefined && isSendableHeader(header, literal)) headers[header.toLowerCase()] = literal;
  }
  const status = Number(response.statusCode);
  if (!template) return { status, headers, body };
  const { text, responseOverride } = renderMapping(template, ctx);
  if (!responseOverride) return { status, headers, body: text };
  // What the template set in $context.responseOverride wins over the integration response, as on API Gateway;
  // a status that is not a final answer's (200–599) or a header that cannot be sent is left out.
  const override = responseOverride.status;
  for (const [name, value] of Object.entries(responseOverride.headers)) {
    if (isSendableHeader(name, value)) headers[name.toLowerCase()] = value;
  }
  return { status: override !== undefined && override >= 200 && override <= 599 ? override : status, headers, body: text };
}
