import { PlatformError } from '../core/errors.js';
import { own } from '../core/own.js';
import { jsonText, renderVelocity, VtlObject, type Render } from './velocity.js';

/**
 * API Gateway's mapping templates: Velocity (velocity.ts) with the variables API Gateway gives them,
 * `$input`, `$context`, `$stageVariables` and `$util`, as AWS's "mapping template and access logging
 * variable reference" describes them.
 */
export interface TemplateContext {
  /** The body the template maps: the request body, or the integration's answer. */
  body: string;
  params: { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> };
  /** `$context`, flat: a dotted name (`identity.sourceIp`) is a nested one (`$context.identity.sourceIp`). */
  context: Record<string, string | boolean | number>;
  stageVariables: Record<string, string>;
}

/** The most a rendered template may be (API Gateway's payload limit); past it the request fails with a 500. */
const MAX_RENDERED_CHARS = 10_485_760;
/**
 * How deeply a body may nest and still be read as JSON. Deeper, it is read as text, as a body that is
 * not JSON is: JSON.parse of a body a million levels deep holds the event loop for most of a second, and
 * JSON.stringify of what it builds overflows the stack.
 */
const MAX_JSON_DEPTH = 1000;
/**
 * How many values (the whole and every member of every array and object) a body read as JSON may hold; past it
 * the template fails as one that makes too much does. Parsed and written back, a million values took up
 * to half a second (empty or deeply nested arrays are the dearest), and 10 MB of them five seconds, on
 * the event loop every request shares.
 */
export const MAX_JSON_VALUES = 100_000;

/** What an integration response template asked of the answer through `$context.responseOverride`. */
export interface ResponseOverride {
  status: number | undefined;
  headers: Record<string, string>;
}

/**
 * Renders a template against a request or an answer. The body is parsed at most once however many
 * times the template reads it, and what the template makes is bounded: a template that copies a
 * public caller's 10 MB body a hundred times must not build a gigabyte.
 */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  return renderMapping(template, ctx).text;
}

/** renderTemplate, with what the template set in `$context.responseOverride`. */
export function renderMapping(template: string, ctx: TemplateContext): { text: string; responseOverride: ResponseOverride | undefined } {
  let input: Input | undefined;
  let context: Map<string, unknown> | undefined;
  let stageVariables: Map<string, unknown> | undefined;
  const text = renderVelocity(template, {
    global: (name) => {
      switch (name) {
        case 'input':
          return (input ??= new Input(ctx));
        case 'util':
          return UTIL;
        case 'context':
          return (context ??= contextMap(ctx.context));
        case 'stageVariables':
          return (stageVariables ??= new Map(Object.entries(ctx.stageVariables)));
      }
      return undefined;
    },
    quietRoots: QUIET_ROOTS,
    maxChars: MAX_RENDERED_CHARS,
  });
  return { text, responseOverride: context && responseOverrideOf(context) };
}

/**
 * API Gateway's variables: a reference under one of them that finds nothing writes nothing
 * (`"$context.authorizer.principalId"` is `""` without an authorizer), where Velocity would write the
 * reference's own text.
 */
const QUIET_ROOTS: ReadonlySet<string> = new Set(['input', 'context', 'stageVariables', 'util']);

/** A body read as JSON, or null for one that is not JSON (or nests too deep). */
type Parsed = { value: unknown } | null;

/** `$input`: the body, as text, JSON or JSONPath selections, and the request's parameters. */
class Input extends VtlObject {
  // Parsed on first use: null once found not to be JSON.
  private parsed: Parsed | undefined;
  private params: Map<string, unknown> | undefined;
  // The request's headers by lower-cased name, made on the first `$input.params('name')` that reaches them.
  private headers: Map<string, string> | undefined;

  constructor(private readonly ctx: TemplateContext) {
    super();
  }

  private body(r: Render): Parsed {
    return this.parsed === undefined ? (this.parsed = parseBody(this.ctx.body, r)) : this.parsed;
  }

  prop(name: string): unknown {
    if (name === 'body') return this.ctx.body;
    if (name === 'params') return this.allParams();
    return undefined;
  }

