import type { GatewayDataPlane } from '../gateway/data-plane.js';
import type { AccessGate } from './access/gate.js';
import { accessDenied, authRefusal, unknownService, type Protocol } from './access/refusals.js';
import { header, safeDecode, type ApiHandler, type ApiRequest, type ApiResponse } from './aws/protocol/http.js';
import { jsonResponse } from './aws/protocol/rest-json.js';
import { looksLikeS3Path, s3Address } from './aws/s3/addressing.js';
import { withOwnCookies, withoutCookies } from './stage-cookies.js';

export interface Services {
  lambda: ApiHandler;
  apiGateway: ApiHandler;
  /** JSON-RPC services by their `X-Amz-Target` prefix (`Logs_20140328`, ...). */
  byTarget: ReadonlyMap<string, ApiHandler>;
  /**
   * The query protocol's services (form-encoded `Action=...`) by the service named in the signature's
   * scope (`monitoring`, `cloudformation`, `sts`, ...): their requests share one path, `POST /`.
   */
  query: ReadonlyMap<string, ApiHandler>;
  /** S3 (REST-XML), path style and `{bucket}.s3.localhost`. */
  s3: ApiHandler;
  /** Stage traffic: `/{stage}/{path}` of a REST API. */
  gateway: GatewayDataPlane;
  /** Versa's own endpoints under `/_versa/`. */
  versa: ApiHandler;
  /** Who may reach what: hosts, signatures, origins. */
  access: AccessGate;
}

const EXECUTE_API_HOST = /^([a-z0-9]+)\.execute-api\.localhost(?::\d+)?$/;
/** A subdomain of localhost: a stage's or a bucket's own origin, which serves nothing else. */
const DATA_HOST = /^[^:]+\.localhost(?::\d+)?$/i;
/**
 * On a data-plane answer served from the console's own origin (a path-style stage or S3 URL): whatever
 * page it is runs in an opaque origin of its own, and cannot use the console's session or call its APIs.
 */
const OWN_ORIGIN_SANDBOX = 'sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads';
const USER_REQUEST = /^\/restapis\/([^/]+)\/([^/]+)\/_user_request_(\/.*)?$/;
/** What any page may load: the console itself, and the health check. Everything else under `/_versa/` is guarded. */
const OPEN_VERSA = /^\/_versa(\/|\/favicon\.svg|\/assets\/[^/]+|\/health|\/auth)?$/;
/**
 * Headers that keep the console out of other sites' frames, stop content sniffing, and let its page run
 * only the scripts and styles of its own build (`/_versa/assets/`, not merely its origin: a function may
 * put bytes of its own on this origin, a presigned S3 object or a stage's answer): should a function's
 * words ever reach the page as markup, no script would run to read the signed-in key. The host is the
 * request's, already found allowed.
 */
function versaHeaders(host: string): Record<string, string> {
  const assets = `http://${host}/_versa/assets/`;
  return {
    'x-frame-options': 'DENY',
    'content-security-policy':
      `default-src 'self'; script-src ${assets}; style-src ${assets}; img-src 'self' data:; connect-src 'self'; ` +
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  };
}
/** Response headers a page on an allowed foreign origin may read (the SDKs read these). */
const EXPOSED = [
  'x-amzn-requestid',
  'x-amzn-errortype',
  'x-amz-function-error',
  'x-amz-log-result',
  'x-amz-executed-version',
  'x-amzn-remapped-content-length',
  'date',
].join(', ');

/**
 * Whether the front door will send a request to an API stage, judged from its Host and path alone, before
 * its body is read: a stage's bodies have a bound of their own (API Gateway's 10 MiB).
 */
export function isStageRequest(host: string | undefined, path: string): boolean {
  if (host !== undefined && DATA_HOST.test(host)) return EXECUTE_API_HOST.test(host);
  return USER_REQUEST.test(path);
}

