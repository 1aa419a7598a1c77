/**
 * S3's errors as AWS itself gives them, where Versa once gave its own. Each case states what a response
 * recorded against real AWS contains (LocalStack's `tests/aws/services/s3/*.snapshot.json`, tests marked
 * `aws.validated`, unless another source is named) and checks that Versa answers the same: status, code,
 * message and the elements S3 writes beside them, over the AWS SDK v3 or raw signed requests.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from './harness.js';
import { s3ClientFor, s3Fetch, TEST_KEY, xmlText } from './s3-helpers.js';

let t: TestServer;
let s3: S3Client;

before(async () => {
  t = await startTestServer();
  s3 = s3ClientFor(t.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'fidelity' }));
  await s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'ten', Body: '0123456789' }));
});

after(async () => {
  await t.close();
});

const MALFORMED_XML = 'The XML you provided was not well-formed or did not validate against our published schema';

/** An SDK error as the recordings show it: status, code, message and the other elements of `<Error>`. */
async function awsError(send: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await send();
  } catch (err) {
    const e = err as Record<string, unknown> & { name: string; message: string; $metadata: { httpStatusCode?: number } };
    const fields = Object.fromEntries(
      Object.entries(e).filter(([k]) => !k.startsWith('$') && !['name', 'message', 'Code', 'RequestId', 'HostId'].includes(k)),
    );
    return { status: e.$metadata.httpStatusCode, code: e.name, message: e.message, ...fields };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The same, for a raw answer's `<Error>` document. */
function rawError(out: { status: number; text: string }, ...extra: string[]): Record<string, unknown> {
  const fields = Object.fromEntries(extra.map((name) => [name, xmlText(out.text, name)]));
  return { status: out.status, code: xmlText(out.text, 'Code'), message: xmlText(out.text, 'Message'), ...fields };
}

const md5Base64 = (body: string) => createHash('md5').update(body).digest('base64');

describe('S3 fidelity: object keys that XML cannot hold', () => {
  it('ListMultipartUploads and ListObjectsV2 write a control character of a key as a character reference, never raw; encoding-type=url gives it escaped', async () => {
    // AWS accepts any UTF-8 in a key and writes a control character in its XML answers as a character
    // reference (`&#x1;`, basho/riak_cs#1255; botocore#3496 "reference to invalid character number" for
    // CreateMultipartUpload's answer), which the SDK v3 decodes. ListMultipartUploads takes encoding-type
    // as the listings of objects do (recorded: list_multipart_uploads-error-wrong-value).
    await s3.send(new CreateBucketCommand({ Bucket: 'controls' }));
    const key = 'a\u0000b\u0007c';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'controls', Key: key }));
    await s3.send(new PutObjectCommand({ Bucket: 'controls', Key: key, Body: 'x' }));
    for (const query of ['uploads', 'list-type=2']) {
      const out = await s3Fetch(`${t.url}/controls?${query}`);
      assert.equal(out.status, 200);
      assert.ok(!out.text.includes('\u0000') && !out.text.includes('\u0007'), query);
      assert.match(out.text, /<Key>a&#x0;b&#x7;c<\/Key>/, query);
    }
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'controls' }));
    assert.deepEqual(
      listed.Uploads?.map((u) => [u.Key, u.UploadId]),
      [[key, UploadId]],
    );
    const url = await s3Fetch(`${t.url}/controls?uploads&encoding-type=url`);
    assert.equal(xmlText(url.text, 'Key'), 'a%00b%07c');
    assert.equal(xmlText(url.text, 'EncodingType'), 'url');
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'controls' }))).Contents?.[0]?.Key, key);
    const wrong = await s3Fetch(`${t.url}/controls?uploads&encoding-type=value`);
    assert.deepEqual(rawError(wrong, 'ArgumentName', 'ArgumentValue'), {
      status: 400,
      code: 'InvalidArgument',
      message: 'Invalid Encoding Method specified in Request',
      ArgumentName: 'encoding-type',
      ArgumentValue: 'value',
    });
  });

  it('DeleteObjects: a key holding a character XML 1.0 does not allow, raw or as a reference, is MalformedXML', async () => {
    // S3 answers MalformedXML to a Delete document naming a key with a control character (boto/boto3#2005,
    // aws/aws-sdk-java#333); `&#0;` is no more well-formed than the raw character.
    for (const key of ['a&#0;b', 'a&#x1;b', 'a\u0001b', 'a&#xFFFE;b']) {
      const body = `<Delete><Object><Key>${key}</Key></Object></Delete>`;
      const out = await s3Fetch(`${t.url}/fidelity?delete`, { method: 'POST', body, headers: { 'content-md5': md5Base64(body) } });
      assert.deepEqual(rawError(out), { status: 400, code: 'MalformedXML', message: MALFORMED_XML }, key);
    }
  });
});

