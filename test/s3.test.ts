/**
 * S3 through the AWS SDK v3 for JavaScript, path style and virtual-host style: buckets, objects and
 * their metadata, conditional and ranged reads, listing, copy, multipart uploads, bucket settings,
 * errors in S3's shape, and what survives a restart. Hostile requests at the end.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorOf, startTestServer, type TestServer } from './harness.js';
import { rawRequest, s3ClientFor, s3Fetch, xmlText } from './s3-helpers.js';

const MB = 1024 * 1024;

let t: TestServer;
let s3: S3Client;

before(async () => {
  t = await startTestServer();
  s3 = s3ClientFor(t.url);
});
after(async () => {
  s3.destroy();
  await t.close();
});

async function text(out: { Body?: { transformToString(): Promise<string> } }): Promise<string> {
  return out.Body!.transformToString();
}

/** Every blob file under the data directory's S3 store. */
async function blobFiles(): Promise<string[]> {
  const root = path.join(t.dataDir, 's3', 'blobs');
  const out: string[] = [];
  for (const dir of await readdir(root)) for (const name of await readdir(path.join(root, dir))) out.push(name);
  return out.sort();
}

describe('S3 buckets', () => {
  it('CreateBucket, HeadBucket, ListBuckets, GetBucketLocation (with and without a LocationConstraint), DeleteBucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'east-bucket' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'west-bucket', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'west-bucket' }));
    assert.equal(head.BucketRegion, 'eu-west-1');
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: 'west-bucket' }))).LocationConstraint, 'eu-west-1');
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: 'east-bucket' }))).LocationConstraint, undefined);
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name);
    assert.ok(names.includes('east-bucket') && names.includes('west-bucket'), names.join());
    await s3.send(new DeleteBucketCommand({ Bucket: 'west-bucket' }));
    const gone = await errorOf(() => s3.send(new HeadBucketCommand({ Bucket: 'west-bucket' })));
    assert.equal(gone.$metadata?.httpStatusCode, 404);
  });

  it('answers S3 errors in S3 XML: NoSuchBucket, InvalidBucketName, BucketAlreadyOwnedByYou, BucketNotEmpty', async () => {
    const missing = await s3Fetch(`${t.url}/no-such-bucket-here?list-type=2`);
    assert.equal(missing.status, 404);
    assert.equal(xmlText(missing.text, 'Code'), 'NoSuchBucket');
    assert.equal(xmlText(missing.text, 'Message'), 'The specified bucket does not exist');
    assert.equal(xmlText(missing.text, 'BucketName'), 'no-such-bucket-here');
    assert.match(xmlText(missing.text, 'RequestId') ?? '', /\S/);

    const invalid = await errorOf(() => s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
    assert.equal(invalid.name, 'InvalidBucketName');
    await s3.send(new CreateBucketCommand({ Bucket: 'owned', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
    const again = await errorOf(() =>
      s3.send(new CreateBucketCommand({ Bucket: 'owned', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } })),
    );
    assert.equal(again.name, 'BucketAlreadyOwnedByYou');
    assert.equal(again.$metadata?.httpStatusCode, 409);

    await s3.send(new PutObjectCommand({ Bucket: 'owned', Key: 'k', Body: 'x' }));
    const notEmpty = await errorOf(() => s3.send(new DeleteBucketCommand({ Bucket: 'owned' })));
    assert.equal(notEmpty.name, 'BucketNotEmpty');
    assert.equal(notEmpty.$metadata?.httpStatusCode, 409);
  });

  it('stores and returns the settings SAM and the CDK put, and answers the defaults and "no such" errors otherwise', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'settings' }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' }],
    });
    assert.equal((await errorOf(() => s3.send(new GetBucketPolicyCommand({ Bucket: 'settings' })))).name, 'NoSuchBucketPolicy');
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'settings', Policy: policy }));
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'settings' }))).Policy, policy);
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'settings' }));
    assert.equal((await errorOf(() => s3.send(new GetBucketPolicyCommand({ Bucket: 'settings' })))).name, 'NoSuchBucketPolicy');
    assert.equal(
      (await errorOf(() => s3.send(new PutBucketPolicyCommand({ Bucket: 'settings', Policy: 'not json' })))).name,
      'MalformedPolicy',
    );

    const defaultSse = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'settings' }));
    assert.equal(defaultSse.ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault!.SSEAlgorithm, 'AES256');
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: 'settings',
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'k1' } }],
        },
      }),
    );
    const sse = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'settings' }));
    assert.equal(sse.ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault!.KMSMasterKeyID, 'k1');

    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'settings',
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: false,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: false,
        },
      }),
    );
    const pab = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'settings' }));
    assert.deepEqual(pab.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: false,
    });
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'settings' }));
    const noPab = await errorOf(() => s3.send(new GetPublicAccessBlockCommand({ Bucket: 'settings' })));
    assert.equal(noPab.name, 'NoSuchPublicAccessBlockConfiguration');

    assert.equal((await errorOf(() => s3.send(new GetBucketTaggingCommand({ Bucket: 'settings' })))).name, 'NoSuchTagSet');
    // A tag holds letters, digits, spaces and `+ - = . _ : / @` (S3 refuses `&`, like a comma).
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'settings', Tagging: { TagSet: [{ Key: 'team', Value: 'a+b @c' }] } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket: 'settings' }))).TagSet, [{ Key: 'team', Value: 'a+b @c' }]);

    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'settings',
        LifecycleConfiguration: { Rules: [{ ID: 'expire', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 3 } }] },
      }),
    );
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'settings' }));
    assert.equal(lifecycle.Rules![0]!.Expiration!.Days, 3);

    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'settings' }))).Status, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'settings', VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'settings' }))).Status, 'Enabled');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'settings', Key: 'v', Body: 'one' }));
    assert.match(put.VersionId ?? '', /^[0-9a-f]{32}$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'settings', Key: 'v', VersionId: put.VersionId }));
    assert.equal(await text(got), 'one');
    const old = await errorOf(() => s3.send(new GetObjectCommand({ Bucket: 'settings', Key: 'v', VersionId: 'f'.repeat(32) })));
    assert.equal(old.name, 'NoSuchVersion');
  });
});

