import { Sha256Js } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The AWS wire protocols as the console speaks them: fetch calls to the same endpoints every SDK uses,
 * signed with SigV4 as the SDKs sign them. A server without credentials accepts any key, but still only
 * signed calls, which is what keeps other sites' pages out; one with credentials needs the key the
 * person signed in with.
 */

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

const KEY_STORAGE = 'versa.accessKey';
/** The key a server that checks nothing is signed for. */
const ANY_KEY: AccessKey = { accessKeyId: 'console', secretAccessKey: 'console' };

/** The key this tab signs with: the one signed in with (kept for the tab's life only), else the placeholder. */
export function accessKey(): AccessKey {
  const stored = sessionStorage.getItem(KEY_STORAGE);
  if (stored) {
    try {
      return JSON.parse(stored) as AccessKey;
    } catch {
      sessionStorage.removeItem(KEY_STORAGE);
    }
  }
  return ANY_KEY;
}

export function signIn(key: AccessKey | undefined): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, JSON.stringify(key));
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** Whether the server checks signatures (and so this tab must sign in). */
export async function credentialsRequired(): Promise<boolean> {
  const res = await fetch('/_versa/auth', { cache: 'no-store' });
  return res.ok && ((await res.json()) as { credentials?: string }).credentials === 'required';
}

/** `fetch` to this server, signed. Paths are this page's origin's. */
export async function apiFetch(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; cache?: RequestCache } = {},
): Promise<Response> {
  const url = new URL(path, window.location.origin);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const had = query[k];
    query[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  const signer = new SignatureV4({ service: 'versa', region: 'us-east-1', credentials: accessKey(), sha256: Sha256Js });
  const signed = await signer.sign({
    method: init.method ?? 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    query,
    headers: { ...init.headers, host: url.host },
    body: init.body,
  });
  const { host: _host, ...headers } = signed.headers;
  return fetch(url.pathname + url.search, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined && { body: init.body }),
    ...(init.cache && { cache: init.cache }),
  });
}

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
  const res = await apiFetch(path, {
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
  const res = await apiFetch('/', {
    method: 'POST',
    headers: { 'content-type': `application/x-amz-json-${version}`, 'x-amz-target': `${target}.${operation}` },
    body: JSON.stringify(input),
  });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** A path segment, percent-encoded. */
export const seg = (s: string) => encodeURIComponent(s);
