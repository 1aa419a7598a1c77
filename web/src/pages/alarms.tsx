import { COMPARISON, describeAlarmHistory, describeAlarms, getMetricData, type Alarm } from '../api/cloudwatch';
import { platformNow, timeScale, useLive } from '../live';
import { href } from '../router';
import { Chart } from '../ui/chart';
import { Empty, ErrorNote, Section, Status, When } from '../ui/common';

const describe = (a: Alarm) =>
  `${a.ExtendedStatistic ?? a.Statistic ?? ''}(${a.MetricName}) ${COMPARISON[a.ComparisonOperator] ?? a.ComparisonOperator} ${a.Threshold} over ${a.EvaluationPeriods} × ${a.Period}s`;

export function AlarmsPage({ selected }: { selected?: string }) {
  const live = useLive(
    () => describeAlarms(),
    [],
    (c) => c.kind === 'alarm',
    10_000,
  );
  const chosen = live.data?.find((a) => a.AlarmName === selected);
  return (
    <>
      <h1>Alarms</h1>
      <div class="grid">
        <Section title="Metric alarms" id="alarms">
          <ErrorNote error={live.error} />
          {live.data?.length === 0 && <Empty>No alarms. Create one with CloudWatch's PutMetricAlarm.</Empty>}
          {!!live.data?.length && (
            <table>
              <thead>
                <tr>
                  <th scope="col">Alarm</th>
                  <th scope="col">State</th>
                  <th scope="col">Condition</th>
                  <th scope="col">Since</th>
                </tr>
              </thead>
              <tbody>
                {live.data.map((a) => (
                  <tr key={a.AlarmName} class={a.AlarmName === selected ? 'selected' : undefined}>
                    <td>
                      <a href={href.alarms(a.AlarmName)} aria-current={a.AlarmName === selected ? 'true' : undefined}>
                        {a.AlarmName}
                      </a>
                    </td>
                    <td>
                      <Status value={a.StateValue} />
                    </td>
                    <td class="small">{describe(a)}</td>
                    <td>
                      <When ms={a.StateUpdatedTimestamp * 1000} withDate />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        {selected && live.data && !chosen && <ErrorNote error={new Error(`There is no alarm named ${selected}.`)} />}
        {chosen && <AlarmDetail alarm={chosen} />}
      </div>
    </>
  );
}

function AlarmDetail({ alarm }: { alarm: Alarm }) {
  const stat = alarm.ExtendedStatistic ?? alarm.Statistic ?? 'Average';
  const refresh = Math.max(1000, Math.min(10_000, (alarm.Period * 1000) / timeScale()));
  const live = useLive(
    async () => {
      const end = platformNow();
      const start = end - Math.max(alarm.EvaluationPeriods * 6, 20) * alarm.Period * 1000;
      const [series] = await getMetricData(
        [
          {
            id: 'm',
            label: alarm.MetricName,
            namespace: alarm.Namespace,
            metric: alarm.MetricName,
            dimensions: alarm.Dimensions,
            stat,
            period: alarm.Period,
          },
        ],
        start,
        end,
      );
      const history = await describeAlarmHistory(alarm.AlarmName);
      return { series, history, from: start / 1000, to: end / 1000 };
    },
    [alarm.AlarmName, alarm.StateValue],
    (c) => c.kind === 'alarm' && c.name === alarm.AlarmName,
    refresh,
  );
  const d = live.data;
  return (
    <Section title={alarm.AlarmName} id="alarm">
      <p>
        <Status value={alarm.StateValue} /> {alarm.StateReason}
      </p>
      <p class="muted small">
        {alarm.Namespace} · {alarm.Dimensions.map((x) => `${x.Name}=${x.Value}`).join(', ') || 'no dimensions'} · {describe(alarm)}
      </p>
      <ErrorNote error={live.error} />
      {d && (
        <Chart
          title={`${stat} of ${alarm.MetricName} per ${alarm.Period}s, with the threshold`}
          lines={[{ label: `${stat}(${alarm.MetricName})`, times: d.series?.times ?? [], values: d.series?.values ?? [] }]}
          threshold={alarm.Threshold}
          from={d.from}
          to={d.to}
          height={180}
        />
      )}
      <h3>History</h3>
      {d?.history.length === 0 && <Empty>No history yet.</Empty>}
      <ul class="plain history">
        {d?.history.map((h, i) => (
          <li key={i}>
            <When ms={h.Timestamp * 1000} withDate /> <span class="muted">{h.HistoryItemType}</span> {h.HistorySummary}
          </li>
        ))}
      </ul>
    </Section>
  );
}
