import { lineNestedPast } from '../core/yaml-depth.js';
import { isAlias, LineCounter, parseDocument, visit, YAMLMap, YAMLSeq, Scalar, type Alias, type Node as YamlNode } from 'yaml';
import type { Json, JsonObject } from '../domain/stack.js';
import { isObject, MAX_TEMPLATE_BYTES, setOwn, TemplateError } from './template-values.js';

// The engine imports these from template-values.ts, which does not load the YAML parser; the CLI finds them here.
export { asText, isObject, TemplateError } from './template-values.js';

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

/**
 * Most values that alias expansion may add to a template. Each `*alias` copies its anchor's whole tree,
 * so nested aliases multiply (a few hundred bytes can stand for billions of values): the copies are
 * counted as they are made and the template is refused the moment they pass this.
 */
export const MAX_ALIAS_EXPANSION_NODES = 100_000;
/**
 * Most characters of strings (values and keys) that alias expansion may copy: an alias of one long
 * scalar is one value, but a thousand of them are a thousand copies once the template leaves the parser.
 */
export const MAX_ALIAS_EXPANSION_CHARS = 4 * MAX_TEMPLATE_BYTES;
/**
 * Deepest nesting of mappings and sequences read. The YAML composer recurses once per level, and a few
 * thousand levels can exhaust the stack badly enough to abort the whole process, so depth is measured
 * with the (non-recursive) lexer before anything is composed. Real templates stay under 20.
 */
export const MAX_TEMPLATE_DEPTH = 100;

/** Most YAML problems a refusal lists. */
export const MAX_YAML_PROBLEMS = 10;

/** Parses a template written in YAML (with the `!Ref`-style short forms) or JSON into plain JSON. */
export function parseTemplate(text: string): JsonObject {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_TEMPLATE_BYTES) {
    throw new TemplateError([`Template may not exceed ${MAX_TEMPLATE_BYTES} bytes in size (this one is ${bytes} bytes).`]);
  }
  checkDepth(text);
  if (/^\s*\{/.test(text)) {
    try {
      return asTemplate(JSON.parse(text) as Json);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      throw new TemplateError([`Template format error: JSON not well-formed. ${jsonErrorPlace(text)}`]);
    }
  }
  // The short forms are left as tagged nodes (yaml only warns about tags it does not know) and turned
  // into their long forms while converting.
  // Anchors, aliases and `<<` merge keys are expanded, as the SAM CLI's YAML loader does.
  const lineCounter = new LineCounter();
  // yaml's own alias bound (maxAliasCount) applies only to its toJS(), which is not used: toJson counts.
  // A key repeated in a mapping is not refused: CloudFormation takes the last one, as JSON.parse does for a
  // JSON template. (yaml's check would also compare each key with every one before it: 60,000 keys took
  // 28 s.)
  const doc = parseDocument(text, { uniqueKeys: false, merge: true, lineCounter });
  if (doc.errors.length > 0) {
    // The first few say where it goes wrong; the rest (one per line of 50 KB of broken YAML: thousands,
    // megabytes of message) would only repeat it.
    const shown = doc.errors
      .slice(0, MAX_YAML_PROBLEMS)
      .map((e) => `Template format error: YAML not well-formed. ${yamlErrorPlace(e.linePos?.[0])}`);
    const more = doc.errors.length - shown.length;
    throw new TemplateError(more > 0 ? [...shown, `… and ${more} more YAML problems.`] : shown);
  }
  // Each alias's anchor, found in one pass: yaml's Alias.resolve() walks the whole document per call.
  const targets = new Map<Alias, unknown>();
  const anchors = new Map<string, unknown>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return asTemplate(
    toJson(doc.contents, { targets, lineCounter, expanded: 0, expandedChars: 0, inAlias: false, expanding: new Set(), depth: 0 }),
  );
}

/**
 * Refuses a template nested deeper than MAX_TEMPLATE_DEPTH, from the lexer's tokens (which know quotes
 * and block scalars): flow brackets open and close levels, each deeper indentation opens one, and so does
 * each `-` or `?` that starts a compact nested entry on a line.
 */
