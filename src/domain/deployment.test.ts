import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { loopHolds } from '../../test/loop-holds.js';
import {
  aliasShare,
  describeRouting,
  expectedShares,
  HOOK_TIMEOUT_MS,
  LIFECYCLE,
  PREDEFINED_CONFIGS,
  parseAppSpec,
  shareIn,
  step,
  validateRouting,
  type Action,
  type DeploymentState,
  type EventStatus,
  type LifecycleEvent,
  type LifecycleName,
  type Observation,
  type RollbackEvent,
  type StepResult,
  type TrafficRouting,
} from './deployment.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Every deployment here starts at this fixed platform time; no real clock is read. */
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof PlatformError ? err.code : 'not a PlatformError';
  }
  return 'no error';
};

interface Fresh {
  routing?: TrafficRouting;
  configName?: string;
  before?: string;
  after?: string;
  alarms?: string[];
  alarmsEnabled?: boolean;
  rollbackEvents?: RollbackEvent[];
  rollbackEnabled?: boolean;
  bakeMinutes?: number;
  ignorePollAlarmFailure?: boolean;
}

const BEFORE_ID = 'exec-before-0001';
const AFTER_ID = 'exec-after-0002';

/** A deployment as CreateDeployment stores it: Created, every lifecycle event Pending, no traffic on the target. */
function fresh(o: Fresh = {}): DeploymentState {
  const events = LIFECYCLE.map((name): LifecycleEvent => {
    const hook = name === 'BeforeAllowTraffic' ? o.before : name === 'AfterAllowTraffic' ? o.after : undefined;
    const id = name === 'BeforeAllowTraffic' ? BEFORE_ID : AFTER_ID;
    return {
      lifecycleEventName: name,
      status: 'Pending',
      ...(hook !== undefined && { hookFunction: hook, hookExecutionId: id }),
    };
  });
  return {
    deploymentId: 'd-ABCDEFGH1',
    applicationName: 'app',
    deploymentGroupName: 'group',
    deploymentConfigName: o.configName ?? 'CodeDeployDefault.LambdaAllAtOnce',
    routing: o.routing ?? { type: 'AllAtOnce' },
    creator: 'user',
    status: 'Created',
    createTime: T0 - 1000,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: '{}' } },
    functionName: 'orders',
    alias: 'live',
    currentVersion: '1',
    targetVersion: '2',
    events,
    targetWeight: 0,
    bakeMinutes: o.bakeMinutes ?? 0,
    alarms: o.alarms ?? [],
    alarmsEnabled: o.alarmsEnabled ?? (o.alarms !== undefined && o.alarms.length > 0),
    ...(o.ignorePollAlarmFailure !== undefined && { ignorePollAlarmFailure: o.ignorePollAlarmFailure }),
    autoRollback: {
      enabled: o.rollbackEnabled ?? (o.rollbackEvents !== undefined && o.rollbackEvents.length > 0),
      events: o.rollbackEvents ?? [],
    },
  };
}

const statuses = (s: DeploymentState): Record<string, EventStatus> =>
  Object.fromEntries(s.events.map((e) => [e.lifecycleEventName, e.status]));
const event = (s: DeploymentState, name: LifecycleName) => {
  const e = s.events.find((x) => x.lifecycleEventName === name);
  assert.ok(e, `no ${name} event`);
  return e;
};
const routes = (actions: Action[]) => actions.filter((a) => a.kind === 'route').map((a) => a.weight);
const hookOk = (executionId: string): Observation => ({ kind: 'hookStatus', executionId, status: 'Succeeded' });
const hookFailed = (executionId: string): Observation => ({
  kind: 'hookStatus',
  executionId,
  status: 'Failed',
  message: 'smoke test failed',
});

/** Steps from `state` at `start`, then at each wakeAt, until the deployment stops asking; logs when each route happened. */
/** Steps on from `result` at each time it asks to be woken, up to `until`: a controller on time. */
function stepUntil(result: StepResult, until: number): StepResult {
  while (result.wakeAt !== undefined && result.wakeAt <= until) result = step(result.state, result.wakeAt);
  return result;
}

function drive(state: DeploymentState, start = T0) {
  const log: { at: number; result: StepResult; before: DeploymentState }[] = [];
  let now = start;
  let s = state;
  for (let i = 0; i < 1000; i++) {
    const result = step(s, now);
    log.push({ at: now, result, before: s });
    s = result.state;
    if (result.wakeAt === undefined) break;
    assert.ok(result.wakeAt > now, `wakeAt ${result.wakeAt} is not after ${now}`);
    now = result.wakeAt;
  }
  const timeline = log.flatMap(({ at, result }) => routes(result.actions).map((w) => [(at - start) / MIN, w] as const));
  return { state: s, log, timeline, end: now };
}

const ALL_SUCCEEDED = {
  Start: 'Succeeded',
  BeforeAllowTraffic: 'Skipped',
  AllowTraffic: 'Succeeded',
  AfterAllowTraffic: 'Skipped',
  End: 'Succeeded',
};
const TENTHS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Linear 10%: 10% at once, +10% at the start of each interval, all traffic at 9 intervals. */
const linearTimeline = (n: number) => TENTHS.map((w, i) => [i * n, w] as const);

