import { PlatformError } from '../core/errors.js';
import { Violations } from './validation.js';

/** Every ARN Versa hands out uses this account id. */
export const ACCOUNT_ID = '000000000000';

export interface FunctionRef {
  name: string;
  /** The qualifier named in the identifier itself (`name:qual` or an ARN's last part), if any. */
  qualifier?: string;
  /** The region a full ARN names. */
  region?: string;
  /** The account a full or partial ARN names. */
  account?: string;
}

// A name may hold dots here, as AWS's pattern for naming an existing function allows: no function has
// one, so such a name is simply not found. A full ARN's `function:` is optional, as in that pattern: AWS
// reads `arn:aws:lambda:us-east-1:123456789012:function` as the function named `function`.
const FULL_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:((?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(\d{12}):(?:function:)?([a-zA-Z0-9-_.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([a-zA-Z0-9-_.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$/;
const NAME = /^([a-zA-Z0-9-_.]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$/;
/** The `FunctionName` pattern AWS quotes when it refuses a name that cannot name a function. */
const FUNCTION_NAME_SHOWN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?';
const QUALIFIER = /^(\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)$/;
const QUALIFIER_SHOWN = '\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+';

/**
 * Parses the `FunctionName` member Lambda accepts everywhere: a name, `account:function:name`, or a full
 * ARN, each optionally followed by `:qualifier`. With `qualifierParam` (the `Qualifier` parameter), that
 * is checked too, and reported first, as AWS lists the violations. A name longer than a function's 64
 * characters still parses: AWS answers that no such function exists.
 */
export function parseFunctionRef(identifier: string, qualifierParam?: string): FunctionRef {
  const v = new Violations();
  if (qualifierParam) {
    v.length(qualifierParam, 'qualifier', 1, 128).pattern(qualifierParam, 'qualifier', QUALIFIER, QUALIFIER_SHOWN);
  }
  const m = FULL_ARN.exec(identifier) ?? PARTIAL_ARN.exec(identifier);
  let name: string | undefined;
  let qualifier: string | undefined;
  let region: string | undefined;
  let account: string | undefined;
  if (m) {
    const full = m.length === 5;
    name = full ? m[3] : m[2];
    qualifier = full ? m[4] : m[3];
    region = full ? m[1] : undefined;
    account = full ? m[2] : m[1];
  } else {
    const n = NAME.exec(identifier);
    if (n) {
      name = n[1];
      qualifier = n[2];
    }
  }
  if (!name || identifier.length > 170) {
    v.add(identifier, 'functionName', `Member must satisfy regular expression pattern: ${FUNCTION_NAME_SHOWN}`);
  }
  v.throwIfAny();
  return {
    name: name!,
    ...(qualifier !== undefined && { qualifier }),
    ...(region !== undefined && { region }),
    ...(account !== undefined && { account }),
  };
}

/**
 * AWS's answers to a function ARN of another account (this one is the only one Versa has: AWS's body carries
 * no message, Versa's says why) or of another region than the request's.
 */
export function checkReachable(ref: FunctionRef, region: string): void {
  if (ref.account !== undefined && ref.account !== ACCOUNT_ID) {
    throw new PlatformError(
      'AccessDeniedException',
      `The function ARN names account ${ref.account}; this server has one account, ${ACCOUNT_ID}, and serves only its functions.`,
    );
  }
  if (ref.region !== undefined && ref.region !== region) {
    throw new PlatformError('ResourceNotFoundException', `Functions from '${ref.region}' are not reachable in this region ('${region}')`);
  }
}

/**
 * Combines the qualifier found in the identifier with the one passed as a parameter; AWS refuses a
 * request where both are given and differ.
 */
export function resolveQualifier(ref: FunctionRef, param: string | undefined): string | undefined {
  if (param !== undefined && param !== '' && ref.qualifier !== undefined && ref.qualifier !== param) {
    throw new PlatformError(
      'InvalidParameterValueException',
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  return ref.qualifier ?? (param === '' ? undefined : param);
}

export function functionArn(region: string, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}
