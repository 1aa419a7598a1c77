import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { ACCOUNT_ID } from '../domain/arn.js';
import type { ParameterDoc, ParameterVersion } from '../domain/parameter.js';
import type { Store } from '../store/store.js';

export type ParameterType = ParameterDoc['type'];
export const PARAMETER_TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
/** The tiers a put may ask for; Intelligent-Tiering picks Standard unless the value needs Advanced. */
export type ParameterTier = 'Standard' | 'Advanced' | 'Intelligent-Tiering';
export const PARAMETER_TIERS: readonly ParameterTier[] = ['Standard', 'Advanced', 'Intelligent-Tiering'];

/** A parameter as read: its current version, or the one a `name:version` selector asked for. */
export interface ParameterView extends ParameterVersion {
  name: string;
  dataType: string;
  tier: 'Standard' | 'Advanced';
  /** The `:version` selector, when one was used. */
  selector?: string;
}

export interface PutParameterInput {
  name: string;
  value: string;
  type?: ParameterType;
  overwrite: boolean;
  description?: string;
  dataType?: string;
  /** Absent: the parameter keeps its tier (a new one is Standard). */
  tier?: ParameterTier;
  /**
   * Written with a function's key (its session's ARN, and the request's region for the refusal): it may
   * not take the last tenth of the parameters (FUNCTIONS_SHARE), nor change one an operator wrote last.
   */
  byFunction?: FunctionWriter;
}

/** A function's key writing a parameter: who it is, as a refusal names it. */
export interface FunctionWriter {
  arn: string;
  region: string;
}

/** Versions kept per parameter (AWS's). */
export const MAX_VERSIONS = 100;
/** Longest standard-tier value, in characters (AWS's 4 KB). */
export const MAX_VALUE_LENGTH = 4096;
/** Longest advanced-tier value, in characters (AWS's 8 KB). */
export const MAX_ADVANCED_VALUE_LENGTH = 8192;
const MAX_NAME_LENGTH = 2048;
/** Longest description (AWS's). */
const MAX_DESCRIPTION_LENGTH = 1024;
/** The data types SSM knows. */
const DATA_TYPES = ['text', 'aws:ec2:image', 'aws:ssm:integration'];
/** Standard parameters per account and region (AWS's): what bounds the store, as 100 versions bound each. */
export const MAX_PARAMETERS = 10_000;
/**
 * Of those, how many functions' keys may make: the rest is the operator's, so that functions making
 * parameters in a loop (12 s to the limit) cannot leave the operator none to deploy with.
 */
export const FUNCTIONS_SHARE = 0.9;
const MAX_LEVELS = 15;
const NAME = /^[a-zA-Z0-9_.\-/]+$/;

/**
 * SSM Parameter Store: named values with versions, stored durably. SecureString values are kept as
 * they were sent (there is no KMS); the wire adapter decides what to show without WithDecryption.
 */
export class ParameterService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async put(input: PutParameterInput): Promise<{ version: number; tier: 'Standard' | 'Advanced' }> {
    validateName(input.name);
    if (input.value.length > MAX_ADVANCED_VALUE_LENGTH) {
      throw new PlatformError(
        'ValidationException',
        `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ADVANCED_VALUE_LENGTH}`,
      );
    }
    if (input.value.length === 0) {
      throw new PlatformError(
        'ValidationException',
        "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (input.description !== undefined && input.description.length > MAX_DESCRIPTION_LENGTH) {
      throw new PlatformError(
        'ValidationException',
        `1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to ${MAX_DESCRIPTION_LENGTH}`,
      );
    }
    if (input.dataType !== undefined && !DATA_TYPES.includes(input.dataType)) {
      throw new PlatformError(
        'ValidationException',
        `The following data type is not supported: ${input.dataType.slice(0, 128)} (Data type names are all lowercase.)`,
      );
    }
    return this.store.transaction(async (tx) => {
      const existing = await tx.parameters.get(input.name);
      const limit = input.byFunction ? Math.floor(MAX_PARAMETERS * FUNCTIONS_SHARE) : MAX_PARAMETERS;
      if (!existing && (await tx.parameters.count()) >= limit) {
        throw new PlatformError(
          'ParameterLimitExceeded',
          "You have exceeded the number of parameters for this AWS account. Delete parameters that you don't need, and try again.",
        );
      }
      if (existing && input.byFunction && !existing.byFunction) throw notAllowed(input.byFunction, 'PutParameter', input.name);
      if (existing && !input.overwrite) {
        throw new PlatformError(
          'ParameterAlreadyExists',
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        );
      }
      const type = input.type ?? existing?.type;
      if (type === undefined) throw new PlatformError('ValidationException', 'A parameter type is required when you create a parameter.');
      const tier = chooseTier(input.tier, existing?.tier ?? 'Standard', input.value);
      const current = existing?.versions.at(-1);
      const version: ParameterVersion = {
        version: (current?.version ?? 0) + 1,
        value: input.value,
        type,
        modified: this.clock.now(),
        ...((input.description ?? existing?.description) !== undefined && { description: input.description ?? existing?.description }),
      };
      const versions = [...(existing?.versions ?? []), version].slice(-MAX_VERSIONS);
      await tx.parameters.put({
        name: input.name,
        type,
        dataType: input.dataType ?? existing?.dataType ?? 'text',
        ...(version.description !== undefined && { description: version.description }),
        ...(tier === 'Advanced' && { tier }),
        versions,
        ...(input.byFunction && { byFunction: true }),
      });
      return { version: version.version, tier };
    });
  }

