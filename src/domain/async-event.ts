/**
 * Asynchronous invocation (InvocationType Event) as Lambda runs it: an accepted event waits in a durable
 * queue, is claimed for one attempt at a time, and after each attempt either waits for the next one or
 * ends. The rules here are pure; the queue (invoke/async-queue.ts) persists what they decide before it
 * acts on it.
 *
 * Each stored event is in one state:
 *
 *     pending ──claim──▶ running(attempt n, lease) ──ok──────────────▶ done
 *        ▲                    │ ├─function error, retries left─────▶ pending (after 1 min, then 2 min)
 *        │                    │ ├─throttled (not an attempt)───────▶ pending (1 s … 5 min back-off)
 *        └─restart reclaims───┘ ├─function error, no retries left──▶ failed  (RetriesExhausted)
 *          (counted attempt)    └─too old / function gone───────────▶ dropped (EventAgeExceeded)
 */

export type AsyncEventStatus = 'pending' | 'running' | 'done' | 'failed' | 'dropped';
export type DestinationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** Lambda's defaults when no event invoke config says otherwise. */
export const DEFAULT_MAX_RETRY_ATTEMPTS = 2;
export const DEFAULT_MAX_EVENT_AGE_SECONDS = 21_600;
/** Lambda waits about a minute before the first retry of a function error and two before the second. */
export const RETRY_DELAYS_MS: readonly number[] = [60_000, 120_000];
/** Throttled and interrupted attempts back off from a second, doubling, to at most five minutes. */
const THROTTLE_BASE_MS = 1000;
const THROTTLE_MAX_MS = 300_000;

/** The last attempt's answer, kept for the destination record. */
export interface AttemptResponse {
  statusCode: number;
  executedVersion: string;
  functionError?: 'Unhandled';
  /** The function's result or error body (JSON text); empty once the event has ended. */
  payload: string;
}

export interface AsyncEventRecord {
  /** The request id the Invoke answered with; every attempt runs under it, as on Lambda. */
  id: string;
  functionName: string;
  /** The qualifier as invoked (alias, version, `$LATEST`), resolved again at each attempt; none for the bare name. */
  qualifier: string | undefined;
  /** The caller's region: ARNs in the function's context and in destination records carry it. */
  region: string;
  /** The event (JSON text); empty once the event has ended. */
  payload: string;
  /** Platform time the event was accepted. */
  receivedAt: number;
  status: AsyncEventStatus;
  /** Attempts started so far (Lambda's approximateInvokeCount); a throttled start is not one. */
  attempts: number;
  /** Throttled starts in a row, for the back-off. */
  throttles: number;
  /** Platform time before which a pending event is not claimed. */
  nextAttemptAt: number;
  /** While running: the platform time by which the attempt should have ended. */
  leaseUntil: number | undefined;
  /** The last attempt's answer, if one ended. */
  lastResponse: AttemptResponse | undefined;
  /** Set once the event has ended (done, failed or dropped). */
  condition: DestinationCondition | undefined;
  finishedAt: number | undefined;
  /**
   * How many invocations led to this one: 1 (or none, as events stored before it was counted) for an
   * event a caller sent, one more for each destination record or function's own Invoke on the way.
   */
  chain?: number;
}

/**
 * The longest chain of invocations one may start: as Lambda's recursive loop detection, what would be the
 * 17th asynchronous invocation of a chain is not made (two functions naming each other as their
 * destination, or a function invoking itself, would otherwise invoke each other forever).
 */
export const MAX_CHAIN = 16;

/**
 * Request and response payloads a destination record carries together, at most: past it the record goes
 * without them, as Lambda drops them past its destinations' 256 KB (otherwise each hop of a chain carries
 * the last one's whole record twice, and one small event grows to gigabytes).
 */
export const MAX_RECORD_PAYLOAD_BYTES = 256 * 1024;

/** PutFunctionEventInvokeConfig's settings for a function, version or alias. */
export interface EventInvokeConfigRecord {
  functionName: string;
  /** `$LATEST`, a version number or an alias name. */
  qualifier: string;
  maximumRetryAttempts: number | undefined;
  maximumEventAgeInSeconds: number | undefined;
  onSuccess: string | undefined;
  onFailure: string | undefined;
  lastModified: number;
}

