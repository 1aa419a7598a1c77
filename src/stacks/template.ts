import { isAlias, parseDocument, YAMLMap, YAMLSeq, Scalar, type Document } from 'yaml';
import type { Json, JsonObject } from './types.js';

/** A template that cannot be used; the message names the resource and property at fault. */
export class TemplateError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
    this.name = 'TemplateError';
  }
}

/** The short forms CloudFormation YAML allows, each mapped to its long form. */
const FUNCTIONS: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  GetAtt: 'Fn::GetAtt',
  Sub: 'Fn::Sub',
  Join: 'Fn::Join',
  If: 'Fn::If',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  Equals: 'Fn::Equals',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Not: 'Fn::Not',
  FindInMap: 'Fn::FindInMap',
  Base64: 'Fn::Base64',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Cidr: 'Fn::Cidr',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
};

/** Parses a template written in YAML (with the `!Ref`-style short forms) or JSON into plain JSON. */
export function parseTemplate(text: string): JsonObject {
  if (/^\s*\{/.test(text)) {
    try {
      return asTemplate(JSON.parse(text) as Json);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      throw new TemplateError([`Template is not valid JSON: ${(err as Error).message}`]);
    }
  }
  // The short forms are left as tagged nodes (yaml only warns about tags it does not know) and turned
  // into their long forms while converting.
  // Anchors, aliases and `<<` merge keys are expanded, as the SAM CLI's YAML loader does.
  const doc = parseDocument(text, { uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    throw new TemplateError(doc.errors.map((e) => `Template is not valid YAML: ${e.message.split('\n')[0]}`));
  }
  return asTemplate(toJson(doc.contents, doc));
}

/** Converts the parsed YAML tree to JSON, turning tagged nodes into their long-form functions. */
function toJson(node: unknown, doc: Document): Json {
  if (isAlias(node)) return toJson(node.resolve(doc), doc);
  if (node instanceof Scalar) return longForm(node.tag, node.value as Json);
  if (node instanceof YAMLMap) {
    const out: JsonObject = {};
    const merged: JsonObject = {};
    for (const pair of node.items) {
      if (pair.key instanceof Scalar && typeof pair.key.value === 'symbol') {
        // `<<: *base` (or a list of them): the keys the mapping does not set itself, the first source winning.
        const sources = pair.value instanceof YAMLSeq ? pair.value.items : [pair.value];
        for (const source of sources) {
          const value = toJson(source, doc);
          if (!isObject(value)) throw new TemplateError(['Template is not valid YAML: a merge key (<<) takes mappings.']);
          for (const [k, v] of Object.entries(value)) if (!(k in merged)) merged[k] = v;
        }
        continue;
      }
      const key = pair.key instanceof Scalar ? String(pair.key.value) : JSON.stringify(toJson(pair.key, doc));
      out[key] = toJson(pair.value, doc);
    }
    return longForm(node.tag, { ...merged, ...out });
  }
  if (node instanceof YAMLSeq)
    return longForm(
      node.tag,
      node.items.map((item) => toJson(item, doc)),
    );
  if (node === null || node === undefined) return null;
  return node as Json;
}

function longForm(tag: string | undefined, value: Json): Json {
  if (!tag?.startsWith('!') || tag.startsWith('!!')) return value;
  const long = FUNCTIONS[tag.slice(1)];
  if (!long) throw new TemplateError([`Template uses the unknown tag ${tag}.`]);
  // `!GetAtt Resource.Attribute` splits at the first dot, as CloudFormation does.
  if (long === 'Fn::GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { [long]: dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [long]: value };
}

function asTemplate(value: Json): JsonObject {
  if (!isObject(value)) throw new TemplateError(['Template format error: the template must be a mapping at its top level.']);
  if (!isObject(value.Resources ?? null))
    throw new TemplateError(['Template format error: At least one Resources member must be defined.']);
  return value;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A resolved property as text: scalars as they are written, anything else as JSON. */
export function asText(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Every CodeUri of the template's serverless functions (and its Globals), for the client to package. */
export function codeUris(template: JsonObject): string[] {
  const found = new Set<string>();
  const globals = template.Globals;
  const globalUri = isObject(globals) && isObject(globals.Function) ? globals.Function.CodeUri : undefined;
  if (typeof globalUri === 'string') found.add(globalUri);
  for (const resource of Object.values(template.Resources as JsonObject)) {
    if (!isObject(resource) || resource.Type !== 'AWS::Serverless::Function') continue;
    const uri = isObject(resource.Properties) ? resource.Properties.CodeUri : undefined;
    if (typeof uri === 'string') found.add(uri);
  }
  return [...found];
}
