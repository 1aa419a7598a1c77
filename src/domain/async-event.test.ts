import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterAttempt, destinationRecord, isExpired, retryPolicy, type AsyncEventRecord, type AttemptResponse } from './async-event.js';

const MIN = 60_000;
/** Every event here was received at this fixed platform time; no real clock is read. */
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const policy = retryPolicy(undefined);

/** An event just claimed for its `attempts`th attempt. */
const claimed = (attempts: number, extra: Partial<AsyncEventRecord> = {}): AsyncEventRecord => ({
  id: 'req-1',
  functionName: 'fn',
  qualifier: undefined,
  region: 'us-east-1',
  payload: '{"a":1}',
  receivedAt: T0,
  status: 'running',
  attempts,
  throttles: 0,
  nextAttemptAt: T0,
  leaseUntil: T0 + 16 * MIN,
  lastResponse: undefined,
  condition: undefined,
  finishedAt: undefined,
  ...extra,
});
const failed: AttemptResponse = {
  statusCode: 200,
  executedVersion: '$LATEST',
  functionError: 'Unhandled',
  payload: '{"errorMessage":"x"}',
};
const ok: AttemptResponse = { statusCode: 200, executedVersion: '3', payload: '"done"' };

describe('afterAttempt', () => {
  it('afterAttempt: a success ends the event as done with its answer', () => {
    assert.deepEqual(afterAttempt(claimed(1), { kind: 'ok', response: ok }, policy, T0 + 100), {
      kind: 'finish',
      status: 'done',
      condition: 'Success',
      attempts: 1,
      lastResponse: ok,
    });
  });

  it('afterAttempt: function errors retry after one minute, then two, then end as RetriesExhausted', () => {
    const first = afterAttempt(claimed(1), { kind: 'error', response: failed }, policy, T0 + 100);
    assert.deepEqual(first, { kind: 'retry', at: T0 + 100 + MIN, attempts: 1, throttles: 0, lastResponse: failed });
    const second = afterAttempt(claimed(2), { kind: 'error', response: failed }, policy, T0 + MIN + 100);
    assert.deepEqual(second, { kind: 'retry', at: T0 + 3 * MIN + 100, attempts: 2, throttles: 0, lastResponse: failed });
    const third = afterAttempt(claimed(3), { kind: 'error', response: failed }, policy, T0 + 3 * MIN + 100);
    assert.deepEqual(third, { kind: 'finish', status: 'failed', condition: 'RetriesExhausted', attempts: 3, lastResponse: failed });
  });

  it('afterAttempt: MaximumRetryAttempts 0 ends at the first error', () => {
    const p = retryPolicy({
      functionName: 'fn',
      qualifier: '$LATEST',
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: undefined,
      onSuccess: undefined,
      onFailure: undefined,
      lastModified: T0,
    });
    assert.equal(afterAttempt(claimed(1), { kind: 'error', response: failed }, p, T0).kind, 'finish');
  });

  it('afterAttempt: a throttle gives its attempt back and backs off from a second, doubling, to five minutes', () => {
    assert.deepEqual(afterAttempt(claimed(1), { kind: 'throttled' }, policy, T0), {
      kind: 'retry',
      at: T0 + 1000,
      attempts: 0,
      throttles: 1,
      lastResponse: undefined,
    });
    const later = afterAttempt(claimed(1, { throttles: 3 }), { kind: 'throttled' }, policy, T0);
    assert.equal(later.kind === 'retry' && later.at, T0 + 8000);
    const capped = afterAttempt(claimed(1, { throttles: 20 }), { kind: 'throttled' }, policy, T0);
    assert.equal(capped.kind === 'retry' && capped.at, T0 + 5 * MIN);
  });

  it('afterAttempt: a throttled event that would outlive its maximum age is dropped as EventAgeExceeded', () => {
    const now = T0 + 6 * 60 * MIN - 500;
    assert.deepEqual(afterAttempt(claimed(1), { kind: 'throttled' }, policy, now), {
      kind: 'finish',
      status: 'dropped',
      condition: 'EventAgeExceeded',
      attempts: 0,
      lastResponse: undefined,
    });
  });

  it('afterAttempt: an attempt interrupted by a stop counts, and is retried as a function error', () => {
    const next = afterAttempt(claimed(1), { kind: 'interrupted' }, policy, T0 + 100);
    assert.deepEqual(next, { kind: 'retry', at: T0 + 100 + MIN, attempts: 1, throttles: 0, lastResponse: undefined });
  });

  it('afterAttempt: an event whose function is gone is dropped without a destination', () => {
    const next = afterAttempt(claimed(1), { kind: 'gone' }, policy, T0);
    assert.deepEqual(next, { kind: 'finish', status: 'dropped', condition: undefined, attempts: 1, lastResponse: undefined });
  });
});

describe('isExpired', () => {
  it('isExpired: an event is too old once it reaches its maximum age', () => {
    assert.equal(isExpired(claimed(1), policy, T0 + 6 * 60 * MIN - 1), false);
    assert.equal(isExpired(claimed(1), policy, T0 + 6 * 60 * MIN), true);
  });
});

describe('destinationRecord', () => {
  it('destinationRecord: has the shape Lambda sends, with the response when an attempt ran', () => {
    const record = destinationRecord(
      claimed(3),
      'arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST',
      'RetriesExhausted',
      3,
      failed,
      T0,
    );
    assert.deepEqual(record, {
      version: '1.0',
      timestamp: '2024-01-01T12:00:00.000Z',
      requestContext: {
        requestId: 'req-1',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST',
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { a: 1 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'x' },
    });
    const unrun = destinationRecord(claimed(0), 'arn', 'EventAgeExceeded', 0, undefined, T0);
    assert.equal('responseContext' in unrun, false);
  });
});
