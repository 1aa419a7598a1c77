/**
 * S3 behind configured credentials: the right secret is accepted and a wrong one refused in S3's words,
 * for plain, unsigned-payload and `aws-chunked` uploads (each chunk's signature chained from the
 * request's, so a tampered chunk is refused); STS's temporary keys are accepted; and an unsigned
 * request is answered in S3's XML.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { errorOf, startTestServer, type TestServer } from './harness.js';
import { presignedGet, rawRequest, s3ClientFor, s3Fetch, TEST_KEY, xmlText } from './s3-helpers.js';
import { runTool } from './tools.js';

const OPERATOR = { accessKeyId: 'AKIAVERSAOPERATOR01', secretAccessKey: 'operator-secret-key' };
const WRONG = { accessKeyId: OPERATOR.accessKeyId, secretAccessKey: 'not-the-secret' };
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

let t: TestServer;

before(async () => {
  t = await startTestServer({ credentials: [OPERATOR] });
  const s3 = s3ClientFor(t.url, 'path', OPERATOR);
  await s3.send(new CreateBucketCommand({ Bucket: 'guarded' }));
  s3.destroy();
});
after(() => t.close());

/**
 * An `aws-chunked` PUT signed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the headers signed as the SDK
 * signs them, each chunk signed over the previous signature. `tamper` changes a chunk's bytes after
 * its signature was computed.
 */
async function chunkedPut(key: string, chunks: Buffer[], secret: typeof OPERATOR, tamper?: number) {
  const url = `${t.url}/guarded/${key}`;
  const target = new URL(url);
  const decoded = chunks.reduce((n, c) => n + c.length, 0);
  const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: secret, sha256: Sha256, uriEscapePath: false });
  const date = new Date();
  const signed = await signer.sign(
    {
      method: 'PUT',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: {},
      headers: {
        host: target.host,
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(decoded),
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      },
    },
    { signingDate: date },
  );
  const headers = signed.headers as Record<string, string>;
  const seed = /Signature=([0-9a-f]{64})/.exec(headers.authorization!)![1]!;
  const longDate = headers['x-amz-date']!;
  const scope = `${longDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  let key4 = Buffer.from(`AWS4${secret.secretAccessKey}`);
  for (const part of [longDate.slice(0, 8), 'us-east-1', 's3', 'aws4_request']) key4 = createHmac('sha256', key4).update(part).digest();
  let previous = seed;
  const pieces: Buffer[] = [];
  for (const [i, chunk] of [...chunks, Buffer.alloc(0)].entries()) {
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      longDate,
      scope,
      previous,
      EMPTY_SHA256,
      createHash('sha256').update(chunk).digest('hex'),
    ].join('\n');
    const signature = createHmac('sha256', key4).update(toSign).digest('hex');
    previous = signature;
    const sent = i === tamper ? Buffer.from(chunk.toString('latin1').replace(/^./, 'X'), 'latin1') : chunk;
    pieces.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${signature}\r\n`), sent, Buffer.from('\r\n'));
  }
  const body = Buffer.concat(pieces);
  return rawRequest(url, 'PUT', { ...headers, 'content-length': String(body.length) }, body);
}

