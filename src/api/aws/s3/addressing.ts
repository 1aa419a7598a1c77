import { header, safeDecode, type ApiRequest } from '../protocol/http.js';

/** Which bucket and key an S3 request names; both undefined for the service itself (ListBuckets). */
export interface S3Address {
  bucket: string | undefined;
  /** Percent-decoded; undefined (not '') when the request is for the bucket itself. */
  key: string | undefined;
}

/** `s3.localhost`, `s3.{region}.localhost`, and the virtual hosts `{bucket}.s3.localhost` and `{bucket}.s3.{region}.localhost`. */
const S3_HOST = /^(?:(.+)\.)?s3(?:\.[a-z0-9-]+)?\.localhost$/;
const EXECUTE_API = /\.execute-api\.localhost$/;
const BUCKETISH = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function hostName(req: ApiRequest): string {
  return (header(req, 'host') ?? '')
    .trim()
    .toLowerCase()
    .replace(/:\d{1,5}$/, '');
}

/**
 * The request's S3 address when it is for S3: sent to an S3 host name, or signed for the `s3` service
 * (then `{bucket}.localhost` is a virtual host too, which is what the SDK makes of `http://localhost`).
 * Undefined for every other service's request.
 */
export function s3Address(req: ApiRequest): S3Address | undefined {
  if (!S3_HOST.test(hostName(req)) && req.signingService !== 's3') return undefined;
  return address(req.path, virtualBucket(req));
}

/** A request's bucket and key read from its path (`/bucket/key`). */
export function pathAddress(req: ApiRequest): S3Address {
  return address(req.path, undefined);
}

/** The bucket a request's host names (`{bucket}.s3.localhost`, or `{bucket}.localhost` signed for S3), if it does. */
export function virtualBucket(req: ApiRequest): string | undefined {
  const host = hostName(req);
  const m = S3_HOST.exec(host);
  if (m) return m[1];
  return req.signingService === 's3' && host.endsWith('.localhost') && !EXECUTE_API.test(host)
    ? host.slice(0, -'.localhost'.length)
    : undefined;
}

/**
 * An unsigned request for a path no other service has, whose first segment could be a bucket: it is
 * answered in S3's words (an unsigned S3 request is one a browser or curl sent).
 */
export function looksLikeS3Path(req: ApiRequest): boolean {
  const first = /^\/([^/?]+)/.exec(req.path)?.[1];
  return first !== undefined && BUCKETISH.test(first) && header(req, 'authorization') === undefined;
}

function address(path: string, virtualBucket: string | undefined): S3Address {
  if (virtualBucket !== undefined) {
    const key = path.length > 1 ? safeDecode(path.slice(1)) : undefined;
    return { bucket: virtualBucket, key };
  }
  const m = /^\/([^/]+)(?:\/(.*))?$/.exec(path);
  if (!m) return { bucket: undefined, key: undefined };
  const key = m[2] === undefined || m[2] === '' ? undefined : safeDecode(m[2]);
  return { bucket: safeDecode(m[1]!), key };
}
