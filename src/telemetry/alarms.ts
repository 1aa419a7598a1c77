import { Pacer } from '../core/pacer.js';
import type { Clock } from '../core/clock.js';
import { Violations } from '../domain/validation.js';
import { PlatformError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { evaluate, evaluationRange, statisticOf } from './alarm-evaluation.js';
import type { AlarmDoc, AlarmHistoryItem, AlarmState, HistoryPlace, ComparisonOperator, TreatMissingData } from '../domain/alarm.js';
import type { Dimension } from '../domain/metric.js';
import type { Metrics } from './metrics.js';

export interface AlarmInput {
  AlarmName?: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  OKActions?: string[];
  AlarmActions?: string[];
  InsufficientDataActions?: string[];
  Namespace?: string;
  MetricName?: string;
  Dimensions?: Dimension[];
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  Unit?: string;
  EvaluationPeriods?: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator?: string;
  TreatMissingData?: string;
}

export interface AlarmTransition {
  alarm: AlarmDoc;
  from: AlarmState;
  to: AlarmState;
}

const STATISTICS = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);
const OPERATORS = new Set<string>([
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
]);
const MISSING = new Set<string>(['breaching', 'notBreaching', 'ignore', 'missing']);
const STATES = new Set<string>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
/** Platform milliseconds between evaluations of every alarm. */
const TICK_MS = 10_000;

const invalid = (message: string) => new PlatformError('InvalidParameterValueException', message);

/**
 * Metric alarms: configuration, state, history, and the evaluator that runs on the platform clock.
 * Every state change is written before listeners hear of it, so a subscriber (the deployment
 * controller) can act at once and find the same state in the store.
 */
export class AlarmService {
  private readonly listeners: ((t: AlarmTransition) => void)[] = [];
  private readonly deletionListeners: ((names: string[]) => void)[] = [];
  private cancelTick: (() => void) | undefined;
  private evaluating: Promise<void> = Promise.resolve();
  private closed = false;

  /**
   * `fence`, when several nodes share the store, checks inside each transition the evaluator writes
   * that this node still leads: a deposed leader's evaluator changes no alarm.
   */
  constructor(
    private readonly store: Store,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly fence?: (tx: Store) => Promise<void>,
  ) {}

  /** Calls `listener` on every state transition, after it is stored. */
  onTransition(listener: (t: AlarmTransition) => void): void {
    this.listeners.push(listener);
  }

  /** Calls `listener` with the names of alarms deleted, after the deletion is stored. */
  onDeleted(listener: (names: string[]) => void): void {
    this.deletionListeners.push(listener);
  }

  /** Starts evaluating on the platform clock (on the leader, when several nodes share the store); close() stops. */
  start(): void {
    this.closed = false;
    const tick = () => {
      if (this.closed) return;
      void this.evaluateAll().finally(() => {
        if (!this.closed) this.cancelTick = this.clock.setTimer(TICK_MS, tick);
      });
    };
    this.cancelTick = this.clock.setTimer(TICK_MS, tick);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelTick?.();
    await this.evaluating;
  }

