/**
 * The answers AWS itself gives to API Gateway's REST control plane, where Versa once gave its own: each
 * case states what a response recorded against real AWS contains (LocalStack's AWS-validated snapshots,
 * tests/aws/services/apigateway/test_apigateway_{api,canary,integrations,lambda}.snapshot.json) and checks
 * that Versa answers the same over the AWS SDK v3.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  DeleteIntegrationResponseCommand,
  GetIntegrationCommand,
  GetIntegrationResponseCommand,
  GetMethodCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  type CreateRestApiCommandInput,
  type IntegrationType,
  type PutIntegrationCommandInput,
} from '@aws-sdk/client-api-gateway';
import { awsFetch, clientConfig, startTestServer, type TestServer, refused } from './harness.js';

const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fn';

describe('API Gateway: errors as AWS words them', () => {
  let t: TestServer;
  let apigw: APIGatewayClient;
  before(async () => {
    t = await startTestServer();
    apigw = new APIGatewayClient(clientConfig(t.url));
  });
  after(async () => {
    apigw.destroy();
    await t.close();
  });

  const createApi = async (input: Partial<CreateRestApiCommandInput> = {}) => {
    const api = await apigw.send(new CreateRestApiCommand({ name: 'fidelity', ...input }));
    return { id: api.id!, rootId: api.rootResourceId! };
  };
  /** An API whose root has a GET method with a MOCK integration. */
  const mockApi = async () => {
    const { id, rootId } = await createApi();
    await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', authorizationType: 'NONE' }));
    await apigw.send(new PutIntegrationCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', type: 'MOCK' }));
    return { id, rootId, key: { restApiId: id, resourceId: rootId, httpMethod: 'GET' } };
  };

  it('CreateRestApi: an empty description is BadRequestException (test_create_rest_api_with_optional_params)', async () => {
    // create-empty-desc: 400 BadRequestException "Description cannot be an empty string".
    await refused(() => createApi({ description: '' }), 'BadRequestException', 400, 'Description cannot be an empty string');
  });

  it('CreateRestApi: the endpoint configuration is checked as AWS checks it, and ipAddressType defaults by type', async () => {
    const create = (endpointConfiguration: CreateRestApiCommandInput['endpointConfiguration'], description?: string) => () =>
      createApi({ endpointConfiguration, ...(description !== undefined && { description }) });
    const types =
      "Value '[wrong]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]";
    const ip =
      "Value 'wrong' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]";
    // create-with-empty-types: 400 BadRequestException.
    await refused(
      create({ types: [] }),
      'BadRequestException',
      400,
      'REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.',
    );
    // create-with-invalid-ip-address-type / create-with-invalid-types: 400 ValidationException, one violation each.
    await refused(
      create({ ipAddressType: 'wrong' as 'ipv4', types: ['EDGE'] }),
      'ValidationException',
      400,
      `1 validation error detected: ${ip}`,
    );
    await refused(
      create({ ipAddressType: 'ipv4', types: ['wrong' as 'EDGE'] }),
      'ValidationException',
      400,
      `1 validation error detected: ${types}`,
    );
    // create-with-multiple-errors-1: both violations together, the types first, before the empty description.
    await refused(
      create({ ipAddressType: 'wrong' as 'ipv4', types: ['wrong' as 'EDGE'] }, ''),
      'ValidationException',
      400,
      `2 validation errors detected: ${types}; ${ip}`,
    );
    // create-with-two-types, create-with-private-type-and-ipv4-ip-address-type: 400 BadRequestException.
    await refused(
      create({ types: ['EDGE', 'REGIONAL'] }),
      'BadRequestException',
      400,
      'Cannot create an api with multiple Endpoint Types.',
    );
    await refused(
      create({ ipAddressType: 'ipv4', types: ['PRIVATE'] }),
      'BadRequestException',
      400,
      'Only dualstack ipAddressType is supported for Private APIs.',
    );
    // create-with-empty-default, create-with-private-default: EDGE/ipv4 by default, PRIVATE is dualstack.
    const edge = await apigw.send(new CreateRestApiCommand({ name: 'edge' }));
    assert.deepEqual(edge.endpointConfiguration, { types: ['EDGE'], ipAddressType: 'ipv4' });
    const priv = await apigw.send(new CreateRestApiCommand({ name: 'private', endpointConfiguration: { types: ['PRIVATE'] } }));
    assert.deepEqual(priv.endpointConfiguration, { types: ['PRIVATE'], ipAddressType: 'dualstack' });
  });

  it('CreateResource: a child of a greedy resource names its path part (test_create_proxy_resource_validation)', async () => {
    const { id, rootId } = await createApi();
    const proxy = await apigw.send(new CreateResourceCommand({ restApiId: id, parentId: rootId, pathPart: '{proxy+}' }));
    // create-proxy-static-child-resource: "... greedy path variable: {proxy+}", the path part, not the path "/{proxy+}".
    await refused(
      () => apigw.send(new CreateResourceCommand({ restApiId: id, parentId: proxy.id!, pathPart: 'child' })),
      'BadRequestException',
      400,
      'Cannot create a child of a resource with a greedy path variable: {proxy+}',
    );
  });

  it('PutMethod: the resource is looked up before the verb, and an unknown API is an unknown resource (test_put_method_validation)', async () => {
    const { id, rootId } = await createApi();
    const put = (restApiId: string, resourceId: string) => () =>
      apigw.send(new PutMethodCommand({ restApiId, resourceId, httpMethod: 'WRONG', authorizationType: 'NONE' }));
    // wrong-api and wrong-resource (both with httpMethod WRONG): 404 "Invalid Resource identifier specified".
    await refused(put('fake-api', rootId), 'NotFoundException', 404, 'Invalid Resource identifier specified');
    await refused(put(id, 'fake-resource-id'), 'NotFoundException', 404, 'Invalid Resource identifier specified');
    // wrong-method: on a known resource, the verb is refused.
    await refused(
      put(id, rootId),
      'BadRequestException',
      400,
      'Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY',
    );
  });

  it('PutMethod: CUSTOM without an authorizer, and a parameter name used twice, are BadRequestException', async () => {
    const { id, rootId } = await createApi();
    // missing-authorizer-id (test_put_method_validation).
    await refused(
      () => apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'ANY', authorizationType: 'CUSTOM' })),
      'BadRequestException',
      400,
      'Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.',
    );
    // req-params-same-name (test_method_request_parameters): a query string and a header both named "optional".
    await refused(
      () =>
        apigw.send(
          new PutMethodCommand({
            restApiId: id,
            resourceId: rootId,
            httpMethod: 'GET',
            authorizationType: 'NONE',
            requestParameters: { 'method.request.querystring.optional': false, 'method.request.header.optional': false },
          }),
        ),
      'BadRequestException',
      400,
      'Parameter names must be unique across querystring, header and path',
    );
    // Neither refusal left a method behind.
    await refused(
      () => apigw.send(new GetMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET' })),
      'NotFoundException',
      404,
      'Invalid Method identifier specified',
    );
  });

  it('PutMethod: a request parameter that is no mapping expression is BadRequestException (test_put_integration_request_parameter_bool_type)', async () => {
    const { id, rootId } = await createApi();
    // put-method-request-param-wrong-type: the key `true` (boto3 sent the Python True as a key).
    await refused(
      () =>
        apigw.send(
          new PutMethodCommand({
            restApiId: id,
            resourceId: rootId,
            httpMethod: 'POST',
            authorizationType: 'NONE',
            requestParameters: { 'method.request.path.testPath': true, true: true },
          }),
        ),
      'BadRequestException',
      400,
      'Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: true]',
    );
  });

  it('A true/false or a number where a string belongs is SerializationException naming the Java class (raw JSON)', async () => {
    const { id, rootId } = await mockApi();
    const base = `${t.url}/restapis/${id}/resources/${rootId}/methods/GET/integration`;
    const send = async (url: string, body: unknown) => {
      const res = await awsFetch(url, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: await res.json() };
    };
    // put-integration-request-param-bool-value (test_put_integration_request_parameter_bool_type).
    assert.deepEqual(await send(base, { type: 'HTTP_PROXY', requestParameters: { 'integration.request.path.testPath': true } }), {
      status: 400,
      type: 'SerializationException',
      body: { message: 'class java.lang.Boolean can not be converted to an String' },
    });
    // put-integration-response-invalid-responseTemplates-1 (test_integration_response_invalid_responsetemplates).
    assert.deepEqual(await send(`${base}/responses/200`, { selectionPattern: '', responseTemplates: { 'application/json': 123 } }), {
      status: 400,
      type: 'SerializationException',
      body: { message: 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String' },
    });
  });

  it('Method operations: an unknown API is "Invalid Resource identifier specified" (test_integration_response_wrong_api and others)', async () => {
    const key = { restApiId: 'wrong-api', resourceId: 'dummy-value', httpMethod: 'GET' };
    const calls = [
      // put/get-integration-response-wrong-api, get-integration-no-api, non-existent-api-id.
      () => apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: '200' })),
      () => apigw.send(new GetIntegrationResponseCommand({ ...key, statusCode: '200' })),
      () => apigw.send(new GetIntegrationCommand(key)),
      () => apigw.send(new DeleteIntegrationResponseCommand({ ...key, statusCode: '200' })),
    ];
    for (const call of calls) await refused(call, 'NotFoundException', 404, 'Invalid Resource identifier specified');
  });

  it('PutIntegration: a type outside the enum is ValidationException (test_put_integration_wrong_type)', async () => {
    const { id, rootId } = await createApi();
    await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', authorizationType: 'NONE' }));
    await refused(
      () =>
        apigw.send(
          new PutIntegrationCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', type: 'HTTPS_PROXY' as IntegrationType }),
        ),
      'ValidationException',
      400,
      "1 validation error detected: Value 'HTTPS_PROXY' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]",
    );
  });

  it('PutIntegration: URIs are refused in AWS words (test_put_integration_validation, test_put_integration_aws_proxy_uri)', async () => {
    const { id, rootId } = await createApi();
    await apigw.send(new PutMethodCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', authorizationType: 'NONE' }));
    const put = (type: IntegrationType, uri: string) => () =>
      apigw.send(
        new PutIntegrationCommand({ restApiId: id, resourceId: rootId, httpMethod: 'GET', type, uri, integrationHttpMethod: 'POST' }),
      );
    const onlyLambda = "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.";
    const cases: [PutIntegrationCommandInput['type'], string, string][] = [
      // invalid-uri-HTTP, invalid-uri-HTTP_PROXY.
      ['HTTP', 'non-valid-http', 'Invalid HTTP endpoint specified for URI'],
      ['HTTP_PROXY', 'non-valid-http', 'Invalid HTTP endpoint specified for URI'],
      // invalid-uri-not-an-arn, put-integration-wrong-arn.
      ['AWS', 'non-valid-arn', 'Invalid ARN specified in the request'],
      ['AWS_PROXY', `bad-arn:lambda:path/2015-03-31/functions/${LAMBDA_ARN}/invocations`, 'Invalid ARN specified in the request'],
      // invalid-uri-invalid-arn, put-integration-lambda-uri, put-integration-wrong-type.
      ['AWS', 'arn:aws:iam::0000000000:role/service-role/asdf', 'AWS ARN for integration must contain path or action'],
      ['AWS_PROXY', LAMBDA_ARN, 'AWS ARN for integration must contain path or action'],
      [
        'AWS_PROXY',
        `arn:aws:apigateway:us-east-1:lambda:test/2015-03-31/functions/${LAMBDA_ARN}/invocations`,
        'AWS ARN for integration must contain path or action',
      ],
      // no-s3-support-AWS_PROXY, put-integration-wrong-firehose, put-integration-bad-lambda-arn.
      ['AWS_PROXY', 'arn:aws:apigateway:us-east-1:s3:path/b/k', onlyLambda],
      ['AWS_PROXY', `arn:aws:apigateway:us-east-1:firehose:path/2015-03-31/functions/${LAMBDA_ARN}/invocations`, onlyLambda],
      ['AWS_PROXY', `arn:aws:apigateway:us-east-1:lambda:path/random/value/${LAMBDA_ARN}/invocations`, onlyLambda],
    ];
    for (const [type, uri, message] of cases) await refused(put(type!, uri), 'BadRequestException', 400, message);
  });

  it('PutIntegration: a MOCK integration keeps no URI, an HTTP one shows connectionType INTERNET (test_put_integration_validation)', async () => {
    const { id, rootId } = await createApi();
    const key = { restApiId: id, resourceId: rootId, httpMethod: 'GET' };
    await apigw.send(new PutMethodCommand({ ...key, authorizationType: 'NONE' }));
    // not-required-integration-method-MOCK: sent uri http://example.com; the answer has no uri.
    const mock = await apigw.send(new PutIntegrationCommand({ ...key, type: 'MOCK', uri: 'http://example.com' }));
    assert.equal(mock.uri, undefined);
    assert.equal(mock.connectionType, undefined);
    // http-method-HTTP: connectionType INTERNET beside the uri and httpMethod.
    const http = await apigw.send(
      new PutIntegrationCommand({ ...key, type: 'HTTP', uri: 'http://example.com', integrationHttpMethod: 'POST' }),
    );
    assert.equal(http.connectionType, 'INTERNET');
    assert.equal(http.uri, 'http://example.com');
    assert.equal((await apigw.send(new GetIntegrationCommand(key))).connectionType, 'INTERNET');
  });

  it('Integration responses: a status code off the pattern is ValidationException, before any lookup (test_integration_response_invalid_statuscode)', async () => {
    const { key } = await mockApi();
    const message =
      "1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d";
    await refused(
      () => apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: 'wrong', selectionPattern: '' })),
      'ValidationException',
      400,
      message,
    );
    // get-integration-response-invalid-statusCode was recorded on a resource with no GET method at all.
    await refused(
      () => apigw.send(new GetIntegrationResponseCommand({ ...key, httpMethod: 'POST', statusCode: 'wrong' })),
      'ValidationException',
      400,
      message,
    );
  });

  it('PutIntegrationResponse: is taken before the method response of its status (test_delete_integration_response_errors)', async () => {
    const { key } = await mockApi();
    // put-integration-response: 201 with no PutMethodResponse before it.
    const out = await apigw.send(
      new PutIntegrationResponseCommand({
        ...key,
        statusCode: '200',
        selectionPattern: '',
        responseTemplates: { 'application/json': '"created"' },
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.deepEqual(out.responseTemplates, { 'application/json': '"created"' });
    await apigw.send(new PutMethodResponseCommand({ ...key, statusCode: '200' }));
  });

  it('DeleteIntegrationResponse: a method the resource lacks is a missing integration (test_delete_integration_response_errors)', async () => {
    const { key } = await mockApi();
    await apigw.send(new PutIntegrationResponseCommand({ ...key, statusCode: '200', selectionPattern: '' }));
    // non-existent-method (POST) and bad-method (WRONG): 404 "Invalid Integration identifier specified".
    for (const httpMethod of ['POST', 'WRONG']) {
      await refused(
        () => apigw.send(new DeleteIntegrationResponseCommand({ ...key, httpMethod, statusCode: '200' })),
        'NotFoundException',
        404,
        'Invalid Integration identifier specified',
      );
    }
    // non-existent-status-code.
    await refused(
      () => apigw.send(new DeleteIntegrationResponseCommand({ ...key, statusCode: '201' })),
      'NotFoundException',
      404,
      'Invalid Response status code specified',
    );
  });

  it('CreateDeployment: a canary with an empty stage name quotes the empty value (test_create_canary_deployment_validation)', async () => {
    const { id } = await mockApi();
    // create-canary-deployment-empty-stage: "... Provided value is " (create-canary-deployment-no-stage says "null").
    await refused(
      () => apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: '', canarySettings: { percentTraffic: 50 } })),
      'BadRequestException',
      400,
      'Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is ',
    );
  });
});