/** How one attempt ended, as the queue sees it. */
export type AttemptOutcome =
  | { kind: 'ok'; response: AttemptResponse }
  | { kind: 'error'; response: AttemptResponse }
  /** No environment could take it (concurrency); Lambda retries these until the event is too old. */
  | { kind: 'throttled' }
  /** The function, version or alias no longer exists. */
  | { kind: 'gone' }
  /** The server stopped while the attempt ran (found on restart): counted, and treated as a function error. */
  | { kind: 'interrupted' };

/** What happens to an event after an attempt: the store is updated to this before anything else. */
export type NextStep =
  | { kind: 'retry'; at: number; attempts: number; throttles: number; lastResponse: AttemptResponse | undefined }
  | {
      kind: 'finish';
      status: 'done' | 'failed' | 'dropped';
      condition: DestinationCondition | undefined;
      attempts: number;
      lastResponse: AttemptResponse | undefined;
    };

export interface RetryPolicy {
  maximumRetryAttempts: number;
  maximumEventAgeMs: number;
}

export function retryPolicy(config: EventInvokeConfigRecord | undefined): RetryPolicy {
  return {
    maximumRetryAttempts: config?.maximumRetryAttempts ?? DEFAULT_MAX_RETRY_ATTEMPTS,
    maximumEventAgeMs: (config?.maximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_SECONDS) * 1000,
  };
}

/** True when a claimed event is too old to start (it ends as EventAgeExceeded, without running). */
export function isExpired(event: Pick<AsyncEventRecord, 'receivedAt'>, policy: RetryPolicy, now: number): boolean {
  return now - event.receivedAt >= policy.maximumEventAgeMs;
}

/**
 * The step after an attempt of `event` (which counts the attempt in `attempts` already) ended with
 * `outcome` at `now`.
 */
export function afterAttempt(event: AsyncEventRecord, outcome: AttemptOutcome, policy: RetryPolicy, now: number): NextStep {
  const expiresAt = event.receivedAt + policy.maximumEventAgeMs;
  const finish = (
    status: 'done' | 'failed' | 'dropped',
    condition: DestinationCondition | undefined,
    attempts = event.attempts,
    lastResponse = event.lastResponse,
  ): NextStep => ({ kind: 'finish', status, condition, attempts, lastResponse });
  switch (outcome.kind) {
    case 'ok':
      return finish('done', 'Success', event.attempts, outcome.response);
    case 'gone':
      return finish('dropped', undefined);
    case 'throttled': {
      // A throttled start did not run the function: it gives its attempt back.
      const attempts = event.attempts - 1;
      const at = now + Math.min(THROTTLE_BASE_MS * 2 ** event.throttles, THROTTLE_MAX_MS);
      if (at >= expiresAt) return finish('dropped', 'EventAgeExceeded', attempts);
      return { kind: 'retry', at, attempts, throttles: event.throttles + 1, lastResponse: event.lastResponse };
    }
    case 'error':
    case 'interrupted': {
      const lastResponse = outcome.kind === 'error' ? outcome.response : event.lastResponse;
      const retriesDone = event.attempts - 1;
      if (retriesDone >= policy.maximumRetryAttempts) return finish('failed', 'RetriesExhausted', event.attempts, lastResponse);
      const delay = RETRY_DELAYS_MS[Math.min(retriesDone, RETRY_DELAYS_MS.length - 1)]!;
      const at = now + delay;
      if (at >= expiresAt) return finish('dropped', 'EventAgeExceeded', event.attempts, lastResponse);
      return { kind: 'retry', at, attempts: event.attempts, throttles: 0, lastResponse };
    }
  }
}

/** The record Lambda sends an on-success or on-failure destination. */
export function destinationRecord(
  event: AsyncEventRecord,
  functionArn: string,
  condition: DestinationCondition,
  attempts: number,
  response: AttemptResponse | undefined,
  now: number,
): Record<string, unknown> {
  const withPayloads = Buffer.byteLength(event.payload) + (response ? Buffer.byteLength(response.payload) : 0) <= MAX_RECORD_PAYLOAD_BYTES;
  return {
    version: '1.0',
    timestamp: new Date(now).toISOString(),
    requestContext: { requestId: event.id, functionArn, condition, approximateInvokeCount: attempts },
    ...(withPayloads && { requestPayload: parseOrText(event.payload) }),
    ...(response && {
      responseContext: {
        statusCode: response.statusCode,
        executedVersion: response.executedVersion,
        ...(response.functionError && { functionError: response.functionError }),
      },
      ...(withPayloads && { responsePayload: parseOrText(response.payload) }),
    }),
  };
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
