import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { own } from '../core/own.js';
import { uuid } from '../core/ids.js';
import { validateAliasName, validateAliasRouting } from '../domain/alias.js';
import { checkReachable, functionArn, parseFunctionRef } from '../domain/arn.js';
import { MAX_ZIPPED_BYTES, walkPackage } from '../domain/code-package.js';
import {
  codeSha256,
  LATEST,
  specDigest,
  type AliasRecord,
  type FunctionRecord,
  type FunctionSpec,
  type VersionRecord,
} from '../domain/lambda-function.js';
import { AWS_RUNTIMES, RETIRED_RUNTIMES, SUPPORTED_RUNTIMES, runtimeFamily } from '../domain/runtimes.js';
import { Violations } from '../domain/validation.js';
import type { PolicyStatement, Store } from '../store/store.js';
import type { FunctionRegistry } from './registry.js';

/** Who is asking: ARNs in answers and messages carry the caller's region. */
export interface Caller {
  region: string;
}

export interface CodeInput {
  zipFile?: Uint8Array;
  s3Bucket?: string;
  s3Key?: string;
  s3ObjectVersion?: string;
}

/**
 * Reads a deployment package from Versa's S3. Throws Lambda's InvalidParameterValueException naming
 * S3's error, as Lambda reports a GetObject that failed.
 */
export type S3CodeReader = (bucket: string, key: string, versionId: string | undefined) => Promise<Uint8Array>;

export interface CreateFunctionInput {
  functionName: string;
  runtime?: string;
  handler?: string;
  role?: string;
  description?: string;
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, string>;
  code?: CodeInput;
  publish?: boolean;
  architectures?: string[];
  ephemeralStorageSize?: number;
  tracingMode?: string;
  /** SnapStart's ApplyOn: checked, not kept (Versa restores no snapshots: every version reports None). */
  snapStartApplyOn?: string;
  packageType?: string;
}

export type ConfigurationInput = Omit<CreateFunctionInput, 'functionName' | 'code' | 'publish' | 'architectures' | 'packageType'> & {
  revisionId?: string;
};

export interface AliasInput {
  functionVersion?: string;
  description?: string;
  /** `undefined` leaves the routing as it is (UpdateAlias); `{}` clears it. */
  additionalVersionWeights?: Record<string, unknown>;
  revisionId?: string;
}

/** A function, a version or an alias target answered by Get*: the spec plus its identity. */
export interface ResolvedConfiguration {
  name: string;
  /** `$LATEST` or N. */
  version: string;
  /** The qualifier to put in FunctionArn (an alias name, N, `$LATEST`) or undefined for the bare ARN. */
  arnQualifier: string | undefined;
  spec: FunctionSpec;
  revisionId: string;
  lastModified: number;
  state: FunctionRecord['state'];
  lastUpdateStatus: FunctionRecord['lastUpdateStatus'];
}

/** CreateFunction's `FunctionName`: a name, partial or full ARN, of a name without dots (AWS's pattern, quoted). */
const NEW_FUNCTION_SHOWN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const NEW_FUNCTION = new RegExp(`^(?:${NEW_FUNCTION_SHOWN})$`);
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
/** A qualifier that can only name an alias: not all digits, and not `$`-prefixed like `$LATEST`. */
const ALIAS_LIKE = /^(?!^[0-9]+$)[a-zA-Z0-9-_]+$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
const RESERVED_ENV = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);
const MAX_ENV_BYTES = 4096;

/**
 * The Lambda control plane: functions, `$LATEST` updates, versions, aliases and resource policies.
 * Validates every input before it writes, writes in one transaction, then tells the registry.
 */
export class FunctionService {
  constructor(
    private readonly store: Store,
    private readonly registry: FunctionRegistry,
    private readonly clock: Clock,
    /** Where `Code.S3Bucket`/`S3Key` are read from; without it they are refused. */
    private readonly s3Code?: S3CodeReader,
  ) {}

  // ---- Functions ----

