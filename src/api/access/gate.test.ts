import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { ApiRequest } from '../aws/protocol/http.js';
import { AccessGate, type AccessSettings } from './gate.js';
import { Keyring } from './keyring.js';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const OPS = { accessKeyId: 'AKIDOPS', secretAccessKey: 'ops-secret' };

function gate(overrides: Partial<AccessSettings> = {}): AccessGate {
  return new AccessGate({
    keyring: new Keyring([OPS]),
    boundHost: '127.0.0.1',
    allowedHosts: [],
    corsOrigins: [],
    metricsToken: '',
    now: () => NOW,
    ...overrides,
  });
}

function request(over: Partial<ApiRequest> & { headers?: Record<string, string> } = {}): ApiRequest {
  return {
    method: 'GET',
    path: '/2015-03-31/functions/',
    query: new URLSearchParams(),
    body: Buffer.alloc(0),
    region: 'us-east-1',
    requestId: 'r',
    origin: 'http://127.0.0.1:4566',
    sourceIp: '127.0.0.1',
    ...over,
    headers: { host: '127.0.0.1:4566', ...over.headers },
  };
}

/** A request signed by the SDK's signer, as the AWS clients send it. */
async function signed(
  key: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  opts: { method?: string; path?: string; body?: string; at?: number; query?: Record<string, string> } = {},
): Promise<ApiRequest> {
  const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: key, sha256: Sha256 });
  const body = opts.body ?? '';
  const out = await signer.sign(
    {
      method: opts.method ?? 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4566,
      path: opts.path ?? '/2015-03-31/functions/my%3Afn/invocations',
      query: opts.query ?? {},
      headers: { host: '127.0.0.1:4566', 'content-type': 'application/json' },
      body,
    },
    { signingDate: new Date(opts.at ?? NOW) },
  );
  return request({
    method: out.method,
    path: out.path,
    query: new URLSearchParams(opts.query),
    headers: out.headers,
    body: Buffer.from(body),
  });
}

describe('AccessGate: hosts', () => {
  it('hostAllowed: loopback names, *.localhost and the bound address are served; others are not', () => {
    const g = gate({ boundHost: '127.0.0.5', allowedHosts: ['versa.internal', '*.dev.example'] });
    for (const host of [
      'localhost:4566',
      '127.0.0.1',
      '[::1]:4566',
      'abc123.execute-api.localhost:4566',
      '127.0.0.5:80',
      'versa.internal',
      'a.dev.example:4566',
    ]) {
      assert.equal(g.hostAllowed(request({ headers: { host } })), true, host);
    }
    for (const host of ['attacker.example', 'localhost.attacker.example', 'dev.example', '', '127.0.0.1@evil', 'versa.internal.evil']) {
      assert.equal(g.hostAllowed(request({ headers: { host } })), false, host);
    }
  });
});

describe('AccessGate: guessing', () => {
  it("a function's sandbox that guesses shuts out only functions' connections, not the operator's on the same address", async () => {
    // Connections a function owns carry its marker here (on a root server the kernel says whose each is).
    const fromFunction = new WeakSet<object>();
    const g = gate({ fromSandbox: (req) => fromFunction.has(req.headers) });
    const guess = async () => {
      const req = await signed({ ...OPS, secretAccessKey: 'guess' });
      fromFunction.add(req.headers);
      return g.authenticate(req);
    };
    for (let i = 0; i < 30; i++) assert.deepEqual(await guess(), { kind: 'mismatch' });
    assert.equal((await guess())?.kind, 'shut-out');
    assert.equal(await g.authenticate(await signed(OPS)), undefined, "the operator's own connection");
  });
});