describe('S3 fidelity: writes', () => {
  it('PutObject: more than 10 tags in x-amz-tagging is BadRequest; a tag named twice is InvalidArgument; 10 pass', async () => {
    // "api error BadRequest: Object tags cannot be greater than 10", status 400, for PutObject's header
    // (hashicorp/terraform-provider-aws#19895).
    const tagging = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join('&');
    assert.deepEqual(
      await awsError(() => s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'tags', Body: 'x', Tagging: tagging(11) }))),
      {
        status: 400,
        code: 'BadRequest',
        message: 'Object tags cannot be greater than 10',
      },
    );
    const twice = await awsError(() => s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'tags', Body: 'x', Tagging: 'a=1&a=2' })));
    assert.equal(twice.code, 'InvalidArgument');
    assert.equal(twice.ArgumentName, 'x-amz-tagging');
    await s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'tags', Body: 'x', Tagging: tagging(10) }));
  });

  it('PutObject, CreateMultipartUpload and CopyObject: a storage class no general purpose bucket has is InvalidStorageClass', async () => {
    // Recorded (test_put_object_storage_class_outposts): 400 InvalidStorageClass "The storage class you
    // specified is not valid" with <StorageClassRequested>OUTPOSTS</StorageClassRequested>, for PutObject
    // and CreateMultipartUpload alike.
    const refused = {
      status: 400,
      code: 'InvalidStorageClass',
      message: 'The storage class you specified is not valid',
      StorageClassRequested: 'OUTPOSTS',
    };
    const StorageClass: StorageClass = 'OUTPOSTS';
    assert.deepEqual(
      await awsError(() => s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'sc', Body: 'x', StorageClass }))),
      refused,
    );
    assert.deepEqual(
      await awsError(() => s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'sc', StorageClass }))),
      refused,
    );
    const copy = new CopyObjectCommand({ Bucket: 'fidelity', Key: 'sc', CopySource: 'fidelity/ten', StorageClass });
    assert.deepEqual(await awsError(() => s3.send(copy)), refused);
    const bogus = await s3Fetch(`${t.url}/fidelity/sc`, { method: 'PUT', body: 'x', headers: { 'x-amz-storage-class': 'FakeClass' } });
    assert.equal(xmlText(bogus.text, 'StorageClassRequested'), 'FakeClass');
    await s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'sc', Body: 'x', StorageClass: 'STANDARD_IA' }));
  });

  it('DeleteObjects: without Content-MD5 or an x-amz-checksum-* header it is InvalidRequest; either one is enough', async () => {
    // Current S3: 400 InvalidRequest "Missing required header for this request: Content-MD5 OR
    // x-amz-checksum-*" (aws-beam/aws-erlang#105, versity/versitygw#1040, both against AWS).
    const body = '<Delete><Object><Key>gone</Key></Object></Delete>';
    const bare = await s3Fetch(`${t.url}/fidelity?delete`, { method: 'POST', body });
    assert.deepEqual(rawError(bare), {
      status: 400,
      code: 'InvalidRequest',
      message: 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
    });
    const md5 = await s3Fetch(`${t.url}/fidelity?delete`, { method: 'POST', body, headers: { 'content-md5': md5Base64(body) } });
    assert.equal(md5.status, 200);
    const crc = await s3Fetch(`${t.url}/fidelity?delete`, { method: 'POST', body, headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    assert.equal(crc.status, 200);
  });

  it('PutObject and UploadPart: a checksum that is not base64 of its width is InvalidRequest; a wrong MD5 is BadDigest, hex for PutObject', async () => {
    // Recorded (test_put_object_checksum, test_multipart_upload_part_checksum_exception): a short_uid()
    // as the value gives 400 InvalidRequest "Value for x-amz-checksum-crc32 header is invalid.".
    // Recorded (test_s3_invalid_content_md5): BadDigest's ExpectedDigest is the sent MD5 in hex for
    // PutObject ("09891eb5..."), as sent (base64) for UploadPart; CalculatedDigest is base64 in both.
    for (const algorithm of ['crc32', 'sha256', 'crc64nvme']) {
      const out = await s3Fetch(`${t.url}/fidelity/ck`, {
        method: 'PUT',
        body: 'test data..',
        headers: { [`x-amz-checksum-${algorithm}`]: 'a1b2c3d4' },
      });
      assert.deepEqual(rawError(out), {
        status: 400,
        code: 'InvalidRequest',
        message: `Value for x-amz-checksum-${algorithm} header is invalid.`,
      });
    }
    const other = md5Base64('other');
    const put = await s3Fetch(`${t.url}/fidelity/md5`, { method: 'PUT', body: 'test-string', headers: { 'content-md5': other } });
    assert.deepEqual(rawError(put, 'ExpectedDigest', 'CalculatedDigest'), {
      status: 400,
      code: 'BadDigest',
      message: 'The Content-MD5 you specified did not match what we received.',
      ExpectedDigest: Buffer.from(other, 'base64').toString('hex'),
      CalculatedDigest: md5Base64('test-string'),
    });
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'md5' }));
    const part = await s3Fetch(`${t.url}/fidelity/md5?partNumber=1&uploadId=${UploadId}`, {
      method: 'PUT',
      body: 'test-string',
      headers: { 'content-md5': other },
    });
    assert.equal(xmlText(part.text, 'ExpectedDigest'), other);
  });
});

