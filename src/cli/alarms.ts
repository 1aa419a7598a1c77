import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { cloudWatchClient, describeError, endpointUrl } from './client.js';
import { parseFlags } from './flags.js';

const OPERATORS: Record<string, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '>=',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

/** `versa alarms`: every metric alarm with its state, what it watches, and why it is in that state. */
export async function alarmsCommand(args: string[]): Promise<number> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: { 'endpoint-url': { type: 'string' }, state: { type: 'string' } },
  });
  const state = values.state?.toUpperCase();
  if (state !== undefined && !['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(state)) {
    process.stderr.write(`versa alarms: --state must be OK, ALARM or INSUFFICIENT_DATA; got ${values.state}.\n`);
    return 2;
  }
  const endpoint = endpointUrl(values['endpoint-url']);
  const client = cloudWatchClient(endpoint);
  try {
    const alarms: MetricAlarm[] = [];
    let token: string | undefined;
    do {
      const out = await client.send(new DescribeAlarmsCommand({ NextToken: token, ...(state && { StateValue: state as 'OK' }) }));
      alarms.push(...(out.MetricAlarms ?? []));
      token = out.NextToken;
    } while (token);
    if (alarms.length === 0) {
      process.stdout.write(state ? `No alarms in state ${state}.\n` : 'No alarms yet.\n');
      return 0;
    }
    const width = Math.max(...alarms.map((a) => (a.AlarmName ?? '').length), 5);
    for (const a of alarms) {
      const dims = (a.Dimensions ?? []).map((d) => `${d.Name ?? ''}=${d.Value ?? ''}`).join(',');
      const stat = a.Statistic ?? a.ExtendedStatistic ?? '';
      const op = OPERATORS[a.ComparisonOperator ?? ''] ?? a.ComparisonOperator;
      process.stdout.write(
        `${(a.AlarmName ?? '').padEnd(width)}  ${(a.StateValue ?? '').padEnd(17)}  ${stat}(${a.Namespace ?? ''} ${a.MetricName ?? ''}${dims ? ` {${dims}}` : ''}) ${op} ${a.Threshold ?? ''} over ${a.EvaluationPeriods ?? ''}×${a.Period ?? ''}s\n` +
          `${''.padEnd(width)}  ${a.StateReason ?? ''}\n`,
      );
    }
    return 0;
  } catch (err) {
    process.stderr.write(`versa alarms: ${describeError(err, endpoint)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}
