import { PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { ACCOUNT_ID } from '../../../domain/arn.js';
import { roleIdOf, type CallerIdentity, type Keyring, type SessionCredentials } from '../../access/keyring.js';
import { readClaim } from '../../access/sigv4.js';
import type { ApiRequest, ServiceHandler } from '../protocol/http.js';
import { queryService, type QueryOperation, type QueryStructure } from '../protocol/query.js';
import { functionScope } from '../../access/function-scope.js';

export interface StsApiDeps {
  keyring: Keyring;
  logger: Logger;
}

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
/** An ARN of any kind: a partition, a service and a resource, in six colon-separated parts. */
const ANY_ARN = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/** What any operator key is: the account's root, as for an AWS account's own keys. */
const ROOT: CallerIdentity = { arn: `arn:aws:iam::${ACCOUNT_ID}:root`, userId: ACCOUNT_ID };

/**
 * STS over the query protocol: who the caller is, and temporary credentials (AssumeRole, which the CDK
 * uses for its bootstrap roles, and GetSessionToken) that the keyring accepts until they expire. Versa
 * has no IAM: any role ARN of the right form may be assumed, and what a role may do is not checked.
 */
export function stsApi({ keyring, logger }: StsApiDeps): ServiceHandler {
  /**
   * Who signed, and their key when it is a temporary one (an environment's, or from STS): what such a
   * caller is issued is tied to that key.
   */
  const callerOf = (req: ApiRequest): { identity: CallerIdentity; temporaryKey?: string; accessKeyId: string } => {
    const claim = readClaim(req);
    if (claim === undefined || 'kind' in claim) return { identity: ROOT, accessKeyId: '' };
    const key = keyring.lookup(claim.accessKeyId);
    return {
      identity: key?.identity ?? ROOT,
      accessKeyId: claim.accessKeyId,
      ...(key?.sessionToken !== undefined && { temporaryKey: claim.accessKeyId }),
    };
  };
  const operations: Record<string, QueryOperation> = {
    GetCallerIdentity(_input, req) {
      const caller = callerOf(req).identity;
      return { UserId: caller.userId, Account: ACCOUNT_ID, Arn: caller.arn };
    },
    async AssumeRole(input, req) {
      const roleArn = required(input, 'RoleArn', 'roleArn');
      const sessionName = required(input, 'RoleSessionName', 'roleSessionName');
      // What is no ARN at all STS calls invalid; an ARN is then checked after the session name, as STS does.
      if (!ANY_ARN.test(roleArn)) throw validation(`${roleArn.slice(0, 2048)} is invalid`);
      if (!SESSION_NAME.test(sessionName)) {
        throw validation(
          `1 validation error detected: Value '${sessionName.slice(0, 100)}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
        );
      }
      const role = ROLE_ARN.exec(roleArn);
      if (roleArn.length < 20 || roleArn.length > 2048 || !role) {
        throw validation(`${roleArn.slice(0, 100)} is not a valid role ARN: it must look like arn:aws:iam::${ACCOUNT_ID}:role/name.`);
      }
      checkSessionInputs(input);
      checkSessionTags(input);
      const caller = callerOf(req);
      const parent = caller.temporaryKey;
      const duration = durationOf(input, 3600, 43_200);
      // Role chaining, as AWS limits it: an hour at most.
      if (parent !== undefined && duration > 3600) {
        throw validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
      }
      const roleId = roleIdOf(roleArn);
      const identity: CallerIdentity = {
        arn: `arn:aws:sts::${role[1]}:assumed-role/${role[2]}/${sessionName}`,
        userId: `${roleId}:${sessionName}`,
      };
      // An operator's key's callers' sessions are bounded as that key's: one client's burst ends only its own.
      const credentials = await keyring.issueSession(duration, identity, parent, caller.accessKeyId);
      return { Credentials: credentialsXml(credentials), AssumedRoleUser: { AssumedRoleId: identity.userId, Arn: identity.arn } };
    },
    async GetSessionToken(input, req) {
      const caller = callerOf(req);
      if (caller.temporaryKey !== undefined)
        throw new PlatformError('AccessDenied', 'Cannot call GetSessionToken with session credentials');
      const duration = durationOf(input, 43_200, 129_600);
      return { Credentials: credentialsXml(await keyring.issueSession(duration, caller.identity, undefined, caller.accessKeyId)) };
    },
  };
  return queryService({
    namespace: NAMESPACE,
    operations,
    invalid: validation,
    unknownAction: (action) => `Could not find operation ${action} for version 2011-06-15`,
    scope: functionScope('sts'),
    logger,
  });
}

function validation(message: string): PlatformError {
  return new PlatformError('ValidationError', message);
}

function required(input: QueryStructure, name: string, wireName: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') {
    throw validation(`1 validation error detected: Value null at '${wireName}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

/** AssumeRole's optional strings: their lengths and patterns (STS's model). */
const SESSION_STRINGS: [name: string, wire: string, min: number, max: number, pattern: RegExp][] = [
  ['ExternalId', 'externalId', 2, 1224, /^[\w+=,.@:/-]*$/],
  ['SerialNumber', 'serialNumber', 9, 256, /^[\w+=/:,.@-]*$/],
  ['TokenCode', 'tokenCode', 6, 6, /^\d*$/],
  ['SourceIdentity', 'sourceIdentity', 2, 64, /^[\w+=,.@-]*$/],
];

/**
 * Refuses what STS refuses of AssumeRole's other inputs. A session policy is read as STS reads it
 * (JSON, at most 2,048 characters, at most 10 managed policy ARNs) but not applied, as no policy is:
 * the key it yields may do what its issuer may (docs/security.md).
 */
function checkSessionInputs(input: QueryStructure): void {
  for (const [name, wire, min, max, pattern] of SESSION_STRINGS) {
    const value = input[name];
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : '';
    if (text.length < min || text.length > max || !pattern.test(text)) {
      throw validation(
        `1 validation error detected: Value at '${wire}' failed to satisfy constraint: Member must have length between ${min} and ${max} and satisfy regular expression pattern: ${pattern.source.slice(1, -1)}`,
      );
    }
  }
  for (const [name, wire, max] of [
    ['Tags', 'tags', 50],
    ['TransitiveTagKeys', 'transitiveTagKeys', 50],
    ['PolicyArns', 'policyArns', 10],
  ] as const) {
    const list = input[name];
    if (list !== undefined && (!Array.isArray(list) || list.length > max)) {
      throw validation(
        `1 validation error detected: Value at '${wire}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
      );
    }
  }
  const policy = input.Policy;
  if (policy === undefined) return;
  if (typeof policy !== 'string' || policy.length < 1 || policy.length > MAX_SESSION_POLICY) {
    throw validation(
      `1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length between 1 and ${MAX_SESSION_POLICY}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(policy);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw validation('The session policy (Policy) must be a JSON policy document.');
  }
}

/**
 * Session tags as STS refuses them: two keys differing only in case, and a transitive key that is not
 * among the tags.
 */
function checkSessionTags(input: QueryStructure): void {
  const tags = Array.isArray(input.Tags) ? input.Tags : [];
  const keys = tags.map((t) => (typeof t === 'object' && t !== null && !Array.isArray(t) && typeof t.Key === 'string' ? t.Key : ''));
  const lower = keys.map((k) => k.toLowerCase());
  if (new Set(lower).size !== lower.length) {
    throw new PlatformError('InvalidParameterValue', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
  }
  const transitive = Array.isArray(input.TransitiveTagKeys) ? input.TransitiveTagKeys : [];
  if (transitive.some((k) => typeof k !== 'string' || !lower.includes(k.toLowerCase()))) {
    throw new PlatformError('InvalidParameterValue', 'The specified transitive tag key must be included in the requested tags.');
  }
}

/** Longest session policy, in characters (STS's). */
const MAX_SESSION_POLICY = 2048;

function durationOf(input: QueryStructure, fallback: number, max: number): number {
  const raw = input.DurationSeconds;
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) {
    throw validation(
      `1 validation error detected: Value '${typeof raw === 'string' ? raw.slice(0, 40) : 'a structure'}' at 'durationSeconds' failed to satisfy constraint: Member must be a number`,
    );
  }
  const seconds = Number(raw);
  if (seconds < 900) {
    throw validation(
      `1 validation error detected: Value '${seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
    );
  }
  if (seconds > max) {
    throw validation(
      `1 validation error detected: Value '${seconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return seconds;
}

function credentialsXml(c: SessionCredentials) {
  return {
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: new Date(c.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}
