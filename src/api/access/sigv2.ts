import { createHmac, timingSafeEqual } from 'node:crypto';
import { headerValue, type AuthFailure, type SignedRequest } from './sigv4.js';

/**
 * S3's presigned URLs of Signature Version 2 (`?AWSAccessKeyId=…&Signature=…&Expires=…`), which the AWS
 * CLI v1 still makes (`aws s3 presign`) and S3 still takes. The signature is an HMAC-SHA1 (node:crypto)
 * of the request's method, its Content-MD5 and Content-Type, the expiry, its `x-amz-*` headers and the
 * resource: the bucket's path, and the sub-resources S3 names (`?uploadId=…`, `?response-content-type=…`).
 * As AWS documents it, and as botocore's HmacV1QueryAuth makes it.
 */

export interface V2Claim {
  accessKeyId: string;
  /** Base64, as sent. */
  signature: string;
  /** Epoch seconds after which the URL is refused. */
  expires: number;
}

/** Whether a request carries a Signature Version 2 query (then it is S3's, and read with readV2Claim). */
export function hasV2Query(query: URLSearchParams): boolean {
  return query.has('AWSAccessKeyId');
}

export function readV2Claim(query: URLSearchParams): V2Claim | AuthFailure {
  const accessKeyId = query.get('AWSAccessKeyId');
  // A `+` of the signature sent unescaped arrives as a space.
  const signature = query.get('Signature')?.replace(/ /g, '+');
  const expires = query.get('Expires');
  if (!accessKeyId || !signature || !expires) {
    return { kind: 'incomplete', message: 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters' };
  }
  if (!/^\d{1,12}$/.test(expires))
    return { kind: 'incomplete', message: `Invalid date (should be seconds since epoch): ${expires.slice(0, 40)}` };
  return { accessKeyId, signature, expires: Number(expires) };
}

/**
 * The query parameters that are part of the resource signed: botocore's list, which is S3's, and the
 * bucket settings Versa routes on that S3 serves only to Signature Version 4 (`encryption`, …), so that
 * a URL presigned for a bucket cannot be turned into a change of one of them by appending it.
 */
const SUB_RESOURCES = new Set([
  'encryption',
  'publicAccessBlock',
  'ownershipControls',
  'policyStatus',
  'accelerate',
  'acl',
  'cors',
  'defaultObjectAcl',
  'location',
  'logging',
  'partNumber',
  'policy',
  'requestPayment',
  'torrent',
  'versioning',
  'versionId',
  'versions',
  'website',
  'uploads',
  'uploadId',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'delete',
  'lifecycle',
  'tagging',
  'restore',
  'storageClass',
  'notification',
  'replication',
  'analytics',
  'metrics',
  'inventory',
  'select',
  'select-type',
  'object-lock',
]);

/**
 * True when `secret` made the claim's signature for this request. `virtualBucket`: the bucket its host
 * names (`{bucket}.s3.localhost`), which the signed resource begins with.
 */
export function v2SignatureMatches(req: SignedRequest, claim: V2Claim, secret: string, virtualBucket: string | undefined): boolean {
  const amz = Object.keys(req.headers)
    .filter((name) => name.startsWith('x-amz-'))
    .sort()
    .map((name) => `${name}:${headerValue(req.headers, name)!.trim()}\n`)
    .join('');
  const subResources = [...req.query.keys()]
    .filter((name, i, all) => SUB_RESOURCES.has(name) && all.indexOf(name) === i)
    .sort()
    .map((name) => {
      const value = req.query.get(name)!;
      return value === '' ? name : `${name}=${value}`;
    });
  // The bucket's own resource is `/bucket/`, however the URL names it (`/bucket`, or `bucket.s3.localhost/`).
  const path = virtualBucket === undefined ? req.path.replace(/^\/[^/]+$/, '$&/') : `/${virtualBucket}${req.path}`;
  const resource = `${path}${subResources.length > 0 ? `?${subResources.join('&')}` : ''}`;
  const stringToSign = [
    req.method,
    headerValue(req.headers, 'content-md5')?.trim() ?? '',
    headerValue(req.headers, 'content-type')?.trim() ?? '',
    String(claim.expires),
    `${amz}${resource}`,
  ].join('\n');
  const expected = createHmac('sha1', secret).update(stringToSign, 'utf8').digest();
  const given = Buffer.from(claim.signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
