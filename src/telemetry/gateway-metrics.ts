import type { MetricSeries, Metrics } from './metrics.js';

export interface ApiRequestRecord {
  apiName: string;
  stage: string;
  /** Served by the stage's canary: also counted under the stage `{stage}/Canary`, as API Gateway does. */
  canary?: boolean;
  status: number;
  latencyMs: number;
  integrationLatencyMs: number | undefined;
}

interface Handles {
  count: MetricSeries[];
  clientErrors: MetricSeries[];
  serverErrors: MetricSeries[];
  latency: MetricSeries[];
  integrationLatency: MetricSeries[];
}

export interface ApiCounters {
  apiName: string;
  stage: string;
  count: number;
  clientErrors: number;
  serverErrors: number;
  latencySumMs: number;
}

/**
 * Publishes `AWS/ApiGateway` metrics per request under {ApiName} and {ApiName, Stage}; a canary request
 * is counted under {ApiName, Stage: `{stage}/Canary`} as well, so base and canary can be told apart.
 */
export class GatewayMetrics {
  private readonly handles = new Map<string, Handles>();
  private readonly counters = new Map<string, ApiCounters>();

  constructor(
    private readonly metrics: Metrics,
    private readonly enabled = true,
  ) {}

  record(r: ApiRequestRecord): void {
    if (!this.enabled) return;
    const key = `${r.apiName}\u0000${r.stage}`;
    const handleKey = r.canary ? `${key}\u0000canary` : key;
    let h = this.handles.get(handleKey);
    if (!h) this.handles.set(handleKey, (h = this.handlesFor(r.apiName, r.stage, r.canary === true)));
    let c = this.counters.get(key);
    if (!c)
      this.counters.set(key, (c = { apiName: r.apiName, stage: r.stage, count: 0, clientErrors: 0, serverErrors: 0, latencySumMs: 0 }));
    const now = this.metrics.now();
    const client = r.status >= 400 && r.status < 500 ? 1 : 0;
    const server = r.status >= 500 ? 1 : 0;
    for (const s of h.count) s.record(1, now);
    for (const s of h.clientErrors) s.record(client, now);
    for (const s of h.serverErrors) s.record(server, now);
    for (const s of h.latency) s.record(r.latencyMs, now);
    if (r.integrationLatencyMs !== undefined) for (const s of h.integrationLatency) s.record(r.integrationLatencyMs, now);
    c.count++;
    c.clientErrors += client;
    c.serverErrors += server;
    c.latencySumMs += r.latencyMs;
  }

  counterSnapshot(): ApiCounters[] {
    return [...this.counters.values()].map((c) => ({ ...c }));
  }

  private handlesFor(apiName: string, stage: string, canary: boolean): Handles {
    const sets: Record<string, string>[] = [{ ApiName: apiName }, { ApiName: apiName, Stage: stage }];
    if (canary) sets.push({ ApiName: apiName, Stage: `${stage}/Canary` });
    const series = (name: string, unit: string) => sets.map((dims) => this.metrics.series('AWS/ApiGateway', name, dims, { unit }));
    return {
      count: series('Count', 'Count'),
      clientErrors: series('4XXError', 'Count'),
      serverErrors: series('5XXError', 'Count'),
      latency: series('Latency', 'Milliseconds'),
      integrationLatency: series('IntegrationLatency', 'Milliseconds'),
    };
  }
}
