import { PlatformError } from '../core/errors.js';

/** Every ARN Versa hands out uses this account id. */
export const ACCOUNT_ID = '000000000000';

export interface FunctionRef {
  name: string;
  /** The qualifier named in the identifier itself (`name:qual` or an ARN's last part), if any. */
  qualifier?: string;
}

const FULL_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;
const NAME = /^([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

/**
 * Parses the `FunctionName` member Lambda accepts everywhere: a name, `account:function:name`, or a full
 * ARN, each optionally followed by `:qualifier`.
 */
export function parseFunctionRef(identifier: string): FunctionRef {
  const m = FULL_ARN.exec(identifier) ?? PARTIAL_ARN.exec(identifier);
  let name: string | undefined;
  let qualifier: string | undefined;
  if (m) {
    const full = m.length === 5;
    name = full ? m[3] : m[2];
    qualifier = full ? m[4] : m[3];
  } else {
    const n = NAME.exec(identifier);
    if (n) {
      name = n[1];
      qualifier = n[2];
    }
  }
  if (!name || name.length > 64 || identifier.length > 170) {
    throw new PlatformError(
      'ValidationException',
      `1 validation error detected: Value '${identifier}' at 'functionName' failed to satisfy constraint: ` +
        'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
    );
  }
  return qualifier === undefined ? { name } : { name, qualifier };
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
