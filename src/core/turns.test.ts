import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Turns } from './turns.js';

describe('Turns', () => {
  it('runs at most so many at once, the rest in order, refuses past the line, and a failure hands its turn on', async () => {
    const turns = new Turns(2, 3, () => new Error('full'));
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const job = (i: number) =>
      turns.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        if (i === 1) throw new Error('one failed');
        return i;
      });
    const settled = Promise.allSettled([0, 1, 2, 3, 4].map(job));
    await assert.rejects(job(5), /full/);
    // Let every job through as it comes to run.
    while (order.length < 5 || gates.length > 0) {
      const gate = gates.shift();
      if (gate) gate();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const outcomes = await settled;
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'failed')),
      [0, 'failed', 2, 3, 4],
    );
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    assert.equal(most, 2);
    // Every turn is free again: five more at once are two running and three waiting, not refused.
    assert.deepEqual(await Promise.all([6, 7, 8, 9, 10].map((n) => turns.run(() => Promise.resolve(n)))), [6, 7, 8, 9, 10]);
  });
});
