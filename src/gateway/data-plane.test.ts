import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { createLogger, type LogLevel } from '../core/logger.js';
import { seededRandom } from '../core/random.js';
import type { InvocationService } from '../invoke/invocation-service.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { GatewayDataPlane, isBinaryMediaType, type GatewayRequest, type GatewayResponse } from './data-plane.js';
import { RestApiService, type CreateRestApiInput } from './rest-api-service.js';

const LAMBDA =
  'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:fn/invocations';
const PROXY = { type: 'AWS_PROXY', httpMethod: 'POST', uri: LAMBDA };

/**
 * A data plane on a real SQLite store in a temp dir; the function behind a Lambda integration is
 * `answer`, given the event or mapped payload, so a test can see what the function would get.
 */
function gateway(level: LogLevel = 'error'): {
  plane: GatewayDataPlane;
  apis: RestApiService;
  store: Store;
  answer: { fn: (payload: Buffer) => unknown };
  /** Lines the data plane logged at `level` and above. */
  logged: string[];
  close(): void;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'versa-gateway-'));
  const store = openSqliteStore(path.join(dir, 'versa.db'));
  const clock = new FakeClock();
  const apis = new RestApiService(store, clock);
  const answer = { fn: (payload: Buffer): unknown => JSON.parse(payload.toString('utf8')) as unknown };
  const invocations = {
    invoke: (_caller: unknown, input: { payload: Buffer }) =>
      Promise.resolve({ payload: asPayload(answer.fn(input.payload)), executedVersion: '$LATEST' }),
  } as unknown as InvocationService;
  const logged: string[] = [];
  const plane = new GatewayDataPlane(
    store,
    invocations,
    seededRandom(1),
    clock,
    createLogger(level, {}, (line) => logged.push(line)),
  );
  apis.onChange((id) => plane.invalidate(id));
  return {
    plane,
    apis,
    store,
    answer,
    logged,
    close: () => {
      void store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a function answers: a Buffer as it is (a test's own bytes), anything else as JSON. */
const asPayload = (answer: unknown): Buffer => (Buffer.isBuffer(answer) ? answer : Buffer.from(JSON.stringify(answer)));

/** An API with `ANY /{proxy+}` on the integration given, deployed to `prod`; returns its id. */
async function deployedApi(
  apis: RestApiService,
  integration: Parameters<RestApiService['putIntegration']>[3],
  input: CreateRestApiInput = {},
): Promise<string> {
  const api = await apis.createRestApi({ name: 'api', ...input });
  const resource = await apis.createResource(api.id, api.rootResourceId, '{proxy+}');
  await apis.putMethod(api.id, resource.id, 'ANY', { authorizationType: 'NONE' });
  await apis.putIntegration(api.id, resource.id, 'ANY', integration);
  await apis.putMethodResponse(api.id, resource.id, 'ANY', '200', {});
  await apis.putIntegrationResponse(api.id, resource.id, 'ANY', '200', { selectionPattern: '' });
  await apis.createDeployment(api.id, { stageName: 'prod' });
  return api.id;
}

function request(over: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    method: 'GET',
    path: '/x',
    query: new URLSearchParams(),
    headers: { host: 'localhost' },
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    region: 'us-east-1',
    ...over,
  };
}

const text = (res: GatewayResponse) => (typeof res.body === 'string' ? res.body : res.body.toString('utf8'));

describe('GatewayDataPlane: what a failed integration tells the operator', () => {
  it('a mapping template that cannot be made answers 500 and is logged with its reason, at most once a second per API', async () => {
    const g = gateway('warn');
    try {
      const id = await deployedApi(g.apis, { type: 'MOCK', requestTemplates: { 'application/json': '#if($x' } });
      for (let i = 0; i < 50; i++) {
        const res = await g.plane.handle(id, 'prod', request());
        assert.equal(res.status, 500);
        assert.deepEqual(JSON.parse(text(res)), { message: 'Internal server error' });
      }
      assert.equal(g.logged.length, 1, g.logged.join('\n'));
      assert.match(g.logged[0]!, /WARN integration failed: the caller was answered 500/);
      assert.match(g.logged[0]!, /"stage":"prod","route":"GET \/\{proxy\+\}","reason":"The mapping template cannot be parsed at line 1/);
    } finally {
      g.close();
    }
  });
});

describe('GatewayDataPlane', () => {
  let g: ReturnType<typeof gateway>;
  before(() => {
    g = gateway();
  });
  after(() => g.close());

  it('stage: names no API or stage can have are 403 Forbidden and nothing a miss names is kept', async () => {
    const id = await deployedApi(g.apis, { type: 'MOCK', requestTemplates: { 'application/json': '{"statusCode": 200}' } });
    assert.equal((await g.plane.handle(id, 'prod', request())).status, 200);
    const cached = g.plane.cachedStages;
    assert.equal(cached, 1);
    for (let i = 0; i < 200; i++) {
      for (const [api, stage] of [
        [id, `nostage${i}`],
        [`${i}`.padStart(10, 'q'), 'prod'],
        [id, `${'s'.repeat(200)}${i}`],
        [`${'A'.repeat(5000)}${i}`, 'prod'],
        [id, `bad/name.${i}`],
      ] as const) {
        const res = await g.plane.handle(api, stage, request());
        assert.equal(res.status, 403);
        assert.deepEqual(JSON.parse(text(res)), { message: 'Forbidden' });
      }
    }
    assert.equal(g.plane.cachedStages, cached, 'misses are not cached');
    // A stage made after it was asked for answers at once.
    await g.apis.createDeployment(id, { stageName: 'nostage0' });
    assert.equal((await g.plane.handle(id, 'nostage0', request())).status, 200);
  });

  it('a mapping template that cannot be made (a body of too many JSON values, an escaping past the bound) is 500 Internal server error', async () => {
    const id = await deployedApi(g.apis, {
      type: 'MOCK',
      requestTemplates: {
        'application/json': '{"statusCode": $input.json(\'$.code\')}',
        'text/plain': '{"statusCode": 200, "b": "$util.escapeJavaScript($input.body)"}',
      },
    });
    const post = (contentType: string, body: string) =>
      g.plane.handle(
        id,
        'prod',
        request({ method: 'POST', headers: { host: 'localhost', 'content-type': contentType }, body: Buffer.from(body) }),
      );
    assert.equal((await post('application/json', '{"code": 200}')).status, 200);
    for (const res of [
      await post('application/json', `{"code": [${Array(200_000).fill('[]').join(',')}]}`),
      await post('text/plain', '\u0001'.repeat(2_000_000)),
    ]) {
      assert.equal(res.status, 500);
      assert.deepEqual(JSON.parse(text(res)), { message: 'Internal server error' });
    }
  });

  it('a response template sets the status and headers through $context.responseOverride; a template that cannot be parsed is a 500', async () => {
    const api = await g.apis.createRestApi({ name: 'overrides' });
    const resource = await g.apis.createResource(api.id, api.rootResourceId, '{proxy+}');
    await g.apis.putMethod(api.id, resource.id, 'ANY', { authorizationType: 'NONE' });
    await g.apis.putIntegration(api.id, resource.id, 'ANY', {
      type: 'MOCK',
      requestTemplates: { 'application/json': '{"statusCode": 200}', 'text/plain': '#if(true) never closed' },
    });
    await g.apis.putMethodResponse(api.id, resource.id, 'ANY', '200', {});
    await g.apis.putIntegrationResponse(api.id, resource.id, 'ANY', '200', {
      selectionPattern: '',
      responseTemplates: {
        'application/json': [
          "#if($input.params('missing') == '')",
          '#set($context.responseOverride.status = 404)',
          '#set($context.responseOverride.header.X-Reason = "no $context.stage item")',
          '#set($context.responseOverride.header.Bad = "a\nb")',
          '#end',
          '{"found": false}',
        ].join('\n'),
      },
    });
    await g.apis.createDeployment(api.id, { stageName: 'prod' });
    const res = await g.plane.handle(api.id, 'prod', request());
    assert.equal(res.status, 404, text(res));
    assert.equal(res.headers['x-reason'], 'no prod item');
    assert.equal(res.headers.bad, undefined, 'a header that cannot be sent is left out');
    assert.deepEqual(JSON.parse(text(res)), { found: false });
    const broken = await g.plane.handle(
      api.id,
      'prod',
      request({ method: 'POST', headers: { host: 'localhost', 'content-type': 'text/plain' }, body: Buffer.from('x') }),
    );
    assert.equal(broken.status, 500);
    assert.deepEqual(JSON.parse(text(broken)), { message: 'Internal server error' });
  });

  it("AWS_PROXY: isBase64Encoded follows the API's binaryMediaTypes (case aside, with wildcards); any other body is text", async () => {
    g.answer.fn = (payload) => ({ statusCode: 200, body: payload.toString('utf8') });
    const eventFor = async (id: string, contentType: string | undefined, body = 'hello') => {
      const headers = { host: 'localhost', ...(contentType !== undefined && { 'content-type': contentType }) };
      const res = await g.plane.handle(id, 'prod', request({ method: 'POST', headers, body: Buffer.from(body) }));
      assert.equal(res.status, 200, text(res));
      const event = JSON.parse(text(res)) as { body: string | null; isBase64Encoded: boolean };
      return [event.isBase64Encoded, event.body] as const;
    };
    const b64 = Buffer.from('hello').toString('base64');
    const typed = await deployedApi(g.apis, PROXY, { binaryMediaTypes: ['application/octet-stream', 'image/*'] });
    assert.deepEqual(await eventFor(typed, 'application/x-custom'), [false, 'hello']);
    assert.deepEqual(await eventFor(typed, 'application/JSON'), [false, 'hello']);
    assert.deepEqual(await eventFor(typed, undefined), [false, 'hello']);
    assert.deepEqual(await eventFor(typed, 'application/octet-stream'), [true, b64]);
    assert.deepEqual(await eventFor(typed, 'Application/Octet-Stream; charset=binary'), [true, b64]);
    assert.deepEqual(await eventFor(typed, 'IMAGE/png'), [true, b64]);
    // Without binaryMediaTypes every body is text, as on AWS, whatever its type.
    const plain = await deployedApi(g.apis, PROXY);
    assert.deepEqual(await eventFor(plain, 'application/octet-stream'), [false, 'hello']);
    const all = await deployedApi(g.apis, PROXY, { binaryMediaTypes: ['*/*'] });
    assert.deepEqual(await eventFor(all, 'text/plain'), [true, b64]);
    // The types are the API's as they are now.
    await g.apis.updateRestApi(plain, [{ op: 'add', path: '/binaryMediaTypes/application~1octet-stream' }]);
    assert.deepEqual(await eventFor(plain, 'application/octet-stream'), [true, b64]);
  });

  it('isBinaryMediaType: type and subtype without parameters or case; * for any; nothing matches a missing or malformed type', () => {
    assert.equal(isBinaryMediaType('image/png', ['image/*']), true);
    assert.equal(isBinaryMediaType('image/png', ['*/png']), true);
    assert.equal(isBinaryMediaType('text/png', ['image/*']), false);
    assert.equal(isBinaryMediaType('imagex/png', ['image/*']), false);
    assert.equal(isBinaryMediaType('image', ['image/*', '*/*']), false);
    assert.equal(isBinaryMediaType(undefined, ['*/*']), false);
    assert.equal(isBinaryMediaType('a/b/c', ['*/*']), false);
    assert.equal(isBinaryMediaType(' application/PDF ;q=1', ['application/pdf']), true);
  });

  it('request templates are picked by Content-Type without regard to case', async () => {
    const id = await deployedApi(g.apis, { type: 'MOCK', requestTemplates: { 'Application/Json': '{"statusCode": 200}' } });
    for (const contentType of ['APPLICATION/JSON', 'application/json; charset=UTF-8']) {
      const res = await g.plane.handle(
        id,
        'prod',
        request({ method: 'POST', headers: { host: 'localhost', 'content-type': contentType }, body: Buffer.from('{}') }),
      );
      assert.equal(res.status, 200, `${contentType}: ${text(res)}`);
    }
  });

  it('AWS_PROXY: an answer whose headers are not strings, whose headers are not an object, or whose statusCode is neither an integer nor a string of one is 502', async () => {
    const id = await deployedApi(g.apis, PROXY);
    const answered = async (answer: unknown) => {
      g.answer.fn = () => answer;
      return g.plane.handle(id, 'prod', request());
    };
    const malformed: unknown[] = [
      { statusCode: 200, headers: { x: null } },
      { statusCode: 200, headers: { x: 1 } },
      { statusCode: 200, headers: { x: true } },
      { statusCode: 200, headers: { x: { toString: 1 } } },
      { statusCode: 200, headers: ['x', 'y'] },
      { statusCode: 200, headers: 'x: y' },
      { statusCode: 200, multiValueHeaders: { x: [1] } },
      { statusCode: 200, multiValueHeaders: { x: [null] } },
      { statusCode: 200, multiValueHeaders: { x: [{ toString: 1 }] } },
      { statusCode: 200, multiValueHeaders: [['x']] },
      { statusCode: true },
      { statusCode: [200] },
      { statusCode: 200.5 },
      { statusCode: '0x12C' },
      { statusCode: ' 200' },
      { statusCode: '2e2' },
      { statusCode: null },
    ];
    for (const answer of malformed) {
      const res = await answered(answer);
      assert.equal(res.status, 502, JSON.stringify(answer));
      assert.deepEqual(JSON.parse(text(res)), { message: 'Internal server error' }, JSON.stringify(answer));
    }
    assert.deepEqual(g.logged, [], 'a malformed answer is the function’s, not an error of the server’s');
    const fine = await answered({
      statusCode: '201',
      headers: { 'X-A': 'a', 'x-empty': '' },
      multiValueHeaders: { 'x-b': ['1', '2'] },
      body: 'ok',
    });
    assert.equal(fine.status, 201);
    assert.equal(fine.headers['x-a'], 'a');
    assert.deepEqual(fine.headers['x-b'], ['1', '2']);
  });

  it('AWS_PROXY: an answer of more values than a proxy answer can hold is 502 before it is parsed; one of 6 MB of body is read', async () => {
    const id = await deployedApi(g.apis, PROXY);
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',');
    // 4.9 MB of 420,000 keys: parsed whole, it held the event loop 0.8 s a request before its shape was looked at.
    const answers = [
      `{"statusCode":200,"body":"ok","extra":{${keys(420_000)}}}`,
      `{"statusCode":200,"body":"ok","headers":{${keys(420_000)}}}`,
      `{"statusCode":200,"body":"ok","isBase64Encoded":[0${',0'.repeat(420_000)}]}`,
    ].map((a) => Buffer.from(a));
    for (const answer of answers) {
      g.answer.fn = () => answer;
      const started = process.cpuUsage();
      const res = await g.plane.handle(id, 'prod', request());
      const { user, system } = process.cpuUsage(started);
      assert.equal(res.status, 502);
      assert.ok(user + system < 150_000, `answered in ${(user + system) / 1000} ms of CPU`);
    }
    // The largest answer a function may give, 6 MB, most of it body, with 500 header lines, is read.
    const headers = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`x-h${i}`, 'v']));
    const multiValueHeaders = Object.fromEntries(Array.from({ length: 125 }, (_, i) => [`x-m${i}`, ['a', 'b']]));
    const body = 'x'.repeat(6 * 1024 * 1024 - 20_000);
    g.answer.fn = () => ({ statusCode: 200, headers, multiValueHeaders, body, isBase64Encoded: false });
    const fine = await g.plane.handle(id, 'prod', request());
    assert.equal(fine.status, 200);
    assert.equal(text(fine).length, body.length);
    assert.deepEqual(fine.headers['x-m124'], ['a', 'b']);
  });

  it("AWS_PROXY: a function's Date and Server headers are sent as x-amzn-Remapped-*, the gateway's own stay", async () => {
    const id = await deployedApi(g.apis, PROXY);
    g.answer.fn = () => ({
      statusCode: 200,
      headers: { Date: 'Thu, 01 Jan 1970 00:00:00 GMT', Server: 'mine', 'x-kept': 'yes' },
      body: '',
    });
    const res = await g.plane.handle(id, 'prod', request());
    assert.equal(res.status, 200);
    assert.equal(res.headers.date, undefined);
    assert.equal(res.headers.server, undefined);
    assert.equal(res.headers['x-amzn-remapped-date'], 'Thu, 01 Jan 1970 00:00:00 GMT');
    assert.equal(res.headers['x-amzn-remapped-server'], 'mine');
    assert.equal(res.headers['x-kept'], 'yes');
  });
});
