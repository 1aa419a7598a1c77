import { useEffect, useState } from 'preact/hooks';
import {
  canaryPatches,
  createDeployment,
  getDeployments,
  getResources,
  getRestApi,
  getStages,
  integrationFunction,
  putIntegration,
  stageUrls,
  updateStage,
  type Deployment,
  type Method,
  type PatchOperation,
  type Resource,
  type Stage,
} from '../api/apigateway';
import { getMetricData, type MetricQuery } from '../api/cloudwatch';
import { listFunctions } from '../api/lambda';
import { periodLabel, platformTime, timeScale, useLive, useTimeWindow } from '../live';
import { href } from '../router';
import { Chart, type Line } from '../ui/chart';
import { Empty, ErrorNote, Section } from '../ui/common';
import { WeightBar } from '../ui/weights';
import { WindowPicker } from '../ui/window-picker';

export function ApiPage({ id }: { id: string }) {
  const live = useLive(
    async () => {
      const [api, resources, stages, deployments] = await Promise.all([
        getRestApi(id),
        getResources(id),
        getStages(id),
        getDeployments(id),
      ]);
      return { api, resources: resources.sort((a, b) => a.path.localeCompare(b.path)), stages, deployments };
    },
    [id],
    (c) => c.kind === 'api' && c.id === id,
  );
  const d = live.data;
  return (
    <>
      <p class="crumbs">
        <a href={href.overview()}>Overview</a> › API
      </p>
      <h1>
        {d?.api.name ?? id} <span class="muted small">{id}</span>
      </h1>
      <ErrorNote error={live.error} />
      {d && (
        <div class="grid">
          <Resources apiId={id} resources={d.resources} />
          <DeployForm apiId={id} stages={d.stages} />
          {d.stages.length === 0 && (
            <Section title="Stages">
              <Empty>No stages yet: deploy the API to create one.</Empty>
            </Section>
          )}
          {d.stages.map((s) => (
            <StageCard key={s.stageName} apiId={id} apiName={d.api.name} stage={s} deployments={d.deployments} />
          ))}
        </div>
      )}
    </>
  );
}

function Resources({ apiId, resources }: { apiId: string; resources: Resource[] }) {
  return (
    <Section title="Resources and methods" id="resources">
      <table>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Method</th>
            <th scope="col">Integration</th>
          </tr>
        </thead>
        <tbody>
          {resources.flatMap((r) => {
            const methods = Object.values(r.resourceMethods ?? {});
            if (methods.length === 0)
              return [
                <tr key={r.id}>
                  <td>
                    <code>{r.path}</code>
                  </td>
                  <td class="muted">–</td>
                  <td class="muted">–</td>
                </tr>,
              ];
            return methods.map((m) => <MethodRow key={`${r.id} ${m.httpMethod}`} apiId={apiId} resource={r} method={m} />);
          })}
        </tbody>
      </table>
    </Section>
  );
}

function MethodRow({ apiId, resource, method }: { apiId: string; resource: Resource; method: Method }) {
  const integration = method.methodIntegration;
  const target = integrationFunction(integration?.uri);
  const [editing, setEditing] = useState(false);
  return (
    <tr>
      <td>
        <code>{resource.path}</code>
      </td>
      <td>{method.httpMethod}</td>
      <td>
        {!integration && <span class="muted">none</span>}
        {integration && (
          <>
            {integration.type}{' '}
            {target ? (
              <>
                → <a href={href.fn(target.split(':')[0]!)}>{target}</a>{' '}
                <button type="button" class="link" onClick={() => setEditing(!editing)} aria-expanded={editing}>
                  {editing ? 'cancel' : 'change function'}
                </button>
              </>
            ) : (
              <span class="muted">{integration.uri}</span>
            )}
          </>
        )}
        {editing && integration && <IntegrationForm apiId={apiId} resource={resource} method={method} onDone={() => setEditing(false)} />}
      </td>
    </tr>
  );
}

