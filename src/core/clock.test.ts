import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, ScaledClock } from './clock.js';

describe('FakeClock', () => {
  it('fires timers in order only when advanced, and cancels', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimer(50, () => fired.push('b'));
    clock.setTimer(10, () => fired.push('a'));
    const cancel = clock.setTimer(20, () => fired.push('never'));
    cancel();
    clock.advance(9);
    assert.deepEqual(fired, []);
    clock.advance(100);
    assert.deepEqual(fired, ['a', 'b']);
    assert.equal(clock.now(), 1109);
  });
});

describe('ScaledClock', () => {
  it('runs faster than real time by its scale', async () => {
    const clock = new ScaledClock(100);
    const start = clock.now();
    await new Promise((r) => setTimeout(r, 50));
    // 50 real ms at 100x is about 5 platform seconds; allow for a slow machine.
    assert.ok(clock.now() - start >= 4000, `advanced ${clock.now() - start} ms`);
  });

  it('refuses a non-positive scale', () => {
    assert.throws(() => new ScaledClock(0), RangeError);
  });
});
