import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SummaryJson } from '../domain/metric.js';
import { MAX_BINS, Summary } from './summary.js';

describe('Summary', () => {
  it('holds at most MAX_BINS bins a sign however far its values spread, and keeps the upper percentiles within 2 %', () => {
    const s = new Summary();
    const values: number[] = [];
    // Values 1.02^k for k from -30,000 to 30,000 (1e-258 to 1e258), positive and negative.
    for (let k = -30_000; k <= 30_000; k += 3) {
      const v = Math.pow(1.02, k);
      values.push(v, -v);
      s.add(v);
      s.add(-v);
    }
    assert.ok(s.bins <= 2 * (MAX_BINS + 128), `${s.bins} bins`);
    assert.equal(s.count, values.length);
    values.sort((a, b) => a - b);
    // Only the largest values' bins are kept apart: here the top 1,024 of 20,001 a sign, about 5 %.
    for (const p of [99, 99.9]) {
      const exact = values[Math.floor((p / 100) * (values.length - 1))]!;
      const got = s.percentile(p);
      assert.ok(Math.abs(got - exact) / exact < 0.02, `p${p}: ${got} against ${exact}`);
    }
    assert.equal(s.max, values.at(-1));
    // Merged and read back, it stays bounded.
    const merged = Summary.fromJSON(s.toJSON());
    merged.merge(s);
    assert.ok(merged.bins <= 2 * (MAX_BINS + 128));
    assert.equal(merged.count, 2 * values.length);
  });

  it('folds nothing for values within a few orders of magnitude, so every percentile keeps its accuracy', () => {
    const s = new Summary();
    const values: number[] = [];
    for (let i = 1; i <= 100_000; i++) values.push(i * 7.3);
    for (const v of values) s.add(v);
    assert.ok(s.bins < MAX_BINS, `${s.bins} bins`);
    for (const p of [1, 50, 90, 99]) {
      const exact = values[Math.floor((p / 100) * (values.length - 1))]!;
      assert.ok(Math.abs(s.percentile(p) - exact) / exact < 0.02, `p${p}`);
    }
  });
  it('stays finite: additions that would overflow are dropped, and a stored summary that overflowed reads as empty', () => {
    const s = new Summary();
    s.add(5);
    s.add(1e308, 1e308);
    s.add(1, -1);
    s.add(1, 0);
    s.addStatistics({ sampleCount: 1, sum: 1.7e308, minimum: 1, maximum: 1 });
    s.addStatistics({ sampleCount: 1, sum: 1.7e308, minimum: 1, maximum: 1 });
    s.addStatistics({ sampleCount: 2, sum: 0, minimum: 3, maximum: -3 });
    assert.deepEqual([s.count, s.sum, s.min, s.max], [2, 5 + 1.7e308, 1, 5]);
    s.merge(s);
    assert.equal(s.count, 2);
    assert.ok(Number.isFinite(s.sum));
    const poisoned = Summary.fromJSON(
      JSON.parse(JSON.stringify({ n: Infinity, s: Infinity, lo: 1, hi: 2, p: { 0: 1 }, m: {}, z: 0 })) as SummaryJson,
    );
    assert.equal(poisoned.count, 0);
    s.merge(poisoned);
    assert.equal(s.count, 2);
  });
});
