/**
 * The AWS wire protocols as the console speaks them: plain fetch calls to the same endpoints every SDK
 * uses. The server does not check signatures, so none are sent.
 */

/** An error answered by the API, carrying the service's own exception name and message. */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }
}

async function failure(res: Response): Promise<AwsError> {
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the text itself is the message.
  }
  const said = body.message ?? body.Message;
  const message = typeof said === 'string' ? said : text || res.statusText;
  const type = res.headers.get('x-amzn-errortype') ?? (typeof body.__type === 'string' ? body.__type : `HTTP ${res.status}`);
  return new AwsError(type.split(':')[0]!, message, res.status);
}

/** A REST-JSON call (Lambda, API Gateway): the JSON answer, or `undefined` for an empty one. */
export async function restJson<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A JSON-RPC call (`X-Amz-Target`): CodeDeploy and Logs speak JSON 1.1, CloudWatch JSON 1.0. */
export async function jsonRpc<T>(target: string, operation: string, input: object, version: '1.0' | '1.1' = '1.1'): Promise<T> {
  const res = await fetch('/', {
    method: 'POST',
    headers: { 'content-type': `application/x-amz-json-${version}`, 'x-amz-target': `${target}.${operation}` },
    body: JSON.stringify(input),
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** A path segment, percent-encoded. */
export const seg = (s: string) => encodeURIComponent(s);
