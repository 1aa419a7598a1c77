/** Clients and raw requests for Versa's S3 in the tests. */
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { S3Client } from '@aws-sdk/client-s3';

export const TEST_KEY = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Resolves every name to 127.0.0.1, so `{bucket}.s3.localhost` reaches the server as a client on this machine would. */
const toLoopback: LookupFunction = (_host, options, callback) => {
  if (options.all)
    (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

/**
 * An SDK v3 S3 client: path style against the URL; virtual-host style against `s3.localhost` on its
 * port; the SDK's own choice against the URL (path style, for an IP address) or against
 * `http://localhost` (the SDK then sends `Host: {bucket}.localhost`).
 */
export function s3ClientFor(url: string, style: 'path' | 'virtual' | 'default' | 'localhost' = 'path', key = TEST_KEY): S3Client {
  const port = new URL(url).port;
  if (style === 'virtual' || style === 'localhost') {
    return new S3Client({
      endpoint: style === 'virtual' ? `http://s3.localhost:${port}` : `http://localhost:${port}`,
      region: 'us-east-1',
      credentials: key,
      forcePathStyle: false,
      maxAttempts: 1,
      requestHandler: { httpAgent: new http.Agent({ lookup: toLoopback }) },
    });
  }
  return new S3Client({
    endpoint: url,
    region: 'us-east-1',
    credentials: key,
    maxAttempts: 1,
    ...(style === 'path' && { forcePathStyle: true }),
  });
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A request signed for S3 as the SDKs sign it (the path signed as sent, the payload hash in
 * `x-amz-content-sha256`), or unsigned. `host` overrides the Host header (virtual hosts).
 */
export async function s3Fetch(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array;
    key?: typeof TEST_KEY | null;
    payloadHash?: string;
    /** The region signed for (us-east-1 unless given). */
    region?: string;
  } = {},
): Promise<RawAnswer> {
  const target = new URL(url);
  // The path as written: URL would resolve `..` segments, which a client sends as they are.
  const written = rawPathOf(url);
  const method = init.method ?? 'GET';
  let headers: Record<string, string> = { ...init.headers };
  if (init.key !== null) {
    const query: Record<string, string> = {};
    for (const [k, v] of target.searchParams) query[k] = v;
    const signer = new SignatureV4({
      service: 's3',
      region: init.region ?? 'us-east-1',
      credentials: init.key ?? TEST_KEY,
      sha256: Sha256,
      uriEscapePath: false,
    });
    const body = init.body ?? '';
    const payloadHash = init.payloadHash ?? (await sha256Hex(body));
    const signed = await signer.sign({
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port && { port: Number(target.port) }),
      path: written.path,
      query,
      headers: { ...headers, host: headers.host ?? target.host, 'x-amz-content-sha256': payloadHash },
      body,
    });
    headers = { ...(signed.headers as Record<string, string>) };
  }
  return rawRequest(url, method, headers, init.body);
}

/** The path and query of a URL exactly as written. */
function rawPathOf(url: string): { path: string; search: string } {
  const afterHost = url.replace(/^[a-z]+:\/\/[^/]*/, '');
  const q = afterHost.indexOf('?');
  return q < 0 ? { path: afterHost, search: '' } : { path: afterHost.slice(0, q), search: afterHost.slice(q) };
}

async function sha256Hex(body: string | Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(body).digest('hex');
}

/** A plain HTTP request (node:http, so that the Host header is sent as given). */
export function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<RawAnswer> {
  const target = new URL(url);
  const written = rawPathOf(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: Number(target.port), method, path: `${written.path}${written.search}`, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The text of an element in an S3 XML answer. */
export function xmlText(xml: string, element: string): string | undefined {
  return new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml)?.[1];
}

/**
 * A presigned GET of `url` (path or virtual-host style), as the SDK's S3 presigner makes one: only `host`
 * signed and the payload UNSIGNED-PAYLOAD.
 */
export async function presignedGet(url: string, key = TEST_KEY, expiresIn = 300, signingDate = new Date()): Promise<string> {
  const at = new URL(url);
  const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: key, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: at.hostname,
      port: Number(at.port),
      path: at.pathname,
      query: {},
      headers: { host: at.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn, signingDate, unsignableHeaders: new Set(['x-amz-content-sha256']) },
  );
  return `${at.origin}${at.pathname}?${new URLSearchParams(signed.query as Record<string, string>).toString()}`;
}
