/**
 * The API Gateway control plane, end to end over the wire with the AWS SDK v3, checked against the
 * reference (§2.1–2.2): error names, statuses and messages, canary patch semantics, and that a refused
 * request changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateStageCommand,
  DeleteDeploymentCommand,
  DeleteIntegrationCommand,
  DeleteMethodCommand,
  DeleteRestApiCommand,
  DeleteStageCommand,
  GetDeploymentCommand,
  GetDeploymentsCommand,
  GetIntegrationCommand,
  GetIntegrationResponseCommand,
  GetMethodCommand,
  GetMethodResponseCommand,
  GetResourceCommand,
  GetResourcesCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  GetStageCommand,
  GetStagesCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateIntegrationCommand,
  UpdateRestApiCommand,
  UpdateStageCommand,
  type APIGatewayClient,
  type IntegrationType,
  type PatchOperation,
  type ContentHandlingStrategy,
  type PutIntegrationCommandInput,
  type PutIntegrationResponseCommandInput,
} from '@aws-sdk/client-api-gateway';
import { awsFetch, startTestServer, type TestServer } from './harness.js';
import { ACCOUNT, apiGatewayClientFor, createApi, expectError, lambdaUri, putMethod, resourceAt, shapeOf } from './apigateway-helpers.js';

const NO_STAGE_FOR_CANARY =
  'Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is null';
const COPY_ERROR_TAIL =
  'Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]';
const PROMOTE: PatchOperation[] = [
  { op: 'replace', path: '/canarySettings/percentTraffic', value: '0.0' },
  { op: 'copy', from: '/canarySettings/deploymentId', path: '/deploymentId' },
  { op: 'copy', from: '/canarySettings/stageVariableOverrides', path: '/variables' },
];

describe('API Gateway control plane', () => {
  let t: TestServer;
  let apigw: APIGatewayClient;
  before(async () => {
    t = await startTestServer();
    apigw = apiGatewayClientFor(t.url);
  });
  after(async () => {
    apigw.destroy();
    await t.close();
  });

  /** Runs `change`, expects it refused with `name`/`status`/`message`, and checks `read` answers exactly as before. */
  async function refused(
    read: () => Promise<{ $metadata?: unknown }>,
    change: () => Promise<unknown>,
    name: string,
    status: number,
    message?: string | RegExp,
  ): Promise<void> {
    const before = shapeOf(await read());
    await expectError(change, name, status, message);
    assert.deepEqual(shapeOf(await read()), before);
  }

  /** An API whose root has GET → MOCK with a 200 response: enough to deploy. */
  async function deployableApi(name: string) {
    const api = await createApi(apigw, name);
    await putMethod(apigw, api.id, api.rootId, 'GET', {
      integration: { type: 'MOCK', requestTemplates: { 'application/json': '{"statusCode": 200}' } },
      responses: { '200': {} },
    });
    return api;
  }

  const getStage = (restApiId: string, stageName: string) => () => apigw.send(new GetStageCommand({ restApiId, stageName }));
  const updateStage = (restApiId: string, stageName: string, patchOperations: PatchOperation[]) =>
    apigw.send(new UpdateStageCommand({ restApiId, stageName, patchOperations }));
  const deploy = async (restApiId: string, stageName?: string) =>
    (await apigw.send(new CreateDeploymentCommand({ restApiId, ...(stageName && { stageName }) }))).id!;

  // ---- REST APIs ----

  it('CreateRestApi: makes the API with a root resource "/", which GetResources returns', async () => {
    const api = await apigw.send(new CreateRestApiCommand({ name: 'first', description: 'the first API' }));
    assert.equal(api.$metadata.httpStatusCode, 201);
    assert.match(api.id ?? '', /^[a-z0-9]{10}$/);
    assert.equal(api.name, 'first');
    assert.equal(api.description, 'the first API');
    assert.ok(api.createdDate instanceof Date);
    assert.deepEqual(api.endpointConfiguration?.types, ['EDGE']);
    const resources = await apigw.send(new GetResourcesCommand({ restApiId: api.id }));
    assert.equal(resources.items?.length, 1);
    const [root] = resources.items ?? [];
    assert.ok(root);
    assert.equal(root.path, '/');
    assert.equal(root.parentId, undefined);
    assert.equal(root.pathPart, undefined);
    assert.equal(api.rootResourceId, root.id);
  });

  it('GetRestApi / GetRestApis: return the API as created', async () => {
    const created = await apigw.send(new CreateRestApiCommand({ name: 'listed', description: 'listed one' }));
    const got = await apigw.send(new GetRestApiCommand({ restApiId: created.id }));
    assert.deepEqual(shapeOf(got), shapeOf(created));
    const all = await apigw.send(new GetRestApisCommand({}));
    const listed = all.items?.find((a) => a.id === created.id);
    assert.deepEqual(listed, shapeOf(created));
  });

  it('UpdateRestApi: replace /name and /description; a bad patch path is refused and changes nothing', async () => {
    const { id } = await createApi(apigw, 'before');
    const updated = await apigw.send(
      new UpdateRestApiCommand({
        restApiId: id,
        patchOperations: [
          { op: 'replace', path: '/name', value: 'after' },
          { op: 'replace', path: '/description', value: 'now described' },
        ],
      }),
    );
    assert.equal(updated.name, 'after');
    assert.equal(updated.description, 'now described');
    const got = await apigw.send(new GetRestApiCommand({ restApiId: id }));
    assert.equal(got.name, 'after');
    assert.equal(got.description, 'now described');
    await refused(
      () => apigw.send(new GetRestApiCommand({ restApiId: id })),
      () =>
        apigw.send(
          new UpdateRestApiCommand({
            restApiId: id,
            patchOperations: [
              { op: 'replace', path: '/name', value: 'half-applied' },
              { op: 'replace', path: '/nonsense', value: 'x' },
            ],
          }),
        ),
      'BadRequestException',
      400,
    );
  });

  it('DeleteRestApi: removes the API; afterwards it is unknown', async () => {
    const { id } = await createApi(apigw, 'doomed');
    const out = await apigw.send(new DeleteRestApiCommand({ restApiId: id }));
    assert.equal(out.$metadata.httpStatusCode, 202);
    const message = `Invalid API identifier specified ${ACCOUNT}:${id}`;
    await expectError(() => apigw.send(new GetRestApiCommand({ restApiId: id })), 'NotFoundException', 404, message);
    await expectError(() => apigw.send(new DeleteRestApiCommand({ restApiId: id })), 'NotFoundException', 404, message);
    const all = await apigw.send(new GetRestApisCommand({}));
    assert.ok(!all.items?.some((a) => a.id === id));
  });

  it('Unknown API id: every operation answers NotFoundException "Invalid API identifier specified <acct>:<id>"', async () => {
    const restApiId = 'nosuchapi0';
    const message = `Invalid API identifier specified ${ACCOUNT}:${restApiId}`;
    const calls: (() => Promise<unknown>)[] = [
      () => apigw.send(new GetRestApiCommand({ restApiId })),
      () => apigw.send(new UpdateRestApiCommand({ restApiId, patchOperations: [{ op: 'replace', path: '/name', value: 'x' }] })),
      () => apigw.send(new GetResourcesCommand({ restApiId })),
      () => apigw.send(new CreateResourceCommand({ restApiId, parentId: 'abc', pathPart: 'x' })),
      () => apigw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' })),
      () => apigw.send(new GetDeploymentsCommand({ restApiId })),
      () => apigw.send(new CreateStageCommand({ restApiId, stageName: 'prod', deploymentId: 'abc' })),
      () => apigw.send(new GetStagesCommand({ restApiId })),
      () => apigw.send(new GetStageCommand({ restApiId, stageName: 'prod' })),
      () => updateStage(restApiId, 'prod', [{ op: 'replace', path: '/description', value: 'x' }]),
      () => apigw.send(new DeleteStageCommand({ restApiId, stageName: 'prod' })),
    ];
    for (const c of calls) await expectError(c, 'NotFoundException', 404, message);
  });

  it('Unknown API id: the raw error is 404, x-amzn-ErrorType NotFoundException and a {"message"} body', async () => {
    const res = await awsFetch(`${t.url}/restapis/nosuchapi1`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-amzn-errortype'), 'NotFoundException');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { message: `Invalid API identifier specified ${ACCOUNT}:nosuchapi1` });
  });

  // ---- Resources ----

  it('CreateResource: literal, {id}, nested and {proxy+} parts get their full paths', async () => {
    const { id, rootId } = await createApi(apigw, 'resources');
    const pets = await apigw.send(new CreateResourceCommand({ restApiId: id, parentId: rootId, pathPart: 'pets' }));
    assert.equal(pets.$metadata.httpStatusCode, 201);
    assert.deepEqual([pets.parentId, pets.pathPart, pets.path], [rootId, 'pets', '/pets']);
    const pet = await apigw.send(new CreateResourceCommand({ restApiId: id, parentId: pets.id, pathPart: '{id}' }));
    assert.deepEqual([pet.parentId, pet.pathPart, pet.path], [pets.id, '{id}', '/pets/{id}']);
    const toys = await apigw.send(new CreateResourceCommand({ restApiId: id, parentId: pet.id, pathPart: 'toys' }));
    assert.equal(toys.path, '/pets/{id}/toys');
    const files = await apigw.send(new CreateResourceCommand({ restApiId: id, parentId: rootId, pathPart: 'files' }));
    const proxy = await apigw.send(new CreateResourceCommand({ restApiId: id, parentId: files.id, pathPart: '{proxy+}' }));
    assert.equal(proxy.path, '/files/{proxy+}');

    const all = await apigw.send(new GetResourcesCommand({ restApiId: id }));
    assert.deepEqual(all.items?.map((r) => r.path).sort(), ['/', '/files', '/files/{proxy+}', '/pets', '/pets/{id}', '/pets/{id}/toys']);
    const one = await apigw.send(new GetResourceCommand({ restApiId: id, resourceId: toys.id }));
    assert.deepEqual(shapeOf(one), shapeOf(toys));
  });

  it('CreateResource: a duplicate part is a ConflictException; a second variable sibling, a child of {proxy+} are BadRequestException', async () => {
    const { id } = await createApi(apigw, 'resource-rules');
    await resourceAt(apigw, id, '/pets/{id}');
    const petsId = await resourceAt(apigw, id, '/pets');
    const filesProxy = await resourceAt(apigw, id, '/files/{proxy+}');
    const rootId = await resourceAt(apigw, id, '/');
    const resources = () => apigw.send(new GetResourcesCommand({ restApiId: id }));
    const create = (parentId: string, pathPart: string) => () =>
      apigw.send(new CreateResourceCommand({ restApiId: id, parentId, pathPart }));

    await refused(
      resources,
      create(rootId, 'pets'),
      'ConflictException',
      409,
      'Another resource with the same parent already has this name: pets',
    );
    await refused(resources, create(petsId, '{id}'), 'ConflictException', 409);
    await refused(
      resources,
      create(petsId, '{name}'),
      'BadRequestException',
      400,
      'A sibling ({id}) of this resource already has a variable path part -- only one is allowed',
    );
    await refused(resources, create(filesProxy, 'deeper'), 'BadRequestException', 400, /greedy/);
    await refused(resources, create(rootId, 'bad/part'), 'BadRequestException', 400);
  });

  it('CreateResource: an unknown parent is NotFoundException "Invalid Resource identifier specified"', async () => {
    const { id } = await createApi(apigw, 'orphans');
    await refused(
      () => apigw.send(new GetResourcesCommand({ restApiId: id })),
      () => apigw.send(new CreateResourceCommand({ restApiId: id, parentId: 'nosuchres0', pathPart: 'x' })),
      'NotFoundException',
      404,
      'Invalid Resource identifier specified',
    );
    await expectError(
      () => apigw.send(new GetResourceCommand({ restApiId: id, resourceId: 'nosuchres0' })),
      'NotFoundException',
      404,
      'Invalid Resource identifier specified',
    );
  });

  // ---- Methods ----

  it('PutMethod / GetMethod / DeleteMethod: create, read and remove a method', async () => {
    const { id, rootId } = await createApi(apigw, 'methods');
    const put = await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', authorizationType: 'NONE' }));
    assert.equal(put.$metadata.httpStatusCode, 201);
    assert.deepEqual([put.httpMethod, put.authorizationType, put.apiKeyRequired], ['GET', 'NONE', false]);
    const got = await apigw.send(new GetMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET' }));
    assert.deepEqual(shapeOf(got), shapeOf(put));
    const resource = await apigw.send(new GetResourceCommand({ restApiId: id, resourceId: rootId }));
    assert.deepEqual(Object.keys(resource.resourceMethods ?? {}), ['GET']);

    const del = await apigw.send(new DeleteMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectError(
      () => apigw.send(new GetMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET' })),
      'NotFoundException',
      404,
      'Invalid Method identifier specified',
    );
    await expectError(
      () => apigw.send(new DeleteMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET' })),
      'NotFoundException',
      404,
      'Invalid Method identifier specified',
    );
  });

  it('PutMethod: an invalid HTTP method is BadRequestException, a duplicate is ConflictException', async () => {
    const { id, rootId } = await createApi(apigw, 'method-rules');
    await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'POST', authorizationType: 'NONE' }));
    const resource = () => apigw.send(new GetResourceCommand({ restApiId: id, resourceId: rootId }));
    await refused(
      resource,
      () => apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'FETCH', authorizationType: 'NONE' })),
      'BadRequestException',
      400,
    );
    await refused(
      resource,
      () => apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'POST', authorizationType: 'AWS_IAM' })),
      'ConflictException',
      409,
    );
    const method = await apigw.send(new GetMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'POST' }));
    assert.equal(method.authorizationType, 'NONE');
  });

  // ---- Integrations ----

  it('PutIntegration / GetIntegration / DeleteIntegration: a Lambda proxy integration with its defaults', async () => {
    const { id, rootId } = await createApi(apigw, 'integrations');
    await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'ANY', authorizationType: 'NONE' }));
    const key = { restApiId: id, resourceId: rootId, httpMethod: 'ANY' };
    const put = await apigw.send(
      new PutIntegrationCommand({ ...key, type: 'AWS_PROXY', integrationHttpMethod: 'POST', uri: lambdaUri('Fn') }),
    );
    assert.equal(put.$metadata.httpStatusCode, 201);
    assert.equal(put.type, 'AWS_PROXY');
    assert.equal(put.httpMethod, 'POST');
    assert.equal(put.uri, lambdaUri('Fn'));
    assert.equal(put.timeoutInMillis, 29000);
    assert.equal(put.passthroughBehavior, 'WHEN_NO_MATCH');
    const got = await apigw.send(new GetIntegrationCommand(key));
    assert.deepEqual(shapeOf(got), shapeOf(put));
    const method = await apigw.send(new GetMethodCommand(key));
    assert.equal(method.methodIntegration?.uri, lambdaUri('Fn'));

    const del = await apigw.send(new DeleteIntegrationCommand(key));
    assert.equal(del.$metadata.httpStatusCode, 204);
    await expectError(
      () => apigw.send(new GetIntegrationCommand(key)),
      'NotFoundException',
      404,
      'Invalid Integration identifier specified',
    );
  });

  it('PutIntegration: a missing or invalid type is ValidationException; a proxy to a non-Lambda URI, a non-POST Lambda call, a timeout outside 50..29000 are BadRequestException', async () => {
    const { id, rootId } = await createApi(apigw, 'integration-rules');
    await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', authorizationType: 'NONE' }));
    const key = { restApiId: id, resourceId: rootId, httpMethod: 'GET' };
    const good: PutIntegrationCommandInput = {
      ...key,
      type: 'AWS',
      integrationHttpMethod: 'POST',
      uri: lambdaUri('Fn'),
      timeoutInMillis: 1000,
    };
    await apigw.send(new PutIntegrationCommand(good));
    const integration = () => apigw.send(new GetIntegrationCommand(key));
    const put = (change: Partial<PutIntegrationCommandInput>) => () => apigw.send(new PutIntegrationCommand({ ...good, ...change }));

    await refused(integration, put({ type: undefined }), 'ValidationException', 400);
    await refused(integration, put({ type: 'LAMBDA' as IntegrationType }), 'ValidationException', 400);
    await refused(integration, put({ type: 'AWS_PROXY', uri: 'https://example.com/backend' }), 'BadRequestException', 400);
    await refused(
      integration,
      put({ type: 'AWS_PROXY', uri: 'arn:aws:apigateway:us-east-1:s3:path/bucket/key' }),
      'BadRequestException',
      400,
    );
    // A Lambda function is invoked with POST; any other integration method is refused.
    await refused(integration, put({ integrationHttpMethod: 'GET' }), 'BadRequestException', 400);
    await refused(integration, put({ timeoutInMillis: 49 }), 'BadRequestException', 400);
    await refused(integration, put({ timeoutInMillis: 29001 }), 'BadRequestException', 400);
    // Both ends of the range are accepted.
    assert.equal((await apigw.send(new PutIntegrationCommand({ ...good, timeoutInMillis: 50 }))).timeoutInMillis, 50);
    assert.equal((await apigw.send(new PutIntegrationCommand({ ...good, timeoutInMillis: 29000 }))).timeoutInMillis, 29000);
  });

  it('PutIntegration: on a missing method is NotFoundException "Invalid Method identifier specified"', async () => {
    const { id, rootId } = await createApi(apigw, 'integration-orphan');
    await expectError(
      () => apigw.send(new PutIntegrationCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', type: 'MOCK' })),
      'NotFoundException',
      404,
      'Invalid Method identifier specified',
    );
  });

  it("PutIntegration / UpdateIntegration / PutIntegrationResponse: a mapping template past 300 KB (API Gateway's quota) is BadRequestException, nothing stored", async () => {
    const { id, rootId } = await createApi(apigw, 'template-size');
    const key = { restApiId: id, resourceId: rootId, httpMethod: 'GET' };
    await putMethod(apigw, id, rootId, 'GET', {
      integration: { type: 'MOCK', requestTemplates: { 'application/json': '{"statusCode": 200}' } },
      responses: { '200': { responseTemplates: { 'application/json': '{}' } } },
    });
    const largest = '{"statusCode": 200}' + ' '.repeat(300 * 1024 - 19);
    // Counted in bytes of UTF-8: a template of 102,401 three-byte characters is past it.
    for (const over of [largest + ' ', '€'.repeat(102_401)]) {
      const tooLarge = /at most 307200 bytes/;
      await refused(
        () => apigw.send(new GetIntegrationCommand(key)),
        () => apigw.send(new PutIntegrationCommand({ ...key, type: 'MOCK', requestTemplates: { 'application/json': over } })),
        'BadRequestException',
        400,
        tooLarge,
      );
      await refused(
        () => apigw.send(new GetIntegrationCommand(key)),
        () =>
          apigw.send(
            new UpdateIntegrationCommand({ ...key, patchOperations: [{ op: 'add', path: '/requestTemplates/text~1plain', value: over }] }),
          ),
        'BadRequestException',
        400,
        tooLarge,
      );
      await refused(
        () => apigw.send(new GetIntegrationCommand(key)),
        () => apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: '200', responseTemplates: { 'application/json': over } })),
        'BadRequestException',
        400,
        tooLarge,
      );
    }
    // At the quota, both are stored.
    await apigw.send(new PutIntegrationCommand({ ...key, type: 'MOCK', requestTemplates: { 'application/json': largest } }));
    await apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: '200', responseTemplates: { 'application/json': largest } }));
    const stored = await apigw.send(new GetIntegrationCommand(key));
    assert.equal(stored.requestTemplates?.['application/json']?.length, 300 * 1024);
    assert.equal(stored.integrationResponses?.['200']?.responseTemplates?.['application/json']?.length, 300 * 1024);
  });

  it('PutIntegration / UpdateIntegration / PutIntegrationResponse: a member past 10,240 characters (a map or list counted whole), or outside its enum, is BadRequestException, nothing stored', async () => {
    const { id, rootId } = await createApi(apigw, 'member-size');
    const key = { restApiId: id, resourceId: rootId, httpMethod: 'GET' };
    const http = { ...key, type: 'HTTP' as const, integrationHttpMethod: 'GET', uri: 'http://example.com/' };
    await putMethod(apigw, id, rootId, 'GET', { integration: http, responses: { '200': { selectionPattern: '' } } });
    const read = () => apigw.send(new GetIntegrationCommand(key));
    const longUri = (length: number) => http.uri + 'a'.repeat(length - http.uri.length);
    const header = (length: number) => ({ 'integration.request.header.x': `'${'v'.repeat(length - 30)}'` });
    for (const [input, message] of [
      [{ uri: longUri(10_241) }, 'Invalid uri specified: it is 10241 characters long; it may be at most 10240.'],
      [{ cacheNamespace: 'n'.repeat(60_000) }, 'Invalid cacheNamespace specified: it is 60000 characters long; it may be at most 10240.'],
      [
        { requestParameters: header(10_241) },
        'Invalid requestParameters specified: its names and values come to 10241 characters; they may come to at most 10240.',
      ],
      [
        { cacheKeyParameters: ['method.request.header.a'.padEnd(5_121, 'a'), 'method.request.header.b'.padEnd(5_120, 'b')] },
        'Invalid cacheKeyParameters specified: its names and values come to 10241 characters; they may come to at most 10240.',
      ],
      [
        { passthroughBehavior: 'SOMETIMES' },
        'Invalid passthrough behavior specified: SOMETIMES. Valid options are WHEN_NO_MATCH, WHEN_NO_TEMPLATES, NEVER',
      ],
      [
        { contentHandling: 'CONVERT' as ContentHandlingStrategy },
        "1 validation error detected: Value 'CONVERT' at 'putIntegrationInput.contentHandling' failed to satisfy constraint: Member must satisfy enum value set: [CONVERT_TO_BINARY, CONVERT_TO_TEXT]",
      ],
    ] satisfies [Partial<PutIntegrationCommandInput>, string][]) {
      await refused(read, () => apigw.send(new PutIntegrationCommand({ ...http, ...input })), 'BadRequestException', 400, message);
    }
    await refused(
      read,
      () =>
        apigw.send(new UpdateIntegrationCommand({ ...key, patchOperations: [{ op: 'replace', path: '/uri', value: longUri(10_241) }] })),
      'BadRequestException',
      400,
      'Invalid uri specified: it is 10241 characters long; it may be at most 10240.',
    );
    for (const [input, message] of [
      [
        { selectionPattern: 'x'.repeat(10_241) },
        'Invalid selectionPattern specified: it is 10241 characters long; it may be at most 10240.',
      ],
      [
        { responseParameters: { 'method.response.header.x': `'${'v'.repeat(10_215)}'` } },
        'Invalid responseParameters specified: its names and values come to 10241 characters; they may come to at most 10240.',
      ],
      [
        { contentHandling: 'CONVERT' as ContentHandlingStrategy },
        "1 validation error detected: Value 'CONVERT' at 'putIntegrationResponseInput.contentHandling' failed to satisfy constraint: Member must satisfy enum value set: [CONVERT_TO_BINARY, CONVERT_TO_TEXT]",
      ],
    ] satisfies [Partial<PutIntegrationResponseCommandInput>, string][]) {
      await refused(
        read,
        () => apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: '200', ...input })),
        'BadRequestException',
        400,
        message,
      );
    }
    // At the bound, each is stored.
    await apigw.send(new PutIntegrationCommand({ ...http, uri: longUri(10_240), requestParameters: header(10_240) }));
    await apigw.send(
      new UpdateIntegrationCommand({ ...key, patchOperations: [{ op: 'replace', path: '/passthroughBehavior', value: 'NEVER' }] }),
    );
    await apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: '200', selectionPattern: 'x'.repeat(10_240) }));
    const stored = await read();
    assert.equal(stored.uri?.length, 10_240);
    assert.equal(stored.passthroughBehavior, 'NEVER');
    assert.equal(stored.integrationResponses?.['200']?.selectionPattern?.length, 10_240);
  });

  // ---- Method and integration responses ----

  it('PutMethodResponse / PutIntegrationResponse: stored and returned by their Get operations', async () => {
    const { id, rootId } = await createApi(apigw, 'responses');
    const key = { restApiId: id, resourceId: rootId, httpMethod: 'GET' };
    await apigw.send(new PutMethodCommand({ ...key, authorizationType: 'NONE' }));
    await apigw.send(new PutIntegrationCommand({ ...key, type: 'AWS', integrationHttpMethod: 'POST', uri: lambdaUri('Fn') }));

    const mr = await apigw.send(new PutMethodResponseCommand({ ...key, statusCode: '404' }));
    assert.equal(mr.$metadata.httpStatusCode, 201);
    assert.equal(mr.statusCode, '404');
    assert.deepEqual(shapeOf(await apigw.send(new GetMethodResponseCommand({ ...key, statusCode: '404' }))), shapeOf(mr));

    const ir = await apigw.send(
      new PutIntegrationResponseCommand({
        ...key,
        statusCode: '404',
        selectionPattern: '.*not found.*',
        responseTemplates: { 'application/json': '{"missing": true}' },
      }),
    );
    assert.equal(ir.$metadata.httpStatusCode, 201);
    assert.deepEqual(
      [ir.statusCode, ir.selectionPattern, ir.responseTemplates],
      ['404', '.*not found.*', { 'application/json': '{"missing": true}' }],
    );
    assert.deepEqual(shapeOf(await apigw.send(new GetIntegrationResponseCommand({ ...key, statusCode: '404' }))), shapeOf(ir));
    const integration = await apigw.send(new GetIntegrationCommand(key));
    assert.deepEqual(Object.keys(integration.integrationResponses ?? {}), ['404']);

    await expectError(() => apigw.send(new GetMethodResponseCommand({ ...key, statusCode: '500' })), 'NotFoundException', 404);
    await expectError(() => apigw.send(new GetIntegrationResponseCommand({ ...key, statusCode: '500' })), 'NotFoundException', 404);
  });

  it('PutIntegrationResponse: is taken before the method response of its status, as on AWS', async () => {
    const { id, rootId } = await createApi(apigw, 'responses-orphan');
    const key = { restApiId: id, resourceId: rootId, httpMethod: 'GET' };
    await putMethod(apigw, id, rootId, 'GET', {
      integration: { type: 'AWS', integrationHttpMethod: 'POST', uri: lambdaUri('Fn') },
      responses: { '200': { selectionPattern: '' } },
    });
    const out = await apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: '500', selectionPattern: '.*boom.*' }));
    assert.equal(out.$metadata.httpStatusCode, 201);
    const got = await apigw.send(new GetIntegrationResponseCommand({ ...key, statusCode: '500' }));
    assert.equal(got.selectionPattern, '.*boom.*');
  });

  // ---- Deployments ----

  it('CreateDeployment: an API without methods is BadRequestException', async () => {
    const { id } = await createApi(apigw, 'empty');
    await refused(
      () => apigw.send(new GetDeploymentsCommand({ restApiId: id })),
      () => apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod' })),
      'BadRequestException',
      400,
      "The REST API doesn't contain any methods",
    );
    assert.deepEqual((await apigw.send(new GetStagesCommand({ restApiId: id }))).item, []);
  });

  it('CreateDeployment: a canary needs a stage name, and the stage must already exist', async () => {
    const { id } = await deployableApi('canary-rules');
    const deployments = () => apigw.send(new GetDeploymentsCommand({ restApiId: id }));
    await refused(
      deployments,
      () => apigw.send(new CreateDeploymentCommand({ restApiId: id, canarySettings: { percentTraffic: 10 } })),
      'BadRequestException',
      400,
      NO_STAGE_FOR_CANARY,
    );
    await refused(
      deployments,
      () => apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: 'beta', canarySettings: { percentTraffic: 10 } })),
      'BadRequestException',
      400,
      'Invalid deployment content specified.Stage beta must already be created before making a canary release deployment',
    );
    assert.deepEqual((await apigw.send(new GetStagesCommand({ restApiId: id }))).item, []);
  });

  it('CreateDeployment: with a stage name creates the stage; with canarySettings leaves deploymentId and sets the canary', async () => {
    const { id } = await deployableApi('canary-deploy');
    const first = await apigw.send(
      new CreateDeploymentCommand({ restApiId: id, stageName: 'prod', description: 'first', variables: { v: '1' } }),
    );
    assert.equal(first.$metadata.httpStatusCode, 201);
    assert.equal(first.description, 'first');
    assert.ok(first.createdDate instanceof Date);
    const prod = await getStage(id, 'prod')();
    assert.equal(prod.deploymentId, first.id);
    assert.deepEqual(prod.variables, { v: '1' });
    assert.equal(prod.canarySettings, undefined);

    const canary = await apigw.send(
      new CreateDeploymentCommand({
        restApiId: id,
        stageName: 'prod',
        canarySettings: { percentTraffic: 10, stageVariableOverrides: { v: '2' } },
      }),
    );
    const after = await getStage(id, 'prod')();
    assert.equal(after.deploymentId, first.id);
    assert.deepEqual(after.canarySettings, {
      deploymentId: canary.id,
      percentTraffic: 10,
      stageVariableOverrides: { v: '2' },
      useStageCache: false,
    });
    assert.deepEqual(after.variables, { v: '1' });

    // percentTraffic defaults to 0.
    const third = await apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod', canarySettings: {} }));
    assert.deepEqual((await getStage(id, 'prod')()).canarySettings, { deploymentId: third.id, percentTraffic: 0, useStageCache: false });
  });

  it('GetDeployment / GetDeployments / DeleteDeployment: a deployment a stage or canary uses cannot be deleted', async () => {
    const { id } = await deployableApi('deployments');
    const used = await apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod', description: 'used' }));
    const canary = await apigw.send(
      new CreateDeploymentCommand({ restApiId: id, stageName: 'prod', canarySettings: { percentTraffic: 5 } }),
    );
    const free = await apigw.send(new CreateDeploymentCommand({ restApiId: id, description: 'free' }));

    const got = await apigw.send(new GetDeploymentCommand({ restApiId: id, deploymentId: used.id }));
    assert.deepEqual([got.id, got.description], [used.id, 'used']);
    assert.deepEqual(got.createdDate, used.createdDate);
    const all = await apigw.send(new GetDeploymentsCommand({ restApiId: id }));
    assert.deepEqual(all.items?.map((d) => d.id).sort(), [used.id, canary.id, free.id].sort());

    const deployments = () => apigw.send(new GetDeploymentsCommand({ restApiId: id }));
    const inUse = 'Active stages pointing to this deployment must be moved or deleted';
    await refused(
      deployments,
      () => apigw.send(new DeleteDeploymentCommand({ restApiId: id, deploymentId: used.id })),
      'BadRequestException',
      400,
      inUse,
    );
    await refused(
      deployments,
      () => apigw.send(new DeleteDeploymentCommand({ restApiId: id, deploymentId: canary.id })),
      'BadRequestException',
      400,
      inUse,
    );

    const del = await apigw.send(new DeleteDeploymentCommand({ restApiId: id, deploymentId: free.id }));
    assert.equal(del.$metadata.httpStatusCode, 202);
    const gone = 'Invalid Deployment identifier specified';
    await expectError(() => apigw.send(new GetDeploymentCommand({ restApiId: id, deploymentId: free.id })), 'NotFoundException', 404, gone);
    await expectError(
      () => apigw.send(new DeleteDeploymentCommand({ restApiId: id, deploymentId: free.id })),
      'NotFoundException',
      404,
      gone,
    );

    // Once the stage is gone, its deployments can go too.
    await apigw.send(new DeleteStageCommand({ restApiId: id, stageName: 'prod' }));
    await apigw.send(new DeleteDeploymentCommand({ restApiId: id, deploymentId: used.id }));
    await apigw.send(new DeleteDeploymentCommand({ restApiId: id, deploymentId: canary.id }));
    assert.deepEqual((await deployments()).items, []);
  });

  // ---- Stages ----

  it('CreateStage / GetStage / GetStages / UpdateStage / DeleteStage: the stage life cycle', async () => {
    const { id } = await deployableApi('stages');
    const d1 = await deploy(id);
    const created = await apigw.send(
      new CreateStageCommand({ restApiId: id, stageName: 'beta', deploymentId: d1, description: 'beta stage', variables: { a: '1' } }),
    );
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.stageName, 'beta');
    assert.equal(created.deploymentId, d1);
    assert.equal(created.description, 'beta stage');
    assert.deepEqual(created.variables, { a: '1' });
    assert.equal(created.canarySettings, undefined);
    assert.equal(created.tracingEnabled, false);
    assert.deepEqual(created.methodSettings, {});
    assert.ok(created.createdDate instanceof Date && created.lastUpdatedDate instanceof Date);
    assert.deepEqual(shapeOf(await getStage(id, 'beta')()), shapeOf(created));

    await apigw.send(new CreateStageCommand({ restApiId: id, stageName: 'gamma', deploymentId: d1 }));
    const stages = await apigw.send(new GetStagesCommand({ restApiId: id }));
    assert.deepEqual(stages.item?.map((s) => s.stageName).sort(), ['beta', 'gamma']);

    const updated = await updateStage(id, 'beta', [{ op: 'replace', path: '/description', value: 'renamed' }]);
    assert.equal(updated.description, 'renamed');
    assert.equal((await getStage(id, 'beta')()).description, 'renamed');

    const del = await apigw.send(new DeleteStageCommand({ restApiId: id, stageName: 'beta' }));
    assert.equal(del.$metadata.httpStatusCode, 202);
    const gone = 'Invalid Stage identifier specified';
    await expectError(getStage(id, 'beta'), 'NotFoundException', 404, gone);
    await expectError(() => apigw.send(new DeleteStageCommand({ restApiId: id, stageName: 'beta' })), 'NotFoundException', 404, gone);
    await expectError(() => updateStage(id, 'beta', [{ op: 'replace', path: '/description', value: 'x' }]), 'NotFoundException', 404, gone);
    assert.deepEqual(
      (await apigw.send(new GetStagesCommand({ restApiId: id }))).item?.map((s) => s.stageName),
      ['gamma'],
    );
  });

  it('UpdateStage: method settings read back as GetStage shows them, every field filled with its default; a bad one is refused', async () => {
    const { id } = await deployableApi('settings');
    await deploy(id, 'prod');
    const updated = await updateStage(id, 'prod', [
      { op: 'replace', path: '/*/*/throttling/rateLimit', value: '50.5' },
      { op: 'replace', path: '/*/*/logging/loglevel', value: 'INFO' },
      { op: 'replace', path: '/~1items~1{id}/GET/throttling/burstLimit', value: '7' },
    ]);
    assert.deepEqual(updated.methodSettings, {
      '*/*': {
        metricsEnabled: false,
        loggingLevel: 'INFO',
        dataTraceEnabled: false,
        throttlingBurstLimit: 5000,
        throttlingRateLimit: 50.5,
        cachingEnabled: false,
        cacheTtlInSeconds: 300,
        cacheDataEncrypted: false,
        requireAuthorizationForCacheControl: true,
        unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER',
      },
      '~1items~1{id}/GET': {
        metricsEnabled: false,
        dataTraceEnabled: false,
        throttlingBurstLimit: 7,
        throttlingRateLimit: 10000,
        cachingEnabled: false,
        cacheTtlInSeconds: 300,
        cacheDataEncrypted: false,
        requireAuthorizationForCacheControl: true,
        unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER',
      },
    });
    const before = await getStage(id, 'prod')();
    for (const path of ['/*/*/throttling/rateLimit', '/*/*/metrics/enabled', '/*/*/nothing/here']) {
      await expectError(() => updateStage(id, 'prod', [{ op: 'replace', path, value: 'lots' }]), 'BadRequestException', 400);
    }
    assert.deepEqual(shapeOf(await getStage(id, 'prod')()), shapeOf(before));
    const reverted = await updateStage(id, 'prod', [{ op: 'remove', path: '/*/*/logging/loglevel' }]);
    assert.equal(reverted.methodSettings?.['*/*']?.loggingLevel, undefined);
  });

  it('CreateStage: a duplicate is ConflictException, an unknown deployment NotFoundException, an unknown canary deployment BadRequestException', async () => {
    const { id } = await deployableApi('stage-rules');
    const d1 = await deploy(id, 'prod');
    const stages = () => apigw.send(new GetStagesCommand({ restApiId: id }));
    await refused(
      stages,
      () => apigw.send(new CreateStageCommand({ restApiId: id, stageName: 'prod', deploymentId: d1 })),
      'ConflictException',
      409,
    );
    await refused(
      stages,
      () => apigw.send(new CreateStageCommand({ restApiId: id, stageName: 'beta', deploymentId: 'nosuch' })),
      'NotFoundException',
      404,
    );
    await refused(
      stages,
      () =>
        apigw.send(
          new CreateStageCommand({
            restApiId: id,
            stageName: 'beta',
            deploymentId: d1,
            canarySettings: { deploymentId: 'nosuch', percentTraffic: 5 },
          }),
        ),
      'BadRequestException',
      400,
      'Deployment id does not exist',
    );
  });

  it("CreateStage: canarySettings without a deploymentId takes the stage's", async () => {
    const { id } = await deployableApi('stage-canary');
    const d1 = await deploy(id);
    const d2 = await deploy(id);
    const defaulted = await apigw.send(
      new CreateStageCommand({
        restApiId: id,
        stageName: 'one',
        deploymentId: d1,
        canarySettings: { percentTraffic: 40, stageVariableOverrides: { x: 'y' } },
      }),
    );
    assert.deepEqual(defaulted.canarySettings, {
      deploymentId: d1,
      percentTraffic: 40,
      stageVariableOverrides: { x: 'y' },
      useStageCache: false,
    });
    const explicit = await apigw.send(
      new CreateStageCommand({
        restApiId: id,
        stageName: 'two',
        deploymentId: d1,
        canarySettings: { deploymentId: d2, percentTraffic: 60 },
      }),
    );
    assert.deepEqual(explicit.canarySettings, { deploymentId: d2, percentTraffic: 60, useStageCache: false });
  });

  describe('UpdateStage patches', () => {
    let id: string;
    let d1: string;
    let d2: string;
    let n = 0;
    before(async () => {
      ({ id } = await deployableApi('patches'));
      d1 = await deploy(id);
      d2 = await deploy(id);
    });
    /** A new stage on d1 with variables {a: "1", b: "2"}; a canary on d2 with overrides {a: "canary"} when asked. */
    async function stage(withCanary: boolean): Promise<string> {
      const stageName = `s${++n}`;
      await apigw.send(
        new CreateStageCommand({
          restApiId: id,
          stageName,
          deploymentId: d1,
          variables: { a: '1', b: '2' },
          ...(withCanary && { canarySettings: { deploymentId: d2, percentTraffic: 10, stageVariableOverrides: { a: 'canary' } } }),
        }),
      );
      return stageName;
    }

    it('UpdateStage: replace /canarySettings/percentTraffic on a stage without a canary creates one on its deployment', async () => {
      const s = await stage(false);
      const out = await updateStage(id, s, [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '10.5' }]);
      assert.deepEqual(out.canarySettings, { deploymentId: d1, percentTraffic: 10.5, useStageCache: false });
      assert.equal(out.deploymentId, d1);
      assert.deepEqual((await getStage(id, s)()).canarySettings, out.canarySettings);
    });

    it('UpdateStage: replace /canarySettings/percentTraffic changes the share; out of 0..100 or not a number is refused', async () => {
      const s = await stage(true);
      assert.equal(
        (await updateStage(id, s, [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '50.0' }])).canarySettings
          ?.percentTraffic,
        50,
      );
      assert.equal(
        (await updateStage(id, s, [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '100' }])).canarySettings
          ?.percentTraffic,
        100,
      );
      // A decimal number only, as API Gateway reads it: not hexadecimal, not with blanks around it.
      for (const value of ['150', '-1', '100.5', 'lots', '0x10', ' 5', '5 ', '', 'Infinity']) {
        await refused(
          getStage(id, s),
          () => updateStage(id, s, [{ op: 'replace', path: '/canarySettings/percentTraffic', value }]),
          'BadRequestException',
          400,
        );
      }
      // Refused on a stage without a canary, none is created.
      const plain = await stage(false);
      await refused(
        getStage(id, plain),
        () => updateStage(id, plain, [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '150' }]),
        'BadRequestException',
        400,
      );
      assert.equal((await getStage(id, plain)()).canarySettings, undefined);
    });

    it('UpdateStage: replace /canarySettings/deploymentId needs an existing deployment; add on it is refused', async () => {
      const s = await stage(false);
      const out = await updateStage(id, s, [{ op: 'replace', path: '/canarySettings/deploymentId', value: d2 }]);
      assert.deepEqual(out.canarySettings, { deploymentId: d2, percentTraffic: 0, useStageCache: false });
      await refused(
        getStage(id, s),
        () => updateStage(id, s, [{ op: 'replace', path: '/canarySettings/deploymentId', value: 'nosuch' }]),
        'BadRequestException',
        400,
        'Deployment id does not exist',
      );
      await refused(
        getStage(id, s),
        () => updateStage(id, s, [{ op: 'add', path: '/canarySettings/deploymentId', value: d1 }]),
        'BadRequestException',
        400,
        'Invalid add operation with path: /canarySettings/deploymentId',
      );
    });

    it('UpdateStage: replace /deploymentId repoints the stage; an unknown one is refused', async () => {
      const s = await stage(false);
      assert.equal((await updateStage(id, s, [{ op: 'replace', path: '/deploymentId', value: d2 }])).deploymentId, d2);
      await refused(
        getStage(id, s),
        () => updateStage(id, s, [{ op: 'replace', path: '/deploymentId', value: 'nosuch' }]),
        'BadRequestException',
        400,
        'Deployment id does not exist',
      );
    });

    it('UpdateStage: add, replace and remove /canarySettings/stageVariableOverrides/<k>', async () => {
      const s = await stage(true);
      let out = await updateStage(id, s, [{ op: 'add', path: '/canarySettings/stageVariableOverrides/b', value: 'canary-b' }]);
      assert.deepEqual(out.canarySettings?.stageVariableOverrides, { a: 'canary', b: 'canary-b' });
      out = await updateStage(id, s, [{ op: 'replace', path: '/canarySettings/stageVariableOverrides/a', value: 'updated' }]);
      assert.deepEqual(out.canarySettings?.stageVariableOverrides, { a: 'updated', b: 'canary-b' });
      out = await updateStage(id, s, [{ op: 'remove', path: '/canarySettings/stageVariableOverrides/a' }]);
      assert.deepEqual(out.canarySettings?.stageVariableOverrides, { b: 'canary-b' });
      assert.deepEqual(out.variables, { a: '1', b: '2' });
      assert.deepEqual((await getStage(id, s)()).canarySettings?.stageVariableOverrides, { b: 'canary-b' });
    });

    it('UpdateStage: replace /canarySettings/useStageCache', async () => {
      const s = await stage(true);
      assert.equal(
        (await updateStage(id, s, [{ op: 'replace', path: '/canarySettings/useStageCache', value: 'true' }])).canarySettings?.useStageCache,
        true,
      );
      assert.equal((await getStage(id, s)()).canarySettings?.useStageCache, true);
      assert.equal(
        (await updateStage(id, s, [{ op: 'replace', path: '/canarySettings/useStageCache', value: 'false' }])).canarySettings
          ?.useStageCache,
        false,
      );
    });

    it('UpdateStage: remove /canarySettings disables the canary (the key disappears)', async () => {
      const s = await stage(true);
      const out = await updateStage(id, s, [{ op: 'remove', path: '/canarySettings' }]);
      assert.equal(out.canarySettings, undefined);
      assert.equal(out.deploymentId, d1);
      const got = await getStage(id, s)();
      assert.ok(!('canarySettings' in got), 'canarySettings should be absent');
    });

    it('UpdateStage: add and remove /variables/<k>', async () => {
      const s = await stage(false);
      assert.deepEqual((await updateStage(id, s, [{ op: 'add', path: '/variables/c', value: '3' }])).variables, { a: '1', b: '2', c: '3' });
      assert.deepEqual((await updateStage(id, s, [{ op: 'replace', path: '/variables/a', value: 'one' }])).variables, {
        a: 'one',
        b: '2',
        c: '3',
      });
      assert.deepEqual((await updateStage(id, s, [{ op: 'remove', path: '/variables/b' }])).variables, { a: 'one', c: '3' });
      assert.deepEqual((await getStage(id, s)()).variables, { a: 'one', c: '3' });
    });

    it('UpdateStage / CreateStage / CreateDeployment: stage variables API Gateway refuses (a name not of [A-Za-z0-9_], a value past 512 characters or of other characters) are BadRequestException', async () => {
      const s = await stage(true);
      const badValues = ['x'.repeat(513), 'a b', 'a@b', 'a\r\nb', '50%', 'é'];
      const badNames = ['a-b', 'a.b', 'x'.repeat(65)];
      for (const value of badValues) {
        for (const path of ['/variables/v', '/canarySettings/stageVariableOverrides/v']) {
          await refused(getStage(id, s), () => updateStage(id, s, [{ op: 'replace', path, value }]), 'BadRequestException', 400);
        }
      }
      for (const name of badNames) {
        await refused(
          getStage(id, s),
          () => updateStage(id, s, [{ op: 'replace', path: `/variables/${name}`, value: '1' }]),
          'BadRequestException',
          400,
        );
      }
      // At the bounds, and every character API Gateway allows, it is stored.
      const allowed = 'AZaz09-._~:/?#&=,'.padEnd(512, 'x');
      assert.equal(
        (await updateStage(id, s, [{ op: 'replace', path: `/variables/${'V_'.repeat(32)}`, value: allowed }])).variables?.['V_'.repeat(32)],
        allowed,
      );
      const stagesBefore = (await apigw.send(new GetStagesCommand({ restApiId: id }))).item?.length;
      for (const variables of [{ v: 'x'.repeat(513) }, { 'a-b': '1' }] as Record<string, string>[]) {
        await expectError(
          () => apigw.send(new CreateStageCommand({ restApiId: id, stageName: `bad${++n}`, deploymentId: d1, variables })),
          'BadRequestException',
          400,
        );
        await expectError(
          () =>
            apigw.send(
              new CreateStageCommand({
                restApiId: id,
                stageName: `bad${++n}`,
                deploymentId: d1,
                canarySettings: { stageVariableOverrides: variables },
              }),
            ),
          'BadRequestException',
          400,
        );
        await expectError(
          () => apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: `bad${++n}`, variables })),
          'BadRequestException',
          400,
        );
      }
      assert.equal((await apigw.send(new GetStagesCommand({ restApiId: id }))).item?.length, stagesBefore);
    });

    it('UpdateStage: promote (percent 0 + copy deploymentId + copy overrides → variables) keeps the canary at 0% with the same id', async () => {
      const s = await stage(true);
      const out = await updateStage(id, s, PROMOTE);
      assert.equal(out.deploymentId, d2);
      assert.deepEqual(out.variables, { a: 'canary', b: '2' });
      assert.deepEqual(out.canarySettings, {
        deploymentId: d2,
        percentTraffic: 0,
        stageVariableOverrides: { a: 'canary' },
        useStageCache: false,
      });
      assert.deepEqual(shapeOf(await getStage(id, s)()), shapeOf(out));
      const done = await updateStage(id, s, [{ op: 'remove', path: '/canarySettings' }]);
      assert.equal(done.canarySettings, undefined);
      assert.equal(done.deploymentId, d2);
    });

    it('UpdateStage: a copy outside the promotion paths is refused with the valid paths listed', async () => {
      const s = await stage(true);
      await refused(
        getStage(id, s),
        () => updateStage(id, s, [{ op: 'copy', from: '/variables', path: '/canarySettings/stageVariableOverrides' }]),
        'BadRequestException',
        400,
        `Invalid copy operation with path: /canarySettings/stageVariableOverrides and from /variables. ${COPY_ERROR_TAIL}`,
      );
      await refused(
        getStage(id, s),
        () => updateStage(id, s, [{ op: 'copy', from: '/canarySettings/percentTraffic', path: '/deploymentId' }]),
        'BadRequestException',
        400,
        `Invalid copy operation with path: /deploymentId and from /canarySettings/percentTraffic. ${COPY_ERROR_TAIL}`,
      );
      // A bad copy is a bad copy whether or not there is a canary to promote.
      const plain = await stage(false);
      await refused(
        getStage(id, plain),
        () => updateStage(id, plain, [{ op: 'copy', from: '/deploymentId', path: '/canarySettings/deploymentId' }]),
        'BadRequestException',
        400,
        `Invalid copy operation with path: /canarySettings/deploymentId and from /deploymentId. ${COPY_ERROR_TAIL}`,
      );
    });

    it('UpdateStage: copy without a canary is "Promotion not available. Canary does not exist."', async () => {
      const s = await stage(false);
      await refused(
        getStage(id, s),
        () => updateStage(id, s, PROMOTE.slice(1)),
        'BadRequestException',
        400,
        'Promotion not available. Canary does not exist.',
      );
    });

    it('UpdateStage: a refused operation later in the list leaves the earlier ones unapplied', async () => {
      const s = await stage(true);
      await refused(
        getStage(id, s),
        () =>
          updateStage(id, s, [
            { op: 'replace', path: '/description', value: 'half' },
            { op: 'add', path: '/variables/z', value: 'z' },
            { op: 'replace', path: '/canarySettings/percentTraffic', value: '101' },
          ]),
        'BadRequestException',
        400,
      );
    });
  });
});
