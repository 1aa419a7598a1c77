import { createHash } from 'node:crypto';

/** The configuration and code reference of `$LATEST` or of a published version. */
export interface FunctionSpec {
  runtime: string;
  handler: string;
  role: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment: Record<string, string> | undefined;
  codeSha256: string;
  codeSize: number;
  architectures: string[];
  ephemeralStorageSize: number;
  tracingMode: 'Active' | 'PassThrough';
}

/**
 * The spec as an execution environment runs it. A record stored before these limits were checked as whole
 * numbers may hold NaN (kept as null): such a limit runs as Lambda's default instead of reaching the
 * runtime, whose timer and sandbox limits need numbers (a NaN timeout crashed the server at invoke).
 */
export function runnableSpec(spec: FunctionSpec): FunctionSpec {
  const within = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  if (within(spec.timeout, 1, 900) && within(spec.memorySize, 128, 10240) && within(spec.ephemeralStorageSize, 512, 10240)) return spec;
  return {
    ...spec,
    timeout: within(spec.timeout, 1, 900) ? spec.timeout : 3,
    memorySize: within(spec.memorySize, 128, 10240) ? spec.memorySize : 128,
    ephemeralStorageSize: within(spec.ephemeralStorageSize, 512, 10240) ? spec.ephemeralStorageSize : 512,
  };
}

export type FunctionState = 'Pending' | 'Active' | 'Inactive' | 'Failed';
export type LastUpdateStatus = 'InProgress' | 'Successful' | 'Failed';

/** A function: its mutable `$LATEST` plus bookkeeping for versions. */
export interface FunctionRecord {
  name: string;
  spec: FunctionSpec;
  revisionId: string;
  state: FunctionState;
  lastUpdateStatus: LastUpdateStatus;
  /** Epoch ms of the last change to `$LATEST`. */
  lastModified: number;
  /** The number the next published version gets; numbers are never reused. */
  nextVersion: number;
  /** The most recent version published and the digest of the `$LATEST` it was published from. */
  lastPublished: { version: string; digest: string } | undefined;
  /**
   * PutFunctionConcurrency's ReservedConcurrentExecutions: the most invocations of the function (all its
   * versions and aliases together) that run at once, and the environments held back for it. Absent when
   * none is reserved (records written before reserved concurrency existed lack it too).
   */
  reservedConcurrency?: number;
}

/** A published version: frozen forever. */
export interface VersionRecord {
  functionName: string;
  version: string;
  spec: FunctionSpec;
  revisionId: string;
  lastModified: number;
}

export interface AliasRecord {
  functionName: string;
  name: string;
  functionVersion: string;
  description: string;
  /** At most one extra version and the share of traffic (0..1) it receives. */
  additionalVersionWeights: Record<string, number> | undefined;
  revisionId: string;
}

export const LATEST = '$LATEST';

/**
 * The digest PublishVersion compares to decide whether `$LATEST` changed since the last publish.
 * Any code or configuration change counts, the description included.
 */
export function specDigest(spec: FunctionSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('base64');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  // A member set to undefined is the same spec as one left out: the store's JSON drops such keys, so
  // counting them would make a freshly written spec differ from the same spec read back.
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

/** Lambda's `LastModified` form: `2024-01-02T03:04:05.678+0000`. */
export function formatLastModified(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}

/** Hashes already taken of packages (on the thread that decoded them), by package. */
const knownSha256 = new WeakMap<Uint8Array, string>();

/** Base64 SHA-256 of a code package, as Lambda reports `CodeSha256`. */
export function codeSha256(zip: Uint8Array): string {
  return knownSha256.get(zip) ?? createHash('sha256').update(zip).digest('base64');
}

/**
 * Records a package's CodeSha256, taken where it was decoded (a large upload's parser thread), so that
 * the event loop does not hash 50 MB again. The package must not change after.
 */
export function rememberCodeSha256(zip: Uint8Array, sha256: string): void {
  knownSha256.set(zip, sha256);
}