describe('S3 with credentials configured', () => {
  it('accepts the right secret and refuses a wrong one with SignatureDoesNotMatch, and an unknown key with InvalidAccessKeyId', async () => {
    const good = s3ClientFor(t.url, 'path', OPERATOR);
    const bad = s3ClientFor(t.url, 'path', WRONG);
    const stranger = s3ClientFor(t.url, 'path', { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'x' });
    try {
      await good.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'ok', Body: 'signed' }));
      // A stream body: aws-chunked with a trailing checksum, its headers signed with the declared payload.
      await good.send(
        new PutObjectCommand({ Bucket: 'guarded', Key: 'streamed', Body: Readable.from([Buffer.from('chunks')]), ContentLength: 6 }),
      );
      assert.equal(
        await (await good.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'streamed' }))).Body!.transformToString(),
        'chunks',
      );
      const refusedStream = await errorOf(() =>
        bad.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'streamed', Body: Readable.from([Buffer.from('x')]), ContentLength: 1 })),
      );
      assert.equal(refusedStream.name, 'SignatureDoesNotMatch');
      assert.equal(await (await good.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'ok' }))).Body!.transformToString(), 'signed');
      const refused = await errorOf(() => bad.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'no', Body: 'x' })));
      assert.equal(refused.name, 'SignatureDoesNotMatch');
      assert.equal(refused.$metadata?.httpStatusCode, 403);
      assert.equal((await errorOf(() => bad.send(new ListBucketsCommand({})))).name, 'SignatureDoesNotMatch');
      assert.equal((await errorOf(() => stranger.send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
      assert.equal((await errorOf(() => good.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'no' })))).name, 'NoSuchKey');
    } finally {
      good.destroy();
      bad.destroy();
      stranger.destroy();
    }
  });

  it('checks a declared payload hash, and accepts UNSIGNED-PAYLOAD only with a good signature', async () => {
    // Signed well over a hash that is not the body's: S3's own answer, and nothing stored.
    const lying = await s3Fetch(`${t.url}/guarded/lie`, { method: 'PUT', body: 'actual', key: OPERATOR, payloadHash: EMPTY_SHA256 });
    assert.equal(lying.status, 400);
    assert.equal(xmlText(lying.text, 'Code'), 'XAmzContentSHA256Mismatch');
    assert.equal(xmlText(lying.text, 'ClientComputedContentSHA256'), EMPTY_SHA256);
    assert.equal(xmlText(lying.text, 'S3ComputedContentSHA256'), createHash('sha256').update('actual').digest('hex'));
    assert.equal((await s3Fetch(`${t.url}/guarded/lie`, { key: OPERATOR })).status, 404);
    const lyingStranger = await s3Fetch(`${t.url}/guarded/lie`, { method: 'PUT', body: 'actual', key: WRONG, payloadHash: EMPTY_SHA256 });
    assert.equal(xmlText(lyingStranger.text, 'Code'), 'SignatureDoesNotMatch');
    const unsigned = await s3Fetch(`${t.url}/guarded/unsigned`, {
      method: 'PUT',
      body: 'free',
      key: OPERATOR,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    assert.equal(unsigned.status, 200);
    const wrong = await s3Fetch(`${t.url}/guarded/unsigned`, { method: 'PUT', body: 'free', key: WRONG, payloadHash: 'UNSIGNED-PAYLOAD' });
    assert.equal(wrong.status, 403);
  });

  it('accepts an aws-chunked upload whose chunk signatures chain, and refuses one with a tampered chunk or the wrong secret', async () => {
    const chunks = [Buffer.alloc(64 * 1024, 'a'), Buffer.alloc(1024, 'b')];
    const ok = await chunkedPut('chunked', chunks, OPERATOR);
    assert.equal(ok.status, 200, ok.text);
    const s3 = s3ClientFor(t.url, 'path', OPERATOR);
    try {
      const got = Buffer.from(
        await (await s3.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'chunked' }))).Body!.transformToByteArray(),
      );
      assert.ok(got.equals(Buffer.concat(chunks)), 'the chunks decoded, without their framing');
      const tampered = await chunkedPut('tampered', chunks, OPERATOR, 1);
      assert.equal(tampered.status, 403);
      assert.equal(xmlText(tampered.text, 'Code'), 'SignatureDoesNotMatch');
      const wrong = await chunkedPut('wrong', chunks, WRONG);
      assert.equal(wrong.status, 403);
      const none = await errorOf(() => s3.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'tampered' })));
      assert.equal(none.name, 'NoSuchKey');
    } finally {
      s3.destroy();
    }
  });

  it('accepts a presigned GetObject URL until it expires, and only with the right secret', async () => {
    const url = `${t.url}/guarded/ok`;
    const presign = (key: typeof OPERATOR, expiresIn: number, signingDate?: Date) => presignedGet(url, key, expiresIn, signingDate);
    const good = await rawRequest(await presign(OPERATOR, 300), 'GET', {});
    assert.equal(good.status, 200, good.text);
    assert.equal(good.text, 'signed');
    const wrong = await rawRequest(await presign(WRONG, 300), 'GET', {});
    assert.equal(xmlText(wrong.text, 'Code'), 'SignatureDoesNotMatch');
    const expired = await rawRequest(await presign(OPERATOR, 60, new Date(Date.now() - 120_000)), 'GET', {});
    assert.equal(expired.status, 403);
    assert.equal(xmlText(expired.text, 'Code'), 'AccessDenied');
    assert.equal(xmlText(expired.text, 'Message'), 'Request has expired');
  });

  it("accepts boto3's presigned URLs, which carry no X-Amz-Content-Sha256, and only with the right secret", async () => {
    const presign = async (key: typeof OPERATOR) => {
      const script = [
        'import sys, boto3',
        'from botocore.config import Config',
        "s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],",
        "  region_name='us-east-1', config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))",
        "print(s3.generate_presigned_url('get_object', Params={'Bucket': 'guarded', 'Key': 'ok'}, ExpiresIn=300))",
      ].join('\n');
      const run = await runTool('python3', ['-c', script, t.url, key.accessKeyId, key.secretAccessKey]);
      assert.equal(run.code, 0, run.stderr);
      return run.stdout.trim();
    };
    const url = await presign(OPERATOR);
    assert.ok(!/x-amz-content-sha256/i.test(url), url);
    const good = await rawRequest(url, 'GET', {});
    assert.equal(good.status, 200, good.text);
    assert.equal(good.text, 'signed');
    const wrong = await rawRequest(await presign(WRONG), 'GET', {});
    assert.equal(xmlText(wrong.text, 'Code'), 'SignatureDoesNotMatch');
  });

  it('answers an unsigned request with AccessDenied in S3 XML, and HEAD without a body', async () => {
    const port = new URL(t.url).port;
    const get = await rawRequest(`${t.url}/guarded/ok`, 'GET', {});
    assert.equal(get.status, 403);
    assert.equal(xmlText(get.text, 'Code'), 'AccessDenied');
    const host = await rawRequest(`${t.url}/ok`, 'GET', { host: `guarded.s3.localhost:${port}` });
    assert.equal(xmlText(host.text, 'Code'), 'AccessDenied');
    const head = await rawRequest(`${t.url}/guarded/ok`, 'HEAD', {});
    assert.equal(head.status, 403);
    assert.equal(head.text, '');
  });

  it('STS AssumeRole hands out temporary keys that S3 and STS accept; GetCallerIdentity names the assumed role', async () => {
    const sts = new STSClient({ endpoint: t.url, region: 'us-east-1', credentials: OPERATOR, maxAttempts: 1 });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, '000000000000');
    assert.equal(me.Arn, 'arn:aws:iam::000000000000:root');
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/cdk-hnb659fds-deploy-role',
        RoleSessionName: 'deploy',
        DurationSeconds: 900,
      }),
    );
    const c = assumed.Credentials!;
    assert.match(c.AccessKeyId!, /^ASIA[A-Z0-9]{16}$/);
    const ttl = c.Expiration!.getTime() - Date.now();
    assert.ok(ttl > 880_000 && ttl <= 900_000, `expires in ${ttl} ms`);
    const key = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const asRole = new STSClient({ endpoint: t.url, region: 'us-east-1', credentials: key, maxAttempts: 1 });
    const who = await asRole.send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, 'arn:aws:sts::000000000000:assumed-role/cdk-hnb659fds-deploy-role/deploy');
    assert.equal(who.UserId, assumed.AssumedRoleUser!.AssumedRoleId);
    const s3 = s3ClientFor(t.url, 'path', key);
    const noToken = s3ClientFor(t.url, 'path', { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    try {
      await s3.send(new PutObjectCommand({ Bucket: 'guarded', Key: 'by-role', Body: 'role' }));
      assert.equal((await errorOf(() => noToken.send(new ListBucketsCommand({})))).name, 'InvalidAccessKeyId');
    } finally {
      s3.destroy();
      noToken.destroy();
      sts.destroy();
      asRole.destroy();
    }
    const short = await errorOf(() =>
      new STSClient({ endpoint: t.url, region: 'us-east-1', credentials: OPERATOR, maxAttempts: 1 }).send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/r', RoleSessionName: 'session', DurationSeconds: 60 }),
      ),
    );
    assert.equal(short.name, 'ValidationError');
  });
});

