/**
 * Large bodies are hashed as they arrive (src/server/body.ts), and those hashes stand in for the ones
 * computed at the end: a signature over a large body, S3's check of a declared `x-amz-content-sha256`,
 * and the hashes S3 names an object or part by. Each must be the body's own, with credentials on.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { GetFunctionCommand, InvokeCommand, LambdaClient, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createFunction, startTestServer, zipOf, type TestServer } from './harness.js';
import { s3ClientFor } from './s3-helpers.js';

const OPS = { accessKeyId: 'AKIDLARGEBODIES', secretAccessKey: 'large-bodies-secret' };
const MB = 1024 * 1024;

/** Deterministic bytes that do not compress. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update(String(seed)).digest();
  for (let at = 0; at < length; at += 32) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe('large bodies, hashed as they arrive, with credentials on', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ credentials: [OPS] });
  });
  after(() => t?.close());

  it('S3 stores a large object and part under their own hashes', async () => {
    const s3 = s3ClientFor(t.url, 'path', OPS);
    await s3.send(new CreateBucketCommand({ Bucket: 'large' }));
    const body = bytes(3 * MB + 7, 1);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'large', Key: 'one', Body: body }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'large', Key: 'one' }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);

    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'large', Key: 'parts' }));
    const part = bytes(5 * MB, 2);
    const sent = await s3.send(
      new UploadPartCommand({ Bucket: 'large', Key: 'parts', UploadId: upload.UploadId, PartNumber: 1, Body: part }),
    );
    assert.equal(sent.ETag, `"${md5(part)}"`);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'large',
        Key: 'parts',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: sent.ETag }] },
      }),
    );
    const whole = await s3.send(new GetObjectCommand({ Bucket: 'large', Key: 'parts' }));
    assert.deepEqual(Buffer.from(await whole.Body!.transformToByteArray()), part);
    s3.destroy();
  });

  it('S3 refuses a large body that is not what its x-amz-content-sha256 declares, and stores nothing', async () => {
    const body = bytes(2 * MB, 3);
    const declared = sha256(bytes(2 * MB, 4));
    const host = new URL(t.url).host;
    const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: OPS, sha256: Sha256, uriEscapePath: false });
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/large/refused',
      query: {},
      headers: { host, 'x-amz-content-sha256': declared },
      body,
    });
    const res = await fetch(`${t.url}/large/refused`, { method: 'PUT', headers: signed.headers, body });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.match(text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.match(text, new RegExp(`<S3ComputedContentSHA256>${sha256(body)}</S3ComputedContentSHA256>`));
    const missing = await fetch(`${t.url}/large/refused`, {
      headers: (
        await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/large/refused', query: {}, headers: { host } })
      ).headers,
    });
    assert.equal(missing.status, 404);
  });

  it('Lambda takes a large signed update and refuses one whose body is not the one signed', async () => {
    const lambda = new LambdaClient({ endpoint: t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    await createFunction(lambda, 'large', { 'index.mjs': 'export const handler = async () => 1;' });
    const zip = zipOf({ 'index.mjs': 'export const handler = async () => 2;', 'padding.bin': bytes(2 * MB, 5).toString('base64') });
    const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'large', ZipFile: zip }));
    assert.equal(updated.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    // Created from a large package too (its Code.ZipFile decoded on the parser's thread), and it runs.
    const created = await createFunction(lambda, 'large-created', {
      'index.mjs': 'export const handler = async () => "from a large package";',
      'padding.bin': bytes(2 * MB, 7).toString('base64'),
    });
    assert.ok(created.CodeSize! > MB, `a package of ${created.CodeSize} bytes`);
    const ran = await lambda.send(new InvokeCommand({ FunctionName: 'large-created' }));
    assert.equal(Buffer.from(ran.Payload!).toString(), '"from a large package"');

    // The same request with one byte of its body changed after signing.
    const host = new URL(t.url).host;
    const body = JSON.stringify({
      ZipFile: Buffer.from(
        zipOf({ 'index.mjs': 'export const handler = async () => 3;', 'p.bin': bytes(2 * MB, 6).toString('base64') }),
      ).toString('base64'),
    });
    const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: OPS, sha256: Sha256 });
    const path = '/2015-03-31/functions/large/code';
    const signed = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query: {},
      headers: { host, 'content-type': 'application/json' },
      body,
    });
    const tampered = body.slice(0, -3) + (body.at(-3) === 'A' ? 'B' : 'A') + body.slice(-2);
    const res = await fetch(`${t.url}${path}`, { method: 'PUT', headers: signed.headers, body: tampered });
    assert.equal(res.status, 403);
    assert.equal(
      ((await res.json()) as { message?: string; Message?: string }).message ?? '',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
    const now = await lambda.send(new GetFunctionCommand({ FunctionName: 'large' }));
    assert.equal(now.Configuration?.CodeSha256, updated.CodeSha256, 'the refused update changed nothing');
    lambda.destroy();
  });
});