describe('S3 fidelity: checksums and copy conditions', () => {
  it("PutObject: a CRC32C is checked as the other checksums are, and the SDK's own passes", async () => {
    // Recorded (test_put_object_checksum[CRC32C], put-wrong-checksum-value): the CRC32C of other bytes is
    // 400 BadDigest "The CRC32C you specified did not match the calculated checksum.".
    await s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'crc32c', Body: 'test data..', ChecksumAlgorithm: 'CRC32C' }));
    const other = await s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'crc32c', Body: 'bad data', ChecksumAlgorithm: 'CRC32C' }));
    const out = await s3Fetch(`${t.url}/fidelity/crc32c`, {
      method: 'PUT',
      body: 'test data..',
      headers: { 'x-amz-checksum-crc32c': other.ChecksumCRC32C! },
    });
    assert.deepEqual(rawError(out), {
      status: 400,
      code: 'BadDigest',
      message: 'The CRC32C you specified did not match the calculated checksum.',
    });
  });

  it("CopyObject and UploadPartCopy: x-amz-copy-source-if-* are checked in S3's order, each failure 412 naming its header", async () => {
    // Recorded (TestS3CopySourcePreconditions::test_s3_copy_object_preconditions, all four at once then
    // one fewer each time): If-Match, then If-Unmodified-Since, then If-None-Match, then If-Modified-Since;
    // an If-Modified-Since still to come is ignored; an ETag without quotes still matches.
    await s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'source', Body: 'data' }));
    const { ETag } = await s3.send(new GetObjectCommand({ Bucket: 'fidelity', Key: 'source' }));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const now = new Date();
    const dayAgo = new Date(now.getTime() - 86_400_000);
    const copy = (conditions: Partial<ConstructorParameters<typeof CopyObjectCommand>[0]>) => () =>
      s3.send(new CopyObjectCommand({ Bucket: 'fidelity', Key: 'dest', CopySource: 'fidelity/source', ...conditions }));
    const failed = (condition: string) => ({
      status: 412,
      code: 'PreconditionFailed',
      message: 'At least one of the pre-conditions you specified did not hold',
      Condition: `x-amz-copy-source-${condition}`,
    });
    const all = {
      CopySourceIfModifiedSince: now,
      CopySourceIfUnmodifiedSince: dayAgo,
      CopySourceIfMatch: 'etag123',
      CopySourceIfNoneMatch: ETag,
    };
    assert.deepEqual(await awsError(copy(all)), failed('If-Match'));
    assert.deepEqual(await awsError(copy({ ...all, CopySourceIfMatch: undefined })), failed('If-Unmodified-Since'));
    assert.deepEqual(await awsError(copy({ CopySourceIfModifiedSince: now, CopySourceIfNoneMatch: ETag })), failed('If-None-Match'));
    assert.deepEqual(await awsError(copy({ CopySourceIfModifiedSince: now })), failed('If-Modified-Since'));
    await copy({ CopySourceIfModifiedSince: new Date(now.getTime() + 86_400_000) })();
    assert.deepEqual(await awsError(copy({ CopySourceIfNoneMatch: ETag!.replace(/"/g, '') })), failed('If-None-Match'));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'dest' }));
    const part = new UploadPartCopyCommand({
      Bucket: 'fidelity',
      Key: 'dest',
      UploadId,
      PartNumber: 1,
      CopySource: 'fidelity/source',
      CopySourceIfMatch: '"abc"',
    });
    assert.deepEqual(await awsError(() => s3.send(part)), failed('If-Match'));
  });
});

describe('S3 fidelity: conditional writes', () => {
  it('PutObject, CopyObject and CompleteMultipartUpload: If-None-Match: * creates only, If-Match replaces only that ETag', async () => {
    // Recorded (TestS3ObjectWritePrecondition, test_s3_api.py): an existing key with If-None-Match: * is
    // 412 Condition If-None-Match; If-Match of another ETag 412 Condition If-Match; If-Match on no object
    // 404 NoSuchKey; If-None-Match other than * and If-Match: * are 501 NotImplemented with <Header> and
    // <additionalMessage>, both headers at once "Multiple conditional request headers present in the request".
    const failed = (condition: string) => ({
      status: 412,
      code: 'PreconditionFailed',
      message: 'At least one of the pre-conditions you specified did not hold',
      Condition: condition,
    });
    const unsupported = (name: string, why: string) => ({
      status: 501,
      code: 'NotImplemented',
      message: 'A header you provided implies functionality that is not implemented',
      Header: name,
      additionalMessage: why,
    });
    const put =
      (conditions: { IfNoneMatch?: string; IfMatch?: string }, Key = 'cond') =>
      () =>
        s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key, Body: 'x', ...conditions }));
    await put({ IfNoneMatch: '*' })();
    const { ETag } = await s3.send(new GetObjectCommand({ Bucket: 'fidelity', Key: 'cond' }));
    assert.deepEqual(await awsError(put({ IfNoneMatch: '*' })), failed('If-None-Match'));
    assert.deepEqual(await awsError(put({ IfMatch: '"abcdef"' })), failed('If-Match'));
    await put({ IfMatch: ETag! })();
    assert.deepEqual(await awsError(put({ IfMatch: ETag! }, 'cond-missing')), {
      status: 404,
      code: 'NoSuchKey',
      message: 'The specified key does not exist.',
      Key: 'cond-missing',
    });
    assert.deepEqual(
      await awsError(put({ IfNoneMatch: 'abcdef' })),
      unsupported('If-None-Match', "We don't accept the provided value of If-None-Match header for this API"),
    );
    assert.deepEqual(
      await awsError(put({ IfMatch: '*' })),
      unsupported('If-Match', "We don't accept the provided value of If-Match header for this API"),
    );
    assert.deepEqual(
      await awsError(put({ IfMatch: ETag!, IfNoneMatch: '*' })),
      unsupported('If-Match,If-None-Match', 'Multiple conditional request headers present in the request'),
    );
    const copy = new CopyObjectCommand({ Bucket: 'fidelity', Key: 'cond', CopySource: 'fidelity/ten', IfNoneMatch: '*' });
    assert.deepEqual(await awsError(() => s3.send(copy)), failed('If-None-Match'));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'cond' }));
    const part = await s3.send(new UploadPartCommand({ Bucket: 'fidelity', Key: 'cond', UploadId, PartNumber: 1, Body: 'abcd' }));
    const complete = new CompleteMultipartUploadCommand({
      Bucket: 'fidelity',
      Key: 'cond',
      UploadId,
      MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
      IfNoneMatch: '*',
    });
    assert.deepEqual(await awsError(() => s3.send(complete)), failed('If-None-Match'));
    // Of writers racing to create one key, exactly one wins.
    const racing = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'race', Body: `w${i}`, IfNoneMatch: '*' })),
      ),
    );
    assert.equal(racing.filter((r) => r.status === 'fulfilled').length, 1);
  });
});