  async createFunction(caller: Caller, input: CreateFunctionInput): Promise<{ config: ResolvedConfiguration }> {
    const v = new Violations();
    v.length(input.functionName, 'functionName', 1, 140).pattern(input.functionName, 'functionName', NEW_FUNCTION, NEW_FUNCTION_SHOWN);
    if (input.role === undefined) v.missing('role');
    validateSpecMembers(v, input);
    v.throwIfAny();
    // The name may be given as a full or partial ARN, as for every other operation.
    const ref = parseFunctionRef(input.functionName);
    checkReachable(ref, caller.region);
    const name = ref.name;
    // A well-formed name over a function's 64 characters is a bad value, not a malformed member, on AWS.
    new Violations().length(name, 'functionName', 1, 64).throwIfAny('InvalidParameterValueException');
    if (input.packageType !== undefined && input.packageType !== 'Zip') {
      throw new PlatformError(
        'InvalidParameterValueException',
        'Versa runs Zip packages only; container images (PackageType Image) are not supported.',
      );
    }
    if (input.runtime === undefined)
      throw new PlatformError('InvalidParameterValueException', 'Runtime must be specified for a Zip package.');
    if (input.handler === undefined)
      throw new PlatformError('InvalidParameterValueException', 'Handler must be specified for a Zip package.');
    validateRuntime(input.runtime);
    validateEnvironment(input.environment);
    const zip = await requireZip(input.code, this.s3Code);
    const spec: FunctionSpec = {
      runtime: input.runtime,
      handler: input.handler,
      role: input.role!,
      description: input.description ?? '',
      timeout: input.timeout ?? 3,
      memorySize: input.memorySize ?? 128,
      environment: input.environment,
      codeSha256: codeSha256(zip),
      codeSize: zip.byteLength,
      architectures: validateArchitectures(input.architectures),
      ephemeralStorageSize: input.ephemeralStorageSize ?? 512,
      tracingMode: input.tracingMode === 'Active' ? 'Active' : 'PassThrough',
    };
    const now = this.clock.now();
    const record: FunctionRecord = {
      name,
      spec,
      revisionId: uuid(),
      state: 'Active',
      lastUpdateStatus: 'Successful',
      lastModified: now,
      nextVersion: 1,
      lastPublished: undefined,
    };
    // The creation answer reports the function as AWS does at that moment (Pending, with the revision
    // before activation); it is Active by the time anyone reads it again.
    const createdRevision = uuid();
    let published: VersionRecord | undefined;
    const exists = () => new PlatformError('ResourceConflictException', `Function already exist: ${name}`);
    // The package first, outside the transaction (writing 50 MB need not hold the store's other writers),
    // and only for a function that can be created: a refusal writes nothing.
    if (await this.store.functions.get(name)) throw exists();
    await this.store.code.put(spec.codeSha256, zip);
    await this.store.transaction(async (tx) => {
      if (await tx.functions.get(name)) throw exists();
      await tx.functions.create(record);
      if (input.publish) published = await publishIn(tx, record, undefined, now);
    });
    this.registry.invalidate(name);
    // Published at birth, AWS still answers for the function (its unqualified ARN) but names the version.
    const answered = published ? versionConfig(record, published, undefined) : latestConfig(record, undefined);
    return { config: { ...answered, revisionId: createdRevision, state: 'Pending' } };
  }

  async getConfiguration(caller: Caller, name: string, qualifier: string | undefined): Promise<ResolvedConfiguration> {
    const record = await this.requireFunction(caller, name, qualifier);
    if (qualifier === undefined || qualifier === LATEST) return latestConfig(record, qualifier);
    if (/^[0-9]+$/.test(qualifier)) {
      const version = await this.store.versions.get(name, qualifier);
      if (!version) throw notFound(caller, name, qualifier);
      return versionConfig(record, version, qualifier);
    }
    const alias = await this.store.aliases.get(name, qualifier);
    if (!alias) throw notFound(caller, name, qualifier);
    if (alias.functionVersion === LATEST) return latestConfig(record, qualifier);
    const version = await this.store.versions.get(name, alias.functionVersion);
    if (!version) throw notFound(caller, name, qualifier);
    return versionConfig(record, version, qualifier);
  }

  /** The zip of the package that `qualifier` runs. */
  async getCode(sha256: string): Promise<Uint8Array | undefined> {
    return this.store.code.get(sha256);
  }

  async listFunctions(allVersions: boolean): Promise<ResolvedConfiguration[]> {
    const out: ResolvedConfiguration[] = [];
    for (const record of await this.store.functions.list()) {
      out.push(latestConfig(record, allVersions ? LATEST : undefined));
      if (allVersions) for (const v of await this.store.versions.list(record.name)) out.push(versionConfig(record, v, v.version));
    }
    return out;
  }