/** Points a Lambda integration at another function (PutIntegration with the same type and method). */
function IntegrationForm({ apiId, resource, method, onDone }: { apiId: string; resource: Resource; method: Method; onDone: () => void }) {
  const integration = method.methodIntegration!;
  const current = integrationFunction(integration.uri) ?? '';
  const [functions, setFunctions] = useState<string[]>([]);
  const [choice, setChoice] = useState(current);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    listFunctions().then((f) => setFunctions(f.map((x) => x.FunctionName)), setError);
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const uri = integration.uri!.replace(/:function:[^/]+\/invocations$/, `:function:${choice}/invocations`);
      await putIntegration(apiId, resource.id, method.httpMethod, { type: integration.type, httpMethod: integration.httpMethod, uri });
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="row" onSubmit={(e) => void submit(e)} aria-label={`Integration of ${method.httpMethod} ${resource.path}`}>
      <label>
        Function
        <select value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
          {[...new Set([current, ...functions])].map((f) => (
            <option key={f}>{f}</option>
          ))}
        </select>
      </label>
      <button type="submit">Save integration</button>
      <ErrorNote error={error} label="PutIntegration" />
    </form>
  );
}

function DeployForm({ apiId, stages }: { apiId: string; stages: Stage[] }) {
  const [stage, setStage] = useState(stages[0]?.stageName ?? 'prod');
  const [description, setDescription] = useState('');
  const [asCanary, setAsCanary] = useState(false);
  const [percent, setPercent] = useState('10');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<Deployment>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await createDeployment(apiId, stage, description, asCanary ? Number(percent) : undefined));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Section title="Deploy the API" id="deploy">
      <form class="stack" onSubmit={(e) => void submit(e)} aria-label="Deploy the API" noValidate>
        <div class="row">
          <label>
            Stage
            <input list="stage-names" value={stage} onInput={(e) => setStage(e.currentTarget.value)} size={10} />
            <datalist id="stage-names">
              {stages.map((s) => (
                <option key={s.stageName} value={s.stageName} />
              ))}
            </datalist>
          </label>
          <label class="grow">
            Description
            <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
        </div>
        <div class="row">
          <label class="inline">
            <input type="checkbox" checked={asCanary} onChange={(e) => setAsCanary(e.currentTarget.checked)} /> As a canary of the stage
          </label>
          {asCanary && (
            <label>
              Canary share (%)
              <input inputMode="decimal" value={percent} onInput={(e) => setPercent(e.currentTarget.value)} size={5} />
            </label>
          )}
          <button type="submit" class="primary">
            Deploy
          </button>
        </div>
      </form>
      {done && (
        <p class="note" role="status">
          Deployment {done.id} created.
        </p>
      )}
      <ErrorNote error={error} label="CreateDeployment" />
    </Section>
  );
}

function StageCard({ apiId, apiName, stage, deployments }: { apiId: string; apiName: string; stage: Stage; deployments: Deployment[] }) {
  const canary = stage.canarySettings;
  const share = canary?.percentTraffic ?? 0;
  const [slider, setSlider] = useState(share);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => setSlider(share), [share]);
  const urls = stageUrls(apiId, stage.stageName);
  const describe = (id: string | undefined) => {
    const d = deployments.find((x) => x.id === id);
    return d ? `${d.id}${d.description ? ` · ${d.description}` : ''}` : (id ?? '–');
  };
  const patch = async (ops: PatchOperation[]) => {
    setBusy(true);
    setError(undefined);
    try {
      await updateStage(apiId, stage.stageName, ops);
    } catch (err) {
      setError(err);
      setSlider(share);
    } finally {
      setBusy(false);
    }
  };
  const sliderId = `canary-${stage.stageName}`;
  return (
    <Section title={`Stage ${stage.stageName}`} id={`stage-${stage.stageName}`}>
      <dl class="facts">
        <dt>URL</dt>
        <dd>
          <a href={urls.path}>{urls.path}</a>
          <div class="muted small">or {urls.host}</div>
        </dd>
        <dt>Deployment</dt>
        <dd>{describe(stage.deploymentId)}</dd>
        <dt>Canary</dt>
        <dd>{canary ? describe(canary.deploymentId) : 'none'}</dd>
      </dl>
      {canary && (
        <>
          <WeightBar
            label={`stage ${stage.stageName} traffic`}
            shares={[
              { label: 'base', weight: 1 - share / 100, color: '#1d4ed8' },
              { label: 'canary', weight: share / 100, color: '#c2410c' },
            ]}
          />
          <form
            class="row canary-controls"
            aria-label={`Canary of ${stage.stageName}`}
            onSubmit={(e) => {
              e.preventDefault();
              void patch(canaryPatches.share(slider));
            }}
          >
            <label for={sliderId}>Canary share</label>
            <input
              id={sliderId}
              type="range"
              min={0}
              max={100}
              step={5}
              value={slider}
              onInput={(e) => setSlider(Number(e.currentTarget.value))}
              onChange={(e) => void patch(canaryPatches.share(Number(e.currentTarget.value)))}
              aria-valuetext={`${slider}%`}
            />
            <output for={sliderId} class="share">
              {slider}%
            </output>
            <button type="submit" disabled={busy || slider === share}>
              Set {slider}%
            </button>
            <button type="button" class="primary" disabled={busy} onClick={() => void patch(canaryPatches.promote())}>
              Promote canary
            </button>
            <button type="button" class="danger" disabled={busy} onClick={() => void patch(canaryPatches.remove())}>
              Remove canary
            </button>
          </form>
        </>
      )}
      <ErrorNote error={error} label="UpdateStage" />
      <StageMetrics apiName={apiName} stage={stage.stageName} />
    </Section>
  );
}