describe('S3 fidelity: deletes', () => {
  it('DeleteObject and DeleteObjects: x-amz-bypass-governance-retention, true or false, is InvalidArgument on a bucket without object lock', async () => {
    // Recorded (test_delete_object_with_no_locking): delete-object-bypass-no-lock(-false), delete-objects-bypass-no-lock:
    // 400 "x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.", ArgumentName only.
    const refused = {
      status: 400,
      code: 'InvalidArgument',
      message: 'x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.',
      ArgumentName: 'x-amz-bypass-governance-retention',
    };
    for (const BypassGovernanceRetention of [true, false]) {
      const one = new DeleteObjectCommand({ Bucket: 'fidelity', Key: 'ten', BypassGovernanceRetention });
      assert.deepEqual(await awsError(() => s3.send(one)), refused);
    }
    const many = new DeleteObjectsCommand({ Bucket: 'fidelity', Delete: { Objects: [{ Key: 'ten' }] }, BypassGovernanceRetention: true });
    assert.deepEqual(await awsError(() => s3.send(many)), refused);
    assert.equal((await s3.send(new GetObjectCommand({ Bucket: 'fidelity', Key: 'ten' }))).ContentLength, 10);
  });
});

describe('S3 fidelity: reads', () => {
  it('GetObject: a part number past the last is InvalidPartNumber naming the part asked for and the count', async () => {
    // Recorded (test_get_object_part, part-no-multipart): 416 with <PartNumberRequested>2 and <ActualPartCount>1.
    assert.deepEqual(await awsError(() => s3.send(new GetObjectCommand({ Bucket: 'fidelity', Key: 'ten', PartNumber: 2 }))), {
      status: 416,
      code: 'InvalidPartNumber',
      message: 'The requested partnumber is not satisfiable',
      PartNumberRequested: '2',
      ActualPartCount: '1',
    });
  });

  it('GetObjectTagging names a missing key by bucket and key; DeleteObjectTagging of one is NoSuchKey', async () => {
    // Recorded (test_object_tagging_exc): get-no-key-tags <Key>{bucket}/fake-key</Key>; delete-no-key-tags <Key>fake-key</Key>.
    const missing = (key: string) => ({ status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', Key: key });
    assert.deepEqual(
      await awsError(() => s3.send(new GetObjectTaggingCommand({ Bucket: 'fidelity', Key: 'fake-key' }))),
      missing('fidelity/fake-key'),
    );
    assert.deepEqual(
      await awsError(() => s3.send(new DeleteObjectTaggingCommand({ Bucket: 'fidelity', Key: 'fake-key' }))),
      missing('fake-key'),
    );
  });

  it('ListObjectsV2: a continuation token Versa did not write is InvalidArgument naming the argument but not its value', async () => {
    // Recorded (test_list_objects_v2_continuation_start_after, exc-continuation-token): ArgumentName only.
    assert.deepEqual(await awsError(() => s3.send(new ListObjectsV2Command({ Bucket: 'fidelity', ContinuationToken: 'blah' }))), {
      status: 400,
      code: 'InvalidArgument',
      message: 'The continuation token provided is incorrect',
      ArgumentName: 'continuation-token',
    });
  });

  it("ListMultipartUploads: an upload-id-marker of another key's upload is InvalidArgument", async () => {
    // Recorded (test_list_multiparts_next_marker, list-multiparts-wrong-id-for-key): KeyMarker keys[0]
    // with the upload id of keys[1] gives 400 "Invalid uploadId marker", ArgumentName upload-id-marker.
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'marker-a' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'marker-b' }));
    const list = new ListMultipartUploadsCommand({ Bucket: 'fidelity', KeyMarker: 'marker-a', UploadIdMarker: UploadId });
    assert.deepEqual(await awsError(() => s3.send(list)), {
      status: 400,
      code: 'InvalidArgument',
      message: 'Invalid uploadId marker',
      ArgumentName: 'upload-id-marker',
      ArgumentValue: UploadId,
    });
  });
});

