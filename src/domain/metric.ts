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

/**
 * Orders two series ids as their UTF-8 bytes compare (as SQLite's BINARY and PostgreSQL's BYTEA do):
 * by code point, where JavaScript's `<` puts a surrogate pair (above U+FFFF) below U+E000–U+FFFF.
 */
export function compareSeriesIds(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 code unit's place in code point order: surrogates (0xD800–0xDFFF) stand for code points above every other. */
function codePointRank(unit: number): number {
  return unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;
}

/**
 * The least id above every id that starts with `prefix` (in compareSeriesIds' order): the prefix with its
 * last code point raised by one. Undefined for the empty prefix, which every id starts with.
 */
export function seriesPrefixEnd(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const last = prefix.codePointAt(prefix.length - 1)!;
  // A trailing low surrogate is half of a pair: take the whole code point.
  const cp = last >= 0xdc00 && last <= 0xdfff && prefix.length >= 2 ? prefix.codePointAt(prefix.length - 2)! : last;
  const width = cp > 0xffff ? 2 : 1;
  if (cp === 0x10ffff) return seriesPrefixEnd(prefix.slice(0, -width));
  const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
  return prefix.slice(0, -width) + String.fromCodePoint(next);
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
