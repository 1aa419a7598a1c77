/**
 * The answers AWS itself gives, where Versa once gave its own: each case states what a response
 * recorded against real AWS contains (codes, messages, shapes) and checks that Versa answers the same,
 * over the AWS SDK v3 or raw signed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { createFunction, startTestServer, zipOf, type TestServer } from './harness.js';

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

  it('CreateFunction(Publish: true): the unqualified ARN, Version "1", Pending with its reason and no LastUpdateStatus', async () => {
    const out = await createFunction(lambda, 'born-published', SOURCE, { Publish: true });
    assert.equal(out.FunctionArn, arnOf('born-published'));
    assert.equal(out.Version, '1');
    assert.equal(out.State, 'Pending');
    assert.equal(out.StateReason, 'The function is being created.');
    assert.equal(out.StateReasonCode, 'Creating');
    assert.equal(out.LastUpdateStatus, undefined);
    assert.equal(out.LastUpdateStatusReason, undefined);
    assert.match(out.RuntimeVersionConfig?.RuntimeVersionArn ?? '', /^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/);

    // The waiters the SDK and the tools use still see the function become Active at once.
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'born-published' });
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'born-published' }));
    assert.equal(got.Configuration?.State, 'Active');
    assert.equal(got.Configuration?.LastUpdateStatus, 'Successful');
    assert.equal(got.Configuration?.StateReason, undefined);
    const v1 = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'born-published', Qualifier: '1' }));
    assert.equal(v1.FunctionArn, arnOf('born-published', '1'));
    assert.equal(v1.State, 'Active');
  });

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

  it('UpdateFunctionCode answers InProgress with the reason code AWS sends, Creating', async () => {
    await createFunction(lambda, 'updated', SOURCE);
    await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'updated' });
    const out = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'updated', ZipFile: zipOf({ 'index.mjs': 'export const handler = async () => 2;' }) }),
    );
    assert.equal(out.LastUpdateStatus, 'InProgress');
    assert.equal(out.LastUpdateStatusReason, 'The function is being created.');
    assert.equal(out.LastUpdateStatusReasonCode, 'Creating');
    assert.equal(out.State, 'Active');
    await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 10, minDelay: 1 }, { FunctionName: 'updated' });
  });

  it('ListVersionsByFunction and ListFunctions list configurations without State, LastUpdateStatus or RuntimeVersionConfig', async () => {
    await createFunction(lambda, 'listed', SOURCE, { Publish: true });
    const versions = (await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'listed' }))).Versions ?? [];
    const functions = (await lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
    const entries = [...versions, ...functions.filter((f) => f.FunctionName === 'listed')];
    assert.equal(entries.length, 3);
    for (const entry of entries) {
      for (const absent of ['State', 'StateReason', 'StateReasonCode', 'LastUpdateStatus', 'RuntimeVersionConfig'] as const) {
        assert.equal(entry[absent], undefined, `${absent} in ${entry.FunctionArn}`);
      }
      assert.equal(entry.PackageType, 'Zip');
      assert.ok(entry.RevisionId);
    }
    assert.deepEqual(
      versions.map((v) => v.FunctionArn),
      [arnOf('listed', '$LATEST'), arnOf('listed', '1')],
    );
    const got = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'listed', Qualifier: '1' }));
    assert.ok(got.RuntimeVersionConfig?.RuntimeVersionArn, 'a single configuration does carry the runtime version');
  });
});
