import {
  COMPARISON,
  describeAlarmHistory,
  describeAlarms,
  getMetricData,
  stateChange,
  watchedAt,
  type Alarm,
  type AlarmHistoryItem,
} from '../api/cloudwatch';
import { platformTime, timeScale, useLive, useTimeWindow } from '../live';
import { href } from '../router';
import { Chart } from '../ui/chart';
import { Empty, ErrorNote, Section, Status, When } from '../ui/common';
import { WindowPicker } from '../ui/window-picker';

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
            <table class="cards">
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
                    <td data-label="Alarm" class="alarm-name">
                      <a href={href.alarms(a.AlarmName)} aria-current={a.AlarmName === selected ? 'true' : undefined}>
                        {a.AlarmName}
                      </a>
                    </td>
                    <td data-label="State">
                      <Status value={a.StateValue} />
                    </td>
                    <td data-label="Condition" class="small">
                      {describe(a)}
                    </td>
                    <td data-label="Since">
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

const dimensionsText = (m: Pick<Alarm, 'Dimensions'>) => m.Dimensions.map((x) => `${x.Name}=${x.Value}`).join(', ') || 'no dimensions';

/** The most telling state change to chart around: the latest into ALARM, else the latest of any kind. */
function changeToShow(history: AlarmHistoryItem[]): { at: number; from: string; to: string } | undefined {
  const changes = history
    .flatMap((h) => {
      const c = stateChange(h);
      return c ? [{ at: h.Timestamp * 1000, ...c }] : [];
    })
    .sort((a, b) => b.at - a.at);
  return changes.find((c) => c.to === 'ALARM') ?? changes[0];
}

function AlarmDetail({ alarm }: { alarm: Alarm }) {
  const stat = alarm.ExtendedStatistic ?? alarm.Statistic ?? 'Average';
  const refresh = Math.max(1000, Math.min(10_000, (alarm.Period * 1000) / timeScale()));
  const [range, setRange] = useTimeWindow();
  const live = useLive(
    async () => {
      const now = await platformTime();
      const query = (period: number, m: Pick<Alarm, 'Namespace' | 'MetricName' | 'Dimensions'> = alarm) => [
        { id: 'm', label: m.MetricName, namespace: m.Namespace, metric: m.MetricName, dimensions: m.Dimensions, stat, period },
      ];
      const history = await describeAlarmHistory(alarm.AlarmName);
      // Around the change: enough periods before it to see what the evaluation saw, and a few after.
      const change = changeToShow(history);
      const around = change && {
        change,
        // The alarm's metric as it was then: an update since (a stack rolled back, say) may watch another.
        watched: watchedAt(alarm, history, change.at),
        start: change.at - Math.max(alarm.EvaluationPeriods * 3, 10) * alarm.Period * 1000,
        end: Math.min(now, change.at + 5 * alarm.Period * 1000),
      };
      // Recent: the window chosen, in the alarm's period unless that would be more than ~1,500 points.
      const recentFrom = now - Math.max(range.minutes * 60_000, 20 * alarm.Period * 1000);
      const recentPeriod = alarm.Period * Math.max(1, Math.ceil((now - recentFrom) / 1000 / alarm.Period / 1500));
      const [recent, before] = await Promise.all([
        getMetricData(query(recentPeriod), recentFrom, now).then((r) => r[0]),
        around && around.end > around.start
          ? getMetricData(query(alarm.Period, around.watched), around.start, around.end).then((r) => r[0])
          : undefined,
      ]);
      return { history, recent, recentPeriod, recentFrom, now, around: around && { ...around, series: before } };
    },
    [alarm.AlarmName, alarm.StateValue, range.minutes],
    (c) => c.kind === 'alarm' && c.name === alarm.AlarmName,
    refresh,
  );
  const d = live.data;
  const line = (series: { times: number[]; values: number[] } | undefined) => [
    { label: `${stat}(${alarm.MetricName})`, times: series?.times ?? [], values: series?.values ?? [] },
  ];
  const peak = d?.around?.series?.values.length ? Math.max(...d.around.series.values) : undefined;
  return (
    <Section title={alarm.AlarmName} id="alarm">
      <p>
        <Status value={alarm.StateValue} /> {alarm.StateReason}
      </p>
      <p class="muted small">
        {alarm.Namespace} · {dimensionsText(alarm)} · {describe(alarm)}
      </p>
      <ErrorNote error={live.error} />
      {d?.around && (
        <div class="around">
          <h3>
            When it went from {d.around.change.from} to {d.around.change.to}, at <When ms={d.around.change.at} withDate />
          </h3>
          <Chart
            title={`${stat} of ${alarm.MetricName} per ${alarm.Period}s around the change, with the threshold`}
            lines={line(d.around.series)}
            threshold={alarm.Threshold}
            from={d.around.start / 1000}
            to={Math.max(d.around.end, d.around.change.at + alarm.Period * 1000) / 1000}
            height={160}
            period={alarm.Period}
            marker={d.around.change.at / 1000}
          />
          {dimensionsText(d.around.watched) !== dimensionsText(alarm) && (
            <p class="muted small">
              It watched {d.around.watched.MetricName} of {dimensionsText(d.around.watched)} then.
            </p>
          )}
          <p class="small peak">
            {peak === undefined
              ? 'No datapoints in that stretch.'
              : `Highest ${stat} then: ${peak} (the alarm's condition: ${COMPARISON[alarm.ComparisonOperator] ?? alarm.ComparisonOperator} ${alarm.Threshold}).`}
          </p>
        </div>
      )}
      {d && (
        <>
          <div class="row spread">
            <h3>Recent</h3>
            <WindowPicker id="alarm-window" value={range} onChange={setRange} />
          </div>
          <Chart
            title={`${stat} of ${alarm.MetricName} per ${d.recentPeriod}s, with the threshold`}
            lines={line(d.recent)}
            threshold={alarm.Threshold}
            from={d.recentFrom / 1000}
            to={d.now / 1000}
            height={160}
            period={d.recentPeriod}
          />
        </>
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
