/**
 * S3 on two nodes sharing PostgreSQL, both behind one `--credentials` file: bytes one node deleted stay
 * readable everywhere when another node puts them again, and a function's key writing through one node
 * cannot replace or delete what the operator's key wrote through the other, however the writes interleave.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createTestDatabase } from '../src/store/postgres/test-database.js';
import { createFunction, errorOf, payloadOf } from './harness.js';
import { s3ClientFor } from './s3-helpers.js';
import { processesIn, reapLeftovers, startVersa, stopAll, type Versa } from './processes.js';

const OPERATOR = { accessKeyId: 'AKIAS3CLUSTEROPERATOR', secretAccessKey: 'operator-secret-for-the-s3-cluster-test' };

/** A function that answers with its own key: the key a compromised function would write with. */
const KEY_HOLDER = {
  'index.mjs':
    'export const handler = async () => ({ accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY, sessionToken: process.env.AWS_SESSION_TOKEN });',
};

async function body(s3: S3Client, bucket: string, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

describe('S3 on two nodes sharing PostgreSQL', () => {
  let database: { url: string; drop: () => Promise<void> };
  /** Keys of objects whose bytes have no copy in the database: bytes only some node's data directory holds. */
  const withoutSharedCopy = async (prefix: string): Promise<string[]> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ key: string }>(
        'SELECT key FROM s3_objects o WHERE key LIKE $1 AND NOT EXISTS (SELECT 1 FROM s3_blobs b WHERE b.sha256 = o.blob) ORDER BY key',
        [`${prefix}%`],
      );
      return rows.map((r) => r.key);
    } finally {
      await client.end();
    }
  };
  const dirs: string[] = [];
  const servers: Versa[] = [];
  /** The operator's clients on node A and node B, and a function's key on node B (the node that minted it). */
  let opA: S3Client;
  let opB: S3Client;
  let fnB: S3Client;

  before(async () => {
    database = await createTestDatabase();
    const home = await mkdtemp(path.join(tmpdir(), 'versa-s3-cluster-'));
    dirs.push(home);
    const credentials = path.join(home, 'credentials');
    await writeFile(
      credentials,
      `[op]\naws_access_key_id = ${OPERATOR.accessKeyId}\naws_secret_access_key = ${OPERATOR.secretAccessKey}\n`,
    );
    for (const name of ['a', 'b']) {
      const dir = await mkdtemp(path.join(tmpdir(), `versa-s3-node-${name}-`));
      dirs.push(dir);
      servers.push(await startVersa(dir, ['--store', database.url, '--credentials', credentials]));
    }
    const [a, b] = servers as [Versa, Versa];
    opA = s3ClientFor(a.url, 'path', OPERATOR);
    opB = s3ClientFor(b.url, 'path', OPERATOR);
    await opA.send(new CreateBucketCommand({ Bucket: 'shared' }));
    const config = { region: 'us-east-1', credentials: OPERATOR, maxAttempts: 1 };
    await createFunction(new LambdaClient({ ...config, endpoint: a.url }), 'key-holder', KEY_HOLDER);
    const out = await new LambdaClient({ ...config, endpoint: b.url }).send(new InvokeCommand({ FunctionName: 'key-holder' }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    fnB = s3ClientFor(b.url, 'path', payloadOf(out) as { accessKeyId: string; secretAccessKey: string; sessionToken: string });
  });

  after(async () => {
    for (const client of [opA, opB, fnB]) client?.destroy();
    await stopAll(servers);
    for (const dir of dirs) {
      await reapLeftovers(dir, processesIn(dir));
      await rm(dir, { recursive: true, force: true });
    }
    await database?.drop();
  });

  it('put on B, delete on A, put the same bytes on B: A reads them (the shared copy is kept again)', async () => {
    const content = `blob-probe-content-${randomBytes(8).toString('hex')}`;
    await opB.send(new PutObjectCommand({ Bucket: 'shared', Key: 'b1', Body: content }));
    await opA.send(new DeleteObjectCommand({ Bucket: 'shared', Key: 'b1' }));
    await opB.send(new PutObjectCommand({ Bucket: 'shared', Key: 'b2', Body: content }));
    assert.equal(await body(opB, 'shared', 'b2'), content);
    assert.equal(await body(opA, 'shared', 'b2'), content);
    // The same through a copy: B copies b2, A deletes b2 and reads the copy.
    await opB.send(new CopyObjectCommand({ Bucket: 'shared', Key: 'b3', CopySource: 'shared/b2' }));
    await opA.send(new DeleteObjectCommand({ Bucket: 'shared', Key: 'b2' }));
    assert.equal(await body(opA, 'shared', 'b3'), content);
    assert.deepEqual(await withoutSharedCopy('b'), []);
  });

  it('objects put, copied and deleted at once on both nodes with the same bytes: every object left has its shared copy', async () => {
    const content = `shared-bytes-${randomBytes(8).toString('hex')}`;
    const deadline = Date.now() + 3000;
    // Each loop puts (or copies) one of its four keys and deletes the next: the content's last
    // reference keeps going and coming back, on both nodes at once.
    const churn = async (s3: S3Client, prefix: string) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const key = `${prefix}-${i % 4}`;
        if (i % 3 === 2)
          await s3.send(new CopyObjectCommand({ Bucket: 'shared', Key: key, CopySource: `shared/${prefix}-${(i + 3) % 4}` }));
        else await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: content }));
        await s3.send(new DeleteObjectCommand({ Bucket: 'shared', Key: `${prefix}-${(i + 1) % 4}` }));
      }
    };
    await Promise.all([churn(opA, 'churn-a'), churn(opB, 'churn-b'), churn(opA, 'churn-c'), churn(opB, 'churn-d')]);
    assert.deepEqual(await withoutSharedCopy('churn-'), []);
  });

  it('CompleteMultipartUpload and AbortMultipartUpload at once, on one node and across both: one wins, the others are NoSuchUpload', async () => {
    const outcome = (call: Promise<unknown>) =>
      call.then(
        () => 'ok',
        (e: Error) => e.name,
      );
    for (let round = 0; round < 16; round++) {
      const Key = `complete-or-abort-${round}`;
      const { UploadId } = await opA.send(new CreateMultipartUploadCommand({ Bucket: 'shared', Key }));
      const part = await opA.send(new UploadPartCommand({ Bucket: 'shared', Key, UploadId, PartNumber: 1, Body: 'x'.repeat(100) }));
      const complete = (s3: S3Client) =>
        outcome(
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: 'shared',
              Key,
              UploadId,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
            }),
          ),
        );
      // Even rounds on one node (where the probe found it), odd ones across both.
      const other = round % 2 === 0 ? opA : opB;
      const [first, abort, second] = await Promise.all([
        complete(opA),
        outcome(other.send(new AbortMultipartUploadCommand({ Bucket: 'shared', Key, UploadId }))),
        complete(other),
      ]);
      const results = [first, abort, second];
      assert.equal(results.filter((r) => r === 'ok').length, 1, `round ${round}: ${results.join()}`);
      assert.deepEqual(
        results.filter((r) => r !== 'ok'),
        ['NoSuchUpload', 'NoSuchUpload'],
        `round ${round}`,
      );
      const exists = await outcome(opB.send(new HeadObjectCommand({ Bucket: 'shared', Key })));
      assert.equal(exists === 'ok', abort !== 'ok', `round ${round}: abort ${abort}, object ${exists}`);
    }
  });

  it("a function's key on B replaces or deletes nothing the operator's key wrote through A", async () => {
    const denied = async (call: () => Promise<unknown>) => {
      const e = await errorOf(call);
      assert.deepEqual([e.name, e.$metadata?.httpStatusCode], ['AccessDenied', 403], e.message);
    };
    // The function owns the key first, and has an upload to it under way.
    await fnB.send(new PutObjectCommand({ Bucket: 'shared', Key: 'owned', Body: 'fn-0' }));
    await fnB.send(new PutObjectCommand({ Bucket: 'shared', Key: 'scratch', Body: 'fn-scratch' }));
    const { UploadId } = await fnB.send(new CreateMultipartUploadCommand({ Bucket: 'shared', Key: 'owned' }));
    const part = await fnB.send(new UploadPartCommand({ Bucket: 'shared', Key: 'owned', UploadId, PartNumber: 1, Body: 'fn-part' }));
    await opA.send(new PutObjectCommand({ Bucket: 'shared', Key: 'owned', Body: 'OPERATOR' }));
    await denied(() => fnB.send(new PutObjectCommand({ Bucket: 'shared', Key: 'owned', Body: 'fn-1' })));
    await denied(() => fnB.send(new CopyObjectCommand({ Bucket: 'shared', Key: 'owned', CopySource: 'shared/scratch' })));
    await denied(() => fnB.send(new DeleteObjectCommand({ Bucket: 'shared', Key: 'owned' })));
    await denied(() =>
      fnB.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'shared',
          Key: 'owned',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      ),
    );
    const many = await fnB.send(new DeleteObjectsCommand({ Bucket: 'shared', Delete: { Objects: [{ Key: 'owned' }] } }));
    assert.deepEqual(
      many.Errors?.map((e) => e.Code),
      ['AccessDenied'],
    );
    assert.equal(await body(opA, 'shared', 'owned'), 'OPERATOR');
    assert.equal(await body(opB, 'shared', 'owned'), 'OPERATOR');
  });

  it("race: a function's key putting and deleting one key in 8 loops on B while the operator's key writes it through A: the operator's body is the last", async () => {
    // Each trial: the function owns the key, puts and deletes it from 8 loops on B; midway the operator writes it
    // on A. Once the operator's write is answered, no write of the function's may land after it.
    const deadline = Date.now() + 4000;
    let trials = 0;
    let deniedAfter = 0;
    while (Date.now() < deadline || trials < 3) {
      const key = `race-${trials++}`;
      await fnB.send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: 'fn-start' }));
      let stop = false;
      // Half the loops put, half delete: either would undo the operator's object.
      const loop = async (n: number) => {
        for (let i = 0; !stop; i++) {
          const write =
            n % 2 === 0
              ? fnB.send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: `fn-${n}-${i}` }))
              : fnB.send(new DeleteObjectCommand({ Bucket: 'shared', Key: key }));
          await write.catch((e: Error) => {
            if (e.name === 'AccessDenied') deniedAfter++;
            else if (e.name !== 'SlowDown' && e.name !== 'ThrottlingException') throw e;
          });
        }
      };
      const loops = Array.from({ length: 8 }, (_, n) => loop(n));
      await new Promise((resolve) => setTimeout(resolve, 60 + Math.random() * 60));
      await opA.send(new PutObjectCommand({ Bucket: 'shared', Key: key, Body: 'OPERATOR' }));
      await new Promise((resolve) => setTimeout(resolve, 60));
      stop = true;
      await Promise.all(loops);
      const last = await body(opA, 'shared', key).catch((e: Error) => e.name);
      assert.equal(last, 'OPERATOR', `trial ${trials}: a function's write landed after the operator's`);
    }
    assert.ok(deniedAfter > 0, 'the function was refused once the operator had written');
    console.log(`${trials} trials, ${deniedAfter} function writes refused`);
  });
});
