import { asPlatformError, PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import {
  functionDenied,
  header,
  serviceBody,
  outOfScope,
  type ApiRequest,
  type ApiResponse,
  type FunctionScope,
  type ServiceHandler,
} from './http.js';
import { parseJsonBody } from './rest-json.js';

/** One operation of a JSON-RPC service: the parsed body in, the output object out. */
export type JsonOperation = (input: Record<string, unknown>, req: ApiRequest) => Promise<unknown>;

export interface JsonRpcService {
  /** `Logs_20140328`, `CodeDeploy_20141006`, ... */
  targetPrefix: string;
  /** `application/x-amz-json-1.1` or `-1.0`. */
  contentType: string;
  operations: Record<string, JsonOperation>;
  /** The wire name for a code, when the service names an error differently from the catalogue. */
  errorName?: (error: PlatformError) => string;
  /** The `__type` of an error's body, when the service qualifies the name with its model's namespace (CloudWatch). */
  errorType?: (error: PlatformError) => string;
  /**
   * The HTTP status for an error, when the service answers differently from the catalogue (CloudWatch Logs: 400;
   * CloudWatch: by the request's query mode).
   */
  errorStatus?: (error: PlatformError, req?: ApiRequest) => number;
  /** Extra headers for an error (CloudWatch's `x-amzn-query-error`). */
  errorHeaders?: (error: PlatformError) => Record<string, string>;
  /** What a function's key may call (access/function-scope.ts). */
  scope?: FunctionScope;
  /**
   * The status of an IAM denial: 400 on AWS's JSON 1.1 services (Logs, CodeDeploy, SSM); CloudWatch's
   * JSON form answers as its query form does, 403.
   */
  deniedStatus?: number;
}

/**
 * Renders a PlatformError in the JSON-RPC form: `{"__type": <code>, "message": ...}`. An error AWS gives no
 * message (CloudWatch's ResourceNotFound of SetAlarmState) has no `message` member.
 */
export function jsonRpcError(
  service: Pick<JsonRpcService, 'contentType' | 'errorName' | 'errorType' | 'errorStatus' | 'errorHeaders'>,
  error: PlatformError,
  req?: ApiRequest,
): ApiResponse {
  const name = service.errorName?.(error) ?? error.code;
  // An unknown X-Amz-Target is a bad request on AWS's JSON services (400), not a missing resource.
  const status = error.code === 'UnknownOperationException' ? 400 : (service.errorStatus?.(error, req) ?? error.spec.status);
  return {
    status,
    headers: { 'content-type': service.contentType, 'x-amzn-errortype': name, ...service.errorHeaders?.(error), ...error.details.headers },
    body: JSON.stringify({
      __type: service.errorType?.(error) ?? name,
      ...(error.message !== '' && { message: error.message }),
      ...error.details.body,
    }),
  };
}

/**
 * A handler for a JSON-RPC (`X-Amz-Target`) service: picks the operation from the target, parses the
 * body, and renders the result or the error in the service's content type.
 */
export function jsonRpcService(service: JsonRpcService, logger: Logger): ServiceHandler {
  const handler = async (req: ApiRequest): Promise<ApiResponse> => {
    const target = header(req, 'x-amz-target') ?? '';
    const operation = target.startsWith(`${service.targetPrefix}.`) ? target.slice(service.targetPrefix.length + 1) : '';
    try {
      // Own properties only: `X-Amz-Target: Prefix.constructor` must not find Object's.
      const handler = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
      if (!handler)
        throw new PlatformError('UnknownOperationException', `Versa does not implement ${target || 'an operation without X-Amz-Target'}.`);
      if (outOfScope(service.scope, operation, req)) {
        const status = service.deniedStatus ?? 400;
        return jsonRpcError({ ...service, errorStatus: () => status }, functionDenied(service.scope!, operation, req));
      }
      const unreadable = (m: string) => new PlatformError('SerializationException', `Could not parse the request body: ${m}`);
      const input = parseJsonBody(await serviceBody(req, unreadable), unreadable);
      const output = await handler(input, req);
      return { status: 200, headers: { 'content-type': service.contentType }, body: JSON.stringify(output ?? {}) };
    } catch (err) {
      const { error, unexpected } = asPlatformError(err);
      if (unexpected) logger.error('internal error', { operation: target, err });
      return jsonRpcError(service, error, req);
    }
  };
  return Object.assign(handler, { operations: Object.keys(service.operations).map((name) => ({ name })) });
}
