/**
 * Lambda deployments (CodeDeploy's model): traffic-routing configs, the AppSpec, and the pure `step()`
 * that moves a deployment from one persisted state to the next. The runner in `deploy/` performs the
 * actions step() asks for; everything that decides lives here, with time passed in.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { PlatformError } from '../core/errors.js';
import { lineNestedPast } from '../core/yaml-depth.js';

/**
 * The YAML parser, loaded when the first YAML AppSpec is read (the stack engine sends JSON): a server
 * that starts need not load it. Loaded synchronously, so that parsing stays a plain function.
 */
const require = createRequire(import.meta.url);
let yaml: typeof Yaml | undefined;
/**
 * A repeated key is not refused: the last one counts, as in a JSON AppSpec (JSON.parse) and as AWS's
 * YAML loader reads it. yaml's check compares each key of a map with every one before it: 12,700 keys
 * within the size bound held the event loop 2.4 s.
 */
const parseYaml = (text: string): unknown => (yaml ??= require('yaml') as typeof Yaml).parse(text, { uniqueKeys: false });

export type TrafficRouting =
  | { type: 'AllAtOnce' }
  | { type: 'TimeBasedCanary'; percentage: number; intervalMinutes: number }
  | { type: 'TimeBasedLinear'; percentage: number; intervalMinutes: number };

const canary = (minutes: number): TrafficRouting => ({ type: 'TimeBasedCanary', percentage: 10, intervalMinutes: minutes });
const linear = (minutes: number): TrafficRouting => ({ type: 'TimeBasedLinear', percentage: 10, intervalMinutes: minutes });

export const PREDEFINED_CONFIGS: Readonly<Record<string, TrafficRouting>> = {
  'CodeDeployDefault.LambdaAllAtOnce': { type: 'AllAtOnce' },
  'CodeDeployDefault.LambdaCanary10Percent5Minutes': canary(5),
  'CodeDeployDefault.LambdaCanary10Percent10Minutes': canary(10),
  'CodeDeployDefault.LambdaCanary10Percent15Minutes': canary(15),
  'CodeDeployDefault.LambdaCanary10Percent30Minutes': canary(30),
  'CodeDeployDefault.LambdaLinear10PercentEvery1Minute': linear(1),
  'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes': linear(2),
  'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes': linear(3),
  'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes': linear(10),
};

export const DEFAULT_CONFIG = 'CodeDeployDefault.LambdaAllAtOnce';

