import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { alnumId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { parseFunctionRef } from '../domain/arn.js';
import {
  aliasShare,
  describeRouting,
  expectedShares,
  isActive,
  routingAt,
  shareIn,
  step,
  type Action,
  type DeploymentState,
  type DeploymentStatus,
  type Observation,
} from '../domain/deployment.js';
import type { InvocationService } from '../invoke/invocation-service.js';
import type { FunctionService } from '../lambda/function-service.js';
import type { FencedLeadership } from '../store/fenced.js';
import type { Store } from '../store/store.js';
import type { AlarmService } from '../telemetry/alarms.js';

/** AWS's deployment id form: `d-` and nine uppercase letters or digits. */
export function newDeploymentId(): string {
  return `d-${alnumId(9).toUpperCase()}`;
}

/** How long one controller step took, in real milliseconds (read by the benchmark). */
export interface StepTiming {
  deploymentId: string;
  /** Loading the state, reading its alarms, step(), and storing the result (with the outcome, if it ended). */
  stepMs: number;
  /** Performing the step's actions: alias weights and capacity, hooks, pre-warming, releases. */
  actMs: number;
  status: DeploymentStatus;
}

/**
 * Runs deployments: load the persisted state → step() → persist → perform the actions → sleep on the
 * platform clock until step() asks to run again. The store is the truth: timers only say when to look
 * again, so after a restart every unfinished deployment resumes from its stored timestamps.
 * Observations (hook reports, alarm transitions, stop requests) run a step at once.
 */
export class DeploymentController {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, () => void>();
  private readonly listeners: ((d: DeploymentState) => void)[] = [];
  private readonly timingListeners = new Set<(t: StepTiming) => void>();
  /** True until start() and after close(): steps run only in between (while this node leads). */
  private closed = true;

  /**
   * When several nodes share the store, `fence` checks inside each of the controller's write transactions
   * that this node still holds the leader lease, and `functions` writes through a store fenced the same
   * way: a deposed leader cannot move an alias or record a step. Reads need no fence.
   */
  constructor(
    private readonly store: Store,
    private readonly functions: FunctionService,
    private readonly invocations: InvocationService,
    private readonly alarms: AlarmService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly leadership?: FencedLeadership,
  ) {
    alarms.onTransition(({ alarm, to }) => {
      if (to === 'ALARM') this.alarmsChanged([alarm.AlarmName], true);
    });
    // A deleted alarm can no longer be read: the step finds it missing and step() decides.
    alarms.onDeleted((names) => this.alarmsChanged(names, false));
  }

  /** Steps the deployments that watch these alarms (gone into ALARM, or deleted) at once, on the leader. */
  alarmsChanged(names: readonly string[], inAlarm: boolean): void {
    if (this.closed) {
      if (this.leadership && !this.leadership.leading) void this.leadership.toLeader('deployment.alarms', { names, inAlarm });
      return;
    }
    this.store.codeDeploy.activeDeployments().then(
      (active) => {
        for (const d of active) {
          const watched = d.alarms.filter((n) => names.includes(n));
          if (!watched.length) continue;
          void this.kick(d.deploymentId, inAlarm ? watched.map((name): Observation => ({ kind: 'alarm', name })) : []);
        }
      },
      (err: unknown) => this.logger.warn('could not read the deployments watching alarms', { names, err }),
    );
  }

  /** Calls `listener` with the state after every step that changed something. */
  onChange(listener: (d: DeploymentState) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Calls `listener` with the timing of every step until the returned function is called. Steps read
   * no timer while nobody listens.
   */
  onStepTiming(listener: (t: StepTiming) => void): () => void {
    this.timingListeners.add(listener);
    return () => this.timingListeners.delete(listener);
  }

  /** Resumes every deployment the store says is unfinished (at start, or when this node becomes the leader). */
  async start(): Promise<void> {
    this.closed = false;
    for (const d of await this.store.codeDeploy.activeDeployments()) void this.kick(d.deploymentId, [], true);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    await Promise.all([...this.chains.values()]);
  }

  /** Runs a step for a deployment now (serialised per deployment), or has the leader run it when this node does not lead. */
  kick(deploymentId: string, observations: Observation[], resuming = false): Promise<void> {
    if (this.closed) {
      if (this.leadership && !this.leadership.leading) return this.leadership.toLeader('deployment.kick', { deploymentId, observations });
      return Promise.resolve();
    }
    const previous = this.chains.get(deploymentId) ?? Promise.resolve();
    const next = previous
      .then(() => this.runStep(deploymentId, observations, resuming))
      .catch((err: unknown) => this.logger.error('deployment step failed', { deploymentId, err }));
    this.chains.set(deploymentId, next);
    void next.finally(() => {
      if (this.chains.get(deploymentId) === next) this.chains.delete(deploymentId);
    });
    return next;
  }

  private async runStep(deploymentId: string, observations: Observation[], resuming: boolean): Promise<void> {
    if (this.closed) return;
    this.timers.get(deploymentId)?.();
    this.timers.delete(deploymentId);
    const timed = this.timingListeners.size > 0;
    const began = timed ? performance.now() : 0;
    let acting = 0;
    let acted = 0;
    const before = await this.store.codeDeploy.getDeployment(deploymentId);
    if (!before || !isActive(before.status)) return;
    // Alarms already in ALARM count as observations too (at the start, and after a restart), and so do
    // alarms whose state cannot be read: step() decides what ignorePollAlarmFailure makes of them.
    const { inAlarm, unreadable } = before.alarmsEnabled ? await this.readAlarms(before.alarms) : { inAlarm: [], unreadable: [] };
    // Reports stored in the deployment's inbox are taken by this step, and removed from it when it is saved.
    let taken = before.inbox?.length ?? 0;
    const all: Observation[] = [...observations, ...(before.inbox ?? []), ...inAlarm.map((name): Observation => ({ kind: 'alarm', name }))];
    if (unreadable.length) all.push({ kind: 'alarmUnreadable', names: unreadable });
    // The alias must be where this deployment left it: one changed by someone else (UpdateAlias, another
    // deployment) ends it instead of being overwritten. Seen first, before what a stop would roll back.
    const alias = await this.store.aliases.get(before.functionName, before.alias);
    const expected = expectedShares(before, resuming, alias?.revisionId);
    const share = aliasShare(alias, before);
    // Where the alias was found, stored with the step before it moves the alias (expectedShares).
    const found = alias && share !== undefined && shareIn(share, expected) ? { revisionId: alias.revisionId, weight: share } : undefined;
    if (!found) all.unshift({ kind: 'aliasChanged', found: describeRouting(alias) });
    const now = this.clock.now();
    let { state, actions, wakeAt } = step(before, now, all);
    if (resuming) {
      // Re-assert what the stored state says the world looks like; both are idempotent.
      if (state.targetWeight > 0 || state.events.some((e) => e.lifecycleEventName === 'AllowTraffic' && e.status !== 'Pending')) {
        actions.unshift({ kind: 'route', weight: state.targetWeight });
      }
      for (const e of state.events) {
        if (e.status === 'InProgress' && e.hookFunction && e.hookExecutionId && !actions.some((a) => a.kind === 'invokeHook')) {
          actions.push({ kind: 'invokeHook', functionName: e.hookFunction, executionId: e.hookExecutionId });
        }
      }
    }
    // A route that fails (the target version deleted since the deployment was created, the alias changed
    // under it) is not a step taken: the step is taken again from where it began, with the failure as its
    // last observation, which ends the deployment Failed, never Succeeded.
    const retake = (failure: Observation) => {
      const again = step(before, now, failure.kind === 'aliasChanged' ? [failure, ...all] : [...all, failure]);
      // What the first attempt did before its route failed (the pre-warm) is not done twice.
      again.actions = again.actions.filter((a) => a.kind !== 'warm');
      return again;
    };
    const movingTo = actions.findLast((a) => a.kind === 'route')?.weight;
    if (isActive(state.status)) {
      await this.save(marked(state, found, movingTo), taken);
      if (timed) acting = performance.now();
      let failure = await this.act(state, actions, expected);
      const retaken = failure !== undefined;
      if (failure) {
        ({ state, actions, wakeAt } = retake(failure));
        failure = await this.act(state, actions, expected);
      }
      if (timed) acted = performance.now();
      // The first save took the step's reports from the inbox: none more are taken now.
      if (retaken) await this.persistEnd(state, 0, failure);
    } else {
      // A step that ends the deployment acts first and is stored after. Stored first, GetDeployment said
      // Succeeded/Stopped while the alias still had the old routing (AllAtOnce even awaits a cold pre-warm
      // before its switch), and a crash in between left the alias wrong for good, since only unfinished
      // deployments are resumed. Acting first is safe: until the end is stored the deployment is unfinished,
      // and the resumed step repeats the (idempotent) route. A step that moves the alias is first stored
      // as it began, still running, with where it moves the alias and all it saw put back in its inbox,
      // so that a controller resuming it knows the move for its own and ends the deployment the same way.
      if (movingTo !== undefined) {
        await this.save(marked(structuredClone(before), found, movingTo), taken, { inbox: all });
        taken = all.length;
      }
      if (timed) acting = performance.now();
      let failure = await this.act(state, actions, expected);
      if (failure && state.status === 'Succeeded') {
        ({ state, actions, wakeAt } = retake(failure));
        failure = await this.act(state, actions, expected);
      }
      if (timed) acted = performance.now();
      await this.persistEnd(state, taken, failure);
    }
    if (!isActive(state.status)) await this.recordOutcome(state);
    if (timed) {
      const timing: StepTiming = {
        deploymentId,
        stepMs: performance.now() - began - (acted - acting),
        actMs: acted - acting,
        status: state.status,
      };
      for (const l of this.timingListeners) {
        try {
          l(timing);
        } catch (err) {
          this.logger.error('step timing listener failed', { err });
        }
      }
    }
    for (const l of this.listeners) l(state);
    if (wakeAt !== undefined && isActive(state.status) && !this.closed) {
      this.timers.set(
        deploymentId,
        this.clock.setTimer(Math.max(0, wakeAt - this.clock.now()), () => void this.kick(deploymentId, [])),
      );
    }
  }

  /**
   * Performs a step's actions in order. A route that fails stops them and is returned as what it
   * observed: the alias changed under the deployment, or the move itself failed.
   */
  private async act(state: DeploymentState, actions: readonly Action[], expected: readonly number[]): Promise<Observation | undefined> {
    for (const action of actions) {
      try {
        await this.perform(state, action, expected);
      } catch (err) {
        if (action.kind !== 'route') throw err;
        this.logger.warn('deployment could not move its alias', { deploymentId: state.deploymentId, weight: action.weight, err });
        if (err instanceof AliasChanged) return { kind: 'aliasChanged', found: err.found };
        return {
          kind: 'trafficFailed',
          message: err instanceof Error ? err.message : String(err),
          notFound: err instanceof PlatformError && err.code === 'ResourceNotFoundException',
        };
      }
    }
    return undefined;
  }

  /**
   * Stores a step that ended the deployment, with its rollback if one was made. A rollback whose route
   * failed (`failure`) is not recorded as made; the deployment is stored ended all the same.
   */
  private async persistEnd(state: DeploymentState, taken: number, failure: Observation | undefined): Promise<void> {
    if (failure) this.logger.error('deployment could not move its alias back', { deploymentId: state.deploymentId, failure });
    // recordRollback stores this state and its rollback in one transaction.
    if (state.rollbackPending && !failure) await this.recordRollback(state, taken);
    else await this.save(state, taken);
  }

  /** The watched alarms in ALARM, and those whose state cannot be read (deleted, never created, or a failed read). */
  private async readAlarms(names: readonly string[]): Promise<{ inAlarm: string[]; unreadable: string[] }> {
    if (!names.length) return { inAlarm: [], unreadable: [] };
    try {
      const found = new Map((await this.alarms.describeAlarms({ names: [...names] })).map((a) => [a.AlarmName, a.StateValue]));
      return {
        inAlarm: names.filter((n) => found.get(n) === 'ALARM'),
        unreadable: names.filter((n) => !found.has(n)),
      };
    } catch (err) {
      this.logger.warn('could not read the alarms of a deployment', { names, err });
      return { inAlarm: [], unreadable: [...names] };
    }
  }

  /**
   * Moves the alias to `weight` on the target version, only from a routing this deployment left (one of
   * the `expected` shares, or `weight` itself): the alias is read, checked and written under its
   * RevisionId, through the same path and validation as UpdateAlias, so that a change made meanwhile by
   * anyone, on any node, is seen (AliasChanged) instead of overwritten, and invokes see the weights at once.
   */
  private async moveAlias(state: DeploymentState, weight: number, expected: readonly number[]): Promise<void> {
    const caller = { region: 'us-east-1' };
    for (let attempt = 1; ; attempt++) {
      const alias = await this.store.aliases.get(state.functionName, state.alias);
      const share = aliasShare(alias, state);
      if (!alias || !shareIn(share, [...expected, weight])) throw new AliasChanged(describeRouting(alias));
      if (shareIn(share, [weight])) return;
      const routing = routingAt(state, weight);
      try {
        await this.functions.updateAlias(caller, state.functionName, state.alias, {
          functionVersion: routing.functionVersion,
          additionalVersionWeights: routing.additionalVersionWeights ?? {},
          revisionId: alias.revisionId,
        });
        return;
      } catch (err) {
        // Changed between the read and the write: read it again, and see what it is now.
        if (err instanceof PlatformError && err.code === 'PreconditionFailedException' && attempt < 3) continue;
        throw err;
      }
    }
  }

  private async perform(state: DeploymentState, action: Action, expected: readonly number[]): Promise<void> {
    switch (action.kind) {
      case 'route': {
        const w = action.weight;
        await this.moveAlias(state, w, expected);
        // Warm capacity follows the traffic: the target's environments grow with its share, the
        // current version's surplus idle ones retire (and come back on a rollback).
        await this.invocations
          .shiftCapacity(state.functionName, state.currentVersion, state.targetVersion, w)
          .catch((err: unknown) => this.logger.debug('capacity shift failed', { err }));
        return;
      }
      case 'invokeHook':
        this.runHook(state.deploymentId, action.functionName, action.executionId);
        return;
      case 'warm':
        await this.invocations
          .prewarm(state.functionName, action.version)
          .catch((err: unknown) => this.logger.debug('prewarm failed', { err }));
        return;
      case 'release':
        this.invocations.release(state.functionName, action.version);
        return;
    }
  }

  /**
   * Invokes a lifecycle hook with `{DeploymentId, LifecycleEventHookExecutionId}`. The hook reports
   * through PutLifecycleEventHookExecutionStatus; if the function itself fails, that fails the hook.
   */
  private runHook(deploymentId: string, functionName: string, executionId: string): void {
    const payload = Buffer.from(JSON.stringify({ DeploymentId: deploymentId, LifecycleEventHookExecutionId: executionId }));
    const fail = (message: string) => void this.kick(deploymentId, [{ kind: 'hookStatus', executionId, status: 'Failed', message }]);
    let ref;
    try {
      ref = parseFunctionRef(functionName);
    } catch {
      fail(`the hook function name ${functionName} is not valid`);
      return;
    }
    this.invocations.invoke({ region: 'us-east-1' }, { functionName: ref.name, qualifier: ref.qualifier, payload }).then(
      (result) => {
        if (result.functionError) fail(`the hook function ${functionName} failed: ${result.payload.toString('utf8').slice(0, 300)}`);
      },
      (err: unknown) => fail(`the hook function ${functionName} could not run: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /**
   * Stores the state a step made, with the reports that arrived in its inbox while it ran (the first
   * `taken` were the step's own), after `inbox` when given (what the step saw, kept for the next).
   * `also`: another deployment stored in the same transaction (a rollback's record).
   */
  private async save(state: DeploymentState, taken: number, extra: { also?: DeploymentState; inbox?: Observation[] } = {}): Promise<void> {
    const { also, inbox = [] } = extra;
    await this.store.transaction(async (tx) => {
      await this.leadership?.fence(tx);
      const left = [...inbox, ...((await tx.codeDeploy.getDeployment(state.deploymentId))?.inbox?.slice(taken) ?? [])];
      if (left.length) state.inbox = left;
      else delete state.inbox;
      if (also) await tx.codeDeploy.putDeployment(also);
      await tx.codeDeploy.putDeployment(state);
    });
  }

  /** Records a rollback as CodeDeploy does: a new, already finished deployment made by codeDeployRollback. */
  private async recordRollback(state: DeploymentState, taken: number): Promise<void> {
    const now = this.clock.now();
    const rollbackId = newDeploymentId();
    const rollback: DeploymentState = {
      ...structuredClone(state),
      deploymentId: rollbackId,
      creator: 'codeDeployRollback',
      description: `Rollback of ${state.deploymentId}`,
      status: 'Succeeded',
      createTime: now,
      startTime: now,
      completeTime: now,
      currentVersion: state.targetVersion,
      targetVersion: state.currentVersion,
      targetWeight: 1,
      trafficShifts: [{ at: now, weight: 1 }],
      events: state.events.map((e) => ({
        lifecycleEventName: e.lifecycleEventName,
        status: e.lifecycleEventName === 'BeforeAllowTraffic' || e.lifecycleEventName === 'AfterAllowTraffic' ? 'Skipped' : 'Succeeded',
        startTime: now,
        endTime: now,
      })),
      rollbackInfo: { rollbackTriggeringDeploymentId: state.deploymentId, rollbackMessage: `Rollback of deployment ${state.deploymentId}` },
    };
    delete rollback.errorInformation;
    delete rollback.rollbackPending;
    delete rollback.hookDeadline;
    delete rollback.inbox;
    state.rollbackPending = false;
    delete state.rollbackPending;
    state.rollbackInfo = {
      rollbackDeploymentId: rollbackId,
      rollbackMessage: `Deployment ${state.deploymentId} was rolled back by ${rollbackId}; the alias is back on version ${state.currentVersion}.`,
    };
    await this.save(state, taken, { also: rollback });
  }

  private async recordOutcome(state: DeploymentState): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.leadership?.fence(tx);
      const group = await tx.codeDeploy.getGroup(state.applicationName, state.deploymentGroupName);
      if (!group) return;
      const summary = {
        deploymentId: state.deploymentId,
        status: state.status,
        createTime: state.createTime,
        ...(state.completeTime !== undefined && { endTime: state.completeTime }),
      };
      await tx.codeDeploy.putGroup({
        ...group,
        lastAttemptedDeployment: summary,
        ...(state.status === 'Succeeded' && { lastSuccessfulDeployment: summary }),
      });
    });
  }
}

/**
 * `state` marked with where its step found the alias (none when the alias was not as expected: the step
 * then ends the deployment without moving it) and the share the step moves it to, as stored before the
 * move (expectedShares reads both when a controller resumes the deployment).
 */
function marked(state: DeploymentState, found: DeploymentState['aliasAt'], movingTo: number | undefined): DeploymentState {
  if (found) state.aliasAt = found;
  if (movingTo === undefined) delete state.movingTo;
  else state.movingTo = movingTo;
  return state;
}

/** The alias was not where the deployment left it when it came to move it. */
class AliasChanged extends Error {
  constructor(readonly found: string) {
    super(`the alias was changed outside the deployment: it routes to ${found}`);
  }
}

export function deploymentNotFound(id: string): PlatformError {
  return new PlatformError('DeploymentDoesNotExistException', `The deployment ${id} could not be found.`);
}