describe('step: predefined configs', () => {
  // [config, weights over time as [minutes after start, weight], minutes until Succeeded]
  const table: [string, (readonly [number, number])[], number][] = [
    ['CodeDeployDefault.LambdaAllAtOnce', [[0, 1]], 0],
    [
      'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      [
        [0, 0.1],
        [5, 1],
      ],
      5,
    ],
    [
      'CodeDeployDefault.LambdaCanary10Percent10Minutes',
      [
        [0, 0.1],
        [10, 1],
      ],
      10,
    ],
    [
      'CodeDeployDefault.LambdaCanary10Percent15Minutes',
      [
        [0, 0.1],
        [15, 1],
      ],
      15,
    ],
    [
      'CodeDeployDefault.LambdaCanary10Percent30Minutes',
      [
        [0, 0.1],
        [30, 1],
      ],
      30,
    ],
    ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', linearTimeline(1), 9],
    ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', linearTimeline(2), 18],
    ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', linearTimeline(3), 27],
    ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', linearTimeline(10), 90],
  ];

  it('the table covers every predefined config', () => {
    assert.deepEqual(table.map(([name]) => name).sort(), Object.keys(PREDEFINED_CONFIGS).sort());
  });

  for (const [name, expected, total] of table) {
    it(`${name}: shifts ${expected.map(([m, w]) => `${w * 100}% at ${m} min`).join(', ')}; succeeds after ${total} min`, () => {
      const routing = PREDEFINED_CONFIGS[name];
      assert.ok(routing);
      const run = drive(fresh({ routing, configName: name }));
      assert.deepEqual(run.timeline, expected);
      // Every step is recorded with its time, for watchers that poll more slowly than the steps come.
      assert.deepEqual(
        run.state.trafficShifts,
        expected.map(([m, weight]) => ({ at: T0 + m * MIN, weight })),
      );
      assert.equal(run.state.status, 'Succeeded');
      assert.equal(run.state.completeTime, T0 + total * MIN);
      assert.equal(run.state.targetWeight, 1);
      assert.deepEqual(statuses(run.state), ALL_SUCCEEDED);
      // The first step warms the target; the last releases the old version.
      assert.deepEqual(run.log[0]?.result.actions[0], { kind: 'warm', version: '2' });
      assert.deepEqual(run.log.at(-1)?.result.actions.at(-1), { kind: 'release', version: '1' });
    });

    if (expected.length > 1) {
      it(`${name}: wakes exactly at each shift, and a step one ms before changes nothing`, () => {
        const run = drive(fresh({ routing: PREDEFINED_CONFIGS[name]! }));
        for (let i = 1; i < run.log.length; i++) {
          const prev = run.log[i - 1]!;
          const entry = run.log[i]!;
          assert.equal(prev.result.wakeAt, entry.at);
          const early = step(prev.result.state, entry.at - 1);
          assert.deepEqual(early.actions, []);
          assert.equal(early.wakeAt, entry.at);
          assert.equal(early.state.targetWeight, prev.result.state.targetWeight);
          assert.equal(early.state.status, 'InProgress');
        }
      });
    }
  }

  it('AllAtOnce: one step does it all — warm, a single route to weight 1, release, Succeeded, no wake', () => {
    const r = step(fresh(), T0);
    assert.deepEqual(r.actions, [
      { kind: 'warm', version: '2' },
      { kind: 'route', weight: 1 },
      { kind: 'release', version: '1' },
    ]);
    assert.equal(r.state.status, 'Succeeded');
    assert.equal(r.state.startTime, T0);
    assert.equal(r.state.completeTime, T0);
    assert.equal(r.wakeAt, undefined);
    assert.deepEqual(statuses(r.state), ALL_SUCCEEDED);
  });

  it('Canary10Percent5Minutes: 10% at start with wakeAt start + 5 min, all traffic at exactly 5 min', () => {
    const first = step(fresh({ routing: PREDEFINED_CONFIGS['CodeDeployDefault.LambdaCanary10Percent5Minutes']! }), T0);
    assert.deepEqual(routes(first.actions), [0.1]);
    assert.equal(first.wakeAt, T0 + 5 * MIN);
    assert.equal(first.state.status, 'InProgress');
    assert.equal(event(first.state, 'AllowTraffic').status, 'InProgress');
    const early = step(first.state, T0 + 5 * MIN - 1);
    assert.deepEqual(early.actions, []);
    assert.equal(early.state.targetWeight, 0.1);
    const due = step(first.state, T0 + 5 * MIN);
    assert.deepEqual(routes(due.actions), [1]);
    assert.equal(due.state.status, 'Succeeded');
  });

  it('Linear: a late step makes one shift, and the next comes a whole interval after it: no share goes unwatched', () => {
    const first = step(fresh({ routing: PREDEFINED_CONFIGS['CodeDeployDefault.LambdaLinear10PercentEvery1Minute']! }), T0);
    const late = step(first.state, T0 + 4 * MIN + 30_000);
    assert.deepEqual(routes(late.actions), [0.2]);
    assert.equal(late.wakeAt, T0 + 5 * MIN + 30_000);
    // Woken early (another deployment's timer, a restart), it waits out the interval.
    const early = step(late.state, T0 + 5 * MIN);
    assert.deepEqual(routes(early.actions), []);
    assert.equal(early.wakeAt, T0 + 5 * MIN + 30_000);
    const next = step(early.state, T0 + 5 * MIN + 30_000);
    assert.deepEqual(routes(next.actions), [0.3]);
  });

  it('Canary: a late first step still gives the canary its whole interval', () => {
    const first = step(fresh({ routing: PREDEFINED_CONFIGS['CodeDeployDefault.LambdaCanary10Percent5Minutes']! }), T0 + 2 * MIN);
    assert.deepEqual(routes(first.actions), [0.1]);
    assert.deepEqual(routes(step(first.state, T0 + 5 * MIN).actions), []);
    assert.deepEqual(routes(step(first.state, T0 + 7 * MIN).actions), [1]);
  });
});

describe('validateRouting', () => {
  // [input, the routing it gives, weights over time, minutes until Succeeded]
  const table: [string, Parameters<typeof validateRouting>[0], TrafficRouting, (readonly [number, number])[], number][] = [
    [
      'TimeBasedCanary 25%/3 min',
      { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 25, canaryInterval: 3 } },
      { type: 'TimeBasedCanary', percentage: 25, intervalMinutes: 3 },
      [
        [0, 0.25],
        [3, 1],
      ],
      3,
    ],
    [
      'TimeBasedLinear 20%/1 min',
      { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 20, linearInterval: 1 } },
      { type: 'TimeBasedLinear', percentage: 20, intervalMinutes: 1 },
      [
        [0, 0.2],
        [1, 0.4],
        [2, 0.6],
        [3, 0.8],
        [4, 1],
      ],
      4,
    ],
    ['AllAtOnce', { type: 'AllAtOnce' }, { type: 'AllAtOnce' }, [[0, 1]], 0],
    ['no config at all (AllAtOnce)', undefined, { type: 'AllAtOnce' }, [[0, 1]], 0],
    [
      'TimeBasedCanary at the 2880-minute limit',
      { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 2880 } },
      { type: 'TimeBasedCanary', percentage: 10, intervalMinutes: 2880 },
      [
        [0, 0.1],
        [2880, 1],
      ],
      2880,
    ],
    [
      'TimeBasedLinear whose last shift lands on the 2880-minute limit',
      { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 320 } },
      { type: 'TimeBasedLinear', percentage: 10, intervalMinutes: 320 },
      linearTimeline(320),
      2880,
    ],
  ];
  for (const [label, input, routing, timeline, total] of table) {
    it(`${label}: accepted, and a deployment with it shifts ${timeline.map(([m, w]) => `${w * 100}%@${m}m`).join(' ')}`, () => {
      const got = validateRouting(input);
      assert.deepEqual(got, routing);
      const run = drive(fresh({ routing: got }));
      assert.deepEqual(run.timeline, timeline);
      assert.equal(run.state.status, 'Succeeded');
      assert.equal(run.state.completeTime, T0 + total * MIN);
    });
  }

  const refusals: [string, Parameters<typeof validateRouting>[0]][] = [
    ['canary percentage 0', { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 0, canaryInterval: 5 } }],
    ['canary percentage 100', { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 100, canaryInterval: 5 } }],
    ['linear percentage 0', { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 0, linearInterval: 5 } }],
    ['linear percentage 100', { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 100, linearInterval: 5 } }],
    ['fractional percentage', { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 12.5, canaryInterval: 5 } }],
    ['missing percentage', { type: 'TimeBasedCanary', timeBasedCanary: { canaryInterval: 5 } }],
    ['canary interval 0', { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 0 } }],
    ['linear interval 0', { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 0 } }],
    ['unknown type', { type: 'BlueGreenish' }],
    ['canary over 2880 minutes', { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 2881 } }],
    ['linear over 2880 minutes', { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 400 } }],
    [
      'linear whose last shift is one interval past 2880 minutes',
      { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 321 } },
    ],
    [
      'linear 30% whose last shift is at 2883 minutes',
      { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 30, linearInterval: 961 } },
    ],
  ];
  for (const [label, input] of refusals) {
    it(`${label}: refused with InvalidTrafficRoutingConfigurationException`, () => {
      assert.equal(
        codeOf(() => validateRouting(input)),
        'InvalidTrafficRoutingConfigurationException',
      );
    });
  }
});

