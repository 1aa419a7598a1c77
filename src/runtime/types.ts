import type { FunctionSpec } from '../domain/lambda-function.js';

/** What an environment runs: one function version's frozen spec. */
export interface EnvironmentTarget {
  functionName: string;
  /** `$LATEST` or a version number. */
  version: string;
  spec: FunctionSpec;
  /** Identifies the spec: environments are shared only by invocations of the same digest. */
  digest: string;
  /**
   * The function's reserved concurrency (all its versions together), undefined when it has none. Not part
   * of the spec: changing it neither makes a new version nor retires an environment.
   */
  reservedConcurrency?: number;
}

export interface InvocationRequest {
  requestId: string;
  payload: Buffer;
  /** The ARN the caller invoked, alias included: the function sees it as `invokedFunctionArn`. */
  invokedArn: string;
  timeoutSeconds: number;
  traceId: string;
  /** Decoded client context JSON, if the caller sent one. */
  clientContext: string | undefined;
  /** Keep the last 4 KB of the invocation's log for the answer (`LogType: Tail`). */
  tailLog?: boolean;
  /** How many invocations led to this one: 1 for a caller's, one more for each function that invoked the next (MAX_CHAIN). */
  chain?: number;
}

export interface InvocationOutcome {
  status: 'ok' | 'error';
  /** The function's result or its error body, as JSON bytes. */
  payload: Buffer;
  durationMs: number;
  /** Set on a cold start. */
  initDurationMs: number | undefined;
  /** The last 4 KB of this invocation's log lines, START to REPORT, when the request asked for them (tailLog); else empty. */
  logLines: readonly string[];
}

/** An execution environment's own AWS credentials, withdrawn when it stops. */
export interface EnvironmentCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  revoke(): void;
}
