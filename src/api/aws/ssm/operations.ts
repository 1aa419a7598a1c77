import { createHmac, randomBytes } from 'node:crypto';
import { PlatformError } from '../../../core/errors.js';
import { PatternProblem, wholeMatch } from '../../../core/linear-regexp.js';
import type { Logger } from '../../../core/logger.js';
import { ACCOUNT_ID } from '../../../domain/arn.js';
import {
  PARAMETER_TIERS,
  PARAMETER_TYPES,
  type FunctionWriter,
  type ParameterTier,
  type ParameterService,
  type ParameterType,
  type ParameterView,
} from '../../../ssm/parameter-service.js';
import type { ApiRequest, ServiceHandler } from '../protocol/http.js';
import { jsonRpcService, type JsonOperation } from '../protocol/json-rpc.js';
import { memberReader } from '../protocol/members.js';
import { functionScope } from '../../access/function-scope.js';

export interface SsmApiDeps {
  parameters: ParameterService;
  logger: Logger;
}

const read = memberReader((member, expected) => new PlatformError('SerializationException', `Member ${member} must be ${expected}.`));

/**
 * SSM Parameter Store (JSON 1.1, `AmazonSSM.*`): the parameters the CDK's bootstrap stack and SAM
 * templates read. Errors answer 400 with SSM's names; a server fault is InternalServerError.
 */
