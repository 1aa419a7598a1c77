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

  it("one caller holds at most its share of the places, callers leave the operator's kept ones, and the operator's work goes first", async () => {
    // Two at once and eight waiting: a caller holds at most 2 places, callers together wait in at most 6.
    const turns = new Turns(2, 8, () => new Error('full'));
    const gates: (() => void)[] = [];
    const order: string[] = [];
    const job = (name: string, who?: string) =>
      turns.run(async () => {
        order.push(name);
        await new Promise<void>((resolve) => gates.push(resolve));
        return name;
      }, who);
    const refused = async (name: string, who?: string) => {
      await assert.rejects(job(name, who), /full/);
    };
    const jobs = [job('a1', 'a'), job('a2', 'a')];
    await refused('a3', 'a');
    for (const who of ['b', 'c', 'd']) jobs.push(job(`${who}1`, who), job(`${who}2`, who));
    // Two run (a's), six of callers wait: the line's last two places are the operator's.
    await refused('e1', 'e');
    jobs.push(job('op1'), job('op2'));
    await refused('op3');
    while (gates.length > 0 || order.length < 10) {
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(await Promise.all(jobs), ['a1', 'a2', 'b1', 'b2', 'c1', 'c2', 'd1', 'd2', 'op1', 'op2']);
    // The operator's went ahead of every caller's that waited.
    assert.deepEqual(order, ['a1', 'a2', 'op1', 'op2', 'b1', 'b2', 'c1', 'c2', 'd1', 'd2']);
    // Every place is free again.
    assert.deepEqual(await Promise.all(['x', 'y'].map((n) => turns.run(() => Promise.resolve(n), 'a'))), ['x', 'y']);
  });
});
