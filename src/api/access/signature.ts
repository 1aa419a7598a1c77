import { Sha256 } from '@smithy/core/checksum';
import { getCanonicalHeaders, SignatureV4, SignatureV4Base } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { createHmac, createSecretKey, hash, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ChunkedBodyError, decodeChunked, STREAMING_PAYLOADS } from '../aws/protocol/aws-chunked.js';
import { headerValue, signingTime, type SignatureClaim, type SignedRequest } from './sigv4.js';

/**
 * A signature checked by computing the one the request should carry and comparing. The canonical
 * request is whatever the AWS SDK's own signer (`@smithy/signature-v4`) builds, so Versa accepts exactly
 * what AWS's clients produce and no canonicalisation of ours can drift from it (the plain shape most
 * requests have is written out directly, to the same bytes: plainCanonicalRequest); the hashes and HMACs
 * are node:crypto's, synchronous, with each day's signing key derived once. Apart from sigv4.ts because
 * the signer takes ~40 ms to load, which a server that accepts any key never needs.
 */

const headerSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function signedHeaderSet(list: readonly string[]): ReadonlySet<string> {
  let set = headerSets.get(list);
  if (!set) headerSets.set(list, (set = new Set(list)));
  return set;
}

/** The SDK signer's canonical request, exposed (it is `protected` there); no credentials are involved. */
class Canonicalizer extends SignatureV4Base {
  constructor(uriEscapePath: boolean) {
    super({ service: 'none', region: 'none', credentials: { accessKeyId: '', secretAccessKey: '' }, sha256: Sha256, uriEscapePath });
  }

  canonicalRequest(request: HttpRequest, signedHeaders: ReadonlySet<string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, getCanonicalHeaders(request, undefined, signedHeaders as Set<string>), payloadHash);
  }
}
const canonicalizer = new Canonicalizer(true);
/** S3 signs the path as sent: neither normalised nor encoded a second time. */
const s3Canonicalizer = new Canonicalizer(false);
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Signing keys by secret, day, region and service: deriving one takes four HMACs, and a day has one. Kept
 * as KeyObjects, which an HMAC takes without importing the key again (a quarter of its cost).
 */
const signingKeys = new Map<string, KeyObject>();
const MAX_SIGNING_KEYS = 1024;

/** The key used last, checked before the map: most requests are one client's, signed for one scope. */
let lastKey: { secret: string; shortDate: string; region: string; service: string; key: KeyObject } | undefined;

