import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { functionArn, parseFunctionRef, resolveQualifier } from './arn.js';

describe('parseFunctionRef', () => {
  it('reads names, partial ARNs and full ARNs, with or without a qualifier', () => {
    assert.deepEqual(parseFunctionRef('fn'), { name: 'fn' });
    assert.deepEqual(parseFunctionRef('fn:prod'), { name: 'fn', qualifier: 'prod' });
    assert.deepEqual(parseFunctionRef('000000000000:function:fn:$LATEST'), { name: 'fn', qualifier: '$LATEST' });
    assert.deepEqual(parseFunctionRef('arn:aws:lambda:eu-west-1:000000000000:function:fn'), { name: 'fn' });
    assert.deepEqual(parseFunctionRef('arn:aws:lambda:eu-west-1:000000000000:function:fn:7'), { name: 'fn', qualifier: '7' });
  });

  it('refuses what is not a function identifier', () => {
    for (const bad of ['', 'a b', 'x'.repeat(65), 'arn:aws:s3:::bucket']) {
      assert.throws(
        () => parseFunctionRef(bad),
        (e: unknown) => e instanceof PlatformError && e.code === 'ValidationException',
        bad,
      );
    }
  });
});

describe('resolveQualifier', () => {
  it('takes either source and refuses two different ones', () => {
    assert.equal(resolveQualifier({ name: 'f', qualifier: 'a' }, undefined), 'a');
    assert.equal(resolveQualifier({ name: 'f' }, 'b'), 'b');
    assert.equal(resolveQualifier({ name: 'f', qualifier: 'a' }, 'a'), 'a');
    assert.throws(() => resolveQualifier({ name: 'f', qualifier: 'a' }, 'b'), /does not match the specified qualifier/);
  });
});

describe('functionArn', () => {
  it('builds ARNs in the caller region with account 000000000000', () => {
    assert.equal(functionArn('us-east-1', 'f'), 'arn:aws:lambda:us-east-1:000000000000:function:f');
    assert.equal(functionArn('eu-west-1', 'f', 'prod'), 'arn:aws:lambda:eu-west-1:000000000000:function:f:prod');
  });
});
