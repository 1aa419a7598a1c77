import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { checkTags, mergeTags, taggedResourceOf } from './tags.js';

const errors = { invalid: 'InvalidParameterValueException', tooMany: 'LimitExceededException' } as const;
const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof PlatformError ? err.code : 'not a PlatformError';
  }
  return undefined;
};

describe('tags', () => {
  it('taggedResourceOf: each service ARN names its resource; an empty account field is accepted', () => {
    assert.deepEqual(taggedResourceOf('arn:aws:lambda:us-east-1:000000000000:function:f'), { kind: 'function', name: 'f' });
    assert.deepEqual(taggedResourceOf('arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*'), {
      kind: 'log-group',
      name: '/aws/lambda/f',
    });
    assert.deepEqual(taggedResourceOf('arn:aws:cloudwatch:us-east-1:000000000000:alarm:a b'), { kind: 'alarm', name: 'a b' });
    assert.deepEqual(taggedResourceOf('arn:aws:codedeploy:us-east-1::application:app'), { kind: 'application', name: 'app' });
    assert.deepEqual(taggedResourceOf('arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:app/g'), {
      kind: 'deployment-group',
      application: 'app',
      name: 'g',
    });
  });

  it('taggedResourceOf: another account, another service or a malformed ARN names nothing', () => {
    for (const arn of [
      'arn:aws:lambda:us-east-1:123456789012:function:f',
      'arn:aws:lambda:us-east-1:000000000000:layer:f',
      'arn:aws:s3:::bucket',
      'arn:aws:codedeploy:us-east-1::deploymentgroup:app',
      'arn:aws:codedeploy:us-east-1::deploymentgroup:app/',
      'function:f',
      '',
    ]) {
      assert.equal(taggedResourceOf(arn), undefined, arn);
    }
  });

  it('checkTags: lengths, the aws: prefix and the count after merging', () => {
    assert.equal(
      codeOf(() => checkTags({ k: 'v' }, {}, errors)),
      undefined,
    );
    assert.equal(
      codeOf(() => checkTags({ ['k'.repeat(128)]: 'v'.repeat(256) }, {}, errors)),
      undefined,
    );
    assert.equal(
      codeOf(() => checkTags({ '': 'v' }, {}, errors)),
      'InvalidParameterValueException',
    );
    assert.equal(
      codeOf(() => checkTags({ ['k'.repeat(129)]: 'v' }, {}, errors)),
      'InvalidParameterValueException',
    );
    assert.equal(
      codeOf(() => checkTags({ k: 'v'.repeat(257) }, {}, errors)),
      'InvalidParameterValueException',
    );
    assert.equal(
      codeOf(() => checkTags({ 'AWS:x': 'v' }, {}, errors)),
      'InvalidParameterValueException',
    );
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    assert.equal(
      codeOf(() => checkTags({ k0: 'again' }, fifty, errors)),
      undefined,
      'replacing a key does not count twice',
    );
    assert.equal(
      codeOf(() => checkTags({ k50: 'v' }, fifty, errors)),
      'LimitExceededException',
    );
  });

  it('mergeTags: adds, overwrites and removes; a __proto__ key stays an own key', () => {
    assert.deepEqual(mergeTags({ a: '1', b: '2' }, { b: '3', c: '4' }, ['a']), { b: '3', c: '4' });
    const merged = mergeTags({}, JSON.parse('{"__proto__":"x"}') as Record<string, string>);
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.equal(Object.keys(merged)[0], '__proto__');
  });
});
