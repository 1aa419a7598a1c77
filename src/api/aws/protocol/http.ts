import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** A request as the API layer sees it: read in full, independent of sockets, so it can be tested in-process. */
export interface ApiRequest {
  method: string;
  /** The raw path, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The region from the request's signature, `us-east-1` when unsigned. */
  region: string;
  requestId: string;
  /** `http://host:port` as the client reached us, for URLs in answers. */
  origin: string;
  sourceIp: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
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

export function header(req: ApiRequest, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Region from a SigV4 `Authorization` header (or presigned query), defaulting to us-east-1. */
export function regionOf(authorization: string | undefined, query: URLSearchParams): string {
  const credential = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization ?? '')?.[1] ?? query.get('X-Amz-Credential')?.split('/')[2];
  return credential && /^[a-z0-9-]+$/.test(credential) ? credential : 'us-east-1';
}

/** A percent-decoded path segment; a malformed escape leaves the segment as it was sent, never a throw. */
export function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