function checkDepth(text: string): void {
  const line = lineNestedPast(text, MAX_TEMPLATE_DEPTH);
  if (line !== undefined) {
    throw new TemplateError([`Template is nested more than ${MAX_TEMPLATE_DEPTH} levels deep (at line ${line}); Versa refuses it.`]);
  }
}

interface Conversion {
  targets: Map<Alias, unknown>;
  lineCounter: LineCounter;
  /** Values made so far by expanding aliases, and the characters of their strings. */
  expanded: number;
  expandedChars: number;
  inAlias: boolean;
  /** The anchors being expanded right now: an alias to one of them is a cycle. */
  expanding: Set<unknown>;
  depth: number;
}

/** How deep expanded aliases may nest the converted template (the text itself is held to MAX_TEMPLATE_DEPTH). */
const MAX_CONVERTED_DEPTH = 1000;

/** Converts the parsed YAML tree to JSON, turning tagged nodes into their long-form functions. */
function toJson(node: unknown, ctx: Conversion): Json {
  if (ctx.depth > MAX_CONVERTED_DEPTH) throw new AliasBudgetExceeded();
  ctx.depth++;
  try {
    return convert(node, ctx);
  } finally {
    ctx.depth--;
  }
}

function convert(node: unknown, ctx: Conversion): Json {
  if (isAlias(node)) {
    const { line, col } = node.range ? ctx.lineCounter.linePos(node.range[0]) : { line: 0, col: 0 };
    const target = ctx.targets.get(node);
    if (target === undefined)
      throw new TemplateError([
        `Template is not valid YAML: the alias *${node.source} at line ${line}, column ${col} has no anchor before it.`,
      ]);
    if (ctx.expanding.has(target)) {
      throw new TemplateError([
        `Template is not valid YAML: the alias *${node.source} at line ${line}, column ${col} is inside its own anchor.`,
      ]);
    }
    const outer = ctx.inAlias;
    ctx.inAlias = true;
    ctx.expanding.add(target);
    try {
      return toJson(target, ctx);
    } catch (err) {
      // The outermost alias being expanded when the budget ran out is the one to name.
      if (err instanceof AliasBudgetExceeded && !outer) {
        throw new TemplateError([
          `Template is not valid YAML: the alias *${node.source} at line ${line}, column ${col} expands the template past ${MAX_ALIAS_EXPANSION_NODES} values, ${MAX_ALIAS_EXPANSION_CHARS} characters or ${MAX_CONVERTED_DEPTH} levels (aliases nested in aliases multiply); Versa refuses it.`,
        ]);
      }
      throw err;
    } finally {
      ctx.inAlias = outer;
      ctx.expanding.delete(target);
    }
  }
  // An anchored node is being expanded while its own children are converted, wherever it is reached from.
  const anchored = (node as YamlNode | undefined)?.anchor !== undefined && !ctx.expanding.has(node);
  if (anchored) ctx.expanding.add(node);
  try {
    return convertNode(node, ctx);
  } finally {
    if (anchored) ctx.expanding.delete(node);
  }
}

function convertNode(node: unknown, ctx: Conversion): Json {
  if (ctx.inAlias) {
    if (++ctx.expanded > MAX_ALIAS_EXPANSION_NODES) throw new AliasBudgetExceeded();
    if (node instanceof Scalar && typeof node.value === 'string') copyChars(ctx, node.value.length);
  }
  if (node instanceof Scalar) return longForm(node.tag, node.value as Json);
  if (node instanceof YAMLMap) {
    const out: JsonObject = {};
    const merged: JsonObject = {};
    for (const pair of node.items) {
      if (pair.key instanceof Scalar && typeof pair.key.value === 'symbol') {
        // `<<: *base` (or a list of them): the keys the mapping does not set itself, the first source winning.
        const sources = pair.value instanceof YAMLSeq ? pair.value.items : [pair.value];
        for (const source of sources) {
          const value = toJson(source, ctx);
          if (!isObject(value)) throw new TemplateError(['Template is not valid YAML: a merge key (<<) takes mappings.']);
          for (const [k, v] of Object.entries(value)) if (!Object.hasOwn(merged, k)) setOwn(merged, k, v);
        }
        continue;
      }
      const key = pair.key instanceof Scalar ? String(pair.key.value) : JSON.stringify(toJson(pair.key, ctx));
      if (ctx.inAlias) copyChars(ctx, key.length);
      setOwn(out, key, toJson(pair.value, ctx));
    }
    for (const [k, v] of Object.entries(out)) setOwn(merged, k, v);
    return longForm(node.tag, merged);
  }
  if (node instanceof YAMLSeq)
    return longForm(
      node.tag,
      node.items.map((item) => toJson(item, ctx)),
    );
  if (node === null || node === undefined) return null;
  return node as Json;
}