  /** `name` or `name:version`; throws ParameterNotFound / ParameterVersionNotFound. */
  async get(selector: string): Promise<ParameterView> {
    if (!selector.startsWith('arn:')) validateHierarchy(selector.replace(/:\d{1,10}$/, ''));
    const found = await this.find(selector);
    if (found === 'no-parameter') throw notFound(selector);
    if (found === 'no-version') {
      throw new PlatformError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${selector.slice(selector.lastIndexOf(':') + 1)} of ${selector.slice(0, selector.lastIndexOf(':'))}. Verify the version and try again.`,
      );
    }
    return found;
  }

  /** Each name (or selector) found, and those that were not. */
  async getMany(selectors: readonly string[]): Promise<{ found: ParameterView[]; invalid: string[] }> {
    const found: ParameterView[] = [];
    const invalid: string[] = [];
    for (const selector of [...new Set(selectors)]) {
      const view = await this.find(selector);
      if (typeof view === 'string') invalid.push(selector);
      else found.push(view);
    }
    return { found, invalid };
  }

  /** Parameters under a path (`/a/b`), one level down or, recursively, all. */
  /**
   * A page of the parameters under `path` (one level, or all below it), in name order, after the name
   * `page.after`; `more` when others follow. Read from the store a few at a time: a parameter holds its
   * hundred versions, so reading the whole path for one page would be megabytes a parameter.
   */
  async byPath(
    path: string,
    recursive: boolean,
    page: { after?: string; limit: number },
  ): Promise<{ views: ParameterView[]; more: boolean }> {
    if (!path.startsWith('/') && path !== '/') {
      throw new PlatformError(
        'ValidationException',
        `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/".`,
      );
    }
    const prefix = path.endsWith('/') ? path : `${path}/`;
    // One page read from the store: without Recursive, the store leaves out what is deeper than the path.
    const docs = await this.store.parameters.list(prefix, {
      ...(page.after !== undefined && { after: page.after }),
      limit: page.limit + 1,
      children: !recursive,
    });
    return { views: docs.slice(0, page.limit).map((d) => view(d, d.versions.at(-1)!)), more: docs.length > page.limit };
  }

  /**
   * A page of every parameter, in name order, after the name `page.after`; `more` when others follow
   * (DescribeParameters: what each is, its tier among it).
   */
  async describe(page: { after?: string; limit: number }): Promise<{ views: ParameterView[]; more: boolean }> {
    const docs = await this.store.parameters.list('', { ...(page.after !== undefined && { after: page.after }), limit: page.limit + 1 });
    return { views: docs.slice(0, page.limit).map((d) => view(d, d.versions.at(-1)!)), more: docs.length > page.limit };
  }

  /** Deletes a parameter; a function's key (`byFunction`) only one a function's key wrote last. */
  async delete(name: string, byFunction?: FunctionWriter): Promise<void> {
    const { invalid } = await this.deleteMany([name], byFunction);
    if (invalid.length > 0) throw notFound(name);
  }

  /**
   * Deletes each parameter named; those not found are `invalid`. A function's key deletes nothing
   * unless every one found is a function's to delete.
   */
  async deleteMany(names: readonly string[], byFunction?: FunctionWriter): Promise<{ deleted: string[]; invalid: string[] }> {
    return this.store.transaction(async (tx) => {
      if (byFunction) {
        for (const name of names) {
          const existing = await tx.parameters.get(name);
          if (existing && !existing.byFunction)
            throw notAllowed(byFunction, names.length === 1 ? 'DeleteParameter' : 'DeleteParameters', name);
        }
      }
      const deleted: string[] = [];
      const invalid: string[] = [];
      for (const name of names) ((await tx.parameters.delete(name)) ? deleted : invalid).push(name);
      return { deleted, invalid };
    });
  }

  private async byNameOrArn(nameOrArn: string): Promise<ParameterDoc | undefined> {
    const bare = PARAMETER_ARN.exec(nameOrArn)?.[1];
    if (bare === undefined) return this.store.parameters.get(nameOrArn);
    if (bare.includes('/')) return this.store.parameters.get(`/${bare}`);
    return (await this.store.parameters.get(bare)) ?? (await this.store.parameters.get(`/${bare}`));
  }

  private async find(selector: string): Promise<ParameterView | 'no-parameter' | 'no-version'> {
    const m = /^(.*):(\d{1,10})$/.exec(selector);
    const doc = await this.byNameOrArn(m ? m[1]! : selector);
    if (!doc) return 'no-parameter';
    if (!m) return view(doc, doc.versions.at(-1)!);
    const version = doc.versions.find((v) => v.version === Number(m[2]));
    return version ? { ...view(doc, version), selector: `:${m[2]}` } : 'no-version';
  }
}

