import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { compileFilterPattern } from './log-filter.js';

const lines = ['ERROR Exception in thread', 'WARN disk almost full', 'INFO request failed for user 7', 'ERROR timeout', 'DEBUG noise'];
const matching = (pattern: string | undefined) => lines.filter(compileFilterPattern(pattern));

describe('compileFilterPattern', () => {
  it('an empty pattern matches every event', () => {
    assert.deepEqual(matching(undefined), lines);
    assert.deepEqual(matching('  '), lines);
  });

  it('every plain term must appear, case-sensitively', () => {
    assert.deepEqual(matching('ERROR'), ['ERROR Exception in thread', 'ERROR timeout']);
    assert.deepEqual(matching('ERROR timeout'), ['ERROR timeout']);
    assert.deepEqual(matching('error'), []);
  });

  it('a quoted term is an exact phrase', () => {
    assert.deepEqual(matching('"request failed"'), ['INFO request failed for user 7']);
    assert.deepEqual(matching('"failed request"'), []);
  });

  it('?terms: at least one must appear; -terms must not', () => {
    assert.deepEqual(matching('?WARN ?timeout'), ['WARN disk almost full', 'ERROR timeout']);
    assert.deepEqual(matching('ERROR -timeout'), ['ERROR Exception in thread']);
    assert.deepEqual(matching('?ERROR ?DEBUG -noise'), ['ERROR Exception in thread', 'ERROR timeout']);
  });

  it('JSON and space-delimited patterns, and an unmatched quote, are refused', () => {
    for (const p of ['{ $.level = "ERROR" }', '[ip, user]', '"open']) {
      assert.throws(
        () => compileFilterPattern(p),
        (e: unknown) => e instanceof PlatformError && e.code === 'InvalidParameterException',
      );
    }
  });
});
