import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentsCommand,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  GetDeploymentTargetCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
  type CodeDeployClient,
  type DeploymentInfo,
  type LambdaTarget,
  type LifecycleEvent,
} from '@aws-sdk/client-codedeploy';
import { cloudWatchClient, codeDeployClient, describeError, endpointUrl } from './client.js';
import { parseFlags } from './flags.js';
import { table } from './table.js';
import { printable } from './printable.js';

const USAGE = `Usage:
  versa deployments [--application A] [--group G]   list deployments, newest first
  versa deployments watch ID                        follow one deployment live until it ends
  versa deployments stop ID [--rollback | --no-rollback]
                                                    stop a deployment; --rollback puts the alias back on the
                                                    current version (without either flag, the deployment
                                                    group's auto-rollback settings decide)
Options: --endpoint-url URL (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)`;

/** How often `watch` asks the server, in real milliseconds. */
const POLL_MS = 500;
/** How long `watch` keeps trying when the server stops answering (a restart, say) before giving up. */
export const RECONNECT_MS = 15_000;
const BAR_WIDTH = 20;
const DEPLOYMENT_ID = /^d-[A-Z0-9]{9}$/;
const ACTIVE = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);

/** `versa deployments`: list, watch and stop CodeDeploy deployments of Lambda aliases. */
export async function deploymentsCommand(args: string[]): Promise<number> {
  if (args[0] === 'help' || args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    if (args[0] === 'watch') return await watchCommand(args.slice(1));
    if (args[0] === 'stop') return await stopCommand(args.slice(1));
    return await listCommand(args);
  } catch (err) {
    // parseFlags' plain sentence for an unknown option or a missing value.
    if (err instanceof Error && err.message.startsWith('versa: ')) {
      process.stderr.write(`versa deployments: ${err.message.slice('versa: '.length)}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
}

// ---- versa deployments ----

async function listCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { application: { type: 'string' }, group: { type: 'string' }, 'endpoint-url': { type: 'string' } },
  });
  if (positionals.length > 0) {
    process.stderr.write(`versa deployments: unknown action '${positionals[0]}'; use watch or stop, or no action to list.\n${USAGE}\n`);
    return 2;
  }
  if (values.group !== undefined && values.application === undefined) {
    process.stderr.write('versa deployments: --group needs --application, since group names are per application.\n');
    return 2;
  }
  const endpoint = endpointUrl(values['endpoint-url']);
  const client = codeDeployClient(endpoint);
  try {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await client.send(
        new ListDeploymentsCommand({ applicationName: values.application, deploymentGroupName: values.group, nextToken }),
      );
      ids.push(...(out.deployments ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    if (ids.length === 0) {
      const where = values.group
        ? ` in group ${values.group} of ${values.application}`
        : values.application
          ? ` in ${values.application}`
          : '';
      process.stdout.write(`No deployments${where} yet.\n`);
      return 0;
    }
    const infos: DeploymentInfo[] = [];
    for (let i = 0; i < ids.length; i += 25) {
      const out = await client.send(new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) }));
      infos.push(...(out.deploymentsInfo ?? []));
    }
    infos.sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0));
    const targets = await mapLimit(infos, 8, (d) => targetOf(client, d.deploymentId!).catch(() => undefined));
    const rows = infos.map((d, i) => {
      const fn = targets[i]?.lambdaFunctionInfo;
      return [
        d.deploymentId ?? '?',
        `${d.applicationName ?? '?'}/${d.deploymentGroupName ?? '?'}`,
        fn ? `${fn.functionName ?? '?'}:${fn.functionAlias ?? '?'} ${fn.currentVersion ?? '?'}→${fn.targetVersion ?? '?'}` : '?',
        d.status ?? '?',
        d.deploymentConfigName ?? '?',
        d.createTime ? dateTime(d.createTime) : '?',
        whyEnded(d),
      ];
    });
    process.stdout.write(table([['ID', 'APPLICATION/GROUP', 'TARGET', 'STATUS', 'CONFIG', 'CREATED', 'WHY IT ENDED'], ...rows]));
    return 0;
  } catch (err) {
    process.stderr.write(`versa deployments: ${describeError(err, endpoint)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}

/** Why a finished deployment ended the way it did: its error, and the rollback either side of it. */
function whyEnded(d: DeploymentInfo): string {
  const parts: string[] = [];
  if (d.errorInformation?.message) parts.push(d.errorInformation.message.replace(/\.$/, ''));
  if (d.rollbackInfo?.rollbackDeploymentId) parts.push(`rolled back by ${d.rollbackInfo.rollbackDeploymentId}`);
  if (d.rollbackInfo?.rollbackTriggeringDeploymentId) parts.push(`rollback of ${d.rollbackInfo.rollbackTriggeringDeploymentId}`);
  return parts.join('; ');
}

// ---- versa deployments stop ----

async function stopCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { rollback: { type: 'boolean' }, 'no-rollback': { type: 'boolean' }, 'endpoint-url': { type: 'string' } },
  });
  const id = checkId('stop', positionals);
  if (!id) return 2;
  if (values.rollback && values['no-rollback']) {
    process.stderr.write('versa deployments stop: pass --rollback or --no-rollback, not both.\n');
    return 2;
  }
  const rollback = values.rollback ? true : values['no-rollback'] ? false : undefined;
  const endpoint = endpointUrl(values['endpoint-url']);
  const client = codeDeployClient(endpoint);
  try {
    const out = await client.send(
      new StopDeploymentCommand({ deploymentId: id, ...(rollback !== undefined && { autoRollbackEnabled: rollback }) }),
    );
    const [d, target] = await Promise.all([getDeployment(client, id), targetOf(client, id)]);
    if (ACTIVE.has(d.status ?? '')) {
      process.stdout.write(
        `Asked deployment ${id} to stop; it is still ${d.status ?? 'running'} (${out.statusMessage ?? 'no message'}).\n`,
      );
      return 0;
    }
    const where = describeAlias(target);
    const rolledBackBy = d.rollbackInfo?.rollbackDeploymentId;
    process.stdout.write(
      rolledBackBy
        ? `Deployment ${id} was stopped and rolled back by ${rolledBackBy}: ${where}.\n`
        : `Deployment ${id} was stopped without a rollback: ${where}.\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`versa deployments stop: ${describeError(err, endpoint)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}

/** The one deployment id an action takes, checked for AWS's form; undefined (after saying why) if it is missing or malformed. */
function checkId(action: string, positionals: string[]): string | undefined {
  const id = positionals[0];
  if (!id || positionals.length > 1) {
    process.stderr.write(`versa deployments ${action}: name one deployment id, e.g. \`versa deployments ${action} d-ABCDEF123\`.\n`);
    return undefined;
  }
  if (!DEPLOYMENT_ID.test(id)) {
    process.stderr.write(
      `versa deployments ${action}: ${id} is not a deployment id; they look like d-ABCDEF123 (see \`versa deployments\`).\n`,
    );
    return undefined;
  }
  return id;
}

// ---- versa deployments watch ----

async function watchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { 'endpoint-url': { type: 'string' } },
  });
  const id = checkId('watch', positionals);
  if (!id) return 2;
  return followDeployment(endpointUrl(values['endpoint-url']), id, 'versa deployments watch');
}

/**
 * Prints a deployment live until it ends (or Ctrl-C): the traffic bar, lifecycle events, alarm states
 * and the outcome. Resolves to 0 when it succeeded, 1 when it failed or was stopped, 130 when interrupted.
 */
export async function followDeployment(endpoint: string, id: string, command: string): Promise<number> {
  const client = codeDeployClient(endpoint);
  const cloudWatch = cloudWatchClient(endpoint);
  const screen = new Screen(process.stdout.isTTY === true, (s) => process.stdout.write(s));
  let interrupted = false;
  let wake: (() => void) | undefined;
  const interrupt = () => {
    interrupted = true;
    wake?.();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, ms);
    });
  try {
    return await watch(client, cloudWatch, id, screen, sleep, () => interrupted);
  } catch (err) {
    screen.end();
    process.stderr.write(`${command}: ${describeError(err, endpoint)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    client.destroy();
    cloudWatch.destroy();
  }
}

interface Snapshot {
  deployment: DeploymentInfo;
  target: LambdaTarget | undefined;
  alarms: Map<string, { state: string; reason: string }>;
}

async function watch(
  client: CodeDeployClient,
  cloudWatch: CloudWatchClient,
  id: string,
  screen: Screen,
  sleep: (ms: number) => Promise<void>,
  interrupted: () => boolean,
): Promise<number> {
  const first = await getDeployment(client, id);
  const targetId = (await client.send(new ListDeploymentTargetsCommand({ deploymentId: id }))).targetIds?.[0];
  // The alarms the deployment group watches; a group deleted since has none to show.
  const group = await client
    .send(new GetDeploymentGroupCommand({ applicationName: first.applicationName, deploymentGroupName: first.deploymentGroupName }))
    .then(
      (g) => g.deploymentGroupInfo,
      () => undefined,
    );
  const alarmConfig = group?.alarmConfiguration;
  const alarmNames = alarmConfig?.enabled ? (alarmConfig.alarms ?? []).map((a) => a.name ?? '').filter(Boolean) : [];

  const poll = async (): Promise<Snapshot> => {
    const [deployment, target, alarms] = await Promise.all([
      getDeployment(client, id),
      targetId
        ? client.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId })).then((t) => t.deploymentTarget?.lambdaTarget)
        : undefined,
      alarmNames.length ? cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: alarmNames })) : undefined,
    ]);
    const states = new Map(
      (alarms?.MetricAlarms ?? []).map((a) => [a.AlarmName ?? '', { state: a.StateValue ?? '?', reason: a.StateReason ?? '' }]),
    );
    return { deployment, target, alarms: states };
  };

  let snap = await poll();
  const fn = snap.target?.lambdaFunctionInfo;
  const targetVersion = fn?.targetVersion ?? '?';
  screen.line(
    `Deployment ${id}: ${fn?.functionName ?? '?'}:${fn?.functionAlias ?? '?'} from version ${fn?.currentVersion ?? '?'} to version ${targetVersion}`,
  );
  screen.line(
    `  ${first.applicationName ?? '?'}/${first.deploymentGroupName ?? '?'}, ${first.deploymentConfigName ?? '?'}, created ${first.createTime ? dateTime(first.createTime) : '?'}${first.creator === 'codeDeployRollback' ? `, a rollback of ${first.rollbackInfo?.rollbackTriggeringDeploymentId ?? '?'}` : ''}`,
  );
  screen.line(alarmNames.length ? `  watching alarms: ${alarmNames.join(', ')}` : '  no alarms watched');

  const shown: Shown = { events: new Map(), alarms: new Map(), weight: undefined, shifts: 0 };
  let failures = 0;
  let graceUsed = false;
  for (;;) {
    show(snap, shown, screen, alarmNames, targetVersion);
    const status = snap.deployment.status ?? '?';
    if (!ACTIVE.has(status)) {
      // Should a rollback be stored a moment after the end it belongs to, one more look catches it.
      const rolledBack = snap.deployment.rollbackInfo?.rollbackDeploymentId !== undefined;
      if (status !== 'Succeeded' && !rolledBack && !graceUsed) {
        graceUsed = true;
        await sleep(POLL_MS);
        snap = await poll();
        continue;
      }
      screen.end();
      return outcome(snap, screen);
    }
    if (interrupted()) break;
    await sleep(POLL_MS);
    if (interrupted()) break;
    try {
      snap = await poll();
      if (failures > 0) screen.line('(reconnected)');
      failures = 0;
    } catch (err) {
      if (!transient(err) || ++failures * POLL_MS > RECONNECT_MS) throw err;
      if (failures === 1) screen.line('(the server is not answering; still trying)');
    }
  }
  screen.end();
  process.stdout.write(`Stopped watching; deployment ${id} is still ${snap.deployment.status ?? 'running'}.\n`);
  return 130;
}

/** What `watch` has printed so far. */
interface Shown {
  events: Map<string, string>;
  alarms: Map<string, string>;
  weight: number | undefined;
  /** How many of the recorded traffic shifts have been drawn. */
  shifts: number;
}

/** `2026-11-22T04:56:41.000Z 10% on version 2`: one line of AllowTraffic's log tail per shift (domain/deployment.ts). */
const SHIFT_LINE = /^(\S+) (\d+(?:\.\d+)?)% on version \S+$/;

/**
 * The traffic shifts the deployment recorded, from AllowTraffic's diagnostics log tail; undefined when the
 * server records none (then the watch samples the current weight instead).
 */
function recordedShifts(events: LifecycleEvent[]): { at: Date; weight: number }[] | undefined {
  const tail = events.find((e) => e.lifecycleEventName === 'AllowTraffic')?.diagnostics?.logTail;
  if (!tail) return undefined;
  const shifts: { at: Date; weight: number }[] = [];
  for (const line of tail.split('\n')) {
    const m = SHIFT_LINE.exec(line);
    if (m) shifts.push({ at: new Date(m[1]!), weight: Number(m[2]) / 100 });
  }
  return shifts.length ? shifts : undefined;
}

/** Prints what changed since the last look: alarm states, lifecycle events, and the traffic bar. */
function show(snap: Snapshot, shown: Shown, screen: Screen, alarmNames: string[], targetVersion: string): void {
  for (const name of alarmNames) {
    const a = snap.alarms.get(name);
    const state = a?.state ?? 'not found';
    const before = shown.alarms.get(name);
    if (before === state) continue;
    shown.alarms.set(name, state);
    const reason = a && state === 'ALARM' && a.reason ? ` (${a.reason})` : '';
    screen.line(`alarm ${name}: ${before === undefined ? state : `${before} → ${state}`}${reason}`);
  }
  const events = snap.target?.lifecycleEvents ?? [];
  // Every step the deployment took, from its record, so that one shorter than a poll is shown too; a
  // server that records none has its current weight sampled instead.
  const history = recordedShifts(events);
  const weight = snap.target?.lambdaFunctionInfo?.targetVersionWeight ?? 0;
  let barDue = history === undefined && weight !== shown.weight;
  const drawBar = () => {
    if (history) {
      const fresh = history.slice(shown.shifts);
      shown.shifts = history.length;
      fresh.forEach((s, i) => {
        const text = `${bar(s.weight, targetVersion)}  at ${clock(s.at)}`;
        // On a terminal the last stays as the live bar; the steps before it are kept above it.
        if (i === fresh.length - 1) screen.bar(text);
        else screen.line(text);
        shown.weight = s.weight;
      });
      return;
    }
    if (!barDue) return;
    barDue = false;
    shown.weight = weight;
    screen.bar(bar(weight, targetVersion));
  };
  const allowIndex = events.findIndex((e) => e.lifecycleEventName === 'AllowTraffic');
  events.forEach((e, i) => {
    const name = e.lifecycleEventName ?? '?';
    const status = e.status ?? '?';
    const running = status === 'InProgress' || status === 'Pending';
    // Traffic moves inside AllowTraffic: its steps are drawn after AllowTraffic starts and before it ends
    // or anything after it starts.
    if ((i === allowIndex && !running) || (i > allowIndex && status !== 'Pending')) drawBar();
    if (shown.events.get(name) === status) {
      if (i === allowIndex && status === 'InProgress') drawBar();
      return;
    }
    shown.events.set(name, status);
    const times =
      !e.startTime || status === 'Skipped'
        ? ''
        : !e.endTime
          ? `since ${clock(e.startTime)}`
          : e.endTime.getTime() - e.startTime.getTime() < 1000
            ? `at ${clock(e.startTime)}`
            : `${clock(e.startTime)} → ${clock(e.endTime)}${duration(e.endTime.getTime() - e.startTime.getTime())}`;
    const why = e.diagnostics?.message && e.diagnostics.errorCode !== 'Success' ? `  ${e.diagnostics.message}` : '';
    screen.line(`${name.padEnd(18)}  ${status.padEnd(10)}  ${times}${why}`.trimEnd());
    if (i === allowIndex && status === 'InProgress') drawBar();
  });
  // Without a record: where the traffic stands now (before any shift, 0% on the target).
  if (history === undefined) drawBar();
}

function outcome(snap: Snapshot, screen: Screen): number {
  const d = snap.deployment;
  const where = describeAlias(snap.target);
  if (d.status === 'Succeeded') {
    const of = d.rollbackInfo?.rollbackTriggeringDeploymentId;
    screen.line(of ? `Succeeded: rolled back ${of}; ${where}.` : `Succeeded: ${where}.`);
    return 0;
  }
  const reason = d.errorInformation?.message ?? 'no reason was given';
  const by = d.rollbackInfo?.rollbackDeploymentId;
  screen.line(
    `${d.status ?? 'Failed'}: ${reason.replace(/\.$/, '')}${d.errorInformation?.code ? ` (${d.errorInformation.code})` : ''}; ${
      by ? `rolled back by ${by}, so ${where}` : `not rolled back, so ${where}`
    }.`,
  );
  return 1;
}

// ---- shared ----

async function getDeployment(client: CodeDeployClient, id: string): Promise<DeploymentInfo> {
  const out = await client.send(new GetDeploymentCommand({ deploymentId: id }));
  if (!out.deploymentInfo) throw new Error(`The server returned no deployment for ${id}.`);
  return out.deploymentInfo;
}

/** The deployment's one Lambda target (function, alias, versions, weight, lifecycle events). */
async function targetOf(client: CodeDeployClient, id: string): Promise<LambdaTarget | undefined> {
  const targetId = (await client.send(new ListDeploymentTargetsCommand({ deploymentId: id }))).targetIds?.[0];
  if (!targetId) return undefined;
  return (await client.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId }))).deploymentTarget?.lambdaTarget;
}

/** Where the alias's traffic is, per the deployment's target weight: "fn:live is wholly on version 2". */
function describeAlias(target: LambdaTarget | undefined): string {
  const fn = target?.lambdaFunctionInfo;
  if (!fn) return 'the alias is wherever the deployment left it';
  const name = `${fn.functionName ?? '?'}:${fn.functionAlias ?? '?'}`;
  const w = fn.targetVersionWeight ?? 0;
  if (w >= 1) return `${name} is wholly on version ${fn.targetVersion ?? '?'}`;
  if (w <= 0) return `${name} is wholly on version ${fn.currentVersion ?? '?'}`;
  return `${name} stays ${percent(w)}% on version ${fn.targetVersion ?? '?'} and ${percent(1 - w)}% on version ${fn.currentVersion ?? '?'}`;
}

const percent = (w: number) => Number((w * 100).toFixed(1));

/** `[██░░░░░░░░░░░░░░░░░░] 10% on version 2` */
export function bar(weight: number, version: string): string {
  const cells = weight >= 1 ? BAR_WIDTH : weight <= 0 ? 0 : Math.min(BAR_WIDTH - 1, Math.max(1, Math.round(weight * BAR_WIDTH)));
  return `[${'█'.repeat(cells)}${'░'.repeat(BAR_WIDTH - cells)}] ${percent(weight)}% on version ${version}`;
}

/**
 * Output for `watch`. Piped, every change is a new line. On a terminal the traffic bar stays on the
 * bottom line and is redrawn in place; other lines are printed above it.
 */
class Screen {
  private current: string | undefined;

  constructor(
    private readonly tty: boolean,
    private readonly write: (s: string) => void,
  ) {}

  /** A line of what happened, which may quote a hook's or an alarm's words: printed as printable text. */
  line(text: string): void {
    const safe = printable(text).replace(/\n/g, '\n    ');
    if (this.tty && this.current !== undefined) this.write(`\r\x1b[2K${safe}\n${this.current}`);
    else this.write(`${safe}\n`);
  }

  bar(text: string): void {
    if (!this.tty) {
      this.write(`${text}\n`);
      return;
    }
    this.write(`${this.current === undefined ? '' : '\r\x1b[2K'}${text}`);
    this.current = text;
  }

  /** Leaves the bar where it is and moves below it. */
  end(): void {
    if (this.tty && this.current !== undefined) this.write('\n');
    this.current = undefined;
  }
}

/** Whether a failed call is worth repeating: the server restarting or briefly unreachable. */
export function transient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code) ||
    e.name === 'TimeoutError' ||
    /ECONNREFUSED|ECONNRESET|socket hang up/.test(e.message ?? '')
  );
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Platform time of day, in the local time zone. */
const clock = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
const dateTime = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(d)}`;

/** " (5m 0s)" for a span of platform time worth mentioning; nothing for an instant. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return '';
  if (s < 60) return ` (${s}s)`;
  if (s < 3600) return ` (${Math.floor(s / 60)}m ${s % 60}s)`;
  return ` (${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m)`;
}
