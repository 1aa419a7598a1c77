/**
 * Lambda reads code from Versa's S3: CreateFunction and UpdateFunctionCode with Code.S3Bucket/S3Key
 * (and S3ObjectVersion on a versioned bucket), S3's errors as Lambda reports them, and a SAM template
 * whose CodeUri is s3://bucket/key deployed through the stack API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, GetFunctionCommand, InvokeCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { errorOf, payloadOf, ROLE, startTestServer, zipOf, type TestServer } from './harness.js';
import { s3ClientFor } from './s3-helpers.js';

let t: TestServer;
let s3: S3Client;

const handler = (text: string) => zipOf({ 'index.js': `exports.handler = async () => ${JSON.stringify(text)};` });

before(async () => {
  t = await startTestServer();
  s3 = s3ClientFor(t.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'code' }));
});
after(async () => {
  s3.destroy();
  await t.close();
});

describe('Lambda code from S3', () => {
  it('CreateFunction from an S3 object, invoked; UpdateFunctionCode from another', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'code', Key: 'fn/v1.zip', Body: handler('from s3 v1') }));
    await s3.send(new PutObjectCommand({ Bucket: 'code', Key: 'fn/v2.zip', Body: handler('from s3 v2') }));
    const created = await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 's3-fn',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Code: { S3Bucket: 'code', S3Key: 'fn/v1.zip' },
      }),
    );
    assert.equal(created.CodeSize, handler('from s3 v1').byteLength);
    assert.equal(payloadOf(await t.lambda.send(new InvokeCommand({ FunctionName: 's3-fn' }))), 'from s3 v1');
    await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 's3-fn', S3Bucket: 'code', S3Key: 'fn/v2.zip' }));
    assert.equal(payloadOf(await t.lambda.send(new InvokeCommand({ FunctionName: 's3-fn' }))), 'from s3 v2');
  });

  it('answers an unknown key or bucket as Lambda does, and refuses S3ObjectVersion on an unversioned bucket', async () => {
    const create = (code: { S3Bucket: string; S3Key: string; S3ObjectVersion?: string }) =>
      t.lambda.send(
        new CreateFunctionCommand({ FunctionName: 'never', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: ROLE, Code: code }),
      );
    const noKey = await errorOf(() => create({ S3Bucket: 'code', S3Key: 'missing.zip' }));
    assert.equal(noKey.name, 'InvalidParameterValueException');
    assert.equal(
      noKey.message,
      'Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',
    );
    const noBucket = await errorOf(() => create({ S3Bucket: 'no-such-bucket', S3Key: 'x.zip' }));
    assert.equal(
      noBucket.message,
      'Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist',
    );
    const version = await errorOf(() => create({ S3Bucket: 'code', S3Key: 'fn/v1.zip', S3ObjectVersion: 'abc' }));
    assert.equal(version.name, 'InvalidParameterValueException');
    assert.match(version.message, /S3 Error Code: InvalidArgument\. S3 Error Message: Invalid version id specified/);
    const notZip = await s3.send(new PutObjectCommand({ Bucket: 'code', Key: 'not.zip', Body: 'plain text' }));
    assert.ok(notZip.ETag);
    const bad = await errorOf(() => create({ S3Bucket: 'code', S3Key: 'not.zip' }));
    assert.equal(bad.name, 'InvalidParameterValueException');
    assert.equal((await errorOf(() => t.lambda.send(new GetFunctionCommand({ FunctionName: 'never' })))).name, 'ResourceNotFoundException');
  });

  it('reads the version asked for on a versioned bucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned-code' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned-code', VersioningConfiguration: { Status: 'Enabled' } }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'versioned-code', Key: 'app.zip', Body: handler('versioned') }));
    await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'versioned-fn',
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        Role: ROLE,
        Code: { S3Bucket: 'versioned-code', S3Key: 'app.zip', S3ObjectVersion: put.VersionId },
      }),
    );
    assert.equal(payloadOf(await t.lambda.send(new InvokeCommand({ FunctionName: 'versioned-fn' }))), 'versioned');
  });

  it('a SAM template whose CodeUri is s3://bucket/key deploys and runs that code', async () => {
    const body = (text: string) =>
      zipOf({ 'index.js': `exports.handler = async () => ({ statusCode: 200, body: ${JSON.stringify(JSON.stringify(text))} });` });
    await s3.send(new PutObjectCommand({ Bucket: 'code', Key: 'sam/app-1.zip', Body: body('packaged') }));
    const template = [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  Packaged:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      FunctionName: packaged-fn',
      '      CodeUri: s3://code/sam/app-1.zip',
      '      Handler: index.handler',
      '      Runtime: nodejs20.x',
    ].join('\n');
    const res = await fetch(`${t.url}/_versa/api/stacks/packaged/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ template, artifacts: {}, parameters: {} }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const end = Date.now() + 30_000;
    let stack: { status: string; reason?: string; operation?: unknown };
    for (;;) {
      stack = ((await (await fetch(`${t.url}/_versa/api/stacks/packaged`)).json()) as { stack: typeof stack }).stack;
      if (!stack.operation || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(stack.status, 'CREATE_COMPLETE', stack.reason);
    const out = payloadOf(await t.lambda.send(new InvokeCommand({ FunctionName: 'packaged-fn' }))) as { body: string };
    assert.equal(out.body, '"packaged"');
  });
});