describe('AccessGate: signatures', () => {
  it("authenticate: a header read by a prefix seen before still has its date checked against its credential's, and its signature", async () => {
    const g = gate();
    const first = await signed(OPS);
    assert.equal(await g.authenticate(first), undefined);
    // The same prefix (key, day, signed headers), another request: read from what the first left.
    assert.equal(await g.authenticate(await signed(OPS, { body: '{"b":2}' })), undefined);
    const otherDay = { ...first, headers: { ...first.headers, 'x-amz-date': '20261207T120000Z' } };
    const late = await g.authenticate(otherDay);
    assert.equal(late?.kind, 'incomplete');
    assert.match((late as { message: string }).message, /Credential should be scoped to a valid date/);
    const auth = first.headers.authorization as string;
    const forged = { ...first, headers: { ...first.headers, authorization: `${auth.slice(0, -64)}${'0'.repeat(64)}` } };
    assert.deepEqual(await g.authenticate(forged), { kind: 'mismatch' });
    const notHex = { ...first, headers: { ...first.headers, authorization: `${auth.slice(0, -64)}${'Z'.repeat(64)}` } };
    assert.equal((await g.authenticate(notHex))?.kind, 'incomplete');
  });

  it('authenticate: the right secret passes, a wrong one or an unknown key fails, nothing signed is "missing"', async () => {
    const g = gate();
    assert.equal(await g.authenticate(await signed(OPS)), undefined);
    assert.deepEqual(await g.authenticate(await signed({ ...OPS, secretAccessKey: 'wrong' })), { kind: 'mismatch' });
    assert.deepEqual(await g.authenticate(await signed({ accessKeyId: 'AKIDNOPE', secretAccessKey: 'x' })), { kind: 'unknown-key' });
    assert.deepEqual(await g.authenticate(request()), { kind: 'missing' });
  });

  it('authenticate: a changed body, path or query no longer matches the signature', async () => {
    const g = gate();
    const good = await signed(OPS, { body: '{"a":1}' });
    assert.deepEqual(await g.authenticate({ ...good, body: Buffer.from('{"a":2}') }), { kind: 'mismatch' });
    assert.deepEqual(await g.authenticate({ ...good, path: '/2015-03-31/functions/other/invocations' }), { kind: 'mismatch' });
    assert.deepEqual(await g.authenticate({ ...good, query: new URLSearchParams('Qualifier=2') }), { kind: 'mismatch' });
  });

  it('authenticate: a signed-header list naming what every object inherits is a mismatch, not a failure', async () => {
    const g = gate();
    const stamp = new Date(NOW).toISOString().replace(/[-:]|\.\d{3}/g, '');
    for (const names of ['constructor;__proto__;host;x-amz-date', 'host;tostring;valueof;x-amz-date', 'hasownproperty;host;x-amz-date']) {
      const req = request({
        method: 'POST',
        headers: {
          'x-amz-date': stamp,
          authorization: `AWS4-HMAC-SHA256 Credential=${OPS.accessKeyId}/${stamp.slice(0, 8)}/us-east-1/lambda/aws4_request, SignedHeaders=${names}, Signature=${'0'.repeat(64)}`,
        },
      });
      assert.deepEqual(await g.authenticate(req), { kind: 'mismatch' }, names);
    }
  });

  it('authenticate: a payload left out of the signature is accepted only for a request that goes to S3', async () => {
    const g = gate();
    const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: OPS, sha256: Sha256, uriEscapePath: false });
    const out = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 4566,
        path: '/2015-03-31/functions/f/invocations',
        query: {},
        headers: { host: '127.0.0.1:4566', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        body: '{"any":"body"}',
      },
      { signingDate: new Date(NOW) },
    );
    const req = request({ method: 'POST', path: out.path, headers: out.headers, body: Buffer.from('{"other":"body"}') });
    assert.equal(await g.authenticate(req, true), undefined, 'S3 takes an unsigned payload');
    assert.deepEqual(await g.authenticate(req), { kind: 'mismatch' }, 'Lambda does not: its body would be unchecked');
  });

  it('authenticate: a signature more than 15 minutes from the real clock is expired, either way', async () => {
    const g = gate();
    assert.equal(await g.authenticate(await signed(OPS, { at: NOW - 14 * 60_000 })), undefined);
    const old = await g.authenticate(await signed(OPS, { at: NOW - 16 * 60_000 }));
    assert.equal(old?.kind, 'expired');
    assert.match((old as { message: string }).message, /^Signature expired: 20261206T114400Z is now earlier than 20261206T114500Z/);
    const ancient = await g.authenticate(await signed(OPS, { at: Date.UTC(2001, 0, 1) }));
    assert.equal(ancient?.kind, 'expired');
    assert.equal((await g.authenticate(await signed(OPS, { at: NOW + 16 * 60_000 })))?.kind, 'expired');
  });

  it('authenticate: garbage and partial Authorization headers are incomplete, in both modes', async () => {
    for (const g of [gate(), gate({ keyring: new Keyring([]) })]) {
      for (const authorization of [
        'garbage',
        'AWS4-HMAC-SHA256 Credential=x',
        'Bearer abc',
        'AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00',
      ]) {
        const failure = await g.authenticate(request({ headers: { authorization, 'x-amz-date': '20261206T120000Z' } }));
        assert.equal(failure?.kind, 'incomplete', authorization);
      }
    }
  });

  it('authenticate: without configured keys any whole signature passes, and an unsigned request still does not', async () => {
    const g = gate({ keyring: new Keyring([]) });
    assert.equal(
      await g.authenticate(await signed({ accessKeyId: 'anything', secretAccessKey: 'at all' }, { at: Date.UTC(2001, 0, 1) })),
      undefined,
    );
    assert.deepEqual(await g.authenticate(request()), { kind: 'missing' });
  });

  it('authenticate: an environment key works with its session token, and not after it is revoked', async () => {
    const keyring = new Keyring([OPS]);
    const g = gate({ keyring });
    const issued = keyring.issue('function:f');
    assert.equal(await g.authenticate(await signed(issued)), undefined);
    assert.deepEqual(await g.authenticate(await signed({ ...issued, sessionToken: 'forged' })), { kind: 'unknown-key' });
    issued.revoke();
    assert.deepEqual(await g.authenticate(await signed(issued)), { kind: 'unknown-key' });
  });

  it("authenticate without configured keys: a function's key marks a request as that function's only when signed with its secret", async () => {
    const keyring = new Keyring([]);
    const g = gate({ keyring, functionAccess: 'scoped', fromSandbox: () => true });
    const victim = keyring.issue('function:victim', { function: 'victim', arn: 'arn:aws:sts::000000000000:assumed-role/r/victim' });
    const own = await signed(victim);
    assert.equal(await g.authenticate(own), undefined);
    assert.equal(own.caller?.function, 'victim');
    // The key's id (and even its session token) with any other secret: some function's, not the victim's.
    const forged = await signed({ accessKeyId: victim.accessKeyId, secretAccessKey: 'guessed', sessionToken: victim.sessionToken });
    assert.equal(await g.authenticate(forged), undefined, 'any key passes without configured keys');
    assert.equal(forged.caller?.function, '');
  });

  it('authenticate: a presigned URL passes until it expires', async () => {
    const g = gate();
    const signer = new SignatureV4({ service: 'versa', region: 'us-east-1', credentials: OPS, sha256: Sha256 });
    const presigned = await signer.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 4566,
        path: '/_versa/code/abc.zip',
        query: {},
        headers: { host: '127.0.0.1:4566' },
      },
      { signingDate: new Date(NOW - 60_000), expiresIn: 300 },
    );
    const query = new URLSearchParams(presigned.query as Record<string, string>);
    const req = request({ path: '/_versa/code/abc.zip', query });
    assert.equal(await g.authenticate(req), undefined);
    assert.equal((await gate({ now: () => NOW + 10 * 60_000 }).authenticate(req))?.kind, 'expired');
    query.set('X-Amz-Signature', '0'.repeat(64));
    assert.deepEqual(await g.authenticate(request({ path: '/_versa/code/abc.zip', query })), { kind: 'mismatch' });
  });
});

