import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StageThrottle } from './throttle.js';

describe('StageThrottle', () => {
  it('lets a burst through, then one request per 1/rate seconds; buckets are apart', () => {
    let now = 0;
    const throttle = new StageThrottle(() => now);
    const admitted = (n: number, key = 'api/prod/*/*') => Array.from({ length: n }, () => throttle.admit(key, 2, 3)).filter(Boolean).length;
    assert.equal(admitted(5), 3, 'the burst');
    now = 499;
    assert.equal(admitted(1), 0, 'not yet a whole token');
    now = 500;
    assert.equal(admitted(2), 1, 'one token in half a second at 2 a second');
    now = 60_000;
    assert.equal(admitted(10), 3, 'refilled to the burst, never past it');
    assert.equal(admitted(3, 'api/dev/*/*'), 3, "another stage's bucket is its own");
  });

  it('a rate or burst of 0 refuses everything; a changed setting starts a full bucket', () => {
    let now = 0;
    const throttle = new StageThrottle(() => now);
    assert.equal(throttle.admit('k', 0, 0), false);
    now = 10_000;
    assert.equal(throttle.admit('k', 0, 0), false);
    assert.equal(throttle.admit('k', 1, 1), true);
    assert.equal(throttle.admit('k', 1, 1), false);
  });
});
