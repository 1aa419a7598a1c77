import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mockStatusCode } from './mock-status.js';

describe('mockStatusCode', () => {
  it('reads an integer statusCode from JSON, and from what API Gateway takes beside JSON (bare or single-quoted keys)', () => {
    for (const text of [
      '{"statusCode": 200}',
      '  {\n  "statusCode" : 200\n}\n',
      '{ statusCode: 200 }', // the CDK's CORS preflight template
      "{'statusCode': 200, '': ''}",
      '{"statusCode": 200 ,, }',
      '{"statusCode": 0200}',
      '{"a": {"statusCode": 404, "b": ["}", \'x\']}, "c": "\\"}", statusCode: 200, after: [',
      '{,"statusCode":200}',
    ]) {
      assert.equal(mockStatusCode(text), '200', text);
    }
    assert.equal(mockStatusCode('{"statusCode": -1000}'), '-1000', 'any integer');
    assert.equal(mockStatusCode('{"statusCode": 404, "statusCode": 200}'), '404', 'the first');
  });

  it('no object, no statusCode, or one that is no integer: undefined (API Gateway answers 500)', () => {
    for (const text of [
      '',
      '{}',
      'statusCode: 200',
      '[{"statusCode": 200}]',
      '{"status": 200}',
      '{"statusCode": "200"}',
      '{"statusCode": 200.5}',
      '{"statusCode": 2e2}',
      '{"statusCode": 200',
      '{"statusCode": 99999999999999999999}',
      '{"statusCode\': 200 }',
      '{\'statusCode": 200 }',
      "{'statusCode: 200 }",
      '{"a": 1} {"statusCode": 200}',
      '{"a": {"statusCode": 200}}',
      '{{"statusCode": 200}',
      '{statusCodes: 200}',
      '{"statusCode" 200}',
    ]) {
      assert.equal(mockStatusCode(text), undefined, text);
    }
  });

  it('reads each character once, builds nothing, and stops at the status: 10 MB of values before it take milliseconds', () => {
    const before = `{"pad": [${'{},'.repeat(3_300_000)}{}], "statusCode": 201}`;
    const after = `{"statusCode": 202, "pad": [${'{'.repeat(5_000_000)}`;
    const started = performance.now();
    assert.equal(mockStatusCode(before), '201');
    assert.equal(mockStatusCode(after), '202');
    assert.equal(mockStatusCode(`{"pad": "${'\\"'.repeat(5_000_000)}`), undefined);
    const took = performance.now() - started;
    assert.ok(took < 300, `took ${Math.round(took)} ms`);
  });
});
