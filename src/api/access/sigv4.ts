import type { IncomingHttpHeaders } from 'node:http';

/**
 * Signature Version 4 as a request carries it: the claim (who signed, for what scope, over which
 * headers), read from an `Authorization` header or a presigned query, and its time window. Whether the
 * signature itself is right is signature.ts's question.
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
  | { kind: 'expired'; message: string }
  | { kind: 'unsigned-headers'; headers: string[] }
  /** The source sent too many wrong signatures lately (failures.ts): refused unchecked for `seconds` more. */
  | { kind: 'shut-out'; seconds: number };

export interface SignedRequest {
  method: string;
  /** The raw path, as sent (still percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body's SHA-256 when it was taken as it arrived (a large body): not computed again. */
  bodyDigests?: { sha256: string };
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

/** The header as every SDK writes it: read with one match, the parts in their order, no splitting. */
const SDK_AUTH_HEADER = /^AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([0-9a-f]{64})$/;

/**
 * What a header of the SDKs' shape says before its signature, by that text: a client sends the same
 * credential and signed headers all day, so only the date and the signature are read per request. The
 * prefix seen last is compared in place (no new string), the others looked up.
 */
interface HeaderPrefix {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  signedHeaders: readonly string[];
}
const headerPrefixes = new Map<string, HeaderPrefix | null>();
let lastPrefix = '';
let lastKnown: HeaderPrefix | null = null;
const SIGNATURE_AT = 'Signature='.length + 64;

function knownPrefix(header: string, at: number): HeaderPrefix | null {
  if (at === lastPrefix.length && header.startsWith(lastPrefix)) return lastKnown;
  const prefix = header.slice(0, at);
  let known = headerPrefixes.get(prefix);
  if (known === undefined) {
    const parsed = SDK_AUTH_HEADER.exec(`${prefix}Signature=${'0'.repeat(64)}`);
    const shortDate = parsed?.[1]!.split('/')[1] ?? '';
    const claim = parsed && completeClaim(parsed[1]!, `${shortDate}T000000Z`, parsed[2]!, '0'.repeat(64), undefined);
    known =
      claim && !('kind' in claim)
        ? { accessKeyId: claim.accessKeyId, shortDate, region: claim.region, service: claim.service, signedHeaders: claim.signedHeaders }
        : null;
    // Bounded: a client inventing headers only fills it once.
    if (headerPrefixes.size >= 256) headerPrefixes.clear();
    headerPrefixes.set(prefix, known);
  }
  lastPrefix = prefix;
  lastKnown = known;
  return known;
}

function claimFromHeader(header: string, headers: IncomingHttpHeaders): SignatureClaim | AuthFailure {
  const date = headerValue(headers, 'x-amz-date');
  const at = header.length - SIGNATURE_AT;
  if (date !== undefined && at > 0 && header.startsWith('Signature=', at)) {
    const known = knownPrefix(header, at);
    const signature = header.slice(at + 'Signature='.length);
    if (known !== null && LONG_DATE.test(date) && date.startsWith(known.shortDate) && HEX_SIGNATURE.test(signature)) {
      return {
        accessKeyId: known.accessKeyId,
        longDate: date,
        region: known.region,
        service: known.service,
        signedHeaders: known.signedHeaders,
        signature,
        sessionToken: headerValue(headers, 'x-amz-security-token'),
      };
    }
  }
  const sdk = SDK_AUTH_HEADER.exec(header);
  if (sdk && date !== undefined) return completeClaim(sdk[1]!, date, sdk[2]!, sdk[3]!, headerValue(headers, 'x-amz-security-token'));
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

const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

/** A credential's parts (key, day, region, service) by its text: a client sends the same one all day. */
const scopes = new Map<string, readonly string[] | undefined>();

function credentialScope(credential: string): readonly string[] | undefined {
  if (scopes.has(credential)) return scopes.get(credential);
  const scope = credential.split('/');
  const valid = scope.length === 5 && scope[4] === 'aws4_request' && /^\d{8}$/.test(scope[1]!) && scope[0] !== '';
  // Bounded: a client inventing credentials only fills it once.
  if (scopes.size >= 256) scopes.clear();
  scopes.set(credential, valid ? scope : undefined);
  return valid ? scope : undefined;
}

function completeClaim(
  credential: string,
  longDate: string,
  signedHeaders: string,
  signature: string,
  sessionToken: string | undefined,
): SignatureClaim | AuthFailure {
  const scope = credentialScope(credential);
  if (scope === undefined) {
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
  const signed = signedHeaderList(signedHeaders);
  // The host binds a signature to the server it was made for: one without it could be replayed at any other.
  if (!signed.includes('host'))
    return { kind: 'incomplete', message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization." };
  return {
    accessKeyId: scope[0]!,
    longDate,
    region: scope[2]!,
    service: scope[3]!,
    signedHeaders: signed,
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

/** The last signing time read, by its text: a busy client's requests carry the same one for a second. */
let lastLongDate = '';
let lastSigningTime = 0;

/** The signing time of a claim, in epoch milliseconds. */
export function signingTime(claim: SignatureClaim): number {
  if (claim.longDate !== lastLongDate) {
    const m = LONG_DATE.exec(claim.longDate)!;
    lastSigningTime = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    lastLongDate = claim.longDate;
  }
  return lastSigningTime;
}

/**
 * The `x-amz-*` headers a request carries that its signature does not cover. Each changes what a request
 * does (`x-amz-target` picks the operation, `x-amz-copy-source` makes a PutObject a copy of any object),
 * so AWS refuses a request with one added: a captured or presigned request cannot be made another.
 * Exempt: the payload's own hashes and checksums, which only say what the body is (S3 checks them on it).
 */
export function unsignedHeaders(headers: IncomingHttpHeaders, signed: readonly string[]): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (!name.startsWith('x-amz-') || signed.includes(name)) continue;
    if (name === 'x-amz-content-sha256' || name === 'x-amz-sdk-checksum-algorithm' || name.startsWith('x-amz-checksum-')) continue;
    out.push(name);
  }
  return out;
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

/** A header's value as signed: repeated headers joined with commas. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  // Own headers only: a signed-header list naming `constructor` or `__proto__` must not find the prototype's.
  if (!Object.hasOwn(headers, name)) return undefined;
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