export type DeploymentStatus = 'Created' | 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped';
export type EventStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped';
export type LifecycleName = 'Start' | 'BeforeAllowTraffic' | 'AllowTraffic' | 'AfterAllowTraffic' | 'End';
export const LIFECYCLE: readonly LifecycleName[] = ['Start', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic', 'End'];
export type RollbackEvent = 'DEPLOYMENT_FAILURE' | 'DEPLOYMENT_STOP_ON_ALARM' | 'DEPLOYMENT_STOP_ON_REQUEST';

export interface LifecycleEvent {
  lifecycleEventName: LifecycleName;
  status: EventStatus;
  startTime?: number;
  endTime?: number;
  /** For hook events: the function run and the id it must report with. */
  hookFunction?: string;
  hookExecutionId?: string;
  diagnostics?: { errorCode: string; message: string };
}

/** Everything about a deployment, as stored. The store holds this document; step() transforms it. */
export interface DeploymentState {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  routing: TrafficRouting;
  description?: string;
  creator: 'user' | 'codeDeployRollback' | 'CloudFormation';
  status: DeploymentStatus;
  createTime: number;
  startTime?: number;
  completeTime?: number;
  revision: { revisionType: string; appSpecContent?: { content: string; sha256?: string }; string?: { content: string; sha256?: string } };
  functionName: string;
  alias: string;
  currentVersion: string;
  targetVersion: string;
  events: LifecycleEvent[];
  /** The share of traffic on the target version, 0–1, as the alias carries it now. */
  targetWeight: number;
  /**
   * Every weight step() routed, in order, with its platform time: the shift's steps and a rollback's
   * return to 0. A watcher reads what happened here, however briefly a step lasted. Absent in deployments
   * stored before it was kept.
   */
  trafficShifts?: TrafficShift[];
  /** When AllowTraffic began; weights are computed from it. */
  shiftStartedAt?: number;
  /** When the bake window after full traffic ends (blue/green termination wait). */
  bakeUntil?: number;
  bakeMinutes: number;
  hookDeadline?: number;
  alarms: string[];
  alarmsEnabled: boolean;
  /**
   * AlarmConfiguration.ignorePollAlarmFailure: go on when an alarm's state cannot be read (it does not
   * exist). Absent in deployments stored before it was kept, which then behave as AWS's default, false.
   */
  ignorePollAlarmFailure?: boolean;
  autoRollback: { enabled: boolean; events: RollbackEvent[] };
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
  /** Set by step() when this deployment ended and its alias must go back: the runner records the rollback. */
  rollbackPending?: boolean;
  /**
   * The alias as this deployment last found it where it expected, at the start of its latest step: its
   * RevisionId and the share of traffic it carried on the target version. Stored with the step, before
   * the step moves the alias, so that a controller resuming the deployment (after a restart, on a new
   * leader) tells an alias nobody touched since (the same RevisionId) from one moved since. Absent
   * before the first step, and in deployments stored before it was kept.
   */
  aliasAt?: { revisionId: string; weight: number };
  /** The share the latest step was moving the alias to, stored before it moved it; absent when it moved nothing. */
  movingTo?: number;
  /**
   * What was reported for the deployment (hook statuses, stop requests) and not yet taken by a step. It
   * is stored before the controller hears of it, so a report survives the controller's node dying.
   */
  inbox?: Observation[];
}

/** One weight the deployment put on its target version, and when. */
export interface TrafficShift {
  at: number;
  weight: number;
}

/**
 * The traffic shifts as log lines, one per shift, oldest first: `2026-11-22T04:56:41.000Z 10% on version 2`.
 * GetDeploymentTarget reports them as the AllowTraffic event's diagnostics log tail, which is where
 * `versa deployments watch` reads every step, however briefly it lasted.
 */
export function trafficLog(shifts: readonly TrafficShift[], targetVersion: string): string {
  return shifts
    .map((s) => `${new Date(s.at).toISOString()} ${Number((s.weight * 100).toFixed(1))}% on version ${targetVersion}`)
    .join('\n');
}

/** Something the runner saw since the last step. */
export type Observation =
  | { kind: 'hookStatus'; executionId: string; status: 'Succeeded' | 'Failed'; message?: string }
  | { kind: 'alarm'; name: string }
  /** Watched alarms whose state could not be read (no such alarm, or the read failed). */
  | { kind: 'alarmUnreadable'; names: string[] }
  | { kind: 'stop'; autoRollbackEnabled: boolean | undefined }
  /** DeleteApplication or DeleteDeploymentGroup removed what the deployment belongs to. */
  | { kind: 'deleted'; what: 'application' | 'deploymentGroup' }
  /**
   * CreateDeployment found another active deployment moving the same alias (put in the inbox by the
   * transaction that created this one): it fails at its start without touching the alias.
   */
  | { kind: 'aliasBusy'; deploymentId: string }
  /**
   * The alias is not where this deployment left it (or, before it starts, not wholly on the current
   * version): someone else moved or deleted it. `found` says what it is now, in words.
   */
  | { kind: 'aliasChanged'; found: string }
  /** Moving the alias's traffic failed (e.g. the target version was deleted); `notFound` when something it names is gone. */
  | { kind: 'trafficFailed'; message: string; notFound: boolean };

/** What step() asks the runner to do, in order. */
export type Action =
  /** Put `weight` (0–1) of the alias's traffic on the target version (1 = FunctionVersion switched). */
  | { kind: 'route'; weight: number }
  | { kind: 'invokeHook'; functionName: string; executionId: string }
  /** Start a warm environment of the target version before it takes traffic. */
  | { kind: 'warm'; version: string }
  /** Release the environments of a version the alias no longer routes to. */
  | { kind: 'release'; version: string };

export interface StepResult {
  state: DeploymentState;
  actions: Action[];
  /** Platform time at which step() wants to run again, if the deployment is still running. */
  wakeAt?: number;
}

export const HOOK_TIMEOUT_MS = 3_600_000;
const MINUTE = 60_000;

export function isActive(status: DeploymentStatus): boolean {
  return status === 'Created' || status === 'InProgress';
}

/** An alias's routing: the part of an alias record a deployment moves. */
export interface AliasRouting {
  functionVersion: string;
  additionalVersionWeights: Record<string, number> | undefined;
}

/**
 * The share of the alias's traffic on the deployment's target version, when the alias routes the way
 * this deployment does (wholly on the current version, the current version with a weight on the target,
 * or wholly on the target); undefined when it routes any other way, or does not exist.
 */
export function aliasShare(
  alias: AliasRouting | undefined,
  d: Pick<DeploymentState, 'currentVersion' | 'targetVersion'>,
): number | undefined {
  if (!alias) return undefined;
  const extra = Object.entries(alias.additionalVersionWeights ?? {});
  if (extra.length === 0) {
    if (alias.functionVersion === d.currentVersion) return 0;
    return alias.functionVersion === d.targetVersion ? 1 : undefined;
  }
  const [version, weight] = extra[0]!;
  return extra.length === 1 && alias.functionVersion === d.currentVersion && version === d.targetVersion ? weight : undefined;
}

/**
 * The shares of the target version the alias may carry when a step of `d` begins. Before it starts,
 * only the current version wholly (AWS fails a deployment whose alias is elsewhere, or already split
 * between two versions). While the controller runs it, the share its last step left. When a controller
 * resumes it (after a restart or a change of leader), the last step may or may not have moved the alias
 * before it stopped: an alias whose RevisionId (`revisionId`) is still the one the step found carries
 * the share found then; one changed since must carry the share the step was moving it to (the move was
 * made), and any other routing is someone else's change. Deployments stored before `aliasAt` was kept
 * accept the stored share, the one before it and both ends, since a step stored its weight before
 * routing it but its ending route before it was stored.
 */
export function expectedShares(d: DeploymentState, resuming: boolean, revisionId?: string): number[] {
  if (resuming && d.aliasAt !== undefined) return revisionId === d.aliasAt.revisionId ? [d.aliasAt.weight] : [d.movingTo ?? d.targetWeight];
  if (d.status === 'Created') return [0];
  if (!resuming) return [d.targetWeight];
  return [d.targetWeight, d.trafficShifts?.at(-2)?.weight ?? 0, 0, 1];
}

/** True when `share` is one of `shares` (weights are stored as they were computed; the tolerance is for safety). */
export function shareIn(share: number | undefined, shares: readonly number[]): boolean {
  return share !== undefined && shares.some((s) => Math.abs(s - share) < 1e-9);
}

const percent = (w: number) => `${Number((w * 100).toFixed(1))}%`;

/** An alias's routing in words: `version 3`, or `90% on version 3 and 10% on version 4`. */
export function describeRouting(alias: AliasRouting | undefined): string {
  if (!alias) return 'no alias (it was deleted)';
  const extra = Object.entries(alias.additionalVersionWeights ?? {});
  if (!extra.length) return `version ${alias.functionVersion}`;
  const rest = 1 - extra.reduce((sum, [, w]) => sum + w, 0);
  return [`${percent(rest)} on version ${alias.functionVersion}`, ...extra.map(([v, w]) => `${percent(w)} on version ${v}`)].join(' and ');
}

/** The routing a deployment gives its alias with `share` of the traffic on the target version. */
export function routingAt(d: Pick<DeploymentState, 'currentVersion' | 'targetVersion'>, share: number): AliasRouting {
  return {
    functionVersion: share >= 1 ? d.targetVersion : d.currentVersion,
    additionalVersionWeights: share > 0 && share < 1 ? { [d.targetVersion]: share } : undefined,
  };
}

/**
 * The traffic weight the target version should have now, `made` shifts into AllowTraffic (the last at
 * `lastAt`), and how long until it changes. Each shift comes one interval after the one before it was
 * made, not at a fixed time from the start: a controller that wakes late (a loaded machine, a restart)
 * makes the next shift late rather than skipping one, so every share of traffic is watched for its whole
 * interval before more is sent, as the config promises.
 */
export function nextShift(
  routing: TrafficRouting,
  made: number,
  lastAt: number | undefined,
  now: number,
): { weight: number; nextChangeIn?: number } {
  if (routing.type === 'AllAtOnce') return { weight: 1 };
  const interval = routing.intervalMinutes * MINUTE;
  const weightAfter = (shifts: number) =>
    routing.type === 'TimeBasedCanary' ? (shifts <= 1 ? routing.percentage / 100 : 1) : Math.min(1, (routing.percentage * shifts) / 100);
  if (made === 0 || lastAt === undefined) return { weight: weightAfter(1), nextChangeIn: interval };
  const due = lastAt + interval;
  if (now < due) return { weight: weightAfter(made), nextChangeIn: due - now };
  const weight = weightAfter(made + 1);
  return weight >= 1 ? { weight: 1 } : { weight, nextChangeIn: interval };
}

function rollbackWanted(state: DeploymentState, event: RollbackEvent, override?: boolean): boolean {
  if (override !== undefined) return override;
  return state.autoRollback.enabled && state.autoRollback.events.includes(event);
}

/**
 * Advances a deployment: applies observations (hook reports, alarms, stop requests), then moves
 * through the lifecycle as far as `now` allows. Pure: the same state, time and observations always
 * give the same result.
 */
export function step(prev: DeploymentState, now: number, observations: Observation[] = []): StepResult {
  const state: DeploymentState = structuredClone(prev);
  const actions: Action[] = [];
  if (!isActive(state.status)) return { state, actions };
  const event = (name: LifecycleName) => state.events.find((e) => e.lifecycleEventName === name)!;
  const route = (weight: number) => {
    state.targetWeight = weight;
    actions.push({ kind: 'route', weight });
    (state.trafficShifts ??= []).push({ at: now, weight });
  };

  const end = (status: 'Failed' | 'Stopped', code: string, message: string, rollback: boolean): StepResult => {
    for (const e of state.events) {
      if (e.status === 'InProgress') {
        // It ran (traffic moved, or a hook was invoked) and did not finish: never Skipped, which says it
        // did not run. Its diagnostics say why it ended.
        e.status = 'Failed';
        e.endTime = now;
        e.diagnostics ??= { errorCode: 'UnknownError', message };
      } else if (e.status === 'Pending') e.status = 'Skipped';
    }
    state.status = status;
    state.completeTime = now;
    state.errorInformation = { code, message };
    delete state.hookDeadline;
    if (rollback) {
      state.rollbackPending = true;
      if (state.targetWeight !== 0) route(0);
    }
    // The target takes no traffic now (rolled back, or it never got any): its pre-warmed environments
    // have nothing left to do. One the shift left some traffic on keeps them.
    if (state.targetWeight === 0) actions.push({ kind: 'release', version: state.targetVersion });
    return { state, actions };
  };

  // The alias is not this deployment's to move: it ends without touching it. A rollback would move it
  // too, overwriting someone else's change, so none is made whatever the rollback settings say; and the
  // target's environments are left alone, since the alias may now route to it.
  const busy = observations.find((o) => o.kind === 'aliasBusy');
  const changed = observations.find((o) => o.kind === 'aliasChanged');
  if ((busy && state.status === 'Created') || changed) {
    const where = `alias ${state.alias} of ${state.functionName}`;
    let message: string;
    if (state.status === 'Created') {
      // CodeDeploy's answer for an alias that is not wholly on the AppSpec's CurrentVersion, or that
      // already shifts traffic between two versions: the deployment fails at its start.
      state.status = 'InProgress';
      state.startTime = now;
      Object.assign(event('Start'), { status: 'InProgress', startTime: now });
      message = busy
        ? `The deployment failed because the Lambda function ${where} is being deployed by ${busy.deploymentId}, which is still running: an alias is moved by one deployment at a time. Create this deployment again when ${busy.deploymentId} has ended.`
        : `The deployment failed because the AppSpec file that specifies the AWS Lambda deployment configuration is missing or has an invalid configuration. The Lambda function alias version does not match the current version in AppSpec file: ${where} routes to ${changed!.found}, and the AppSpec's CurrentVersion is ${state.currentVersion}. Point the alias wholly at version ${state.currentVersion}, with no additional version weights, or name the version it routes to.`;
    } else {
      message = `The ${where} was changed outside this deployment: it routes to ${changed!.found}, where the deployment had left ${describeRouting(routingAt(state, state.targetWeight))}. The deployment stopped without moving the alias, so that change stays; no rollback was made.`;
    }
    const ended = end('Failed', 'INVALID_LAMBDA_CONFIGURATION', message, false);
    ended.actions = ended.actions.filter((a) => a.kind !== 'release');
    return ended;
  }

  if (state.status === 'Created') {
    state.status = 'InProgress';
    state.startTime = now;
    Object.assign(event('Start'), { status: 'Succeeded', startTime: now, endTime: now });
    actions.push({ kind: 'warm', version: state.targetVersion });
  }

  for (const o of observations) {
    if (o.kind === 'stop') {
      return end(
        'Stopped',
        'MANUAL_STOP',
        'The deployment was stopped on request.',
        rollbackWanted(state, 'DEPLOYMENT_STOP_ON_REQUEST', o.autoRollbackEnabled),
      );
    }
    if (o.kind === 'deleted') {
      // CodeDeploy's codes for a deployment whose application or group was deleted under it.
      const [code, message] =
        o.what === 'application'
          ? ['APPLICATION_MISSING', `The application ${state.applicationName} was deleted while the deployment was running.`]
          : ['DEPLOYMENT_GROUP_MISSING', `The deployment group ${state.deploymentGroupName} was deleted while the deployment was running.`];
      return end('Failed', code, message, rollbackWanted(state, 'DEPLOYMENT_FAILURE'));
    }
    if (o.kind === 'alarm' && state.alarmsEnabled && state.alarms.includes(o.name)) {
      return end(
        'Stopped',
        'ALARM_ACTIVE',
        `One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <${o.name}>`,
        rollbackWanted(state, 'DEPLOYMENT_STOP_ON_ALARM'),
      );
    }
    if (o.kind === 'alarmUnreadable' && state.alarmsEnabled && !state.ignorePollAlarmFailure) {
      const names = o.names.filter((n) => state.alarms.includes(n));
      if (names.length) {
        return end(
          'Stopped',
          'ALARM_ACTIVE',
          `The deployment was stopped because the state of its alarms could not be retrieved from Amazon CloudWatch. Alarms that could not be read: ${names.map((n) => `<${n}>`).join(', ')}. Create them, remove them from the alarm configuration, or set ignorePollAlarmFailure to go on without them.`,
          rollbackWanted(state, 'DEPLOYMENT_STOP_ON_ALARM'),
        );
      }
    }
    if (o.kind === 'trafficFailed') {
      // The alias could not be moved (the target version deleted since the deployment was created, say):
      // it failed, never Succeeded, and DEPLOYMENT_FAILURE decides whether the alias goes back.
      const allow = event('AllowTraffic');
      if (allow.status === 'Pending') Object.assign(allow, { status: 'InProgress', startTime: now });
      if (allow.status === 'InProgress') allow.diagnostics = { errorCode: 'UnknownError', message: o.message };
      return end(
        'Failed',
        o.notFound ? 'INVALID_LAMBDA_FUNCTION' : 'INTERNAL_ERROR',
        `The deployment failed because traffic on alias ${state.alias} of ${state.functionName} could not be moved to version ${state.targetVersion}: ${o.message}`,
        rollbackWanted(state, 'DEPLOYMENT_FAILURE'),
      );
    }
    if (o.kind === 'hookStatus') {
      const hook = state.events.find((e) => e.hookExecutionId === o.executionId);
      if (!hook || hook.status !== 'InProgress') continue;
      hook.endTime = now;
      if (o.status === 'Failed') {
        hook.status = 'Failed';
        hook.diagnostics = { errorCode: 'UnknownError', message: o.message ?? 'The lifecycle hook reported Failed.' };
        return end(
          'Failed',
          'HOOK_EXECUTION_FAILURE',
          `The ${hook.lifecycleEventName} hook (${hook.hookFunction ?? '?'}) failed: ${o.message ?? 'it reported Failed'}.`,
          rollbackWanted(state, 'DEPLOYMENT_FAILURE'),
        );
      }
      hook.status = 'Succeeded';
      delete state.hookDeadline;
    }
  }

  // Move forward as far as time allows.
  for (;;) {
    const current = state.events.find((e) => e.status === 'Pending' || e.status === 'InProgress');
    if (!current) break;
    const name = current.lifecycleEventName;
    if (name === 'BeforeAllowTraffic' || name === 'AfterAllowTraffic') {
      if (current.status === 'Pending') {
        if (!current.hookFunction) {
          Object.assign(current, { status: 'Skipped', startTime: now, endTime: now });
          continue;
        }
        current.status = 'InProgress';
        current.startTime = now;
        state.hookDeadline = now + HOOK_TIMEOUT_MS;
        actions.push({ kind: 'invokeHook', functionName: current.hookFunction, executionId: current.hookExecutionId! });
        return { state, actions, wakeAt: state.hookDeadline };
      }
      if (state.hookDeadline !== undefined && now >= state.hookDeadline) {
        current.diagnostics = { errorCode: 'ScriptTimedOut', message: 'The hook did not report its status within one hour.' };
        return end(
          'Failed',
          'HOOK_EXECUTION_FAILURE',
          `The ${name} hook (${current.hookFunction ?? '?'}) did not report within one hour.`,
          rollbackWanted(state, 'DEPLOYMENT_FAILURE'),
        );
      }
      return { state, actions, ...(state.hookDeadline !== undefined && { wakeAt: state.hookDeadline }) };
    }
    if (name === 'AllowTraffic') {
      if (current.status === 'Pending') {
        current.status = 'InProgress';
        current.startTime = now;
        state.shiftStartedAt = now;
      }
      const made = (state.trafficShifts ?? []).filter((s) => s.at >= state.shiftStartedAt!);
      const { weight, nextChangeIn } = nextShift(state.routing, made.length, made.at(-1)?.at, now);
      if (weight !== state.targetWeight) route(weight);
      if (weight < 1) return { state, actions, wakeAt: now + nextChangeIn! };
      if (state.bakeMinutes > 0) {
        state.bakeUntil ??= now + state.bakeMinutes * MINUTE;
        if (now < state.bakeUntil) return { state, actions, wakeAt: state.bakeUntil };
      }
      Object.assign(current, { status: 'Succeeded', endTime: now });
      continue;
    }
    // Start and End take no time.
    Object.assign(current, { status: 'Succeeded', startTime: current.startTime ?? now, endTime: now });
    if (name === 'End') {
      state.status = 'Succeeded';
      state.completeTime = now;
      actions.push({ kind: 'release', version: state.currentVersion });
    }
  }
  return { state, actions };
}

/** A deployment's target as the AppSpec names it. */
export interface AppSpecTarget {
  functionName: string;
  alias: string;
  currentVersion: string;
  targetVersion: string;
  beforeAllowTraffic?: string;
  afterAllowTraffic?: string;
}

const bad = (message: string) => new PlatformError('InvalidRevisionException', message);

/**
 * Largest AppSpec read. AWS states none; a Lambda AppSpec (a function, an alias, two versions, two
 * hooks) is a few hundred bytes, and this is CloudFormation's largest template body.
 */
export const MAX_APPSPEC_BYTES = 51_200;
/** Deepest nesting of an AppSpec read: a Lambda AppSpec nests five levels. */
const MAX_APPSPEC_DEPTH = 20;

/** Parses a Lambda AppSpec (JSON or YAML; keys in any case) into the deployment's target. */
export function parseAppSpec(content: string): AppSpecTarget {
  const bytes = Buffer.byteLength(content);
  if (bytes > MAX_APPSPEC_BYTES) throw bad(`The AppSpec file may not exceed ${MAX_APPSPEC_BYTES} bytes (this one is ${bytes} bytes).`);
  const nested = lineNestedPast(content, MAX_APPSPEC_DEPTH);
  if (nested !== undefined) throw bad(`The AppSpec file is nested more than ${MAX_APPSPEC_DEPTH} levels deep (at line ${nested}).`);
  let doc: unknown;
  try {
    doc = content.trim().startsWith('{') ? (JSON.parse(content) as unknown) : parseYaml(content);
  } catch (err) {
    throw bad(`The AppSpec file could not be parsed: ${(err as Error).message}`);
  }
  const get = (obj: unknown, key: string): unknown => {
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
    const hit = Object.keys(obj).find((k) => k.toLowerCase() === key.toLowerCase());
    return hit === undefined ? undefined : (obj as Record<string, unknown>)[hit];
  };
  const resources = get(doc, 'resources');
  if (!Array.isArray(resources) || resources.length !== 1) throw bad('The AppSpec file must list exactly one resource under Resources.');
  const entry = resources[0] as Record<string, unknown>;
  const resource = Object.values(entry ?? {})[0];
  const type = get(resource, 'type');
  if (typeof type === 'string' && type !== 'AWS::Lambda::Function')
    throw bad(`The AppSpec resource type must be AWS::Lambda::Function; got ${type}.`);
  const props = get(resource, 'properties');
  const text = (key: string): string => {
    const v = get(props, key);
    if (typeof v !== 'string' && typeof v !== 'number') throw bad(`The AppSpec resource is missing ${key}.`);
    return String(v);
  };
  const target: AppSpecTarget = {
    functionName: text('name'),
    alias: text('alias'),
    currentVersion: text('currentversion'),
    targetVersion: text('targetversion'),
  };
  for (const v of [target.currentVersion, target.targetVersion]) {
    if (!/^[1-9][0-9]*$/.test(v)) throw bad(`AppSpec versions must be published version numbers; got ${v}.`);
  }
  const hooks = get(doc, 'hooks');
  if (hooks !== undefined) {
    if (!Array.isArray(hooks)) throw bad('AppSpec Hooks must be a list of {BeforeAllowTraffic: fn} or {AfterAllowTraffic: fn}.');
    for (const h of hooks as unknown[]) {
      const before = get(h, 'beforeallowtraffic');
      const after = get(h, 'afterallowtraffic');
      if (typeof before === 'string') target.beforeAllowTraffic = before;
      else if (typeof after === 'string') target.afterAllowTraffic = after;
      else throw bad('AppSpec Hooks may name only BeforeAllowTraffic and AfterAllowTraffic functions.');
    }
  }
  return target;
}

/** Checks a custom traffic-routing config as CreateDeploymentConfig does. */
export function validateRouting(
  config:
    | {
        type?: string;
        timeBasedCanary?: { canaryPercentage?: number; canaryInterval?: number };
        timeBasedLinear?: { linearPercentage?: number; linearInterval?: number };
      }
    | undefined,
): TrafficRouting {
  const invalid = (m: string) => new PlatformError('InvalidTrafficRoutingConfigurationException', m);
  if (!config?.type || config.type === 'AllAtOnce') return { type: 'AllAtOnce' };
  const pair =
    config.type === 'TimeBasedCanary'
      ? [config.timeBasedCanary?.canaryPercentage, config.timeBasedCanary?.canaryInterval]
      : config.type === 'TimeBasedLinear'
        ? [config.timeBasedLinear?.linearPercentage, config.timeBasedLinear?.linearInterval]
        : undefined;
  if (!pair)
    throw invalid(
      `The traffic routing type must be AllAtOnce, TimeBasedCanary or TimeBasedLinear; got ${String(config.type).slice(0, 64)}.`,
    );
  const [percentage, interval] = pair;
  if (typeof percentage !== 'number' || !Number.isInteger(percentage) || percentage < 1 || percentage > 99)
    throw invalid('The traffic percentage must be a whole number from 1 to 99.');
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1)
    throw invalid('The traffic interval must be a whole number of minutes, at least 1.');
  // The quota is on the minutes between the first and last traffic shift (CodeDeploy quota L-86A1A2E1,
  // 2880). A linear config shifts ceil(100/P) times, the first at once, so its last shift comes
  // ceil(100/P) - 1 intervals in when no step is late (nextShift).
  const total = config.type === 'TimeBasedCanary' ? interval : (Math.ceil(100 / percentage) - 1) * interval;
  if (total > 2880) throw invalid('A Lambda deployment configuration may take at most 2880 minutes.');
  return { type: config.type === 'TimeBasedCanary' ? 'TimeBasedCanary' : 'TimeBasedLinear', percentage, intervalMinutes: interval };
}
