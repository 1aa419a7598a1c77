import { PlatformError, type ErrorCode } from '../core/errors.js';
import { ACCOUNT_ID } from './arn.js';

/**
 * Resource tags, one design for every service: which resources carry them, the ARNs that name those
 * resources, and AWS's limits on keys, values and counts. Each service renders its own wire shape (a
 * map, or a list of Key/Value pairs) and its own error codes; the rules here are shared.
 */
export type Tags = Record<string, string>;

/** A resource that can carry tags. Nested resources name their parent, so deleting the parent drops theirs. */
export type TaggedResource =
  | { kind: 'function'; name: string }
  | { kind: 'log-group'; name: string }
  | { kind: 'alarm'; name: string }
  | { kind: 'application'; name: string }
  | { kind: 'deployment-group'; application: string; name: string };

/** Most tags a resource may carry, on every service Versa speaks. */
export const MAX_TAGS = 50;
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;

/** The error a service answers for a rule broken, by rule. */
export interface TagErrors {
  /** A key or value outside its length, or a reserved `aws:` key. */
  invalid: ErrorCode;
  /** More than {@link MAX_TAGS} on one resource. */
  tooMany: ErrorCode;
  /** The service's own words for too many, where AWS's are known. */
  tooManyMessage?: string;
}

/**
 * Checks tags as AWS does before storing them: keys of 1 to 128 characters not starting with `aws:`,
 * values of at most 256, and at most 50 on the resource once merged with what it already has.
 */
export function checkTags(tags: Tags, existing: Tags, errors: TagErrors): void {
  for (const [key, value] of Object.entries(tags)) {
    if (key.length < 1 || key.length > MAX_TAG_KEY) {
      throw new PlatformError(errors.invalid, `Tag key '${key}' must be 1 to ${MAX_TAG_KEY} characters long.`);
    }
    if (value.length > MAX_TAG_VALUE) {
      throw new PlatformError(errors.invalid, `The value of tag '${key}' must be at most ${MAX_TAG_VALUE} characters long.`);
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw new PlatformError(errors.invalid, `Tag key '${key}' uses the prefix aws:, which is reserved for AWS use.`);
    }
  }
  const count = new Set([...Object.keys(existing), ...Object.keys(tags)]).size;
  if (count > MAX_TAGS) {
    throw new PlatformError(
      errors.tooMany,
      errors.tooManyMessage ?? `A resource can have at most ${MAX_TAGS} tags; this request would give it ${count}.`,
    );
  }
}

/** The tags after adding `add` (overwriting keys it repeats) and removing `remove`. */
export function mergeTags(existing: Tags, add: Tags, remove: readonly string[] = []): Tags {
  // Built with fromEntries, so no key (not even `__proto__`) is ever assigned through a prototype.
  const next = new Map([...Object.entries(existing), ...Object.entries(add)]);
  for (const key of remove) next.delete(key);
  return Object.fromEntries(next);
}

/**
 * The resource a tagging ARN names, or undefined when it names none Versa tags. The account field may
 * be empty (the Terraform provider sends `arn:aws:codedeploy:us-east-1::application:x`) or ours.
 */
export function taggedResourceOf(arn: string): TaggedResource | undefined {
  const m = /^arn:aws[a-z-]*:([a-z0-9-]+):[a-z0-9-]*:(\d{12})?:(.+)$/.exec(arn);
  if (!m || (m[2] !== undefined && m[2] !== ACCOUNT_ID)) return undefined;
  const [, service, , rest = ''] = m;
  const after = (prefix: string) => (rest.startsWith(prefix) && rest.length > prefix.length ? rest.slice(prefix.length) : undefined);
  switch (service) {
    case 'lambda': {
      const name = after('function:');
      return name !== undefined && /^[a-zA-Z0-9-_]+$/.test(name) ? { kind: 'function', name } : undefined;
    }
    case 'logs': {
      const name = after('log-group:')?.replace(/:\*$/, '');
      return name !== undefined && !name.includes(':') ? { kind: 'log-group', name } : undefined;
    }
    case 'cloudwatch': {
      const name = after('alarm:');
      return name !== undefined ? { kind: 'alarm', name } : undefined;
    }
    case 'codedeploy': {
      const app = after('application:');
      if (app !== undefined) return { kind: 'application', name: app };
      const group = after('deploymentgroup:');
      const slash = group?.indexOf('/') ?? -1;
      if (group === undefined || slash <= 0 || slash === group.length - 1) return undefined;
      return { kind: 'deployment-group', application: group.slice(0, slash), name: group.slice(slash + 1) };
    }
    default:
      return undefined;
  }
}
