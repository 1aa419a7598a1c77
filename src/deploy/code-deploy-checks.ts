import { PlatformError } from '../core/errors.js';
import type { RollbackEvent } from '../domain/deployment.js';
import type { DeploymentGroupDoc, TriggerConfig } from '../domain/code-deploy.js';

/**
 * CodeDeploy's checks of what a caller sends for a deployment group or a deployment, each refused
 * with the exception CodeDeploy's model documents for it. Everything is checked before anything is
 * stored, and only checked, known members are kept: a group's record is read by every step of its
 * deployments, so nothing a caller sends may grow it past AWS's bounds.
 *
 * The messages begin with the exception's own documented sentence; what follows names the cause.
 */

type Code = ConstructorParameters<typeof PlatformError>[0];
const err = (code: Code, message: string) => new PlatformError(code, message);
/** A value as it may be echoed in a message: never more than a line, whatever the caller sent. */
export const shown = (v: unknown) => (typeof v === 'string' ? v.slice(0, 64) : JSON.stringify(v)?.slice(0, 64));

/** Applications, deployment groups and deployment configs are named in 1 to 100 characters. */
const MAX_NAME = 100;
const NAMES = {
  application: ['InvalidApplicationNameException', 'The application name was specified in an invalid format.'],
  deploymentGroup: ['InvalidDeploymentGroupNameException', 'The deployment group name was specified in an invalid format.'],
  deploymentConfig: ['InvalidDeploymentConfigNameException', 'The deployment configuration name was specified in an invalid format.'],
} as const satisfies Record<string, [Code, string]>;

/**
 * A name past 100 characters, or empty where the operation has no "required" error of its own for it
 * (UpdateDeploymentGroup's newDeploymentGroupName): the operations check absent names first.
 */
export function checkName(kind: keyof typeof NAMES, name: string): void {
  if (name.length === 0 || name.length > MAX_NAME) {
    const [code, sentence] = NAMES[kind];
    throw err(code, `${sentence} It must be from 1 to ${MAX_NAME} characters long; it has ${name.length}.`);
  }
}

/** An IAM role's ARN (its path and name at most 512 characters), as IAM makes them. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export function checkRole(arn: string): void {
  if (!ROLE_ARN.test(arn)) {
    throw err(
      'InvalidRoleException',
      `The service role ARN was specified in an invalid format: ${shown(arn)} is not an IAM role ARN (arn:aws:iam::123456789012:role/name).`,
    );
  }
}

/** A deployment's description; AWS documents DescriptionTooLongException but not its bound, taken here as 512. */
export const MAX_DESCRIPTION = 512;

export function checkDescription(description: unknown): void {
  if (typeof description === 'string' && description.length > MAX_DESCRIPTION) {
    throw err(
      'DescriptionTooLongException',
      `The description is too long: at most ${MAX_DESCRIPTION} characters, got ${description.length}.`,
    );
  }
}

// ---- Alarms ----

const MAX_ALARMS = 10;
const MAX_ALARM_NAME = 255;

export interface AlarmInput {
  enabled?: boolean;
  ignorePollAlarmFailure?: boolean;
  alarms?: { name?: string }[];
}

const badAlarms = (cause: string) => err('InvalidAlarmConfigException', `The format of the alarm configuration is invalid. ${cause}`);

/** At most 10 alarms, each named in 1 to 255 characters and once only; an enabled configuration names one at least. */
export function alarmConfigOf(c: AlarmInput | undefined): DeploymentGroupDoc['alarmConfiguration'] {
  const list: unknown = c?.alarms ?? [];
  if (!Array.isArray(list)) throw badAlarms('The alarm list is null.');
  // Counted first: nothing past the bound is looked at.
  if (list.length > MAX_ALARMS)
    throw err('AlarmsLimitExceededException', `The maximum number of alarms for a deployment group (${MAX_ALARMS}) was exceeded.`);
  const names: string[] = [];
  for (const a of list as unknown[]) {
    if (a === null || typeof a !== 'object') throw badAlarms('The alarm object is null.');
    const name = (a as { name?: unknown }).name;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_ALARM_NAME)
      throw badAlarms(`The alarm name is empty or null or exceeds the limit of ${MAX_ALARM_NAME} characters.`);
    if (names.includes(name)) throw badAlarms(`Two alarms with the same name have been specified: ${shown(name)}.`);
    names.push(name);
  }
  const enabled = c?.enabled ?? false;
  if (enabled && names.length === 0) throw badAlarms('The alarm configuration is enabled, but the alarm list is empty.');
  return { enabled, ignorePollAlarmFailure: c?.ignorePollAlarmFailure ?? false, alarms: names.map((name) => ({ name })) };
}