describe('S3 objects', () => {
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
  });

  for (const style of ['path', 'virtual', 'default', 'localhost'] as const) {
    it(`PutObject, GetObject, HeadObject, DeleteObject (${style} style, with the SDK's default checksums)`, async () => {
      const client = s3ClientFor(t.url, style);
      try {
        const key = `style/${style}/r\u00e9sum\u00e9 a+b.txt`;
        const put = await client.send(
          new PutObjectCommand({
            Bucket: 'objects',
            Key: key,
            Body: 'hello, S3',
            ContentType: 'text/plain',
            Metadata: { owner: 'team-a' },
            CacheControl: 'max-age=60',
          }),
        );
        assert.equal(put.ETag, `"${createHash('md5').update('hello, S3').digest('hex')}"`);
        assert.ok(put.ChecksumCRC32, 'the SDK sent a CRC32, and it was echoed');
        const got = await client.send(new GetObjectCommand({ Bucket: 'objects', Key: key, ChecksumMode: 'ENABLED' }));
        assert.equal(await text(got), 'hello, S3');
        assert.equal(got.ContentType, 'text/plain');
        assert.equal(got.CacheControl, 'max-age=60');
        assert.deepEqual(got.Metadata, { owner: 'team-a' });
        assert.equal(got.ChecksumCRC32, put.ChecksumCRC32);
        const head = await client.send(new HeadObjectCommand({ Bucket: 'objects', Key: key }));
        assert.equal(head.ContentLength, 9);
        assert.equal(head.ETag, put.ETag);
        await client.send(new DeleteObjectCommand({ Bucket: 'objects', Key: key }));
        const gone = await errorOf(() => client.send(new GetObjectCommand({ Bucket: 'objects', Key: key })));
        assert.equal(gone.name, 'NoSuchKey');
        const headGone = await errorOf(() => client.send(new HeadObjectCommand({ Bucket: 'objects', Key: key })));
        assert.equal(headGone.$metadata?.httpStatusCode, 404);
      } finally {
        client.destroy();
      }
    });
  }

  it('the virtual host is told from the Host header alone: {bucket}.s3.localhost', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'vh.txt', Body: 'via host' }));
    const port = new URL(t.url).port;
    const got = await s3Fetch(`${t.url}/vh.txt`, { headers: { host: `objects.s3.localhost:${port}` } });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'via host');
    const unsigned = await rawRequest(`${t.url}/vh.txt`, 'GET', { host: `objects.s3.localhost:${port}` });
    assert.equal(unsigned.status, 403);
    assert.equal(xmlText(unsigned.text, 'Code'), 'AccessDenied');
  });

  it('a stream body goes as aws-chunked with a trailing CRC32 (STREAMING-UNSIGNED-PAYLOAD-TRAILER), decoded and checked', async () => {
    const bytes = Buffer.alloc(200_000, 'q');
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'streamed',
        Body: Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)]),
        ContentLength: bytes.length,
      }),
    );
    assert.ok(put.ChecksumCRC32);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'streamed', ChecksumMode: 'ENABLED' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes), 'the framing is gone');
    assert.equal(got.ChecksumCRC32, put.ChecksumCRC32);
    // The same framing by hand, with a trailer that does not match the bytes.
    const body = `5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`;
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32' };
    const bad = await s3Fetch(`${t.url}/objects/trailer`, {
      method: 'PUT',
      body,
      headers,
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    assert.equal(bad.status, 400);
    assert.equal(xmlText(bad.text, 'Code'), 'BadDigest');
    const short = await s3Fetch(`${t.url}/objects/trailer`, {
      method: 'PUT',
      body: `5\r\nhello\r\n0\r\n\r\n`,
      headers: { ...headers, 'x-amz-decoded-content-length': '9' },
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    assert.equal(xmlText(short.text, 'Code'), 'IncompleteBody');
    // Every chunk but the last holds 8 KB at least, as S3 requires: a body of tiny chunks is refused at its second.
    const tiny = await s3Fetch(`${t.url}/objects/tiny-chunks`, {
      method: 'PUT',
      body: `3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n`,
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' },
      payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    });
    assert.equal(tiny.status, 403);
    assert.equal(xmlText(tiny.text, 'Code'), 'InvalidChunkSizeError');
    assert.equal(xmlText(tiny.text, 'Message'), 'Only the last chunk is allowed to have a size less than 8192 bytes');
    assert.equal(xmlText(tiny.text, 'Chunk'), '2');
    assert.equal(xmlText(tiny.text, 'BadChunkSize'), '3');
    assert.equal((await errorOf(() => s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'tiny-chunks' })))).name, 'NotFound');
  });

  it('checks Content-MD5 and the SDK checksum against the bytes received', async () => {
    const good = createHash('md5').update('payload').digest('base64');
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'md5', Body: 'payload', ContentMD5: good }));
    const wrong = createHash('md5').update('other').digest('base64');
    const bad = await errorOf(() => s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'md5', Body: 'payload', ContentMD5: wrong })));
    assert.equal(bad.name, 'BadDigest');
    const invalid = await s3Fetch(`${t.url}/objects/md5`, { method: 'PUT', body: 'payload', headers: { 'content-md5': 'nope' } });
    assert.equal(xmlText(invalid.text, 'Code'), 'InvalidDigest');
    const crc = await s3Fetch(`${t.url}/objects/crc`, { method: 'PUT', body: 'payload', headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    assert.equal(crc.status, 400);
    assert.equal(xmlText(crc.text, 'Code'), 'BadDigest');
  });

  it('GetObject answers ranges (206, suffix, open-ended) and refuses an unsatisfiable one with InvalidRange', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'digits', Body: '0123456789' }));
    const get = async (range: string) => s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: range }));
    const mid = await get('bytes=2-4');
    assert.equal(await text(mid), '234');
    assert.equal(mid.ContentRange, 'bytes 2-4/10');
    assert.equal(await text(await get('bytes=-3')), '789');
    assert.equal(await text(await get('bytes=7-')), '789');
    assert.equal(await text(await get('bytes=8-100')), '89');
    const beyond = await errorOf(() => get('bytes=10-'));
    assert.equal(beyond.name, 'InvalidRange');
    assert.equal(beyond.$metadata?.httpStatusCode, 416);
    // Not a range S3 reads: the whole object.
    assert.equal(await text(await get('bytes=5-2')), '0123456789');
  });

  it('GetObject answers If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since as S3 does (304, 412)', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'cond', Body: 'conditional' }));
    const etag = put.ETag!;
    const raw = (headers: Record<string, string>) => s3Fetch(`${t.url}/objects/cond`, { headers });
    assert.equal((await raw({ 'if-match': etag })).status, 200);
    const failed = await raw({ 'if-match': '"0000"' });
    assert.equal(failed.status, 412);
    assert.equal(xmlText(failed.text, 'Code'), 'PreconditionFailed');
    assert.equal(xmlText(failed.text, 'Condition'), 'If-Match');
    const notModified = await raw({ 'if-none-match': etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('etag'), etag);
    assert.equal((await raw({ 'if-none-match': '"0000"' })).status, 200);
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    const earlier = new Date(Date.now() - 3_600_000).toUTCString();
    assert.equal((await raw({ 'if-modified-since': later })).status, 304);
    assert.equal((await raw({ 'if-modified-since': earlier })).status, 200);
    assert.equal((await raw({ 'if-unmodified-since': earlier })).status, 412);
    // If-Match holding wins over If-Unmodified-Since failing; If-None-Match failing wins over If-Modified-Since.
    assert.equal((await raw({ 'if-match': etag, 'if-unmodified-since': earlier })).status, 200);
    assert.equal((await raw({ 'if-none-match': etag, 'if-modified-since': earlier })).status, 304);
    const sdk = await errorOf(() => s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'cond', IfMatch: '"0000"' })));
    assert.equal(sdk.name, 'PreconditionFailed');
  });

  it('ListObjectsV2: prefix, delimiter and CommonPrefixes, max-keys, continuation tokens, start-after; ListObjects v1 with markers', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    const keys = ['a/1', 'a/2', 'b/1', 'b/x/2', 'c', 'd', 'e/\u00fcber', 'f'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key: key, Body: key }));
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'listing' }));
    assert.deepEqual(
      all.Contents!.map((c) => c.Key),
      keys,
    );
    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
    assert.deepEqual(
      top.CommonPrefixes!.map((p) => p.Prefix),
      ['a/', 'b/', 'e/'],
    );
    assert.deepEqual(
      top.Contents!.map((c) => c.Key),
      ['c', 'd', 'f'],
    );
    assert.equal(top.KeyCount, 6);
    const underB = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'b/', Delimiter: '/' }));
    assert.deepEqual(
      underB.Contents!.map((c) => c.Key),
      ['b/1'],
    );
    assert.deepEqual(
      underB.CommonPrefixes!.map((p) => p.Prefix),
      ['b/x/'],
    );

    // Pages of two, with the delimiter: a common prefix counts as one key and is never listed twice.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      pages++;
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      assert.ok((page.KeyCount ?? 0) <= 2);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), ['a/', 'b/', 'c', 'd', 'e/', 'f']);

    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'b/x/2' }));
    assert.deepEqual(
      after.Contents!.map((c) => c.Key),
      ['c', 'd', 'e/\u00fcber', 'f'],
    );
    const none = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: 0 }));
    assert.equal(none.KeyCount, 0);
    assert.equal(none.IsTruncated, false);

    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Marker: 'b/1', MaxKeys: 2 }));
    assert.deepEqual(
      v1.Contents!.map((c) => c.Key),
      ['b/x/2', 'c'],
    );
    assert.equal(v1.IsTruncated, true);
    const v1Delim = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', MaxKeys: 1 }));
    assert.equal(v1Delim.NextMarker, 'a/');

    const badToken = await errorOf(() => s3.send(new ListObjectsV2Command({ Bucket: 'listing', ContinuationToken: 'garbage' })));
    assert.equal(badToken.name, 'InvalidArgument');
  });

  it('DeleteObjects deletes many keys, quiet or not, keys that never existed included', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bulk' }));
    for (const key of ['x', 'y', 'z']) await s3.send(new PutObjectCommand({ Bucket: 'bulk', Key: key, Body: key }));
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'bulk', Delete: { Objects: [{ Key: 'x' }, { Key: 'y' }, { Key: 'never' }] } }),
    );
    assert.deepEqual(out.Deleted!.map((d) => d.Key).sort(), ['never', 'x', 'y']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'bulk', Delete: { Objects: [{ Key: 'z' }], Quiet: true } }));
    assert.equal(quiet.Deleted, undefined);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'bulk' }))).KeyCount, 0);
  });

  it('CopyObject copies bytes and metadata (COPY) or replaces the metadata (REPLACE), and refuses a copy onto itself unchanged', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: 'objects', Key: 'src', Body: 'copy me', ContentType: 'text/x-src', Metadata: { a: '1' } }),
    );
    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'dst/copy', CopySource: 'objects/src' }));
    assert.equal(copy.CopyObjectResult!.ETag, `"${createHash('md5').update('copy me').digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dst/copy' }));
    assert.equal(await text(got), 'copy me');
    assert.equal(got.ContentType, 'text/x-src');
    assert.deepEqual(got.Metadata, { a: '1' });
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'objects',
        Key: 'src',
        CopySource: '/objects/src',
        MetadataDirective: 'REPLACE',
        ContentType: 'text/plain',
        Metadata: { b: '2' },
      }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'src' }));
    assert.deepEqual(replaced.Metadata, { b: '2' });
    assert.equal(replaced.ContentType, 'text/plain');
    const self = await errorOf(() => s3.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'src', CopySource: 'objects/src' })));
    assert.equal(self.name, 'InvalidRequest');
    const missing = await errorOf(() => s3.send(new CopyObjectCommand({ Bucket: 'objects', Key: 'x', CopySource: 'objects/none' })));
    assert.equal(missing.name, 'NoSuchKey');
  });

  it('multipart uploads: parts, ListParts, ListMultipartUploads, Complete with the md5-of-md5s ETag, Abort, and their errors', async () => {
    const part1 = Buffer.alloc(5 * MB, 'a');
    const part2 = Buffer.from('tail');
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'objects', Key: 'big/file', ContentType: 'application/x-big' }),
    );
    const uploadId = created.UploadId!;
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'objects', Key: 'big/file', UploadId: uploadId, PartNumber: 1, Body: part1 }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'objects', Key: 'big/file', UploadId: uploadId, PartNumber: 2, Body: part2 }));
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'objects', Key: 'big/file', UploadId: uploadId }));
    assert.deepEqual(
      listed.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag]),
      [
        [1, 5 * MB, p1.ETag],
        [2, 4, p2.ETag],
      ],
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'objects' }));
    assert.ok(uploads.Uploads!.some((u) => u.UploadId === uploadId && u.Key === 'big/file'));
    // ListMultipartUploads pages by key and upload id markers.
    const more = [];
    for (const Key of ['paged/a', 'paged/a', 'paged/b'])
      more.push((await s3.send(new CreateMultipartUploadCommand({ Bucket: 'objects', Key }))).UploadId!);
    const firstPage = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'objects', Prefix: 'paged/', MaxUploads: 2 }));
    assert.equal(firstPage.IsTruncated, true);
    assert.deepEqual([firstPage.NextKeyMarker, firstPage.Uploads?.length], ['paged/a', 2]);
    const nextPage = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: 'objects',
        Prefix: 'paged/',
        KeyMarker: firstPage.NextKeyMarker,
        UploadIdMarker: firstPage.NextUploadIdMarker,
      }),
    );
    assert.equal(nextPage.IsTruncated, false);
    assert.deepEqual([...firstPage.Uploads!, ...nextPage.Uploads!].map((u) => u.UploadId).sort(), [...more].sort());
    for (const [i, id] of more.entries())
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'objects', Key: i < 2 ? 'paged/a' : 'paged/b', UploadId: id }));

    const wrongEtag = await errorOf(() =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'objects',
          Key: 'big/file',
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: p1.ETag },
              { PartNumber: 2, ETag: '"00000000000000000000000000000000"' },
            ],
          },
        }),
      ),
    );
    assert.equal(wrongEtag.name, 'InvalidPart');
    const order = await errorOf(() =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'objects',
          Key: 'big/file',
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 2, ETag: p2.ETag },
              { PartNumber: 1, ETag: p1.ETag },
            ],
          },
        }),
      ),
    );
    assert.equal(order.name, 'InvalidPartOrder');

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'objects',
        Key: 'big/file',
        UploadId: uploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    const md5s = Buffer.concat([createHash('md5').update(part1).digest(), createHash('md5').update(part2).digest()]);
    assert.equal(done.ETag, `"${createHash('md5').update(md5s).digest('hex')}-2"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'big/file' }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    assert.equal(bytes.length, 5 * MB + 4);
    assert.ok(bytes.equals(Buffer.concat([part1, part2])));
    assert.equal(got.ContentType, 'application/x-big');
    const noUpload = await errorOf(() => s3.send(new ListPartsCommand({ Bucket: 'objects', Key: 'big/file', UploadId: uploadId })));
    assert.equal(noUpload.name, 'NoSuchUpload');

    // A part under 5 MiB that is not the last is too small.
    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'objects', Key: 'small' }));
    const s1 = await s3.send(
      new UploadPartCommand({ Bucket: 'objects', Key: 'small', UploadId: small.UploadId, PartNumber: 1, Body: 'a' }),
    );
    const s2 = await s3.send(
      new UploadPartCommand({ Bucket: 'objects', Key: 'small', UploadId: small.UploadId, PartNumber: 2, Body: 'b' }),
    );
    const tooSmall = await errorOf(() =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'objects',
          Key: 'small',
          UploadId: small.UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: s1.ETag },
              { PartNumber: 2, ETag: s2.ETag },
            ],
          },
        }),
      ),
    );
    assert.equal(tooSmall.name, 'EntityTooSmall');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'objects', Key: 'small', UploadId: small.UploadId }));
    const aborted = await errorOf(() =>
      s3.send(new UploadPartCommand({ Bucket: 'objects', Key: 'small', UploadId: small.UploadId, PartNumber: 3, Body: 'c' })),
    );
    assert.equal(aborted.name, 'NoSuchUpload');
    // A part copied from a range of another object.
    const copied = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'objects', Key: 'copied' }));
    const c1 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'objects',
        Key: 'copied',
        UploadId: copied.UploadId,
        PartNumber: 1,
        CopySource: 'objects/big/file',
        CopySourceRange: `bytes=0-${5 * MB - 1}`,
      }),
    );
    const c2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket: 'objects',
        Key: 'copied',
        UploadId: copied.UploadId,
        PartNumber: 2,
        CopySource: 'objects/big/file',
        CopySourceRange: `bytes=${5 * MB}-${5 * MB + 3}`,
      }),
    );
    assert.equal(c1.CopyPartResult!.ETag, p1.ETag);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'objects',
        Key: 'copied',
        UploadId: copied.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: c1.CopyPartResult!.ETag },
            { PartNumber: 2, ETag: c2.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    const copiedBytes = Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'copied' }))).Body!.transformToByteArray(),
    );
    assert.ok(copiedBytes.equals(Buffer.concat([part1, part2])));
    const badRange = await errorOf(() =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: 'objects',
          Key: 'copied',
          UploadId: small.UploadId,
          PartNumber: 1,
          CopySource: 'objects/big/file',
          CopySourceRange: 'bytes=9-1',
        }),
      ),
    );
    assert.equal(badRange.name, 'InvalidArgument');

    const badPart = await s3Fetch(`${t.url}/objects/big/file?partNumber=10001&uploadId=x`, { method: 'PUT', body: 'x' });
    assert.equal(xmlText(badPart.text, 'Code'), 'InvalidArgument');
  });

  it('GetObject and HeadObject with partNumber answer that part of a multipart object (206), as part-by-part downloads ask', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'parts' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'parts', Key: 'two' }));
    const first = Buffer.alloc(5 * MB, 1);
    const p1 = await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'two', UploadId, PartNumber: 1, Body: first }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: 'parts', Key: 'two', UploadId, PartNumber: 2, Body: 'tail-bytes' }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'parts',
        Key: 'two',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    const second = await s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 2 }));
    assert.equal(second.$metadata.httpStatusCode, 206);
    assert.equal(await text(second), 'tail-bytes');
    assert.equal(second.ContentRange, `bytes ${5 * MB}-${5 * MB + 9}/${5 * MB + 10}`);
    assert.equal(second.PartsCount, 2);
    const one = await s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 1 }));
    assert.equal(one.ContentLength, 5 * MB);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 2 }));
    assert.equal(head.ContentLength, 10);
    assert.equal(head.PartsCount, 2);
    const past = await errorOf(() => s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'two', PartNumber: 3 })));
    assert.equal(past.name, 'InvalidPartNumber');
    assert.equal(past.$metadata?.httpStatusCode, 416);
    const zero = await s3Fetch(`${t.url}/parts/two?partNumber=0`);
    assert.equal(zero.status, 400);
    assert.equal(xmlText(zero.text, 'Code'), 'InvalidArgument');
    // A simple object is one part.
    await s3.send(new PutObjectCommand({ Bucket: 'parts', Key: 'one', Body: 'whole' }));
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'one', PartNumber: 1 }))), 'whole');
    assert.equal(
      (await errorOf(() => s3.send(new GetObjectCommand({ Bucket: 'parts', Key: 'one', PartNumber: 2 })))).name,
      'InvalidPartNumber',
    );
  });

  it('keeps one blob per distinct content, removes blobs nothing points at, and keeps objects across a restart', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'blobs' }));
    const before = await blobFiles();
    const body = `unique content ${Date.now()}`;
    const sha = createHash('sha256').update(body).digest('hex');
    await s3.send(new PutObjectCommand({ Bucket: 'blobs', Key: 'one', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: 'blobs', Key: 'two', Body: body }));
    assert.deepEqual(await blobFiles(), [...before, sha].sort());
    assert.equal((await stat(path.join(t.dataDir, 's3', 'blobs', sha.slice(0, 2), sha))).size, Buffer.byteLength(body));
    await s3.send(new DeleteObjectCommand({ Bucket: 'blobs', Key: 'one' }));
    assert.ok((await blobFiles()).includes(sha), 'still used by "two"');
    await s3.send(new PutObjectCommand({ Bucket: 'blobs', Key: 'two', Body: 'replaced' }));
    assert.ok(!(await blobFiles()).includes(sha), 'removed once nothing points at it');

    await t.restart();
    s3.destroy();
    s3 = s3ClientFor(t.url);
    assert.equal(await text(await s3.send(new GetObjectCommand({ Bucket: 'blobs', Key: 'two' }))), 'replaced');
  });
});