  async updateFunctionCode(
    caller: Caller,
    name: string,
    input: { code: CodeInput; publish?: boolean; revisionId?: string; architectures?: string[] },
  ): Promise<ResolvedConfiguration> {
    const zip = await requireZip(input.code, this.s3Code);
    const architectures = input.architectures && validateArchitectures(input.architectures);
    const sha = codeSha256(zip);
    // The package first, outside the transaction, once the update looks possible (updateLatest checks again).
    checkRevision(input.revisionId, (await this.requireFunction(caller, name)).revisionId);
    await this.store.code.put(sha, zip);
    return this.updateLatest(caller, name, input.revisionId, input.publish ?? false, (spec) =>
      Promise.resolve({ ...spec, codeSha256: sha, codeSize: zip.byteLength, architectures: architectures ?? spec.architectures }),
    );
  }

  async updateFunctionConfiguration(caller: Caller, name: string, input: ConfigurationInput): Promise<ResolvedConfiguration> {
    const v = new Violations();
    validateSpecMembers(v, input);
    v.throwIfAny();
    if (input.runtime !== undefined) validateRuntime(input.runtime);
    validateEnvironment(input.environment);
    return this.updateLatest(caller, name, input.revisionId, false, (spec) =>
      Promise.resolve({
        ...spec,
        ...(input.runtime !== undefined && { runtime: input.runtime }),
        ...(input.handler !== undefined && { handler: input.handler }),
        ...(input.role !== undefined && { role: input.role }),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.timeout !== undefined && { timeout: input.timeout }),
        ...(input.memorySize !== undefined && { memorySize: input.memorySize }),
        // Environment replaces the whole map; an empty map clears it.
        ...(input.environment !== undefined && { environment: Object.keys(input.environment).length ? input.environment : undefined }),
        ...(input.ephemeralStorageSize !== undefined && { ephemeralStorageSize: input.ephemeralStorageSize }),
        ...(input.tracingMode !== undefined && { tracingMode: input.tracingMode === 'Active' ? 'Active' : 'PassThrough' }),
      }),
    );
  }

  private async updateLatest(
    caller: Caller,
    name: string,
    revisionId: string | undefined,
    publish: boolean,
    change: (spec: FunctionSpec, tx: Store) => Promise<FunctionSpec>,
  ): Promise<ResolvedConfiguration> {
    const now = this.clock.now();
    const result = await this.store.transaction(async (tx) => {
      const record = await tx.functions.get(name);
      if (!record) throw notFound(caller, name);
      checkRevision(revisionId, record.revisionId);
      const updated: FunctionRecord = {
        ...record,
        spec: await change(record.spec, tx),
        revisionId: uuid(),
        lastModified: now,
        lastUpdateStatus: 'Successful',
      };
      await tx.functions.update(updated, record.revisionId);
      const published = publish ? await publishIn(tx, updated, undefined, now) : undefined;
      const minted = published !== undefined && published.version !== record.lastPublished?.version;
      return { record: (published && (await tx.functions.get(name))) || updated, published, minted };
    });
    this.registry.invalidate(name);
    if (result.published) {
      // A version the update just published is answered as AWS does at that moment: being created.
      const config = versionConfig(result.record, result.published, result.published.version);
      return result.minted ? { ...config, state: 'Pending' } : config;
    }
    // The answer shows the update as AWS does at that moment: still in progress, with the revision the
    // update itself made. Its completion changes the revision again (the stored one), so a RevisionId
    // taken from this answer is already stale, as on AWS; creation does the same with activation.
    return { ...latestConfig(result.record, undefined), revisionId: uuid(), lastUpdateStatus: 'InProgress' };
  }

  async deleteFunction(caller: Caller, name: string, qualifier: string | undefined): Promise<void> {
    // AWS refuses these qualifiers before it looks for the function.
    if (qualifier === LATEST) {
      throw new PlatformError('InvalidParameterValueException', '$LATEST version cannot be deleted without deleting the function.');
    }
    if (qualifier !== undefined && ALIAS_LIKE.test(qualifier)) {
      throw new PlatformError('InvalidParameterValueException', 'Deletion of aliases is not currently supported.');
    }
    await this.store.transaction(async (tx) => {
      const record = await tx.functions.get(name);
      if (!record) throw notFound(caller, name);
      if (qualifier === undefined) {
        await tx.functions.delete(name);
        return;
      }
      const users = (await tx.aliases.list(name)).filter(
        (a) => a.functionVersion === qualifier || own(a.additionalVersionWeights, qualifier) !== undefined,
      );
      if (users.length) {
        throw new PlatformError(
          'ResourceConflictException',
          `Unable to delete version because the following aliases reference it: [${users.map((a) => a.name).join(', ')}]`,
        );
      }
      await tx.versions.delete(name, qualifier);
    });
    this.registry.invalidate(name);
  }

  // ---- Versions ----

  async publishVersion(
    caller: Caller,
    name: string,
    input: { codeSha256?: string; revisionId?: string; description?: string },
  ): Promise<ResolvedConfiguration> {
    const now = this.clock.now();
    const { record, version } = await this.store.transaction(async (tx) => {
      const current = await tx.functions.get(name);
      if (!current) throw notFound(caller, name);
      if (input.codeSha256 !== undefined && input.codeSha256 !== current.spec.codeSha256) {
        throw new PlatformError(
          'InvalidParameterValueException',
          `CodeSHA256 (${input.codeSha256}) is different from current CodeSHA256 in $LATEST (${current.spec.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
        );
      }
      checkRevision(input.revisionId, current.revisionId);
      const published = await publishIn(tx, current, input.description, now);
      return { record: (await tx.functions.get(name))!, version: published };
    });
    this.registry.invalidate(name);
    return versionConfig(record, version, version.version);
  }

  /**
   * A page of the function's versions: `$LATEST` first, then the published ones in order; `after` is the
   * number of the last version a previous page held (0 for `$LATEST`). `more` says whether any is left.
   */
  async listVersions(
    caller: Caller,
    name: string,
    page: { after?: number; limit: number },
  ): Promise<{ versions: ResolvedConfiguration[]; more: boolean }> {
    const record = await this.requireFunction(caller, name);
    const latest = page.after === undefined ? [latestConfig(record, LATEST)] : [];
    const wanted = page.limit - latest.length;
    const published = await this.store.versions.list(name, { after: page.after ?? 0, limit: wanted + 1 });
    const versions = [...latest, ...published.slice(0, wanted).map((v) => versionConfig(record, v, v.version))];
    return { versions, more: published.length > wanted };
  }

  // ---- Aliases ----

  async createAlias(caller: Caller, name: string, aliasName: unknown, input: AliasInput): Promise<AliasRecord> {
    validateAliasName(aliasName);
    if (input.functionVersion === undefined) {
      new Violations().missing('functionVersion').throwIfAny();
    }
    const functionVersion = input.functionVersion!;
    validateDescription(input.description);
    const weights = validateAliasRouting(functionVersion, input.additionalVersionWeights);
    const alias = await this.store.transaction(async (tx) => {
      // AWS names the version the alias was to point at, as if that were what is missing.
      if (!(await tx.functions.get(name))) throw notFound(caller, name, functionVersion);
      await requireVersions(tx, caller, name, functionVersion, weights);
      if (await tx.aliases.get(name, aliasName)) {
        throw new PlatformError('ResourceConflictException', `Alias already exists: ${functionArn(caller.region, name, aliasName)}`);
      }
      const record: AliasRecord = {
        functionName: name,
        name: aliasName,
        functionVersion,
        description: input.description ?? '',
        additionalVersionWeights: weights,
        revisionId: uuid(),
      };
      await tx.aliases.create(record);
      return record;
    });
    this.registry.invalidate(name);
    return alias;
  }

  async getAlias(caller: Caller, name: string, aliasName: string): Promise<AliasRecord> {
    await this.requireFunction(caller, name);
    const alias = await this.store.aliases.get(name, aliasName);
    if (!alias)
      throw new PlatformError('ResourceNotFoundException', `Cannot find alias arn: ${functionArn(caller.region, name, aliasName)}`);
    return alias;
  }

  async updateAlias(caller: Caller, name: string, aliasName: string, input: AliasInput): Promise<AliasRecord> {
    validateDescription(input.description);
    const alias = await this.store.transaction(async (tx) => {
      if (!(await tx.functions.get(name))) throw notFound(caller, name);
      const current = await tx.aliases.get(name, aliasName);
      if (!current) throw new PlatformError('ResourceNotFoundException', `Alias not found: ${functionArn(caller.region, name, aliasName)}`);
      checkRevision(input.revisionId, current.revisionId);
      const functionVersion = input.functionVersion ?? current.functionVersion;
      const weights =
        input.additionalVersionWeights === undefined
          ? // Moving an alias off a version drops a weight that would now point at its own target.
            validateAliasRouting(functionVersion, current.additionalVersionWeights)
          : validateAliasRouting(functionVersion, input.additionalVersionWeights);
      await requireVersions(tx, caller, name, functionVersion, weights);
      const record: AliasRecord = {
        ...current,
        functionVersion,
        description: input.description ?? current.description,
        additionalVersionWeights: weights,
        revisionId: uuid(),
      };
      await tx.aliases.update(record, current.revisionId);
      return record;
    });
    this.registry.invalidate(name);
    return alias;
  }

  async deleteAlias(caller: Caller, name: string, aliasName: string): Promise<void> {
    await this.requireFunction(caller, name);
    await this.store.aliases.delete(name, aliasName);
    this.registry.invalidate(name);
  }

  async listAliases(caller: Caller, name: string, functionVersion: string | undefined): Promise<AliasRecord[]> {
    await this.requireFunction(caller, name);
    const aliases = await this.store.aliases.list(name);
    return functionVersion === undefined
      ? aliases
      : aliases.filter((a) => a.functionVersion === functionVersion || own(a.additionalVersionWeights, functionVersion) !== undefined);
  }

  // ---- Resource policies ----

  async addPermission(
    caller: Caller,
    name: string,
    qualifier: string | undefined,
    input: {
      statementId?: string;
      action?: string;
      principal?: string;
      sourceArn?: string;
      sourceAccount?: string;
      principalOrgId?: string;
      functionUrlAuthType?: string;
      eventSourceToken?: string;
      revisionId?: string;
    },
  ): Promise<Record<string, unknown>> {
    const v = new Violations();
    for (const [member, value] of [
      ['statementId', input.statementId],
      ['action', input.action],
      ['principal', input.principal],
    ] as const) {
      if (value === undefined) v.missing(member);
    }
    v.pattern(input.statementId, 'statementId', /^([a-zA-Z0-9-_]+)$/, '([a-zA-Z0-9-_]+)').length(input.statementId, 'statementId', 1, 100);
    v.throwIfAny();
    if (qualifier === LATEST)
      throw new PlatformError('InvalidParameterValueException', 'We currently do not support adding policies for $LATEST.');
    if (!validPrincipal(input.principal!)) {
      throw new PlatformError(
        'InvalidParameterValueException',
        'The provided principal was invalid. Please check the principal and try again.',
      );
    }
    const resource = functionArn(caller.region, name, qualifier);
    const statement: Record<string, unknown> = {
      Sid: input.statementId,
      Effect: 'Allow',
      Principal: principalOf(input.principal!),
      Action: input.action!.includes(':') ? input.action : `lambda:${input.action}`,
      Resource: resource,
    };
    // Each optional member becomes a condition under the key AWS gives it, equalities first, as AWS orders them.
    const equals: Record<string, string> = {};
    if (input.sourceAccount) equals['AWS:SourceAccount'] = input.sourceAccount;
    if (input.functionUrlAuthType) equals['lambda:FunctionUrlAuthType'] = input.functionUrlAuthType;
    if (input.principalOrgId) equals['aws:PrincipalOrgID'] = input.principalOrgId;
    if (input.eventSourceToken) equals['lambda:EventSourceToken'] = input.eventSourceToken;
    const condition: Record<string, Record<string, string>> = {};
    if (Object.keys(equals).length) condition.StringEquals = equals;
    if (input.sourceArn) condition.ArnLike = { 'AWS:SourceArn': input.sourceArn };
    if (Object.keys(condition).length) statement.Condition = condition;
    await this.store.transaction(async (tx) => {
      const record = await tx.functions.get(name);
      if (!record) throw notFound(caller, name, qualifier);
      const held = await this.requireQualifier(tx, caller, record, qualifier);
      const existing = await tx.policies.list(name, qualifier ?? '');
      checkRevision(input.revisionId, await policyRevision(tx, name, qualifier, existing, held), 'GetPolicy');
      if (existing.some((s) => s.sid === input.statementId)) {
        throw new PlatformError(
          'ResourceConflictException',
          `The statement id (${input.statementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
        );
      }
      const size = Buffer.byteLength(JSON.stringify(policyOf([...existing.map((s) => s.statement), statement])));
      if (size > MAX_POLICY_BYTES) {
        throw new PlatformError(
          'PolicyLengthExceededException',
          `The final policy size (${size}) is bigger than the limit (${MAX_POLICY_BYTES}).`,
        );
      }
      await tx.policies.put(name, qualifier ?? '', { sid: input.statementId!, statement }, uuid());
    });
    return statement;
  }

  async removePermission(caller: Caller, name: string, qualifier: string | undefined, sid: string, revisionId?: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const record = await tx.functions.get(name);
      if (!record) {
        throw new PlatformError('ResourceNotFoundException', `No policy found for: ${functionArn(caller.region, name, qualifier)}`);
      }
      const held = await this.requireQualifier(tx, caller, record, qualifier);
      const existing = await tx.policies.list(name, qualifier ?? '');
      checkRevision(revisionId, await policyRevision(tx, name, qualifier, existing, held));
      if (existing.length === 0) throw new PlatformError('ResourceNotFoundException', 'No policy is associated with the given resource.');
      if (!existing.some((s) => s.sid === sid)) {
        throw new PlatformError('ResourceNotFoundException', `Statement ${sid} is not found in resource policy.`);
      }
      await tx.policies.delete(name, qualifier ?? '', sid, uuid());
    });
  }

  async getPolicy(
    caller: Caller,
    name: string,
    qualifier: string | undefined,
  ): Promise<{ policy: Record<string, unknown>; revisionId: string }> {
    // AWS gives one answer whether the function, its version or its policy is what is missing.
    const missing = () => new PlatformError('ResourceNotFoundException', 'The resource you requested does not exist.');
    const record = await this.store.functions.get(name);
    if (!record) throw missing();
    const held = await this.requireQualifier(this.store, caller, record, qualifier).catch(() => {
      throw missing();
    });
    const statements = await this.store.policies.list(name, qualifier ?? '');
    if (!statements.length) throw missing();
    return {
      policy: policyOf(statements.map((s) => s.statement)),
      revisionId: await policyRevision(this.store, name, qualifier, statements, held),
    };
  }

  private async requireFunction(caller: Caller, name: string, qualifier?: string): Promise<FunctionRecord> {
    const record = await this.store.functions.get(name);
    if (!record) throw notFound(caller, name, qualifier);
    return record;
  }

  /**
   * The revision of what `qualifier` names (a version, an alias, or the function itself), which a
   * RevisionId on its policy is held to while it has none.
   */
  private async requireQualifier(store: Store, caller: Caller, record: FunctionRecord, qualifier: string | undefined): Promise<string> {
    const name = record.name;
    if (qualifier === undefined || qualifier === LATEST) return record.revisionId;
    if (/^[0-9]+$/.test(qualifier)) {
      const version = await store.versions.get(name, qualifier);
      if (!version) throw notFound(caller, name, qualifier);
      return version.revisionId;
    }
    const alias = await store.aliases.get(name, qualifier);
    if (alias) return alias.revisionId;
    // A name that could be an alias is looked for as one; anything else is simply not found.
    if (ALIAS_LIKE.test(qualifier)) {
      throw new PlatformError('ResourceNotFoundException', `Cannot find alias arn: ${functionArn(caller.region, name, qualifier)}`);
    }
    throw notFound(caller, name, qualifier);
  }
}

