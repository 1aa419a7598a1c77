import { useState } from 'preact/hooks';
import {
  getDeployments as getApiDeployments,
  getRestApis,
  getStages,
  type Deployment as ApiGatewayDeployment,
  type RestApi,
} from '../api/apigateway';
import { describeAlarms } from '../api/cloudwatch';
import { apiFetch } from '../api/aws';
import {
  ACTIVE,
  getDeployment,
  getDeploymentGroup,
  getDeployments,
  getTarget,
  listDeploymentIds,
  stopDeployment,
  targetOf,
  type DeploymentInfo,
  type LifecycleEvent,
} from '../api/codedeploy';
import { platformTime, timeScale, useLive } from '../live';
import { href } from '../router';
import { Chart } from '../ui/chart';
import { Empty, ErrorNote, Section, Status, When } from '../ui/common';
import { fmtPercent, WeightBar } from '../ui/weights';

const secs = (s: number | undefined) => (s === undefined ? undefined : s * 1000);

/** A sentence as written, with a full stop if it has none (messages from the API end either way). */
const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/** Why a deployment ended, as sentences: how it ended, then what rolled it back, if anything did. */
function outcome(d: DeploymentInfo): string[] {
  if (ACTIVE.has(d.status)) return ['Running.'];
  if (d.status === 'Succeeded')
    return [d.rollbackInfo?.rollbackTriggeringDeploymentId ? 'Rolled back an earlier deployment.' : 'All traffic moved.'];
  return [d.errorInformation?.message ?? d.status, d.rollbackInfo?.rollbackMessage].filter((t) => !!t).map((t) => sentence(t!));
}

/** Why a deployment ended, one sentence after another. */
function Outcome({ d }: { d: DeploymentInfo }) {
  return (
    <span class="outcome">
      {outcome(d).map((t, i) => (
        <span key={i} class="sentence">
          {t}
        </span>
      ))}
    </span>
  );
}

/** The alias a deployment moves, linked to its function, with the versions it moves between. */
function TargetCell({ d }: { d: DeploymentInfo }) {
  const t = targetOf(d);
  if (!t) return <span class="muted">–</span>;
  const back = d.rollbackInfo?.rollbackTriggeringDeploymentId;
  return (
    <>
      <a href={href.fn(t.functionName)} class="nowrap">
        {t.functionName}:{t.alias}
      </a>
      {t.currentVersion && t.targetVersion && (
        <div class="muted small nowrap">
          {back ? `back to version ${t.currentVersion}` : `version ${t.currentVersion} → ${t.targetVersion}`}
        </div>
      )}
    </>
  );
}

/** An API Gateway deployment (a snapshot of an API) with the stages that serve it, whole or as a canary. */
interface ApiDeployment {
  api: RestApi;
  deployment: ApiGatewayDeployment;
  on: { stage: string; canary?: number }[];
}

async function apiDeployments(): Promise<ApiDeployment[]> {
  const apis = await getRestApis();
  const each = await Promise.all(
    apis.map(async (api) => {
      const [stages, deployments] = await Promise.all([getStages(api.id), getApiDeployments(api.id)]);
      return deployments.map((deployment) => ({
        api,
        deployment,
        on: stages.flatMap((s) =>
          s.deploymentId === deployment.id
            ? [{ stage: s.stageName }]
            : s.canarySettings?.deploymentId === deployment.id
              ? [{ stage: s.stageName, canary: s.canarySettings.percentTraffic ?? 0 }]
              : [],
        ),
      }));
    }),
  );
  return each.flat();
}

/** A row of the list: a CodeDeploy deployment of an alias, or an API Gateway deployment to stages. */
type Row = { kind: 'alias'; at: number; d: DeploymentInfo } | { kind: 'api'; at: number; a: ApiDeployment };

