/**
 * Chunk signatures checked against the worked example of AWS's S3 documentation ("Signature Calculations
 * for the Authorization Header: Transferring Payload in Multiple Chunks"): a request, its seed signature
 * and the signature of each chunk, computed by AWS, not by Versa.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signatureMatches } from './signature.js';
import { readClaim, type SignatureClaim } from './sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SIGNATURES = {
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  first: 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  second: '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  final: 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
};

function example(chunkSignatures = SIGNATURES, secondChunk = Buffer.alloc(1024, 'a')) {
  const body = Buffer.concat([
    Buffer.from(`10000;chunk-signature=${chunkSignatures.first}\r\n`),
    Buffer.alloc(65536, 'a'),
    Buffer.from(`\r\n400;chunk-signature=${chunkSignatures.second}\r\n`),
    secondChunk,
    Buffer.from(`\r\n0;chunk-signature=${chunkSignatures.final}\r\n\r\n`),
  ]);
  const headers = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=' +
      chunkSignatures.seed,
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': String(body.length),
  };
  return { method: 'PUT', path: '/examplebucket/chunkObject.txt', query: new URLSearchParams(), headers, body };
}

describe('sigv4: aws-chunked payloads', () => {
  it('accepts the documented example, seed and chunk signatures as AWS computed them', async () => {
    const req = example();
    assert.equal(req.headers['content-length'], '66824', 'the body is framed as in the example');
    const claim = readClaim(req) as SignatureClaim;
    assert.equal(await signatureMatches(req, claim, SECRET), true);
  });

  it('refuses it when a chunk was changed, a chunk signature is another, or the secret is wrong', async () => {
    const changed = example(SIGNATURES, Buffer.alloc(1024, 'b'));
    assert.equal(await signatureMatches(changed, readClaim(changed) as SignatureClaim, SECRET), false);
    const swapped = example({ ...SIGNATURES, final: SIGNATURES.second });
    assert.equal(await signatureMatches(swapped, readClaim(swapped) as SignatureClaim, SECRET), false);
    const req = example();
    assert.equal(await signatureMatches(req, readClaim(req) as SignatureClaim, 'another secret'), false);
  });
});