  call(name: string, args: unknown[], r: Render): unknown {
    if (name === 'params' && args.length === 0) return this.allParams();
    if (args.length !== 1 || args[0] === undefined || args[0] === null) return undefined;
    const arg = r.text(args[0]);
    switch (name) {
      case 'json': {
        r.work(arg.length);
        const value = select(this.body(r), this.ctx.body, arg) ?? null;
        if (typeof value !== 'string') return jsonText(value, r);
        // A text (a body that is not JSON) is escaped as it is written: a control character becomes six
        // characters. Counted before it is built, as escapeJavaScript's is.
        r.sized(jsonStringLength(value));
        return JSON.stringify(value);
      }
      case 'path':
        r.work(arg.length);
        return select(this.body(r), this.ctx.body, arg);
      case 'params': {
        r.work(arg.length);
        const p = this.ctx.params;
        return own(p.path, arg) ?? own(p.querystring, arg) ?? this.header(arg, r) ?? '';
      }
    }
    return undefined;
  }

  /**
   * A request header by name, without regard to case. The headers are gone through once a render, not
   * once a call: a caller's thousand headers and a per-item `$input.params('x-user')` went through a
   * million names a request.
   */
  private header(name: string, r: Render): string | undefined {
    if (this.headers === undefined) {
      const entries = Object.entries(this.ctx.params.header);
      r.step(entries.length);
      this.headers = new Map();
      // The first of two names that differ only in case is the one found, as a scan in order finds it.
      for (const [k, v] of entries) {
        const lower = k.toLowerCase();
        if (!this.headers.has(lower)) this.headers.set(lower, v);
      }
    }
    return this.headers.get(name.toLowerCase());
  }

  /** `$input.params()`: `path`, `querystring` and `header`, each a map; made once a render, and only when asked for. */
  private allParams(): Map<string, unknown> {
    const p = this.ctx.params;
    return (this.params ??= new Map<string, unknown>([
      ['path', new Map(Object.entries(p.path))],
      ['querystring', new Map(Object.entries(p.querystring))],
      ['header', new HeaderMap(Object.entries(p.header))],
    ]));
  }

  describe(): string {
    return '$input';
  }
}

/** Headers by name without regard to case, as `$input.params('X-Custom')` finds them: `header.get('Content-Type')`. */
class HeaderMap extends Map<string, unknown> {
  override get(name: string): unknown {
    return super.has(name) ? super.get(name) : super.get(name.toLowerCase());
  }
  override has(name: string): boolean {
    return super.has(name) || super.has(name.toLowerCase());
  }
}

/** `$util`. */
class Util extends VtlObject {
  prop(): unknown {
    return undefined;
  }

  call(name: string, args: unknown[], r: Render): unknown {
    if (args.length !== 1 || args[0] === undefined || args[0] === null) return undefined;
    const text = r.text(args[0]);
    switch (name) {
      case 'escapeJavaScript': {
        // Sized before it is built: 10 MB of control characters escape to 60 MB.
        const length = escapedLength(text);
        r.sized(length);
        return escapeJavaScript(text, length);
      }
      case 'parseJson':
        return parseJson(text, r);
      case 'urlEncode': {
        r.work(text.length);
        const encoded = urlEncode(text);
        r.sized(encoded.length);
        return encoded;
      }
      case 'urlDecode':
        r.work(text.length);
        return urlDecode(text);
      case 'base64Encode':
        r.sized(Math.ceil(Buffer.byteLength(text) / 3) * 4);
        return Buffer.from(text).toString('base64');
      case 'base64Decode':
        r.work(text.length);
        return Buffer.from(text, 'base64').toString('utf8');
    }
    return undefined;
  }

  describe(): string {
    return '$util';
  }
}
const UTIL = new Util();
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `$util.urlEncode`, as Java's URLEncoder: a space is `+`, and only `a-z A-Z 0-9 . - * _` stay as they
 * are; a lone surrogate (which encodeURIComponent refuses) is `?`, as Java writes it.
 */
