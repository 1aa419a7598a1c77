/**
 * The answers AWS itself gives, where Versa once gave its own: each case states what a response
 * recorded against real AWS contains (codes, messages, shapes) and checks that Versa answers the same,
 * over the AWS SDK v3 or raw signed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetFunctionConfigurationCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { createFunction, startTestServer, type TestServer } from './harness.js';

const ACCOUNT = '000000000000';
const arnOf = (name: string, qualifier?: string) =>
  `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
const SOURCE = { 'index.mjs': 'export const handler = async () => "ok";' };

describe('Lambda: CreateFunction with Publish, and publishing again', () => {
  let t: TestServer;
  let lambda: LambdaClient;
  before(async () => {
    t = await startTestServer();
    lambda = t.lambda;
  });
  after(() => t.close());

  it('PublishVersion with nothing changed since Publish at creation returns the existing version 1, not a new one', async () => {
    await createFunction(lambda, 'publish-twice', SOURCE, { Publish: true });
    const v1 = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'publish-twice', Qualifier: '1' }));
    const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'publish-twice', Description: 'ignored' }));
    assert.equal(again.$metadata.httpStatusCode, 201);
    assert.equal(again.Version, '1');
    assert.equal(again.FunctionArn, arnOf('publish-twice', '1'));
    assert.equal(again.RevisionId, v1.RevisionId);
    assert.equal(again.Description, '');
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'publish-twice' }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ['$LATEST', '1'],
    );
  });
});