// ---- Helpers (pure or transaction-scoped) ----

/**
 * Publishes `$LATEST` as a new version, or returns the last version when nothing changed since it was
 * published (then the description argument is ignored, as on AWS).
 */
async function publishIn(tx: Store, record: FunctionRecord, description: string | undefined, now: number): Promise<VersionRecord> {
  const digest = specDigest(record.spec);
  if (record.lastPublished?.digest === digest) {
    const existing = await tx.versions.get(record.name, record.lastPublished.version);
    if (existing) return existing;
  }
  const version: VersionRecord = {
    functionName: record.name,
    version: String(record.nextVersion),
    spec: { ...record.spec, description: description ?? record.spec.description },
    revisionId: uuid(),
    lastModified: now,
  };
  await tx.versions.create(version);
  // Publishing changes $LATEST's revision too.
  await tx.functions.update(
    { ...record, nextVersion: record.nextVersion + 1, lastPublished: { version: version.version, digest }, revisionId: uuid() },
    record.revisionId,
  );
  return version;
}

async function requireVersions(
  tx: Store,
  caller: Caller,
  name: string,
  functionVersion: string,
  weights: Record<string, number> | undefined,
): Promise<void> {
  for (const version of [functionVersion, ...Object.keys(weights ?? {})]) {
    if (version === LATEST) continue;
    if (!(await tx.versions.get(name, version))) throw notFound(caller, name, version);
  }
}