function urlEncode(text: string): string {
  return encodeURIComponent(text.replace(LONE_SURROGATE, '?')).replace(/[!'()~]|%20/g, (c) =>
    c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `$util.urlDecode`, as Java's URLDecoder: `+` is a space; a malformed escape fails the template, as Java's throws. */
function urlDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new PlatformError('SerializationException', 'The mapping template urlDecodes a text that is not URL-encoded.');
  }
}

/** `$util.parseJson`: within the bounds a body read as JSON has; what is not JSON fails the template. */
function parseJson(text: string, r: Render): unknown {
  const shape = countedShape(text, r);
  if (shape.depth > MAX_JSON_DEPTH || shape.values > MAX_JSON_VALUES) {
    throw new PlatformError(
      'SerializationException',
      `The mapping template parses JSON nested more than ${MAX_JSON_DEPTH} levels or holding more than ${MAX_JSON_VALUES} values.`,
    );
  }
  const parsed = countedParse(text, shape.values, r);
  if (parsed === null) {
    throw new PlatformError('SerializationException', 'The mapping template parses a text that is not JSON with $util.parseJson.');
  }
  return parsed.value;
}

/**
 * Steps a JSON value costs to parse. A caller's object of 98,000 keys (1.4 to 10 MB) took JSON.parse 100
 * to 230 ms, about 2 µs a key, at one step: counted, it is two steps a value (the whole, and each member
 * of each array and object), as listing an object's keys is five.
 */
const JSON_PARSE_STEPS_PER_VALUE = 2;

/** jsonShape of a template's text, its scan counted (a step per 64 characters). */
function countedShape(text: string, r: Render): { depth: number; values: number } {
  r.work(text.length);
  return jsonShape(text);
}

/**
 * JSON.parse of a text of `values` values, counted before it runs (a render past its budget does not
 * start it) and followed by a look at the clock; null when the text is not JSON.
 */
function countedParse(text: string, values: number, r: Render): Parsed {
  r.step(JSON_PARSE_STEPS_PER_VALUE * values);
  let parsed: Parsed;
  try {
    parsed = { value: JSON.parse(text) as unknown };
  } catch {
    parsed = null;
  }
  r.lookAtClock();
  return parsed;
}

/**
 * `$context` as nested maps (`identity.sourceIp` under `identity`), with the `requestOverride` and
 * `responseOverride` maps a template may #set. Made once a render, and only when asked for.
 */
function contextMap(flat: Record<string, string | boolean | number>): Map<string, unknown> {
  const root = new Map<string, unknown>();
  for (const [name, value] of Object.entries(flat)) {
    const parts = name.split('.');
    let map = root;
    for (const part of parts.slice(0, -1)) {
      let next = map.get(part);
      if (!(next instanceof Map)) map.set(part, (next = new Map<string, unknown>()));
      map = next as Map<string, unknown>;
    }
    map.set(parts.at(-1)!, value);
  }
  root.set('responseOverride', new Map([['header', new Map()]]));
  root.set(
    'requestOverride',
    new Map([
      ['header', new Map()],
      ['querystring', new Map()],
      ['path', new Map()],
    ]),
  );
  return root;
}

/** What a template set in `$context.responseOverride`: a status of three digits, and headers of text (or numbers, written out). */
function responseOverrideOf(context: Map<string, unknown>): ResponseOverride | undefined {
  const override = context.get('responseOverride');
  if (!(override instanceof Map)) return undefined;
  const given = override.get('status') as unknown;
  const status =
    typeof given === 'number' && Number.isInteger(given)
      ? given
      : typeof given === 'string' && /^[0-9]{3}$/.test(given)
        ? Number(given)
        : undefined;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const header = override.get('header') as unknown;
  if (header instanceof Map) {
    for (const [k, v] of header as Map<string, unknown>) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') headers[k] = String(v);
    }
  }
  if (status === undefined && Object.keys(headers).length === 0) return undefined;
  return { status, headers };
}

/** The body as JSON (`{}` when empty); SerializationException when it holds more than MAX_JSON_VALUES values. */
function parseBody(text: string, r: Render): Parsed {
  const shape = countedShape(text, r);
  if (shape.depth > MAX_JSON_DEPTH) return null;
  if (shape.values > MAX_JSON_VALUES) {
    throw new PlatformError(
      'SerializationException',
      `The body holds more than ${MAX_JSON_VALUES} JSON values for a mapping template to read.`,
    );
  }
  return countedParse(text || '{}', shape.values, r);
}

