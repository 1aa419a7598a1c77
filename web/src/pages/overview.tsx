import { useState } from 'preact/hooks';
import { getRestApis, getStages, stageUrls, type RestApi, type Stage } from '../api/apigateway';
import { describeAlarms } from '../api/cloudwatch';
import { getCluster } from '../api/cluster';
import { getDeployments, getTarget, listDeploymentIds } from '../api/codedeploy';
import { createFunction, listAliases, listFunctions, type AliasConfig } from '../api/lambda';
import { listStacks, localUrl } from '../api/stacks';
import { useLive } from '../live';
import { href } from '../router';
import { Empty, ErrorNote, Section, Status, When } from '../ui/common';
import { aliasShares } from '../ui/alias';
import { WeightBar } from '../ui/weights';

export function Overview() {
  return (
    <>
      <h1>Overview</h1>
      <div class="grid">
        <FunctionsCard />
        <DeploymentsCard />
        <ApisCard />
        <AlarmsCard />
        <StacksCard />
        <NodesCard />
      </div>
    </>
  );
}

function FunctionsCard() {
  const [creating, setCreating] = useState(false);
  const live = useLive(
    async () => {
      const fns = await listFunctions();
      const aliases = await Promise.all(fns.map((f) => listAliases(f.FunctionName).catch(() => [] as AliasConfig[])));
      return fns.map((f, i) => ({ fn: f, aliases: aliases[i]! }));
    },
    [],
    (c) => c.kind === 'function',
  );
  return (
    <Section
      title="Functions"
      id="functions"
      actions={
        <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          {creating ? 'Cancel' : 'Create function'}
        </button>
      }
    >
      {creating && <CreateFunction onDone={() => setCreating(false)} />}
      <ErrorNote error={live.error} />
      {live.data?.length === 0 && <Empty>No functions yet. Create one here or with the AWS CLI.</Empty>}
      {!!live.data?.length && (
        <table class="functions-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Aliases</th>
            </tr>
          </thead>
          <tbody>
            {live.data.map(({ fn, aliases }) => (
              <tr key={fn.FunctionName}>
                <td class="fn-name">
                  <a href={href.fn(fn.FunctionName)}>{fn.FunctionName}</a>
                  <div class="muted small">{fn.Runtime}</div>
                </td>
                <td class="aliases-cell">
                  {aliases.length === 0 && <span class="muted">none</span>}
                  {aliases.map((a) => (
                    <div class="alias-mini" key={a.Name}>
                      <span class="alias-name">{a.Name}</span>
                      <WeightBar shares={aliasShares(a)} label={`alias ${a.Name}`} />
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

/** The nodes sharing the store (one, with SQLite): which serves this page and which leads the controllers. */
function NodesCard() {
  const live = useLive(getCluster, [], () => false, 2000);
  const cluster = live.data;
  return (
    <Section title="Nodes" id="nodes">
      <ErrorNote error={live.error} />
      {cluster && (
        <table class="nodes-table">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Address</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {cluster.nodes.map((n) => (
              <tr key={n.id}>
                <td>
                  {n.id}
                  {n.id === cluster.leader && (
                    <>
                      {' '}
                      <span class="status status-ok">leader</span>
                    </>
                  )}
                  {n.id === cluster.node && <div class="muted small">serving this page</div>}
                </td>
                <td>{n.url}</td>
                <td>
                  <When ms={n.seenAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

const TEMPLATES: Record<string, { handler: string; file: string; code: string }> = {
  node: {
    handler: 'index.handler',
    file: 'index.mjs',
    code: `export const handler = async (event) => {\n  console.log('event', JSON.stringify(event));\n  return { message: 'hello from version one' };\n};\n`,
  },
  python: {
    handler: 'lambda_function.lambda_handler',
    file: 'lambda_function.py',
    code: `def lambda_handler(event, context):\n    print("event", event)\n    return {"message": "hello from version one"}\n`,
  },
};
const RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs18.x', 'python3.12', 'python3.13', 'python3.11'];

function CreateFunction({ onDone }: { onDone: () => void }) {
  const [runtime, setRuntime] = useState('nodejs20.x');
  const kind = runtime.startsWith('python') ? 'python' : 'node';
  const [form, setForm] = useState({ name: '', description: '', ...TEMPLATES.node! });
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const changeRuntime = (r: string) => {
    const next = r.startsWith('python') ? 'python' : 'node';
    if (next !== kind) setForm({ ...form, ...TEMPLATES[next]! });
    setRuntime(r);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await createFunction({
        name: form.name,
        runtime,
        handler: form.handler,
        description: form.description,
        files: { [form.file]: form.code },
      });
      window.location.hash = href.fn(form.name);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack create-function" onSubmit={(e) => void submit(e)} aria-label="Create function">
      <div class="row">
        <label>
          Name
          <input value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} required autoFocus />
        </label>
        <label>
          Runtime
          <select value={runtime} onChange={(e) => changeRuntime(e.currentTarget.value)}>
            {RUNTIMES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Handler
          <input value={form.handler} onInput={(e) => setForm({ ...form, handler: e.currentTarget.value })} />
        </label>
        <label>
          File
          <input value={form.file} onInput={(e) => setForm({ ...form, file: e.currentTarget.value })} />
        </label>
      </div>
      <label>
        Description
        <input value={form.description} onInput={(e) => setForm({ ...form, description: e.currentTarget.value })} />
      </label>
      <label>
        Code
        <textarea
          class="code"
          rows={7}
          spellcheck={false}
          value={form.code}
          onInput={(e) => setForm({ ...form, code: e.currentTarget.value })}
        />
      </label>
      <ErrorNote error={error} label="CreateFunction" />
      <div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create function'}
        </button>
      </div>
    </form>
  );
}

function ApisCard() {
  const live = useLive(
    async () => {
      const apis = await getRestApis();
      const stages = await Promise.all(apis.map((a) => getStages(a.id).catch(() => [] as Stage[])));
      return apis.map((api, i) => ({ api, stages: stages[i]! }));
    },
    [],
    (c) => c.kind === 'api',
  );
  return (
    <Section title="APIs and stages" id="apis">
      <ErrorNote error={live.error} />
      {live.data?.length === 0 && <Empty>No REST APIs yet.</Empty>}
      {!!live.data?.length && (
        <table>
          <thead>
            <tr>
              <th scope="col">API</th>
              <th scope="col">Stage</th>
              <th scope="col">Deployment</th>
              <th scope="col">Canary</th>
            </tr>
          </thead>
          <tbody>
            {live.data.flatMap(({ api, stages }) =>
              stages.length === 0
                ? [<ApiRow key={api.id} api={api} />]
                : stages.map((s) => <ApiRow key={`${api.id}/${s.stageName}`} api={api} stage={s} />),
            )}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function ApiRow({ api, stage }: { api: RestApi; stage?: Stage }) {
  return (
    <tr>
      <td>
        <a href={href.api(api.id)}>{api.name}</a> <span class="muted">{api.id}</span>
      </td>
      <td>{stage ? <a href={stageUrls(api.id, stage.stageName).path}>{stage.stageName}</a> : <span class="muted">no stage</span>}</td>
      <td>
        <code>{stage?.deploymentId ?? '–'}</code>
      </td>
      <td>{stage?.canarySettings ? `${stage.canarySettings.percentTraffic ?? 0}% → ${stage.canarySettings.deploymentId ?? ''}` : '–'}</td>
    </tr>
  );
}

function DeploymentsCard() {
  const live = useLive(
    async () => {
      const list = await getDeployments(await listDeploymentIds(['Created', 'Queued', 'InProgress']));
      const targets = await Promise.all(list.map((d) => getTarget(d.deploymentId).catch(() => undefined)));
      return list.map((d, i) => ({ d, target: targets[i] }));
    },
    [],
    (c) => c.kind === 'deployment',
  );
  return (
    <Section title="Deployments in progress" id="running" actions={<a href={href.deployments()}>All deployments</a>}>
      <ErrorNote error={live.error} />
      {live.data?.length === 0 && <Empty>No deployment is running.</Empty>}
      {live.data?.map(({ d, target }) => {
        const info = target?.lambdaFunctionInfo;
        return (
          <div class="running" key={d.deploymentId}>
            <div class="row spread">
              <a href={href.deployment(d.deploymentId)}>{d.deploymentId}</a>
              <span>
                {info ? `${info.functionName}:${info.functionAlias}` : d.applicationName} <Status value={d.status} />
              </span>
            </div>
            {info && (
              <WeightBar
                label="traffic"
                shares={[
                  { label: `v${info.currentVersion}`, weight: 1 - info.targetVersionWeight },
                  { label: `v${info.targetVersion}`, weight: info.targetVersionWeight },
                ]}
              />
            )}
            <p class="muted small">
              {d.deploymentConfigName} · started <When ms={(d.startTime ?? d.createTime) * 1000} />
            </p>
          </div>
        );
      })}
    </Section>
  );
}

/** Stacks deployed with `versa deploy`: status, why the last update ended, outputs. */
function StacksCard() {
  const live = useLive(listStacks, [], (c) => c.kind === 'stack');
  return (
    <Section title="Stacks" id="stacks">
      <ErrorNote error={live.error} />
      {live.data?.length === 0 && <Empty>No stacks yet. Deploy a SAM template with npx versa deploy.</Empty>}
      {live.data?.map((s) => (
        <div class="running" key={s.name}>
          <div class="row spread">
            <strong>
              <a href={href.stack(s.name)}>{s.name}</a>
            </strong>
            <span>
              {s.resources} resources <Status value={s.status} />
            </span>
          </div>
          {s.reason && <p class="small">{s.reason}</p>}
          {s.outputs.map((o) => {
            const local = localUrl(o.value);
            return (
              <p class="muted small" key={o.key}>
                {o.key}: {local ? <a href={local}>{local}</a> : o.value}
              </p>
            );
          })}
          <p class="muted small">
            updated <When ms={s.updatedAt} />
          </p>
        </div>
      ))}
    </Section>
  );
}

function AlarmsCard() {
  const live = useLive(
    () => describeAlarms({ state: 'ALARM' }),
    [],
    (c) => c.kind === 'alarm',
    10_000,
  );
  return (
    <Section title="Alarms in ALARM" id="alarming" actions={<a href={href.alarms()}>All alarms</a>}>
      <ErrorNote error={live.error} />
      {live.data?.length === 0 && <Empty>No alarm is in ALARM.</Empty>}
      {!!live.data?.length && (
        <ul class="plain">
          {live.data.map((a) => (
            <li key={a.AlarmName}>
              <Status value={a.StateValue} /> <a href={href.alarms(a.AlarmName)}>{a.AlarmName}</a>
              <div class="muted small">{a.StateReason}</div>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
