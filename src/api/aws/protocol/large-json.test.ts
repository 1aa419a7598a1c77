/**
 * A large JSON body parsed on the parser's thread reads as parseJsonBody reads it, with the base64
 * members it was told of decoded; its refusals are parseJsonBody's, word for word.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { PlatformError } from '../../../core/errors.js';
import { codeSha256 } from '../../../domain/lambda-function.js';
import type { ApiRequest } from './http.js';
import { LARGE_JSON_BYTES, parseJsonBodyDecoding } from './large-json.js';
import { parseJsonBody } from './rest-json.js';

const request = (body: string): ApiRequest =>
  ({ method: 'PUT', path: '/', query: new URLSearchParams(), headers: {}, body: Buffer.from(body) }) as ApiRequest;
const onError = (m: string) => new PlatformError('InvalidRequestContentException', m);
const messageOf = async (f: () => unknown) => {
  try {
    await f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
};

describe('parseJsonBodyDecoding', () => {
  const zip = randomBytes(LARGE_JSON_BYTES);
  const text = JSON.stringify({ Code: { ZipFile: zip.toString('base64'), S3Key: 'k' }, Publish: true, Tags: { a: 'b' } });

  it('decodes the named base64 members of a large body and leaves the rest as JSON has it', async () => {
    const value = await parseJsonBodyDecoding(request(text), onError, [
      ['Code', 'ZipFile'],
      ['Missing', 'Blob'],
    ]);
    const code = value.Code as Record<string, unknown>;
    assert.ok(code.ZipFile instanceof Uint8Array);
    assert.deepEqual(Buffer.from(code.ZipFile), zip);
    assert.equal(code.S3Key, 'k');
    // Its CodeSha256 was taken on the parser's thread: changed after (as no package is), it answers the hash taken there.
    const sha = createHash('sha256').update(zip).digest('base64');
    assert.equal(codeSha256(code.ZipFile), sha);
    code.ZipFile[0]! ^= 1;
    assert.equal(codeSha256(code.ZipFile), sha, 'the hash taken on the thread, not one taken again');
    assert.deepEqual({ ...value, Code: undefined }, { Code: undefined, Publish: true, Tags: { a: 'b' } });
  });

  it('leaves a member that is no base64, and every member of a small body, as text', async () => {
    const notBase64 = JSON.stringify({ ZipFile: '%'.repeat(LARGE_JSON_BYTES) });
    assert.equal(typeof (await parseJsonBodyDecoding(request(notBase64), onError, [['ZipFile']])).ZipFile, 'string');
    const small = JSON.stringify({ ZipFile: 'UEsFBg==' });
    assert.equal((await parseJsonBodyDecoding(request(small), onError, [['ZipFile']])).ZipFile, 'UEsFBg==');
  });

  it('refuses what parseJsonBody refuses, in its words', async () => {
    const pad = ' '.repeat(LARGE_JSON_BYTES);
    for (const body of [`${pad}{"a":`, `${pad}[1]`, `${pad}{"a":{"__proto__":{"x":1}}}`, `${pad}null`]) {
      const inPlace = await messageOf(() => parseJsonBody(request(body), onError));
      assert.notEqual(inPlace, 'no error');
      assert.equal(await messageOf(() => parseJsonBodyDecoding(request(body), onError, [['a']])), inPlace);
    }
  });
});
