import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maximumReservedConcurrency, minimumUnreservedConcurrency } from './concurrency.js';

describe('minimumUnreservedConcurrency', () => {
  it('keeps a tenth of the account limit unreserved, rounded up, and at least one', () => {
    for (const [limit, min, max] of [
      [1000, 100, 900],
      [32, 4, 28],
      [10, 1, 9],
      [4, 1, 3],
      [1, 1, 0],
    ] as const) {
      assert.equal(minimumUnreservedConcurrency(limit), min, `limit ${limit}`);
      assert.equal(maximumReservedConcurrency(limit), max, `limit ${limit}`);
    }
  });
});
