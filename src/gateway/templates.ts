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

export function renderTemplate(template: string, ctx: TemplateContext): string {
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
      if (escaped !== undefined) return renderTemplate(escaped, ctx).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
      if (jsonPath !== undefined) return JSON.stringify(select(ctx.body, jsonPath) ?? null);
      if (path !== undefined) {
        const v = select(ctx.body, path);
        return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
      }
      if (param !== undefined)
        return own(ctx.params.path, param) ?? own(ctx.params.querystring, param) ?? headerValue(ctx.params.header, param) ?? '';
      if (scope === 'context') return name !== undefined && Object.hasOwn(ctx.context, name) ? String(ctx.context[name]) : '';
      if (scope === 'stageVariables') return (name !== undefined && own(ctx.stageVariables, name)) || '';
      if (whole === '$input.body') return ctx.body;
      return whole;
    },
  );
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Evaluates a simple JSONPath (`$`, `$.a.b`, `$.a[0]`, `$['a']`) against a JSON text. */
function select(body: string, path: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body || '{}');
  } catch {
    return path === '$' ? body : undefined;
  }
  const steps = path.replace(/^\$/, '').match(/\.[^.[\]]+|\[\d+\]|\['[^']*'\]/g);
  for (const step of steps ?? []) {
    if (value === null || typeof value !== 'object') return undefined;
    const key = step.startsWith('.') ? step.slice(1) : step.startsWith("['") ? step.slice(2, -2) : Number(step.slice(1, -1));
    value = Object.hasOwn(value, key) ? (value as Record<string | number, unknown>)[key] : undefined;
  }
  return value;
}
