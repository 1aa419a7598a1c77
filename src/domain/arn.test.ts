import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { functionArn, parseFunctionRef, resolveQualifier } from './arn.js';

describe('parseFunctionRef', () => {
  it('reads names, partial ARNs and full ARNs, with or without a qualifier', () => {
    assert.deepEqual(parseFunctionRef('fn'), { name: 'fn' });
    assert.deepEqual(parseFunctionRef('fn:prod'), { name: 'fn', qualifier: 'prod' });
    assert.deepEqual(parseFunctionRef('000000000000:function:fn:$LATEST'), { name: 'fn', qualifier: '$LATEST', account: '000000000000' });
    assert.deepEqual(parseFunctionRef('arn:aws:lambda:eu-west-1:123456789012:function:fn'), {
      name: 'fn',
      region: 'eu-west-1',
      account: '123456789012',
    });
    assert.deepEqual(parseFunctionRef('arn:aws:lambda:eu-west-1:000000000000:function:fn:7'), {
      name: 'fn',
      qualifier: '7',
      region: 'eu-west-1',
      account: '000000000000',
    });
  });

  it('parses a well-formed name longer than a function may have (AWS answers that it is not found)', () => {
    assert.deepEqual(parseFunctionRef('x'.repeat(65)), { name: 'x'.repeat(65) });
  });

  it('refuses what is not a function identifier', () => {
    for (const bad of ['', 'a b', 'x'.repeat(171), 'arn:aws:s3:::bucket', 'arn:aws:lambda:invalid-region:000000000000:function:f']) {
      assert.throws(
        () => parseFunctionRef(bad),
        (e: unknown) => e instanceof PlatformError && e.code === 'ValidationException',
        bad,
      );
    }
  });
});

describe('parseFunctionRef with a Qualifier parameter', () => {
  it('refuses a qualifier AWS refuses, reporting it before a bad name', () => {
    assert.throws(
      () => parseFunctionRef('fn', 'invalid!'),
      (e: unknown) =>
        e instanceof PlatformError &&
        e.code === 'ValidationException' &&
        e.message ===
          "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
    );
    assert.throws(
      () => parseFunctionRef('bad name', 'q'.repeat(129)),
      (e: unknown) =>
        e instanceof PlatformError &&
        /^2 validation errors detected: Value 'q{129}' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128; Value 'bad name' at 'functionName'/.test(
          e.message,
        ),
    );
    assert.deepEqual(parseFunctionRef('fn', '$LATEST'), { name: 'fn' });
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
