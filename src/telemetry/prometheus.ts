import type { ApiCounters } from './gateway-metrics.js';
import type { LambdaCounters } from './lambda-metrics.js';

/** Renders the platform's cumulative counters in the Prometheus text exposition format (0.0.4). */
export function renderPrometheus(input: {
  lambda: LambdaCounters[];
  api: ApiCounters[];
  environments: { total: number; busy: number; idle: number };
}): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string, rows: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) out.push(`${name}${labelText(labels)} ${value}`);
  };
  const fn = (c: LambdaCounters) => ({ function_name: c.functionName, resource: c.resource, executed_version: c.executedVersion });
  family(
    'versa_lambda_invocations_total',
    'counter',
    'Invocations that ran, function errors included.',
    input.lambda.map((c) => [fn(c), c.invocations]),
  );
  family(
    'versa_lambda_errors_total',
    'counter',
    'Invocations that ended in a function error or timeout.',
    input.lambda.map((c) => [fn(c), c.errors]),
  );
  family(
    'versa_lambda_throttles_total',
    'counter',
    'Invocations refused for lack of an execution environment.',
    input.lambda.map((c) => [fn(c), c.throttles]),
  );
  family(
    'versa_lambda_duration_milliseconds_sum',
    'counter',
    'Total run time of invocations.',
    input.lambda.map((c) => [fn(c), round(c.durationSumMs)]),
  );
  const api = (c: ApiCounters) => ({ api_name: c.apiName, stage: c.stage });
  family(
    'versa_apigateway_requests_total',
    'counter',
    'Requests served by a stage.',
    input.api.map((c) => [api(c), c.count]),
  );
  family(
    'versa_apigateway_4xx_total',
    'counter',
    'Stage answers with a 4xx status.',
    input.api.map((c) => [api(c), c.clientErrors]),
  );
  family(
    'versa_apigateway_5xx_total',
    'counter',
    'Stage answers with a 5xx status.',
    input.api.map((c) => [api(c), c.serverErrors]),
  );
  family(
    'versa_apigateway_latency_milliseconds_sum',
    'counter',
    'Total latency of stage requests.',
    input.api.map((c) => [api(c), round(c.latencySumMs)]),
  );
  family('versa_environments', 'gauge', 'Execution environments alive, by state.', [
    [{ state: 'busy' }, input.environments.busy],
    [{ state: 'idle' }, input.environments.idle],
  ]);
  return out.join('\n') + '\n';
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
