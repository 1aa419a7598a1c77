import { asText, isObject, setOwn, TemplateError } from './template-values.js';
import type { Json, JsonObject } from '../domain/stack.js';

/** What `Ref` of `AWS::NoValue` resolves to: the property (or list element) holding it disappears. */
export const NO_VALUE = Symbol('AWS::NoValue');
type Resolved = Json | typeof NO_VALUE;

/** What the intrinsic functions may read. */
export interface ResolveContext {
  /** Template parameters (a CommaDelimitedList is a list) and pseudo parameters (`AWS::Region`, ...). */
  parameters: Record<string, Json>;
  conditions: Record<string, boolean>;
  mappings: JsonObject;
  /** `Ref` of a resource, or undefined when the template has no such resource. */
  ref(logicalId: string): string | undefined;
  /** `Fn::GetAtt`, or undefined when the resource has no such attribute. */
  getAtt(logicalId: string, attribute: string): string | undefined;
  /** `Fn::ImportValue`: other stacks' exports by name. */
  imports?: Record<string, string>;
  /**
   * What is left of MAX_RESOLVED for the operation this context serves (made on first use): every value
   * an intrinsic function yields is charged its size (resolvedSize) before it is built.
   */
  budget?: { left: number };
}

/**
 * How much the intrinsic functions of one stack operation may yield, in resolvedSize's units (about
 * characters): four times CloudFormation's largest template (1 MB). Without it a few hundred bytes of
 * nested `Fn::Sub` make gigabytes; with it a template resolves to at most tens of megabytes of JSON.
 */
export const MAX_RESOLVED = 4 * 1024 * 1024;

const SUB_VARIABLE = /\$\{([^}]*)\}/g;

/** Resolves every intrinsic function in `value`; `where` names the resource and property for errors. */
export function resolve(value: Json, ctx: ResolveContext, where: string): Json {
  const out = walk(value, ctx, where);
  return out === NO_VALUE ? null : out;
}

/** A value's size for the budget: a string's length, one for anything else, plus a list's or map's members (and keys). */
function resolvedSize(value: Json, limit: number): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return 1;
  let size = 1;
  if (Array.isArray(value)) {
    for (const v of value) if ((size += resolvedSize(v, limit - size)) > limit) return size;
  } else {
    for (const [k, v] of Object.entries(value)) if ((size += k.length + resolvedSize(v, limit - size)) > limit) return size;
  }
  return size;
}

/** What is left of the operation's budget (made full on first use). */
function budgetOf(ctx: ResolveContext): { left: number } {
  return (ctx.budget ??= { left: MAX_RESOLVED });
}

/** Takes `size` from the operation's budget, or refuses (a ValidationError) before the value is made. */
function charge(ctx: ResolveContext, size: number, fn: string, where: string): void {
  const budget = budgetOf(ctx);
  if (size > budget.left) {
    fail(
      where,
      `${fn} yields more than Versa resolves for one stack operation (${MAX_RESOLVED} characters in all, ${budget.left} of them left).`,
    );
  }
  budget.left -= size;
}

/** Charges a value an intrinsic function hands on (a parameter, a mapping, a branch): copies of it add up. */
function handOn<T extends Resolved>(value: T, ctx: ResolveContext, fn: string, where: string): T {
  if (value !== NO_VALUE) charge(ctx, resolvedSize(value, budgetOf(ctx).left + 1), fn, where);
  return value;
}

function walk(value: Json, ctx: ResolveContext, where: string): Resolved {
  if (Array.isArray(value)) {
    return value.map((v, i) => walk(v, ctx, `${where}[${i}]`)).filter((v): v is Json => v !== NO_VALUE);
  }
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return call(keys[0]!, value[keys[0]!]!, ctx, where);
  const out: JsonObject = {};
  for (const key of keys) {
    const v = walk(value[key]!, ctx, `${where}.${key}`);
    if (v !== NO_VALUE) setOwn(out, key, v);
  }
  return out;
}

function fail(where: string, message: string): never {
  throw new TemplateError([`${where}: ${message}`]);
}

