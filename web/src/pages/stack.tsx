import { useState } from 'preact/hooks';
import { getDeployments, type DeploymentInfo } from '../api/codedeploy';
import { getStack, localUrl, rollbackStack, type RollbackResult, type Stack, type StackEvent, type StackResource } from '../api/stacks';
import { useLive } from '../live';
import { href } from '../router';
import { Empty, ErrorNote, Section, Status, When } from '../ui/common';

/** What each phase of an update in flight is doing, in a few words. */
const PHASES: Record<string, string> = {
  apply: 'creating and updating resources',
  traffic: 'CodeDeploy is moving traffic to the new versions',
  cleanup: 'removing what the template no longer has',
  rollback: 'putting the resources back as they were',
};

/** The function named by a Lambda ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`), or a bare name. */
const functionOf = (ref: string) => (ref.startsWith('arn:') ? ref.split(':')[6] : ref.split(':')[0]);

/** Where in the console a resource of the stack can be looked at, if anywhere. */
function resourceLink(r: StackResource): { to: string; label: string } | undefined {
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  switch (r.type) {
    case 'AWS::Lambda::Function':
      return { to: href.fn(r.physicalId), label: r.physicalId };
    case 'AWS::Lambda::Alias':
    case 'AWS::Lambda::Version': {
      const fn = functionOf(r.physicalId) ?? text(r.properties.FunctionName);
      return fn ? { to: href.fn(fn), label: r.physicalId } : undefined;
    }
    case 'AWS::ApiGateway::RestApi':
      return { to: href.api(r.physicalId), label: r.physicalId };
    case 'AWS::ApiGateway::Stage':
    case 'AWS::ApiGateway::Deployment': {
      const api = text(r.properties.RestApiId);
      return api ? { to: href.api(api), label: r.physicalId } : undefined;
    }
    case 'AWS::CloudWatch::Alarm':
      return { to: href.alarms(r.physicalId), label: r.physicalId };
    default:
      return undefined;
  }
}