function latestConfig(record: FunctionRecord, arnQualifier: string | undefined): ResolvedConfiguration {
  return {
    name: record.name,
    version: LATEST,
    arnQualifier,
    spec: record.spec,
    revisionId: record.revisionId,
    lastModified: record.lastModified,
    state: record.state,
    lastUpdateStatus: record.lastUpdateStatus,
  };
}

function versionConfig(record: FunctionRecord, version: VersionRecord, arnQualifier: string | undefined): ResolvedConfiguration {
  return {
    name: record.name,
    version: version.version,
    arnQualifier,
    spec: version.spec,
    revisionId: version.revisionId,
    lastModified: version.lastModified,
    state: 'Active',
    lastUpdateStatus: 'Successful',
  };
}

export function notFound(caller: Caller, name: string, qualifier?: string): PlatformError {
  return new PlatformError('ResourceNotFoundException', `Function not found: ${functionArn(caller.region, name, qualifier)}`);
}

/** Refuses a stale RevisionId, naming the operation that reads the current one (AWS's words). */
function checkRevision(given: string | undefined, current: string, readBy = 'GetFunction/GetAlias'): void {
  if (given !== undefined && given !== current) {
    throw new PlatformError(
      'PreconditionFailedException',
      `The Revision Id provided does not match the latest Revision Id. Call the ${readBy} API to retrieve the latest Revision Id`,
    );
  }
}