/**
 * How deeply a JSON text nests arrays and objects, and how many values it holds (the whole, and each
 * member of an array or object), counted in one linear scan that skips strings: a member per comma,
 * and one more for each array or object that is not empty. The scan stops as soon as either passes
 * `stopPast` (its answer is then past that bound, not the text's whole shape).
 */
export function jsonShape(
  text: string,
  stopPast: { depth: number; values: number } = { depth: Infinity, values: Infinity },
): { depth: number; values: number } {
  let depth = 0;
  let deepest = 0;
  let values = 1;
  let opened = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    // The first thing inside an array or object, unless it closes it, is its first member.
    if (opened && c !== 0x5d && c !== 0x7d) values++;
    opened = false;
    if (c === 0x22) inString = true;
    else if (c === 0x2c) values++;
    else if (c === 0x5b || c === 0x7b) {
      opened = true;
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
    if (values > stopPast.values || deepest > stopPast.depth) break;
  }
  return { depth: deepest, values };
}

/** Evaluates a simple JSONPath (`$`, `$.a.b`, `$.a[0]`, `$['a']`) against the parsed body (the text, for `$` of one that is not JSON). */
function select(parsed: Parsed, text: string, path: string): unknown {
  if (parsed === null) return path === '$' ? text : undefined;
  let value = parsed.value;
  const steps = path.replace(/^\$/, '').match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]/g);
  for (const step of steps ?? []) {
    if (value === null || typeof value !== 'object') return undefined;
    const key = step.startsWith('.') ? step.slice(1) : step.startsWith("['") ? step.slice(2, -2) : Number(step.slice(1, -1));
    value = Object.hasOwn(value, key) ? (value as Record<string | number, unknown>)[key] : undefined;
  }
  return value;
}

/**
 * How each ASCII character is escaped: 0 for not at all, `u` for `\uXXXX`, else the character written
 * after a backslash. Every character past ASCII is a `\uXXXX`.
 */
const ASCII_ESCAPES = (() => {
  const table = new Uint8Array(0x80);
  for (let c = 0; c < 0x20; c++) table[c] = 0x75;
  table[0x7f] = 0x75;
  for (const [c, named] of [
    ["'", "'"],
    ['"', '"'],
    ['\\', '\\'],
    ['/', '/'],
    ['\b', 'b'],
    ['\n', 'n'],
    ['\t', 't'],
    ['\f', 'f'],
    ['\r', 'r'],
  ] as const)
    table[c.charCodeAt(0)] = named.charCodeAt(0);
  return table;
})();
const HEX = Buffer.from('0123456789ABCDEF');

/**
 * `$util.escapeJavaScript`, as API Gateway's (Java's ECMAScript escaping): quotes, backslash and slash
 * escaped, the usual control characters by name, every other character outside printable ASCII as
 * `\uXXXX` (upper-case hexadecimal, a UTF-16 unit each). So a caller's control characters never make the
 * JSON a template builds invalid.
 */
export function escapeJavaScript(text: string, length = escapedLength(text)): string {
  if (length === text.length) return text;
  // Every character it makes is ASCII: written as bytes into a buffer of the length counted first, which
  // for a million escapes took a tenth of the time of a string built piece by piece.
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const escape = c < 0x80 ? ASCII_ESCAPES[c]! : 0x75;
    if (escape === 0) {
      out[at++] = c;
      continue;
    }
    out[at++] = 0x5c;
    out[at++] = escape;
    if (escape === 0x75) {
      out[at++] = HEX[(c >> 12) & 15]!;
      out[at++] = HEX[(c >> 8) & 15]!;
      out[at++] = HEX[(c >> 4) & 15]!;
      out[at++] = HEX[c & 15]!;
    }
  }
  return out.toString('latin1', 0, at);
}

/** The length of `JSON.stringify(text)`, counted without building it. */
export function jsonStringLength(text: string): number {
  let length = text.length + 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d) length += 1;
    else if (c < 0x20) length += 5;
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A surrogate pair is written as it is; a lone surrogate as \uXXXX.
      const next = text.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else length += 5;
    }
  }
  return length;
}

/** The length of `escapeJavaScript(text)`, counted without building it. */
export function escapedLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x27 || c === 0x2f || c === 0x5c || c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d)
      length += 1;
    else if (c < 0x20 || c >= 0x7f) length += 5;
  }
  return length;
}