describe('S3 without credentials (any key)', () => {
  it('a body that is not what its x-amz-content-sha256 declares is refused as S3 refuses it, and nothing is stored', async () => {
    const dev = await startTestServer();
    try {
      const s3 = s3ClientFor(dev.url, 'path', TEST_KEY);
      await s3.send(new CreateBucketCommand({ Bucket: 'open' }));
      s3.destroy();
      const url = `${dev.url}/open/e`;
      const zeros = '0'.repeat(64);
      const lying = await s3Fetch(url, { method: 'PUT', body: 'hello', payloadHash: zeros });
      assert.deepEqual([lying.status, xmlText(lying.text, 'Code')], [400, 'XAmzContentSHA256Mismatch']);
      assert.equal(
        xmlText(lying.text, 'Message')?.replaceAll('&#39;', "'"),
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
      const garbled = await s3Fetch(url, { method: 'PUT', body: 'hello', payloadHash: 'not-a-hash' });
      assert.deepEqual(
        [garbled.status, xmlText(garbled.text, 'Code'), xmlText(garbled.text, 'ArgumentName')],
        [400, 'InvalidArgument', 'x-amz-content-sha256'],
      );
      assert.equal((await s3Fetch(url)).status, 404);
      // The hash in capitals is the same hash.
      const upper = createHash('sha256').update('hello').digest('hex').toUpperCase();
      assert.equal((await s3Fetch(url, { method: 'PUT', body: 'hello', payloadHash: upper })).status, 200);
      assert.equal((await s3Fetch(url)).text, 'hello');
    } finally {
      await dev.close();
    }
  });

  it('a presigned URL still expires, in either signature version', async () => {
    const dev = await startTestServer();
    try {
      const key = { accessKeyId: 'any', secretAccessKey: 'thing' };
      const s3 = s3ClientFor(dev.url, 'path', key);
      await s3.send(new CreateBucketCommand({ Bucket: 'open' }));
      await s3.send(new PutObjectCommand({ Bucket: 'open', Key: 'ok', Body: 'open' }));
      s3.destroy();
      const url = `${dev.url}/open/ok`;
      const fresh = await rawRequest(await presignedGet(url, key, 300), 'GET', {});
      assert.equal(fresh.text, 'open');
      const expired = await rawRequest(await presignedGet(url, key, 60, new Date(Date.now() - 120_000)), 'GET', {});
      assert.deepEqual([expired.status, xmlText(expired.text, 'Message')], [403, 'Request has expired']);
      const past = Math.floor(Date.now() / 1000) - 5;
      const v2 = await fetch(`${url}?AWSAccessKeyId=any&Signature=c2lnbmF0dXJl&Expires=${past}`);
      assert.deepEqual([v2.status, xmlText(await v2.text(), 'Message')], [403, 'Request has expired']);
      const v2Fresh = await fetch(`${url}?AWSAccessKeyId=any&Signature=c2lnbmF0dXJl&Expires=${past + 600}`);
      assert.equal(await v2Fresh.text(), 'open');
    } finally {
      await dev.close();
    }
  });
});
