import { PlatformError } from '../core/errors.js';
import type { GatewayDataPlane } from '../gateway/data-plane.js';
import { header, type ApiHandler, type ApiRequest, type ApiResponse } from './aws/protocol/http.js';
import { jsonResponse, restJsonError } from './aws/protocol/rest-json.js';

export interface Services {
  lambda: ApiHandler;
  apiGateway: ApiHandler;
  /** JSON-RPC services by their `X-Amz-Target` prefix (`Logs_20140328`, ...). */
  byTarget: Record<string, ApiHandler>;
  /** CloudWatch's query protocol (form-encoded `Action=...`). */
  query: ApiHandler;
  /** Stage traffic: `/{stage}/{path}` of a REST API. */
  gateway: GatewayDataPlane;
  /** Versa's own endpoints under `/_versa/`. */
  versa: ApiHandler;
}

const EXECUTE_API_HOST = /^([a-z0-9]+)\.execute-api\.localhost(?::\d+)?$/;
const USER_REQUEST = /^\/restapis\/([^/]+)\/([^/]+)\/_user_request_(\/.*)?$/;

/**
 * Decides once, from the Host header and the path, which service a request is for, and hands it to
 * that service's operation table or to the API Gateway data plane.
 */
export function frontDoor(services: Services): ApiHandler {
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
  return async (req: ApiRequest): Promise<ApiResponse> => {
    const path = req.path;
    const host = EXECUTE_API_HOST.exec(header(req, 'host') ?? '');
    if (host) {
      const m = /^\/([^/]+)(\/.*)?$/.exec(path);
      if (!m)
        return jsonResponse(
          403,
          { message: 'Missing Authentication Token' },
          { 'x-amzn-errortype': 'MissingAuthenticationTokenException' },
        );
      return toStage(req, host[1]!, decodeURIComponent(m[1]!), m[2] ?? '/');
    }
    if (path.startsWith('/_versa/') || path === '/_versa') return services.versa(req);
    const target = header(req, 'x-amz-target');
    if (target) {
      const service = services.byTarget[target.slice(0, target.indexOf('.'))];
      if (service) return service(req);
      return restJsonError(new PlatformError('UnknownOperationException', `No Versa service answers X-Amz-Target ${target}.`));
    }
    if (req.method === 'POST' && path === '/' && (header(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
      return services.query(req);
    }
    if (/^\/20\d\d-\d\d-\d\d\//.test(path)) return services.lambda(req);
    const user = USER_REQUEST.exec(path);
    if (user) return toStage(req, user[1]!, decodeURIComponent(user[2]!), user[3] ?? '/');
    if (path === '/restapis' || path.startsWith('/restapis/')) return services.apiGateway(req);
    if (path === '/' && req.method === 'GET') {
      return jsonResponse(200, { service: 'versa', health: '/_versa/health' });
    }
    return restJsonError(new PlatformError('UnknownOperationException', `No Versa service answers ${req.method} ${path}.`));
  };
}
