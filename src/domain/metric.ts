export interface Dimension {
  Name: string;
  Value: string;
}

/** A metric is its namespace, name and exact dimension set (sorted by name). */
export interface MetricId {
  namespace: string;
  name: string;
  dimensions: Dimension[];
}

/** One bucket of one series, as stored. */
export interface MetricPoint {
  seriesId: string;
  /** The node whose invocations this summary counts; a bucket's value is the merge of every node's. */
  node: string;
  namespace: string;
  name: string;
  /** Bucket width in seconds: 60 (standard) or 1 (high resolution). */
  resolution: number;
  /** Bucket start, epoch ms of platform time. */
  timestamp: number;
  summary: SummaryJson;
}

export interface MetricSeriesDoc extends MetricId {
  seriesId: string;
  unit: string | undefined;
  resolution: number;
  lastSeen: number;
}

/** The canonical id of a series: namespace, name and the sorted dimensions. */
export function seriesIdOf(namespace: string, name: string, dimensions: readonly Dimension[]): string {
  return [namespace, name, ...dimensions.map((d) => `${d.Name}=${d.Value}`)].join('\u0000');
}

export function sortDimensions(dimensions: Record<string, string> | readonly Dimension[]): Dimension[] {
  const list = Array.isArray(dimensions)
    ? (dimensions as readonly Dimension[]).map((d) => ({ Name: d.Name, Value: d.Value }))
    : Object.entries(dimensions as Record<string, string>).map(([Name, Value]) => ({ Name, Value }));
  return list.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/** A statistic summary as stored: count, sum, extremes and the log-bucketed histogram. */
export interface SummaryJson {
  n: number;
  s: number;
  lo: number;
  hi: number;
  /** Positive bins: index → count. */
  p: Record<string, number>;
  /** Negative bins (by the magnitude's index). */
  m: Record<string, number>;
  z: number;
}
