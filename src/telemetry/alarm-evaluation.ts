import type { AlarmDoc, AlarmState, ComparisonOperator } from '../domain/alarm.js';
import type { Summary } from './summary.js';

export type EvaluationConfig = Pick<
  AlarmDoc,
  'EvaluationPeriods' | 'DatapointsToAlarm' | 'Threshold' | 'ComparisonOperator' | 'TreatMissingData'
>;

export interface Evaluation {
  state: AlarmState;
  /** A sentence for StateReason, in CloudWatch's words. */
  reason: string;
  /** The datapoints that decided it, newest first. */
  recent: number[];
}

/**
 * How many buckets CloudWatch fetches to evaluate N periods: a little more than N, so that a few
 * missing points do not leave the alarm blind (LocalStack's N + max(⌊N/3⌋, 2)).
 */
export function evaluationRange(evaluationPeriods: number): number {
  return evaluationPeriods + Math.max(Math.floor(evaluationPeriods / 3), 2);
}

export function breaches(value: number, op: ComparisonOperator, threshold: number): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/**
 * Decides an alarm's state from the values of its evaluation range (oldest first; `undefined` for a
 * bucket with no data), following CloudWatch's rules:
 * - with at least N real points, the newest N decide, whatever TreatMissingData says;
 * - with none, `missing` → INSUFFICIENT_DATA, `ignore` → unchanged, `breaching` → ALARM, `notBreaching` → OK;
 * - with some, `breaching`/`notBreaching` fill the gaps of the newest N; `missing` and `ignore` decide on
 *   the real points, and `missing` also alarms early when the oldest breaching point is at least M
 *   buckets old and nothing newer is a non-breaching point.
 * ALARM needs M = DatapointsToAlarm breaching points (not necessarily consecutive).
 */
export function evaluate(config: EvaluationConfig, values: (number | undefined)[], current: AlarmState): Evaluation {
  const n = config.EvaluationPeriods;
  const m = config.DatapointsToAlarm ?? n;
  const isBreach = (v: number) => breaches(v, config.ComparisonOperator, config.Threshold);
  const real = values.filter((v): v is number => v !== undefined);
  const recent = [...real].reverse();
  const outcome = (state: AlarmState, count: number, of: number): Evaluation => ({
    state,
    recent,
    reason: reasonFor(state, count, of, recent, config),
  });

  if (real.length >= n) {
    const newest = real.slice(-n);
    const count = newest.filter(isBreach).length;
    return outcome(count >= m ? 'ALARM' : 'OK', count, n);
  }
  // Not given means `missing`, CloudWatch's default.
  const tmd = config.TreatMissingData ?? 'missing';
  if (real.length === 0) {
    const state: AlarmState =
      tmd === 'breaching' ? 'ALARM' : tmd === 'notBreaching' ? 'OK' : tmd === 'ignore' ? current : 'INSUFFICIENT_DATA';
    return {
      state,
      recent,
      reason: state === current && tmd === 'ignore' ? 'Unchanged: no datapoints, and missing data is ignored' : reasonNoData(state, tmd),
    };
  }
  const window = values.slice(-n);
  if (tmd === 'breaching' || tmd === 'notBreaching') {
    const count = window.filter((v) => (v === undefined ? tmd === 'breaching' : isBreach(v))).length;
    return outcome(count >= m ? 'ALARM' : 'OK', count, n);
  }
  const count = real.filter(isBreach).length;
  if (count >= m) return outcome('ALARM', count, real.length);
  if (tmd === 'missing') {
    // Premature alarm: the oldest breaching point is M or more buckets old, and every newer point breaches or is missing.
    const oldest = values.findIndex((v) => v !== undefined && isBreach(v));
    if (oldest >= 0 && values.length - oldest >= m && values.slice(oldest + 1).every((v) => v === undefined || isBreach(v))) {
      return outcome('ALARM', count, real.length);
    }
    return window.some((v) => v !== undefined && !isBreach(v))
      ? outcome('OK', count, real.length)
      : { state: current, recent, reason: 'Unchanged: too few datapoints to decide' };
  }
  // ignore: OK only once the real points rule ALARM out.
  const clear = window.filter((v) => v !== undefined && !isBreach(v)).length;
  return clear > n - m
    ? outcome('OK', count, real.length)
    : { state: current, recent, reason: 'Unchanged: too few datapoints to decide, and missing data is ignored' };
}

/** The value a bucket shows for a statistic (`Sum`, `Average`, …, or `pNN`). */
export function statisticOf(summary: Summary, statistic: string): number {
  switch (statistic) {
    case 'Sum':
      return summary.sum;
    case 'Average':
      return summary.sum / summary.count;
    case 'Minimum':
      return summary.min;
    case 'Maximum':
      return summary.max;
    case 'SampleCount':
      return summary.count;
    default:
      return summary.percentile(Number(statistic.slice(1)));
  }
}

/** The most a StateReason may be (CloudWatch's model). */
export const MAX_STATE_REASON = 1023;

function reasonFor(state: AlarmState, count: number, of: number, recent: number[], config: EvaluationConfig): string {
  const verb = state === 'ALARM' ? 'was' : 'was not';
  const sentence = (shown: string) =>
    `Threshold Crossed: ${count} out of the last ${of} datapoints [${shown}] ${verb} ${describeOperator(config.ComparisonOperator)} the threshold (${config.Threshold}) (minimum ${config.DatapointsToAlarm ?? config.EvaluationPeriods} datapoints for ${state === 'ALARM' ? 'OK -> ALARM' : 'ALARM -> OK'} transition).`;
  // As many of the newest datapoints as the reason has room for: an alarm over thousands of periods
  // lists the first of them and says the rest were left out.
  const room = MAX_STATE_REASON - sentence('').length;
  let shown = '';
  for (const v of recent.slice(0, of)) {
    const next = `${shown && `${shown}, `}${Math.round(v * 1000) / 1000}`;
    if (next.length > room - 5) {
      shown += ', ...';
      break;
    }
    shown = next;
  }
  return sentence(shown);
}

function reasonNoData(state: AlarmState, tmd: string): string {
  if (state === 'INSUFFICIENT_DATA') return 'Insufficient Data: no datapoints were received for the evaluation range.';
  return `No datapoints were received for the evaluation range; missing data is treated as ${tmd}.`;
}

function describeOperator(op: ComparisonOperator): string {
  return {
    GreaterThanOrEqualToThreshold: 'greater than or equal to',
    GreaterThanThreshold: 'greater than',
    LessThanThreshold: 'less than',
    LessThanOrEqualToThreshold: 'less than or equal to',
  }[op];
}
