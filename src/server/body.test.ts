import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { BodyCollector, LARGE_BODY_BYTES } from './body.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function collect(body: Buffer, piece: number, forS3: boolean): BodyCollector {
  const c = new BodyCollector(() => forS3);
  for (let at = 0; at < body.length; at += piece) c.add(body.subarray(at, at + piece));
  return c;
}

describe('BodyCollector', () => {
  it('hashes a large body as it comes, the same hashes as of the whole, MD5 only for what S3 may store', () => {
    const body = randomBytes(LARGE_BODY_BYTES * 2 + 12_345);
    for (const piece of [65_536, 1_000_003, LARGE_BODY_BYTES + 1]) {
      const s3 = collect(body, piece, true);
      assert.deepEqual(s3.body(), body);
      assert.deepEqual(s3.digests(), { sha256: sha256(body), md5: md5(body) });
      assert.deepEqual(s3.digests(), { sha256: sha256(body), md5: md5(body) }, 'asked twice, the same');
      assert.deepEqual(collect(body, piece, false).digests(), { sha256: sha256(body) });
    }
  });

  it('leaves a small body unhashed (the one who needs a hash takes it) and lets go of a refused one', () => {
    const small = randomBytes(LARGE_BODY_BYTES);
    const c = collect(small, 4096, true);
    assert.deepEqual(c.body(), small);
    assert.equal(c.digests(), undefined);
    c.drop();
    assert.equal(c.body().length, 0);
  });
});