export function ssmApi({ parameters, logger }: SsmApiDeps): ServiceHandler {
  const operations: Record<string, JsonOperation> = {
    async PutParameter(input, req) {
      const name = requiredString(input, 'Name');
      const value = requiredString(input, 'Value');
      const type = read.string(input, 'Type');
      if (type !== undefined && !PARAMETER_TYPES.includes(type as ParameterType)) {
        throw new PlatformError(
          'ValidationException',
          `1 validation error detected: Value '${type.slice(0, 40)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
        );
      }
      const tier = read.string(input, 'Tier');
      if (tier !== undefined && !PARAMETER_TIERS.includes(tier as ParameterTier)) {
        throw new PlatformError(
          'ValidationException',
          `1 validation error detected: Value '${tier.slice(0, 40)}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]`,
        );
      }
      refuseByPattern(value, read.string(input, 'AllowedPattern'));
      const written = await parameters.put({
        name,
        value,
        ...(type !== undefined && { type: type as ParameterType }),
        overwrite: read.boolean(input, 'Overwrite') ?? false,
        ...optional('description', read.string(input, 'Description')),
        ...optional('dataType', read.string(input, 'DataType')),
        ...(tier !== undefined && { tier: tier as ParameterTier }),
        ...(req.caller && { byFunction: writer(req) }),
      });
      return { Version: written.version, Tier: written.tier };
    },
    async GetParameter(input, req) {
      const view = await parameters.get(requiredString(input, 'Name'));
      return { Parameter: wire(view, req, read.boolean(input, 'WithDecryption') ?? false) };
    },
    async GetParameters(input, req) {
      const names = read.stringList(input, 'Names') ?? [];
      if (names.length < 1 || names.length > 10) {
        throw new PlatformError(
          'ValidationException',
          `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`,
        );
      }
      const { found, invalid } = await parameters.getMany(names);
      const decrypt = read.boolean(input, 'WithDecryption') ?? false;
      return { Parameters: found.map((v) => wire(v, req, decrypt)), InvalidParameters: invalid };
    },
    async GetParametersByPath(input, req) {
      const path = requiredString(input, 'Path');
      const max = read.integer(input, 'MaxResults') ?? 10;
      if (max < 1 || max > 10) {
        throw new PlatformError(
          'ValidationException',
          `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10`,
        );
      }
      const after = pageAfter(read.string(input, 'NextToken'));
      const wanted = typeFilter(read.objectList(input, 'ParameterFilters') ?? []);
      const { views, more } = await parameters.byPath(path, read.boolean(input, 'Recursive') ?? false, {
        ...(after !== undefined && { after }),
        limit: max,
      });
      const decrypt = read.boolean(input, 'WithDecryption') ?? false;
      return {
        // Filtered within the page: it may hold fewer than MaxResults, and its token still says where it ended.
        Parameters: views.filter((v) => wanted === undefined || wanted.includes(v.type)).map((v) => wire(v, req, decrypt)),
        ...(more && { NextToken: Buffer.from(views[views.length - 1]!.name).toString('base64url') }),
      };
    },
    async DescribeParameters(input, req) {
      const max = read.integer(input, 'MaxResults') ?? 50;
      if (max < 5 || max > 50) {
        throw new PlatformError(
          'ValidationException',
          `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value ${max < 5 ? 'greater than or equal to 5' : 'less than or equal to 50'}`,
        );
      }
      if ((read.objectList(input, 'Filters') ?? []).length > 0) {
        throw new PlatformError('ValidationException', 'Versa applies only ParameterFilters (Key Type, Option Equals), not Filters.');
      }
      const wanted = typeFilter(read.objectList(input, 'ParameterFilters') ?? []);
      const after = pageAfter(read.string(input, 'NextToken'));
      const { views, more } = await parameters.describe({ ...(after !== undefined && { after }), limit: max });
      return {
        // Filtered within the page, as GetParametersByPath's.
        Parameters: views.filter((v) => wanted === undefined || wanted.includes(v.type)).map((v) => metadata(v, req)),
        ...(more && { NextToken: Buffer.from(views[views.length - 1]!.name).toString('base64url') }),
      };
    },
    async DeleteParameter(input, req) {
      await parameters.delete(requiredString(input, 'Name'), req.caller && writer(req));
      return {};
    },
    async DeleteParameters(input, req) {
      const names = read.stringList(input, 'Names') ?? [];
      if (names.length < 1 || names.length > 10) {
        throw new PlatformError(
          'ValidationException',
          `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`,
        );
      }
      const { deleted, invalid } = await parameters.deleteMany([...new Set(names)], req.caller && writer(req));
      return { DeletedParameters: deleted, InvalidParameters: invalid };
    },
  };
  return jsonRpcService(
    {
      targetPrefix: 'AmazonSSM',
      scope: functionScope('ssm'),
      contentType: 'application/x-amz-json-1.1',
      operations,
      errorName: (e) => (e.code === 'ServiceException' ? 'InternalServerError' : e.code),
      errorStatus: (e) => (e.spec.fault === 'client' ? 400 : 500),
    },
    logger,
  );
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** A function's key, as a refusal to change a parameter names it. */
function writer(req: ApiRequest): FunctionWriter {
  return { arn: req.caller!.arn, region: req.region };
}

function requiredString(input: Record<string, unknown>, member: string): string {
  const value = read.string(input, member);
  if (value === undefined) {
    throw new PlatformError(
      'ValidationException',
      `1 validation error detected: Value null at '${member.charAt(0).toLowerCase()}${member.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** Keys the stand-in ciphertexts: they tell nothing of the value, and differ from one run to the next. */
const STAND_IN_KEY = randomBytes(32);

/**
 * A parameter as SSM answers it. A SecureString read without WithDecryption shows an opaque stand-in
 * where AWS shows the KMS ciphertext (there is no KMS here), never the value.
 */
function wire(view: ParameterView, req: ApiRequest, decrypt: boolean) {
  const value =
    view.type === 'SecureString' && !decrypt ? createHmac('sha256', STAND_IN_KEY).update(view.value).digest('base64') : view.value;
  return {
    Name: view.name,
    Type: view.type,
    Value: value,
    Version: view.version,
    ...(view.selector !== undefined && { Selector: view.selector }),
    LastModifiedDate: view.modified / 1000,
    ARN: `arn:aws:ssm:${req.region}:${ACCOUNT_ID}:parameter/${view.name.replace(/^\//, '')}`,
    DataType: view.dataType,
  };
}

/** The name a page token says the last page ended with. */
function pageAfter(token: string | undefined): string | undefined {
  const after = token === undefined ? undefined : Buffer.from(token, 'base64url').toString('utf8');
  if (after !== undefined && (after === '' || Buffer.from(after).toString('base64url') !== token)) {
    throw new PlatformError('InvalidNextToken', 'The specified token is not valid.');
  }
  return after;
}

/** A parameter as DescribeParameters shows it: what it is, never its value. */
function metadata(view: ParameterView, req: ApiRequest) {
  return {
    Name: view.name,
    ARN: `arn:aws:ssm:${req.region}:${ACCOUNT_ID}:parameter/${view.name.replace(/^\//, '')}`,
    Type: view.type,
    ...(view.type === 'SecureString' && { KeyId: 'alias/aws/ssm' }),
    LastModifiedDate: view.modified / 1000,
    ...(view.description !== undefined && { Description: view.description }),
    Version: view.version,
    Tier: view.tier,
    Policies: [],
    DataType: view.dataType,
  };
}

/**
 * PutParameter's AllowedPattern: the value must match it whole, or the parameter is not written
 * (ParameterPatternMismatchException), as on SSM. The pattern runs on the linear-time engine, so a
 * pattern such as `^(a+)+$` cannot hold the server; one that is not a regular expression (or needs
 * backtracking) is a ValidationException.
 */
function refuseByPattern(value: string, pattern: string | undefined): void {
  if (pattern === undefined) return;
  if (pattern.length > 1024) {
    throw new PlatformError(
      'ValidationException',
      "1 validation error detected: Value at 'allowedPattern' failed to satisfy constraint: Member must have length less than or equal to 1024",
    );
  }
  let matcher: RegExp;
  try {
    matcher = wholeMatch(pattern);
  } catch (err) {
    if (!(err instanceof PatternProblem)) throw err;
    throw new PlatformError('ValidationException', `The AllowedPattern ${pattern.slice(0, 100)} ${err.message}.`);
  }
  if (!matcher.test(value)) {
    throw new PlatformError('ParameterPatternMismatchException', `Parameter value, cannot be validated against allowedPattern: ${pattern}`);
  }
}

/**
 * GetParametersByPath's ParameterFilters: the types a `Type` filter keeps (undefined: all). A filter
 * Versa does not apply is refused rather than ignored: ignored, `Type Equals String` answered every
 * SecureString too, to a caller that asked for them precisely not to get its secrets.
 */
function typeFilter(filters: readonly Record<string, unknown>[]): string[] | undefined {
  let kept: string[] | undefined;
  for (const filter of filters) {
    const key = read.string(filter, 'Key');
    const option = read.string(filter, 'Option') ?? 'Equals';
    const values = read.stringList(filter, 'Values') ?? [];
    if (key !== 'Type' || option !== 'Equals' || values.length === 0) {
      throw new PlatformError(
        'ValidationException',
        `Versa applies only the ParameterFilters Key Type with Option Equals and one or more Values; ${String(key).slice(0, 40)} ${option.slice(0, 40)} is not supported.`,
      );
    }
    kept = kept === undefined ? values : kept.filter((v) => values.includes(v));
  }
  return kept;
}