  async putMetricAlarm(input: AlarmInput): Promise<void> {
    const config = validateAlarm(input);
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      const existing = await tx.alarms.get(config.AlarmName);
      const alarm: AlarmDoc = existing
        ? {
            ...config,
            StateValue: existing.StateValue,
            StateReason: existing.StateReason,
            ...(existing.StateReasonData !== undefined && { StateReasonData: existing.StateReasonData }),
            StateUpdatedTimestamp: existing.StateUpdatedTimestamp,
            StateTransitionedTimestamp: existing.StateTransitionedTimestamp,
            AlarmConfigurationUpdatedTimestamp: now,
          }
        : {
            ...config,
            StateValue: 'INSUFFICIENT_DATA',
            StateReason: 'Unchecked: Initial alarm creation',
            StateUpdatedTimestamp: now,
            StateTransitionedTimestamp: now,
            AlarmConfigurationUpdatedTimestamp: now,
          };
      await tx.alarms.put(alarm);
      await tx.alarms.addHistory({
        AlarmName: alarm.AlarmName,
        AlarmType: 'MetricAlarm',
        Timestamp: now,
        HistoryItemType: 'ConfigurationUpdate',
        HistorySummary: `Alarm "${alarm.AlarmName}" ${existing ? 'updated' : 'created'}`,
        HistoryData: JSON.stringify({ version: '1.0', type: existing ? 'Update' : 'Create', updatedAlarm: configOf(alarm) }),
      });
    });
  }

  async describeAlarms(filter: { names?: string[]; prefix?: string; state?: string; actionPrefix?: string }): Promise<AlarmDoc[]> {
    if (filter.names?.length && filter.prefix !== undefined) {
      throw new PlatformError('InvalidParameterCombinationException', 'AlarmNames and AlarmNamePrefix cannot be given together.');
    }
    if (filter.state !== undefined && !STATES.has(filter.state))
      throw invalid(`The parameter StateValue must be one of OK, ALARM, INSUFFICIENT_DATA; got ${filter.state}.`);
    const names = filter.names?.length ? new Set(filter.names) : undefined;
    return (await this.store.alarms.list()).filter(
      (a) =>
        (!names || names.has(a.AlarmName)) &&
        (filter.prefix === undefined || a.AlarmName.startsWith(filter.prefix)) &&
        (filter.state === undefined || a.StateValue === filter.state) &&
        (filter.actionPrefix === undefined ||
          [...a.AlarmActions, ...a.OKActions, ...a.InsufficientDataActions].some((x) => x.startsWith(filter.actionPrefix!))),
    );
  }

  /** One page of history (DescribeAlarmHistory), and where the next page starts when there is more. */
  async history(
    filter: { alarmName?: string; type?: string; from?: number; to?: number },
    page: { after?: HistoryPlace; ascending?: boolean; limit: number },
  ): Promise<{ items: AlarmHistoryItem[]; next: HistoryPlace | undefined }> {
    const rows = await this.store.alarms.history(filter, { ...page, limit: page.limit + 1 });
    const shown = rows.slice(0, page.limit);
    return { items: shown.map((r) => r.item), next: rows.length > page.limit ? shown.at(-1)!.place : undefined };
  }

  /** Sets a state by hand; it lasts until the next evaluation, as on AWS. */
  async setAlarmState(
    name: string | undefined,
    state: string | undefined,
    reason: string | undefined,
    reasonData: string | undefined,
  ): Promise<void> {
    if (!name) throw new PlatformError('MissingRequiredParameterException', 'The parameter AlarmName is required.');
    // CloudWatch checks the enum as a member constraint: ValidationError on the query wire, in AWS's words.
    if (state === undefined || !STATES.has(state)) {
      const shown = state === undefined ? 'Value null' : `Value '${state}'`;
      const constraint =
        state === undefined ? 'Member must not be null' : 'Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]';
      throw new PlatformError(
        'ValidationException',
        `1 validation error detected: ${shown} at 'stateValue' failed to satisfy constraint: ${constraint}`,
      );
    }
    if (reason === undefined) throw new PlatformError('MissingRequiredParameterException', 'The parameter StateReason is required.');
    if (reason.length > 1023) throw invalid('The parameter StateReason must be at most 1023 characters long.');
    if (reasonData !== undefined) {
      try {
        JSON.parse(reasonData);
      } catch {
        throw new PlatformError('InvalidFormatFault', 'The parameter StateReasonData must be valid JSON.');
      }
    }
    const transition = await this.store.transaction(async (tx) => {
      const alarm = await tx.alarms.get(name);
      // AWS answers this one with the bare code: no message, on either wire.
      if (!alarm) throw new PlatformError('ResourceNotFound', '');
      return this.applyState(tx, alarm, state as AlarmState, reason, reasonData);
    });
    this.announce(transition);
  }

  async deleteAlarms(names: string[]): Promise<void> {
    if (names.length > 100) throw invalid('At most 100 alarm names can be deleted at once.');
    await this.store.transaction(async (tx) => {
      for (const name of names) if (!(await tx.alarms.get(name))) throw notFound(name);
      for (const name of names) await tx.alarms.delete(name);
    });
    for (const l of this.deletionListeners) {
      try {
        l(names);
      } catch (err) {
        this.logger.error('alarm listener failed', { err });
      }
    }
  }

  async setActionsEnabled(names: string[], enabled: boolean): Promise<void> {
    await this.store.transaction(async (tx) => {
      for (const name of names) {
        const alarm = await tx.alarms.get(name);
        if (alarm) await tx.alarms.put({ ...alarm, ActionsEnabled: enabled });
      }
    });
  }

  /** Evaluates every alarm now (the evaluator's tick; tests call it directly too). */
  evaluateAll(): Promise<void> {
    this.evaluating = this.evaluating
      .then(() => this.evaluateAllNow())
      .catch((err: unknown) => this.logger.error('alarm evaluation failed', { err }));
    return this.evaluating;
  }

  private async evaluateAllNow(): Promise<void> {
    const now = this.clock.now();
    // An alarm may watch a day of ten-second periods over a high-resolution series: its statistics are
    // computed with other work let in between (summaries() reads the same way).
    const pacer = new Pacer();
    for (const alarm of await this.store.alarms.list()) {
      const period = alarm.Period * 1000;
      const newest = now - (now % period);
      const range = evaluationRange(alarm.EvaluationPeriods);
      const start = newest - (range - 1) * period;
      const buckets = await this.metrics.summaries(
        { namespace: alarm.Namespace, name: alarm.MetricName, dimensions: alarm.Dimensions },
        start,
        newest + period,
        alarm.Period,
      );
      const statistic = alarm.Statistic ?? alarm.ExtendedStatistic ?? 'Average';
      const values: (number | undefined)[] = [];
      for (let t = start; t <= newest; t += period) {
        const s = buckets.get(t);
        values.push(s && s.count > 0 ? statisticOf(s, statistic) : undefined);
        if (pacer.due()) await pacer.pause();
      }
      const result = evaluate(alarm, values, alarm.StateValue);
      if (result.state === alarm.StateValue) continue;
      const reasonData = JSON.stringify({
        version: '1.0',
        queryDate: new Date(now).toISOString(),
        startDate: new Date(start).toISOString(),
        statistic,
        period: alarm.Period,
        // StateReasonData is at most 4,000 characters (CloudWatch's model): the newest hundred datapoints.
        recentDatapoints: result.recent.slice(0, Math.min(alarm.EvaluationPeriods, 100)),
        threshold: alarm.Threshold,
      });
      const transition = await this.store.transaction(async (tx) => {
        await this.fence?.(tx);
        const fresh = await tx.alarms.get(alarm.AlarmName);
        if (!fresh || fresh.StateValue !== alarm.StateValue) return undefined;
        return this.applyState(tx, fresh, result.state, result.reason, reasonData);
      });
      this.announce(transition);
    }
  }

  private async applyState(
    tx: Store,
    alarm: AlarmDoc,
    state: AlarmState,
    reason: string,
    reasonData: string | undefined,
  ): Promise<AlarmTransition | undefined> {
    const now = this.clock.now();
    const from = alarm.StateValue;
    const updated: AlarmDoc = {
      ...alarm,
      StateValue: state,
      StateReason: reason,
      ...(reasonData !== undefined ? { StateReasonData: reasonData } : {}),
      StateUpdatedTimestamp: now,
      StateTransitionedTimestamp: from === state ? alarm.StateTransitionedTimestamp : now,
    };
    if (reasonData === undefined) delete updated.StateReasonData;
    await tx.alarms.put(updated);
    if (from === state) return undefined;
    await tx.alarms.addHistory({
      AlarmName: alarm.AlarmName,
      AlarmType: 'MetricAlarm',
      Timestamp: now,
      HistoryItemType: 'StateUpdate',
      HistorySummary: `Alarm updated from ${from} to ${state}`,
      HistoryData: JSON.stringify({
        version: '1.0',
        oldState: { stateValue: from, stateReason: alarm.StateReason },
        newState: {
          stateValue: state,
          stateReason: reason,
          ...(reasonData !== undefined && { stateReasonData: JSON.parse(reasonData) as unknown }),
        },
      }),
    });
    return { alarm: updated, from, to: state };
  }

  private announce(transition: AlarmTransition | undefined): void {
    if (!transition) return;
    for (const l of this.listeners) {
      try {
        l(transition);
      } catch (err) {
        this.logger.error('alarm listener failed', { err });
      }
    }
  }
}

