import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c } from './crc32c.js';

describe('crc32c', () => {
  it('gives the check value and the test vectors of RFC 3720 (B.4)', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array()), 0);
    // B.4 writes the CRC's bytes least significant first: "aa 36 91 8a" and "43 ab a8 62".
    assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  });
});