describe('S3 hostile input', () => {
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'hostile' }));
  });

  it('a DeleteObjects or CompleteMultipartUpload body that is not XML is MalformedXML, and a DTD is refused', async () => {
    for (const body of [
      'not xml at all',
      '<Delete><Object><Key>a</Key></Object>',
      '<!DOCTYPE x [<!ENTITY a "b">]><Delete/>',
      '<Delete>&a;</Delete>',
    ]) {
      const out = await s3Fetch(`${t.url}/hostile?delete`, {
        method: 'POST',
        body,
        headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
      });
      assert.equal(out.status, 400, body);
      assert.equal(xmlText(out.text, 'Code'), 'MalformedXML', body);
    }
    const deep = `${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}`;
    const out = await s3Fetch(`${t.url}/hostile?delete`, {
      method: 'POST',
      body: deep,
      headers: { 'content-md5': createHash('md5').update(deep).digest('base64') },
    });
    assert.equal(xmlText(out.text, 'Code'), 'MalformedXML');
  });

  it('UploadPartCopy reads its range on the memory bodies share: past it, 503 SlowDown, and the memory is given back', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'copies' }));
    await s3.send(new PutObjectCommand({ Bucket: 'copies', Key: 'src', Body: Buffer.alloc(60 * MB, 7) }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'copies', Key: 'dst' }));
    const once = s3ClientFor(t.url);
    once.config.maxAttempts = () => Promise.resolve(1);
    // Six at once hold 360 MiB; what all requests may hold at once is 4 × 72 MiB.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        once.send(new UploadPartCopyCommand({ Bucket: 'copies', Key: 'dst', UploadId, PartNumber: i + 1, CopySource: 'copies/src' })),
      ),
    );
    const refused = outcomes
      .filter((o) => o.status === 'rejected')
      .map((o) => o.reason as Error & { $metadata?: { httpStatusCode?: number } });
    assert.ok(refused.length >= 2, `${refused.length} refused`);
    for (const e of refused) {
      assert.equal(e.name, 'SlowDown');
      assert.equal(e.$metadata?.httpStatusCode, 503);
    }
    // Given back: one after another, each is copied.
    for (let i = 0; i < 6; i++) {
      const out = await once.send(
        new UploadPartCopyCommand({ Bucket: 'copies', Key: 'dst', UploadId, PartNumber: i + 1, CopySource: 'copies/src' }),
      );
      assert.ok(out.CopyPartResult?.ETag);
    }
    once.destroy();
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'copies', Key: 'dst', UploadId }));
  });

  it('a delimiter listing steps over a common prefix of thousands of keys, and pages through the rest exactly', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'folders' }));
    const store = t.server.services.store;
    // Keys as objects would make them (the listing reads no bytes): 2,500 in one folder between a few others.
    const keys = ['a', 'b/1', ...Array.from({ length: 2500 }, (_, i) => `big/${String(i).padStart(5, '0')}`), 'big0', 'c/x', 'd'];
    await store.transaction(async (tx) => {
      for (const key of keys) {
        await tx.s3.putObject({
          bucket: 'folders',
          key,
          blob: 'e'.repeat(64),
          size: 0,
          etag: 'd41d8cd98f00b204e9800998ecf8427e',
          lastModified: 1,
          contentType: 'binary/octet-stream',
          metadata: {},
          headers: {},
        });
      }
    });
    const whole = await s3.send(new ListObjectsV2Command({ Bucket: 'folders', Delimiter: '/' }));
    assert.deepEqual(
      whole.Contents?.map((o) => o.Key),
      ['a', 'big0', 'd'],
    );
    assert.deepEqual(
      whole.CommonPrefixes?.map((p) => p.Prefix),
      ['b/', 'big/', 'c/'],
    );
    assert.equal(whole.KeyCount, 6);
    const paged: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'folders', Delimiter: '/', MaxKeys: 1, ContinuationToken }));
      paged.push(...(page.Contents ?? []).map((o) => o.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.deepEqual(paged, ['a', 'b/', 'big/', 'big0', 'c/', 'd']);
    // Inside the folder, every key, in order.
    const inside = await s3.send(new ListObjectsV2Command({ Bucket: 'folders', Prefix: 'big/', Delimiter: '/' }));
    assert.equal(inside.KeyCount, 1000);
    assert.equal(inside.Contents?.[999]?.Key, 'big/00999');
  });

  it('a bucket holds at most 10,000 multipart uploads in progress: the next is InvalidRequest and nothing is stored', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'many-uploads' }));
    const store = t.server.services.store;
    // The store starts most of them (a client would take minutes); the SDK the last two.
    await store.transaction(async (tx) => {
      for (let i = 0; i < 9_998; i++) {
        await tx.s3.putUpload({
          uploadId: `filler${i}`,
          bucket: 'many-uploads',
          key: `k${i}`,
          initiated: 1,
          contentType: 'binary/octet-stream',
          metadata: {},
          headers: {},
        });
      }
    });
    const started = [];
    for (let i = 0; i < 2; i++) started.push(await s3.send(new CreateMultipartUploadCommand({ Bucket: 'many-uploads', Key: `last-${i}` })));
    const e = await errorOf(() => s3.send(new CreateMultipartUploadCommand({ Bucket: 'many-uploads', Key: 'one-too-many' })));
    assert.equal(e.name, 'InvalidRequest');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    assert.match(e.message, /at most 10000 multipart uploads in progress/);
    assert.equal(await store.s3.countUploads('many-uploads'), 10_000);
    // Other buckets are not affected, and aborting one makes room.
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'hostile', Key: 'elsewhere' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'many-uploads', Key: 'last-0', UploadId: started[0]!.UploadId }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'many-uploads', Key: 'room-again' }));
    assert.equal(await store.s3.countUploads('many-uploads'), 10_000);
  });

  it('huge, negative and malformed ranges never fail the server', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'hostile', Key: 'r', Body: 'abc' }));
    const cases: [string, number][] = [
      ['bytes=99999999999999999999999-', 416],
      ['bytes=-99999999999999999999999', 206],
      ['bytes=--1', 200],
      ['bytes=-0', 416],
      ['bytes=0-1,2-3', 200],
      ['items=0-1', 200],
      ['bytes=1-99999999999999999999999', 206],
    ];
    for (const [range, status] of cases) {
      const out = await s3Fetch(`${t.url}/hostile/r`, { headers: { range } });
      assert.equal(out.status, status, range);
    }
  });

  it('keys with .., %2F, unicode and control characters are only keys: nothing is written outside the blob store', async () => {
    // As a client writes them in the path (the SDK percent-encodes, keeping `/` and `.`).
    const keys = ['../../escape', '..%2F..%2Fescape2', 'a/../../b', encodeURI('\u{1F600}/\u00e9'), '%00null', '....//....//etc/passwd'];
    for (const key of keys) {
      const put = await s3Fetch(`${t.url}/hostile/${key}`, { method: 'PUT', body: `k=${key}` });
      assert.equal(put.status, 200, key);
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'hostile', Prefix: '' }));
    const got = new Set(listed.Contents!.map((c) => c.Key));
    for (const key of ['../../escape', '../../escape2', 'a/../../b', '\u{1F600}/\u00e9', '\u0000null', '....//....//etc/passwd']) {
      assert.ok(got.has(key), `${JSON.stringify(key)} in ${[...got].join(' | ')}`);
    }
    const top = await readdir(t.dataDir);
    assert.ok(!top.includes('escape') && !top.includes('escape2') && !top.includes('b'), top.join());
    assert.deepEqual((await readdir(path.join(t.dataDir, 's3'))).sort(), ['blobs', 'tmp']);
    for (const name of await readdir(path.join(t.dataDir, 's3', 'blobs'))) assert.match(name, /^[0-9a-f]{2}$/);
    const back = await s3.send(new GetObjectCommand({ Bucket: 'hostile', Key: '../../escape' }));
    assert.equal(await text(back), 'k=../../escape');
  });

  it("a body over the door's limit is refused before it is read, in S3's words", async () => {
    const authorization = 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00';
    const out = await rawRequest(`${t.url}/hostile/huge`, 'PUT', { 'content-length': String(100 * MB), authorization }, 'tiny');
    assert.equal(out.status, 400);
    assert.equal(xmlText(out.text, 'Code'), 'EntityTooLarge');
    assert.equal(xmlText(out.text, 'MaxSizeAllowed'), String(64 * MB));
  });

  it('user metadata past 2 KB (names and values, in bytes) is MetadataTooLarge, and nothing is stored', async () => {
    // 2,048 bytes: `a` and 2,047 of value.
    const fits = { a: 'v'.repeat(2047) };
    await s3.send(new PutObjectCommand({ Bucket: 'hostile', Key: 'meta-fits', Body: 'x', Metadata: fits }));
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: 'hostile', Key: 'meta-fits' }))).Metadata, fits);
    const over = { a: 'v'.repeat(2048) };
    for (const send of [
      () => s3.send(new PutObjectCommand({ Bucket: 'hostile', Key: 'meta-over', Body: 'x', Metadata: over })),
      () => s3.send(new CreateMultipartUploadCommand({ Bucket: 'hostile', Key: 'meta-over', Metadata: over })),
      () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: 'hostile',
            Key: 'meta-over',
            CopySource: 'hostile/meta-fits',
            MetadataDirective: 'REPLACE',
            Metadata: over,
          }),
        ),
    ]) {
      const err = await errorOf(send);
      assert.equal(err.name, 'MetadataTooLarge');
    }
    assert.equal((await errorOf(() => s3.send(new HeadObjectCommand({ Bucket: 'hostile', Key: 'meta-over' })))).name, 'NotFound');
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'hostile', Prefix: 'meta-over' }));
    assert.equal(uploads.Uploads, undefined);
  });

  it('PutBucketPolicy past 20 KB is MalformedPolicy, and the policy in place stays', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bounded' }));
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'bounded', Policy: policy }));
    const padded = (bytes: number) => {
      const doc = JSON.stringify({ Version: '2012-10-17', Statement: [], x: '' });
      return JSON.stringify({ Version: '2012-10-17', Statement: [], x: 'A'.repeat(bytes - doc.length) });
    };
    // The largest S3 takes is kept as sent.
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'bounded', Policy: padded(20 * 1024) }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'bounded', Policy: policy }));
    for (const bytes of [20 * 1024 + 1, 3 * MB]) {
      const refused = await errorOf(() => s3.send(new PutBucketPolicyCommand({ Bucket: 'bounded', Policy: padded(bytes) })));
      assert.equal(refused.$metadata?.httpStatusCode, 400, `${bytes} bytes`);
      if (bytes < MB) {
        assert.equal(refused.name, 'MalformedPolicy');
        assert.equal(refused.message, 'Policy exceeds the maximum allowed document size.');
      } else assert.equal(refused.name, 'MaxMessageLengthExceeded');
      assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'bounded' }))).Policy, policy);
    }
  });

  it("a bucket setting's body past 2 MiB is refused by its length before it is read", async () => {
    const authorization = 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00';
    const out = await rawRequest(`${t.url}/bounded?policy`, 'PUT', { 'content-length': String(60 * MB), authorization }, '{');
    assert.equal(out.status, 400);
    assert.equal(xmlText(out.text, 'Code'), 'MaxMessageLengthExceeded');
  });

  it('bucket tags, CORS rules and lifecycle rules are bounded as S3 bounds them, and the setting in place stays', async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await s3.send(new PutBucketTaggingCommand({ Bucket: 'bounded', Tagging: { TagSet: tags(50) } }));
    const tooMany = await errorOf(() => s3.send(new PutBucketTaggingCommand({ Bucket: 'bounded', Tagging: { TagSet: tags(51) } })));
    assert.equal(tooMany.name, 'InvalidTag');
    assert.equal((await s3.send(new GetBucketTaggingCommand({ Bucket: 'bounded' }))).TagSet?.length, 50);

    const cors = (n: number) => Array.from({ length: n }, () => ({ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }));
    await s3.send(new PutBucketCorsCommand({ Bucket: 'bounded', CORSConfiguration: { CORSRules: cors(100) } }));
    const corsRefused = await errorOf(() =>
      s3.send(new PutBucketCorsCommand({ Bucket: 'bounded', CORSConfiguration: { CORSRules: cors(101) } })),
    );
    assert.equal(corsRefused.name, 'InvalidRequest');
    assert.equal(corsRefused.$metadata?.httpStatusCode, 400);

    const rules = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        ID: `r${i}`,
        Status: 'Enabled' as const,
        Filter: { Prefix: `p${i}/` },
        Expiration: { Days: 1 },
      }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bounded', LifecycleConfiguration: { Rules: rules(1000) } }));
    const lifecycleRefused = await errorOf(() =>
      s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'bounded', LifecycleConfiguration: { Rules: rules(1001) } })),
    );
    assert.equal(lifecycleRefused.name, 'MalformedXML');
    const kept = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'bounded' }));
    assert.equal(kept.Rules?.length, 1000);
  });

  it('a bucket subresource Versa does not keep answers NotImplemented, as S3 does for functionality it lacks', async () => {
    const out = await s3Fetch(`${t.url}/hostile?website`);
    assert.equal(out.status, 501);
    assert.equal(xmlText(out.text, 'Code'), 'NotImplemented');
  });

  it('odd requests answer 4xx in S3 XML, never 5xx', async () => {
    const probes: { method: string; path: string; body?: string; headers?: Record<string, string> }[] = [
      { method: 'PUT', path: '/hostile/x?partNumber=abc&uploadId=1' },
      {
        method: 'POST',
        path: '/hostile/x?uploadId=nope',
        body: '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>',
      },
      { method: 'PUT', path: '/hostile/x', headers: { 'x-amz-copy-source': '%%%' } },
      { method: 'PUT', path: '/hostile/x', headers: { 'x-amz-copy-source': 'hostile' } },
      { method: 'GET', path: '/hostile?list-type=2&max-keys=-1' },
      { method: 'GET', path: '/hostile?list-type=2&encoding-type=base64' },
      { method: 'PUT', path: '/hostile?versioning', body: '<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>' },
      { method: 'PUT', path: '/hostile?tagging', body: '<NotTagging/>' },
      {
        method: 'PUT',
        path: '/hostile/x',
        headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
        body: 'zz\r\nnot chunked',
      },
      { method: 'PATCH', path: '/hostile/x' },
      { method: 'GET', path: `/hostile/${'k'.repeat(1100)}` },
      { method: 'PUT', path: `/hostile/${'k'.repeat(1100)}`, body: 'x' },
    ];
    for (const probe of probes) {
      const out = await s3Fetch(`${t.url}${probe.path}`, {
        method: probe.method,
        ...(probe.headers && { headers: probe.headers }),
        ...(probe.body !== undefined && { body: probe.body }),
        ...(probe.headers?.['x-amz-content-sha256'] && { payloadHash: probe.headers['x-amz-content-sha256'] }),
      });
      assert.ok(
        out.status >= 400 && out.status < 500,
        `${probe.method} ${probe.path.slice(0, 60)}: ${out.status} ${out.text.slice(0, 200)}`,
      );
      assert.match(xmlText(out.text, 'Code') ?? '', /^[A-Za-z]+$/, `${probe.method} ${probe.path.slice(0, 60)}`);
    }
    // A response-* override becomes a header of the answer: one no header may hold is InvalidArgument, not a 500.
    assert.equal((await s3Fetch(`${t.url}/hostile/o`, { method: 'PUT', body: 'x' })).status, 200);
    for (const override of [
      'response-content-type=text/html%0d%0aX-Injected:1',
      'response-cache-control=%0a',
      'response-content-language=%00',
      'response-expires=%7f',
    ]) {
      const out = await s3Fetch(`${t.url}/hostile/o?${override}`, {});
      assert.equal(out.status, 400, `${override}: ${out.text.slice(0, 200)}`);
      assert.equal(xmlText(out.text, 'Code'), 'InvalidArgument');
    }
    const fine = await s3Fetch(`${t.url}/hostile/o?response-content-type=text/plain%3B%20charset%3Dutf-8`, {});
    assert.equal(fine.headers.get('content-type'), 'text/plain; charset=utf-8');
  });
});