function notFound(name: string): PlatformError {
  return new PlatformError('ResourceNotFound', `An alarm named ${name} does not exist.`);
}

function configOf(alarm: AlarmDoc): Record<string, unknown> {
  const {
    StateValue: _s,
    StateReason: _r,
    StateReasonData: _d,
    StateUpdatedTimestamp: _u,
    StateTransitionedTimestamp: _t,
    ...config
  } = alarm;
  return config;
}

type AlarmConfig = Omit<
  AlarmDoc,
  | 'StateValue'
  | 'StateReason'
  | 'StateReasonData'
  | 'StateUpdatedTimestamp'
  | 'StateTransitionedTimestamp'
  | 'AlarmConfigurationUpdatedTimestamp'
>;

/** Checks a PutMetricAlarm request against CloudWatch's rules and returns the configuration. */
function validateAlarm(input: AlarmInput): AlarmConfig {
  const missing = (name: string) => new PlatformError('MissingRequiredParameterException', `The parameter ${name} is required.`);
  if (!input.AlarmName) throw missing('AlarmName');
  if (input.AlarmName.length > 255) throw invalid('The parameter AlarmName must be at most 255 characters long.');
  new Violations().length(input.AlarmDescription, 'alarmDescription', 0, 1024).throwIfAny();
  if (!input.Namespace) throw missing('Namespace');
  if (!input.MetricName) throw missing('MetricName');
  if (input.EvaluationPeriods === undefined) throw missing('EvaluationPeriods');
  if (input.Period === undefined) throw missing('Period');
  if (input.Threshold === undefined) throw missing('Threshold');
  if (!input.ComparisonOperator) throw missing('ComparisonOperator');
  if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined)) {
    throw new PlatformError('InvalidParameterCombinationException', 'Exactly one of Statistic and ExtendedStatistic must be specified.');
  }
  if (input.Statistic !== undefined && !STATISTICS.has(input.Statistic)) {
    throw invalid(`The parameter Statistic must be one of SampleCount, Average, Sum, Minimum, Maximum; got ${input.Statistic}.`);
  }
  if (input.ExtendedStatistic !== undefined && !/^p(\d{1,2}(\.\d{0,10})?|100)$/.test(input.ExtendedStatistic)) {
    throw invalid(`The parameter ExtendedStatistic must be a percentile such as p99 or p99.9; got ${input.ExtendedStatistic}.`);
  }
  const period = input.Period;
  if (!Number.isInteger(period) || !(period === 10 || period === 20 || period === 30 || (period >= 60 && period % 60 === 0))) {
    throw invalid(`The parameter Period must be 10, 20, 30 or a multiple of 60; got ${period}.`);
  }
  const n = input.EvaluationPeriods;
  if (!Number.isInteger(n) || n < 1) throw invalid(`The parameter EvaluationPeriods must be at least 1; got ${n}.`);
  const limit = period >= 3600 ? 7 * 86400 : 86400;
  if (period * n > limit) throw invalid(`Period × EvaluationPeriods must be at most ${limit} seconds; got ${period * n}.`);
  const m = input.DatapointsToAlarm;
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > n)) {
    throw invalid(`The parameter DatapointsToAlarm must be between 1 and EvaluationPeriods (${n}); got ${m}.`);
  }
  if (!OPERATORS.has(input.ComparisonOperator)) {
    throw invalid(
      `The parameter ComparisonOperator must be one of ${[...OPERATORS].join(', ')}; got ${input.ComparisonOperator}. Anomaly detection bands are not supported.`,
    );
  }
  const tmd = input.TreatMissingData;
  if (tmd !== undefined && !MISSING.has(tmd))
    throw invalid(`The parameter TreatMissingData must be one of breaching, notBreaching, ignore, missing; got ${tmd}.`);
  const dims = input.Dimensions ?? [];
  if (dims.length > 30) throw invalid('The collection Dimensions must not have more than 30 members.');
  for (const list of [input.AlarmActions, input.OKActions, input.InsufficientDataActions]) {
    if ((list?.length ?? 0) > 5) throw invalid('An alarm may have at most 5 actions of each kind.');
  }
  return {
    AlarmName: input.AlarmName,
    ...(input.AlarmDescription !== undefined && { AlarmDescription: input.AlarmDescription }),
    ActionsEnabled: input.ActionsEnabled ?? true,
    OKActions: input.OKActions ?? [],
    AlarmActions: input.AlarmActions ?? [],
    InsufficientDataActions: input.InsufficientDataActions ?? [],
    Namespace: input.Namespace,
    MetricName: input.MetricName,
    Dimensions: dims.map((d) => ({ Name: d.Name, Value: d.Value })),
    ...(input.Statistic !== undefined && { Statistic: input.Statistic }),
    ...(input.ExtendedStatistic !== undefined && { ExtendedStatistic: input.ExtendedStatistic }),
    Period: period,
    ...(input.Unit !== undefined && { Unit: input.Unit }),
    EvaluationPeriods: n,
    ...(m !== undefined && { DatapointsToAlarm: m }),
    Threshold: input.Threshold,
    ComparisonOperator: input.ComparisonOperator as ComparisonOperator,
    ...(tmd !== undefined && { TreatMissingData: tmd as TreatMissingData }),
  };
}
