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
  /** JSON; for a StateUpdate, `{ oldState: { stateValue }, newState: { stateValue } }`. */
  HistoryData?: string;
}

/** The metric an alarm watched as of `at` (ms): from the latest ConfigurationUpdate then, else as it is now. */
export function watchedAt(alarm: Alarm, history: AlarmHistoryItem[], at: number): Pick<Alarm, 'Namespace' | 'MetricName' | 'Dimensions'> {
  const configs = history
    .filter((h) => h.HistoryItemType === 'ConfigurationUpdate' && h.Timestamp * 1000 <= at && h.HistoryData)
    .sort((a, b) => b.Timestamp - a.Timestamp);
  for (const h of configs) {
    try {
      const then = (JSON.parse(h.HistoryData!) as { updatedAlarm?: Partial<Alarm> }).updatedAlarm;
      if (then?.Namespace && then.MetricName && Array.isArray(then.Dimensions))
        return { Namespace: then.Namespace, MetricName: then.MetricName, Dimensions: then.Dimensions };
    } catch {
      // Not the shape Versa writes: look further back, or use the alarm as it is.
    }
  }
  return alarm;
}

/** The states a StateUpdate history item went from and to, if it says. */
export function stateChange(item: AlarmHistoryItem): { from: string; to: string } | undefined {
  if (item.HistoryItemType !== 'StateUpdate' || !item.HistoryData) return undefined;
  try {
    const data = JSON.parse(item.HistoryData) as { oldState?: { stateValue?: unknown }; newState?: { stateValue?: unknown } };
    const from = data.oldState?.stateValue;
    const to = data.newState?.stateValue;
    return typeof from === 'string' && typeof to === 'string' ? { from, to } : undefined;
  } catch {
    return undefined;
  }
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
