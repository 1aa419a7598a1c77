/**
 * S3 driven by the tools people type: `aws s3 mb/cp/ls/sync/rb` (the AWS CLI v1 uses multipart above
 * 8 MB) and boto3's upload_file, against a server with credentials configured.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from './harness.js';
import { s3ClientFor } from './s3-helpers.js';
import { awsToolEnv, runTool } from './tools.js';

const OPERATOR = { accessKeyId: 'AKIAVERSATOOLS01', secretAccessKey: 'tools-secret' };
const MB = 1024 * 1024;
const VERSA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/versa.js');

let t: TestServer;
let scratch: string;
let env: NodeJS.ProcessEnv;
const aws = (...args: string[]) => runTool('aws', ['--endpoint-url', t.url, ...args], env);
const ok = async (...args: string[]) => {
  const out = await aws(...args);
  assert.equal(out.code, 0, `aws ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
};

before(async () => {
  t = await startTestServer({ credentials: [OPERATOR] });
  scratch = await mkdtemp(path.join(tmpdir(), 'versa-s3-tools-'));
  env = awsToolEnv(scratch, OPERATOR);
});
after(async () => {
  await t.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('aws s3 (CLI v1)', () => {
  it('mb, cp of a small file and of a 20 MB one (multipart), ls, cp back, sync, rb --force', async () => {
    await ok('s3', 'mb', 's3://cli-artifacts');
    const small = path.join(scratch, 'template.yaml');
    await writeFile(small, 'Resources: {}\n');
    const big = path.join(scratch, 'big.bin');
    const bytes = Buffer.alloc(20 * MB);
    for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32BE(i, i);
    await writeFile(big, bytes);
    await ok('s3', 'cp', '--no-progress', small, 's3://cli-artifacts/app/template.yaml');
    await ok('s3', 'cp', '--no-progress', big, 's3://cli-artifacts/app/big.bin');

    const s3 = s3ClientFor(t.url, 'path', OPERATOR);
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'cli-artifacts', Key: 'app/big.bin' }));
      assert.equal(head.ContentLength, 20 * MB);
      assert.match(head.ETag!, /^"[0-9a-f]{32}-3"$/, 'three 8 MB parts: a multipart ETag');
    } finally {
      s3.destroy();
    }

    // Within S3: CopyObject for the small file, UploadPartCopy for the big one.
    await ok('s3', 'cp', '--no-progress', 's3://cli-artifacts/app/big.bin', 's3://cli-artifacts/copy/big.bin');
    await ok('s3', 'cp', '--no-progress', 's3://cli-artifacts/app/template.yaml', 's3://cli-artifacts/copy/template.yaml');
    const copyBack = path.join(scratch, 'copy.bin');
    await ok('s3', 'cp', '--no-progress', 's3://cli-artifacts/copy/big.bin', copyBack);
    assert.ok((await readFile(copyBack)).equals(bytes), 'the multipart copy has the same bytes');

    const listing = await ok('s3', 'ls', 's3://cli-artifacts/app/');
    assert.match(listing, /\s14 template\.yaml/);
    assert.match(listing, new RegExp(`\\s${20 * MB} big\\.bin`));
    const back = path.join(scratch, 'back.bin');
    await ok('s3', 'cp', '--no-progress', 's3://cli-artifacts/app/big.bin', back);
    assert.equal(
      createHash('sha256')
        .update(await readFile(back))
        .digest('hex'),
      createHash('sha256').update(bytes).digest('hex'),
    );

    const tree = path.join(scratch, 'tree');
    await mkdir(path.join(tree, 'nested', 'deeper'), { recursive: true });
    await writeFile(path.join(tree, 'a.txt'), 'a');
    await writeFile(path.join(tree, 'nested', 'b.txt'), 'b');
    await writeFile(path.join(tree, 'nested', 'deeper', 'c \u00e9.txt'), 'c');
    await ok('s3', 'sync', '--no-progress', tree, 's3://cli-artifacts/site');
    const recursive = await ok('s3', 'ls', '--recursive', 's3://cli-artifacts/site/');
    for (const key of ['site/a.txt', 'site/nested/b.txt', 'site/nested/deeper/c \u00e9.txt']) assert.ok(recursive.includes(key), recursive);
    // A second sync finds nothing to copy.
    assert.equal((await ok('s3', 'sync', '--no-progress', tree, 's3://cli-artifacts/site')).trim(), '');
    const buckets = await ok('s3', 'ls');
    assert.match(buckets, /cli-artifacts/);

    await ok('s3', 'rb', '--force', 's3://cli-artifacts');
    assert.doesNotMatch(await ok('s3', 'ls'), /cli-artifacts/);
    const missing = await aws('s3', 'ls', 's3://cli-artifacts');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NoSuchBucket/);
  });

  it('presign: its URL (Signature Version 2) fetches the object until it expires, for that object and method only', async () => {
    await ok('s3', 'mb', 's3://presigned');
    await writeFile(path.join(scratch, 'note.txt'), 'shared by link');
    await ok('s3', 'cp', path.join(scratch, 'note.txt'), 's3://presigned/a dir/note+1.txt');
    const url = (await ok('s3', 'presign', 's3://presigned/a dir/note+1.txt')).trim();
    assert.match(url, /\?AWSAccessKeyId=AKIAVERSATOOLS01&Signature=[^&]+&Expires=\d+$/);
    const got = await fetch(url);
    assert.deepEqual([got.status, await got.text()], [200, 'shared by link']);
    const refused = async (u: string, init: RequestInit, code: string) => {
      const res = await fetch(u, init);
      const body = await res.text();
      assert.equal(res.status, 403, body);
      assert.match(body, new RegExp(`<Code>${code}</Code>`));
    };
    // Another method, another object, a changed signature or expiry: refused, and nothing changed.
    await refused(url, { method: 'DELETE' }, 'SignatureDoesNotMatch');
    await refused(url.replace('note%2B1.txt', 'other.txt'), {}, 'SignatureDoesNotMatch');
    await refused(
      url.replace(/Expires=(\d+)/, (_, n: string) => `Expires=${Number(n) + 1}`),
      {},
      'SignatureDoesNotMatch',
    );
    const short = (await ok('s3', 'presign', 's3://presigned/a dir/note+1.txt', '--expires-in', '1')).trim();
    await new Promise((r) => setTimeout(r, 2_100));
    await refused(short, {}, 'AccessDenied');
    assert.equal((await fetch(url)).status, 200);
    await ok('s3', 'rm', 's3://presigned/a dir/note+1.txt');
    // A URL presigned (by botocore) to delete the bucket deletes it, and cannot be made a change of one of its settings.
    const presign = [
      'import boto3, botocore.config, sys',
      "c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', config=botocore.config.Config(signature_version='s3'))",
      "print(c.generate_presigned_url('delete_bucket', Params={'Bucket': 'presigned'}, ExpiresIn=300, HttpMethod='DELETE'))",
    ].join('\n');
    const deleteUrl = (await runTool('python3', ['-c', presign, t.url], env)).stdout.trim();
    assert.match(deleteUrl, /\/presigned\?AWSAccessKeyId=/);
    for (const setting of ['encryption', 'publicAccessBlock', 'ownershipControls']) {
      await refused(`${deleteUrl}&${setting}`, { method: 'DELETE' }, 'SignatureDoesNotMatch');
    }
    assert.equal((await fetch(deleteUrl, { method: 'DELETE' })).status, 204);
    assert.doesNotMatch(await ok('s3', 'ls'), /presigned/);
  });

  it('a wrong secret is refused with SignatureDoesNotMatch', async () => {
    const out = await runTool('aws', ['--endpoint-url', t.url, 's3', 'ls'], awsToolEnv(scratch, { ...OPERATOR, secretAccessKey: 'wrong' }));
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /SignatureDoesNotMatch/);
  });
});

describe('aws cloudformation package, then versa deploy', () => {
  it("uploads the CodeUri folder to Versa's S3, and the packaged template (CodeUri s3://...) deploys and runs", async () => {
    const project = path.join(scratch, 'project');
    await mkdir(path.join(project, 'src'), { recursive: true });
    await writeFile(path.join(project, 'src', 'index.js'), 'exports.handler = async () => ({ statusCode: 200, body: "packaged" });\n');
    const template = [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
    ];
    template.push(
      '      FunctionName: packaged-by-cli',
      '      CodeUri: src/',
      '      Handler: index.handler',
      '      Runtime: nodejs20.x',
    );
    await writeFile(path.join(project, 'template.yaml'), `${template.join('\n')}\n`);
    await ok('s3', 'mb', 's3://cfn-artifacts');
    // `cloudformation package` sends its uploads to the S3 endpoint, not to --endpoint-url.
    const packageEnv = { ...env, AWS_ENDPOINT_URL_S3: t.url };
    const packaged = path.join(project, 'packaged.yaml');
    const pack = await runTool(
      'aws',
      [
        'cloudformation',
        'package',
        '--template-file',
        path.join(project, 'template.yaml'),
        '--s3-bucket',
        'cfn-artifacts',
        '--output-template-file',
        packaged,
      ],
      packageEnv,
    );
    assert.equal(pack.code, 0, pack.stderr);
    const uri = /CodeUri: (s3:\/\/cfn-artifacts\/[0-9a-f]{32})/.exec(await readFile(packaged, 'utf8'))?.[1];
    assert.ok(uri, 'the packaged template points at the uploaded zip');
    const versaEnv = { ...env, AWS_ENDPOINT_URL: t.url };
    const deployed = await runTool(
      process.execPath,
      [VERSA, 'deploy', '--stack-name', 'cli-packaged', '--template-file', packaged],
      versaEnv,
    );
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    const invoked = path.join(project, 'out.json');
    await ok('lambda', 'invoke', '--function-name', 'packaged-by-cli', invoked);
    assert.deepEqual(JSON.parse(await readFile(invoked, 'utf8')), { statusCode: 200, body: 'packaged' });
  });
});

describe('boto3', () => {
  it('upload_file (multipart above its threshold), download_file, list_objects_v2 with a paginator', async () => {
    const file = path.join(scratch, 'boto.bin');
    await writeFile(file, Buffer.alloc(9 * MB, 'z'));
    const script = `
import boto3, hashlib, sys
from boto3.s3.transfer import TransferConfig
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1')
s3.create_bucket(Bucket='boto-bucket')
s3.upload_file(sys.argv[2], 'boto-bucket', 'dir/boto.bin', Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
for i in range(3):
    s3.put_object(Bucket='boto-bucket', Key=f'many/{i}', Body=b'x')
s3.download_file('boto-bucket', 'dir/boto.bin', sys.argv[2] + '.back')
keys = [o['Key'] for page in s3.get_paginator('list_objects_v2').paginate(Bucket='boto-bucket', PaginationConfig={'PageSize': 2}) for o in page.get('Contents', [])]
print(hashlib.sha256(open(sys.argv[2] + '.back', 'rb').read()).hexdigest())
print(s3.head_object(Bucket='boto-bucket', Key='dir/boto.bin')['ETag'])
print(','.join(keys))
`;
    const out = await runTool('python3', ['-c', script, t.url, file], env);
    assert.equal(out.code, 0, out.stderr);
    const [digest, etag, keys] = out.stdout.trim().split('\n');
    assert.equal(
      digest,
      createHash('sha256')
        .update(Buffer.alloc(9 * MB, 'z'))
        .digest('hex'),
    );
    assert.match(etag!, /^"[0-9a-f]{32}-2"$/);
    assert.equal(keys, 'dir/boto.bin,many/0,many/1,many/2');
    const s3 = s3ClientFor(t.url, 'path', OPERATOR);
    try {
      assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'boto-bucket' }))).KeyCount, 4);
    } finally {
      s3.destroy();
    }
  });
});