function copyChars(ctx: Conversion, chars: number): void {
  if ((ctx.expandedChars += chars) > MAX_ALIAS_EXPANSION_CHARS) throw new AliasBudgetExceeded();
}

/** Thrown inside an alias's expansion when the budget runs out; the outermost alias turns it into a TemplateError. */
class AliasBudgetExceeded extends Error {}

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
  // AWS's words for a template that is no mapping (a URL given as the body, a list).
  if (!isObject(value)) throw new TemplateError(['Template format error: unsupported structure.']);
  if (value.Resources !== undefined && value.Resources !== null && !isObject(value.Resources))
    throw new TemplateError(['Template format error: Any Resources member must be an object.']);
  if (!isObject(value.Resources ?? null))
    throw new TemplateError(['Template format error: At least one Resources member must be defined.']);
  // CloudFormation's rule, which also keeps names such as __proto__ out of the records keyed by them.
  const bad = Object.keys(value.Resources as JsonObject).filter((id) => !/^[A-Za-z0-9]+$/.test(id));
  if (bad.length > 0) throw new TemplateError(bad.map((id) => `Template format error: Resource name ${id} is non alphanumeric.`));
  // Parameters and outputs are named by the same rule.
  const badNames: string[] = [];
  for (const [section, what] of [
    ['Parameters', 'Parameter'],
    ['Outputs', 'Output'],
  ] as const) {
    const names = isObject(value[section] ?? null) ? Object.keys(value[section] as JsonObject) : [];
    for (const name of names)
      if (!/^[A-Za-z0-9]+$/.test(name)) badNames.push(`Template format error: ${what} name ${name} is non alphanumeric.`);
  }
  if (badNames.length > 0) throw new TemplateError(badNames);
  return value;
}

/**
 * Where a JSON text stops being JSON, as CloudFormation's parser says it: 1-based line and column, the
 * column one past the character it could not take (`{"a"=1}` stops at column 6). JSON.parse does not
 * always tell the position, so the text is scanned for it (only once parsing has failed).
 */
function jsonErrorPlace(text: string): string {
  const at = firstJsonError(text);
  const before = text.slice(0, at);
  return `(line ${before.split('\n').length}, column ${at - before.lastIndexOf('\n') + 1})`;
}

/** Where the scan of a broken JSON text stopped. */
class JsonStop extends Error {
  constructor(readonly at: number) {
    super(`JSON stops at ${at}`);
  }
}

/** The offset of the first character that makes `text` not JSON (its length, when it ends too soon). */
function firstJsonError(text: string): number {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const expect = (c: string) => {
    space();
    if (text[i] !== c) throw new JsonStop(i);
    i++;
  };
  const string = () => {
    expect('"');
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) throw new JsonStop(i);
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) throw new JsonStop(text.length);
    i++;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      i++;
      space();
      const close = c === '{' ? '}' : ']';
      if (text[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          string();
          expect(':');
        }
        value();
        space();
        if (text[i] === close) return void i++;
        expect(',');
      }
    }
    if (c === '"') return string();
    const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!literal) throw new JsonStop(i);
    i += literal[0].length;
  };
  try {
    value();
    space();
    return i < text.length ? i : text.length;
  } catch (err) {
    if (err instanceof JsonStop) return err.at;
    throw err;
  }
}

/** Where the YAML parser found a problem, in the same words. */
function yamlErrorPlace(pos: { line: number; col: number } | undefined): string {
  return pos ? `(line ${pos.line}, column ${pos.col})` : '(line 1, column 1)';
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