describe('S3 fidelity: multipart uploads', () => {
  it("CompleteMultipartUpload: InvalidPart in S3's words with the ETag unquoted; no body is InvalidRequest", async () => {
    // Recorded (test_multipart_complete_multipart_wrong_part): "...the specified entity tag may not match
    // the part's entity tag." with <ETag> as sent without its quotes; (test_multipart_complete_multipart_too_small,
    // complete-exc-no-parts): no MultipartUpload at all is 400 InvalidRequest "You must specify at least one part".
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'parts' }));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: 'fidelity', Key: 'parts', UploadId, PartNumber: 1, Body: 'data' }));
    const wrong = new CompleteMultipartUploadCommand({
      Bucket: 'fidelity',
      Key: 'parts',
      UploadId,
      MultipartUpload: { Parts: [{ ETag, PartNumber: 2 }] },
    });
    assert.deepEqual(await awsError(() => s3.send(wrong)), {
      status: 400,
      code: 'InvalidPart',
      message:
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      UploadId,
      PartNumber: '2',
      ETag: ETag!.replace(/"/g, ''),
    });
    assert.deepEqual(await awsError(() => s3.send(new CompleteMultipartUploadCommand({ Bucket: 'fidelity', Key: 'parts', UploadId }))), {
      status: 400,
      code: 'InvalidRequest',
      message: 'You must specify at least one part',
    });
  });

  it('UploadPartCopy: a well-formed range past the source is refused in the words S3 uses for where it starts', async () => {
    // Recorded (test_upload_part_copy_range, 10-byte source): bytes=0-100 is InvalidArgument "Range
    // specified is not valid for source object of size: 10"; bytes=100-200 is InvalidRequest "The
    // specified copy range is invalid for the source object size".
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'fidelity', Key: 'copy' }));
    const copy = (CopySourceRange: string) => () =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: 'fidelity',
          Key: 'copy',
          UploadId,
          PartNumber: 1,
          CopySource: 'fidelity/ten',
          CopySourceRange,
        }),
      );
    assert.deepEqual(await awsError(copy('bytes=0-100')), {
      status: 400,
      code: 'InvalidArgument',
      message: 'Range specified is not valid for source object of size: 10',
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: 'bytes=0-100',
    });
    assert.deepEqual(await awsError(copy('bytes=100-200')), {
      status: 400,
      code: 'InvalidRequest',
      message: 'The specified copy range is invalid for the source object size',
    });
  });
});

