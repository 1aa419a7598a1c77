import type { PlatformError } from '../../../core/errors.js';

/**
 * Typed reads of request members, shared by every protocol. Each service builds one reader with the
 * error its protocol answers for a member of the wrong type, so a wrong type is refused with a message
 * that names the member, before any work is done.
 */
type Body = Record<string, unknown>;

/**
 * The error for a member that is not what the shape says: `member` is its name, `expected` e.g. `a string`,
 * `value` what was sent in its place (for a list or a map, the first item that is wrong, when it is an item).
 */
export type WrongType = (member: string, expected: string, value: unknown) => PlatformError;

/**
 * Names that would reach an object's prototype if request data were used as a key. They are refused
 * wherever request data names a member or a map key, so no service ever sees them.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

/**
 * Walks a parsed JSON value and returns the dotted path of the first object key that is a prototype
 * key, or undefined. JSON.parse makes `__proto__` an own property, which is harmless only until
 * something merges it into another object; refusing it here keeps every service from having to care.
 */
export function findPrototypeKey(value: unknown): string | undefined {
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: `${path}[${i}]` }));
      continue;
    }
    for (const key of Object.keys(v)) {
      const at = path ? `${path}.${key}` : key;
      if (isPrototypeKey(key)) return at;
      stack.push({ value: (v as Body)[key], path: at });
    }
  }
  return undefined;
}

export interface MemberReader {
  string: (body: Body, member: string) => string | undefined;
  /** A finite number. */
  number: (body: Body, member: string) => number | undefined;
  /** A whole number within the safe integer range. */
  integer: (body: Body, member: string) => number | undefined;
  boolean: (body: Body, member: string) => boolean | undefined;
  object: (body: Body, member: string) => Body | undefined;
  list: (body: Body, member: string) => unknown[] | undefined;
  objectList: (body: Body, member: string) => Body[] | undefined;
  stringList: (body: Body, member: string) => string[] | undefined;
  stringMap: (body: Body, member: string) => Record<string, string> | undefined;
  /** A map whose values are true or false (API Gateway's `requestParameters` of a method). */
  booleanMap: (body: Body, member: string) => Record<string, boolean> | undefined;
  /** A map whose values are strings or null (API Gateway's templates). */
  nullableStringMap: (body: Body, member: string) => Record<string, string | null> | undefined;
}

const isObject = (v: unknown): v is Body => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One reader for a protocol: `wrongType` makes the error its services answer for a mistyped member. */
export function memberReader(wrongType: WrongType): MemberReader {
  const present = (body: Body, member: string): unknown => {
    const v = Object.hasOwn(body, member) ? body[member] : undefined;
    return v === null ? undefined : v;
  };
  const mapOf = <T>(body: Body, member: string, ok: (v: unknown) => v is T, expected: string): Record<string, T> | undefined => {
    const v = present(body, member);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw wrongType(member, expected, v);
    const wrong = Object.values(v).find((x) => !ok(x));
    if (wrong !== undefined) throw wrongType(member, expected, wrong);
    return v as Record<string, T>;
  };
  const reader: MemberReader = {
    string: (body, member) => {
      const v = present(body, member);
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw wrongType(member, 'a string', v);
      return v;
    },
    number: (body, member) => {
      const v = present(body, member);
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(member, 'a number', v);
      return v;
    },
    integer: (body, member) => {
      const v = present(body, member);
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw wrongType(member, 'a whole number', v);
      return v;
    },
    boolean: (body, member) => {
      const v = present(body, member);
      if (v === undefined) return undefined;
      if (typeof v !== 'boolean') throw wrongType(member, 'true or false', v);
      return v;
    },
    object: (body, member) => {
      const v = present(body, member);
      if (v === undefined) return undefined;
      if (!isObject(v)) throw wrongType(member, 'an object', v);
      return v;
    },
    list: (body, member) => {
      const v = present(body, member);
      if (v === undefined) return undefined;
      if (!Array.isArray(v)) throw wrongType(member, 'a list', v);
      return v as unknown[];
    },
    objectList: (body, member) => {
      const v = reader.list(body, member);
      if (v === undefined) return undefined;
      if (!v.every(isObject))
        throw wrongType(
          member,
          'a list of objects',
          v.find((x) => !isObject(x)),
        );
      return v;
    },
    stringList: (body, member) => {
      const v = reader.list(body, member);
      if (v === undefined) return undefined;
      if (!v.every((x) => typeof x === 'string'))
        throw wrongType(
          member,
          'a list of strings',
          v.find((x) => typeof x !== 'string'),
        );
      return v;
    },
    stringMap: (body, member) => mapOf(body, member, (x): x is string => typeof x === 'string', 'a map of strings'),
    booleanMap: (body, member) => mapOf(body, member, (x): x is boolean => typeof x === 'boolean', 'a map of true or false'),
    nullableStringMap: (body, member) =>
      mapOf(body, member, (x): x is string | null => x === null || typeof x === 'string', 'a map of strings'),
  };
  return reader;
}
