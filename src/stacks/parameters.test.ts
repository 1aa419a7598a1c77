import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { checkRules, MAX_PARAMETER_VALUE_BYTES, parameterValues } from './parameters.js';

describe('checkRules', () => {
  it('checkRules: Fn::EachMemberIn over two lists of 100,000 takes linear time, not one scan of the second per member', () => {
    const n = 100_000;
    const members = Array.from({ length: n }, () => 'x');
    const allowed = [...Array.from({ length: n - 1 }, (_, i) => `y${i}`), 'x'];
    const rules = { R: { Assertions: [{ Assert: { 'Fn::EachMemberIn': [members, allowed] }, AssertDescription: 'no' }] } };
    const started = Date.now();
    checkRules(rules, {}, {});
    // Quadratic, this is 10^10 comparisons: minutes.
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
    assert.throws(
      () => checkRules({ R: { Assertions: [{ Assert: { 'Fn::EachMemberIn': [['z'], allowed] }, AssertDescription: 'no' }] } }, {}, {}),
      {
        problems: ['no'],
      },
    );
  });
});

describe('parameterValues', () => {
  it(`parameterValues: a value of more than ${MAX_PARAMETER_VALUE_BYTES} bytes is refused, as CloudFormation refuses it`, () => {
    const template = { Parameters: { V: { Type: 'String' } }, Resources: {} };
    assert.equal(parameterValues(template, { V: 'é'.repeat(MAX_PARAMETER_VALUE_BYTES / 2) }).V, 'é'.repeat(MAX_PARAMETER_VALUE_BYTES / 2));
    assert.throws(
      () => parameterValues(template, { V: 'é'.repeat(MAX_PARAMETER_VALUE_BYTES / 2) + 'x' }),
      (err: unknown) =>
        err instanceof PlatformError &&
        err.code === 'ValidationError' &&
        /Parameter 'V' value must be at most 4096 bytes long/.test(err.message),
    );
  });
});