describe('S3 fidelity: buckets', () => {
  it('CreateBucket: naming us-east-1 is InvalidLocationConstraint; another region endpoint makes only its own buckets', async () => {
    // Recorded (test_different_location_constraint): LocationConstraint us-east-1 is 400 InvalidLocationConstraint
    // with <LocationConstraint>; through us-east-2 without one, "The unspecified location constraint is
    // incompatible for the region specific endpoint this request was sent to."; with us-west-1, "The us-west-1 ...".
    const body = '<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>';
    const named = await s3Fetch(`${t.url}/east-named`, { method: 'PUT', body });
    assert.deepEqual(rawError(named, 'LocationConstraint'), {
      status: 400,
      code: 'InvalidLocationConstraint',
      message: 'The specified location-constraint is not valid',
      LocationConstraint: 'us-east-1',
    });
    const east2 = new S3Client({ endpoint: t.url, region: 'us-east-2', credentials: TEST_KEY, forcePathStyle: true, maxAttempts: 1 });
    const incompatible = (named: string) => ({
      status: 400,
      code: 'IllegalLocationConstraintException',
      message: `The ${named} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    });
    // Raw: the SDK v3 adds the client's region as the constraint when none is given.
    const unspecified = await s3Fetch(`${t.url}/no-constraint`, { method: 'PUT', region: 'us-east-2' });
    assert.deepEqual(rawError(unspecified), incompatible('unspecified'));
    assert.deepEqual(
      await awsError(() =>
        east2.send(new CreateBucketCommand({ Bucket: 'elsewhere', CreateBucketConfiguration: { LocationConstraint: 'us-west-1' } })),
      ),
      incompatible('us-west-1'),
    );
    await east2.send(new CreateBucketCommand({ Bucket: 'own-region', CreateBucketConfiguration: { LocationConstraint: 'us-east-2' } }));
    east2.destroy();
  });

  it('PutBucketAcl, PutObjectAcl and PutObject: an unknown canned ACL, none at all, or two ways at once are refused as S3 refuses them', async () => {
    // Recorded (test_s3_bucket_acl_exceptions, test_s3_object_acl_exceptions): x-amz-acl fake-acl is 400
    // InvalidArgument with an empty <Message>, ArgumentName x-amz-acl; nothing at all is MissingSecurityHeader
    // with <MissingHeaderName>x-amz-acl; a canned ACL with grant headers is InvalidRequest; with a document,
    // UnexpectedContent "This request does not support content".
    const fake = { status: 400, code: 'InvalidArgument', message: '', ArgumentName: 'x-amz-acl', ArgumentValue: 'fake-acl' };
    const put = (path: string, headers: Record<string, string>, body = '') =>
      s3Fetch(`${t.url}/fidelity${path}`, { method: 'PUT', headers, body });
    for (const path of ['?acl', '/ten?acl', '/ten']) {
      assert.deepEqual(rawError(await put(path, { 'x-amz-acl': 'fake-acl' }), 'ArgumentName', 'ArgumentValue'), fake, path);
    }
    assert.deepEqual(
      await awsError(() => s3.send(new PutObjectCommand({ Bucket: 'fidelity', Key: 'ten', Body: 'x', ACL: 'fake-acl' as never }))),
      // The SDK's word for an empty <Message>.
      { ...fake, message: 'UnknownError' },
    );
    for (const path of ['?acl', '/ten?acl']) {
      assert.deepEqual(rawError(await put(path, {}), 'MissingHeaderName'), {
        status: 400,
        code: 'MissingSecurityHeader',
        message: 'Your request was missing a required header',
        MissingHeaderName: 'x-amz-acl',
      });
      const both = await put(path, { 'x-amz-acl': 'private', 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"' });
      assert.deepEqual(rawError(both), {
        status: 400,
        code: 'InvalidRequest',
        message: 'Specifying both Canned ACLs and Header Grants is not allowed',
      });
      const content = await put(path, { 'x-amz-acl': 'private' }, '<AccessControlPolicy/>');
      assert.deepEqual(rawError(content), { status: 400, code: 'UnexpectedContent', message: 'This request does not support content' });
      assert.equal((await put(path, { 'x-amz-acl': 'private' })).status, 200);
    }
  });

  it('PutBucketVersioning without a Status is IllegalVersioningConfigurationException', async () => {
    // Recorded (test_bucket_versioning_crud, put-versioning-empty): 400 "The Versioning element must be specified".
    assert.deepEqual(await awsError(() => s3.send(new PutBucketVersioningCommand({ Bucket: 'fidelity', VersioningConfiguration: {} }))), {
      status: 400,
      code: 'IllegalVersioningConfigurationException',
      message: 'The Versioning element must be specified',
    });
  });

  it('PutBucketPolicy: a JSON object without a Statement is MalformedPolicy "Missing required field Statement"', async () => {
    // Recorded (test_bucket_policy_exc, put-bucket-policy-empty-json).
    assert.deepEqual(await awsError(() => s3.send(new PutBucketPolicyCommand({ Bucket: 'fidelity', Policy: '{}' }))), {
      status: 400,
      code: 'MalformedPolicy',
      message: 'Missing required field Statement',
    });
  });

  it('PutBucketTagging: a key twice, an aws: key, a comma in a key or value is InvalidTag naming the tag', async () => {
    // Recorded (test_tagging_validation): put-bucket-tags-duplicate-keys, -aws-prefixed, -invalid-key, -invalid-value.
    const put = (TagSet: { Key: string; Value: string }[]) => () =>
      s3.send(new PutBucketTaggingCommand({ Bucket: 'fidelity', Tagging: { TagSet } }));
    assert.deepEqual(
      await awsError(
        put([
          { Key: 'Key1', Value: 'a' },
          { Key: 'Key1', Value: 'b' },
        ]),
      ),
      { status: 400, code: 'InvalidTag', message: 'Cannot provide multiple Tags with the same key', TagKey: 'Key1' },
    );
    assert.deepEqual(await awsError(put([{ Key: 'aws:prefixed', Value: 'a' }])), {
      status: 400,
      code: 'InvalidTag',
      message: 'System tags cannot be added/updated by requester',
      TagKey: 'aws:prefixed',
    });
    assert.deepEqual(await awsError(put([{ Key: 'Key1,Key2', Value: 'a' }])), {
      status: 400,
      code: 'InvalidTag',
      message: 'The TagKey you have provided is invalid',
      TagKey: 'Key1,Key2',
    });
    assert.deepEqual(await awsError(put([{ Key: 'Key1', Value: 'Val1,Val2' }])), {
      status: 400,
      code: 'InvalidTag',
      message: 'The TagValue you have provided is invalid',
      TagKey: 'Key1',
      TagValue: 'Val1,Val2',
    });
  });

  it('PutBucketCors: an unknown method is InvalidRequest naming it; no rule is MalformedXML', async () => {
    // Recorded (test_put_cors_invalid_rules): put-cors-exc "Found unsupported HTTP method in CORS config.
    // Unsupported method is MYMETHOD"; put-cors-exc-empty MalformedXML.
    const put = (AllowedMethods: string[][]) => () =>
      s3.send(
        new PutBucketCorsCommand({
          Bucket: 'fidelity',
          CORSConfiguration: { CORSRules: AllowedMethods.map((m) => ({ AllowedMethods: m, AllowedOrigins: ['*'] })) },
        }),
      );
    assert.deepEqual(await awsError(put([['GET', 'MYMETHOD']])), {
      status: 400,
      code: 'InvalidRequest',
      message: 'Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD',
    });
    assert.deepEqual(await awsError(put([])), { status: 400, code: 'MalformedXML', message: MALFORMED_XML });
  });

  it('PutBucketOwnershipControls: an unknown ObjectOwnership or no rule is MalformedXML', async () => {
    // Recorded (test_bucket_ownership_controls_exc): put-ownership-wrong-value, put-ownership-empty-rule.
    const put = (Rules: { ObjectOwnership: string }[]) => () =>
      s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'fidelity', OwnershipControls: { Rules: Rules as never } }));
    assert.deepEqual(await awsError(put([{ ObjectOwnership: 'RandomValue' }])), {
      status: 400,
      code: 'MalformedXML',
      message: MALFORMED_XML,
    });
    assert.deepEqual(await awsError(put([])), { status: 400, code: 'MalformedXML', message: MALFORMED_XML });
  });
});