describe('AccessGate: signatures from the SDK signer, on awkward requests', () => {
  it('authenticate: 300 seeded random requests signed by @smithy/signature-v4 all verify, and none after one byte changes', async () => {
    let seed = 0x5eed;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
    const ALPHABET = ['a', 'Z', '0', '-', '_', '.', '~', ' ', ':', '+', '%2F', '@', '!', '*', "'", '(', 'é', '日', '$', '&', '='];
    const word = () => Array.from({ length: 1 + rand(8) }, () => pick(ALPHABET)).join('');
    const g = gate();
    for (let i = 0; i < 300; i++) {
      const segments = Array.from({ length: 1 + rand(4) }, () => encodeURIComponent(word()).replace(/%252F/g, '%2F'));
      const path = `/${segments.join('/')}${rand(4) === 0 ? '/' : ''}`;
      const query: Record<string, string | string[]> = {};
      for (let q = rand(4); q > 0; q--) {
        const key = word();
        query[key] = rand(3) === 0 ? [word(), word()] : word();
      }
      const extra: Record<string, string> = {};
      if (rand(2)) extra['x-amz-target'] = `Svc_2020.${word()}`;
      if (rand(2)) extra['x-custom'] = `  spaced   out\t${word()}  `;
      const body = rand(2) ? JSON.stringify({ text: word() }) : '';
      const method = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
      const signer = new SignatureV4({
        service: pick(['lambda', 'logs', 'monitoring']),
        region: pick(['us-east-1', 'eu-west-3']),
        credentials: OPS,
        sha256: Sha256,
      });
      const out = await signer.sign(
        { method, protocol: 'http:', hostname: '127.0.0.1', port: 4566, path, query, headers: { host: '127.0.0.1:4566', ...extra }, body },
        { signingDate: new Date(NOW) },
      );
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
      // Each from an address of its own: 300 wrong signatures from one would shut it out (failures.ts).
      const sourceIp = `10.0.${i >> 8}.${i & 255}`;
      const req = request({ method, path, query: params, headers: out.headers, body: Buffer.from(body), sourceIp });
      assert.equal(await g.authenticate(req), undefined, `${method} ${path}?${params.toString()}`);
      const tampered = body
        ? { ...req, body: Buffer.from(body.replace(/.$/, ' ')) }
        : { ...req, method: method === 'GET' ? 'HEAD' : 'GET' };
      assert.deepEqual(await g.authenticate(tampered), { kind: 'mismatch' });
    }
  });
});

