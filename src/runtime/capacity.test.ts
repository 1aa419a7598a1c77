import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitCapacity } from './capacity.js';

describe('splitCapacity', () => {
  // [environments of both versions, share of the new version, expected split]
  const table: [number, number, { from: number; to: number }][] = [
    [10, 0, { from: 10, to: 0 }],
    [10, 0.1, { from: 9, to: 1 }],
    [10, 0.3, { from: 7, to: 3 }],
    [10, 0.7, { from: 3, to: 7 }],
    [10, 0.9, { from: 1, to: 9 }],
    [10, 1, { from: 0, to: 10 }],
    [9, 0.25, { from: 6, to: 3 }],
    [9, 0.5, { from: 4, to: 5 }],
    [9, 0.75, { from: 2, to: 7 }],
    [1, 0.1, { from: 0, to: 1 }],
    [0, 0.5, { from: 0, to: 0 }],
    [3, 0.01, { from: 2, to: 1 }],
  ];
  for (const [total, share, split] of table) {
    it(`${total} environments at ${share * 100}% on the new version: ${split.from} old, ${split.to} new`, () => {
      assert.deepEqual(splitCapacity(total, share), split);
    });
  }

  it('the new version’s part never shrinks as its share grows, and the parts always add up', () => {
    for (let total = 0; total <= 40; total++) {
      let last = 0;
      for (let pct = 0; pct <= 100; pct++) {
        const { from, to } = splitCapacity(total, pct / 100);
        assert.equal(from + to, total);
        assert.ok(to >= last, `${total} at ${pct}%: ${to} after ${last}`);
        last = to;
      }
    }
  });

  it('shares that are not exact in binary still land on whole environments (0.3 × 10 is 3, not 4)', () => {
    for (const pct of [10, 20, 30, 40, 60, 70, 80, 90]) {
      assert.equal(splitCapacity(10, pct / 100).to, pct / 10);
      assert.equal(splitCapacity(10, (10 * (pct / 10)) / 100).to, pct / 10);
    }
  });
});
