import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { continueClock, FakeClock, ScaledClock } from './clock.js';

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

describe('continueClock', () => {
  it('continueClock: keeps the stored anchor at the same scale, so platform time ran on while stopped', () => {
    const stored = { anchor: { real: 1_000, platform: 1_000 }, scale: 60 };
    assert.deepEqual(continueClock(stored, 60, 5_000), { real: 1_000, platform: 1_000 });
    assert.equal(new ScaledClock(60, continueClock(stored, 60, 5_000)).scale, 60);
  });

  it('continueClock: re-anchors where the old clock is now when the scale changes', () => {
    const stored = { anchor: { real: 1_000, platform: 1_000 }, scale: 60 };
    assert.deepEqual(continueClock(stored, 1, 2_000), { real: 2_000, platform: 61_000 });
  });

  it('continueClock: starts at real time when nothing is stored', () => {
    assert.deepEqual(continueClock(undefined, 10, 7_000), { real: 7_000, platform: 7_000 });
  });
});