function call(fn: string, arg: Json, ctx: ResolveContext, where: string): Resolved {
  switch (fn) {
    case 'Ref': {
      if (typeof arg !== 'string') fail(where, 'Ref takes the name of a parameter or resource.');
      if (arg === 'AWS::NoValue') return NO_VALUE;
      if (Object.hasOwn(ctx.parameters, arg)) return handOn(ctx.parameters[arg]!, ctx, 'Ref', where);
      const ref = ctx.ref(arg);
      if (ref === undefined) fail(where, `Ref names ${arg}, which is not a parameter or resource of the template.`);
      return handOn(ref, ctx, 'Ref', where);
    }
    case 'Fn::GetAtt': {
      const [id, attribute] = getAttArgs(walk(arg, ctx, where), where);
      const value = ctx.getAtt(id, attribute);
      if (value === undefined) {
        if (ctx.ref(id) === undefined) fail(where, `Fn::GetAtt names ${id}, which is not a resource of the template.`);
        fail(where, `Fn::GetAtt: ${id} has no attribute ${attribute}.`);
      }
      return handOn(value, ctx, 'Fn::GetAtt', where);
    }
    case 'Fn::Sub': {
      const [text, vars] = Array.isArray(arg) ? [arg[0], arg[1] ?? {}] : [arg, {}];
      if (typeof text !== 'string' || !isObject(vars)) fail(where, 'Fn::Sub takes a string, or a string and a map of variables.');
      const local: JsonObject = {};
      for (const [k, v] of Object.entries(vars)) setOwn(local, k, resolveOrNull(v, ctx, `${where}.${k}`));
      // Each variable's text, then the result's length, before the result is made.
      const parts: string[] = [];
      let size = text.length;
      for (const m of text.matchAll(SUB_VARIABLE)) {
        const name = m[1]!;
        const value = name.startsWith('!')
          ? `\${${name.slice(1)}}`
          : Object.hasOwn(local, name)
            ? local[name]
            : subVariable(name, ctx, where);
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
          fail(where, `Fn::Sub: \${${name}} is not a string.`);
        const part = String(value);
        parts.push(part);
        size += part.length - m[0].length;
      }
      charge(ctx, size, 'Fn::Sub', where);
      let i = 0;
      return text.replace(SUB_VARIABLE, () => parts[i++]!);
    }
    case 'Fn::Join': {
      const args = walk(arg, ctx, where);
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string' || !Array.isArray(args[1])) {
        fail(where, 'Fn::Join takes a delimiter and a list of values.');
      }
      const items = args[1].map((v) =>
        typeof v === 'string' || typeof v === 'number' ? String(v) : fail(where, 'Fn::Join joins strings.'),
      );
      charge(ctx, items.reduce((sum, s) => sum + s.length, 0) + args[0].length * Math.max(0, items.length - 1), 'Fn::Join', where);
      return items.join(args[0]);
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string')
        fail(where, 'Fn::If takes a condition name and two values.');
      const condition = Object.hasOwn(ctx.conditions, arg[0]) ? ctx.conditions[arg[0]] : undefined;
      if (condition === undefined) fail(where, `Fn::If names the condition ${arg[0]}, which the template does not define.`);
      return walk(condition ? arg[1]! : arg[2]!, ctx, where);
    }
    case 'Fn::Select': {
      const args = walk(arg, ctx, where);
      if (!Array.isArray(args) || args.length !== 2 || !Array.isArray(args[1])) fail(where, 'Fn::Select takes an index and a list.');
      // A whole number, or one written in decimal digits: Number() would also read "0x0", "1e0" and "".
      const raw = args[0];
      const index = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(index) || index < 0 || index >= args[1].length) {
        fail(where, `Fn::Select: index ${JSON.stringify(args[0])} is outside the list of ${args[1].length}.`);
      }
      return handOn(args[1][index]!, ctx, 'Fn::Select', where);
    }
    case 'Fn::Split': {
      const args = walk(arg, ctx, where);
      if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string' || typeof args[1] !== 'string') {
        fail(where, 'Fn::Split takes a delimiter and a string.');
      }
      // A list of its pieces: one more than the delimiter occurs (each UTF-16 unit when it is empty).
      const [delimiter, text] = args as [string, string];
      let pieces = 1;
      if (delimiter === '') pieces = text.length;
      else for (let at = text.indexOf(delimiter); at !== -1; at = text.indexOf(delimiter, at + delimiter.length)) pieces++;
      charge(ctx, 1 + pieces + text.length, 'Fn::Split', where);
      return text.split(delimiter);
    }
    case 'Fn::FindInMap': {
      const args = walk(arg, ctx, where);
      if (!Array.isArray(args) || args.length !== 3) fail(where, 'Fn::FindInMap takes a map name, a top-level key and a second-level key.');
      const [map, top, second] = args.map(String) as [string, string, string];
      // Own keys only: `__proto__` or `constructor` must not reach what every object inherits.
      const table = Object.hasOwn(ctx.mappings, map) ? ctx.mappings[map] : undefined;
      const found = isObject(table) && Object.hasOwn(table, top) ? table[top] : undefined;
      const value = isObject(found) && Object.hasOwn(found, second) ? found[second] : undefined;
      if (value === undefined) fail(where, `Fn::FindInMap: Mappings has no ${map}.${top}.${second}.`);
      return handOn(value, ctx, 'Fn::FindInMap', where);
    }
    case 'Fn::Base64': {
      const text = walk(arg, ctx, where);
      if (typeof text !== 'string') fail(where, 'Fn::Base64 takes a string.');
      charge(ctx, Math.ceil(Buffer.byteLength(text) / 3) * 4, 'Fn::Base64', where);
      return Buffer.from(text).toString('base64');
    }
    case 'Fn::ImportValue': {
      const name = walk(arg, ctx, where);
      if (typeof name !== 'string') fail(where, 'Fn::ImportValue takes the name of an export.');
      const value = ctx.imports && Object.hasOwn(ctx.imports, name) ? ctx.imports[name] : undefined;
      if (value === undefined) fail(where, `No export named ${name} found.`);
      return handOn(value, ctx, 'Fn::ImportValue', where);
    }
    case 'Fn::GetAZs':
      return ['a', 'b', 'c'].map((z) => `${asText(ctx.parameters['AWS::Region'])}${z}`);
    case 'Fn::Equals':
    case 'Fn::And':
    case 'Fn::Or':
    case 'Fn::Not':
      return evaluateCondition({ [fn]: arg }, ctx, where);
    default:
      return fail(where, `${fn} is not supported by Versa.`);
  }
}

