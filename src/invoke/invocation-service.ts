import { PlatformError } from '../core/errors.js';
import { hexId, uuid } from '../core/ids.js';
import { jsonProblem } from '../core/json-check.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import { pickAliasVersion } from '../domain/alias.js';
import { functionArn } from '../domain/arn.js';
import { LATEST } from '../domain/lambda-function.js';
import type { Caller } from '../lambda/function-service.js';
import { notFound } from '../lambda/function-service.js';
import type { FunctionRegistry, FunctionSnapshot } from '../lambda/registry.js';
import type { EnvironmentManager } from '../runtime/environment-manager.js';
import type { EnvironmentTarget, InvocationOutcome, InvocationRequest } from '../runtime/types.js';
import type { LambdaMetrics } from '../telemetry/lambda-metrics.js';
import { MAX_CHAIN, type AsyncEventRecord, type AttemptOutcome } from '../domain/async-event.js';
import type { AsyncEventQueue } from './async-queue.js';

/** Largest RequestResponse (and DryRun) payload: 6 MiB. */
export const MAX_SYNC_PAYLOAD_BYTES = 6_291_456;
/** Largest Event payload: 1 MiB since AWS raised it from 256 KiB in October 2025. */
export const MAX_ASYNC_PAYLOAD_BYTES = 1_048_576;

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface InvokeInput {
  functionName: string;
  qualifier: string | undefined;
  payload: Buffer;
  invocationType?: InvocationType;
  tailLog?: boolean;
  /** Base64 client context as sent in `X-Amz-Client-Context`. */
  clientContext?: string;
  /** The request's id: an Event invocation keeps it as its own, for every attempt. */
  requestId?: string;
  /** For a call from a function's code: the chain of the invocation that made it (InvocationRequest.chain). */
  callerChain?: number;
}

export interface InvokeResult {
  statusCode: 200 | 202 | 204;
  payload: Buffer;
  executedVersion: string;
  functionError?: 'Unhandled';
  /** Base64 of the last 4 KB of the invocation's log, when asked for. */
  logResult?: string;
}

interface Resolved {
  target: EnvironmentTarget;
  invokedArn: string;
  viaAlias: boolean;
}

/**
 * Invoke: qualifier → version (by weight for a routed alias) → environment → result. Resolution reads
 * only the in-memory registry.
 */
export class InvocationService {
  constructor(
    private readonly registry: FunctionRegistry,
    private readonly environments: EnvironmentManager,
    private readonly random: Random,
    private readonly metrics: LambdaMetrics,
    private readonly logger: Logger,
    private readonly queue: Pick<AsyncEventQueue, 'enqueue'>,
  ) {}

