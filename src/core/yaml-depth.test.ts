import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineNestedPast } from './yaml-depth.js';

describe('lineNestedPast', () => {
  it('counts flow and block nesting, and names the line where it first goes past the bound', () => {
    assert.equal(lineNestedPast('a: [[1]]\n', 3), undefined);
    assert.equal(lineNestedPast('a: [[[1]]]\n', 3), 1);
    assert.equal(lineNestedPast('{"a": {"b": {"c": 1}}}', 3), 1);
    assert.equal(lineNestedPast('a:\n  b:\n    c: 1\n', 3), undefined);
    assert.equal(lineNestedPast('a:\n  b:\n    c:\n      d: 1\n', 3), 4);
    // Sequence entries on one line each open a level.
    assert.equal(lineNestedPast('a:\n  - - - x\n', 3), 2);
  });

  it('blank and comment lines say nothing about nesting; closing brackets end it', () => {
    assert.equal(lineNestedPast('a:\n\n      # deep comment\n  b: [1, [2]]\nc: [[[]]]\n', 3), 4);
    assert.equal(lineNestedPast(`x: ${'['.repeat(50)}${']'.repeat(50)}\ny: 1\n`, 100), undefined);
    assert.equal(lineNestedPast(`x: ${'['.repeat(1_000_000)}`, 100), 1);
  });
});
