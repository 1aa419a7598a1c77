import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, evaluationRange, type EvaluationConfig } from './alarm-evaluation.js';
import type { AlarmState, TreatMissingData } from '../domain/alarm.js';

const X = 5; // breaching (> 1)
const O = 0; // not breaching
const _ = undefined; // missing

const config = (tmd: TreatMissingData, n = 3, m?: number): EvaluationConfig => ({
  EvaluationPeriods: n,
  ...(m !== undefined && { DatapointsToAlarm: m }),
  Threshold: 1,
  ComparisonOperator: 'GreaterThanThreshold',
  TreatMissingData: tmd,
});

describe('evaluate: alarm state tables at a fixed time', () => {
  const cases: [string, EvaluationConfig, (number | undefined)[], AlarmState, AlarmState][] = [
    // name, config, values (oldest first), current state, expected
    ['3 of 3 breaching → ALARM', config('missing'), [_, _, X, X, X], 'OK', 'ALARM'],
    ['2 of 3 breaching, M=3 → OK', config('missing'), [_, _, X, O, X], 'ALARM', 'OK'],
    ['M-of-N: 2 of 3 with M=2 → ALARM (not consecutive)', config('missing', 3, 2), [_, _, X, O, X], 'OK', 'ALARM'],
    ['enough real points ignore TreatMissingData', config('breaching'), [O, O, O, O, O], 'ALARM', 'OK'],
    ['newest N real points decide even with gaps', config('notBreaching'), [X, _, X, X, _], 'OK', 'ALARM'],
    ['all missing, missing → INSUFFICIENT_DATA', config('missing'), [_, _, _, _, _], 'OK', 'INSUFFICIENT_DATA'],
    ['all missing, ignore → unchanged', config('ignore'), [_, _, _, _, _], 'ALARM', 'ALARM'],
    ['all missing, breaching → ALARM', config('breaching'), [_, _, _, _, _], 'OK', 'ALARM'],
    ['all missing, notBreaching → OK', config('notBreaching'), [_, _, _, _, _], 'ALARM', 'OK'],
    // The reference's premature-alarm examples, N = M = 3.
    ['- - X - -, missing → ALARM (premature)', config('missing'), [_, _, X, _, _], 'OK', 'ALARM'],
    ['- - X - -, breaching → ALARM', config('breaching'), [_, _, X, _, _], 'OK', 'ALARM'],
    ['- - X - -, notBreaching → OK', config('notBreaching'), [_, _, X, _, _], 'ALARM', 'OK'],
    ['- - X - -, ignore → unchanged (OK)', config('ignore'), [_, _, X, _, _], 'OK', 'OK'],
    ['- - X - -, ignore → unchanged (INSUFFICIENT_DATA)', config('ignore'), [_, _, X, _, _], 'INSUFFICIENT_DATA', 'INSUFFICIENT_DATA'],
    ['- - - - X, missing → not yet', config('missing'), [_, _, _, _, X], 'OK', 'OK'],
    ['- - - - X, breaching → ALARM (gaps breach)', config('breaching'), [_, _, _, _, X], 'OK', 'ALARM'],
    ['a recent clear point stops the premature alarm', config('missing'), [_, _, X, _, O], 'ALARM', 'OK'],
    ['ignore: enough clear points give OK', config('ignore'), [_, _, _, O, _], 'ALARM', 'OK'],
  ];
  for (const [name, cfg, values, current, expected] of cases) {
    it(`evaluate: ${name}`, () => {
      assert.equal(evaluate(cfg, values, current).state, expected);
    });
  }

  it('evaluate: every comparison operator', () => {
    const op = (ComparisonOperator: EvaluationConfig['ComparisonOperator'], v: number) =>
      evaluate({ EvaluationPeriods: 1, Threshold: 1, ComparisonOperator, TreatMissingData: 'missing' }, [v], 'OK').state;
    assert.equal(op('GreaterThanThreshold', 1), 'OK');
    assert.equal(op('GreaterThanOrEqualToThreshold', 1), 'ALARM');
    assert.equal(op('LessThanThreshold', 1), 'OK');
    assert.equal(op('LessThanOrEqualToThreshold', 1), 'ALARM');
    assert.equal(op('LessThanThreshold', 0.5), 'ALARM');
  });

  it('evaluate: the reason names the datapoints and the threshold', () => {
    const e = evaluate(config('missing', 1), [3], 'OK');
    assert.match(e.reason, /1 out of the last 1 datapoints \[3\] was greater than the threshold \(1\)/);
  });

  it('evaluationRange: a little wider than N', () => {
    assert.equal(evaluationRange(1), 3);
    assert.equal(evaluationRange(3), 5);
    assert.equal(evaluationRange(9), 12);
  });
});

describe('evaluate: the reason of an alarm over thousands of periods', () => {
  it('lists as many of the newest datapoints as CloudWatch’s 1,023 characters hold, and says the rest were left out', () => {
    const n = 2_000;
    const values = Array.from({ length: n }, (_v, i) => 1e6 + i);
    const result = evaluate(config('missing', n), values, 'OK');
    assert.equal(result.state, 'ALARM');
    assert.ok(result.reason.length <= 1023, `${result.reason.length} characters`);
    assert.match(
      result.reason,
      /^Threshold Crossed: 2000 out of the last 2000 datapoints \[1001999, 1001998, .*, \.\.\.\] was greater than/,
    );
    const short = evaluate(config('missing', 3), [X, X, X], 'OK');
    assert.match(short.reason, /datapoints \[5, 5, 5\] was/, 'a few datapoints are all listed');
  });
});