  async invoke(caller: Caller, input: InvokeInput): Promise<InvokeResult> {
    const type = input.invocationType ?? 'RequestResponse';
    // Lambda's own words and exception (RequestEntityTooLargeException, 413) for each invocation type.
    const size = input.payload.byteLength;
    if (type === 'Event' && size > MAX_ASYNC_PAYLOAD_BYTES) {
      throw new PlatformError(
        'RequestEntityTooLargeException',
        `${size} byte payload is too large for the Event invocation type (limit ${MAX_ASYNC_PAYLOAD_BYTES} bytes)`,
      );
    }
    if (size > MAX_SYNC_PAYLOAD_BYTES) {
      throw new PlatformError(
        'RequestEntityTooLargeException',
        `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      );
    }
    const snapshot = await this.registry.get(input.functionName);
    // AWS names `$LATEST` when the function it was asked to invoke unqualified does not exist.
    if (!snapshot) throw notFound(caller, input.functionName, input.qualifier ?? LATEST);
    const { target, invokedArn, viaAlias } = this.resolve(caller, snapshot, input.qualifier);
    const payload = normalisePayload(input.payload);
    const clientContext = decodeClientContext(input.clientContext);
    if (type === 'DryRun') return { statusCode: 204, payload: Buffer.alloc(0), executedVersion: target.version };
    const chain = (input.callerChain ?? 0) + 1;
    if (type === 'Event') {
      if (chain > MAX_CHAIN) {
        // As Lambda's recursive loop detection: a function invoking itself (or a ring of functions each
        // invoking the next) asynchronously is stopped at the 17th, which is accepted and dropped.
        this.logger.warn('a chain of asynchronous invocations looped: the next was dropped', {
          function: snapshot.record.name,
          chain: MAX_CHAIN,
        });
        this.metrics.recordAsync(snapshot.record.name, input.qualifier, 'dropped', 1);
        return { statusCode: 202, payload: Buffer.alloc(0), executedVersion: '' };
      }
      // Accepted means stored: the 202 goes out only once the event is committed to the queue.
      await this.queue.enqueue({
        id: input.requestId ?? uuid(),
        functionName: snapshot.record.name,
        qualifier: input.qualifier,
        region: caller.region,
        payload: payload.toString('utf8'),
        chain,
      });
      return { statusCode: 202, payload: Buffer.alloc(0), executedVersion: '' };
    }
    const outcome = await this.execute(target, input.qualifier, viaAlias, {
      requestId: uuid(),
      payload,
      invokedArn,
      clientContext,
      tailLog: input.tailLog === true,
      chain,
    });
    const result: InvokeResult = { statusCode: 200, payload: outcome.payload, executedVersion: target.version };
    if (outcome.status === 'error') result.functionError = 'Unhandled';
    if (input.tailLog) result.logResult = lastBytes(outcome.logLines.join('\n') + '\n', 4096).toString('base64');
    return result;
  }

  /** Starts a warm environment of one version ahead of its traffic (a deployment's target). */
  async prewarm(functionName: string, version: string): Promise<void> {
    const snapshot = await this.registry.get(functionName);
    const found = snapshot?.versions.get(version);
    if (!snapshot || !found) return;
    await this.environments.prewarm({
      functionName,
      version,
      spec: found.record.spec,
      digest: found.digest,
      reservedConcurrency: snapshot.record.reservedConcurrency,
    });
  }

  /**
   * Moves warm capacity from one version of a function to another as `share` of an alias's traffic
   * moves to `toVersion` (EnvironmentManager.shiftCapacity). Does nothing if either version is gone.
   */
  async shiftCapacity(functionName: string, fromVersion: string, toVersion: string, share: number): Promise<void> {
    const snapshot = await this.registry.get(functionName);
    const from = snapshot?.versions.get(fromVersion);
    const to = snapshot?.versions.get(toVersion);
    if (!from || !to) return;
    const reservedConcurrency = snapshot?.record.reservedConcurrency;
    await this.environments.shiftCapacity(
      { functionName, version: fromVersion, spec: from.record.spec, digest: from.digest, reservedConcurrency },
      { functionName, version: toVersion, spec: to.record.spec, digest: to.digest, reservedConcurrency },
      share,
    );
  }

  /** Stops the idle environments of a version no alias routes to any more. */
  release(functionName: string, version: string): void {
    this.environments.releaseVersion(functionName, version);
  }

  private resolve(caller: Caller, snapshot: FunctionSnapshot, qualifier: string | undefined): Resolved {
    const { record } = snapshot;
    // The reservation is the function's, whichever version runs.
    const reservedConcurrency = record.reservedConcurrency;
    const latest = (): EnvironmentTarget => ({
      functionName: record.name,
      version: LATEST,
      spec: record.spec,
      digest: snapshot.latestDigest,
      reservedConcurrency,
    });
    const version = (v: string): EnvironmentTarget => {
      const found = snapshot.versions.get(v);
      if (!found) throw notFound(caller, record.name, qualifier);
      return { functionName: record.name, version: v, spec: found.record.spec, digest: found.digest, reservedConcurrency };
    };
    const invokedArn = functionArn(caller.region, record.name, qualifier);
    if (qualifier === undefined || qualifier === LATEST) return { target: latest(), invokedArn, viaAlias: false };
    if (/^[0-9]+$/.test(qualifier)) return { target: version(qualifier), invokedArn, viaAlias: false };
    const alias = snapshot.aliases.get(qualifier);
    if (!alias) throw notFound(caller, record.name, qualifier);
    const chosen = pickAliasVersion(alias, this.random);
    return { target: chosen === LATEST ? latest() : version(chosen), invokedArn, viaAlias: true };
  }

  /**
   * One attempt of a queued Event invocation: the qualifier is resolved now, so an alias follows the
   * weights it has when the attempt runs (during a deployment's shift too), not when it was accepted.
   */
  async runEvent(event: AsyncEventRecord): Promise<AttemptOutcome> {
    const caller = { region: event.region };
    const snapshot = await this.registry.get(event.functionName);
    if (!snapshot) return { kind: 'gone' };
    let resolved: Resolved;
    try {
      resolved = this.resolve(caller, snapshot, event.qualifier);
    } catch {
      return { kind: 'gone' };
    }
    const { target, invokedArn, viaAlias } = resolved;
    try {
      const outcome = await this.execute(target, event.qualifier, viaAlias, {
        requestId: event.id,
        payload: Buffer.from(event.payload, 'utf8'),
        invokedArn,
        clientContext: undefined,
        chain: event.chain ?? 1,
      });
      const response = {
        statusCode: 200,
        executedVersion: target.version,
        payload: outcome.payload.toString('utf8'),
        ...(outcome.status === 'error' && { functionError: 'Unhandled' as const }),
      };
      return outcome.status === 'ok' ? { kind: 'ok', response } : { kind: 'error', response };
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'TooManyRequestsException') return { kind: 'throttled' };
      // The environment could not run it: an attempt that failed, as Lambda counts a runtime that died.
      this.logger.debug('asynchronous attempt could not start', { function: target.functionName, err });
      const errorType = err instanceof PlatformError ? err.code : 'ServiceException';
      const errorMessage = err instanceof Error ? err.message : String(err);
      return {
        kind: 'error',
        response: {
          statusCode: 200,
          executedVersion: target.version,
          functionError: 'Unhandled',
          payload: JSON.stringify({ errorType, errorMessage }),
        },
      };
    }
  }

  /** Runs one invocation in an environment of `target` and records its metrics. */
  private async execute(
    target: EnvironmentTarget,
    qualifier: string | undefined,
    viaAlias: boolean,
    request: Omit<InvocationRequest, 'timeoutSeconds' | 'traceId'>,
  ): Promise<InvocationOutcome> {
    const observe = (outcome: InvocationOutcome | 'throttled', concurrent: number) =>
      this.metrics.record({
        functionName: target.functionName,
        qualifier,
        viaAlias,
        executedVersion: target.version,
        outcome: outcome === 'throttled' ? { kind: 'throttled' } : { kind: outcome.status, durationMs: outcome.durationMs },
        concurrent,
      });
    const concurrent = this.environments.inFlight + 1;
    let outcome: InvocationOutcome;
    try {
      outcome = await this.environments.invoke(target, {
        ...request,
        timeoutSeconds: target.spec.timeout,
        traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${hexId(12)};Parent=${hexId(8)};Sampled=0`,
      });
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'TooManyRequestsException') observe('throttled', concurrent);
      throw err;
    }
    observe(outcome, concurrent);
    return outcome;
  }
}

/** An empty body means `{}`; anything else must be JSON. */
/** The payload as the function gets it: `{}` for none; refused unless it is JSON (checked, never built). */
function normalisePayload(payload: Buffer): Buffer {
  if (payload.byteLength === 0) return Buffer.from('{}');
  const problem = jsonProblem(payload);
  if (problem !== undefined) {
    throw new PlatformError(
      'InvalidRequestContentException',
      `Could not parse request body into json: Could not parse payload into json: ${problem}`,
    );
  }
  return payload;
}

function decodeClientContext(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length > 3583) {
    throw new PlatformError('InvalidParameterValueException', 'Client context must be 3583 bytes or less.');
  }
  let context: unknown;
  try {
    context = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw new PlatformError('InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
  }
  // The runtime reads it from a header (`Lambda-Runtime-Client-Context`), where a line break or a
  // character past Latin-1 cannot go: the same JSON, written on one line with every such character escaped.
  return JSON.stringify(context).replace(NOT_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const NOT_ASCII = /[^\x20-\x7e]/g;

function lastBytes(text: string, n: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.byteLength <= n ? bytes : bytes.subarray(bytes.byteLength - n);
}
