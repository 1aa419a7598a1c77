/**
 * The API Gateway data plane, end to end: tutorial 001 (a stage canary between two Lambda functions)
 * walked with the AWS SDK v3, then requests with plain fetch() to stage URLs through every integration
 * type, checked against the reference (§2.2–2.4).
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CreateDeploymentCommand,
  DeleteRestApiCommand,
  DeleteStageCommand,
  GetStageCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  TestInvokeMethodCommand,
  UpdateRestApiCommand,
  UpdateStageCommand,
  type APIGatewayClient,
} from '@aws-sdk/client-api-gateway';
import { CreateAliasCommand, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { COOKIES_DROPPED } from '../src/api/stage-cookies.js';
import { seededRandom } from '../src/core/random.js';
import { createFunction, errorOf, startTestServer, zipOf, type TestServer } from './harness.js';
import { loopHolds } from './loop-holds.js';
import {
  apiGatewayClientFor,
  call,
  createApi,
  getWithHost,
  lambdaTo,
  lambdaUri,
  proxyTo,
  putMethod,
  resourceAt,
  stageUrl,
  type StageAnswer,
} from './apigateway-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INTERNAL = { message: 'Internal server error' };
const MISSING_TOKEN = { message: 'Missing Authentication Token' };

/** Tutorial 001's functions: Node callback-style handlers, as in examples/api-canary/walk.sh. */
const mathSource = (math: string, label: string) => ({
  'index.js': `exports.handler = async (event, context, callback) => {\n  callback(null, "this is the ${label} function (${math}) = " + ${math}(999.5));\n};\n`,
});
const CEIL = '"this is the original function (Math.ceil) = 1000"';
const FLOOR = '"this is the canary function (Math.floor) = 999"';