describe('step: hooks', () => {
  const hooked = (o: Fresh = {}) => fresh({ before: 'preTraffic', after: 'postTraffic', ...o });

  it('BeforeAllowTraffic: invoked first with its function and execution id; no traffic moves; wakes at the one-hour deadline', () => {
    const r = step(hooked({ routing: { type: 'TimeBasedCanary', percentage: 10, intervalMinutes: 5 } }), T0);
    assert.deepEqual(r.actions, [
      { kind: 'warm', version: '2' },
      { kind: 'invokeHook', functionName: 'preTraffic', executionId: BEFORE_ID },
    ]);
    assert.equal(r.wakeAt, T0 + HOUR);
    assert.equal(HOOK_TIMEOUT_MS, HOUR);
    assert.equal(r.state.status, 'InProgress');
    assert.equal(r.state.targetWeight, 0);
    assert.deepEqual(statuses(r.state), {
      Start: 'Succeeded',
      BeforeAllowTraffic: 'InProgress',
      AllowTraffic: 'Pending',
      AfterAllowTraffic: 'Pending',
      End: 'Pending',
    });
    assert.equal(event(r.state, 'BeforeAllowTraffic').startTime, T0);
  });

  it('BeforeAllowTraffic: a Succeeded report moves on to AllowTraffic, then AfterAllowTraffic is invoked', () => {
    const invoked = step(hooked(), T0);
    const at = T0 + 30_000;
    const r = step(invoked.state, at, [hookOk(BEFORE_ID)]);
    assert.deepEqual(r.actions, [
      { kind: 'route', weight: 1 },
      { kind: 'invokeHook', functionName: 'postTraffic', executionId: AFTER_ID },
    ]);
    assert.equal(r.wakeAt, at + HOUR);
    assert.equal(r.state.shiftStartedAt, at);
    assert.deepEqual(statuses(r.state), {
      Start: 'Succeeded',
      BeforeAllowTraffic: 'Succeeded',
      AllowTraffic: 'Succeeded',
      AfterAllowTraffic: 'InProgress',
      End: 'Pending',
    });
    assert.equal(event(r.state, 'BeforeAllowTraffic').endTime, at);

    const done = step(r.state, at + MIN, [hookOk(AFTER_ID)]);
    assert.deepEqual(done.actions, [{ kind: 'release', version: '1' }]);
    assert.equal(done.state.status, 'Succeeded');
    assert.equal(done.state.completeTime, at + MIN);
    assert.equal(done.state.hookDeadline, undefined);
    assert.deepEqual(statuses(done.state), {
      Start: 'Succeeded',
      BeforeAllowTraffic: 'Succeeded',
      AllowTraffic: 'Succeeded',
      AfterAllowTraffic: 'Succeeded',
      End: 'Succeeded',
    });
  });

  it('BeforeAllowTraffic: the canary clock starts when the hook reports, not when the deployment started', () => {
    const invoked = step(hooked({ routing: { type: 'TimeBasedCanary', percentage: 10, intervalMinutes: 5 } }), T0);
    const r = step(invoked.state, T0 + 20 * MIN, [hookOk(BEFORE_ID)]);
    assert.deepEqual(routes(r.actions), [0.1]);
    assert.equal(r.wakeAt, T0 + 25 * MIN);
  });

  // [autoRollback events, rollback expected]
  const beforeFailures: [RollbackEvent[], boolean][] = [
    [['DEPLOYMENT_FAILURE'], true],
    [[], false],
    [['DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'], false],
  ];
  for (const [events, rollback] of beforeFailures) {
    it(`BeforeAllowTraffic: Failed fails the deployment before traffic moves (rollback events [${events.join(', ')}] → rollback ${rollback})`, () => {
      const invoked = step(hooked({ rollbackEvents: events }), T0);
      const r = step(invoked.state, T0 + MIN, [hookFailed(BEFORE_ID)]);
      assert.equal(r.state.status, 'Failed');
      assert.equal(r.state.completeTime, T0 + MIN);
      assert.equal(r.state.errorInformation?.code, 'HOOK_EXECUTION_FAILURE');
      assert.match(r.state.errorInformation?.message ?? '', /preTraffic/);
      // Traffic never left the current version, so even a rollback has no route to undo.
      assert.deepEqual(routes(r.actions), []);
      assert.equal(r.state.targetWeight, 0);
      assert.equal(r.wakeAt, undefined);
      assert.equal(r.state.rollbackPending, rollback ? true : undefined);
      assert.deepEqual(statuses(r.state), {
        Start: 'Succeeded',
        BeforeAllowTraffic: 'Failed',
        AllowTraffic: 'Skipped',
        AfterAllowTraffic: 'Skipped',
        End: 'Skipped',
      });
      assert.equal(event(r.state, 'BeforeAllowTraffic').diagnostics?.message, 'smoke test failed');
    });
  }

  it('BeforeAllowTraffic: no report within one hour fails it at exactly the deadline, not one ms before', () => {
    const invoked = step(hooked({ rollbackEvents: ['DEPLOYMENT_FAILURE'] }), T0);
    const early = step(invoked.state, T0 + HOUR - 1);
    assert.deepEqual(early.actions, []);
    assert.equal(early.wakeAt, T0 + HOUR);
    assert.equal(early.state.status, 'InProgress');

    const due = step(invoked.state, T0 + HOUR);
    assert.equal(due.state.status, 'Failed');
    assert.equal(due.state.completeTime, T0 + HOUR);
    assert.equal(due.state.errorInformation?.code, 'HOOK_EXECUTION_FAILURE');
    assert.equal(event(due.state, 'BeforeAllowTraffic').status, 'Failed');
    assert.equal(event(due.state, 'BeforeAllowTraffic').diagnostics?.errorCode, 'ScriptTimedOut');
    assert.deepEqual(routes(due.actions), []);
    assert.equal(due.wakeAt, undefined);
  });

  it('AfterAllowTraffic: no report within one hour fails it, and with DEPLOYMENT_FAILURE rollback moves traffic back', () => {
    const invoked = step(hooked({ before: undefined, rollbackEvents: ['DEPLOYMENT_FAILURE'] }), T0);
    assert.deepEqual(routes(invoked.actions), [1]);
    assert.equal(invoked.wakeAt, T0 + HOUR);
    const due = step(invoked.state, T0 + HOUR);
    assert.equal(due.state.status, 'Failed');
    assert.deepEqual(routes(due.actions), [0]);
    assert.equal(due.state.rollbackPending, true);
  });

  // [autoRollback events, route actions on failure, weight left, rollbackPending]
  const afterFailures: [RollbackEvent[], number[], number, true | undefined][] = [
    [['DEPLOYMENT_FAILURE'], [0], 0, true],
    [[], [], 1, undefined],
  ];
  for (const [events, routed, weight, pending] of afterFailures) {
    it(`AfterAllowTraffic: Failed after traffic moved, rollback events [${events.join(', ')}] → routes [${routed.join(', ')}], weight stays ${weight}`, () => {
      const invoked = step(hooked({ rollbackEvents: events }), T0);
      const shifted = step(invoked.state, T0 + MIN, [hookOk(BEFORE_ID)]);
      assert.equal(shifted.state.targetWeight, 1);
      const r = step(shifted.state, T0 + 2 * MIN, [hookFailed(AFTER_ID)]);
      assert.equal(r.state.status, 'Failed');
      assert.equal(r.state.errorInformation?.code, 'HOOK_EXECUTION_FAILURE');
      assert.match(r.state.errorInformation?.message ?? '', /AfterAllowTraffic/);
      assert.deepEqual(routes(r.actions), routed);
      assert.equal(r.state.targetWeight, weight);
      assert.equal(r.state.rollbackPending, pending);
      assert.deepEqual(statuses(r.state), {
        Start: 'Succeeded',
        BeforeAllowTraffic: 'Succeeded',
        AllowTraffic: 'Succeeded',
        AfterAllowTraffic: 'Failed',
        End: 'Skipped',
      });
    });
  }

  it('a hook report with an unknown execution id is ignored', () => {
    const invoked = step(hooked(), T0);
    const r = step(invoked.state, T0 + MIN, [
      { kind: 'hookStatus', executionId: 'not-an-id', status: 'Failed' },
      { kind: 'hookStatus', executionId: 'also-not', status: 'Succeeded' },
    ]);
    assert.deepEqual(r.actions, []);
    assert.deepEqual(r.state, invoked.state);
    assert.equal(r.wakeAt, T0 + HOUR);
  });

  it('a report for a hook that is not running (AfterAllowTraffic while BeforeAllowTraffic runs) is ignored', () => {
    const invoked = step(hooked(), T0);
    const r = step(invoked.state, T0 + MIN, [hookFailed(AFTER_ID)]);
    assert.deepEqual(r.actions, []);
    assert.deepEqual(r.state, invoked.state);
  });
});