/**
 * The one way in. Refuses, before any work, a `Host` this server does not serve (DNS rebinding); then
 * decides from the Host header and the path which service a request is for. Stages are public, as on
 * AWS; the AWS APIs need a whole SigV4 signature (checked against the configured keys, if any) and a
 * page of a foreign origin needs `--cors-origins`; `/_versa/` serves its page to anyone and everything
 * else only to its own pages.
 */
export function frontDoor(services: Services): ApiHandler {
  const { access } = services;
  const toStage = (req: ApiRequest, apiId: string, stage: string, path: string) =>
    services.gateway.handle(apiId, stage, {
      method: req.method,
      path: path || '/',
      query: req.query,
      headers: req.headers,
      body: req.body,
      sourceIp: req.sourceIp,
      region: req.region,
    });

  const versa = async (req: ApiRequest): Promise<ApiResponse> => {
    if (OPEN_VERSA.test(req.path)) return services.versa(req);
    if (req.path === '/_versa/metrics') {
      if (await access.metricsAllowed(req)) return services.versa(req);
      return jsonResponse(
        401,
        { message: 'The metrics of a Versa server reachable from other machines need its --metrics-token as a bearer token.' },
        { 'www-authenticate': 'Bearer' },
      );
    }
    const foreign = access.foreignCaller(req);
    if (foreign) return accessDenied('rest-json', `Versa's own endpoints answer only Versa's own pages, not ${foreign.named}.`, req);
    // A link GetFunction handed out is its own proof, as AWS's presigned Code.Location is.
    if (access.codeLinkValid(req) && !(await access.fromSandbox(req))) return services.versa(req);
    // Without credentials an unsigned call is the operator's; a signed one may still be a function's.
    const failure = await access.authenticate(req);
    if (failure && access.enforcing) return authRefusal('rest-json', failure, req);
    if (req.caller !== undefined) {
      return accessDenied(
        'rest-json',
        `Versa's own endpoints do not answer functions' keys (${req.caller.function}'s signed this request).`,
        req,
      );
    }
    // Unsigned, it is the operator's only from the operator's side of this machine.
    if (await access.fromSandbox(req)) {
      return accessDenied('rest-json', `Versa's own endpoints do not answer functions, nor requests an API stage forwards.`, req);
    }
    return services.versa(req);
  };

  const awsApi = async (req: ApiRequest, protocol: Protocol, route: ApiHandler): Promise<ApiResponse> => {
    const foreign = access.foreignCaller(req);
    // A page that sent no Origin cannot be matched against --cors-origins, and could not read an answer.
    const cors = foreign?.origin !== undefined && access.corsAllowed(foreign.origin) ? foreign.origin : undefined;
    if (foreign && cors === undefined) {
      return accessDenied(
        protocol,
        `Pages of ${foreign.named} may not call this server; start Versa with --cors-origins to allow them.`,
        req,
      );
    }
    if (req.method === 'OPTIONS' && cors !== undefined) return preflight(req, cors);
    const failure = await access.authenticate(req, protocol === 'rest-xml');
    const out = failure ? authRefusal(protocol, failure, req) : await route(req);
    if (cors !== undefined)
      Object.assign(out.headers, { 'access-control-allow-origin': cors, 'access-control-expose-headers': EXPOSED, vary: 'Origin' });
    return out;
  };

  return async (req: ApiRequest): Promise<ApiResponse> => {
    if (!access.hostAllowed(req)) return hostRefused(req);
    const path = req.path;
    const hostHeader = header(req, 'host')!;
    // A subdomain of localhost is a stage's or a bucket's own origin, and serves nothing else: a page
    // there must not reach the console or the control plane as its own origin.
    if (DATA_HOST.test(hostHeader)) {
      const api = EXECUTE_API_HOST.exec(hostHeader);
      if (api) {
        const m = /^\/([^/]+)(\/.*)?$/.exec(path);
        if (!m)
          return jsonResponse(
            403,
            { message: 'Missing Authentication Token' },
            { 'x-amzn-errortype': 'MissingAuthenticationTokenException' },
          );
        return withOwnCookies(await toStage(req, api[1]!, safeDecode(m[1]!), m[2] ?? '/'), `${api[1]!}.execute-api.localhost`);
      }
      if (s3Address(req)) return awsApi(req, 'rest-xml', services.s3);
      return accessDenied('rest-json', `${hostHeader.slice(0, 100)} serves S3 buckets and API stages only.`, req);
    }
    if (path.startsWith('/_versa/') || path === '/_versa') {
      const out = await versa(req);
      Object.assign(out.headers, versaHeaders(hostHeader.trim().toLowerCase()));
      return out;
    }
    const user = USER_REQUEST.exec(path);
    if (user) return withoutCookies(sandboxed(await toStage(req, user[1]!, safeDecode(user[2]!), user[3] ?? '/')));
    // S3 before the paths below: a bucket may be called anything, so only its host or signature tells.
    if (s3Address(req)) return sandboxed(await awsApi(req, 'rest-xml', services.s3));
    if (path === '/' && req.method === 'GET' && !header(req, 'x-amz-target')) {
      return jsonResponse(200, { service: 'versa', health: '/_versa/health' });
    }

    const target = header(req, 'x-amz-target');
    if (target !== undefined) {
      const service = services.byTarget.get(target.slice(0, target.indexOf('.')));
      return awsApi(req, 'json-rpc', service ?? unknown(`No Versa service answers X-Amz-Target ${target}.`, 'json-rpc'));
    }
    if (req.method === 'POST' && path === '/' && (header(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
      const service = services.query.get(req.signingService ?? 'monitoring');
      return awsApi(req, 'query', service ?? services.query.get('monitoring')!);
    }
    if (/^\/20\d\d-\d\d-\d\d\//.test(path)) return awsApi(req, 'rest-json', services.lambda);
    // `/tags/{arn}` is API Gateway's tagging (Lambda's is under its dated prefix).
    if (path === '/restapis' || path.startsWith('/restapis/') || path.startsWith('/tags/')) {
      return awsApi(req, 'rest-json', services.apiGateway);
    }
    if (looksLikeS3Path(req)) return sandboxed(await awsApi(req, 'rest-xml', services.s3));
    return awsApi(req, 'rest-json', unknown(`No Versa service answers ${req.method} ${path}.`, 'rest-json'));
  };
}

function sandboxed(out: ApiResponse): ApiResponse {
  // A policy of the answer's own still applies: a browser enforces every policy of a comma-separated list.
  const own = [out.headers['content-security-policy'] ?? []].flat().filter((policy) => policy !== '');
  out.headers['content-security-policy'] = [...own, OWN_ORIGIN_SANDBOX].join(', ');
  return out;
}

/** A handler that answers every request with UnknownOperationException, in the protocol it was asked in. */
function unknown(message: string, protocol: 'rest-json' | 'json-rpc'): ApiHandler {
  return (req) => Promise.resolve(unknownService(protocol, message, req));
}

/** A CORS preflight from an allowed origin: any method and the headers the page asked to send. */
function preflight(req: ApiRequest, origin: string): ApiResponse {
  const asked = header(req, 'access-control-request-headers') ?? '';
  return {
    status: 204,
    headers: {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
      'access-control-allow-headers': /^[\w\s,-]*$/.test(asked) ? asked : '',
      'access-control-max-age': '600',
      vary: 'Origin',
    },
    body: '',
  };
}

function hostRefused(req: ApiRequest): ApiResponse {
  const host = (header(req, 'host') ?? '').slice(0, 100);
  return jsonResponse(
    403,
    {
      message: host
        ? `Versa does not serve the host '${host}'. Use 127.0.0.1 or localhost, or start Versa with --allowed-hosts naming it.`
        : 'The request has no Host header.',
    },
    { 'x-amzn-errortype': 'ForbiddenException' },
  );
}
