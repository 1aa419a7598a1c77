import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { functionArn, parseFunctionRef } from '../domain/arn.js';
import type { EventInvokeConfigRecord } from '../domain/async-event.js';
import { LATEST } from '../domain/lambda-function.js';
import { Violations } from '../domain/validation.js';
import type { Store } from '../store/store.js';
import type { Caller } from './function-service.js';

/** Put/UpdateFunctionEventInvokeConfig's members; a destination of '' clears it. */
export interface EventInvokeConfigInput {
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  destinationConfig?: { onSuccess?: string; onFailure?: string };
}

const DESTINATION = /^$|^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)$/;
const DESTINATION_SHOWN =
  '$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)';

/** The services AWS delivers asynchronous invocation records to. */
const AWS_DESTINATION_SERVICES = new Set(['lambda', 'sqs', 'sns', 'events', 's3']);

/**
 * Event invoke configs (retries, event age, destinations) per function, version or alias, with the
 * validation and words of Lambda's PutFunctionEventInvokeConfig family. The async queue reads them at
 * each attempt, so a change applies to events already queued.
 */
export class EventInvokeConfigService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async put(caller: Caller, name: string, qualifier: string | undefined, input: EventInvokeConfigInput): Promise<EventInvokeConfigRecord> {
    validate(input);
    return this.store.transaction(async (tx) => {
      await requireTarget(tx, name, qualifier);
      await validateDestinations(tx, name, input);
      const record: EventInvokeConfigRecord = {
        functionName: name,
        qualifier: qualifier ?? LATEST,
        maximumRetryAttempts: input.maximumRetryAttempts,
        maximumEventAgeInSeconds: input.maximumEventAgeInSeconds,
        onSuccess: input.destinationConfig?.onSuccess || undefined,
        onFailure: input.destinationConfig?.onFailure || undefined,
        lastModified: this.clock.now(),
      };
      await tx.eventInvokeConfigs.put(record);
      return record;
    });
  }

  /** Changes only the settings given, keeping the others. */
  async update(
    caller: Caller,
    name: string,
    qualifier: string | undefined,
    input: EventInvokeConfigInput,
  ): Promise<EventInvokeConfigRecord> {
    validate(input);
    return this.store.transaction(async (tx) => {
      await requireTarget(tx, name, qualifier);
      const current = await tx.eventInvokeConfigs.get(name, qualifier ?? LATEST);
      if (!current) throw noConfig(caller, name, qualifier);
      await validateDestinations(tx, name, input);
      const d = input.destinationConfig;
      const record: EventInvokeConfigRecord = {
        ...current,
        maximumRetryAttempts: input.maximumRetryAttempts ?? current.maximumRetryAttempts,
        maximumEventAgeInSeconds: input.maximumEventAgeInSeconds ?? current.maximumEventAgeInSeconds,
        onSuccess: d?.onSuccess !== undefined ? d.onSuccess || undefined : current.onSuccess,
        onFailure: d?.onFailure !== undefined ? d.onFailure || undefined : current.onFailure,
        lastModified: this.clock.now(),
      };
      await tx.eventInvokeConfigs.put(record);
      return record;
    });
  }

  async get(caller: Caller, name: string, qualifier: string | undefined): Promise<EventInvokeConfigRecord> {
    const record = await this.store.eventInvokeConfigs.get(name, qualifier ?? LATEST);
    if (!record) throw noConfig(caller, name, qualifier);
    return record;
  }

  async delete(caller: Caller, name: string, qualifier: string | undefined): Promise<void> {
    if (!(await this.store.eventInvokeConfigs.delete(name, qualifier ?? LATEST))) throw noConfig(caller, name, qualifier);
  }

  async list(name: string): Promise<EventInvokeConfigRecord[]> {
    await requireTarget(this.store, name, undefined);
    return this.store.eventInvokeConfigs.list(name);
  }
}

function validate(input: EventInvokeConfigInput): void {
  const v = new Violations();
  v.integer(input.maximumRetryAttempts, 'maximumRetryAttempts', 0, 2);
  v.integer(input.maximumEventAgeInSeconds, 'maximumEventAgeInSeconds', 60, 21600);
  for (const [key, value] of [
    ['onSuccess', input.destinationConfig?.onSuccess],
    ['onFailure', input.destinationConfig?.onFailure],
  ] as const) {
    v.length(value, `destinationConfig.${key}.destination`, 0, 350);
    v.pattern(value, `destinationConfig.${key}.destination`, DESTINATION, DESTINATION_SHOWN);
  }
  v.throwIfAny();
  const d = input.destinationConfig;
  if (input.maximumRetryAttempts === undefined && input.maximumEventAgeInSeconds === undefined && d === undefined) {
    throw new PlatformError('InvalidParameterValueException', 'You must specify at least one of error handling or destination setting.');
  }
}

async function requireTarget(store: Store, name: string, qualifier: string | undefined): Promise<void> {
  const missing = () => new PlatformError('ResourceNotFoundException', "The function doesn't exist.");
  if (!(await store.functions.get(name))) throw missing();
  if (qualifier === undefined || qualifier === LATEST) return;
  const found = /^[0-9]+$/.test(qualifier) ? await store.versions.get(name, qualifier) : await store.aliases.get(name, qualifier);
  if (!found) throw missing();
}

/**
 * Versa's destinations are its own functions: a Lambda function ARN of an existing function other than this
 * one. A service that AWS delivers to neither is refused in AWS's words, the others in Versa's.
 */
async function validateDestinations(store: Store, name: string, input: EventInvokeConfigInput): Promise<void> {
  const d = input.destinationConfig;
  for (const arn of [d?.onSuccess, d?.onFailure]) {
    if (!arn) continue;
    const invalid = () =>
      new PlatformError(
        'InvalidParameterValueException',
        `The destination ARN ${arn} is invalid. Versa delivers asynchronous invocation records to Lambda functions only.`,
      );
    const service = arn.split(':')[2] ?? '';
    if (!AWS_DESTINATION_SERVICES.has(service)) {
      // AWS quotes the request's DestinationConfig as Java prints it.
      const shown = (kind: string, value: string | undefined) => (value === undefined ? 'null' : `${kind}(destination=${value})`);
      throw new PlatformError(
        'InvalidParameterValueException',
        `The provided destination config DestinationConfig(onSuccess=${shown('OnSuccess', d?.onSuccess)}, onFailure=${shown('OnFailure', d?.onFailure)}) is invalid.`,
      );
    }
    if (service !== 'lambda') throw invalid();
    let target: string;
    try {
      target = parseFunctionRef(arn).name;
    } catch {
      throw invalid();
    }
    if (target === name) {
      throw new PlatformError('InvalidParameterValueException', "You can't specify the function as a destination for itself.");
    }
    // A Lambda destination that does not exist is refused in AWS's own words.
    if (!(await store.functions.get(target))) {
      throw new PlatformError('InvalidParameterValueException', `The destination ARN ${arn} is invalid.`);
    }
  }
}

function noConfig(caller: Caller, name: string, qualifier: string | undefined): PlatformError {
  return new PlatformError(
    'ResourceNotFoundException',
    `The function ${functionArn(caller.region, name, qualifier ?? LATEST)} doesn't have an EventInvokeConfig`,
  );
}
