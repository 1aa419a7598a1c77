import { jsonRpc } from './aws';

const T = 'GraniteServiceVersion20100801';
const call = <R>(op: string, input: object) => jsonRpc<R>(T, op, input, '1.0');

export interface Dimension {
  Name: string;
  Value: string;
}

export interface MetricQuery {
  id: string;
  label: string;
  namespace: string;
  metric: string;
  dimensions: Dimension[];
  stat: string;
  period: number;
}

export interface MetricSeries {
  id: string;
  label: string;
  /** Epoch seconds, ascending. */
  times: number[];
  values: number[];
}

/** GetMetricData for MetricStat queries between two platform times (ms). */
export async function getMetricData(queries: MetricQuery[], startMs: number, endMs: number): Promise<MetricSeries[]> {
  if (queries.length === 0) return [];
  const out = await call<{ MetricDataResults?: { Id: string; Label?: string; Timestamps?: number[]; Values?: number[] }[] }>(
    'GetMetricData',
    {
      StartTime: Math.floor(startMs / 1000),
      EndTime: Math.ceil(endMs / 1000),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: queries.map((q) => ({
        Id: q.id,
        Label: q.label,
        MetricStat: { Metric: { Namespace: q.namespace, MetricName: q.metric, Dimensions: q.dimensions }, Period: q.period, Stat: q.stat },
      })),
    },
  );
  return (out.MetricDataResults ?? []).map((r) => ({
    id: r.Id,
    label: r.Label ?? r.Id,
    times: r.Timestamps ?? [],
    values: r.Values ?? [],
  }));
}

export interface MetricName {
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
}

export const listMetrics = async (namespace: string, metricName: string, dimensions: { Name: string; Value?: string }[]) =>
  (await call<{ Metrics?: MetricName[] }>('ListMetrics', { Namespace: namespace, MetricName: metricName, Dimensions: dimensions }))
    .Metrics ?? [];

export interface Alarm {
  AlarmName: string;
  AlarmDescription?: string;
  StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  StateReason: string;
  StateUpdatedTimestamp: number;
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period: number;
  EvaluationPeriods: number;
  Threshold: number;
  ComparisonOperator: string;
}

export async function describeAlarms(input: { names?: string[]; state?: string } = {}): Promise<Alarm[]> {
  const all: Alarm[] = [];
  let token: string | undefined;
  do {
    const page = await call<{ MetricAlarms?: Alarm[]; NextToken?: string }>('DescribeAlarms', {
      ...(input.names && { AlarmNames: input.names }),
      ...(input.state && { StateValue: input.state }),
      MaxRecords: 100,
      ...(token && { NextToken: token }),
    });
    all.push(...(page.MetricAlarms ?? []));
    token = page.NextToken;
  } while (token);
  return all;
}

export interface AlarmHistoryItem {
  AlarmName: string;
  Timestamp: number;
  HistoryItemType: string;
  HistorySummary: string;
}

export const describeAlarmHistory = async (name: string) =>
  (await call<{ AlarmHistoryItems?: AlarmHistoryItem[] }>('DescribeAlarmHistory', { AlarmName: name, MaxRecords: 50 })).AlarmHistoryItems ??
  [];

/** The comparison an alarm makes, in symbols. */
export const COMPARISON: Record<string, string> = {
  GreaterThanOrEqualToThreshold: '≥',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
};
