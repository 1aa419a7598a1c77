import { asPlatformError, type PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import {
  functionDenied,
  outOfScope,
  safeDecode,
  type ApiRequest,
  type ApiResponse,
  type FunctionScope,
  type ServiceHandler,
} from './http.js';
import { findPrototypeKey } from './members.js';

/** A JSON answer in the rest-json protocol. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? '' : JSON.stringify(body) };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers, body: '' };
}

/**
 * Renders a PlatformError as a rest-json error: the code in `x-amzn-ErrorType` (which the SDKs read
 * first) and a body carrying the message under the key the service uses.
 */
export function restJsonError(error: PlatformError): ApiResponse {
  const spec = error.spec;
  const body: Record<string, unknown> = {
    ...(!spec.untyped && !error.details.untyped && { Type: spec.fault === 'client' ? 'User' : 'Service' }),
    [spec.messageKey ?? 'message']: error.message,
    ...error.details.body,
  };
  return jsonResponse(spec.status, body, { 'x-amzn-errortype': error.code, ...error.details.headers });
}

/**
 * Parses a JSON request body; an empty body is `{}`. A key that would reach a prototype (`__proto__`,
 * `constructor`, `prototype`) anywhere in it is refused with the same error as malformed JSON, so no
 * service ever merges one into an object.
 */
export function parseJsonBody(req: ApiRequest, onError: (message: string) => PlatformError): Record<string, unknown> {
  if (req.body.byteLength === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw onError((err as Error).message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw onError('the body must be a JSON object');
  const forbidden = findPrototypeKey(value);
  if (forbidden !== undefined) throw onError(`the member name at ${forbidden} is not allowed`);
  return value as Record<string, unknown>;
}

export interface Route {
  method: string;
  /** A path pattern such as `/2015-03-31/functions/{FunctionName}/aliases/{Name}`. */
  pattern: string;
  operation: string;
  handle: (req: ApiRequest, params: Record<string, string>) => Promise<ApiResponse>;
}

interface CompiledRoute extends Route {
  segments: string[];
}

/**
 * Builds a handler from a route table: matches method and path (labels are percent-decoded), renders
 * PlatformErrors with `renderError`, and logs anything unexpected as an internal failure. The routes are
 * indexed by method and segment count, so a request is compared only with the few routes of its shape,
 * in table order. `scope`: what a function's key may call (the rest is refused as IAM refuses it).
 */
export function routeTable(
  routes: Route[],
  renderError: (e: PlatformError) => ApiResponse,
  logger: Logger,
  onNoRoute: (req: ApiRequest) => PlatformError,
  scope?: FunctionScope,
): ServiceHandler {
  const byShape = new Map<string, CompiledRoute[]>();
  for (const r of routes) {
    const segments = r.pattern.split('/').filter(Boolean);
    const shape = `${r.method} ${segments.length}`;
    const list = byShape.get(shape) ?? [];
    list.push({ ...r, segments });
    byShape.set(shape, list);
  }
  const handler = async (req: ApiRequest): Promise<ApiResponse> => {
    const parts = req.path.split('/').filter(Boolean);
    let matched: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of byShape.get(`${req.method} ${parts.length}`) ?? []) {
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const seg = route.segments[i]!;
        ok = seg.startsWith('{') || seg === parts[i];
      }
      if (ok) {
        const params: Record<string, string> = {};
        route.segments.forEach((seg, i) => {
          if (seg.startsWith('{')) params[seg.slice(1, -1)] = safeDecode(parts[i]!);
        });
        matched = { route, params };
        break;
      }
    }
    try {
      if (!matched) throw onNoRoute(req);
      if (outOfScope(scope, matched.route.operation, req)) throw functionDenied(scope!, matched.route.operation, req, matched.params);
      return await matched.route.handle(req, matched.params);
    } catch (err) {
      const { error, unexpected } = asPlatformError(err);
      if (unexpected) logger.error('internal error', { operation: matched?.route.operation, err });
      return renderError(error);
    }
  };
  return Object.assign(handler, { operations: routes.map((r) => ({ name: r.operation, method: r.method, pattern: r.pattern })) });
}