describe('step: alarms', () => {
  const canary5 = PREDEFINED_CONFIGS['CodeDeployDefault.LambdaCanary10Percent5Minutes']!;
  // [label, deployment, alarm observed, stopped?, routes on the alarm, rollbackPending]
  const table: [string, Fresh, string, boolean, number[], true | undefined][] = [
    [
      'one of its alarms, DEPLOYMENT_STOP_ON_ALARM on',
      { alarms: ['HighErrors', 'Latency'], rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] },
      'Latency',
      true,
      [0],
      true,
    ],
    [
      'one of its alarms, rollback only on failure',
      { alarms: ['HighErrors'], rollbackEvents: ['DEPLOYMENT_FAILURE'] },
      'HighErrors',
      true,
      [],
      undefined,
    ],
    ['one of its alarms, no rollback', { alarms: ['HighErrors'] }, 'HighErrors', true, [], undefined],
    [
      'one of its alarms, event listed but auto-rollback disabled',
      { alarms: ['HighErrors'], rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'], rollbackEnabled: false },
      'HighErrors',
      true,
      [],
      undefined,
    ],
    [
      'an alarm not in its list',
      { alarms: ['HighErrors'], rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] },
      'SomeoneElses',
      false,
      [],
      undefined,
    ],
    [
      'its alarm, but alarms disabled',
      { alarms: ['HighErrors'], alarmsEnabled: false, rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] },
      'HighErrors',
      false,
      [],
      undefined,
    ],
  ];
  for (const [label, o, alarm, stopped, routed, pending] of table) {
    it(`${label}: ${stopped ? `stops it${routed.length ? ' and rolls back' : ', traffic stays'}` : 'ignored'}`, () => {
      const started = step(fresh({ routing: canary5, ...o }), T0);
      assert.equal(started.state.targetWeight, 0.1);
      const r = step(started.state, T0 + 2 * MIN, [{ kind: 'alarm', name: alarm }]);
      if (!stopped) {
        assert.equal(r.state.status, 'InProgress');
        assert.deepEqual(r.actions, []);
        assert.equal(r.wakeAt, T0 + 5 * MIN);
        assert.deepEqual(r.state, started.state);
        return;
      }
      assert.equal(r.state.status, 'Stopped');
      assert.equal(r.state.completeTime, T0 + 2 * MIN);
      assert.equal(r.state.errorInformation?.code, 'ALARM_ACTIVE');
      assert.match(r.state.errorInformation?.message ?? '', new RegExp(`Activated alarms: <${alarm}>`));
      assert.deepEqual(routes(r.actions), routed);
      assert.equal(r.state.targetWeight, routed.length ? 0 : 0.1);
      assert.equal(r.state.rollbackPending, pending);
      assert.equal(r.wakeAt, undefined);
      assert.equal(event(r.state, 'End').status, 'Skipped');
    });
  }

  it('an alarm already in ALARM on the very first step: Stopped (not Failed) with ALARM_ACTIVE, before any traffic moves', () => {
    const r = step(fresh({ routing: canary5, alarms: ['HighErrors'], rollbackEvents: ['DEPLOYMENT_FAILURE'] }), T0, [
      { kind: 'alarm', name: 'HighErrors' },
    ]);
    assert.equal(r.state.status, 'Stopped');
    assert.equal(r.state.errorInformation?.code, 'ALARM_ACTIVE');
    assert.equal(r.state.startTime, T0);
    assert.equal(event(r.state, 'AllowTraffic').startTime, undefined);
    // A stop on alarm is not a failure: DEPLOYMENT_FAILURE alone does not roll it back.
    assert.equal(r.state.rollbackPending, undefined);
    assert.deepEqual(r.actions, [
      { kind: 'warm', version: '2' },
      { kind: 'release', version: '2' },
    ]);
  });

  it('an alarm while BeforeAllowTraffic runs stops it before any traffic moves', () => {
    const invoked = step(fresh({ before: 'pre', alarms: ['HighErrors'], rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] }), T0);
    const r = step(invoked.state, T0 + MIN, [{ kind: 'alarm', name: 'HighErrors' }]);
    assert.equal(r.state.status, 'Stopped');
    assert.deepEqual(routes(r.actions), []);
    assert.equal(r.state.hookDeadline, undefined);
  });
});

describe('step: alarms that cannot be read', () => {
  const canary5 = PREDEFINED_CONFIGS['CodeDeployDefault.LambdaCanary10Percent5Minutes']!;
  const unreadable = (...names: string[]): Observation => ({ kind: 'alarmUnreadable', names });
  // [label, deployment, names that could not be read, stopped?, routes on the observation, rollbackPending]
  const table: [string, Fresh, string[], boolean, number[], true | undefined][] = [
    [
      'a watched alarm that does not exist, ignorePollAlarmFailure false, DEPLOYMENT_STOP_ON_ALARM on',
      { alarms: ['HighErrors', 'Gone'], ignorePollAlarmFailure: false, rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] },
      ['Gone'],
      true,
      [0],
      true,
    ],
    [
      'a watched alarm that does not exist, flag absent (stored before it was kept: AWS default false), no rollback',
      { alarms: ['Gone'] },
      ['Gone'],
      true,
      [],
      undefined,
    ],
    [
      'a watched alarm that does not exist, rollback only on failure',
      { alarms: ['Gone'], rollbackEvents: ['DEPLOYMENT_FAILURE'] },
      ['Gone'],
      true,
      [],
      undefined,
    ],
    [
      'a watched alarm that does not exist, ignorePollAlarmFailure true',
      { alarms: ['Gone'], ignorePollAlarmFailure: true, rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] },
      ['Gone'],
      false,
      [],
      undefined,
    ],
    [
      'a watched alarm that does not exist, alarms disabled',
      { alarms: ['Gone'], alarmsEnabled: false, rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] },
      ['Gone'],
      false,
      [],
      undefined,
    ],
    [
      'an unreadable alarm it does not watch',
      { alarms: ['HighErrors'], rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] },
      ['SomeoneElses'],
      false,
      [],
      undefined,
    ],
  ];
  for (const [label, o, names, stopped, routed, pending] of table) {
    it(`${label}: ${stopped ? `Stopped (ALARM_ACTIVE)${routed.length ? ' and rolled back' : ', traffic stays'}` : 'ignored'}`, () => {
      const started = step(fresh({ routing: canary5, ...o }), T0);
      assert.equal(started.state.targetWeight, 0.1);
      const r = step(started.state, T0 + 2 * MIN, [unreadable(...names)]);
      if (!stopped) {
        assert.equal(r.state.status, 'InProgress');
        assert.deepEqual(r.actions, []);
        assert.equal(r.wakeAt, T0 + 5 * MIN);
        assert.deepEqual(r.state, started.state);
        return;
      }
      assert.equal(r.state.status, 'Stopped');
      assert.equal(r.state.completeTime, T0 + 2 * MIN);
      assert.equal(r.state.errorInformation?.code, 'ALARM_ACTIVE');
      for (const n of names) assert.match(r.state.errorInformation?.message ?? '', new RegExp(`could not be read: .*<${n}>`));
      assert.match(r.state.errorInformation?.message ?? '', /ignorePollAlarmFailure/);
      assert.deepEqual(routes(r.actions), routed);
      assert.equal(r.state.targetWeight, routed.length ? 0 : 0.1);
      assert.equal(r.state.rollbackPending, pending);
      assert.equal(r.wakeAt, undefined);
      assert.deepEqual(statuses(r.state), {
        Start: 'Succeeded',
        BeforeAllowTraffic: 'Skipped',
        AllowTraffic: 'Failed',
        AfterAllowTraffic: 'Skipped',
        End: 'Skipped',
      });
    });
  }

  it('names every unreadable alarm it watches, and only those', () => {
    const started = step(fresh({ routing: canary5, alarms: ['A', 'B', 'C'] }), T0);
    const r = step(started.state, T0 + MIN, [unreadable('A', 'C', 'NotMine')]);
    assert.equal(r.state.status, 'Stopped');
    assert.match(r.state.errorInformation?.message ?? '', /could not be read: <A>, <C>\./);
  });

  it('an unreadable alarm on the very first step stops it before any traffic moves', () => {
    const r = step(fresh({ routing: canary5, alarms: ['Gone'], rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] }), T0, [unreadable('Gone')]);
    assert.equal(r.state.status, 'Stopped');
    assert.equal(r.state.startTime, T0);
    assert.equal(r.state.errorInformation?.code, 'ALARM_ACTIVE');
    assert.deepEqual(routes(r.actions), []);
    assert.equal(event(r.state, 'AllowTraffic').startTime, undefined);
  });

  it('with ignorePollAlarmFailure, an unreadable alarm changes nothing but one in ALARM still stops it', () => {
    const started = step(fresh({ routing: canary5, alarms: ['Gone', 'HighErrors'], ignorePollAlarmFailure: true }), T0);
    const ignored = step(started.state, T0 + MIN, [unreadable('Gone')]);
    assert.equal(ignored.state.status, 'InProgress');
    const r = step(ignored.state, T0 + 2 * MIN, [unreadable('Gone'), { kind: 'alarm', name: 'HighErrors' }]);
    assert.equal(r.state.status, 'Stopped');
    assert.match(r.state.errorInformation?.message ?? '', /Activated alarms: <HighErrors>/);
  });
});

