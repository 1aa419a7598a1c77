import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { seededRandom } from '../core/random.js';
import { pickAliasVersion, validateAliasName, validateAliasRouting } from './alias.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof PlatformError ? err.code : 'not a PlatformError';
  }
  return 'no error';
};

describe('validateAliasRouting', () => {
  it('accepts one extra version with a weight in [0, 1]', () => {
    assert.deepEqual(validateAliasRouting('1', { '2': 0.1 }), { '2': 0.1 });
    assert.deepEqual(validateAliasRouting('1', { '2': 1 }), { '2': 1 });
    assert.equal(validateAliasRouting('1', {}), undefined);
    assert.equal(validateAliasRouting('$LATEST', undefined), undefined);
  });

  it('refuses each broken rule with the AWS error', () => {
    assert.equal(
      codeOf(() => validateAliasRouting('1', { '2': 0.5, '3': 0.1 })),
      'InvalidParameterValueException',
    );
    assert.equal(
      codeOf(() => validateAliasRouting('1', { '2': 1.5 })),
      'ValidationException',
    );
    assert.equal(
      codeOf(() => validateAliasRouting('1', { '2': -0.1 })),
      'ValidationException',
    );
    assert.equal(
      codeOf(() => validateAliasRouting('1', { $LATEST: 0.5 })),
      'ValidationException',
    );
    assert.equal(
      codeOf(() => validateAliasRouting('1', { '1': 0.5 })),
      'InvalidParameterValueException',
    );
    assert.equal(
      codeOf(() => validateAliasRouting('$LATEST', { '1': 0.5 })),
      'InvalidParameterValueException',
    );
    assert.equal(
      codeOf(() => validateAliasRouting('x', undefined)),
      'ValidationException',
    );
  });
});

describe('validateAliasName', () => {
  it('refuses all-digit and malformed names, accepts the rest', () => {
    assert.equal(
      codeOf(() => validateAliasName('2024')),
      'ValidationException',
    );
    assert.equal(
      codeOf(() => validateAliasName('a b')),
      'ValidationException',
    );
    assert.equal(
      codeOf(() => validateAliasName('')),
      'ValidationException',
    );
    assert.equal(
      codeOf(() => validateAliasName('prod-2_x')),
      'no error',
    );
  });
});

describe('pickAliasVersion', () => {
  it('sends about the weight to the extra version (seeded, 10 000 picks)', () => {
    const random = seededRandom(7);
    let extra = 0;
    for (let i = 0; i < 10_000; i++)
      if (pickAliasVersion({ functionVersion: '1', additionalVersionWeights: { '2': 0.1 } }, random) === '2') extra++;
    // Binomial(10 000, 0.1) has a standard deviation of 30; ±150 is five of them.
    assert.ok(Math.abs(extra - 1000) < 150, `extra version got ${extra}`);
  });

  it('never picks the extra version at weight 0 and always at weight 1', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      assert.equal(pickAliasVersion({ functionVersion: '1', additionalVersionWeights: { '2': 0 } }, random), '1');
      assert.equal(pickAliasVersion({ functionVersion: '1', additionalVersionWeights: { '2': 1 } }, random), '2');
    }
  });
});