// ---- Automatic rollback ----

const ROLLBACK_EVENTS: readonly RollbackEvent[] = ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'];

const badRollback = (cause: string) =>
  err('InvalidAutoRollbackConfigException', `The automatic rollback configuration was specified in an invalid format. ${cause}`);

/**
 * Only CodeDeploy's three event types, each kept once (a repeat adds nothing, so the list stays within
 * three); an enabled configuration lists one at least.
 */
export function rollbackConfigOf(c: { enabled?: boolean; events?: string[] } | undefined): DeploymentGroupDoc['autoRollbackConfiguration'] {
  const list: unknown = c?.events ?? [];
  if (!Array.isArray(list)) throw badRollback('The event types are not a list.');
  const events: RollbackEvent[] = [];
  for (const e of list as unknown[]) {
    if (!ROLLBACK_EVENTS.includes(e as RollbackEvent))
      throw badRollback(`The event type ${shown(e)} is not valid: valid types are ${ROLLBACK_EVENTS.join(', ')}.`);
    if (!events.includes(e as RollbackEvent)) events.push(e as RollbackEvent);
  }
  const enabled = c?.enabled ?? false;
  if (enabled && events.length === 0) throw badRollback('Automatic rollback is enabled, but no event types were listed.');
  return { enabled, events };
}

// ---- Deployment style ----

const DEPLOYMENT_TYPES = ['IN_PLACE', 'BLUE_GREEN'];
const DEPLOYMENT_OPTIONS = ['WITH_TRAFFIC_CONTROL', 'WITHOUT_TRAFFIC_CONTROL'];
const BAD_STYLE =
  'An invalid deployment style was specified. Valid deployment types include "IN_PLACE" and "BLUE_GREEN." Valid deployment options include "WITH_TRAFFIC_CONTROL" and "WITHOUT_TRAFFIC_CONTROL."';

/** Values of CodeDeploy's enums only; and a Lambda group, which shifts an alias's traffic, is BLUE_GREEN WITH_TRAFFIC_CONTROL. */
export function styleOf(s: { deploymentType?: string; deploymentOption?: string } | undefined): DeploymentGroupDoc['deploymentStyle'] {
  const type: unknown = s?.deploymentType ?? 'BLUE_GREEN';
  const option: unknown = s?.deploymentOption ?? 'WITH_TRAFFIC_CONTROL';
  if (!DEPLOYMENT_TYPES.includes(type as string) || !DEPLOYMENT_OPTIONS.includes(option as string))
    throw err('InvalidDeploymentStyleException', BAD_STYLE);
  if (type !== 'BLUE_GREEN' || option !== 'WITH_TRAFFIC_CONTROL') {
    throw err(
      'InvalidDeploymentStyleException',
      `An invalid deployment style was specified. A Lambda deployment group's style is BLUE_GREEN with WITH_TRAFFIC_CONTROL, not ${shown(type)} with ${shown(option)}.`,
    );
  }
  return { deploymentType: type, deploymentOption: option };
}

// ---- Blue/green configuration ----

/** The longest wait CodeDeploy takes before terminating the original targets or acting on a ready timeout: 2 days. */
const MAX_WAIT_MINUTES = 2880;

type BlueGreen = NonNullable<DeploymentGroupDoc['blueGreenDeploymentConfiguration']>;

const badBlueGreen = (cause: string) =>
  err(
    'InvalidBlueGreenDeploymentConfigurationException',
    `The configuration for the blue/green deployment group was provided in an invalid format. ${cause}`,
  );

function oneOf(value: unknown, allowed: readonly string[], member: string): string | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as string)) throw badBlueGreen(`${member} ${shown(value)} is not one of ${allowed.join(', ')}.`);
  return value as string;
}

function minutes(value: unknown, member: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_WAIT_MINUTES)
    throw badBlueGreen(`${member} must be a whole number of minutes from 0 to ${MAX_WAIT_MINUTES}.`);
  return value as number;
}

const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const part = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;

