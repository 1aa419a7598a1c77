/**
 * The direct canonical request (plainCanonicalRequest) against the SDK's: requests of many shapes, signed
 * by the SDK's own signer from a seeded generator, must be accepted, and refused once tampered with; where
 * the direct one answers it must be byte-identical to the SDK's, and every near miss must go to the SDK.
 */
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { plainCanonicalRequest, sdkCanonicalRequest, signatureMatches } from './signature.js';
import { headerValue, readClaim, type SignatureClaim, type SignedRequest } from './sigv4.js';

const KEY = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const AT = new Date(Date.UTC(2026, 11, 6, 12, 0, 0));

/** mulberry32: the same requests on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const VALUE_CHARS = UNRESERVED + '!"#$%&\'()*+,/:;<=>?@[\\]^`{|}é\u00a0'; // NBSP: whitespace to String.trim, not to the SDK

/** Ways a request can miss the plain shape; each one makes plainCanonicalRequest decline it. */
const NEAR_MISSES = [
  'percent',
  'space-in-path',
  'dot-dot',
  'dot',
  'double-slash',
  'unicode-path',
  'arn',
  'reserved-in-path',
  'tab',
  'double-space',
  'leading-space',
  'trailing-space',
  'unsorted-signed-headers',
  'duplicate-signed-header',
  'underscore-header',
  'query',
] as const;
type Miss = (typeof NEAR_MISSES)[number];

interface Case {
  req: SignedRequest;
  claim: SignatureClaim;
  miss: Miss | undefined;
}

async function generate(rand: () => number, miss: Miss | undefined): Promise<Case> {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const word = (chars: string, min = 1, max = 12) => Array.from({ length: min + int(max - min + 1) }, () => pick([...chars])).join('');
  const segment = () => {
    const s = word(UNRESERVED);
    return s === '.' || s === '..' ? 'x' : s;
  };
  const service = rand() < 0.3 ? 's3' : 'lambda';
  const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']);
  const segments = Array.from({ length: int(6) }, segment);
  if (miss === 'percent') segments.push(`${segment()}%3A${segment()}`);
  if (miss === 'space-in-path') segments.push(`${segment()} ${segment()}`);
  if (miss === 'dot-dot') segments.splice(int(segments.length + 1), 0, '..');
  if (miss === 'dot') segments.splice(int(segments.length + 1), 0, '.');
  if (miss === 'double-slash') {
    if (segments.length === 0) segments.push(segment());
    segments.splice(int(segments.length), 0, ''); // before a segment: at the end it would be a trailing `/`
  }
  if (miss === 'unicode-path') segments.push(pick(['fonction-é', '函数', 'naïve', 'x\u00a0y']));
  if (miss === 'arn') segments.push(`arn:aws:lambda:us-east-1:123456789012:function:${segment()}`);
  if (miss === 'reserved-in-path') segments.push(`${segment()}${pick(['!', '*', "'", '(', '+', '@', '=', '$'])}`);
  const path = '/' + segments.join('/') + (segments.length > 0 && rand() < 0.2 ? '/' : '');

  const value = () => Array.from({ length: 1 + int(4) }, () => word(VALUE_CHARS)).join(' ');
  const headers: Record<string, string> = {
    host: pick(['127.0.0.1:4566', 'localhost:4566', 's3.localhost.localstack.cloud']),
    'content-type': pick(['application/json', 'application/x-amz-json-1.1', 'text/plain; charset=utf-8']),
    'amz-sdk-invocation-id': word('0123456789abcdef-', 36, 36),
    'amz-sdk-request': `attempt=${1 + int(3)}; max=3`,
    'x-amz-user-agent': 'aws-sdk-js/3.700.0',
    'user-agent': 'aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.18.0',
  };
  for (let i = int(3); i > 0; i--) headers[`x-amz-meta-${word('abcdefghijklmnopqrstuvwxyz0123456789-', 1, 8)}`] = value();
  const target = pick(['content-type', 'x-amz-user-agent', 'amz-sdk-request']);
  if (miss === 'tab') headers[target] = headers[target]!.replace(/ |$/, '\t');
  if (miss === 'double-space') headers[target] += '  x';
  if (miss === 'leading-space') headers[target] = ' ' + headers[target]!;
  if (miss === 'trailing-space') headers[target] += ' ';
  if (miss === 'underscore-header') headers['x_custom'] = value();
  const query: Record<string, string> = {};
  if (miss === 'query') for (let i = 1 + int(3); i > 0; i--) query[word(UNRESERVED + ' :/')] = word(VALUE_CHARS, 0);
  const body = rand() < 0.2 ? '' : JSON.stringify({ key: value(), n: int(1000) });

  const signer = new SignatureV4({
    service,
    region: 'us-east-1',
    credentials: KEY,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
    applyChecksum: service === 's3' || rand() < 0.5,
  });
  const out = await signer.sign({ method, protocol: 'http:', hostname: 'localhost', path, query, headers, body }, { signingDate: AT });
  const signedHeaders = out.headers as Record<string, string>;
  if (miss === 'unsorted-signed-headers' || miss === 'duplicate-signed-header') {
    signedHeaders.authorization = signedHeaders.authorization!.replace(/SignedHeaders=([^,]+)/, (_, list: string) => {
      const names = list.split(';');
      return `SignedHeaders=${(miss === 'duplicate-signed-header' ? [...names, names[0]] : names.reverse()).join(';')}`;
    });
  }
  // Signed-header names arrive in any case; Versa reads them lower-cased.
  if (rand() < 0.1) signedHeaders.authorization = signedHeaders.authorization!.replace(/(?<=SignedHeaders=)[^,]+/, (s) => s.toUpperCase());
  const req: SignedRequest = { method, path, query: new URLSearchParams(query), headers: signedHeaders, body: Buffer.from(body) };
  const claim = readClaim(req);
  assert.ok(claim && !('kind' in claim), `a claim in ${signedHeaders.authorization}`);
  return { req, claim, miss };
}