describe('step: stop', () => {
  // [group rollback events, StopDeployment autoRollbackEnabled, rollback expected]
  const table: [RollbackEvent[], boolean | undefined, boolean][] = [
    [['DEPLOYMENT_STOP_ON_REQUEST'], undefined, true],
    [['DEPLOYMENT_STOP_ON_REQUEST'], false, false],
    [[], true, true],
    [[], undefined, false],
    [['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'], undefined, false],
    [['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'], true, true],
  ];
  for (const [events, override, rollback] of table) {
    it(`group rollback [${events.join(', ')}], autoRollbackEnabled ${String(override)}: Stopped, MANUAL_STOP, rollback ${rollback}`, () => {
      const started = step(fresh({ routing: { type: 'TimeBasedLinear', percentage: 10, intervalMinutes: 1 }, rollbackEvents: events }), T0);
      const mid = stepUntil(started, T0 + 3 * MIN);
      assert.equal(mid.state.targetWeight, 0.4);
      const r = step(mid.state, T0 + 3 * MIN + 10_000, [{ kind: 'stop', autoRollbackEnabled: override }]);
      assert.equal(r.state.status, 'Stopped');
      assert.equal(r.state.errorInformation?.code, 'MANUAL_STOP');
      assert.equal(r.state.completeTime, T0 + 3 * MIN + 10_000);
      assert.deepEqual(routes(r.actions), rollback ? [0] : []);
      assert.equal(r.state.targetWeight, rollback ? 0 : 0.4);
      assert.equal(r.state.rollbackPending, rollback ? true : undefined);
      assert.equal(r.wakeAt, undefined);
      assert.deepEqual(statuses(r.state), {
        Start: 'Succeeded',
        BeforeAllowTraffic: 'Skipped',
        AllowTraffic: 'Failed',
        AfterAllowTraffic: 'Skipped',
        End: 'Skipped',
      });
      // AllowTraffic ran, so it is never Skipped: it failed because of the stop, and its record keeps every
      // weight routed, the rollback's return to 0 included.
      const allow = event(r.state, 'AllowTraffic');
      assert.equal(allow.endTime, T0 + 3 * MIN + 10_000);
      assert.deepEqual(allow.diagnostics, { errorCode: 'UnknownError', message: 'The deployment was stopped on request.' });
      assert.deepEqual(r.state.trafficShifts, [
        { at: T0, weight: 0.1 },
        { at: T0 + 1 * MIN, weight: 0.2 },
        { at: T0 + 2 * MIN, weight: 0.3 },
        { at: T0 + 3 * MIN, weight: 0.4 },
        ...(rollback ? [{ at: T0 + 3 * MIN + 10_000, weight: 0 }] : []),
      ]);
    });
  }

  it('a stop on the very first step ends it before any traffic moves', () => {
    const r = step(fresh({ rollbackEvents: ['DEPLOYMENT_STOP_ON_REQUEST'] }), T0, [{ kind: 'stop', autoRollbackEnabled: undefined }]);
    assert.equal(r.state.status, 'Stopped');
    assert.equal(r.state.startTime, T0);
    assert.deepEqual(routes(r.actions), []);
  });
});

describe('step: application or deployment group deleted under it', () => {
  // [what was deleted, group rollback events, error code, routes, rollbackPending]
  const table: ['application' | 'deploymentGroup', RollbackEvent[], string, number[], true | undefined][] = [
    ['deploymentGroup', ['DEPLOYMENT_FAILURE'], 'DEPLOYMENT_GROUP_MISSING', [0], true],
    ['deploymentGroup', ['DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'], 'DEPLOYMENT_GROUP_MISSING', [], undefined],
    ['application', ['DEPLOYMENT_FAILURE'], 'APPLICATION_MISSING', [0], true],
    ['application', [], 'APPLICATION_MISSING', [], undefined],
  ];
  for (const [what, events, code, routed, pending] of table) {
    it(`${what} deleted mid-shift, rollback events [${events.join(', ')}]: Failed (${code}), routes [${routed.join(', ')}]`, () => {
      const started = step(fresh({ routing: { type: 'TimeBasedLinear', percentage: 10, intervalMinutes: 1 }, rollbackEvents: events }), T0);
      const mid = stepUntil(started, T0 + 2 * MIN);
      assert.equal(mid.state.targetWeight, 0.3);
      const r = step(mid.state, T0 + 2 * MIN + 5000, [{ kind: 'deleted', what }]);
      assert.equal(r.state.status, 'Failed');
      assert.equal(r.state.errorInformation?.code, code);
      assert.match(
        r.state.errorInformation?.message ?? '',
        what === 'application' ? /application app was deleted/ : /group group was deleted/,
      );
      assert.equal(r.state.completeTime, T0 + 2 * MIN + 5000);
      assert.deepEqual(routes(r.actions), routed);
      assert.equal(r.state.targetWeight, routed.length ? 0 : 0.3);
      assert.equal(r.state.rollbackPending, pending);
      assert.equal(r.wakeAt, undefined);
      assert.deepEqual(statuses(r.state), {
        Start: 'Succeeded',
        BeforeAllowTraffic: 'Skipped',
        AllowTraffic: 'Failed',
        AfterAllowTraffic: 'Skipped',
        End: 'Skipped',
      });
    });
  }
});

describe('step: an ended deployment releases the target version when it takes no traffic', () => {
  const canary5 = PREDEFINED_CONFIGS['CodeDeployDefault.LambdaCanary10Percent5Minutes']!;
  const hooked = (o: Fresh = {}) => fresh({ before: 'pre', after: 'post', ...o });
  const release2: Action = { kind: 'release', version: '2' };
  // [label, state before the step, time, observations, exact actions of the ending step, status]
  const table: [string, () => DeploymentState, number, Observation[], Action[], string][] = [
    [
      'BeforeAllowTraffic reports Failed, no rollback',
      () => step(hooked(), T0).state,
      T0 + MIN,
      [hookFailed(BEFORE_ID)],
      [release2],
      'Failed',
    ],
    [
      'BeforeAllowTraffic reports Failed, rollback on failure (nothing to route back)',
      () => step(hooked({ rollbackEvents: ['DEPLOYMENT_FAILURE'] }), T0).state,
      T0 + MIN,
      [hookFailed(BEFORE_ID)],
      [release2],
      'Failed',
    ],
    ['BeforeAllowTraffic never reports, no rollback', () => step(hooked(), T0).state, T0 + HOUR, [], [release2], 'Failed'],
    [
      'an alarm while BeforeAllowTraffic runs, no rollback',
      () => step(hooked({ alarms: ['A'] }), T0).state,
      T0 + MIN,
      [{ kind: 'alarm', name: 'A' }],
      [release2],
      'Stopped',
    ],
    [
      'a stop on the very first step, no rollback: warmed, then released',
      () => fresh({ routing: canary5 }),
      T0,
      [{ kind: 'stop', autoRollbackEnabled: false }],
      [{ kind: 'warm', version: '2' }, release2],
      'Stopped',
    ],
    [
      'an unreadable alarm on the very first step, no rollback',
      () => fresh({ routing: canary5, alarms: ['Gone'] }),
      T0,
      [{ kind: 'alarmUnreadable', names: ['Gone'] }],
      [{ kind: 'warm', version: '2' }, release2],
      'Stopped',
    ],
    [
      'stopped at 10% with rollback: routed back, then released',
      () => step(fresh({ routing: canary5 }), T0).state,
      T0 + MIN,
      [{ kind: 'stop', autoRollbackEnabled: true }],
      [{ kind: 'route', weight: 0 }, release2],
      'Stopped',
    ],
    [
      'stopped at 10% without rollback: the target keeps its traffic and its environments',
      () => step(fresh({ routing: canary5 }), T0).state,
      T0 + MIN,
      [{ kind: 'stop', autoRollbackEnabled: false }],
      [],
      'Stopped',
    ],
    [
      'AfterAllowTraffic reports Failed at 100% without rollback: nothing released',
      () => step(step(hooked(), T0).state, T0 + MIN, [hookOk(BEFORE_ID)]).state,
      T0 + 2 * MIN,
      [hookFailed(AFTER_ID)],
      [],
      'Failed',
    ],
  ];
  for (const [label, make, now, observations, actions, status] of table) {
    it(`${label}: ${status}, actions ${JSON.stringify(actions.map((a) => a.kind))}`, () => {
      const r = step(make(), now, observations);
      assert.equal(r.state.status, status);
      assert.deepEqual(r.actions, actions);
      assert.equal(r.wakeAt, undefined);
    });
  }
});

