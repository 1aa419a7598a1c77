import type { Dimension } from './metric.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type ComparisonOperator =
  'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/** A metric alarm: its configuration (as PutMetricAlarm names it) and its state. Times are epoch ms. */
export interface AlarmDoc {
  AlarmName: string;
  AlarmDescription?: string;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: ComparisonOperator;
  /** Absent when the alarm was put without it: CloudWatch then treats missing data as `missing` and does not report it. */
  TreatMissingData?: TreatMissingData;
  StateValue: AlarmState;
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: number;
  StateTransitionedTimestamp: number;
  AlarmConfigurationUpdatedTimestamp: number;
}

/** Where a history item sits in the order DescribeAlarmHistory pages through: its time, then the order it was written. */
export interface HistoryPlace {
  ts: number;
  seq: number;
}

export interface AlarmHistoryItem {
  AlarmName: string;
  AlarmType: 'MetricAlarm';
  Timestamp: number;
  HistoryItemType: 'ConfigurationUpdate' | 'StateUpdate' | 'Action';
  HistorySummary: string;
  HistoryData: string;
}
