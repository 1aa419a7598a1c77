import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { PlatformError } from '../../../core/errors.js';

/** A request as the API layer sees it: read in full, independent of sockets, so it can be tested in-process. */
export interface ApiRequest {
  method: string;
  /** The raw path, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The hashes of a large body, taken as it arrived (src/server/body.ts); undefined for a small one. */
  bodyDigests?: BodyDigests;
  /** The region from the request's signature, `us-east-1` when unsigned. */
  region: string;
  /** The service the request is signed for (`lambda`, `s3`, `cloudformation`, ...); undefined when unsigned. */
  signingService?: string;
  requestId: string;
  /** `http://host:port` as the client reached us, for URLs in answers. */
  origin: string;
  sourceIp: string;
  /** The connection it came on, one object per connection: whose it is, when the gate asks (gate.ts). */
  peer?: Peer;
  /** Set by the access gate when a function's key signed the request (and functions are scoped): whose. */
  caller?: Caller;
}

/** A body's SHA-256 (hexadecimal), and its MD5 when it may become an S3 object. */
export interface BodyDigests {
  sha256: string;
  md5?: string;
}

/** A connection's two ends, and (once asked, then kept) which user of this machine opened it. */
export interface Peer {
  address: string;
  port: number;
  localAddress: string;
  localPort: number;
  /** The lookup of the owner, and once it has answered, its answer (so that later requests need not wait). */
  owner?: Promise<number | null>;
  ownerKnown?: number | null;
}

/** A function calling back into Versa with its environment's key, or an STS key minted with one. */
export interface Caller {
  /** The function's name. */
  function: string;
  /** Who AWS names in a refusal: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION`, or the assumed role of an STS key. */
  arn: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer | string;
  /** Sent instead of `body` when set (an S3 object read from disk), with its `content-length` header set. */
  stream?: Readable;
}

export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

/** One operation of a service's table, as the wire reaches it (rest-json: by method and path pattern). */
export interface OperationInfo {
  name: string;
  method?: string;
  pattern?: string;
}

/** A service's handler, which also lists the operations of its table (for tests that cover them all). */
export type ServiceHandler = ApiHandler & { readonly operations: readonly OperationInfo[] };

/**
 * What a function's key may call of one service (access/function-scope.ts holds the policy): the codec
 * that learns the operation's name refuses the rest before any work.
 */
export interface FunctionScope {
  /** The operations a function's key may call; undefined when it may call every one. */
  allowed?: ReadonlySet<string>;
  /** The IAM action and resource a refusal names (`lambda:GetFunction` on the function's ARN), from the operation and its path labels. */
  describe: (operation: string, req: ApiRequest, params?: Record<string, string>) => { action: string; resource: string };
}

/** True when the request is a function's and its scope does not allow the operation: a property read and a set lookup. */
export function outOfScope(scope: FunctionScope | undefined, operation: string, req: ApiRequest): boolean {
  return req.caller !== undefined && scope?.allowed !== undefined && !scope.allowed.has(operation);
}

/**
 * The IAM denial AWS answers when a caller's role allows no such action, as a PlatformError the codec
 * renders in its protocol (`AccessDeniedException`; the query protocol calls it `AccessDenied`).
 */
export function functionDenied(scope: FunctionScope, operation: string, req: ApiRequest, params?: Record<string, string>): PlatformError {
  const { action, resource } = scope.describe(operation, req, params);
  return new PlatformError(
    'AccessDeniedException',
    `User: ${req.caller?.arn ?? 'anonymous'} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  );
}

export function header(req: Pick<ApiRequest, 'headers'>, name: string): string | undefined {
  const key = name.toLowerCase();
  // Own headers only: Node's headers object inherits `constructor`, `__proto__`, ...
  const value = Object.hasOwn(req.headers, key) ? req.headers[key] : undefined;
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The access key, region and service of a SigV4 credential scope (`Authorization` header, else
 * presigned query), read once per request at the edge; the region defaults to us-east-1. What it names
 * is only claimed here: the signature check (access/) decides whether it holds.
 */
export function credentialScopeOf(
  authorization: string | undefined,
  query: URLSearchParams,
): { region: string; service?: string; accessKeyId?: string } {
  const m = /Credential=([^/,\s]*)\/\d{8}\/([^/]*)\/([^/]+)\//.exec(authorization ?? '');
  // A presigned query's credential: key/date/region/service/aws4_request.
  const presigned = m ? undefined : query.get('X-Amz-Credential')?.split('/');
  const [accessKeyId, region, service] = m ? m.slice(1, 4) : [presigned?.[0], presigned?.[2], presigned?.[3]];
  return {
    region: region && /^[a-z0-9-]+$/.test(region) ? region : 'us-east-1',
    ...(service && { service }),
    ...(accessKeyId && { accessKeyId }),
  };
}

const gunzipAsync = promisify(gunzip);

/**
 * The largest body the JSON and query services read (inflated, when it came gzip-encoded): AWS's largest
 * requests there are about 1 MB (a PutLogEvents batch, a PutMetricData), and JSON's escapes can make a
 * batch's text larger than its count. The 72 MiB the door lets in is CreateFunction's; parsing that much
 * JSON or form would hold the event loop for seconds.
 */
export const MAX_SERVICE_BODY_BYTES = 2 * 1024 * 1024;

/**
 * The request of a JSON or query service, its body no larger than MAX_SERVICE_BODY_BYTES and inflated
 * when it came with `Content-Encoding: gzip` (the SDKs compress a CloudWatch PutMetricData body past
 * 10 KB, as the model's `requestcompression` allows; the signature covers the compressed bytes and was
 * checked on them). Inflated off the event loop, and never past the same size; anything else
 * unreadable is `onError`'s.
 */
export async function serviceBody(req: ApiRequest, onError: (message: string) => PlatformError): Promise<ApiRequest> {
  if (req.body.byteLength > MAX_SERVICE_BODY_BYTES) {
    throw onError(`The request body is ${req.body.byteLength} bytes; this service reads at most ${MAX_SERVICE_BODY_BYTES}.`);
  }
  const encoding = header(req, 'content-encoding')?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') return req;
  if (encoding !== 'gzip') throw onError(`The request body's Content-Encoding ${encoding.slice(0, 40)} is not supported: only gzip.`);
  try {
    return { ...req, body: await gunzipAsync(req.body, { maxOutputLength: MAX_SERVICE_BODY_BYTES }) };
  } catch (err) {
    const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw onError(
      tooLarge
        ? `The request body inflates to more than ${MAX_SERVICE_BODY_BYTES} bytes.`
        : 'The request body is not valid gzip, as its Content-Encoding says.',
    );
  }
}

/** A percent-decoded path segment; a malformed escape leaves the segment as it was sent, never a throw. */
export function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