describe('step: bake window', () => {
  const canary5 = PREDEFINED_CONFIGS['CodeDeployDefault.LambdaCanary10Percent5Minutes']!;
  const baking = () => fresh({ routing: canary5, bakeMinutes: 5, alarms: ['HighErrors'], rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'] });

  it('bakeMinutes 5: after all traffic moves, waits 5 more minutes (wakeAt) before it succeeds', () => {
    const run = drive(baking());
    assert.deepEqual(
      run.log.map(({ at, result }) => [
        (at - T0) / MIN,
        routes(result.actions),
        result.state.status,
        result.wakeAt === undefined ? undefined : (result.wakeAt - T0) / MIN,
      ]),
      [
        [0, [0.1], 'InProgress', 5],
        [5, [1], 'InProgress', 10],
        [10, [], 'Succeeded', undefined],
      ],
    );
    assert.equal(run.state.completeTime, T0 + 10 * MIN);
    assert.equal(run.state.bakeUntil, T0 + 10 * MIN);
    const full = run.log[1]!.result.state;
    assert.equal(event(full, 'AllowTraffic').status, 'InProgress');
    const early = step(full, T0 + 10 * MIN - 1);
    assert.deepEqual(early.actions, []);
    assert.equal(early.state.status, 'InProgress');
    assert.equal(early.wakeAt, T0 + 10 * MIN);
  });

  it('bakeMinutes 5: an alarm during the bake stops it and rolls all traffic back', () => {
    const run = drive(baking());
    const full = run.log[1]!.result.state;
    const r = step(full, T0 + 7 * MIN, [{ kind: 'alarm', name: 'HighErrors' }]);
    assert.equal(r.state.status, 'Stopped');
    assert.equal(r.state.errorInformation?.code, 'ALARM_ACTIVE');
    assert.deepEqual(r.actions, [
      { kind: 'route', weight: 0 },
      { kind: 'release', version: '2' },
    ]);
    assert.equal(r.state.rollbackPending, true);
  });

  it('bakeMinutes 5 with AllAtOnce: all traffic at once, then Succeeded 5 minutes later', () => {
    const run = drive(fresh({ bakeMinutes: 5 }));
    assert.deepEqual(run.timeline, [[0, 1]]);
    assert.equal(run.state.completeTime, T0 + 5 * MIN);
  });

  it('the bake comes before AfterAllowTraffic', () => {
    const first = step(fresh({ after: 'post', bakeMinutes: 5 }), T0);
    assert.deepEqual(first.actions, [
      { kind: 'warm', version: '2' },
      { kind: 'route', weight: 1 },
    ]);
    assert.equal(first.wakeAt, T0 + 5 * MIN);
    const baked = step(first.state, T0 + 5 * MIN);
    assert.deepEqual(baked.actions, [{ kind: 'invokeHook', functionName: 'post', executionId: AFTER_ID }]);
  });
});

describe('step: an alias that is not this deployment’s to move', () => {
  const linear = { type: 'TimeBasedLinear', percentage: 10, intervalMinutes: 1 } as const;

  it('aliasBusy on the first step (another deployment moves the alias): Failed at Start, INVALID_LAMBDA_CONFIGURATION, nothing moved or warmed', () => {
    const r = step(fresh({ rollbackEvents: ['DEPLOYMENT_FAILURE'] }), T0, [{ kind: 'aliasBusy', deploymentId: 'd-OTHER0001' }]);
    assert.equal(r.state.status, 'Failed');
    assert.equal(r.state.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
    assert.match(r.state.errorInformation?.message ?? '', /alias live of orders is being deployed by d-OTHER0001/);
    assert.deepEqual(r.actions, []);
    assert.equal(r.state.rollbackPending, undefined);
    assert.equal(r.state.startTime, T0);
    assert.deepEqual(statuses(r.state), {
      Start: 'Failed',
      BeforeAllowTraffic: 'Skipped',
      AllowTraffic: 'Skipped',
      AfterAllowTraffic: 'Skipped',
      End: 'Skipped',
    });
  });

  it('aliasChanged on the first step (not wholly on CurrentVersion): Failed with AWS’s sentence and what the alias routes to', () => {
    const r = step(fresh(), T0, [{ kind: 'aliasChanged', found: '90% on version 1 and 10% on version 7' }]);
    assert.equal(r.state.status, 'Failed');
    assert.equal(r.state.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
    assert.match(
      r.state.errorInformation?.message ?? '',
      /^The deployment failed because the AppSpec file that specifies the AWS Lambda deployment configuration is missing or has an invalid configuration\. The Lambda function alias version does not match the current version in AppSpec file: alias live of orders routes to 90% on version 1 and 10% on version 7/,
    );
    assert.deepEqual(r.actions, []);
  });

  it('aliasChanged mid-shift, with every rollback event: Failed, no route and no rollback, since both would overwrite the change', () => {
    const events: RollbackEvent[] = ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'];
    const mid = stepUntil(step(fresh({ routing: linear, rollbackEvents: events }), T0), T0 + 2 * MIN);
    assert.equal(mid.state.targetWeight, 0.3);
    const r = step(mid.state, T0 + 2 * MIN + 1, [
      { kind: 'stop', autoRollbackEnabled: true },
      { kind: 'aliasChanged', found: 'version 9' },
    ]);
    assert.equal(r.state.status, 'Failed');
    assert.equal(r.state.errorInformation?.code, 'INVALID_LAMBDA_CONFIGURATION');
    assert.equal(
      r.state.errorInformation?.message,
      'The alias live of orders was changed outside this deployment: it routes to version 9, where the deployment had left 70% on version 1 and 30% on version 2. The deployment stopped without moving the alias, so that change stays; no rollback was made.',
    );
    assert.deepEqual(r.actions, []);
    assert.equal(r.state.rollbackPending, undefined);
    assert.equal(r.state.targetWeight, 0.3);
    assert.equal(event(r.state, 'AllowTraffic').status, 'Failed');
  });

  it('aliasBusy after the first step means nothing (the inbox is read at the first step)', () => {
    const started = step(fresh({ routing: linear }), T0);
    const r = step(started.state, T0 + MIN, [{ kind: 'aliasBusy', deploymentId: 'd-OTHER0001' }]);
    assert.equal(r.state.status, 'InProgress');
    assert.deepEqual(routes(r.actions), [0.2]);
  });
});

describe('step: a traffic switch that fails', () => {
  const failure = (notFound = true): Observation => ({
    kind: 'trafficFailed',
    message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:orders:2',
    notFound,
  });

  it('AllAtOnce after the pre-traffic hook: Failed (INVALID_LAMBDA_FUNCTION), the hook Succeeded, AllowTraffic Failed, never Succeeded', () => {
    const invoked = step(fresh({ before: 'pre' }), T0).state;
    // The controller retakes the step with the failure last, after the report that let traffic move.
    const r = step(invoked, T0 + MIN, [hookOk(BEFORE_ID), failure()]);
    assert.equal(r.state.status, 'Failed');
    assert.equal(r.state.errorInformation?.code, 'INVALID_LAMBDA_FUNCTION');
    assert.equal(
      r.state.errorInformation?.message,
      'The deployment failed because traffic on alias live of orders could not be moved to version 2: Function not found: arn:aws:lambda:us-east-1:000000000000:function:orders:2',
    );
    assert.deepEqual(statuses(r.state), {
      Start: 'Succeeded',
      BeforeAllowTraffic: 'Succeeded',
      AllowTraffic: 'Failed',
      AfterAllowTraffic: 'Skipped',
      End: 'Skipped',
    });
    assert.match(event(r.state, 'AllowTraffic').diagnostics?.message ?? '', /Function not found/);
    assert.deepEqual(routes(r.actions), []);
    assert.equal(r.state.targetWeight, 0);
  });

  it('mid-shift with DEPLOYMENT_FAILURE: Failed and rolled back to 0; another cause is INTERNAL_ERROR', () => {
    const linear = { type: 'TimeBasedLinear', percentage: 10, intervalMinutes: 1 } as const;
    const mid = stepUntil(step(fresh({ routing: linear, rollbackEvents: ['DEPLOYMENT_FAILURE'] }), T0), T0 + MIN);
    assert.equal(mid.state.targetWeight, 0.2);
    const r = step(mid.state, T0 + 2 * MIN, [failure(false)]);
    assert.equal(r.state.status, 'Failed');
    assert.equal(r.state.errorInformation?.code, 'INTERNAL_ERROR');
    assert.deepEqual(routes(r.actions), [0]);
    assert.equal(r.state.rollbackPending, true);
  });
});

describe('aliasShare, expectedShares', () => {
  const d = { currentVersion: '1', targetVersion: '2' };
  const table: [string, Parameters<typeof aliasShare>[0], number | undefined][] = [
    ['wholly on the current version', { functionVersion: '1', additionalVersionWeights: undefined }, 0],
    ['the current version with 30% on the target', { functionVersion: '1', additionalVersionWeights: { '2': 0.3 } }, 0.3],
    ['wholly on the target', { functionVersion: '2', additionalVersionWeights: {} }, 1],
    ['on another version', { functionVersion: '3', additionalVersionWeights: undefined }, undefined],
    ['the current version with a weight on another', { functionVersion: '1', additionalVersionWeights: { '3': 0.1 } }, undefined],
    ['the target with a weight on the current', { functionVersion: '2', additionalVersionWeights: { '1': 0.1 } }, undefined],
    ['deleted', undefined, undefined],
  ];
  for (const [what, alias, share] of table) {
    it(`an alias ${what}: ${String(share)}`, () => assert.equal(aliasShare(alias, d), share));
  }

  it('describeRouting says what an alias routes to', () => {
    assert.equal(
      describeRouting({ functionVersion: '22', additionalVersionWeights: { '4': 0.1 } }),
      '90% on version 22 and 10% on version 4',
    );
    assert.equal(describeRouting({ functionVersion: '6', additionalVersionWeights: undefined }), 'version 6');
    assert.equal(describeRouting(undefined), 'no alias (it was deleted)');
  });

  it('expectedShares: before the start only 0; then the stored share; resuming, what the alias’s RevisionId says of the last move', () => {
    const linear = { type: 'TimeBasedLinear', percentage: 10, intervalMinutes: 1 } as const;
    assert.deepEqual(expectedShares(fresh(), true), [0]);
    const mid = stepUntil(step(fresh({ routing: linear }), T0), T0 + 2 * MIN).state;
    assert.deepEqual(expectedShares(mid, false), [0.3]);
    // Stored before aliasAt was kept: the stored share, the one before it and both ends.
    assert.deepEqual(expectedShares(mid, true), [0.3, 0.2, 0, 1]);
    // The step to 30 % found the alias at 20 % under RevisionId r2 and was moving it to 30 %.
    const marked = { ...mid, aliasAt: { revisionId: 'r2', weight: 0.2 }, movingTo: 0.3 };
    assert.deepEqual(expectedShares(marked, true, 'r2'), [0.2], 'untouched since: the move was not made');
    assert.deepEqual(expectedShares(marked, true, 'r3'), [0.3], 'changed since: only the move itself, not a move back to 0');
    assert.deepEqual(expectedShares(marked, false, 'r3'), [0.3], 'a controller that kept running knows its move was made');
    // A step that moved nothing (movingTo absent) left the stored share.
    assert.deepEqual(expectedShares({ ...mid, aliasAt: { revisionId: 'r3', weight: 0.3 } }, true, 'r4'), [0.3]);
    // An AllAtOnce deployment whose first step (ending it) was moving the alias wholly: stored Created.
    const switching = { ...fresh(), aliasAt: { revisionId: 'r1', weight: 0 }, movingTo: 1 };
    assert.deepEqual(expectedShares(switching, true, 'r1'), [0]);
    assert.deepEqual(expectedShares(switching, true, 'r2'), [1]);
    assert.ok(shareIn(0.1 + 0.2, [0.3]));
    assert.ok(!shareIn(undefined, [0]));
  });
});

describe('step: finished deployments', () => {
  const finished = (): [string, DeploymentState][] => {
    const succeeded = step(fresh(), T0).state;
    const invoked = step(fresh({ before: 'pre' }), T0).state;
    const failed = step(invoked, T0 + MIN, [hookFailed(BEFORE_ID)]).state;
    const stopped = step(fresh({ routing: { type: 'TimeBasedCanary', percentage: 10, intervalMinutes: 5 } }), T0, [
      { kind: 'stop', autoRollbackEnabled: false },
    ]).state;
    return [
      ['Succeeded', succeeded],
      ['Failed', failed],
      ['Stopped', stopped],
    ];
  };
  for (const [status, state] of finished()) {
    it(`${status}: step() returns it unchanged, with no actions and no wake, whatever it observes`, () => {
      assert.equal(state.status, status);
      const r = step(state, T0 + 10 * HOUR, [
        { kind: 'stop', autoRollbackEnabled: true },
        { kind: 'alarm', name: 'x' },
        { kind: 'alarmUnreadable', names: ['x'] },
        { kind: 'deleted', what: 'deploymentGroup' },
        hookOk(BEFORE_ID),
      ]);
      assert.deepEqual(r.state, state);
      assert.deepEqual(r.actions, []);
      assert.equal(r.wakeAt, undefined);
    });
  }
});

describe('step: purity', () => {
  const deepFreeze = <T>(v: T): T => {
    if (v && typeof v === 'object') {
      for (const x of Object.values(v)) deepFreeze(x);
      Object.freeze(v);
    }
    return v;
  };
  const hooked = () =>
    fresh({ before: 'pre', after: 'post', alarms: ['A'], rollbackEvents: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] });
  const linear = () =>
    fresh({
      routing: { type: 'TimeBasedLinear', percentage: 10, intervalMinutes: 1 },
      alarms: ['A'],
      rollbackEvents: ['DEPLOYMENT_STOP_ON_ALARM'],
      bakeMinutes: 2,
    });
  // [label, state to step, time, observations]
  const table: [string, () => DeploymentState, number, Observation[]][] = [
    ['a fresh deployment', () => fresh(), T0, []],
    ['a fresh deployment with a hook', hooked, T0, []],
    ['a hook success', () => step(hooked(), T0).state, T0 + MIN, [hookOk(BEFORE_ID)]],
    ['a hook failure', () => step(hooked(), T0).state, T0 + MIN, [hookFailed(BEFORE_ID)]],
    ['a hook timeout', () => step(hooked(), T0).state, T0 + HOUR, []],
    ['a linear shift', () => step(linear(), T0).state, T0 + 3 * MIN, []],
    ['the bake', () => step(linear(), T0).state, T0 + 9 * MIN, []],
    ['an alarm', () => step(linear(), T0).state, T0 + 3 * MIN, [{ kind: 'alarm', name: 'A' }]],
    ['an unreadable alarm', () => step(linear(), T0).state, T0 + 3 * MIN, [{ kind: 'alarmUnreadable', names: ['A'] }]],
    ['a stop', () => step(linear(), T0).state, T0 + 3 * MIN, [{ kind: 'stop', autoRollbackEnabled: true }]],
    ['its group deleted', () => step(linear(), T0).state, T0 + 3 * MIN, [{ kind: 'deleted', what: 'deploymentGroup' }]],
  ];
  for (const [label, make, now, observations] of table) {
    it(`${label}: step() leaves its input as it was`, () => {
      const input = make();
      const copy = structuredClone(input);
      const r = step(deepFreeze(input), now, observations);
      assert.deepEqual(input, copy);
      assert.notEqual(r.state, input);
      // Same input, same output.
      assert.deepEqual(step(input, now, observations), r);
    });
  }
});

describe('parseAppSpec', () => {
  const target = { functionName: 'orders', alias: 'live', currentVersion: '1', targetVersion: '2' };
  // [label, content, parsed target]
  const accepted: [string, string, object][] = [
    [
      'YAML, capitalised keys',
      [
        'version: 0.0',
        'Resources:',
        '  - myFunction:',
        '      Type: AWS::Lambda::Function',
        '      Properties:',
        '        Name: orders',
        '        Alias: live',
        '        CurrentVersion: 1',
        '        TargetVersion: 2',
      ].join('\n'),
      target,
    ],
    [
      'YAML, lower-case keys and quoted versions',
      [
        'version: 0.0',
        'resources:',
        '  - myFunction:',
        '      type: AWS::Lambda::Function',
        '      properties:',
        '        name: orders',
        '        alias: live',
        '        currentversion: "1"',
        '        targetversion: "2"',
      ].join('\n'),
      target,
    ],
    [
      'YAML with hooks',
      [
        'version: 0.0',
        'Resources:',
        '  - myFunction:',
        '      Type: AWS::Lambda::Function',
        '      Properties: { Name: orders, Alias: live, CurrentVersion: 1, TargetVersion: 2 }',
        'Hooks:',
        '  - BeforeAllowTraffic: preTraffic',
        '  - AfterAllowTraffic: postTraffic',
      ].join('\n'),
      { ...target, beforeAllowTraffic: 'preTraffic', afterAllowTraffic: 'postTraffic' },
    ],
    [
      'JSON, capitalised keys, with a hook',
      JSON.stringify({
        version: 0.0,
        Resources: [
          {
            myFunction: {
              Type: 'AWS::Lambda::Function',
              Properties: { Name: 'orders', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' },
            },
          },
        ],
        Hooks: [{ AfterAllowTraffic: 'postTraffic' }],
      }),
      { ...target, afterAllowTraffic: 'postTraffic' },
    ],
    [
      'JSON, mixed-case keys and numeric versions',
      JSON.stringify({
        resources: [
          { f: { TYPE: 'AWS::Lambda::Function', properties: { name: 'orders', ALIAS: 'live', currentversion: 1, targetVersion: 2 } } },
        ],
        hooks: [{ beforeallowtraffic: 'pre' }],
      }),
      { ...target, beforeAllowTraffic: 'pre' },
    ],
  ];
  for (const [label, content, expected] of accepted) {
    it(`${label}: parsed`, () => {
      assert.deepEqual(parseAppSpec(content), expected);
    });
  }

  const spec = (p: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
    Resources: [
      {
        f: { Type: 'AWS::Lambda::Function', Properties: { Name: 'orders', Alias: 'live', CurrentVersion: '1', TargetVersion: '2', ...p } },
      },
    ],
    ...rest,
  });
  const props = (p: Record<string, unknown>) => JSON.stringify(spec(p));
  const one = { f: { Properties: { Name: 'orders', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } };
  const refusals: [string, string][] = [
    ['no resources', 'version: 0.0\n'],
    ['empty resources', JSON.stringify({ Resources: [] })],
    ['two resources', JSON.stringify({ Resources: [one, one] })],
    ['resources not a list', JSON.stringify({ Resources: one })],
    ['non-numeric version', props({ TargetVersion: 'two' })],
    ['$LATEST as a version', props({ CurrentVersion: '$LATEST' })],
    ['version 0', props({ TargetVersion: '0' })],
    ['missing alias', props({ Alias: undefined })],
    ['a non-Lambda resource type', props({}).replace('AWS::Lambda::Function', 'AWS::ECS::Service')],
    ['a bad hook key', JSON.stringify(spec({}, { Hooks: [{ BeforeInstall: 'x' }] }))],
    ['hooks not a list', JSON.stringify(spec({}, { Hooks: { BeforeAllowTraffic: 'x' } }))],
    ['unparseable JSON', '{ "Resources": ['],
    ['unparseable YAML', 'Resources:\n  - f: [unclosed\n'],
    ['a YAML scalar', 'just some text'],
    ['empty text', ''],
  ];
  for (const [label, content] of refusals) {
    it(`${label}: refused with InvalidRevisionException`, () => {
      assert.equal(
        codeOf(() => parseAppSpec(content)),
        'InvalidRevisionException',
      );
    });
  }

  it('a megabyte, or nesting past 20 levels, is refused before it is composed, naming the size or the line', () => {
    // Composed, a megabyte of `[` took 9.5 s and the server to 1 GB before the stack overflowed.
    const deep = (levels: number, open = '[') => `version: 0.0\nResources: ${open.repeat(levels)}\n`;
    const blockDeep = `version: 0.0\nResources:\n${Array.from({ length: 30 }, (_, i) => `${' '.repeat(2 * i + 2)}- `).join('\n')}x\n`;
    const cases: [string, RegExp][] = [
      [deep(1_000_000), /may not exceed 51200 bytes \(this one is 1000025 bytes\)/],
      [deep(21), /nested more than 20 levels deep \(at line 2\)/],
      [deep(21, '{'), /nested more than 20 levels deep/],
      [blockDeep, /nested more than 20 levels deep/],
    ];
    for (const [content, message] of cases) {
      assert.throws(
        () => parseAppSpec(content),
        (err: unknown) => err instanceof PlatformError && err.code === 'InvalidRevisionException' && message.test(err.message),
      );
    }
    // Just within both bounds, a real AppSpec with padding still reads.
    const padded = `${props({})}${' '.repeat(51_200 - props({}).length)}`;
    assert.deepEqual(parseAppSpec(padded), { functionName: 'orders', alias: 'live', currentVersion: '1', targetVersion: '2' });
  });

  it('thousands of keys within the size bound are read without holding the event loop', async () => {
    // yaml's check that a map's keys are unique compares each key with every one before it: a flow map
    // of 12,700 keys (`a: {aaa,aab,...}`) held the event loop 2.4 s per CreateDeployment.
    const name = (i: number) => String.fromCharCode(97 + Math.floor(i / 676), 97 + (Math.floor(i / 26) % 26), 97 + (i % 26));
    const content = `a: {${Array.from({ length: 12_700 }, (_, i) => name(i)).join(',')}}`;
    assert.ok(content.length <= 51_200);
    const { result, heldMs } = await loopHolds(() => Promise.resolve(codeOf(() => parseAppSpec(content))));
    assert.equal(result, 'InvalidRevisionException');
    assert.ok(heldMs < 700, `the event loop was held ${heldMs.toFixed(0)} ms at a time`);
  });
});
