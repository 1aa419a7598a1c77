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
      if (escaped !== undefined) return made(escapeJavaScript(render(escaped, ctx, body, charge)));
      if (jsonPath !== undefined) return made(JSON.stringify(select(body(), ctx.body, jsonPath) ?? null));
      if (path !== undefined) {
        const v = select(body(), ctx.body, path);
        return made(typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
      }
      if (param !== undefined)
        return own(ctx.params.path, param) ?? own(ctx.params.querystring, param) ?? headerValue(ctx.params.header, param) ?? '';
      if (scope === 'context') return name !== undefined && Object.hasOwn(ctx.context, name) ? String(ctx.context[name]) : '';
      if (scope === 'stageVariables') return (name !== undefined && own(ctx.stageVariables, name)) || '';
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

/** The body as JSON (`{}` when empty). */
function parseBody(text: string): Parsed {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) return null;
  try {
    return { value: JSON.parse(text || '{}') };
  } catch {
    return null;
  }
}

/** Whether a JSON text opens more than `limit` arrays and objects inside one another (strings skipped). */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
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

const JS_ESCAPES: Readonly<Record<string, string>> = {
  "'": "\\'",
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\n': '\\n',
  '\t': '\\t',
  '\f': '\\f',
  '\r': '\\r',
};

/**
 * `$util.escapeJavaScript`, as API Gateway's (Java's ECMAScript escaping): quotes, backslash and slash
 * escaped, the usual control characters by name, every other character outside printable ASCII as
 * `\uXXXX` (upper-case hexadecimal, a UTF-16 unit each). So a caller's control characters never make the
 * JSON a template builds invalid.
 */
export function escapeJavaScript(text: string): string {
  return text.replace(TO_ESCAPE, (c) => JS_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

// eslint-disable-next-line no-control-regex
const TO_ESCAPE = /['"\\/\u0000-\u001f\u007f-\uffff]/g;