/** The blue/green options as sent, each value one of CodeDeploy's, and nothing else. */
export function blueGreenOf(c: BlueGreen | undefined): BlueGreen | undefined {
  if (c === undefined) return undefined;
  const terminate = part(c.terminateBlueInstancesOnDeploymentSuccess);
  const ready = part(c.deploymentReadyOption);
  const green = part(c.greenFleetProvisioningOption);
  return defined({
    terminateBlueInstancesOnDeploymentSuccess:
      terminate &&
      defined({
        action: oneOf(terminate.action, ['TERMINATE', 'KEEP_ALIVE'], 'terminateBlueInstancesOnDeploymentSuccess.action'),
        terminationWaitTimeInMinutes: minutes(terminate.terminationWaitTimeInMinutes, 'terminationWaitTimeInMinutes'),
      }),
    deploymentReadyOption:
      ready &&
      defined({
        actionOnTimeout: oneOf(ready.actionOnTimeout, ['CONTINUE_DEPLOYMENT', 'STOP_DEPLOYMENT'], 'deploymentReadyOption.actionOnTimeout'),
        waitTimeInMinutes: minutes(ready.waitTimeInMinutes, 'deploymentReadyOption.waitTimeInMinutes'),
      }),
    greenFleetProvisioningOption:
      green &&
      defined({ action: oneOf(green.action, ['DISCOVER_EXISTING', 'COPY_AUTO_SCALING_GROUP'], 'greenFleetProvisioningOption.action') }),
  });
}

// ---- Triggers ----

/** Triggers per group, as on AWS: each is kept in the group's record, which every step reads. */
const MAX_TRIGGERS = 10;
/** AWS documents no bound for a trigger's name; the console's is taken (unconfirmed against the API). */
const MAX_TRIGGER_NAME = 100;
/** An SNS topic's ARN: the topic is named in 1 to 256 letters, digits, hyphens and underscores (.fifo for a FIFO topic). */
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]{1,32}:\d{12}:[\w-]{1,256}(\.fifo)?$/;
const TRIGGER_EVENTS = [
  'DeploymentStart',
  'DeploymentSuccess',
  'DeploymentFailure',
  'DeploymentStop',
  'DeploymentRollback',
  'DeploymentReady',
  'InstanceStart',
  'InstanceSuccess',
  'InstanceFailure',
  'InstanceReady',
];

const badTrigger = (cause: string) => err('InvalidTriggerConfigException', `The trigger was specified in an invalid format. ${cause}`);

type TriggerInput = { triggerName?: string; triggerTargetArn?: string; triggerEvents?: string[] };

/** At most 10 triggers, each with its own name, an SNS topic's ARN and CodeDeploy's event types (each kept once). */
export function triggersOf(list: TriggerInput[] | undefined): TriggerConfig[] {
  const triggers: unknown = list ?? [];
  if (!Array.isArray(triggers)) throw badTrigger('The trigger configurations are not a list.');
  if (triggers.length > MAX_TRIGGERS)
    throw err('TriggerTargetsLimitExceededException', 'The maximum allowed number of triggers was exceeded.');
  const names = new Set<string>();
  return (triggers as unknown[]).map((t) => {
    const trigger = triggerOf(part(t) ?? {});
    if (names.has(trigger.triggerName)) throw badTrigger(`The trigger name ${shown(trigger.triggerName)} is used more than once.`);
    names.add(trigger.triggerName);
    return trigger;
  });
}

function triggerOf(t: Record<string, unknown>): TriggerConfig {
  const { triggerName: name, triggerTargetArn: arn } = t;
  if (typeof name !== 'string' || name.length === 0 || typeof arn !== 'string' || arn.length === 0)
    throw badTrigger('A trigger needs a triggerName and a triggerTargetArn.');
  if (name.length > MAX_TRIGGER_NAME)
    throw badTrigger(`The trigger name must be at most ${MAX_TRIGGER_NAME} characters long; it has ${name.length}.`);
  if (!TOPIC_ARN.test(arn)) throw badTrigger(`The target ${shown(arn)} is not an Amazon SNS topic ARN.`);
  const list: unknown = t.triggerEvents ?? [];
  if (!Array.isArray(list)) throw badTrigger('The trigger event types are not a list.');
  const events: string[] = [];
  for (const e of list as unknown[]) {
    if (!TRIGGER_EVENTS.includes(e as string)) throw badTrigger(`The trigger event type ${shown(e)} is not valid.`);
    if (!events.includes(e as string)) events.push(e as string);
  }
  return { triggerName: name, triggerTargetArn: arn, triggerEvents: events };
}