describe('AccessGate: origins and metrics', () => {
  it('foreignCaller: a page of another origin is foreign; this server, curl and the CLI are not', () => {
    const g = gate();
    assert.equal(g.foreignCaller(request({ headers: { origin: 'http://127.0.0.1:4566' } })), undefined);
    assert.equal(g.foreignCaller(request()), undefined);
    assert.equal(g.foreignCaller(request({ headers: { 'sec-fetch-site': 'same-origin' } })), undefined);
    const other = 'http://127.0.0.1:9999';
    assert.deepEqual(g.foreignCaller(request({ headers: { origin: other } })), { origin: other, named: other });
    assert.deepEqual(g.foreignCaller(request({ headers: { origin: 'null' } })), { origin: 'null', named: 'null' });
    assert.deepEqual(g.foreignCaller(request({ headers: { 'sec-fetch-site': 'cross-site' } })), {
      origin: undefined,
      named: 'a cross-site page',
    });
  });

  it('corsAllowed: only the listed origins, or any with *', () => {
    assert.equal(gate({ corsOrigins: ['https://app.example'] }).corsAllowed('https://app.example'), true);
    assert.equal(gate({ corsOrigins: ['https://app.example'] }).corsAllowed('https://evil.example'), false);
    assert.equal(gate({ corsOrigins: ['*'] }).corsAllowed('https://evil.example'), true);
    assert.equal(gate().corsAllowed('https://app.example'), false);
  });

  it('metricsAllowed: loopback callers, the bearer token, or a signed request; not anyone else', async () => {
    const g = gate({ metricsToken: 'scrape-me' });
    const remote = (headers: Record<string, string> = {}) => request({ path: '/_versa/metrics', sourceIp: '192.0.2.7', headers });
    assert.equal(await g.metricsAllowed(request({ path: '/_versa/metrics' })), true);
    assert.equal(await g.metricsAllowed(remote()), false);
    assert.equal(await g.metricsAllowed(remote({ authorization: 'Bearer scrape-me' })), true);
    assert.equal(await g.metricsAllowed(remote({ authorization: 'Bearer scrape-mf' })), false);
    assert.equal(await g.metricsAllowed({ ...(await signed(OPS)), sourceIp: '192.0.2.7' }), true);
  });
});