/**
 * A parameter's ARN names it without its leading slash (`parameter/a/b` is `/a/b`, `parameter/p` is
 * `p` or `/p`); SSM reads a parameter by its ARN as by its name.
 */
const PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]*:\d{12}:parameter\/(.+)$/;

function view(doc: ParameterDoc, version: ParameterVersion): ParameterView {
  return { ...version, name: doc.name, dataType: doc.dataType, tier: doc.tier ?? 'Standard' };
}

/**
 * The tier a put leaves the parameter in, as SSM decides it: asked for, or (when not asked) the one it
 * has. Intelligent-Tiering takes Advanced only for a value Standard cannot hold. An Advanced parameter
 * never goes back to Standard, and a Standard one holds at most 4096 characters.
 */
function chooseTier(asked: ParameterTier | undefined, current: 'Standard' | 'Advanced', value: string): 'Standard' | 'Advanced' {
  const wanted =
    asked === undefined ? current : asked === 'Intelligent-Tiering' ? (value.length > MAX_VALUE_LENGTH ? 'Advanced' : current) : asked;
  if (wanted === 'Standard' && current === 'Advanced') {
    throw new PlatformError(
      'ValidationException',
      "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter. Be aware that standard parameters have a value limit of 4096 characters.",
    );
  }
  if (wanted === 'Standard' && value.length > MAX_VALUE_LENGTH) {
    throw new PlatformError(
      'ValidationException',
      `Standard tier parameters support a maximum parameter value of ${MAX_VALUE_LENGTH} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
    );
  }
  return wanted;
}

/** IAM's refusal, as AWS words it for a role no policy allows the action. */
function notAllowed(writer: FunctionWriter, operation: string, name: string): PlatformError {
  const action = `ssm:${operation}`;
  const resource = `arn:aws:ssm:${writer.region}:${ACCOUNT_ID}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  return new PlatformError(
    'AccessDeniedException',
    `User: ${writer.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  );
}

function notFound(name: string): PlatformError {
  return new PlatformError('ParameterNotFound', `Parameter ${name} not found.`);
}

function validateName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME.test(name)) throw badName();
  const bare = name.replace(/^\//, '').toLowerCase();
  if (bare.startsWith('aws') || bare.startsWith('ssm')) {
    throw new PlatformError('ValidationException', `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`);
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw new PlatformError('ValidationException', 'Parameter name must be a fully qualified name.');
  }
  if (name.split('/').length - 1 > MAX_LEVELS) {
    throw new PlatformError(
      'HierarchyLevelLimitExceededException',
      `Parameter name ${name} has more than ${MAX_LEVELS} levels. Reduce the number of hierarchy levels and try again.`,
    );
  }
}

function badName(): PlatformError {
  return new PlatformError(
    'ValidationException',
    `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`,
  );
}

/**
 * A name read is refused, as SSM refuses it, when it is a path but not a well-formed one: not from the
 * root (`a/b`), or with an empty sub-path (`/a//b`). Reading such a name is a mistake, not a miss.
 */
function validateHierarchy(name: string): void {
  if (name.includes('/') && (!name.startsWith('/') || name.slice(1).split('/').includes(''))) throw badName();
}
