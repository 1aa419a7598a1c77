import { PlatformError } from '../core/errors.js';
import { own } from '../core/own.js';

/**
 * The part of API Gateway's mapping-template language (Velocity) that request and response templates
 * use most: `$input.json(...)`, `$input.path(...)`, `$input.body`, `$input.params(...)`,
 * `$context.*`, `$stageVariables.*` and `$util.escapeJavaScript(...)`. Directives (`#set`,
 * `#foreach`, `#if`) are not interpreted; a template that uses them is rendered with them left as text.
 */
export interface TemplateContext {
  /** The body the template maps: the request body, or the integration's answer. */
  body: string;
  params: { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> };
  context: Record<string, string | boolean | number>;
  stageVariables: Record<string, string>;
}

const EXPR =
  /\$util\.escapeJavaScript\(\s*(\$[a-zA-Z.]+(?:\([^)]*\))?)\s*\)|\$input\.json\(\s*'([^']*)'\s*\)|\$input\.path\(\s*'([^']*)'\s*\)|\$input\.params\(\s*'([^']*)'\s*\)|\$input\.body|\$\{?(context|stageVariables)\.([a-zA-Z0-9_.]+)\}?/g;

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

/**
 * Renders a template against a request or an answer. The body is parsed at most once however many
 * times the template reads it, and what the template makes is bounded: a template that copies a
 * public caller's 10 MB body a hundred times must not build a gigabyte.
 */
export function renderTemplate(template: string, ctx: TemplateContext): string {
  // Parsed on first use: null once found not to be JSON.
  let parsed: Parsed | undefined;
  const body = (): Parsed => (parsed === undefined ? (parsed = parseBody(ctx.body)) : parsed);
  let size = template.length;
  return render(template, ctx, body, (added) => {
    if ((size += added) > MAX_RENDERED_CHARS) {
      throw new PlatformError('SerializationException', `The mapping template makes more than ${MAX_RENDERED_CHARS} characters.`);
    }
  });
}

/** A body read as JSON, or null for one that is not JSON (or nests too deep). */
type Parsed = { value: unknown } | null;

function render(template: string, ctx: TemplateContext, body: () => Parsed, charge: (added: number) => void): string {
  return template.replace(
    EXPR,
    (
      whole,
      escaped: string | undefined,
      jsonPath: string | undefined,
      path: string | undefined,
      param: string | undefined,
      scope: string | undefined,
      name: string | undefined,
    ) => {
      const made = (text: string) => {
        charge(text.length - whole.length);
        return text;
      };
      if (escaped !== undefined) {
        // What the argument made is charged as it is made; the escaping is charged for what it adds, from
        // a count taken before it is built: 10 MB of control characters escape to 60 MB.
        let inner = 0;
        const rendered = render(escaped, ctx, body, (added) => {
          charge(added);
          inner += added;
        });
        const length = escapedLength(rendered);
        charge(length - whole.length - inner);
        return escapeJavaScript(rendered, length);
      }
      if (jsonPath !== undefined) {
        const value = select(body(), ctx.body, jsonPath) ?? null;
        if (typeof value !== 'string') return made(JSON.stringify(value));
        // A text (a body that is not JSON) is escaped as it is written: a control character becomes six
        // characters. Counted before it is built, as escapeJavaScript's is.
        charge(jsonStringLength(value) - whole.length);
        return JSON.stringify(value);
      }
      if (path !== undefined) {
        const v = select(body(), ctx.body, path);
        return made(typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
      }
      // Every expression is counted, a caller's parameter as much as its body: a header of 16 KB named in
      // a template a thousand times made 16 M characters past the bound.
      if (param !== undefined)
        return made(own(ctx.params.path, param) ?? own(ctx.params.querystring, param) ?? headerValue(ctx.params.header, param) ?? '');
      if (scope === 'context') return made(name !== undefined && Object.hasOwn(ctx.context, name) ? String(ctx.context[name]) : '');
      if (scope === 'stageVariables') return made((name !== undefined && own(ctx.stageVariables, name)) || '');
      if (whole === '$input.body') return made(ctx.body);
      return whole;
    },
  );
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The body as JSON (`{}` when empty); SerializationException when it holds more than MAX_JSON_VALUES values. */
function parseBody(text: string): Parsed {
  const shape = jsonShape(text);
  if (shape.depth > MAX_JSON_DEPTH) return null;
  if (shape.values > MAX_JSON_VALUES) {
    throw new PlatformError(
      'SerializationException',
      `The body holds more than ${MAX_JSON_VALUES} JSON values for a mapping template to read.`,
    );
  }
  try {
    return { value: JSON.parse(text || '{}') };
  } catch {
    return null;
  }
}

/**
 * How deeply a JSON text nests arrays and objects, and how many values it holds (the whole, and each
 * member of an array or object), counted in one linear scan that skips strings: a member per comma,
 * and one more for each array or object that is not empty.
 */
function jsonShape(text: string): { depth: number; values: number } {
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
