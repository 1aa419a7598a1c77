import type { MetricSeries, Metrics } from './metrics.js';

/** What one Invoke did, as Lambda's metrics see it. */
export interface InvocationRecord {
  functionName: string;
  /** The qualifier as invoked (alias, version, `$LATEST`) or undefined for the bare name. */
  qualifier: string | undefined;
  /** True when `qualifier` names an alias. */
  viaAlias: boolean;
  executedVersion: string;
  outcome: { kind: 'ok' | 'error'; durationMs: number } | { kind: 'throttled' };
  /** Invocations running at the start of this one, itself included. */
  concurrent: number;
}

export type AsyncMetric = 'received' | 'dropped' | 'age';

interface Handles {
  invocations: MetricSeries[];
  errors: MetricSeries[];
  throttles: MetricSeries[];
  duration: MetricSeries[];
  concurrent: MetricSeries[];
}

/** Cumulative counters for Prometheus, per function, resource and executed version. */
export interface LambdaCounters {
  functionName: string;
  resource: string;
  executedVersion: string;
  invocations: number;
  errors: number;
  throttles: number;
  durationSumMs: number;
}

/**
 * Publishes `AWS/Lambda` metrics for every invocation under each dimension set CloudWatch matches on:
 * none, {FunctionName}, {FunctionName, Resource}, and for alias invokes {FunctionName, Resource,
 * ExecutedVersion}. Series handles are cached per (function, resource, version), so the hot path
 * builds no keys.
 */
export class LambdaMetrics {
  private readonly handles = new Map<string, Handles>();
  private readonly asyncHandles = new Map<string, Record<AsyncMetric, MetricSeries[]>>();
  private readonly counters = new Map<string, LambdaCounters>();

  constructor(
    private readonly metrics: Metrics,
    private readonly enabled = true,
  ) {}

  record(r: InvocationRecord): void {
    if (!this.enabled) return;
    const resource = r.qualifier === undefined ? r.functionName : `${r.functionName}:${r.qualifier}`;
    const key = `${resource}\u0000${r.viaAlias ? r.executedVersion : ''}`;
    let h = this.handles.get(key);
    if (!h) this.handles.set(key, (h = this.handlesFor(r.functionName, resource, r.viaAlias ? r.executedVersion : undefined)));
    let c = this.counters.get(key);
    if (!c) {
      c = {
        functionName: r.functionName,
        resource,
        executedVersion: r.executedVersion,
        invocations: 0,
        errors: 0,
        throttles: 0,
        durationSumMs: 0,
      };
      this.counters.set(key, c);
    }
    const now = this.metrics.now();
    const each = (list: MetricSeries[], value: number) => {
      for (const s of list) s.record(value, now);
    };
    if (r.outcome.kind === 'throttled') {
      each(h.throttles, 1);
      c.throttles++;
      return;
    }
    const failed = r.outcome.kind === 'error' ? 1 : 0;
    each(h.invocations, 1);
    each(h.errors, failed);
    each(h.duration, r.outcome.durationMs);
    each(h.concurrent, r.concurrent);
    c.invocations++;
    c.errors += failed;
    c.durationSumMs += r.outcome.durationMs;
  }

  /**
   * Records an asynchronous invocation metric as Lambda publishes it, under {FunctionName} and, for a
   * qualified invoke, {FunctionName, Resource}: AsyncEventsReceived and AsyncEventsDropped (counts) and
   * AsyncEventAge (milliseconds from receipt to the start of an attempt).
   */
  recordAsync(functionName: string, qualifier: string | undefined, metric: AsyncMetric, value: number): void {
    if (!this.enabled) return;
    const key = qualifier === undefined ? functionName : `${functionName}:${qualifier}`;
    let h = this.asyncHandles.get(key);
    if (!h) {
      const sets: Record<string, string>[] = [{ FunctionName: functionName }];
      if (qualifier !== undefined) sets.push({ FunctionName: functionName, Resource: key });
      const series = (name: string, unit: string) => sets.map((dims) => this.metrics.series('AWS/Lambda', name, dims, { unit }));
      h = {
        received: series('AsyncEventsReceived', 'Count'),
        dropped: series('AsyncEventsDropped', 'Count'),
        age: series('AsyncEventAge', 'Milliseconds'),
      };
      this.asyncHandles.set(key, h);
    }
    const now = this.metrics.now();
    for (const s of h[metric]) s.record(value, now);
  }

  /** A snapshot of the cumulative counters. */
  counterSnapshot(): LambdaCounters[] {
    return [...this.counters.values()].map((c) => ({ ...c }));
  }

  private handlesFor(functionName: string, resource: string, executedVersion: string | undefined): Handles {
    const sets: Record<string, string>[] = [{}, { FunctionName: functionName }, { FunctionName: functionName, Resource: resource }];
    if (executedVersion !== undefined) sets.push({ FunctionName: functionName, Resource: resource, ExecutedVersion: executedVersion });
    const series = (name: string, unit: string) => sets.map((dims) => this.metrics.series('AWS/Lambda', name, dims, { unit }));
    return {
      invocations: series('Invocations', 'Count'),
      errors: series('Errors', 'Count'),
      throttles: series('Throttles', 'Count'),
      duration: series('Duration', 'Milliseconds'),
      concurrent: series('ConcurrentExecutions', 'Count'),
    };
  }
}