export function StackPage({ name }: { name: string }) {
  const live = useLive(
    async () => {
      const stack = await getStack(name);
      const ids = stack.operation?.deployments.map((d) => d.deploymentId) ?? [];
      const deployments = ids.length ? await getDeployments(ids).catch(() => [] as DeploymentInfo[]) : [];
      return { stack, deployments };
    },
    [name],
    (c) => (c.kind === 'stack' && c.name === name) || c.kind === 'deployment',
  );
  const stack = live.data?.stack;
  return (
    <>
      <p class="crumbs">
        <a href={href.overview()}>Overview</a> › Stacks › {name}
      </p>
      <h1>
        Stack {name} {stack && <Status value={stack.status} />}
      </h1>
      <ErrorNote error={live.error} />
      {stack && (
        <div class="grid">
          <Section title="Status" id="stack-status">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <Status value={stack.status} />
              </dd>
              <dt>Last update</dt>
              <dd class="stack-reason">
                {stack.reason ?? <span class="muted">{stack.operation ? 'in progress' : 'ended without a word'}</span>}
              </dd>
              <dt>Created</dt>
              <dd>
                <When ms={stack.createdAt} withDate />
              </dd>
              <dt>Updated</dt>
              <dd>
                <When ms={stack.updatedAt} withDate />
              </dd>
            </dl>
            <p class="muted small" id="rollback-help">
              Roll back stops the deployments an update is running, so the stack rolls back; after an update, it puts each alias the update
              moved back on its earlier version.
            </p>
            <RollbackButton name={name} />
          </Section>
          {stack.operation && <OperationCard stack={stack} deployments={live.data?.deployments ?? []} />}
          <Section title="Outputs" id="outputs">
            {stack.outputs.length === 0 && <Empty>The template has no outputs.</Empty>}
            {stack.outputs.length > 0 && (
              <dl class="facts">
                {stack.outputs.map((o) => {
                  const local = localUrl(o.value);
                  return [
                    <dt key={`${o.key}-k`}>{o.key}</dt>,
                    <dd key={`${o.key}-v`}>
                      {local ? <a href={local}>{local}</a> : <code>{o.value}</code>}
                      {local && <div class="muted small">{o.value}</div>}
                      {o.description && <div class="muted small">{o.description}</div>}
                    </dd>,
                  ];
                })}
              </dl>
            )}
          </Section>
          <Section title="Resources" id="resources" wide>
            {Object.keys(stack.resources).length === 0 && <Empty>The stack owns no resources.</Empty>}
            {Object.keys(stack.resources).length > 0 && (
              <div class="scroll">
                <table class="stack-table cards">
                  <thead>
                    <tr>
                      <th scope="col">Logical id</th>
                      <th scope="col">Type</th>
                      <th scope="col">Physical id</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.values(stack.resources).map((r) => {
                      const link = resourceLink(r);
                      return (
                        <tr key={r.logicalId}>
                          <td data-label="Logical id">{r.logicalId}</td>
                          <td data-label="Type" class="small">
                            {r.type}
                          </td>
                          <td data-label="Physical id" class="physical">
                            {link ? <a href={link.to}>{link.label}</a> : <code>{r.physicalId}</code>}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
          <Section title="Events" id="stack-events" wide>
            {stack.events.length === 0 && <Empty>No events yet.</Empty>}
            <EventGroups stack={stack} />
          </Section>
        </div>
      )}
    </>
  );
}

/** One create or update of the stack: its events, from the stack's own *_IN_PROGRESS to where it ended. */
interface Attempt {
  kind: string;
  startedAt: number;
  /** The stack's latest status in this attempt, and why. */
  status: string;
  reason?: string;
  events: StackEvent[];
}

/** The stack's events cut into attempts, each starting where the stack itself began a create or update; newest first. */
function attemptsOf(stack: Stack): Attempt[] {
  const attempts: Attempt[] = [];
  for (const e of stack.events) {
    const own = e.resourceType === 'AWS::CloudFormation::Stack';
    const begins = own && (e.status === 'CREATE_IN_PROGRESS' || e.status === 'UPDATE_IN_PROGRESS');
    let current = attempts[attempts.length - 1];
    if (begins || !current) {
      current = { kind: e.status.startsWith('CREATE') ? 'Create' : 'Update', startedAt: e.timestamp, status: e.status, events: [] };
      attempts.push(current);
    }
    current.events.push(e);
    if (own) {
      current.status = e.status;
      current.reason = e.reason;
    }
  }
  return attempts.reverse();
}

/** The stack's events grouped by attempt, newest first; each attempt opens to its events, newest first. */
function EventGroups({ stack }: { stack: Stack }) {
  const attempts = attemptsOf(stack);
  return (
    <ol class="attempts">
      {attempts.map((a, n) => (
        <li key={`${a.startedAt}-${attempts.length - n}`}>
          <details class="attempt" open={n === 0 && !!stack.operation}>
            <summary>
              <Status value={a.status} /> <strong>{a.kind}</strong> · started <When ms={a.startedAt} withDate /> ·{' '}
              {a.events.length === 1 ? '1 event' : `${a.events.length} events`}
              {a.reason && a.reason !== 'User Initiated' && <div class="small attempt-reason">{a.reason}</div>}
            </summary>
            <div class="scroll">
              <table class="events-table">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Status</th>
                    <th scope="col">Resource</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {[...a.events].reverse().map((e, i) => (
                    <tr key={i}>
                      <td class="nowrap">
                        <When ms={e.timestamp} />
                      </td>
                      <td>
                        <Status value={e.status} />
                      </td>
                      <td>
                        {e.logicalId}
                        <div class="muted small">{e.resourceType}</div>
                      </td>
                      <td class="small wrap">{e.reason ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </li>
      ))}
    </ol>
  );
}

function OperationCard({ stack, deployments }: { stack: Stack; deployments: DeploymentInfo[] }) {
  const op = stack.operation!;
  const status = new Map(deployments.map((d) => [d.deploymentId, d.status]));
  return (
    <Section title="In flight" id="operation">
      <p>
        {op.kind === 'create' ? 'Create' : 'Update'}, phase <strong class="phase">{op.phase}</strong>
        {PHASES[op.phase] && <span class="muted"> — {PHASES[op.phase]}</span>} · started <When ms={op.startedAt} />
      </p>
      {op.deployments.length === 0 && <Empty>No CodeDeploy deployment runs for this update.</Empty>}
      {op.deployments.length > 0 && (
        <ul class="plain">
          {op.deployments.map((d) => (
            <li key={d.deploymentId}>
              <div class="row spread">
                <a href={href.deployment(d.deploymentId)}>{d.deploymentId}</a>
                {status.get(d.deploymentId) && <Status value={status.get(d.deploymentId)!} />}
              </div>
              <div class="small">
                <a href={href.fn(d.functionName)}>{d.functionName}</a>:{d.alias} · version {d.fromVersion} → version {d.toVersion}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function RollbackButton({ name }: { name: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<RollbackResult>();
  const roll = async () => {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await rollbackStack(name));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="rollback">
      <button type="button" class="danger" disabled={busy} aria-describedby="rollback-help" onClick={() => void roll()}>
        {busy ? 'Rolling back…' : 'Roll back'}
      </button>
      <ErrorNote error={error} label="Roll back" />
      {result && (
        <div class="note rollback-result" role="status">
          {result.stopped.map((d) => (
            <p key={d.deploymentId}>
              Stopped <a href={href.deployment(d.deploymentId)}>{d.deploymentId}</a> ({d.functionName}:{d.alias}, version {d.fromVersion} →{' '}
              {d.toVersion}) with rollback.
            </p>
          ))}
          {result.moved.map((m) => (
            <p key={`${m.functionName}:${m.alias}`}>
              Moved {m.functionName}:{m.alias} from version {m.from} back to version {m.to}.
            </p>
          ))}
          {result.stopped.length === 0 && result.moved.length === 0 && <p>Nothing needed moving.</p>}
        </div>
      )}
    </div>
  );
}