describe('tutorial 001: a stage canary between MathCeil and MathFloor', () => {
  let t: TestServer;
  let apigw: APIGatewayClient;
  before(async () => {
    t = await startTestServer({ random: seededRandom(1001) });
    apigw = apiGatewayClientFor(t.url);
  });
  after(async () => {
    apigw.destroy();
    await t.close();
  });

  it('walks deploy → re-point → canary 10% → 50% → promote → remove canary, and serves the Host-based URL', async () => {
    await createFunction(t.lambda, 'MathCeil', mathSource('Math.ceil', 'original'));
    await createFunction(t.lambda, 'MathFloor', mathSource('Math.floor', 'canary'));
    const { id, rootId } = await createApi(apigw, 'MathApi');
    await putMethod(apigw, id, rootId, 'GET', lambdaTo('MathCeil'));

    const tested = await apigw.send(new TestInvokeMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET' }));
    assert.equal(tested.status, 200);
    assert.equal(tested.body, CEIL);

    const first = await apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod', description: 'MathCeil' }));
    const url = stageUrl(t.url, id, 'prod');
    /** Requests the stage n times and counts the answers by function. */
    const count = async (n: number) => {
      const counts = { ceil: 0, floor: 0 };
      for (let i = 0; i < n; i++) {
        const res = await call(url);
        assert.equal(res.status, 200, res.text);
        if (res.text === CEIL) counts.ceil++;
        else if (res.text === FLOOR) counts.floor++;
        else assert.fail(`unexpected answer ${res.text}`);
      }
      return counts;
    };
    const one = await call(url);
    assert.equal(one.text, CEIL);
    assert.match(one.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await count(20), { ceil: 20, floor: 0 });

    // Re-pointing the integration changes the API, not the stage, until a deployment.
    await apigw.send(
      new PutIntegrationCommand({
        restApiId: id,
        resourceId: rootId,
        httpMethod: 'GET',
        type: 'AWS',
        integrationHttpMethod: 'POST',
        uri: lambdaUri('MathFloor'),
      }),
    );
    assert.equal((await apigw.send(new TestInvokeMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET' }))).body, FLOOR);
    assert.deepEqual(await count(20), { ceil: 20, floor: 0 });

    const canary = await apigw.send(
      new CreateDeploymentCommand({
        restApiId: id,
        stageName: 'prod',
        description: 'MathFloor canary',
        canarySettings: { percentTraffic: 10 },
      }),
    );
    const staged = await apigw.send(new GetStageCommand({ restApiId: id, stageName: 'prod' }));
    assert.equal(staged.deploymentId, first.id);
    assert.deepEqual(staged.canarySettings, { deploymentId: canary.id, percentTraffic: 10, useStageCache: false });
    // Binomial(400, 0.1) falls outside [12, 75] with probability below 1e-7 (the seed only makes it repeatable).
    const at10 = await count(400);
    assert.ok(at10.floor >= 12 && at10.floor <= 75, `10% canary gave ${JSON.stringify(at10)}`);

    const raised = await apigw.send(
      new UpdateStageCommand({
        restApiId: id,
        stageName: 'prod',
        patchOperations: [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '50.0' }],
      }),
    );
    assert.equal(raised.canarySettings?.percentTraffic, 50);
    // Binomial(400, 0.5) falls outside [150, 250] with probability below 1e-6.
    const at50 = await count(400);
    assert.ok(at50.floor >= 150 && at50.floor <= 250, `50% canary gave ${JSON.stringify(at50)}`);

    const promoted = await apigw.send(
      new UpdateStageCommand({
        restApiId: id,
        stageName: 'prod',
        patchOperations: [
          { op: 'replace', path: '/canarySettings/percentTraffic', value: '0.0' },
          { op: 'copy', from: '/canarySettings/deploymentId', path: '/deploymentId' },
          { op: 'copy', from: '/canarySettings/stageVariableOverrides', path: '/variables' },
        ],
      }),
    );
    assert.equal(promoted.deploymentId, canary.id);
    assert.deepEqual(promoted.canarySettings, { deploymentId: canary.id, percentTraffic: 0, useStageCache: false });
    assert.deepEqual(await count(40), { ceil: 0, floor: 40 });

    const removed = await apigw.send(
      new UpdateStageCommand({ restApiId: id, stageName: 'prod', patchOperations: [{ op: 'remove', path: '/canarySettings' }] }),
    );
    assert.equal(removed.canarySettings, undefined);
    assert.ok(!('canarySettings' in (await apigw.send(new GetStageCommand({ restApiId: id, stageName: 'prod' })))));
    assert.deepEqual(await count(10), { ceil: 0, floor: 10 });

    // The same stage through the Host-based URL `{id}.execute-api.localhost/{stage}/`.
    const port = new URL(t.url).port;
    const viaHost = await getWithHost(`${t.url}/prod/`, `${id}.execute-api.localhost:${port}`);
    assert.deepEqual(viaHost, { status: 200, text: FLOOR });
    assert.deepEqual(await getWithHost(`${t.url}/prod/`, `${id}.execute-api.localhost`), { status: 200, text: FLOOR });
  });
});

/** A Node proxy handler whose behaviour the query parameter `do` picks; by default it echoes the event. */
const PROXY_HANDLER = `
exports.handler = async (event) => {
  const q = event.queryStringParameters || {};
  switch (q.do) {
    case 'string': return 'hello';
    case 'extra': return { statusCode: 200, body: 'x', extra: true };
    case 'badstatus': return { statusCode: 'abc', body: 'x' };
    case 'stringstatus': return { statusCode: '202', body: 'accepted' };
    case 'badmulti': return { statusCode: 200, multiValueHeaders: { 'x-many': 'not-a-list' }, body: 'x' };
    case 'throw': throw new Error('proxy handler failed');
    case 'shape':
      return { statusCode: 201, headers: { 'X-One': 'a' }, multiValueHeaders: { 'x-many': ['b', 'c'] }, body: 'created', isBase64Encoded: false };
    case 'base64':
      return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };
    case 'empty': return {};
    case 'cookies':
      return {
        statusCode: 200,
        headers: { 'X-One': 'a', 'Set-Cookie': 'first=1' },
        multiValueHeaders: { 'x-one': ['a', 'z'], 'Set-Cookie': ['session=s1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'theme=dark'] },
        body: 'baked',
      };
    case 'domains': {
      const own = event.requestContext.apiId + '.execute-api.localhost';
      return {
        statusCode: 200,
        multiValueHeaders: {
          'Set-Cookie': ['plain=1; Path=/', 'own=1; Domain=.' + own.toUpperCase(), 'apis=1; Domain=execute-api.localhost', 'all=1; Path=/; domain= .LocalHost', 'last=1; Domain=' + own + '; Domain=localhost'],
        },
        body: 'domains',
      };
    }
    case 'nocontent': return { statusCode: 204, body: 'ignored' };
    case 'manyheaders': return { statusCode: 200, headers: Object.fromEntries(Array.from({ length: 501 }, (_, i) => ['x-h' + i, 'v'])), body: 'x' };
    case 'bigheader': return { statusCode: 200, multiValueHeaders: { 'x-big': ['a'.repeat(40000), 'b'.repeat(40000)] }, body: 'x' };
    case 'fineheaders': return { statusCode: 200, headers: Object.fromEntries(Array.from({ length: 400 }, (_, i) => ['x-h' + i, 'v'])), body: 'x' };
    case 'framing':
      return {
        statusCode: 200,
        headers: {
          'transfer-encoding': 'chunked', 'content-length': '999', connection: 'close, x-secret', 'x-secret': 's',
          upgrade: 'websocket', 'keep-alive': 'timeout=600', trailer: 'x-t', 'x-kept': 'yes',
        },
        body: 'framed once',
      };
    case 'switching': return { statusCode: 101, body: 'x' };
    default: return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
  }
};
`;

/** A Node non-proxy handler: fails when asked (by the mapped event), says what it is told, else echoes the event. */
const PLAIN_HANDLER = `
exports.handler = async (event) => {
  if (event && event.fail === 'notfound') throw new Error('item 7 not found');
  if (event && event.fail === 'long') throw new Error('a'.repeat(40) + '!');
  if (event && event.fail === 'huge') throw new Error('item 8 not found: ' + 'x'.repeat(2500000));
  if (event && event.fail) throw new Error('boom');
  if (event && event.say) return event.say;
  return { got: event };
};
`;

interface ProxyEvent {
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  pathParameters: Record<string, string> | null;
  stageVariables: Record<string, string> | null;
  requestContext: { stage: string; apiId: string; requestId: string; httpMethod: string; resourcePath: string; isCanaryRequest: boolean };
  body: string | null;
  isBase64Encoded: boolean;
}

describe('API Gateway data plane', () => {
  let t: TestServer;
  let apigw: APIGatewayClient;
  let backend: Server;
  let backendUrl: string;
  before(async () => {
    t = await startTestServer();
    apigw = apiGatewayClientFor(t.url);
    await createFunction(t.lambda, 'proxy', { 'index.js': PROXY_HANDLER });
    await createFunction(t.lambda, 'plain', { 'index.js': PLAIN_HANDLER });
    // A small HTTP backend for HTTP_PROXY: answers with what it received.
    backend = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/huge') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(11 * 1024 * 1024));
          return;
        }
        if (req.url === '/redirect') {
          res.writeHead(302, { location: `${backendUrl}/elsewhere` }).end();
          return;
        }
        res.writeHead(req.url?.includes('teapot') ? 418 : 200, { 'content-type': 'application/json', 'x-backend': 'yes' });
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            header: req.headers['x-custom'] ?? null,
            body: Buffer.concat(chunks).toString(),
            ...(req.url?.includes('forwarded-for') && { forwardedFor: req.headers['x-forwarded-for'] }),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  });
  after(async () => {
    apigw.destroy();
    await new Promise((resolve) => backend.close(resolve));
    await t.close();
  });

  /** Deploys the API to `stage` (with stage variables) and returns a function that requests a path of it. */
  async function deployed(restApiId: string, stage = 'test', variables?: Record<string, string>) {
    await apigw.send(new CreateDeploymentCommand({ restApiId, stageName: stage, ...(variables && { variables }) }));
    return (path: string, init?: RequestInit): Promise<StageAnswer> => call(stageUrl(t.url, restApiId, stage, path), init);
  }

  // ---- AWS_PROXY ----

  describe('AWS_PROXY integrations', () => {
    let get: (path: string, init?: RequestInit) => Promise<StageAnswer>;
    let apiId: string;
    before(async () => {
      const { id } = await createApi(apigw, 'proxy-api');
      apiId = id;
      // Bodies of these types reach the function in base64; any other is text.
      await apigw.send(
        new UpdateRestApiCommand({ restApiId: id, patchOperations: [{ op: 'add', path: '/binaryMediaTypes/application~1octet-stream' }] }),
      );
      await putMethod(apigw, id, await resourceAt(apigw, id, '/items/{id}'), 'ANY', proxyTo('proxy'));
      await putMethod(apigw, id, await resourceAt(apigw, id, '/behave'), 'GET', proxyTo('proxy'));
      get = await deployed(id, 'test', { color: 'blue', size: 'L' });
    });

    it('AWS_PROXY: the handler gets the v1.0 event (resource, path, method, headers, query, path parameters, stage variables, context)', async () => {
      const res = await get('/items/42?a=1&a=2&b=x', { headers: { 'x-custom': 'hi' } });
      assert.equal(res.status, 200, res.text);
      const event = res.json as ProxyEvent;
      assert.equal(event.resource, '/items/{id}');
      assert.equal(event.path, '/items/42');
      assert.equal(event.httpMethod, 'GET');
      assert.equal(event.headers['x-custom'], 'hi');
      assert.deepEqual(event.multiValueHeaders['x-custom'], ['hi']);
      assert.deepEqual(event.queryStringParameters, { a: '2', b: 'x' });
      assert.deepEqual(event.multiValueQueryStringParameters, { a: ['1', '2'], b: ['x'] });
      assert.deepEqual(event.pathParameters, { id: '42' });
      assert.deepEqual(event.stageVariables, { color: 'blue', size: 'L' });
      assert.equal(event.requestContext.stage, 'test');
      assert.equal(event.requestContext.apiId, apiId);
      assert.match(event.requestContext.requestId, UUID);
      assert.equal(event.requestContext.httpMethod, 'GET');
      assert.equal(event.requestContext.resourcePath, '/items/{id}');
      assert.equal(event.requestContext.isCanaryRequest, false);
      assert.equal(event.body, null);
      assert.equal(event.isBase64Encoded, false);
    });

    it('AWS_PROXY: a request body arrives as a string; no query is null; each request has its own requestId', async () => {
      const res = await get('/items/7', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"rex"}' });
      const event = res.json as ProxyEvent;
      assert.equal(event.httpMethod, 'POST');
      assert.equal(event.body, '{"name":"rex"}');
      assert.equal(event.isBase64Encoded, false);
      assert.equal(event.queryStringParameters, null);
      assert.equal(event.multiValueQueryStringParameters, null);
      const again = (await get('/items/7')).json as ProxyEvent;
      assert.notEqual(again.requestContext.requestId, event.requestContext.requestId);
    });

    it("AWS_PROXY: a body of one of the API's binaryMediaTypes arrives base64-encoded with isBase64Encoded true; any other as text", async () => {
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      const res = await get('/items/7', { method: 'PUT', headers: { 'content-type': 'Application/Octet-Stream' }, body: bytes });
      const event = res.json as ProxyEvent;
      assert.equal(event.isBase64Encoded, true);
      assert.equal(event.body, bytes.toString('base64'));
      const custom = (await get('/items/7', { method: 'PUT', headers: { 'content-type': 'application/x-custom' }, body: 'hello' }))
        .json as ProxyEvent;
      assert.deepEqual([custom.isBase64Encoded, custom.body], [false, 'hello']);
    });

    it('AWS_PROXY: statusCode, headers, multiValueHeaders and body map to the HTTP response', async () => {
      const res = await get('/behave?do=shape');
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('x-one'), 'a');
      assert.equal(res.headers.get('x-many'), 'b, c');
      assert.equal(res.text, 'created');
      const accepted = await get('/behave?do=stringstatus');
      assert.deepEqual([accepted.status, accepted.text], [202, 'accepted']);
      const empty = await get('/behave?do=empty');
      assert.deepEqual([empty.status, empty.text], [200, '']);
    });

    /** A GET of the stage's own host, `{api}.execute-api.localhost`, with its answer's headers as they came. */
    const getOnOwnHost = (path: string) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
        const host = `${apiId}.execute-api.localhost:${new URL(t.url).port}`;
        const req = request(`${t.url}/test${path}`, { headers: { host } }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, text: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end();
      });

    it("AWS_PROXY: each value of multiValueHeaders is a header line of its own (Set-Cookie never folded), merged with headers, on the stage's own host", async () => {
      const res = await getOnOwnHost('/behave?do=cookies');
      assert.equal(res.status, 200);
      assert.deepEqual(res.headers['set-cookie'], ['first=1', 'session=s1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'theme=dark']);
      assert.equal(res.headers['x-one'], 'a, z', 'a value in both is sent once');
      assert.equal(res.headers[COOKIES_DROPPED], undefined);
      assert.equal(res.text, 'baked');
    });

    it("AWS_PROXY: on the stage's own host a cookie whose Domain is wider than that host (every API's, the console's) is dropped and a header says so", async () => {
      const res = await getOnOwnHost('/behave?do=domains');
      assert.equal(res.status, 200);
      const own = `${apiId}.execute-api.localhost`;
      assert.deepEqual(res.headers['set-cookie'], ['plain=1; Path=/', `own=1; Domain=.${own.toUpperCase()}`]);
      assert.equal(
        res.headers[COOKIES_DROPPED],
        `3 Set-Cookie dropped: a Domain other than ${own} or below it would reach every API's host and the console`,
      );
      assert.equal(res.text, 'domains');
    });

    it("AWS_PROXY: on the path-style URL (the console's host) an answer's Set-Cookie is dropped, a header says so, and the page is sandboxed", async () => {
      const res = await fetch(stageUrl(t.url, apiId, 'test', '/behave?do=cookies'));
      assert.equal(res.status, 200);
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.match(res.headers.get(COOKIES_DROPPED) ?? '', /^3 Set-Cookie dropped: /);
      assert.match(res.headers.get('content-security-policy') ?? '', /(^|, )sandbox allow-scripts/);
      assert.equal(res.headers.get('x-one'), 'a, z');
      assert.equal(await res.text(), 'baked');
    });

    it('AWS_PROXY: a 204 goes without the body the function gave, and without a length', async () => {
      const res = await fetch(stageUrl(t.url, apiId, 'test', '/behave?do=nocontent'));
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('content-length'), null);
      assert.equal(await res.text(), '');
      // The connection still carries the next answer whole.
      const next = await get('/behave?do=shape');
      assert.deepEqual([next.status, next.text], [201, 'created']);
    });

    it('AWS_PROXY: isBase64Encoded true decodes the body to bytes', async () => {
      const res = await fetch(stageUrl(t.url, apiId, 'test', '/behave?do=base64'));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.from([0, 1, 2, 255]));
    });

    it('AWS_PROXY: a plain string, an extra key, a bad statusCode or bad multiValueHeaders is 502 Internal server error', async () => {
      assert.equal((await get('/behave?do=fineheaders')).headers.get('x-h399'), 'v');
      // Past 500 header lines or 64 KiB of them, counted before anything is copied.
      for (const what of ['string', 'extra', 'badstatus', 'badmulti', 'manyheaders', 'bigheader']) {
        const res = await get(`/behave?do=${what}`);
        assert.equal(res.status, 502, `${what}: ${res.text}`);
        assert.deepEqual(res.json, INTERNAL, what);
      }
    });

    it('AWS_PROXY: headers that frame the answer or steer the connection are the server’s, not the function’s; a 1xx is 502', async () => {
      const res = await get('/behave?do=framing');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'framed once');
      assert.equal(res.headers.get('content-length'), String('framed once'.length));
      for (const name of ['transfer-encoding', 'upgrade', 'trailer', 'x-secret']) assert.equal(res.headers.get(name), null, name);
      // What the server itself says of the connection, not what the function said.
      assert.notEqual(res.headers.get('connection'), 'close, x-secret');
      assert.notEqual(res.headers.get('keep-alive'), 'timeout=600');
      assert.equal(res.headers.get('x-kept'), 'yes');
      // The connection is still the client's: the next answer on it is whole.
      assert.equal((await get('/behave?do=shape')).text, 'created');
      const switching = await get('/behave?do=switching');
      assert.equal(switching.status, 502);
      assert.deepEqual(switching.json, INTERNAL);
    });

    it('AWS_PROXY: a function error is 502 Internal server error', async () => {
      const res = await get('/behave?do=throw');
      assert.equal(res.status, 502);
      assert.deepEqual(res.json, INTERNAL);
    });
  });

  // ---- Throttling ----

  it("a stage's throttle: past its burst, 429 Too Many Requests; a method's own setting wins over */*", async () => {
    const { id } = await createApi(apigw, 'throttled');
    await putMethod(apigw, id, await resourceAt(apigw, id, '/slow'), 'GET', proxyTo('proxy'));
    await putMethod(apigw, id, await resourceAt(apigw, id, '/fast'), 'GET', proxyTo('proxy'));
    const get = await deployed(id, 'limited');
    await apigw.send(
      new UpdateStageCommand({
        restApiId: id,
        stageName: 'limited',
        patchOperations: [
          // One request in ten seconds after a burst of three: nothing refills while the test runs.
          { op: 'replace', path: '/*/*/throttling/rateLimit', value: '0.1' },
          { op: 'replace', path: '/*/*/throttling/burstLimit', value: '3' },
          { op: 'replace', path: '/~1fast/GET/throttling/burstLimit', value: '20' },
        ],
      }),
    );
    const slow = await Promise.all(Array.from({ length: 6 }, () => get('/slow')));
    assert.deepEqual(slow.map((r) => r.status).sort(), [200, 200, 200, 429, 429, 429]);
    const refused = slow.find((r) => r.status === 429)!;
    assert.deepEqual(refused.json, { message: 'Too Many Requests' });
    assert.equal(refused.headers.get('x-amzn-errortype'), 'TooManyRequestsException');
    const fast = await Promise.all(Array.from({ length: 6 }, () => get('/fast')));
    assert.deepEqual(
      fast.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
  });

  // ---- Routing ----

  describe('routing', () => {
    let get: (path: string, init?: RequestInit) => Promise<StageAnswer>;
    let apiId: string;
    before(async () => {
      const { id } = await createApi(apigw, 'routes');
      apiId = id;
      for (const path of ['/pets/mine', '/pets/{id}', '/pets/{id}/toys', '/{proxy+}']) {
        await putMethod(apigw, id, await resourceAt(apigw, id, path), 'GET', proxyTo('proxy'));
      }
      await putMethod(apigw, id, await resourceAt(apigw, id, '/anything'), 'ANY', proxyTo('proxy'));
      await putMethod(apigw, id, await resourceAt(apigw, id, '/only-get'), 'GET', proxyTo('proxy'));
      get = await deployed(id);
    });
    const routed = async (res: Promise<StageAnswer>) => {
      const answer = await res;
      assert.equal(answer.status, 200, answer.text);
      const event = answer.json as ProxyEvent;
      return { resource: event.resource, pathParameters: event.pathParameters, method: event.httpMethod };
    };

    it('routing: a literal part beats {param}, which beats greedy {proxy+}', async () => {
      assert.deepEqual(await routed(get('/pets/mine')), { resource: '/pets/mine', pathParameters: null, method: 'GET' });
      assert.deepEqual(await routed(get('/pets/7')), { resource: '/pets/{id}', pathParameters: { id: '7' }, method: 'GET' });
      assert.deepEqual(await routed(get('/pets/7/toys')), { resource: '/pets/{id}/toys', pathParameters: { id: '7' }, method: 'GET' });
      assert.deepEqual(await routed(get('/pets/7/food')), {
        resource: '/{proxy+}',
        pathParameters: { proxy: 'pets/7/food' },
        method: 'GET',
      });
      assert.deepEqual(await routed(get('/a/b/c')), { resource: '/{proxy+}', pathParameters: { proxy: 'a/b/c' }, method: 'GET' });
    });

    it('routing: path parameters are URL-decoded', async () => {
      assert.deepEqual((await routed(get('/pets/hello%20world'))).pathParameters, { id: 'hello world' });
    });

    it('routing: ANY answers every method with the actual method in the event', async () => {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
        assert.deepEqual(await routed(get('/anything', { method })), { resource: '/anything', pathParameters: null, method });
      }
    });

    it('routing: an unknown route or method is 403 "Missing Authentication Token"', async () => {
      const { id } = await createApi(apigw, 'narrow');
      await putMethod(apigw, id, await resourceAt(apigw, id, '/pets'), 'GET', proxyTo('proxy'));
      const narrow = await deployed(id);
      for (const res of [await narrow('/nothing'), await narrow('/pets/1'), await narrow('/'), await narrow('/pets', { method: 'POST' })]) {
        assert.equal(res.status, 403, res.text);
        assert.deepEqual(res.json, MISSING_TOKEN);
      }
      const wrongMethod = await get('/only-get', { method: 'DELETE' });
      assert.deepEqual([wrongMethod.status, wrongMethod.json], [403, MISSING_TOKEN]);
    });

    it('routing: an unknown stage is 403', async () => {
      const res = await call(stageUrl(t.url, apiId, 'nostage', '/pets/mine'));
      assert.equal(res.status, 403);
      assert.equal(typeof (res.json as { message: unknown }).message, 'string');
    });
  });

  // ---- AWS (non-proxy) ----

  describe('AWS (non-proxy) integrations', () => {
    it('AWS: passthrough sends the body as the event; a string answer comes back as a JSON string', async () => {
      const { id, rootId } = await createApi(apigw, 'passthrough');
      await putMethod(apigw, id, rootId, 'POST', lambdaTo('plain'));
      const post = await deployed(id);
      const said = await post('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"say":"hello"}' });
      assert.equal(said.status, 200);
      assert.equal(said.text, '"hello"');
      assert.match(said.headers.get('content-type') ?? '', /^application\/json/);
      const echoed = await post('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
      assert.deepEqual(echoed.json, { got: { n: 1 } });
      const empty = await post('/', { method: 'POST' });
      assert.deepEqual(empty.json, { got: {} });
    });

    it('AWS: a request template maps $input.json, $input.params, $context.stage and $stageVariables', async () => {
      const { id } = await createApi(apigw, 'request-template');
      const template = `{"body": $input.json('$'), "name": $input.json('$.name'), "q": "$input.params('q')", "p": "$input.params('id')", "h": "$input.params('x-custom')", "stage": "$context.stage", "sv": "$stageVariables.x"}`;
      await putMethod(
        apigw,
        id,
        await resourceAt(apigw, id, '/things/{id}'),
        'POST',
        lambdaTo('plain', { requestTemplates: { 'application/json': template } }),
      );
      const post = await deployed(id, 'beta', { x: 'from-stage' });
      const res = await post('/things/9?q=query-value', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-custom': 'header-value' },
        body: '{"name":"widget","n":2}',
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, {
        got: {
          body: { name: 'widget', n: 2 },
          name: 'widget',
          q: 'query-value',
          p: '9',
          h: 'header-value',
          stage: 'beta',
          sv: 'from-stage',
        },
      });
    });

    it('AWS: a Velocity request template (#set, #foreach, #if) maps the body and query; a response template sets the status', async () => {
      const { id, rootId } = await createApi(apigw, 'velocity-template');
      const template = [
        "#set($body = $input.path('$'))",
        '{',
        '  "count": $body.items.size(),',
        '  "ids": [#foreach($item in $body.items)"$item.id"#if($foreach.hasNext), #end#end],',
        '  "kinds": {',
        '#foreach($item in $body.items)',
        '    "$item.id": "#if($item.price > 10)dear#elseif($item.price > 0)cheap#{else}free#end"#if($foreach.hasNext),#end',
        '#end',
        '  },',
        '  "query": {#foreach($name in $input.params().querystring.keySet())"$name": "$util.escapeJavaScript($input.params($name))"#if($foreach.hasNext),#end#end},',
        '  "stage": "$context.stage"',
        '}',
      ].join('\n');
      await putMethod(apigw, id, rootId, 'POST', {
        ...lambdaTo('plain', { requestTemplates: { 'application/json': template } }),
        responses: {
          '200': {
            selectionPattern: '',
            responseTemplates: { 'application/json': "#set($context.responseOverride.status = 201)$input.json('$.got')" },
          },
        },
      });
      const post = await deployed(id);
      const res = await post('/?color=red&note=say%20%22hi%22', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          items: [
            { id: 'a', price: 20 },
            { id: 'b', price: 5 },
            { id: 'c', price: 0 },
          ],
        }),
      });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.json, {
        count: 3,
        ids: ['a', 'b', 'c'],
        kinds: { a: 'dear', b: 'cheap', c: 'free' },
        query: { color: 'red', note: 'say "hi"' },
        stage: 'test',
      });
    });

    it('AWS: a response template shapes the answer', async () => {
      const { id, rootId } = await createApi(apigw, 'response-template');
      await putMethod(apigw, id, rootId, 'POST', {
        ...lambdaTo('plain'),
        responses: {
          '200': {
            selectionPattern: '',
            responseTemplates: { 'application/json': `{"said": $input.json('$'), "stage": "$context.stage"}` },
          },
        },
      });
      const post = await deployed(id);
      const res = await post('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"say":"templated"}' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { said: 'templated', stage: 'test' });
    });

    it('AWS: Lambda errors are routed by selectionPattern on errorMessage; no match takes the default response', async () => {
      const { id, rootId } = await createApi(apigw, 'error-routing');
      await putMethod(apigw, id, rootId, 'GET', {
        ...lambdaTo('plain', { requestTemplates: { 'application/json': `{"fail": "$input.params('fail')"}` } }),
        responses: {
          '200': { selectionPattern: '' },
          '404': {
            selectionPattern: '.*not found.*',
            responseTemplates: { 'application/json': `{"error": "$input.path('$.errorMessage')"}` },
          },
          // Selection patterns match the error message, never a status code.
          '500': { selectionPattern: '200' },
        },
      });
      const get = await deployed(id);
      const missing = await get('/?fail=notfound');
      assert.equal(missing.status, 404, missing.text);
      assert.deepEqual(missing.json, { error: 'item 7 not found' });
      const boom = await get('/?fail=yes');
      assert.equal(boom.status, 200, boom.text);
      assert.equal((boom.json as { errorMessage: string }).errorMessage, 'boom');
      const fine = await get('/');
      assert.equal(fine.status, 200);
      assert.deepEqual(fine.json, { got: { fail: '' } });
    });

    it('AWS: selection patterns run in linear time; one with a backreference is refused when it is put', async () => {
      const { id, rootId } = await createApi(apigw, 'linear-patterns');
      // (a+)+ against 40 a's and a '!' backtracks for hours; in linear time it does not match, at once.
      await putMethod(apigw, id, rootId, 'GET', {
        ...lambdaTo('plain', { requestTemplates: { 'application/json': `{"fail": "$input.params('fail')"}` } }),
        responses: { '200': { selectionPattern: '' }, '400': { selectionPattern: '(a+)+' } },
      });
      const get = await deployed(id);
      const started = Date.now();
      const res = await get('/?fail=long');
      assert.equal(res.status, 200, res.text);
      assert.equal((res.json as { errorMessage: string }).errorMessage, `${'a'.repeat(40)}!`);
      assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
      const e = await errorOf(() =>
        apigw.send(
          new PutIntegrationResponseCommand({
            restApiId: id,
            resourceId: rootId,
            httpMethod: 'GET',
            statusCode: '400',
            selectionPattern: '(a)\\1',
          }),
        ),
      );
      assert.equal(e.name, 'BadRequestException');
      assert.match(
        e.message,
        /Invalid selection pattern specified: \(a\)\\1 \(it cannot be matched in linear time, as Versa matches patterns: it uses a backreference or lookaround/,
      );
    });

    it("AWS: an error message of megabytes is matched by its beginning, within a budget: the server's event loop is not held for seconds", async () => {
      const { id, rootId } = await createApi(apigw, 'huge-error');
      await putMethod(apigw, id, rootId, 'GET', {
        ...lambdaTo('plain', { requestTemplates: { 'application/json': `{"fail": "$input.params('fail')"}` } }),
        responses: {
          '200': { selectionPattern: '' },
          '400': { selectionPattern: '.*bad request.*' },
          '403': { selectionPattern: '.*forbidden.*' },
          '409': { selectionPattern: '.*conflict.*' },
          '429': { selectionPattern: '.*too many.*' },
          '404': { selectionPattern: '.*not found.*' },
        },
      });
      const get = await deployed(id);
      await get('/'); // the function warm
      // The linear engine takes 0.2–1.5 µs a character for each of these patterns: seconds for all five over 2.5 MB.
      const { result: res, heldMs } = await loopHolds(() => get('/?fail=huge'));
      assert.equal(res.status, 404, res.text.slice(0, 300));
      assert.match((res.json as { errorMessage: string }).errorMessage, /^item 8 not found: x{2500000}$/);
      assert.ok(heldMs < 500, `the event loop was held for ${Math.round(heldMs)} ms`);
      // A short message is matched whole, as before.
      assert.equal((await get('/?fail=notfound')).status, 404);
    });

    it('AWS: a body nested too deep is read as text, and a template that would make more than 10 MB is a 500, not built', async () => {
      const { id, rootId } = await createApi(apigw, 'template-bounds');
      await putMethod(apigw, id, rootId, 'POST', {
        ...lambdaTo('plain', { requestTemplates: { 'application/json': `{"say": $input.json('$')}` } }),
        responses: { '200': { selectionPattern: '' } },
      });
      const copies = await resourceAt(apigw, id, '/copies');
      await putMethod(apigw, id, copies, 'POST', {
        ...lambdaTo('plain', { requestTemplates: { 'application/json': `{"say": "${'$input.body'.repeat(101)}"}` } }),
        responses: { '200': { selectionPattern: '' } },
      });
      const post = await deployed(id);
      const deep = '['.repeat(100_000) + ']'.repeat(100_000);
      const res = await post('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
      assert.equal(res.status, 200, res.text.slice(0, 200));
      assert.equal(res.json, deep, 'the body, as text');
      const big = await post('/copies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(110_000) });
      assert.equal(big.status, 500);
      assert.deepEqual(big.json, INTERNAL);
      // Under the bound, the same template answers.
      const small = await post('/copies', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'ab' });
      assert.equal(small.status, 200, small.text);
      assert.equal(small.json, 'ab'.repeat(101));
    });

    it("templates: a caller's body read as JSON counts against the render's budget: 98,000 keys past it are refused unparsed, the event loop not held", async () => {
      const { id, rootId } = await createApi(apigw, 'parse-budget');
      // About 850,000 of the render's 1,000,000 steps, for little CPU, go on searching a megabyte fifty times
      // (a step per 64 characters); what is left cannot pay for parsing 98,000 keys (two steps a value).
      await putMethod(apigw, id, rootId, 'POST', {
        integration: {
          type: 'MOCK',
          requestTemplates: {
            'application/json':
              '#set($s = "x")#foreach($i in [1..20])#set($s = $s.concat($s))#end#foreach($i in [1..50])#set($d = $s.indexOf("y"))#end' +
              `{"statusCode": 200, "a": $input.json('$.a')}`,
          },
        },
        responses: { '200': { selectionPattern: '', responseTemplates: { 'application/json': '{"said": "ok"}' } } },
      });
      const post = await deployed(id);
      const send = (body: string) => post('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.deepEqual((await send('{"a": 1, "b": 2}')).json, { said: 'ok' });
      const keys = `{"a": 1, ${Array.from({ length: 98_000 }, (_, i) => `"k${i}": 0`).join(', ')}}`;
      for (let i = 0; i < 3; i++) {
        const { result: res, heldMs } = await loopHolds(() => send(keys));
        assert.deepEqual([res.status, res.json], [500, INTERNAL]);
        assert.ok(heldMs < 80, `the event loop was held for ${Math.round(heldMs)} ms`);
      }
    });

    it('templates: a 300 KB template crafted to fail parsing (a hundred thousand `[` tried as indexes) is refused at its first request without holding the event loop', async () => {
      const { id, rootId } = await createApi(apigw, 'parse-fail');
      // Each `$a[` is tried as an index, fails at `)` and is taken back as text; the last `#if(` never closes.
      const template = `${Date.now()}${'$a[)'.repeat(75_000)}#if(`;
      await putMethod(apigw, id, rootId, 'POST', {
        integration: { type: 'MOCK', requestTemplates: { 'application/json': template } },
        responses: { '200': { selectionPattern: '' } },
      });
      const post = await deployed(id);
      const { result: res, heldMs } = await loopHolds(() =>
        post('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      );
      assert.deepEqual([res.status, res.json], [500, INTERNAL]);
      assert.ok(heldMs < 300, `the event loop was held for ${Math.round(heldMs)} ms`);
    });

    it('AWS: without any integration response the answer is 500 Internal server error', async () => {
      const { id, rootId } = await createApi(apigw, 'no-integration-response');
      await putMethod(apigw, id, rootId, 'GET', { integration: lambdaTo('plain').integration });
      const get = await deployed(id);
      const res = await get('/');
      assert.equal(res.status, 500);
      assert.deepEqual(res.json, INTERNAL);
    });
  });

  // ---- Stage variables, aliases and canaries ----

  it('stage variables: a Lambda URI with ${stageVariables.alias} sends the stage and its canary to different aliases', async () => {
    const fn = 'Versioned';
    const source = (label: string) => ({
      'index.js': `exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({ v: '${label}', alias: event.stageVariables.alias, canary: event.requestContext.isCanaryRequest }) });\n`,
    });
    await createFunction(t.lambda, fn, source('one'));
    await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: zipOf(source('two')) }));
    await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: 'blue', FunctionVersion: '1' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: 'green', FunctionVersion: '2' }));

    const { id, rootId } = await createApi(apigw, 'aliases');
    await putMethod(apigw, id, rootId, 'GET', proxyTo(`${fn}:\${stageVariables.alias}`));
    const get = await deployed(id, 'prod', { alias: 'blue' });
    const answers = async (n: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        const res = await get('/');
        assert.equal(res.status, 200, res.text);
        seen.add(res.text);
      }
      return [...seen];
    };
    assert.deepEqual(await answers(5), [JSON.stringify({ v: 'one', alias: 'blue', canary: false })]);

    await apigw.send(
      new CreateDeploymentCommand({
        restApiId: id,
        stageName: 'prod',
        canarySettings: { percentTraffic: 100, stageVariableOverrides: { alias: 'green' } },
      }),
    );
    assert.deepEqual(await answers(10), [JSON.stringify({ v: 'two', alias: 'green', canary: true })]);

    await apigw.send(
      new UpdateStageCommand({
        restApiId: id,
        stageName: 'prod',
        patchOperations: [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '0' }],
      }),
    );
    assert.deepEqual(await answers(10), [JSON.stringify({ v: 'one', alias: 'blue', canary: false })]);
  });

  it('canary: a MOCK response template sees $context.isCanaryRequest and the overridden stage variables', async () => {
    // The reference's recorded canary walk: the default deployment, then a canary deployment at 0% that
    // is raised to 100%.
    const { id, rootId } = await createApi(apigw, 'mock-canary');
    const template = (message: string) =>
      JSON.stringify({
        message,
        variable: '$stageVariables.testVar',
        nonExistingDefault: '$stageVariables.noStageVar',
        nonOverridden: '$stageVariables.defaultVar',
        isCanary: '$context.isCanaryRequest',
      });
    await putMethod(apigw, id, rootId, 'GET', {
      integration: { type: 'MOCK', requestTemplates: { 'application/json': '{"statusCode": 200}' } },
      responses: { '200': { selectionPattern: '', responseTemplates: { 'application/json': template('default deployment') } } },
    });
    const get = await deployed(id, 'dev', { testVar: 'default', defaultVar: 'default' });
    await apigw.send(
      new PutIntegrationResponseCommand({
        restApiId: id,
        resourceId: rootId,
        httpMethod: 'GET',
        statusCode: '200',
        selectionPattern: '',
        responseTemplates: { 'application/json': template('canary deployment') },
      }),
    );
    await apigw.send(
      new CreateDeploymentCommand({
        restApiId: id,
        stageName: 'dev',
        canarySettings: { percentTraffic: 0, stageVariableOverrides: { testVar: 'canary', noStageVar: 'canary' } },
      }),
    );
    const base = { nonOverridden: 'default' };
    assert.deepEqual((await get('/')).json, {
      ...base,
      message: 'default deployment',
      variable: 'default',
      nonExistingDefault: '',
      isCanary: 'false',
    });
    await apigw.send(
      new UpdateStageCommand({
        restApiId: id,
        stageName: 'dev',
        patchOperations: [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '100.0' }],
      }),
    );
    for (let i = 0; i < 5; i++) {
      assert.deepEqual((await get('/')).json, {
        ...base,
        message: 'canary deployment',
        variable: 'canary',
        nonExistingDefault: 'canary',
        isCanary: 'true',
      });
    }
  });

  it('DeleteStage / DeleteRestApi: the stage stops answering at once (403)', async () => {
    const { id, rootId } = await createApi(apigw, 'short-lived');
    await putMethod(apigw, id, rootId, 'GET', {
      integration: { type: 'MOCK', requestTemplates: { 'application/json': '{"statusCode": 200}' } },
      responses: { '200': { selectionPattern: '', responseTemplates: { 'application/json': '{"alive": true}' } } },
    });
    const one = await deployed(id, 'one');
    const two = await deployed(id, 'two');
    assert.deepEqual((await one('/')).json, { alive: true });
    assert.deepEqual((await two('/')).json, { alive: true });
    await apigw.send(new DeleteStageCommand({ restApiId: id, stageName: 'one' }));
    assert.equal((await one('/')).status, 403);
    assert.deepEqual((await two('/')).json, { alive: true });
    await apigw.send(new DeleteRestApiCommand({ restApiId: id }));
    assert.equal((await two('/')).status, 403);
  });

  it('AWS_PROXY: an integration slower than timeoutInMillis answers 504', async () => {
    await createFunction(
      t.lambda,
      'sleeper',
      {
        'index.js':
          'exports.handler = async () => { await new Promise((r) => setTimeout(r, 1000)); return { statusCode: 200, body: "late" }; };\n',
      },
      { Timeout: 5 },
    );
    const { id, rootId } = await createApi(apigw, 'timeout');
    await putMethod(apigw, id, rootId, 'GET', proxyTo('sleeper', { timeoutInMillis: 100 }));
    const get = await deployed(id);
    const started = performance.now();
    const res = await get('/');
    const took = performance.now() - started;
    assert.equal(res.status, 504, res.text);
    assert.match((res.json as { message: string }).message, /timed out/i);
    assert.ok(took < 900, `the gateway answered after ${Math.round(took)} ms, not at its 100 ms timeout`);
  });

  // ---- MOCK and HTTP_PROXY ----

  it('MOCK: the request template picks the status and the response template makes the body', async () => {
    const { id } = await createApi(apigw, 'mock');
    await putMethod(apigw, id, await resourceAt(apigw, id, '/ok'), 'GET', {
      integration: { type: 'MOCK', requestTemplates: { 'application/json': '{"statusCode": 200}' } },
      responses: {
        '200': { selectionPattern: '', responseTemplates: { 'application/json': '{"mocked": true, "stage": "$context.stage"}' } },
      },
    });
    await putMethod(apigw, id, await resourceAt(apigw, id, '/gone'), 'GET', {
      integration: { type: 'MOCK', requestTemplates: { 'application/json': '{"statusCode": 404}' } },
      responses: {
        '200': { selectionPattern: '' },
        '404': { selectionPattern: '404', responseTemplates: { 'application/json': '{"mocked": "gone"}' } },
      },
    });
    const get = await deployed(id, 'mockstage');
    const ok = await get('/ok');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { mocked: true, stage: 'mockstage' });
    const gone = await get('/gone');
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.json, { mocked: 'gone' });
  });

  it("MOCK: the template's object names an integer statusCode, keys bare as the CDK writes them or quoted; none is 500; no template is the default response", async () => {
    const { id } = await createApi(apigw, 'mock-status');
    const responses = {
      '200': { selectionPattern: '', responseTemplates: { 'application/json': '{"said": "default"}' } },
      '201': { selectionPattern: '201', responseTemplates: { 'application/json': '{"said": "created"}' } },
    };
    const mock = async (path: string, requestTemplates?: Record<string, string>) =>
      putMethod(apigw, id, await resourceAt(apigw, id, path), 'POST', { integration: { type: 'MOCK', requestTemplates }, responses });
    await mock('/cdk', { 'application/json': '{ statusCode: 201 }' });
    await mock('/quoted', { 'application/json': "{'statusCode': 201, 'after': [unread}" });
    await mock('/text', { 'application/json': '{"statusCode": "201"}' });
    await mock('/none', { 'application/json': '{"status": 201}' });
    await mock('/untemplated');
    const post = await deployed(id, 'mock');
    const json = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"statusCode": 201}' };
    const answer = async (path: string) => {
      const res = await post(path, json);
      return [res.status, res.json];
    };
    for (const path of ['/cdk', '/quoted']) assert.deepEqual(await answer(path), [201, { said: 'created' }], path);
    for (const path of ['/text', '/none']) assert.deepEqual(await answer(path), [500, INTERNAL], path);
    assert.deepEqual(await answer('/untemplated'), [200, { said: 'default' }], "the caller's body is not read");
  });

  it("MOCK: a template's 10 MB of values before its statusCode are skipped, not built: the server's event loop is not held", async () => {
    const { id, rootId } = await createApi(apigw, 'mock-bulk');
    await putMethod(apigw, id, rootId, 'POST', {
      integration: { type: 'MOCK', requestTemplates: { 'application/json': '{"pad": $input.body, "statusCode": 201}' } },
      responses: { '201': { selectionPattern: '201', responseTemplates: { 'application/json': '{"said": "created"}' } } },
    });
    const post = await deployed(id, 'mock');
    const body = `[${'{},'.repeat(3_300_000)}{}]`;
    const { result: res, heldMs } = await loopHolds(() =>
      post('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
    );
    assert.deepEqual([res.status, res.json], [201, { said: 'created' }], res.text.slice(0, 200));
    assert.ok(heldMs < 300, `the event loop was held for ${Math.round(heldMs)} ms`);
  });

  it('HTTP_PROXY: forwards method, path, query, headers and body to the backend and returns its answer as is', async () => {
    const { id } = await createApi(apigw, 'http-proxy');
    await putMethod(apigw, id, await resourceAt(apigw, id, '/api/{proxy+}'), 'ANY', {
      integration: {
        type: 'HTTP_PROXY',
        integrationHttpMethod: 'ANY',
        uri: `${backendUrl}/backend/{proxy}`,
        requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' },
      },
    });
    const send = await deployed(id);
    const res = await send('/api/users/5?expand=yes', {
      method: 'POST',
      headers: { 'x-custom': 'forwarded', 'content-type': 'text/plain' },
      body: 'payload',
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-backend'), 'yes');
    assert.deepEqual(res.json, { method: 'POST', url: '/backend/users/5?expand=yes', header: 'forwarded', body: 'payload' });
    const teapot = await send('/api/teapot');
    assert.equal(teapot.status, 418);
    assert.deepEqual(teapot.json, { method: 'GET', url: '/backend/teapot', header: null, body: '' });
    // The caller's address is appended to the X-Forwarded-For a proxy before it sent, as API Gateway does.
    const forwarded = await send('/api/forwarded-for', { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal((forwarded.json as { forwardedFor: string }).forwardedFor, '203.0.113.7, 127.0.0.1');
    const direct = await send('/api/forwarded-for');
    assert.equal((direct.json as { forwardedFor: string }).forwardedFor, '127.0.0.1');
  });

  it('HTTP_PROXY: a path parameter fills its own place in the backend path: no /, ?, # or .. of the caller’s escapes it', async () => {
    const { id } = await createApi(apigw, 'http-proxy-params');
    await putMethod(apigw, id, await resourceAt(apigw, id, '/items/{id}'), 'GET', {
      integration: {
        type: 'HTTP_PROXY',
        integrationHttpMethod: 'GET',
        uri: `${backendUrl}/public/items/{id}/view`,
        requestParameters: { 'integration.request.path.id': 'method.request.path.id' },
      },
    });
    await putMethod(apigw, id, await resourceAt(apigw, id, '/files/{proxy+}'), 'GET', {
      integration: {
        type: 'HTTP_PROXY',
        integrationHttpMethod: 'GET',
        uri: `${backendUrl}/public/files/{proxy}`,
        requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' },
      },
    });
    await deployed(id, 'params');
    // Sent as written (fetch would resolve the dot segments before sending them).
    const backendPath = (path: string) =>
      new Promise<string | number>((resolve, reject) => {
        const { hostname, port } = new URL(t.url);
        request({ hostname, port, path: `/restapis/${id}/params/_user_request_${path}` }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as { url: string }).url : res.statusCode!));
        })
          .on('error', reject)
          .end();
      });
    assert.equal(await backendPath('/items/..%2F..%2Fadmin%2Fsecret%3Fx%3D'), '/public/items/..%2F..%2Fadmin%2Fsecret%3Fx%3D/view');
    assert.equal(await backendPath('/items/x%3Fq%3D1'), '/public/items/x%3Fq%3D1/view');
    assert.equal(await backendPath('/items/x%23frag'), '/public/items/x%23frag/view');
    assert.equal(await backendPath('/items/a%20b'), '/public/items/a%20b/view');
    assert.equal(await backendPath('/items/%2e%2e'), 400);
    // A greedy parameter keeps its slashes, and no more.
    assert.equal(await backendPath('/files/a/b/c.txt'), '/public/files/a/b/c.txt');
    assert.equal(await backendPath('/files/a/%2e%2e/%2e%2e/admin'), 400);
    assert.equal(await backendPath('/files/a%3Fb'), '/public/files/a%3Fb');
  });

  it('HTTP_PROXY: hop-by-hop headers stay with their connection; a chunked body reaches the backend whole', async () => {
    const { id } = await createApi(apigw, 'http-proxy-hop');
    await putMethod(apigw, id, await resourceAt(apigw, id, '/echo'), 'ANY', {
      integration: { type: 'HTTP_PROXY', integrationHttpMethod: 'ANY', uri: `${backendUrl}/echo` },
    });
    await deployed(id, 'hop');
    const { hostname, port } = new URL(t.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          hostname,
          port,
          method: 'POST',
          path: `/restapis/${id}/hop/_user_request_/echo`,
          headers: { 'transfer-encoding': 'chunked', 'keep-alive': 'timeout=5', upgrade: 'websocket', te: 'trailers', 'x-custom': 'kept' },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      ).on('error', reject);
      req.write('abc');
      req.end('def');
    });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { method: 'POST', url: '/echo', header: 'kept', body: 'abcdef' });
  });

  it('HTTP_PROXY to Versa itself: the forwarded request is an outsider’s, never the server’s own loopback call', async () => {
    const { id } = await createApi(apigw, 'http-proxy-self');
    const forward = (path: string, uri: string) =>
      resourceAt(apigw, id, path).then((resource) =>
        putMethod(apigw, id, resource, 'GET', { integration: { type: 'HTTP_PROXY', integrationHttpMethod: 'GET', uri } }),
      );
    await forward('/functions', `${t.url}/2015-03-31/functions`);
    await forward('/stacks', `${t.url}/_versa/api/stacks`);
    await forward('/metrics', `${t.url}/_versa/metrics`);
    const send = await deployed(id, 'self');
    // A whole signature of a made-up key, which a server without credentials takes from anyone on loopback.
    const claim = {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAMADEUP/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=' +
        'ab'.repeat(32),
      'x-amz-date': '20261206T000000Z',
    };
    const functions = await send('/functions', { headers: claim });
    assert.equal(functions.status, 403, functions.text);
    assert.equal(functions.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    const stacks = await send('/stacks');
    assert.equal(stacks.status, 403, stacks.text);
    assert.equal((await send('/metrics')).status, 401);
    // The same requests straight from this machine are the operator's.
    assert.equal((await fetch(`${t.url}/_versa/api/stacks`)).status, 200);
    assert.equal((await fetch(`${t.url}/_versa/metrics`)).status, 200);
  });

  it('HTTP_PROXY in a loop: the request is refused after a few stages with a 500, promptly, and redirects are answered as they came', async () => {
    const { id } = await createApi(apigw, 'http-proxy-loop');
    await putMethod(apigw, id, await resourceAt(apigw, id, '/loop'), 'GET', {
      integration: { type: 'HTTP_PROXY', integrationHttpMethod: 'GET', uri: stageUrl(t.url, id, 'loop', '/loop') },
    });
    await putMethod(apigw, id, await resourceAt(apigw, id, '/moved'), 'GET', {
      integration: { type: 'HTTP_PROXY', integrationHttpMethod: 'GET', uri: `${backendUrl}/redirect` },
    });
    await putMethod(apigw, id, await resourceAt(apigw, id, '/huge'), 'GET', {
      integration: { type: 'HTTP_PROXY', integrationHttpMethod: 'GET', uri: `${backendUrl}/huge` },
    });
    const send = await deployed(id, 'loop');
    // A count the caller sends only makes it larger: a negative or endless one is not a way round it.
    for (const given of [undefined, '-20', '-Infinity', 'NaN', '1e400']) {
      const started = performance.now();
      const res = await send('/loop', given === undefined ? {} : { headers: { 'x-versa-forwarded-hops': given } });
      assert.equal(res.status, 500, res.text);
      assert.deepEqual(res.json, INTERNAL);
      assert.ok(performance.now() - started < 5000, `the loop ended (${given})`);
      assert.ok((res.headers.get('content-security-policy') ?? '').split('sandbox').length - 1 <= 6, `at most 5 hops (${given})`);
    }
    // An answer past API Gateway's 10 MB is a 502, not held whole.
    assert.equal((await send('/huge')).status, 502);
    const moved = await send('/moved', { redirect: 'manual' });
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.get('location'), `${backendUrl}/elsewhere`);
  });
});
