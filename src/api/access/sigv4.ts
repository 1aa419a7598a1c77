import { Sha256 } from '@smithy/core/checksum';
import { getCanonicalHeaders, SignatureV4, SignatureV4Base } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ChunkedBodyError, decodeChunked, STREAMING_PAYLOADS } from '../aws/protocol/aws-chunked.js';

/**
 * Signature Version 4, checked by computing the signature the request should carry and comparing. The
 * canonical request is whatever the AWS SDK's own signer (`@smithy/signature-v4`) builds, so Versa
 * accepts exactly what AWS's clients produce and no canonicalisation of ours can drift from it; the
 * hashes and HMACs are node:crypto's, synchronous, with each day's signing key derived once.
 */

/** How far a request's signing time may be from the server's clock, either way (AWS: 15 minutes). */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

/** The parts of a signature that say who signed, for what scope and over which headers. */
export interface SignatureClaim {
  accessKeyId: string;
  /** `YYYYMMDDTHHMMSSZ`. */
  longDate: string;
  region: string;
  service: string;
  signedHeaders: readonly string[];
  signature: string;
  sessionToken: string | undefined;
  /** Presigned URLs only: seconds the signature stays valid. */
  expiresIn?: number;
}

/** Why a request's signature was not accepted; the front door renders each in the protocol's words. */
export type AuthFailure =
  | { kind: 'missing' }
  | { kind: 'incomplete'; message: string }
  | { kind: 'unknown-key' }
  | { kind: 'mismatch' }
  | { kind: 'expired'; message: string };

export interface SignedRequest {
  method: string;
  /** The raw path, as sent (still percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const AUTH_HEADER = /^AWS4-HMAC-SHA256 (.*)$/s;
const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * Reads the claim out of an `Authorization` header or a presigned query. Undefined when the request
 * carries neither (the caller answers "missing"); an AuthFailure when it carries one that is not whole.
 */
export function readClaim(req: SignedRequest): SignatureClaim | AuthFailure | undefined {
  const header = headerValue(req.headers, 'authorization');
  if (header !== undefined) return claimFromHeader(header, req.headers);
  if (req.query.has('X-Amz-Signature') || req.query.has('X-Amz-Credential')) return claimFromQuery(req.query);
  return undefined;
}

function claimFromHeader(header: string, headers: IncomingHttpHeaders): SignatureClaim | AuthFailure {
  const m = AUTH_HEADER.exec(header.trim());
  if (!m)
    return { kind: 'incomplete', message: `Authorization header requires the AWS4-HMAC-SHA256 algorithm; got '${header.slice(0, 40)}'.` };
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  for (const piece of m[1]!.split(',')) {
    const eq = piece.indexOf('=');
    if (eq <= 0) continue;
    const key = piece.slice(0, eq).trim();
    const value = piece.slice(eq + 1).trim();
    if (key === 'Credential') credential = value;
    else if (key === 'SignedHeaders') signedHeaders = value;
    else if (key === 'Signature') signature = value;
  }
  const date = headerValue(headers, 'x-amz-date');
  if (!credential || !signature || !signedHeaders || !date) {
    const missing = [
      !credential && "Authorization header requires 'Credential' parameter.",
      !signature && "Authorization header requires 'Signature' parameter.",
      !signedHeaders && "Authorization header requires 'SignedHeaders' parameter.",
      !date && "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    ].filter((x): x is string => typeof x === 'string');
    return { kind: 'incomplete', message: `${missing.join(' ')} Authorization=${header.slice(0, 200)}` };
  }
  return completeClaim(credential, date, signedHeaders, signature, headerValue(headers, 'x-amz-security-token'));
}

function claimFromQuery(query: URLSearchParams): SignatureClaim | AuthFailure {
  const need = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];
  const missing = need.filter((name) => !query.get(name));
  if (missing.length > 0) return { kind: 'incomplete', message: `The presigned URL lacks ${missing.join(', ')}.` };
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
    return { kind: 'incomplete', message: 'X-Amz-Algorithm must be AWS4-HMAC-SHA256.' };
  const expiresIn = Number(query.get('X-Amz-Expires'));
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
    return { kind: 'incomplete', message: 'X-Amz-Expires must be a whole number of seconds between 1 and 604800.' };
  }
  const claim = completeClaim(
    query.get('X-Amz-Credential')!,
    query.get('X-Amz-Date')!,
    query.get('X-Amz-SignedHeaders')!,
    query.get('X-Amz-Signature')!,
    query.get('X-Amz-Security-Token') ?? undefined,
  );
  return 'kind' in claim ? claim : { ...claim, expiresIn };
}

function completeClaim(
  credential: string,
  longDate: string,
  signedHeaders: string,
  signature: string,
  sessionToken: string | undefined,
): SignatureClaim | AuthFailure {
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!) || !scope[0]) {
    return { kind: 'incomplete', message: `Credential should be scoped to a valid region, not '${credential.slice(0, 120)}'.` };
  }
  if (!LONG_DATE.test(longDate))
    return {
      kind: 'incomplete',
      message: `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"; got '${longDate.slice(0, 40)}'.`,
    };
  if (scope[1] !== longDate.slice(0, 8)) {
    return {
      kind: 'incomplete',
      message: `Credential should be scoped to a valid date: '${scope[1]}' does not match X-Amz-Date ${longDate}.`,
    };
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) return { kind: 'incomplete', message: 'Signature must be 64 lower-case hexadecimal characters.' };
  return {
    accessKeyId: scope[0],
    longDate,
    region: scope[2]!,
    service: scope[3]!,
    signedHeaders: signedHeaderList(signedHeaders),
    signature,
    sessionToken,
  };
}

