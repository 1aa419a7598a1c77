import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alnumId, hexId, uuid } from './ids.js';

describe('ids', () => {
  it('hexId: the asked length, hex only, no repeats across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = hexId(8);
      assert.match(id, /^[0-9a-f]{16}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 20_000);
    assert.match(hexId(5000), /^[0-9a-f]{10000}$/);
  });

  it('alnumId and uuid: the forms AWS uses', () => {
    assert.match(alnumId(10), /^[a-z0-9]{10}$/);
    assert.match(uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
