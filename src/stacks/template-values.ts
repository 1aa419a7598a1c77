import type { Json, JsonObject } from '../domain/stack.js';

/*
 * What the stack engine needs of templates once they are parsed. Apart from template.ts, whose YAML
 * parser only the template worker and the CLI load: a server that starts need not load it.
 */

/** A template that cannot be used; the message names the resource and property at fault. */
export class TemplateError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
    this.name = 'TemplateError';
  }
}

/** True for a JSON object (not an array, not null). */
export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A resolved property as text: scalars as they are written, anything else as JSON. */
export function asText(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Sets a key as JSON.parse does: a key named `__proto__` becomes a key of the object, where an assignment
 * would replace its prototype (and the members under it would be inherited: unseen by Object.keys and
 * every check built on it, yet read by whoever asks for them by name).
 */
export function setOwn(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Largest template body read, in UTF-8 bytes: CloudFormation's limit for a template in S3 (1 MB). */
export const MAX_TEMPLATE_BYTES = 1_048_576;