/** Signed-header lists by their text: a client sends the same few lists again and again. */
const headerLists = new Map<string, readonly string[]>();

function signedHeaderList(text: string): readonly string[] {
  let list = headerLists.get(text);
  if (!list) {
    list = text.split(';').map((h) => h.trim().toLowerCase());
    if (headerLists.size >= 256) headerLists.clear();
    headerLists.set(text, list);
  }
  return list;
}

const headerSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function signedHeaderSet(list: readonly string[]): ReadonlySet<string> {
  let set = headerSets.get(list);
  if (!set) headerSets.set(list, (set = new Set(list)));
  return set;
}

/** The signing time of a claim, in epoch milliseconds. */
export function signingTime(claim: SignatureClaim): number {
  const m = LONG_DATE.exec(claim.longDate)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** An expired or not-yet-current signature, in AWS's words; undefined when the time is acceptable. */
export function checkTime(claim: SignatureClaim, now: number): AuthFailure | undefined {
  const signed = signingTime(claim);
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
  if (claim.expiresIn !== undefined) {
    if (now > signed + claim.expiresIn * 1000) return { kind: 'expired', message: 'Request has expired' };
    if (signed > now + MAX_CLOCK_SKEW_MS) return { kind: 'expired', message: 'Request is not yet valid' };
    return undefined;
  }
  if (signed < now - MAX_CLOCK_SKEW_MS) {
    return {
      kind: 'expired',
      message: `Signature expired: ${claim.longDate} is now earlier than ${stamp(now - MAX_CLOCK_SKEW_MS)} (${stamp(now)} - 15 min.)`,
    };
  }
  if (signed > now + MAX_CLOCK_SKEW_MS) {
    return {
      kind: 'expired',
      message: `Signature not yet current: ${claim.longDate} is still later than ${stamp(now + MAX_CLOCK_SKEW_MS)} (${stamp(now)} + 15 min.)`,
    };
  }
  return undefined;
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

/** Signing keys by secret, day, region and service: deriving one takes four HMACs, and a day has one. */
const signingKeys = new Map<string, Buffer>();
const MAX_SIGNING_KEYS = 1024;

function signingKey(secret: string, shortDate: string, region: string, service: string): Buffer {
  const id = `${secret}\n${shortDate}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = Buffer.from(`AWS4${secret}`);
    for (const part of [shortDate, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/**
 * True when `secret` produced the claim's signature over this request. Only the headers the client
 * signed take part, as AWS does; a declared payload hash must be the body's.
 */
export async function signatureMatches(req: SignedRequest, claim: SignatureClaim, secret: string): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of claim.signedHeaders) {
    const value = headerValue(req.headers, name);
    if (value === undefined) return false;
    headers[name] = value;
  }
  const s3 = claim.service === 's3';
  const declared = headers['x-amz-content-sha256'];
  // S3 lets the client leave the payload out of the signature, or sign it chunk by chunk.
  const special = declared === 'UNSIGNED-PAYLOAD' || (declared !== undefined && STREAMING_PAYLOADS.has(declared));
  if (special && !(s3 || (claim.expiresIn !== undefined && declared === 'UNSIGNED-PAYLOAD'))) return false;
  const bodyHash = special ? undefined : hash('sha256', req.body, 'hex');
  if (declared !== undefined && !special && declared !== bodyHash) return false;
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (req.query.size > 0)
    for (const [key, value] of req.query) {
      if (key === 'X-Amz-Signature') continue;
      const had = query[key];
      query[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
  const request = { method: req.method, protocol: 'http:', hostname: headers.host ?? '', path: req.path, query, headers, body: req.body };
  const expected =
    claim.expiresIn !== undefined
      ? await presignedSignature(request, claim, secret)
      : headerSignature(request, claim, secret, declared ?? bodyHash!);
  const matches =
    expected !== undefined &&
    expected.length === claim.signature.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(claim.signature));
  if (!matches) return false;
  if (declared?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return chunksMatch(req.body, claim, secret);
  return true;
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

/** The signature an `Authorization` header should carry: the SDK's canonical request, hashed and signed. */
function headerSignature(request: HttpRequest, claim: SignatureClaim, secret: string, payloadHash: string): string {
  const canonical = (claim.service === 's3' ? s3Canonicalizer : canonicalizer).canonicalRequest(
    request,
    signedHeaderSet(claim.signedHeaders),
    payloadHash,
  );
  const shortDate = claim.longDate.slice(0, 8);
  const scope = `${shortDate}/${claim.region}/${claim.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${claim.longDate}\n${scope}\n${hash('sha256', canonical, 'hex')}`;
  return createHmac('sha256', signingKey(secret, shortDate, claim.region, claim.service))
    .update(stringToSign)
    .digest('hex');
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
  // An S3 presigned URL always leaves the payload out of its signature.
  if (claim.service === 's3') request = { ...request, headers: { ...request.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
  const signed = await signer.presign(request, {
    signingDate: new Date(signingTime(claim)),
    signableHeaders: new Set(claim.signedHeaders),
    expiresIn: claim.expiresIn ?? 0,
  });
  const value = signed.query?.['X-Amz-Signature'];
  return typeof value === 'string' ? value : undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