function resolveOrNull(value: Json, ctx: ResolveContext, where: string): Json {
  const out = walk(value, ctx, where);
  return out === NO_VALUE ? null : out;
}

function getAttArgs(arg: Resolved, where: string): [string, string] {
  if (typeof arg === 'string') {
    const dot = arg.indexOf('.');
    if (dot > 0) return [arg.slice(0, dot), arg.slice(dot + 1)];
  }
  if (Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string' && typeof arg[1] === 'string') return [arg[0], arg[1]];
  return fail(where, 'Fn::GetAtt takes a resource name and an attribute name.');
}

function subVariable(name: string, ctx: ResolveContext, where: string): Json {
  if (Object.hasOwn(ctx.parameters, name)) return ctx.parameters[name]!;
  const dot = name.indexOf('.');
  if (dot > 0) {
    const value = ctx.getAtt(name.slice(0, dot), name.slice(dot + 1));
    if (value === undefined) fail(where, `Fn::Sub: \${${name}} names no resource attribute of the template.`);
    return value;
  }
  const ref = ctx.ref(name);
  if (ref === undefined) fail(where, `Fn::Sub: \${${name}} is not a parameter or resource of the template.`);
  return ref;
}

/** Evaluates a condition expression (`Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`). */
export function evaluateCondition(expr: Json, ctx: ResolveContext, where: string): boolean {
  if (typeof expr === 'boolean') return expr;
  if (typeof expr === 'string' && (expr === 'true' || expr === 'false')) return expr === 'true';
  if (!isObject(expr) || Object.keys(expr).length !== 1)
    fail(where, 'a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition.');
  const [fn, arg] = Object.entries(expr)[0]!;
  const list = (n?: number) => {
    if (!Array.isArray(arg) || (n !== undefined && arg.length !== n)) fail(where, `${fn} takes a list${n ? ` of ${n}` : ''}.`);
    return arg;
  };
  switch (fn) {
    case 'Condition': {
      if (typeof arg !== 'string' || !Object.hasOwn(ctx.conditions, arg))
        fail(where, `Condition names ${JSON.stringify(arg)}, which is not defined.`);
      return ctx.conditions[arg]!;
    }
    case 'Fn::Equals': {
      const [a, b] = list(2).map((v) => resolveOrNull(v, ctx, where));
      return JSON.stringify(a) === JSON.stringify(b) || asText(a) === asText(b);
    }
    case 'Fn::And':
      return list().every((c) => evaluateCondition(c, ctx, where));
    case 'Fn::Or':
      return list().some((c) => evaluateCondition(c, ctx, where));
    case 'Fn::Not':
      return !evaluateCondition(list(1)[0]!, ctx, where);
    // The rule functions of a template's Rules section.
    case 'Fn::Contains': {
      const [within, value] = list(2).map((v) => resolveOrNull(v, ctx, where));
      if (!Array.isArray(within)) fail(where, 'Fn::Contains takes a list and a value.');
      return within.some((x) => asText(x) === asText(value));
    }
    case 'Fn::EachMemberEquals': {
      const [members, value] = list(2).map((v) => resolveOrNull(v, ctx, where));
      if (!Array.isArray(members)) fail(where, 'Fn::EachMemberEquals takes a list and a value.');
      return members.every((x) => asText(x) === asText(value));
    }
    case 'Fn::EachMemberIn': {
      const [members, allowed] = list(2).map((v) => resolveOrNull(v, ctx, where));
      if (!Array.isArray(members) || !Array.isArray(allowed)) fail(where, 'Fn::EachMemberIn takes two lists.');
      // A set, not a scan of `allowed` per member: two lists of 50,000 held the event loop for 30 s.
      const permitted = new Set(allowed.map(asText));
      return members.every((x) => permitted.has(asText(x)));
    }
    default:
      return fail(where, `${fn} cannot be used in a condition.`);
  }
}

/** `value` with each `Fn::If` replaced by the branch its condition takes, so that what the untaken branch refers to is not needed. */
export function pruneConditions(value: Json, conditions: Record<string, boolean>): Json {
  if (Array.isArray(value)) return value.map((v) => pruneConditions(v, conditions));
  if (!isObject(value)) return value;
  const choice = value['Fn::If'];
  if (
    Object.keys(value).length === 1 &&
    Array.isArray(choice) &&
    choice.length === 3 &&
    typeof choice[0] === 'string' &&
    choice[0] in conditions
  ) {
    return pruneConditions(Object.hasOwn(conditions, choice[0]) && conditions[choice[0]] ? choice[1]! : choice[2]!, conditions);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pruneConditions(v, conditions)]));
}

/**
 * The names `value` refers to through Ref, Fn::GetAtt and Fn::Sub (parameters included), for ordering
 * resources and checking references before anything is created.
 */
export function references(value: Json, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) references(v, into);
  } else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') into.add(v);
      else if (key === 'Fn::GetAtt') {
        if (Array.isArray(v) && typeof v[0] === 'string') into.add(v[0]);
        else if (typeof v === 'string') into.add(v.split('.')[0]!);
        else references(v, into);
      } else if (key === 'Fn::Sub') {
        const [text, vars] = Array.isArray(v) ? [v[0], v[1]] : [v, undefined];
        // A set: a list scanned for every ${…} made the walk quadratic (40,000 variables: seconds on the event loop).
        const local = new Set(isObject(vars ?? null) ? Object.keys(vars as JsonObject) : []);
        if (typeof text === 'string') {
          for (const m of text.matchAll(SUB_VARIABLE)) {
            const name = m[1]!;
            if (name.startsWith('!') || local.has(name)) continue;
            into.add(name.includes('.') && !name.startsWith('AWS::') ? name.slice(0, name.indexOf('.')) : name);
          }
        }
        if (vars !== undefined) references(vars, into);
      } else references(v, into);
    }
  }
  return into;
}