function validateSpecMembers(v: Violations, input: ConfigurationInput): void {
  v.integer(input.timeout, 'timeout', 1, 900)
    .integer(input.memorySize, 'memorySize', 128, 10240)
    .length(input.description, 'description', 0, 256)
    .length(input.handler, 'handler', 0, 128)
    .pattern(input.handler, 'handler', /^[^\s]+$/, '[^\\s]+')
    .pattern(input.role, 'role', ROLE, 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+')
    .integer(input.ephemeralStorageSize, 'ephemeralStorage.size', 512, 10240);
  if (input.tracingMode !== undefined && input.tracingMode !== 'Active' && input.tracingMode !== 'PassThrough') {
    v.add(input.tracingMode, 'tracingConfig.mode', 'Member must satisfy enum value set: [Active, PassThrough]');
  }
  if (input.snapStartApplyOn !== undefined && input.snapStartApplyOn !== 'PublishedVersions' && input.snapStartApplyOn !== 'None') {
    v.add(input.snapStartApplyOn, 'snapStart.applyOn', 'Member must satisfy enum value set: [PublishedVersions, None]');
  }
}

function validateDescription(description: string | undefined): void {
  new Violations().length(description, 'description', 0, 256).throwIfAny();
}

/**
 * Refuses a runtime Versa cannot run: in AWS's words when AWS would refuse it too (retired, or no runtime
 * at all), in Versa's when AWS runs it and Versa does not, so that the message says what to use instead.
 */
function validateRuntime(runtime: string): void {
  if (runtimeFamily(runtime)) return;
  if (RETIRED_RUNTIMES.has(runtime)) {
    throw new PlatformError(
      'InvalidParameterValueException',
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.`,
    );
  }
  if (!AWS_RUNTIMES.includes(runtime)) {
    throw new PlatformError(
      'InvalidParameterValueException',
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${AWS_RUNTIMES.join(', ')}] or be a valid ARN`,
    );
  }
  throw new PlatformError(
    'InvalidParameterValueException',
    `The runtime parameter of ${runtime} is not supported by Versa. Use one of: ${SUPPORTED_RUNTIMES.join(', ')}.`,
  );
}

function validateArchitectures(architectures: string[] | undefined): string[] {
  if (architectures === undefined || architectures.length === 0) return ['x86_64'];
  const v = new Violations();
  // AWS quotes the list as Java prints one: [x86_64, arm64].
  const shown = `[${architectures.join(', ')}]`;
  if (architectures.length > 1) v.add(shown, 'architectures', 'Member must have length less than or equal to 1');
  if (architectures.some((a) => a !== 'x86_64' && a !== 'arm64')) {
    v.add(
      shown,
      'architectures',
      'Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]',
    );
  }
  v.throwIfAny();
  return architectures;
}

function validateEnvironment(environment: Record<string, string> | undefined): void {
  if (!environment) return;
  const keys = Object.keys(environment);
  const v = new Violations();
  for (const key of keys) v.pattern(key, 'environment.variables', ENV_KEY, '[a-zA-Z]([a-zA-Z0-9_])+');
  v.throwIfAny();
  const reserved = keys.filter((k) => RESERVED_ENV.has(k));
  if (reserved.length) {
    throw new PlatformError(
      'InvalidParameterValueException',
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  // No process environment can hold a NUL: the variable would be cut short, or the rest taken for more.
  const withNul = keys.filter((k) => typeof environment[k] === 'string' && environment[k].includes('\0'));
  if (withNul.length) {
    throw new PlatformError(
      'InvalidParameterValueException',
      `Lambda was unable to configure your environment variables because the value of ${withNul.join(', ')} contains a NUL character.`,
    );
  }
  const size = Buffer.byteLength(JSON.stringify(environment));
  if (size > MAX_ENV_BYTES) {
    throw new PlatformError(
      'InvalidParameterValueException',
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(environment)}`,
    );
  }
}

/**
 * The uploaded zip, once it is known to unpack: within AWS's zipped and unzipped sizes, and laid out so
 * that every entry can be written to disk (see walkPackage). Inflates it in small chunks off the event
 * loop, never whole; nothing is stored before this has passed.
 */
async function requireZip(code: CodeInput | undefined, s3Code: S3CodeReader | undefined): Promise<Uint8Array> {
  const fromS3 = code?.s3Bucket !== undefined || code?.s3Key !== undefined || code?.s3ObjectVersion !== undefined;
  if (fromS3 && code?.zipFile !== undefined) {
    throw new PlatformError(
      'InvalidParameterValueException',
      'Please do not provide other FunctionCode parameters when providing a ZipFile.',
    );
  }
  if (fromS3) {
    if (code.s3Bucket === undefined || code.s3Key === undefined) {
      throw new PlatformError('InvalidParameterValueException', 'Code from S3 needs both S3Bucket and S3Key.');
    }
    if (!s3Code)
      throw new PlatformError('InvalidParameterValueException', 'This server reads no code from S3; upload the package as Code.ZipFile.');
    const zip = await s3Code(code.s3Bucket, code.s3Key, code.s3ObjectVersion);
    await checkCodePackage(zip);
    return zip;
  }
  const zip = code?.zipFile;
  if (!zip || zip.byteLength === 0) {
    throw new PlatformError('InvalidParameterValueException', 'Please provide a source for function code.');
  }
  await checkCodePackage(zip);
  return zip;
}

/** Refuses a deployment package Lambda would refuse (sizes, a zip that cannot be unpacked); see requireZip. */
export async function checkCodePackage(zip: Uint8Array): Promise<void> {
  if (zip.byteLength > MAX_ZIPPED_BYTES) {
    throw new PlatformError('RequestEntityTooLargeException', `Zipped size must be smaller than ${MAX_ZIPPED_BYTES} bytes`);
  }
  await walkPackage(zip);
}

/** A principal AWS accepts: anyone, an account, an ARN, or an AWS service (a host under amazonaws.com or amazon.com). */
function validPrincipal(principal: string): boolean {
  return principal === '*' || /^\d{12}$/.test(principal) || principal.startsWith('arn:') || /\.amazon(aws)?\.com(\.cn)?$/.test(principal);
}

function principalOf(principal: string): unknown {
  if (principal === '*') return '*';
  if (/^\d{12}$/.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (principal.startsWith('arn:')) return { AWS: principal };
  return { Service: principal };
}

/** Largest resource-based policy of a function, version or alias (Lambda's quota). */
const MAX_POLICY_BYTES = 20_480;

/**
 * The policy's RevisionId, its own as on AWS: each AddPermission and RemovePermission renews it, and
 * neither changes the RevisionId of the function, version or alias (publishing, which changes $LATEST's,
 * leaves the policy's alone). While the policy has no statement (or was written before it had one of its
 * own), it is that of what the policy is on (`held`).
 */
async function policyRevision(
  store: Store,
  name: string,
  qualifier: string | undefined,
  statements: readonly PolicyStatement[],
  held: string,
): Promise<string> {
  return (statements.length > 0 && (await store.policies.revision(name, qualifier ?? ''))) || held;
}

/** The policy document GetPolicy answers, of a function's (or qualifier's) statements. */
function policyOf(statements: Record<string, unknown>[]): Record<string, unknown> {
  return { Version: '2012-10-17', Id: 'default', Statement: statements };
}
