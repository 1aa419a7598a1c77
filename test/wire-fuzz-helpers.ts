/**
 * The parts of the wire fuzzer that know nothing of Versa's state: a seeded random source, botocore's
 * service models (the input shape of every operation), a generator of plausible inputs from a shape,
 * the mutations applied to them, and the one function that sends a request.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

// ---- Seeded random source ----

/** mulberry32: small, fast and good enough to make a fuzz run repeatable from its seed. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

// ---- botocore service models ----

export interface MemberRef {
  shape: string;
  location?: string;
  locationName?: string;
}
export interface Shape {
  type: string;
  members?: Record<string, MemberRef>;
  required?: string[];
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  enum?: string[];
  min?: number;
  max?: number;
  payload?: string;
}
export interface Model {
  operations: Record<string, { name: string; http: { method: string; requestUri: string }; input?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

/** botocore's data folder on this machine; the AWS CLI and boto3 ship it, and CI has them. */
function botocoreData(): string {
  const dir = execFileSync('python3', ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], {
    encoding: 'utf8',
  }).trim();
  return path.join(dir, 'data');
}

let dataDir: string | undefined;

/** The service model `data/<service>/<version>/service-2.json(.gz)`. */
export function loadModel(service: string, version: string): Model {
  dataDir ??= botocoreData();
  const file = path.join(dataDir, service, version, 'service-2.json');
  let text: string;
  try {
    text = gunzipSync(readFileSync(`${file}.gz`)).toString('utf8');
  } catch {
    text = readFileSync(file, 'utf8');
  }
  return JSON.parse(text) as Model;
}

// ---- Values ----

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Strings that have broken parsers, databases and headers before. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202eevil',
  '😀👍🏽',
  'ü名前',
  '%E0%A4%A',
  '%',
  '%zz',
  '../../etc/passwd',
  "'; DROP TABLE functions; --",
  '${jndi:ldap://x}',
  "$input.json('$')",
  '<xml>&amp;</xml>',
  'a\r\nX-Injected: 1',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'x'.repeat(100 * 1024),
];

export const NASTY_NUMBERS: readonly number[] = [1e308, -1e308, -1, 0, -0, 2 ** 53 + 1, -(2 ** 53) - 1, 0.5, 1e-300, 2 ** 31, 2 ** 32 + 1];

export const WRONG_TYPES: readonly Json[] = [0, -1, 1e308, true, false, null, [], [1, 'x'], {}, { a: 1 }, 'str', '', [[[]]], { '': '' }];

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** An object with `key` as an own, enumerable property, even for `__proto__` (a literal would set the prototype). */
export function withOwnKey(target: Record<string, Json>, key: string, value: Json): Record<string, Json> {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

export interface GenContext {
  rng: Rng;
  model: Model;
  /** Values for members by name (seeded resources), used most of the time. */
  names: Record<string, () => string>;
  /** Epoch-second numbers (JSON) or ISO-8601 strings (query). */
  timestamps: 'epoch' | 'iso';
}

/** A plausible value for a shape: required members always, optional ones sometimes. */
export function generate(ctx: GenContext, ref: MemberRef, memberName: string, depth = 0): Json {
  const shape = ctx.model.shapes[ref.shape]!;
  const { rng } = ctx;
  const named = Object.hasOwn(ctx.names, memberName) ? ctx.names[memberName] : undefined;
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, Json> = {};
      if (depth > 4) return out;
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        if (shape.required?.includes(name) || rng.chance(0.35)) out[name] = generate(ctx, member, name, depth + 1);
      }
      return out;
    }
    case 'list': {
      if (depth > 4) return [];
      const n = Math.max(shape.min ?? 0, rng.int(3));
      return Array.from({ length: n }, () => generate(ctx, shape.member!, memberName.replace(/s$/, ''), depth + 1));
    }
    case 'map': {
      const out: Record<string, Json> = {};
      if (depth > 4) return out;
      for (let i = rng.int(3); i > 0; i--) out[`K${rng.int(100)}`] = generate(ctx, shape.value!, '', depth + 1);
      return out;
    }
    case 'string':
      if (named && rng.chance(0.8)) return named();
      if (shape.enum) return rng.pick(shape.enum);
      return randomText(rng, Math.max(shape.min ?? 1, 1), Math.min(shape.max ?? 16, 16));
    case 'integer':
    case 'long': {
      const min = shape.min ?? 0;
      const max = Math.min(shape.max ?? 100, min + 100);
      return min + rng.int(max - min + 1);
    }
    case 'double':
    case 'float':
      return Math.round(rng.next() * 1000) / 10;
    case 'boolean':
      return rng.chance(0.5);
    case 'timestamp':
      return ctx.timestamps === 'epoch'
        ? Math.floor(Date.now() / 1000) - rng.int(3600)
        : new Date(Date.now() - rng.int(3_600_000)).toISOString();
    case 'blob':
      return Buffer.from(randomText(rng, 1, 24)).toString('base64');
    default:
      return named ? named() : randomText(rng, 1, 8);
  }
}

function randomText(rng: Rng, min: number, max: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
  const n = min + rng.int(Math.max(1, max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += chars[rng.int(chars.length)];
  return s;
}

/** Every path to a member inside a generated value (`['a', 0, 'b']`), the root excluded. */
export function memberPaths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...prefix, i]), memberPaths(v, [...prefix, i], out)));
  else if (value !== null && typeof value === 'object') {
    for (const k of Object.keys(value)) {
      out.push([...prefix, k]);
      memberPaths(value[k]!, [...prefix, k], out);
    }
  }
  return out;
}

/** The container holding the member at `at`, and its key. */
export function parentOf(root: Json, at: (string | number)[]): { parent: Record<string, Json> | Json[]; key: string | number } {
  let node = root as Record<string, Json> | Json[];
  for (const step of at.slice(0, -1)) node = (node as Record<string | number, Json>)[step] as Record<string, Json> | Json[];
  return { parent: node, key: at[at.length - 1]! };
}

// ---- Query-protocol form encoding ----

/** Serialises a value the way the query protocol does: `A.member.1.B=x`. */
export function toForm(value: Json, prefix = '', out: [string, string][] = []): [string, string][] {
  if (Array.isArray(value)) value.forEach((v, i) => toForm(v, `${prefix}.member.${i + 1}`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) toForm(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== null) out.push([prefix, String(value)]);
  return out;
}

/** encodeURIComponent that takes any string: a lone surrogate is sent as U+FFFD, as UTF-8 would carry it. */
export function enc(text: string): string {
  return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
}

export function encodeForm(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

// ---- Sending ----

export interface WireRequest {
  method: string;
  /** Sent as is: bad percent-escapes stay bad. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Any SigV4 header: a server without configured credentials accepts any key, and once the front door
 * authenticates, an AWS request without one is refused with 403 before it reaches a parser.
 */
export const AUTHORIZATION = `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** Sends one request to the server, signed as above; the only place the fuzzer touches the network. */
export function send(baseUrl: string, req: WireRequest, opts: { sign?: boolean } = {}): Promise<WireResponse> {
  const url = new URL(baseUrl);
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  const headers: Record<string, string | number> = {
    'x-amz-date': '20260101T000000Z',
    ...(opts.sign !== false && { authorization: AUTHORIZATION }),
    ...req.headers,
    ...(body && { 'content-length': body.byteLength }),
  };
  return new Promise((resolve, reject) => {
    const r = request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

export function closeAgent(): void {
  agent.destroy();
}