function StageMetrics({ apiName, stage }: { apiName: string; stage: string }) {
  const refresh = Math.max(1000, Math.min(10_000, 60_000 / timeScale()));
  const [range, setRange] = useTimeWindow();
  const { period } = range;
  const live = useLive(
    async () => {
      const end = await platformTime();
      const start = end - range.minutes * 60_000;
      const q = (id: string, metric: string, stageName: string): MetricQuery => ({
        id,
        label: id,
        namespace: 'AWS/ApiGateway',
        metric,
        dimensions: [
          { Name: 'ApiName', Value: apiName },
          { Name: 'Stage', Value: stageName },
        ],
        stat: 'Sum',
        period,
      });
      const canaryStage = `${stage}/Canary`;
      const r = await getMetricData(
        [
          q('all', 'Count', stage),
          q('canary', 'Count', canaryStage),
          q('allerr', '5XXError', stage),
          q('canaryerr', '5XXError', canaryStage),
          q('all4', '4XXError', stage),
          q('canary4', '4XXError', canaryStage),
        ],
        start,
        end,
      );
      const get = (id: string) => r.find((x) => x.id === id) ?? { times: [], values: [] };
      // The stage's own series counts every request; the canary's only its share. Base is the difference.
      const perSecond = (s: { times: number[]; values: number[] }) => s.values.map((v) => v / period);
      const minus = (a: { times: number[]; values: number[] }, b: { times: number[]; values: number[] }) => {
        const at = new Map(b.times.map((t, i) => [t, b.values[i] ?? 0]));
        return { times: a.times, values: a.values.map((v, i) => v - (at.get(a.times[i]!) ?? 0)) };
      };
      const plus = (a: { times: number[]; values: number[] }, b: { times: number[]; values: number[] }) => {
        const at = new Map(b.times.map((t, i) => [t, b.values[i] ?? 0]));
        return { times: a.times, values: a.values.map((v, i) => v + (at.get(a.times[i]!) ?? 0)) };
      };
      const base = minus(get('all'), get('canary'));
      const canary = get('canary');
      const baseErr = minus(plus(get('allerr'), get('all4')), plus(get('canaryerr'), get('canary4')));
      const canaryErr = plus(get('canaryerr'), get('canary4'));
      const requests: Line[] = [
        { label: 'base', times: base.times, values: perSecond(base), color: '#2563eb' },
        { label: 'canary', times: canary.times, values: perSecond(canary), color: '#c2410c' },
      ];
      const errors: Line[] = [
        { label: 'base', times: baseErr.times, values: baseErr.values, color: '#2563eb' },
        { label: 'canary', times: canaryErr.times, values: canaryErr.values, color: '#c2410c' },
      ];
      return { requests, errors, from: start / 1000, to: end / 1000, any: get('all').times.length > 0 };
    },
    [apiName, stage, range.minutes],
    () => false,
    refresh,
  );
  const d = live.data;
  return (
    <>
      <div class="row spread stage-metrics-head">
        <h3>Traffic</h3>
        <WindowPicker id={`window-${stage}`} value={range} onChange={setRange} />
      </div>
      <ErrorNote error={live.error} />
      {d && !d.any && <Empty>No requests in the last {range.label}.</Empty>}
      {d?.any && (
        <div class="charts two">
          <Chart title="Requests per second" lines={d.requests} from={d.from} to={d.to} period={period} />
          <Chart title={`Errors (4XX + 5XX) per ${periodLabel(period)}`} lines={d.errors} from={d.from} to={d.to} period={period} />
        </div>
      )}
    </>
  );
}
