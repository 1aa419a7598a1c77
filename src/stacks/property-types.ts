import { PlatformError } from '../core/errors.js';
import type { Json, JsonObject } from '../domain/stack.js';
import { isObject } from './template-values.js';

/**
 * The types of CloudFormation's resource specification, as a template's resolved properties are checked
 * against them. CloudFormation converts scalars it can read as the type ("30" for an Integer, "true" for
 * a Boolean) and refuses anything else with "Value of property X must be of type Integer"; a property its
 * type does not have is "Encountered unsupported property X".
 */
export type PropertyType =
  | 'String'
  | 'Integer'
  | 'Double'
  | 'Boolean'
  /** Any JSON (a policy document, tags in either of the shapes SAM and CloudFormation write). */
  | 'Json'
  | { list: PropertyType }
  | { map: PropertyType }
  /** A structure; `name` is what CloudFormation's messages call it ("List of Dimension"). */
  | { object: PropertySchema; name?: string };

export type PropertySchema = Readonly<Record<string, PropertyType>>;

/** An Integer property's value: a whole number, or a string of decimal digits; undefined for anything else. */
export function integerOf(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value)) return Number(value);
  return undefined;
}

/** A Double property's value: a finite number, or a string of one written in decimal; undefined for anything else. */
export function doubleOf(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  // Decimal only: Number() would also read "0x10", "Infinity" and "" (as 0).
  if (typeof value === 'string' && /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(value)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A Boolean property's value: true or false, or the strings "true" and "false" in any case. */
export function booleanOf(value: Json | undefined): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return undefined;
}

/** CloudFormation's name for a type, as its messages write it ("List of String"). */
function typeName(type: PropertyType): string {
  if (typeof type === 'string') return type === 'Json' ? 'Json' : type;
  if ('list' in type) return `List of ${typeName(type.list)}`;
  if ('map' in type) return `Map of ${typeName(type.map)}`;
  return type.name ?? 'Object';
}

/** CloudFormation's refusal of a value of the wrong type. */
export function wrongType(path: string, type: PropertyType): string {
  return `Value of property ${path} must be of type ${typeName(type)}`;
}

/**
 * What is wrong with `props` for `schema`: each property the type does not have, and each value that is
 * not of its property's type, named by its path (`EphemeralStorage.Size`). `pending` is the value a
 * property has while it names a resource not made yet; it is checked when the resource is made.
 */
export function propertyProblems(props: JsonObject, schema: PropertySchema, pending?: string): string[] {
  const problems: string[] = [];
  checkObject(props, schema, '', pending, problems);
  return problems;
}

function checkObject(value: JsonObject, schema: PropertySchema, prefix: string, pending: string | undefined, problems: string[]): void {
  for (const key of Object.keys(value)) {
    const path = `${prefix}${key}`;
    const type = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (type === undefined) problems.push(`Encountered unsupported property ${path}`);
    else checkValue(value[key]!, type, path, pending, problems);
  }
}

function checkValue(value: Json, type: PropertyType, path: string, pending: string | undefined, problems: string[]): void {
  if (value === null || (pending !== undefined && value === pending) || type === 'Json') return;
  const bad = () => problems.push(wrongType(path, type));
  if (type === 'String') {
    if (typeof value === 'object') bad();
  } else if (type === 'Integer') {
    if (integerOf(value) === undefined) bad();
  } else if (type === 'Double') {
    if (doubleOf(value) === undefined) bad();
  } else if (type === 'Boolean') {
    if (booleanOf(value) === undefined) bad();
  } else if ('list' in type) {
    if (!Array.isArray(value)) bad();
    else value.forEach((item, i) => checkValue(item, type.list, `${path}[${i}]`, pending, problems));
  } else if ('map' in type) {
    if (!isObject(value)) bad();
    else for (const [k, v] of Object.entries(value)) checkValue(v, type.map, `${path}.${k}`, pending, problems);
  } else if (!isObject(value)) bad();
  else checkObject(value, type.object, `${path}.`, pending, problems);
}

/** Refuses `props` (a ValidationError naming every problem) unless they are of `schema`'s types. */
export function requireTypes(props: JsonObject, schema: PropertySchema): void {
  const problems = propertyProblems(props, schema);
  if (problems.length > 0) throw new PlatformError('ValidationError', problems.join('; '));
}

/**
 * The value of a property typed Integer, as a number: undefined when it is absent, and refused with
 * CloudFormation's words when it is anything but a whole number (NaN would pass every range check after).
 */
export function integerProperty(value: Json | undefined, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = integerOf(value);
  if (n === undefined) throw new PlatformError('ValidationError', wrongType(path, 'Integer'));
  return n;
}

/** The value of a property typed Boolean (see integerProperty). */
export function booleanProperty(value: Json | undefined, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  const b = booleanOf(value);
  if (b === undefined) throw new PlatformError('ValidationError', wrongType(path, 'Boolean'));
  return b;
}

/** The value of a property typed Double, as a number (see integerProperty). */
export function doubleProperty(value: Json | undefined, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = doubleOf(value);
  if (n === undefined) throw new PlatformError('ValidationError', wrongType(path, 'Double'));
  return n;
}