function signingKey(secret: string, shortDate: string, region: string, service: string): KeyObject {
  const last = lastKey;
  if (last && last.secret === secret && last.shortDate === shortDate && last.region === region && last.service === service) return last.key;
  const id = `${secret}\n${shortDate}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    let bytes = Buffer.from(`AWS4${secret}`);
    for (const part of [shortDate, region, service, 'aws4_request']) bytes = createHmac('sha256', bytes).update(part).digest();
    key = createSecretKey(bytes);
    if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear();
    signingKeys.set(id, key);
  }
  lastKey = { secret, shortDate, region, service, key };
  return key;
}

/**
 * True when `secret` produced the claim's signature over this request. Only the headers the client
 * signed take part, as AWS does; a declared payload hash must be the body's.
 */
export function signatureMatches(
  req: SignedRequest,
  claim: SignatureClaim,
  secret: string,
  /** Whether the request goes to S3, the one service whose clients may leave the payload unsigned or sign it in chunks. */
  toS3 = claim.service === 's3',
): boolean | Promise<boolean> {
  let declared: string | undefined;
  for (const name of claim.signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) return false;
    if (name === 'x-amz-content-sha256') declared = value;
  }
  const s3 = claim.service === 's3' && toS3;
  // S3 lets the client leave the payload out of the signature, or sign it chunk by chunk.
  const special = declared === 'UNSIGNED-PAYLOAD' || (declared !== undefined && STREAMING_PAYLOADS.has(declared));
  if (special && !s3) return false;
  // S3 checks a declared hash against the body itself, and answers a mismatch in its own words
  // (XAmzContentSHA256Mismatch, before it reads anything): the signature covers the declared value.
  const bodyHash = special || (s3 && declared !== undefined) ? undefined : (req.bodyDigests?.sha256 ?? hash('sha256', req.body, 'hex'));
  if (declared !== undefined && bodyHash !== undefined && declared !== bodyHash) return false;
  // A header-signed request (nearly all) is checked at once; a presigned URL by the SDK's signer, which is asynchronous.
  if (claim.expiresIn !== undefined) {
    return presignedSignature(sdkRequest(req, claim), claim, secret).then((signature) =>
      matches(req, claim, secret, hexBytes(signature), declared),
    );
  }
  return matches(req, claim, secret, headerSignature(req, claim, secret, declared ?? bodyHash!), declared);
}

/** Whether the claim carries the expected signature (and, for an `aws-chunked` body, each chunk its own). */
function matches(
  req: SignedRequest,
  claim: SignatureClaim,
  secret: string,
  expected: Buffer | undefined,
  declared: string | undefined,
): boolean {
  // The claim's signature is 64 hexadecimal digits (sigv4.ts): 32 bytes, as a SHA-256 HMAC is.
  if (expected === undefined || !timingSafeEqual(expected, Buffer.from(claim.signature, 'hex'))) return false;
  if (declared?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return chunksMatch(req.body, claim, secret);
  return true;
}

/** The request as the SDK's signer takes it: only the signed headers, the query without the signature. */
function sdkRequest(req: SignedRequest, claim: SignatureClaim): HttpRequest {
  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) headers[name] = headerValue(req.headers, name)!;
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (req.query.size > 0)
    for (const [key, value] of req.query) {
      if (key === 'X-Amz-Signature') continue;
      const had = query[key];
      query[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
  return { method: req.method, protocol: 'http:', hostname: headers.host ?? '', path: req.path, query, headers, body: req.body };
}

/** The SDK's canonical request for a header-signed request: the authority plainCanonicalRequest must agree with. */
export function sdkCanonicalRequest(req: SignedRequest, claim: SignatureClaim, payloadHash: string): string {
  return (claim.service === 's3' ? s3Canonicalizer : canonicalizer).canonicalRequest(
    sdkRequest(req, claim),
    signedHeaderSet(claim.signedHeaders),
    payloadHash,
  );
}

/**
 * The canonical request of a header-signed request written out directly, for the common shape where
 * the SDK's canonicalisation is the identity: no query; a path of unreserved characters in non-empty
 * segments, none `.` or `..` (which the SDK neither normalises nor escapes, with or without S3's
 * `uriEscapePath: false`); signed header names in `[a-z0-9-]`, sorted and distinct; and header values the
 * SDK would not touch (no tab, CR, LF, doubled, leading or trailing space). It exists because building
 * the SDK's objects and escaping the path costs ~4 µs of the main thread per request; this ~0.6 µs.
 * It is safe because it yields either the byte-identical string the SDK would build (signature.test.ts
 * checks this against the SDK's own) or undefined, and then the SDK builds it: a signature is accepted
 * only when the HMAC over the SDK's canonical request matches.
 */
export function plainCanonicalRequest(req: SignedRequest, claim: SignatureClaim, payloadHash: string): string | undefined {
  const list = plainHeaderList(claim.signedHeaders);
  if (list === undefined || req.query.size !== 0 || !PLAIN_PATH.test(req.path) || DOT_SEGMENT.test(req.path)) return undefined;
  let headers = '';
  for (const name of claim.signedHeaders) {
    const value = headerValue(req.headers, name);
    if (typeof value !== 'string' || UNTRIMMED.test(value)) return undefined;
    headers += `${name}:${value}\n`;
  }
  return `${req.method}\n${req.path}\n\n${headers}\n${list}\n${payloadHash}`;
}

/** `/`, or `/`-separated non-empty segments of RFC 3986 unreserved characters, perhaps ending in `/`. */
const PLAIN_PATH = /^\/(?:[A-Za-z0-9._~-]+\/)*[A-Za-z0-9._~-]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;
/** What the SDK would change in a header value: it turns CR and LF into spaces, collapses runs of spaces and tabs, trims one space. */
const UNTRIMMED = /[\t\r\n]|^ | $| {2}/;
const plainHeaderLists = new WeakMap<readonly string[], string | false>();

/** The signed-header list as the canonical request ends it, when its names are plain, sorted and distinct. */
function plainHeaderList(names: readonly string[]): string | undefined {
  let list = plainHeaderLists.get(names);
  if (list === undefined) {
    const plain = names.every((name, i) => /^[a-z0-9-]+$/.test(name) && (i === 0 || names[i - 1]! < name));
    plainHeaderLists.set(names, (list = plain && names.join(';')));
  }
  return list === false ? undefined : list;
}

/**
 * True when every chunk of a signed `aws-chunked` body carries the signature that chains from the
 * request's (the seed) through the chunks before it, and the trailer, when signed, its own.
 */
function chunksMatch(body: Buffer, claim: SignatureClaim, secret: string): boolean {
  let decoded;
  try {
    decoded = decodeChunked(body);
  } catch (err) {
    if (err instanceof ChunkedBodyError) return false;
    throw err;
  }
  const shortDate = claim.longDate.slice(0, 8);
  const scope = `${shortDate}/${claim.region}/${claim.service}/aws4_request`;
  const key = signingKey(secret, shortDate, claim.region, claim.service);
  const same = (a: string, b: string | undefined) =>
    b !== undefined && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  let previous = claim.signature;
  for (const chunk of decoded.chunks) {
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${claim.longDate}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${hash('sha256', chunk.data, 'hex')}`;
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    if (!same(signature, chunk.signature)) return false;
    previous = signature;
  }
  if (decoded.trailers.length > 0 || decoded.trailerSignature !== undefined) {
    const trailer = decoded.trailers.map(([name, value]) => `${name}:${value}\n`).join('');
    const toSign = `AWS4-HMAC-SHA256-TRAILER\n${claim.longDate}\n${scope}\n${previous}\n${hash('sha256', trailer, 'hex')}`;
    if (!same(createHmac('sha256', key).update(toSign).digest('hex'), decoded.trailerSignature)) return false;
  }
  return true;
}