/** The payload hash signatureMatches gives the canonical request. */
function payloadHash({ req, claim }: Case): string {
  const declared = claim.signedHeaders.includes('x-amz-content-sha256') ? headerValue(req.headers, 'x-amz-content-sha256') : undefined;
  return declared ?? hash('sha256', req.body, 'hex');
}

async function cases(seed: number, count: number): Promise<Case[]> {
  const rand = prng(seed);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) out.push(await generate(rand, rand() < 0.5 ? undefined : NEAR_MISSES[i % NEAR_MISSES.length]));
  return out;
}

const label = ({ req, claim, miss }: Case) =>
  `${miss ?? 'plain'} ${claim.service} ${req.method} ${req.path} ${claim.signedHeaders.join(';')}`;

describe('sigv4: the direct canonical request', () => {
  it('agrees byte for byte with the SDK where it answers, and leaves every near miss to the SDK', async () => {
    let direct = 0;
    for (const c of await cases(1, 1500)) {
      const plain = plainCanonicalRequest(c.req, c.claim, payloadHash(c));
      if (c.miss === undefined) {
        assert.equal(plain, sdkCanonicalRequest(c.req, c.claim, payloadHash(c)), label(c));
        direct++;
      } else assert.equal(plain, undefined, label(c));
    }
    assert.ok(direct > 600, `${direct} requests of the plain shape`);
  });

  it('accepts every request the SDK signed, on either path, and refuses it once its body, path or a header changed', async () => {
    for (const c of await cases(2, 1000)) {
      const { req, claim } = c;
      assert.equal(await signatureMatches(req, claim, KEY.secretAccessKey), true, label(c));
      assert.equal(await signatureMatches(req, claim, 'another secret'), false, label(c));
      // A hash an S3 request declares covers its body: S3 checks that itself (XAmzContentSHA256Mismatch,
      // test/s3-access.test.ts), the signature covers the declared value.
      const s3Declared = claim.service === 's3' && headerValue(req.headers, 'x-amz-content-sha256') !== undefined;
      const body = Buffer.concat([req.body, Buffer.from('x')]);
      assert.equal(await signatureMatches({ ...req, body }, claim, KEY.secretAccessKey), s3Declared, `body: ${label(c)}`);
      assert.equal(await signatureMatches({ ...req, path: req.path + 'x' }, claim, KEY.secretAccessKey), false, `path: ${label(c)}`);
      const name = claim.signedHeaders.find((n) => n !== 'x-amz-date' && n !== 'x-amz-content-sha256')!;
      const headers = { ...req.headers, [name]: `${headerValue(req.headers, name)}Z` };
      assert.equal(await signatureMatches({ ...req, headers }, claim, KEY.secretAccessKey), false, `${name}: ${label(c)}`);
    }
  });

  it('takes a Lambda Invoke as the SDK v3 sends it the direct way', async () => {
    const c = await generate(prng(3), undefined);
    const invoke: SignedRequest = { ...c.req, method: 'POST', path: '/2015-03-31/functions/my-function/invocations' };
    assert.ok(
      plainCanonicalRequest(invoke, c.claim, payloadHash(c))?.startsWith('POST\n/2015-03-31/functions/my-function/invocations\n\n'),
    );
  });
});
