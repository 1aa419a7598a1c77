import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedSignatures, MAX_FAILURES, WINDOW_MS } from './failures.js';

describe('FailedSignatures', () => {
  it('shuts a source out after MAX_FAILURES wrong signatures within a window, until the window ends; others are not', () => {
    let now = 1_000_000;
    const failures = new FailedSignatures(() => now);
    assert.equal(failures.quiet, true);
    for (let i = 1; i < MAX_FAILURES; i++) assert.equal(failures.failed('10.0.0.1'), false);
    assert.equal(failures.shutOut('10.0.0.1'), undefined, 'one guess short of the bound');
    assert.equal(failures.failed('10.0.0.1'), true, 'told once, when it is shut out');
    assert.equal(failures.failed('10.0.0.1'), false);
    assert.equal(failures.shutOut('10.0.0.1'), WINDOW_MS / 1000);
    assert.equal(failures.shutOut('10.0.0.2'), undefined);
    now += WINDOW_MS - 1_500;
    assert.equal(failures.shutOut('10.0.0.1'), 2);
    now += 1_500;
    assert.equal(failures.shutOut('10.0.0.1'), undefined, 'the window ended');
    assert.equal(failures.quiet, true, 'and the source is forgotten');
  });

  it('remembers a bounded number of sources, forgetting the oldest', () => {
    let now = 0;
    const failures = new FailedSignatures(() => now);
    for (let i = 0; i < MAX_FAILURES; i++) failures.failed('first');
    for (let i = 0; i < 10_000; i++) {
      now++;
      failures.failed(`source ${i}`);
    }
    assert.equal(failures.shutOut('first'), undefined, 'forgotten for the newest');
    assert.equal(failures.failed('source 9999'), false);
  });
});