/** The signature an `Authorization` header should carry (its bytes): the SDK's canonical request, hashed and signed. */
function headerSignature(req: SignedRequest, claim: SignatureClaim, secret: string, payloadHash: string): Buffer {
  const canonical = plainCanonicalRequest(req, claim, payloadHash) ?? sdkCanonicalRequest(req, claim, payloadHash);
  const shortDate = claim.longDate.slice(0, 8);
  const scope = `${shortDate}/${claim.region}/${claim.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${claim.longDate}\n${scope}\n${hash('sha256', canonical, 'hex')}`;
  return createHmac('sha256', signingKey(secret, shortDate, claim.region, claim.service))
    .update(stringToSign)
    .digest();
}

/** A signature's bytes, from its 64 hexadecimal digits; undefined for anything else. */
function hexBytes(signature: string | undefined): Buffer | undefined {
  return signature !== undefined && /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : undefined;
}

/** The signature a presigned URL should carry, computed by the SDK's signer itself (not a hot path). */
async function presignedSignature(request: HttpRequest, claim: SignatureClaim, secret: string): Promise<string | undefined> {
  const signer = new SignatureV4({
    service: claim.service,
    region: claim.region,
    credentials: { accessKeyId: claim.accessKeyId, secretAccessKey: secret },
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: claim.service !== 's3',
  });
  // An S3 presigned URL always leaves the payload out of its signature. The header only tells the signer
  // so: it is neither signed nor moved into the query (boto3's URLs carry it nowhere; the SDK's carry it
  // in the query already, where it is signed as the URL has it).
  if (claim.service === 's3') request = { ...request, headers: { ...request.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
  const signed = await signer.presign(request, {
    signingDate: new Date(signingTime(claim)),
    signableHeaders: new Set(claim.signedHeaders),
    unhoistableHeaders: new Set(['x-amz-content-sha256']),
    unsignableHeaders: new Set(['x-amz-content-sha256']),
    expiresIn: claim.expiresIn ?? 0,
  });
  const value = signed.query?.['X-Amz-Signature'];
  return typeof value === 'string' ? value : undefined;
}
