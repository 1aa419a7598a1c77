import { PlatformError } from '../core/errors.js';
import type { ApiHandler, ApiRequest, ApiResponse } from './aws/protocol/http.js';
import { jsonResponse, restJsonError } from './aws/protocol/rest-json.js';

export interface Services {
  lambda: ApiHandler;
  /** Versa's own endpoints under `/_versa/`. */
  versa: ApiHandler;
}

/**
 * Decides once, from the path (and later the signature scope and `X-Amz-Target`), which service a
 * request is for, and hands it to that service's operation table.
 */
export function frontDoor(services: Services): ApiHandler {
  return async (req: ApiRequest): Promise<ApiResponse> => {
    const path = req.path;
    if (path.startsWith('/_versa/') || path === '/_versa') return services.versa(req);
    if (/^\/20\d\d-\d\d-\d\d\//.test(path)) return services.lambda(req);
    if (path === '/' && req.method === 'GET') {
      return jsonResponse(200, { service: 'versa', health: '/_versa/health' });
    }
    return restJsonError(new PlatformError('UnknownOperationException', `No Versa service answers ${req.method} ${path}.`));
  };
}
