/**
 * What a template takes in before any resource is planned: its parameters (checked as CloudFormation
 * checks them), its Rules' assertions and its Conditions. Pure: Parameter Store values are read by the
 * caller and passed in as overrides.
 */
import { PlatformError } from '../core/errors.js';
import { PatternProblem, wholeMatch } from '../core/linear-regexp.js';
import type { Json, JsonObject } from '../domain/stack.js';
import { evaluateCondition, type ResolveContext } from './intrinsics.js';
import { asText, isObject, setOwn, TemplateError } from './template-values.js';

const PARAMETER_TYPES = new Set(['String', 'Number', 'CommaDelimitedList', 'List<Number>']);
/** Parameters whose value is read from SSM Parameter Store (`…Value<String>`, `…Value<List<String>>`). */
export const SSM_PARAMETER_TYPE = /^AWS::SSM::Parameter::Value<(String|List<String>|CommaDelimitedList)>$/;

/** CloudFormation's limit on one parameter's value. */
export const MAX_PARAMETER_VALUE_BYTES = 4096;

/** The template's Rules: each assertion of a rule whose condition holds must hold, or the deploy is refused with its description. */
export function checkRules(rules: JsonObject, parameters: Record<string, Json>, mappings: JsonObject): void {
  const ctx: ResolveContext = { parameters, mappings, conditions: {}, ref: () => undefined, getAtt: () => undefined };
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    if (!isObject(rule)) {
      problems.push(`Rule ${name} must be a mapping.`);
      continue;
    }
    if (rule.RuleCondition !== undefined && !evaluateCondition(rule.RuleCondition, ctx, `Rule ${name}`)) continue;
    for (const assertion of Array.isArray(rule.Assertions) ? rule.Assertions : []) {
      if (!isObject(assertion)) continue;
      if (!evaluateCondition(assertion.Assert ?? null, ctx, `Rule ${name}`)) {
        problems.push(typeof assertion.AssertDescription === 'string' ? assertion.AssertDescription : `Rule ${name} is not satisfied.`);
      }
    }
  }
  if (problems.length > 0) throw new TemplateError(problems);
}

/** The template's parameters with their values: overrides, else defaults; checked as CloudFormation does. */
export function parameterValues(template: JsonObject, overrides: Record<string, string>): Record<string, Json> {
  const declared = isObject(template.Parameters ?? null) ? (template.Parameters as JsonObject) : {};
  const problems: string[] = [];
  for (const key of Object.keys(overrides)) {
    if (!Object.hasOwn(declared, key)) problems.push(`Parameters: [${key}] do not exist in the template`);
  }
  const missing: string[] = [];
  const values: Record<string, Json> = {};
  for (const [key, spec] of Object.entries(declared)) {
    if (!isObject(spec)) {
      problems.push(`Parameter ${key} must be a mapping.`);
      continue;
    }
    const declaredType = typeof spec.Type === 'string' ? spec.Type : 'String';
    const type = SSM_PARAMETER_TYPE.exec(declaredType)?.[1]?.replace('List<String>', 'CommaDelimitedList') ?? declaredType;
    if (!PARAMETER_TYPES.has(type)) problems.push(`Parameter ${key}: type ${type} is not supported by Versa.`);
    const raw =
      (Object.hasOwn(overrides, key) ? overrides[key] : undefined) ?? (spec.Default === undefined ? undefined : asText(spec.Default));
    if (raw === undefined) {
      missing.push(key);
      continue;
    }
    if (Buffer.byteLength(raw) > MAX_PARAMETER_VALUE_BYTES) {
      problems.push(`Parameter '${key}' value must be at most ${MAX_PARAMETER_VALUE_BYTES} bytes long`);
      continue;
    }
    const allowed = Array.isArray(spec.AllowedValues) ? spec.AllowedValues.map(String) : undefined;
    if (allowed && !allowed.includes(raw)) problems.push(`Parameter '${key}' must be one of AllowedValues`);
    if (typeof spec.AllowedPattern === 'string') {
      try {
        if (!wholeMatch(spec.AllowedPattern).test(raw)) problems.push(`Parameter '${key}' must match pattern ${spec.AllowedPattern}`);
      } catch (err) {
        if (!(err instanceof PatternProblem)) throw err;
        problems.push(`Parameter '${key}': AllowedPattern ${spec.AllowedPattern} ${err.message}`);
      }
    }
    if (
      (type === 'Number' && (raw.trim() === '' || Number.isNaN(Number(raw)))) ||
      (type === 'List<Number>' && raw.split(',').some((n) => Number.isNaN(Number(n))))
    ) {
      problems.push(`Parameter '${key}' must be a number`);
    }
    // Set as JSON.parse sets keys: a parameter named __proto__ must not replace the prototype.
    setOwn(values, key, type === 'CommaDelimitedList' || type === 'List<Number>' ? raw.split(',').map((s) => s.trim()) : raw);
  }
  if (missing.length > 0) problems.push(`Parameters: [${missing.join(', ')}] must have values`);
  if (problems.length > 0) throw new PlatformError('ValidationError', problems.join('; '));
  return values;
}

/**
 * How deep conditions may name conditions that name conditions. Each link costs several stack frames (a
 * named condition is evaluated where it is named), so a chain of a thousand overflowed the stack: a 500
 * where the template is at fault. Real templates chain a few.
 */
export const MAX_CONDITION_CHAIN = 100;

export function evaluateConditions(
  conditions: JsonObject,
  parameters: Record<string, Json>,
  mappings: JsonObject,
): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const visiting = new Set<string>();
  let depth = 0;
  const ctx: ResolveContext = {
    parameters,
    mappings,
    // Conditions are evaluated as they are named, so one may name a condition declared after it.
    conditions: new Proxy(out, {
      get: (_t, name: string) => evaluate(name),
      has: (_t, name: string) => Object.hasOwn(conditions, name),
      getOwnPropertyDescriptor: (_t, name: string) =>
        Object.hasOwn(conditions, name) ? { value: evaluate(name), writable: true, enumerable: true, configurable: true } : undefined,
    }),
    ref: () => undefined,
    getAtt: () => undefined,
  };
  const evaluate = (name: string): boolean | undefined => {
    if (Object.hasOwn(out, name)) return out[name];
    if (!Object.hasOwn(conditions, name)) return undefined;
    if (visiting.has(name)) throw new TemplateError([`Condition ${name} refers to itself.`]);
    visiting.add(name);
    if (++depth > MAX_CONDITION_CHAIN) {
      throw new TemplateError([`Condition ${name}: conditions name conditions more than ${MAX_CONDITION_CHAIN} deep; Versa refuses it.`]);
    }
    try {
      Object.defineProperty(out, name, {
        value: evaluateCondition(conditions[name]!, ctx, `Condition ${name}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } finally {
      depth--;
    }
    return out[name];
  };
  for (const name of Object.keys(conditions)) evaluate(name);
  return out;
}
