import { PlatformError } from '../core/errors.js';
import type { Random } from '../core/random.js';
import { LATEST, type AliasRecord } from './lambda-function.js';
import { Violations } from './validation.js';

const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/;
const VERSION = /^(\$LATEST|[0-9]+)$/;
const WEIGHT_KEY = /^[0-9]+$/;

/** Checks an alias name against Lambda's pattern (letters, digits, `-`, `_`, not all digits). */
export function validateAliasName(name: unknown): asserts name is string {
  const v = new Violations();
  if (name === undefined || name === null) {
    v.missing('name');
  } else if (typeof name !== 'string') {
    v.add(name, 'name', 'Member must not be null');
  } else {
    v.length(name, 'name', 1, 128).pattern(name, 'name', ALIAS_NAME, '(?!^[0-9]+$)([a-zA-Z0-9-_]+)');
  }
  v.throwIfAny();
}

/**
 * Validates an alias's target and routing weights, in the order AWS checks them, before anything looks
 * the versions up.
 */
export function validateAliasRouting(
  functionVersion: string,
  weights: Record<string, unknown> | undefined,
): Record<string, number> | undefined {
  const v = new Violations();
  v.length(functionVersion, 'functionVersion', 1, 1024).pattern(functionVersion, 'functionVersion', VERSION, '(\\$LATEST|[0-9]+)');
  const entries = Object.entries(weights ?? {});
  const shown = javaMap(entries);
  for (const [key, weight] of entries) {
    if (!WEIGHT_KEY.test(key) || key.length > 1024) {
      v.add(
        shown,
        'routingConfig.additionalVersionWeights',
        'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]',
      );
    } else if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
      v.add(
        shown,
        'routingConfig.additionalVersionWeights',
        'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]',
      );
    }
  }
  v.throwIfAny();
  if (entries.length === 0) return undefined;
  if (entries.length > 1) {
    throw new PlatformError('InvalidParameterValueException', 'Number of items in AdditionalVersionWeights cannot be greater than 1');
  }
  const [key] = entries[0]!;
  if (functionVersion === LATEST) {
    throw new PlatformError('InvalidParameterValueException', '$LATEST is not supported for an alias pointing to more than 1 version', {
      untyped: true,
    });
  }
  if (key === functionVersion) {
    throw new PlatformError(
      'InvalidParameterValueException',
      `Invalid function version ${key}. Function version ${key} is already included in routing configuration.`,
    );
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

/** A map as AWS's messages print it (Java's form): `{2=2.0}`, whole numbers with their `.0`. */
function javaMap(entries: [string, unknown][]): string {
  const value = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? `${v}.0` : String(v));
  return `{${entries.map(([k, v]) => `${k}=${value(v)}`).join(', ')}}`;
}

/** Picks the version that serves one invocation of an alias: the extra version with its weight's chance. */
export function pickAliasVersion(alias: Pick<AliasRecord, 'functionVersion' | 'additionalVersionWeights'>, random: Random): string {
  const weights = alias.additionalVersionWeights;
  if (weights) {
    for (const [version, weight] of Object.entries(weights)) {
      if (random.next() < weight) return version;
    }
  }
  return alias.functionVersion;
}
