/**
 * The load generator: runs autocannon in its own process on request, and reports throughput and the
 * latency percentiles computed from every response's own timing (autocannon's histogram has a 1 ms
 * floor, too coarse for a server answering in well under a millisecond).
 */
import autocannon from 'autocannon';
import { serve, type LoadOptions, type LoadResult } from './protocol.js';
import { latencyStats } from './stats.js';

/** A run's figures, and the latency of each 2xx answer (ms, ascending) so runs can be merged. */
function run(opts: LoadOptions): Promise<{ result: LoadResult; latencies: Float64Array }> {
  return new Promise((resolve, reject) => {
    let times = new Float64Array(1 << 16);
    let n = 0;
    const cpuBefore = process.cpuUsage();
    const instance = autocannon(
      {
        // autocannon takes an array of URLs (its types say string) and spreads the connections over them.
        url: opts.url as string,
        method: opts.method,
        headers: opts.headers,
        body: opts.body,
        connections: opts.connections,
        duration: opts.duration,
        timeout: 10,
      },
      (err, result) => {
        if (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const cpu = process.cpuUsage(cpuBefore);
        const sorted = times.slice(0, n).sort();
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
        const figures: LoadResult = {
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds: result.duration,
          rps: result['2xx'] / result.duration,
          latencyMs: latencyStats(sorted),
          autocannon: { requestsPerSecondMean: result.requests.mean, latencyP50: result.latency.p50, latencyP99: result.latency.p99 },
          statusCodes,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
        };
        resolve({ result: figures, latencies: sorted });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      if (n === times.length) {
        const bigger = new Float64Array(times.length * 2);
        bigger.set(times);
        times = bigger;
      }
      times[n++] = responseTime;
    });
  });
}

serve(async (req) => {
  if (req.type !== 'run') throw new Error(`unknown request ${req.type}`);
  // The channel uses 'advanced' serialisation: the Float64Array crosses as it is.
  return await run(req.options as LoadOptions);
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