export function DeploymentsPage() {
  const live = useLive(
    async () => {
      const [codeDeploy, apis] = await Promise.all([getDeployments(await listDeploymentIds()), apiDeployments()]);
      const rows: Row[] = [
        ...codeDeploy.map((d) => ({ kind: 'alias' as const, at: d.createTime, d })),
        ...apis.map((a) => ({ kind: 'api' as const, at: a.deployment.createdDate, a })),
      ];
      return rows.sort((x, y) => y.at - x.at);
    },
    [],
    (c) => c.kind === 'deployment' || c.kind === 'api',
  );
  return (
    <>
      <h1>Deployments</h1>
      <Section title="All deployments" id="deployments">
        <ErrorNote error={live.error} />
        {live.data?.length === 0 && (
          <Empty>
            No deployments yet. Create one with the CodeDeploy API (the AWS CLI's deploy create-deployment) to move an alias, or deploy an
            API to a stage.
          </Empty>
        )}
        {!!live.data?.length && (
          <table class="cards deployments-table">
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Target</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">How it ended</th>
              </tr>
            </thead>
            <tbody>
              {live.data.map((r) =>
                r.kind === 'alias' ? <AliasRow key={r.d.deploymentId} d={r.d} /> : <ApiRow key={r.a.deployment.id} a={r.a} />,
              )}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

function AliasRow({ d }: { d: DeploymentInfo }) {
  return (
    <tr>
      <td data-label="Deployment">
        <a href={href.deployment(d.deploymentId)} class="nowrap">
          {d.deploymentId}
        </a>
        {d.description && <div class="muted small">{d.description}</div>}
        <div class="muted small group" title={`application ${d.applicationName}`}>
          {d.deploymentConfigName.replace('CodeDeployDefault.', '')} · group {d.deploymentGroupName}
        </div>
      </td>
      <td data-label="Target">
        <TargetCell d={d} />
      </td>
      <td data-label="Status">
        <Status value={d.status} />
      </td>
      <td data-label="Created">
        <When ms={secs(d.createTime)} withDate />
      </td>
      <td data-label="How it ended" class="small">
        <Outcome d={d} />
      </td>
    </tr>
  );
}

function ApiRow({ a }: { a: ApiDeployment }) {
  const { api, deployment, on } = a;
  const whole = on.filter((o) => o.canary === undefined);
  const canary = on.filter((o) => o.canary !== undefined);
  const status = whole.length ? 'Serving' : canary.length ? 'Canary' : 'Superseded';
  const said = [
    ...whole.map((o) => `Serves stage ${o.stage}.`),
    ...canary.map((o) => `The canary of stage ${o.stage}, with ${o.canary}% of its requests.`),
  ];
  return (
    <tr>
      <td data-label="Deployment">
        <a href={href.api(api.id)} class="nowrap">
          {deployment.id}
        </a>
        {deployment.description && <div class="muted small">{deployment.description}</div>}
        <div class="muted small">API Gateway deployment</div>
      </td>
      <td data-label="Target">
        {on.length === 0 && (
          <a href={href.api(api.id)} class="nowrap">
            {api.name}
          </a>
        )}
        {on.map((o) => (
          <div key={o.stage}>
            <a href={href.api(api.id)} class="nowrap">
              {api.name}/{o.stage}
            </a>
            {o.canary !== undefined && <div class="muted small nowrap">canary, {o.canary}%</div>}
          </div>
        ))}
      </td>
      <td data-label="Status">
        <span class={`status status-${whole.length ? 'ok' : canary.length ? 'busy' : 'idle'}`}>{status}</span>
      </td>
      <td data-label="Created">
        <When ms={secs(deployment.createdDate)} withDate />
      </td>
      <td data-label="How it ended" class="small">
        <span class="outcome">
          {(said.length ? said : ['No stage serves it any more.']).map((t, i) => (
            <span key={i} class="sentence">
              {t}
            </span>
          ))}
        </span>
      </td>
    </tr>
  );
}

export function DeploymentPage({ id }: { id: string }) {
  const live = useLive(
    async () => {
      const [d, target, traffic] = await Promise.all([getDeployment(id), getTarget(id), trafficOf(id)]);
      const group = await getDeploymentGroup(d.applicationName, d.deploymentGroupName).catch(() => undefined);
      const alarmNames = group?.alarmConfiguration?.alarms?.map((a) => a.name) ?? [];
      const alarms = alarmNames.length ? await describeAlarms({ names: alarmNames }) : [];
      const history = await getDeployments(await listDeploymentIds()).then((all) =>
        all.filter((x) => x.applicationName === d.applicationName && x.deploymentGroupName === d.deploymentGroupName),
      );
      return { d, target, traffic, group, alarms, history, now: await platformTime() };
    },
    [id],
    (c) => (c.kind === 'deployment' && c.id === id) || c.kind === 'alarm',
    2000,
  );
  const data = live.data;
  const running = data ? ACTIVE.has(data.d.status) : false;
  return (
    <>
      <p class="crumbs">
        <a href={href.deployments()}>Deployments</a> › {id}
      </p>
      <h1>
        Deployment {id} {data && <Status value={data.d.status} />}
      </h1>
      <ErrorNote error={live.error} />
      {data && (
        <div class="grid">
          <Section title="Traffic" id="traffic" actions={running && <StopButtons id={id} />}>
            {data.target && (
              <>
                <p class="anywhere">
                  <a href={href.fn(data.target.lambdaFunctionInfo.functionName)}>{data.target.lambdaFunctionInfo.functionName}</a>:
                  {data.target.lambdaFunctionInfo.functionAlias} · version {data.target.lambdaFunctionInfo.currentVersion} → version{' '}
                  {data.target.lambdaFunctionInfo.targetVersion} · {data.d.deploymentConfigName.replace('CodeDeployDefault.', '')}
                </p>
                <WeightBar
                  label="alias traffic"
                  shares={[
                    {
                      label: `v${data.target.lambdaFunctionInfo.currentVersion}`,
                      weight: 1 - data.target.lambdaFunctionInfo.targetVersionWeight,
                    },
                    {
                      label: `v${data.target.lambdaFunctionInfo.targetVersion}`,
                      weight: data.target.lambdaFunctionInfo.targetVersionWeight,
                    },
                  ]}
                />
                <p class="target-weight">
                  Target version's share: <strong>{fmtPercent(data.target.lambdaFunctionInfo.targetVersionWeight)}</strong>
                </p>
              </>
            )}
            <TrafficChart
              d={data.d}
              points={data.traffic}
              current={data.target?.lambdaFunctionInfo.targetVersionWeight}
              running={running}
              now={data.now}
            />
            {!running && (
              <p class="ended">
                <strong>Ended:</strong> <Outcome d={data.d} />
              </p>
            )}
          </Section>
          <Section title="Lifecycle events" id="events">
            {data.target ? <Timeline events={data.target.lifecycleEvents} /> : <Empty>No target.</Empty>}
          </Section>
          <Section title="Alarms of the deployment group" id="group-alarms">
            {data.group?.alarmConfiguration?.enabled === false && <p class="muted">Alarm monitoring is off for this group.</p>}
            {data.alarms.length === 0 && <Empty>The group watches no alarms.</Empty>}
            <ul class="plain">
              {data.alarms.map((a) => (
                <li key={a.AlarmName}>
                  <Status value={a.StateValue} /> <a href={href.alarms(a.AlarmName)}>{a.AlarmName}</a>
                  <div class="muted small">{a.StateReason}</div>
                </li>
              ))}
            </ul>
            {data.group?.autoRollbackConfiguration && (
              <p class="muted small">
                Automatic rollback:{' '}
                {data.group.autoRollbackConfiguration.enabled
                  ? (data.group.autoRollbackConfiguration.events ?? []).join(', ') || 'on'
                  : 'off'}
              </p>
            )}
          </Section>
          <Section title={`History of ${data.d.applicationName} / ${data.d.deploymentGroupName}`} id="history">
            <ul class="plain history">
              {data.history.map((h) => (
                <li key={h.deploymentId} class={h.deploymentId === id ? 'current' : undefined}>
                  <Status value={h.status} /> <a href={href.deployment(h.deploymentId)}>{h.deploymentId}</a>{' '}
                  <When ms={secs(h.createTime)} withDate />
                  <div class="muted small">
                    {h.description && <span class="sentence">{h.description}</span>}
                    <Outcome d={h} />
                  </div>
                </li>
              ))}
            </ul>
          </Section>
        </div>
      )}
    </>
  );
}

async function trafficOf(id: string): Promise<{ time: number; weight: number }[]> {
  const res = await apiFetch(`/_versa/api/deployments/${encodeURIComponent(id)}/traffic`);
  return res.ok ? ((await res.json()) as { points: { time: number; weight: number }[] }).points : [];
}

function TrafficChart({
  d,
  points,
  current,
  running,
  now,
}: {
  d: DeploymentInfo;
  points: { time: number; weight: number }[];
  current: number | undefined;
  running: boolean;
  /** Platform time when the page loaded this. */
  now: number;
}) {
  const start = (d.startTime ?? d.createTime) * 1000;
  const end = running ? now : (secs(d.completeTime) ?? now);
  // Before the deployment started, the target version had none of the traffic.
  const all = [{ time: start, weight: 0 }, ...points.filter((p) => p.time > start)];
  // The weight holds until it changes: draw it up to now (or the end), with the latest value read.
  const last = current ?? all[all.length - 1]?.weight;
  if (last !== undefined) all.push({ time: end, weight: last });
  const span = Math.max(end - start, 60_000 / Math.max(1, timeScale()));
  return (
    <Chart
      title="Target version's share of traffic over time"
      lines={[
        { label: 'target version %', times: all.map((p) => p.time / 1000), values: all.map((p) => p.weight * 100), color: '#c2410c' },
      ]}
      from={start / 1000}
      to={(start + span * 1.05) / 1000}
      stepped
      yMax={100}
      format={(v) => `${Math.round(v)}%`}
    />
  );
}

function Timeline({ events }: { events: LifecycleEvent[] }) {
  return (
    <ol class="timeline">
      {events.map((e) => (
        <li key={e.lifecycleEventName} class={`tl tl-${e.status}`}>
          <div class="row spread">
            <strong>{e.lifecycleEventName}</strong>
            <Status value={e.status} />
          </div>
          <div class="muted small">
            {e.startTime ? <When ms={secs(e.startTime)} /> : 'not started'}
            {e.endTime && (
              <>
                {' '}
                → <When ms={secs(e.endTime)} />
              </>
            )}
            {e.diagnostics?.scriptName && <> · hook {e.diagnostics.scriptName}</>}
          </div>
          {e.diagnostics && (
            <div class={e.status === 'Failed' ? 'error small' : 'small'}>
              {e.diagnostics.errorCode}: {e.diagnostics.message}
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}

function StopButtons({ id }: { id: string }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const stop = async (rollback: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      await stopDeployment(id, rollback);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" disabled={busy} onClick={() => void stop(false)}>
        Stop
      </button>
      <button type="button" class="danger" disabled={busy} onClick={() => void stop(true)}>
        Stop and roll back
      </button>
      <ErrorNote error={error} label="StopDeployment" />
    </>
  );
}
