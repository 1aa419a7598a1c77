import { InvokeCommand } from '@aws-sdk/client-lambda';
import { describeError, endpointUrl, lambdaClient } from './client.js';
import { printable } from './printable.js';
import { parseFlags } from './flags.js';

/**
 * `versa invoke fn[:qualifier]`: prints the answer; with --count N, invokes N times and prints how many
 * invocations each executed version served — the quick check of a weighted alias.
 */
export async function invokeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { payload: { type: 'string' }, count: { type: 'string' }, 'endpoint-url': { type: 'string' } },
  });
  const target = positionals[0];
  if (!target || positionals.length > 1) {
    process.stderr.write('versa invoke: name one function, e.g. `versa invoke my-function:prod --payload \'{"x":1}\'`.\n');
    return 2;
  }
  const payload = values.payload ?? '{}';
  try {
    JSON.parse(payload);
  } catch {
    process.stderr.write(`versa invoke: --payload must be JSON; got ${payload}.\n`);
    return 2;
  }
  const count = values.count === undefined ? 1 : Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    process.stderr.write(`versa invoke: --count must be a whole number from 1 to 100000; got ${values.count}.\n`);
    return 2;
  }
  const colon = target.indexOf(':');
  const isArn = target.startsWith('arn:');
  const functionName = isArn || colon < 0 ? target : target.slice(0, colon);
  const qualifier = isArn || colon < 0 ? undefined : target.slice(colon + 1);
  const endpoint = endpointUrl(values['endpoint-url']);
  const client = lambdaClient(endpoint);
  const once = async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: Buffer.from(payload) }));
    return {
      version: out.ExecutedVersion ?? '?',
      error: out.FunctionError,
      body: Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'),
    };
  };
  try {
    if (count === 1) {
      const r = await once();
      process.stdout.write(`${printable(r.body)}\n`);
      process.stderr.write(`(executed version ${r.version}${r.error ? `, function error: ${r.error}` : ''})\n`);
      return r.error ? 1 : 0;
    }
    const served = new Map<string, number>();
    let errors = 0;
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        const r = await once();
        served.set(r.version, (served.get(r.version) ?? 0) + 1);
        if (r.error) errors++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, count) }, worker));
    process.stdout.write(`${count} invocations of ${target}:\n`);
    for (const [version, n] of [...served].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))) {
      process.stdout.write(`  version ${version.padEnd(8)} ${String(n).padStart(6)}  (${((100 * n) / count).toFixed(1)}%)\n`);
    }
    if (errors) process.stdout.write(`  function errors: ${errors}\n`);
    return errors ? 1 : 0;
  } catch (err) {
    process.stderr.write(`versa invoke: ${describeError(err, endpoint)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}
