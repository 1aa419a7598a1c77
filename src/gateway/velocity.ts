import { PlatformError } from '../core/errors.js';
import { isLiteralPattern, linearCost, linearPattern, PatternProblem } from '../core/linear-regexp.js';

/**
 * The Velocity Template Language as API Gateway's mapping templates use it (Velocity 1.7): text,
 * comments, references with properties, method calls and indexes, `#set`, `#if`/`#elseif`/`#else`,
 * `#foreach`, `#break` and `#stop`, and the Java methods templates call on strings, lists and maps. The
 * variables API Gateway provides (`$input`, `$util`, ...) are given by the caller (templates.ts).
 *
 * A template is the operator's, but what it works on is a public caller's, and it runs on the event loop
 * every request shares. So it is parsed once and kept, its nesting is bounded where it is parsed, and
 * each render is bounded in the steps it takes, the items a loop visits, the length of any string it
 * builds and what it writes; past a bound it fails, as a template that cannot be made does.
 */

/** API Gateway's documented limit on the items one `#foreach` visits; a loop over more fails the template. */
export const MAX_FOREACH_ITERATIONS = 1000;
/** Steps one render may take (each directive, expression and value written, and a step per 64 characters a string method works through). */
export const MAX_STEPS = 1_000_000;
/**
 * The CPU time one render may take, whatever its steps: a step's cost varies (a character copied, a
 * string of a million parts made), and this is the bound that holds where the count misjudges them.
 */
export const MAX_RENDER_MS = 1000;
/** Steps between two looks at the clock. */
const CLOCK_EVERY = 16_384;
/** How deeply directives, parentheses, collections and quoted strings may nest in a template. */
export const MAX_NESTING = 100;
/** Templates kept parsed, and the characters they may hold together. */
const MAX_COMPILED = 256;
const MAX_COMPILED_CHARS = 16 * 1024 * 1024;
/** How deeply a value written out (a list of maps of lists ...) may nest: a list that holds itself never ends. */
const MAX_WRITE_DEPTH = 1100;

// ---- The compiled form ----

type Node =
  | { k: 'text'; s: string }
  | { k: 'ref'; ref: Ref; quiet: boolean; src: string; backslashes: number }
  | { k: 'set'; target: Ref; value: Expr }
  | { k: 'if'; branches: { cond: Expr; body: Node[] }[]; otherwise: Node[] | undefined }
  | { k: 'foreach'; name: string; items: Expr; body: Node[] }
  | { k: 'break' }
  | { k: 'stop' };

interface Ref {
  root: string;
  steps: Step[];
}
type Step = { k: 'prop'; name: string } | { k: 'call'; name: string; args: Expr[] } | { k: 'index'; at: Expr };

type Op = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';
type Expr =
  | { k: 'lit'; v: unknown }
  | { k: 'str'; parts: Node[] }
  | { k: 'ref'; ref: Ref; src: string }
  | { k: 'list'; items: Expr[] }
  | { k: 'range'; from: Expr; to: Expr }
  | { k: 'map'; entries: [Expr, Expr][] }
  | { k: 'not'; e: Expr }
  | { k: 'neg'; e: Expr }
  // Operators of one precedence, applied left to right: a long `a + b + c ...` is a loop, not a deep tree.
  | { k: 'ops'; first: Expr; rest: [Op, Expr][] };

/** A parsed template, or why it could not be parsed (kept too, so a broken template is not parsed again each request). */
type Compiled = { nodes: Node[] } | { error: string };

const compiled = new Map<string, Compiled>();
let compiledChars = 0;
let parses = 0;

/** How many templates have been parsed since the process started (a template already parsed is taken from the cache). */
export function templateParses(): number {
  return parses;
}

function compile(template: string): Compiled {
  const hit = compiled.get(template);
  if (hit !== undefined) return hit;
  parses++;
  let made: Compiled;
  try {
    made = { nodes: new Parser(template).template() };
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    made = { error: err.describe(template) };
  }
  // The oldest go first; a deployment's templates are a handful, the bound only stops a flood of distinct ones.
  while (compiled.size > 0 && (compiled.size >= MAX_COMPILED || compiledChars + template.length > MAX_COMPILED_CHARS)) {
    const oldest = compiled.keys().next().value as string;
    compiled.delete(oldest);
    compiledChars -= oldest.length;
  }
  if (template.length <= MAX_COMPILED_CHARS) {
    compiled.set(template, made);
    compiledChars += template.length;
  }
  return made;
}

/**
 * A template that cannot be parsed: the data plane answers 500, as API Gateway does. Where it failed is
 * kept as an offset, and its line and column are counted only for the error that is reported: counting
 * them for every `[` in text that turns out not to open an index made parsing quadratic (a 100 KB
 * template of `$a[)` held the event loop 27 s).
 */
class TemplateError extends Error {
  constructor(
    /** Where in the parsed text it failed. */
    readonly at: number,
    /** Why; a function when saying why costs something (an error inside a string names the string's own line). */
    private readonly why: string | (() => string),
  ) {
    super('The mapping template cannot be parsed.');
  }

  /** The message for `src`, the text parsed: why, with the line and column of `at`. */
  describe(src: string): string {
    const at = Math.min(this.at, src.length);
    let line = 1;
    for (let j = src.indexOf('\n'); j !== -1 && j < at; j = src.indexOf('\n', j + 1)) line++;
    const column = at - src.lastIndexOf('\n', at - 1);
    const why = typeof this.why === 'string' ? this.why : this.why();
    return `The mapping template cannot be parsed at line ${line}, column ${column}: ${why}.`;
  }
}
/** Nesting past MAX_NESTING: never taken back, unlike a `[` in text that turns out not to open an index. */
class NestingError extends TemplateError {}
/** What a part of the grammar gives back once an attempt has failed: thrown away with the attempt. */
const NOTHING: Expr = { k: 'lit', v: null };

function fail(message: string): never {
  throw new PlatformError('SerializationException', message);
}

// ---- Parsing ----

const DIRECTIVES = new Set(['set', 'if', 'elseif', 'else', 'end', 'foreach', 'break', 'stop']);
const UNSUPPORTED = new Set(['macro', 'parse', 'include', 'evaluate', 'define']);
const isIdentStart = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
// Velocity 1.7 lets a name hold `-` (`$stageVariables.my-var`), as API Gateway's templates do.
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d;
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

type Ending = { end: 'end' | 'else' | undefined } | { end: 'elseif'; cond: Expr };

class Parser {
  private i = 0;
  private depth = 0;
  /** Attempts to read a `[` as an index under way: an error inside one only takes the attempt back. */
  private attempting = 0;
  /** Set when the innermost attempt has failed; the position is then at the end of the text until it is taken back. */
  private failed = false;
  /** Where a `[` was found not to open an index: a `[` is tried once, however many attempts around it fail. */
  private readonly notIndex = new Set<number>();

  constructor(private readonly src: string) {}

  template(): Node[] {
    const { nodes, ending } = this.block();
    if (ending.end !== undefined) this.error(`#${ending.end} without an #if or #foreach to close`);
    return nodes;
  }

  /**
   * Says why the text cannot be parsed here. Outside an attempt to read `[` as an index it throws; inside
   * one it marks the attempt failed and moves to the end of the text, where every loop of the grammar ends,
   * so each caller returns at once with what it has, and the attempt throws that away. Throwing there, even
   * one shared error, cost about 5 µs an attempt: 0.5 s of CPU for a 300 KB template of them.
   */
  private error(why: string | (() => string), kind = TemplateError): void {
    if (this.attempting > 0 && kind !== NestingError) {
      this.failed = true;
      this.i = this.src.length;
      return;
    }
    throw new kind(this.i, why);
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING) this.error(`it nests more than ${MAX_NESTING} levels deep`, NestingError);
  }

  /** Nodes up to the end of the template or the #end, #else or #elseif that ends them. */
  private block(): { nodes: Node[]; ending: Ending } {
    const src = this.src;
    const nodes: Node[] = [];
    let text = '';
    const flush = () => {
      if (text) nodes.push({ k: 'text', s: text });
      text = '';
    };
    while (this.i < src.length) {
      const c = src.charCodeAt(this.i);
      if (c === 0x24) {
        const ref = this.reference(0);
        if (ref) {
          flush();
          nodes.push(ref);
        } else {
          text += '$';
          this.i++;
        }
      } else if (c === 0x5c) {
        let n = 0;
        while (src.charCodeAt(this.i + n) === 0x5c) n++;
        const after = src.charCodeAt(this.i + n);
        const at = this.i;
        this.i += n;
        const ref = after === 0x24 ? this.reference(n) : undefined;
        if (ref) {
          flush();
          nodes.push(ref);
        } else if (after === 0x23 && DIRECTIVES.has(this.directiveName(this.i) ?? '')) {
          // `\#if` is the text `#if`; `\\#if` is a backslash and the directive.
          text += '\\'.repeat(n >> 1);
          if (n % 2 === 1) {
            text += '#';
            this.i++;
          }
        } else {
          text += src.slice(at, this.i);
        }
      } else if (c === 0x23) {
        const next = src.charCodeAt(this.i + 1);
        if (next === 0x23) {
          // A line comment ends with its line, newline included.
          const eol = src.indexOf('\n', this.i);
          this.i = eol === -1 ? src.length : eol + 1;
        } else if (next === 0x2a) {
          const close = src.indexOf('*#', this.i + 2);
          if (close === -1) this.error('a #* comment is never closed with *#');
          else this.i = close + 2;
        } else if (next === 0x5b && src.charCodeAt(this.i + 2) === 0x5b) {
          const close = src.indexOf(']]#', this.i + 3);
          if (close === -1) {
            this.error('a #[[ raw block is never closed with ]]#');
          } else {
            text += src.slice(this.i + 3, close);
            this.i = close + 3;
          }
        } else {
          const name = this.directiveName(this.i);
          if (name !== undefined && UNSUPPORTED.has(name)) {
            this.error(`#${name} is not supported in API Gateway mapping templates`);
            continue;
          }
          if (name === undefined || !DIRECTIVES.has(name)) {
            text += '#';
            this.i++;
            continue;
          }
          flush();
          this.i = this.directiveEnd;
          const ending = this.directive(name, nodes);
          if (ending) return { nodes, ending };
        }
      } else {
        let j = this.i + 1;
        while (j < src.length) {
          const d = src.charCodeAt(j);
          if (d === 0x24 || d === 0x23 || d === 0x5c) break;
          j++;
        }
        text += src.slice(this.i, j);
        this.i = j;
      }
    }
    flush();
    return { nodes, ending: { end: undefined } };
  }

  /** Where the directive name last read by directiveName ends. */
  private directiveEnd = 0;

  /** The name of the directive at `at` (`#name` or `#{name}`), or undefined when none is. */
  private directiveName(at: number): string | undefined {
    const src = this.src;
    let j = at + 1;
    const braced = src.charCodeAt(j) === 0x7b;
    if (braced) j++;
    const start = j;
    while (j < src.length && (src.charCodeAt(j) | 0x20) >= 0x61 && (src.charCodeAt(j) | 0x20) <= 0x7a) j++;
    if (j === start) return undefined;
    const name = src.slice(start, j);
    if (braced) {
      if (src.charCodeAt(j) !== 0x7d) return undefined;
      j++;
    }
    this.directiveEnd = j;
    return name;
  }

  /** Parses one directive whose name has been read; returns how a block ends when it is #end, #else or #elseif. */
  private directive(name: string, nodes: Node[]): Ending | undefined {
    switch (name) {
      case 'end':
      case 'else':
        this.gobbleLine();
        return { end: name };
      case 'elseif': {
        const cond = this.parenthesised(() => this.expression());
        this.gobbleLine();
        return { end: 'elseif', cond };
      }
      case 'break':
      case 'stop':
        this.gobbleLine();
        nodes.push({ k: name });
        return undefined;
      case 'set': {
        const node = this.parenthesised(() => {
          const target = this.refExpr();
          this.skipSpace();
          if (this.src.charCodeAt(this.i) !== 0x3d) this.error('#set needs `=` after the reference it sets');
          this.i++;
          return { k: 'set' as const, target: target.ref, value: this.expression() };
        });
        if (node.target.steps.at(-1)?.k === 'call') this.error('#set cannot assign to a method call');
        this.gobbleLine();
        nodes.push(node);
        return undefined;
      }
      case 'if': {
        const cond = this.parenthesised(() => this.expression());
        this.gobbleLine();
        const branches: { cond: Expr; body: Node[] }[] = [];
        let otherwise: Node[] | undefined;
        let current = cond;
        this.enter();
        for (;;) {
          const { nodes: body, ending } = this.block();
          branches.push({ cond: current, body });
          if (ending.end === 'elseif') {
            current = ending.cond;
            continue;
          }
          if (ending.end === 'else') {
            const rest = this.block();
            if (rest.ending.end !== 'end') this.error('#else must be followed by #end');
            otherwise = rest.nodes;
          } else if (ending.end !== 'end') this.error('#if is never closed with #end');
          break;
        }
        this.depth--;
        nodes.push({ k: 'if', branches, otherwise });
        return undefined;
      }
      case 'foreach': {
        const head = this.parenthesised(() => {
          const variable = this.refExpr();
          if (variable.ref.steps.length > 0) this.error('#foreach needs a plain variable, as in #foreach($item in $list)');
          this.skipSpace();
          if (!this.src.startsWith('in', this.i) || isIdentPart(this.src.charCodeAt(this.i + 2))) this.error('#foreach needs `in`');
          this.i += 2;
          return { name: variable.ref.root, items: this.expression() };
        });
        this.gobbleLine();
        this.enter();
        const { nodes: body, ending } = this.block();
        if (ending.end !== 'end') this.error('#foreach is never closed with #end');
        this.depth--;
        nodes.push({ k: 'foreach', name: head.name, items: head.items, body });
        return undefined;
      }
    }
    return undefined;
  }

  /** After a directive, the rest of its line when that is only blanks, newline included (as Velocity 1.7 does). */
  private gobbleLine(): void {
    let j = this.i;
    while (this.src.charCodeAt(j) === 0x20 || this.src.charCodeAt(j) === 0x09) j++;
    if (this.src.charCodeAt(j) === 0x0d) j++;
    if (this.src.charCodeAt(j) === 0x0a) this.i = j + 1;
  }

  private parenthesised<T>(inside: () => T): T {
    this.skipBlanks();
    if (this.src.charCodeAt(this.i) !== 0x28) this.error('a directive needs `(`');
    this.i++;
    const value = inside();
    this.skipSpace();
    if (this.src.charCodeAt(this.i) !== 0x29) this.error('expected `)`');
    this.i++;
    return value;
  }

  private skipBlanks(): void {
    while (this.src.charCodeAt(this.i) === 0x20 || this.src.charCodeAt(this.i) === 0x09) this.i++;
  }

  private skipSpace(): void {
    while (isSpace(this.src.charCodeAt(this.i))) this.i++;
  }

  private identifier(): string {
    const start = this.i;
    while (this.i < this.src.length && isIdentPart(this.src.charCodeAt(this.i))) this.i++;
    return this.src.slice(start, this.i);
  }

  /**
   * A reference in text at `$` (`$x`, `$!x`, `${x}`, `$!{x.y}`, `$a.b(1)[0]`), or undefined (the position
   * unchanged) when what follows `$` is not one: then the `$` is text.
   */
  private reference(backslashes: number): Node | undefined {
    const src = this.src;
    const start = this.i;
    let j = start + 1;
    const quiet = src.charCodeAt(j) === 0x21;
    if (quiet) j++;
    const braced = src.charCodeAt(j) === 0x7b;
    if (braced) j++;
    if (!isIdentStart(src.charCodeAt(j))) return undefined;
    this.i = j;
    const ref: Ref = { root: this.identifier(), steps: [] };
    this.steps(ref);
    if (this.failed) return undefined;
    if (braced) {
      if (src.charCodeAt(this.i) !== 0x7d) {
        this.i = start;
        return undefined;
      }
      this.i++;
    }
    return { k: 'ref', ref, quiet, src: src.slice(start, this.i), backslashes };
  }

  /** The properties, calls and indexes after a reference's name. */
  private steps(ref: Ref): void {
    const src = this.src;
    for (;;) {
      const c = src.charCodeAt(this.i);
      if (c === 0x2e && isIdentStart(src.charCodeAt(this.i + 1))) {
        this.i++;
        const name = this.identifier();
        if (src.charCodeAt(this.i) === 0x28) {
          this.i++;
          this.enter();
          const args: Expr[] = [];
          this.skipSpace();
          if (src.charCodeAt(this.i) !== 0x29) {
            for (;;) {
              args.push(this.expression());
              this.skipSpace();
              if (src.charCodeAt(this.i) === 0x2c) {
                this.i++;
                continue;
              }
              if (src.charCodeAt(this.i) !== 0x29) this.error(`expected \`,\` or \`)\` in the arguments of .${name}(...)`);
              break;
            }
          }
          this.i++;
          this.depth--;
          ref.steps.push({ k: 'call', name, args });
        } else ref.steps.push({ k: 'prop', name });
      } else if (c === 0x5b) {
        // `$a[0]`; in text, a `[` that does not open an index is text (`$a[` at the end of a sentence).
        const at = this.i;
        const depth = this.depth;
        if (this.notIndex.has(at)) return;
        this.attempting++;
        this.i++;
        this.enter();
        const index = this.expression();
        this.skipSpace();
        this.attempting--;
        if (this.failed || src.charCodeAt(this.i) !== 0x5d) {
          this.failed = false;
          this.notIndex.add(at);
          this.i = at;
          this.depth = depth;
          return;
        }
        this.i++;
        this.depth--;
        ref.steps.push({ k: 'index', at: index });
      } else return;
    }
  }

  /** A reference inside an expression. */
  private refExpr(): { k: 'ref'; ref: Ref; src: string } {
    this.skipSpace();
    const start = this.i;
    const node = this.src.charCodeAt(this.i) === 0x24 ? this.reference(0) : undefined;
    if (!node || node.k !== 'ref') {
      this.error('expected a $reference');
      return { k: 'ref', ref: { root: '', steps: [] }, src: '' };
    }
    return { k: 'ref', ref: node.ref, src: this.src.slice(start, this.i) };
  }

  expression(): Expr {
    return this.chain(0);
  }

  private static readonly LEVELS: readonly (readonly [string, Op][])[] = [
    [
      ['||', '||'],
      ['or', '||'],
    ],
    [
      ['&&', '&&'],
      ['and', '&&'],
    ],
    [
      ['==', '=='],
      ['!=', '!='],
      ['eq', '=='],
      ['ne', '!='],
    ],
    [
      ['<=', '<='],
      ['>=', '>='],
      ['<', '<'],
      ['>', '>'],
      ['le', '<='],
      ['ge', '>='],
      ['lt', '<'],
      ['gt', '>'],
    ],
    [
      ['+', '+'],
      ['-', '-'],
    ],
    [
      ['*', '*'],
      ['/', '/'],
      ['%', '%'],
    ],
  ];

  private chain(level: number): Expr {
    if (level === Parser.LEVELS.length) return this.unary();
    const first = this.chain(level + 1);
    const rest: [Op, Expr][] = [];
    for (;;) {
      this.skipSpace();
      const op = this.operator(Parser.LEVELS[level]!);
      if (op === undefined) break;
      rest.push([op, this.chain(level + 1)]);
    }
    return rest.length === 0 ? first : { k: 'ops', first, rest };
  }

  private operator(ops: readonly (readonly [string, Op])[]): Op | undefined {
    for (const [token, op] of ops) {
      if (!this.src.startsWith(token, this.i)) continue;
      const after = this.src.charCodeAt(this.i + token.length);
      // A word operator is a whole word; `==` is not `=` followed by something else.
      if (isIdentStart(token.charCodeAt(0)) && isIdentPart(after)) continue;
      this.i += token.length;
      return op;
    }
    return undefined;
  }

  private unary(): Expr {
    this.skipSpace();
    const src = this.src;
    const c = src.charCodeAt(this.i);
    const not = c === 0x21 && src.charCodeAt(this.i + 1) !== 0x3d;
    const word = src.startsWith('not', this.i) && !isIdentPart(src.charCodeAt(this.i + 3));
    if (not || word || c === 0x2d) {
      this.i += word ? 3 : 1;
      this.enter();
      const e = this.unary();
      this.depth--;
      return { k: not || word ? 'not' : 'neg', e };
    }
    return this.primary();
  }

  private primary(): Expr {
    this.skipSpace();
    const src = this.src;
    const c = src.charCodeAt(this.i);
    if (c === 0x24) return this.refExpr();
    if (c >= 0x30 && c <= 0x39) {
      const start = this.i;
      while (src.charCodeAt(this.i) >= 0x30 && src.charCodeAt(this.i) <= 0x39) this.i++;
      // `1.5` is a decimal; `1..5` is a range from 1.
      if (src.charCodeAt(this.i) === 0x2e && src.charCodeAt(this.i + 1) >= 0x30 && src.charCodeAt(this.i + 1) <= 0x39) {
        this.i++;
        while (src.charCodeAt(this.i) >= 0x30 && src.charCodeAt(this.i) <= 0x39) this.i++;
      }
      return { k: 'lit', v: Number(src.slice(start, this.i)) };
    }
    if (c === 0x27 || c === 0x22) return this.string(c);
    if (c === 0x28) {
      this.i++;
      this.enter();
      const e = this.expression();
      this.skipSpace();
      if (src.charCodeAt(this.i) !== 0x29) this.error('expected `)`');
      this.i++;
      this.depth--;
      return e;
    }
    if (c === 0x5b) return this.list();
    if (c === 0x7b) return this.map();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (src.startsWith(word, this.i) && !isIdentPart(src.charCodeAt(this.i + word.length))) {
        this.i += word.length;
        return { k: 'lit', v };
      }
    }
    this.error(this.i >= src.length ? 'the template ends inside an expression' : `unexpected \`${src[this.i]}\` in an expression`);
    return NOTHING;
  }

  /** A 'literal' or an "interpolated $string" (a quote inside is written twice, as Velocity 1.7 reads it). */
  private string(quote: number): Expr {
    const src = this.src;
    let j = this.i + 1;
    let body = '';
    for (;;) {
      const close = src.indexOf(String.fromCharCode(quote), j);
      if (close === -1) {
        this.error('a string is never closed');
        return NOTHING;
      }
      body += src.slice(j, close);
      if (src.charCodeAt(close + 1) === quote) {
        body += String.fromCharCode(quote);
        j = close + 2;
        continue;
      }
      this.i = close + 1;
      break;
    }
    if (quote === 0x27 || !/[$#\\]/.test(body)) return { k: 'lit', v: body };
    this.enter();
    const inner = new Parser(body);
    inner.depth = this.depth;
    inner.attempting = this.attempting;
    let parts: Node[];
    try {
      parts = inner.template();
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      const kind = err instanceof NestingError ? NestingError : TemplateError;
      this.error(() => `in the string "${body.slice(0, 40)}": ${err.describe(body)}`, kind);
      return NOTHING;
    }
    // Inside an attempt, a failure of the string's own is the attempt's.
    if (inner.failed) {
      this.error('it does not open an index');
      return NOTHING;
    }
    this.depth--;
    return { k: 'str', parts };
  }

  private list(): Expr {
    this.i++;
    this.enter();
    const items: Expr[] = [];
    this.skipSpace();
    if (this.src.charCodeAt(this.i) !== 0x5d) {
      for (;;) {
        const item = this.expression();
        this.skipSpace();
        if (items.length === 0 && this.src.startsWith('..', this.i)) {
          this.i += 2;
          const to = this.expression();
          this.skipSpace();
          if (this.src.charCodeAt(this.i) !== 0x5d) this.error('expected `]` after a range');
          this.i++;
          this.depth--;
          return { k: 'range', from: item, to };
        }
        items.push(item);
        if (!this.more(0x5d, 'list')) break;
      }
    }
    this.i++;
    this.depth--;
    return { k: 'list', items };
  }

  private map(): Expr {
    this.i++;
    this.enter();
    const entries: [Expr, Expr][] = [];
    this.skipSpace();
    if (this.src.charCodeAt(this.i) !== 0x7d) {
      for (;;) {
        const key = this.expression();
        this.skipSpace();
        if (this.src.charCodeAt(this.i) !== 0x3a) this.error('expected `:` after a map key');
        this.i++;
        entries.push([key, this.expression()]);
        this.skipSpace();
        if (!this.more(0x7d, 'map')) break;
      }
    }
    this.i++;
    this.depth--;
    return { k: 'map', entries };
  }

  /** After an item of a list or map: true past a `,` (another item follows), false at `close`, else an error. */
  private more(close: number, what: string): boolean {
    if (this.src.charCodeAt(this.i) === 0x2c) {
      this.i++;
      return true;
    }
    if (this.src.charCodeAt(this.i) !== close) this.error(`expected \`,\` or \`${String.fromCharCode(close)}\` in a ${what}`);
    return false;
  }
}

// ---- Values ----

/**
 * An object a template reaches by name whose properties and methods are its own to answer ($input,
 * $util, $foreach): nothing a template names is ever looked up on a JavaScript object's prototype.
 */
export abstract class VtlObject {
  abstract prop(name: string, r: Render): unknown;
  abstract call(name: string, args: unknown[], r: Render): unknown;
  /** What writing the object makes. */
  abstract describe(): string;
}

/** A map's entry, from `entrySet()`: `getKey()`/`getValue()` or `.key`/`.value`, written `key=value`. */
class Entry {
  constructor(
    readonly key: string,
    readonly value: unknown,
  ) {}
}

/** `$foreach`: where the innermost loop is. */
class LoopState extends VtlObject {
  index = 0;
  constructor(
    readonly size: number,
    readonly parent: LoopState | undefined,
  ) {
    super();
  }
  prop(name: string): unknown {
    switch (name) {
      case 'index':
        return this.index;
      case 'count':
        return this.index + 1;
      case 'hasNext':
        return this.index + 1 < this.size;
      case 'first':
        return this.index === 0;
      case 'last':
        return this.index + 1 === this.size;
      case 'parent':
        return this.parent;
    }
    return undefined;
  }
  call(name: string, args: unknown[]): unknown {
    const getter = /^(?:get|is)([A-Z]\w*)$/.exec(name)?.[1];
    return args.length === 0 && getter ? this.prop(getter[0]!.toLowerCase() + getter.slice(1)) : undefined;
  }
  describe(): string {
    return '$foreach';
  }
}

/** A JSON object (parsed from a body): a map whose entries are its own properties. */
type PlainMap = Record<string, unknown>;
export type VtlMap = Map<string, unknown> | PlainMap;

function isPlainObject(v: unknown): v is PlainMap {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
const isMap = (v: unknown): v is VtlMap => v instanceof Map || isPlainObject(v);

function mapGet(m: VtlMap, key: string): unknown {
  if (m instanceof Map) return m.get(key);
  return Object.hasOwn(m, key) ? m[key] : undefined;
}
function mapHas(m: VtlMap, key: string): boolean {
  return m instanceof Map ? m.has(key) : Object.hasOwn(m, key);
}
/**
 * Steps counted for each key of a JSON object the first time its keys are listed. A caller's object of
 * 98,000 keys is in V8's dictionary mode, where listing them sorts them: 45 ms (Object.keys), about 5
 * steps a key; afterwards they are kept (plainKeys), so `.size()` in a loop costs nothing more.
 */
const PLAIN_KEY_STEPS = 5;
/** Steps counted for each entry of a list or map written out (three pieces added to a string), besides its characters. */
const ENTRY_STEPS = 4;
/** Steps a character of JSON.stringify's output costs (about 60 ns each for a caller's large object, not a 64th of a step). */
const JSON_CHARS_PER_STEP = 2;

/** The keys of each JSON object whose keys have been listed, in order; forgotten by mapPut when it adds one. */
const plainKeys = new WeakMap<PlainMap, string[]>();
/** Changes made to any list or map since the process started: what was made of one before a change is not used after it. */
let changes = 0;

/** A map's keys, counted as what listing them costs: a JSON object's once, then kept. Not to be changed by the caller. */
function mapKeys(m: VtlMap, r: Render): readonly string[] {
  if (m instanceof Map) {
    r.step(m.size);
    return [...m.keys()];
  }
  let keys = plainKeys.get(m);
  if (keys === undefined) {
    keys = Object.keys(m);
    plainKeys.set(m, keys);
    r.step(keys.length * PLAIN_KEY_STEPS);
  }
  return keys;
}
/** How many entries a map has: O(1) for a Map, and for a JSON object once its keys are kept. */
function mapSize(m: VtlMap, r: Render): number {
  return m instanceof Map ? m.size : mapKeys(m, r).length;
}
function mapValues(m: VtlMap, r: Render): unknown[] {
  if (m instanceof Map) {
    r.step(m.size);
    return [...m.values()];
  }
  const keys = mapKeys(m, r);
  r.step(keys.length);
  return keys.map((k) => m[k]);
}
function mapPut(m: VtlMap, key: string, value: unknown): unknown {
  changes++;
  const previous = mapGet(m, key);
  if (m instanceof Map) m.set(key, value);
  else {
    // A new key is listed again next time, in the order Object.keys gives (integer-like keys first).
    if (!Object.hasOwn(m, key)) plainKeys.delete(m);
    // Defined, never assigned: `m['__proto__'] = v` would replace the object's prototype.
    Object.defineProperty(m, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return previous ?? null;
}

/**
 * JSON.stringify of a value a template reads (`$input.json`), counted by what it makes (JSON_CHARS_PER_STEP),
 * and kept for the object it was made of until a list or map changes: a per-item `$input.json('$.meta')`
 * over a caller's 98,000-key object took 150 ms a call.
 */
const stringified = new WeakMap<object, { text: string; changes: number }>();
export function jsonText(value: unknown, r: Render): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value ?? null);
    r.sized(text.length);
    return text;
  }
  const kept = stringified.get(value);
  if (kept !== undefined && kept.changes === changes) {
    r.work(kept.text.length);
    return kept.text;
  }
  const text = JSON.stringify(value);
  r.within(text.length);
  r.step(1 + Math.ceil(text.length / JSON_CHARS_PER_STEP));
  stringified.set(value, { text, changes });
  return text;
}

/** How a value is written: Java's `toString()` (`{a=1, b=[x, y]}`, integers without `.0`). */
function javaString(v: unknown, r: Render, limit: number): string {
  if (typeof v === 'string') return v;
  const sink = new Sink(r, limit, `The mapping template builds a string of more than ${limit} characters.`);
  r.write(v, sink, 0);
  return sink.s;
}

/** What a render writes to: bounded as it grows, and each character written counted (a step per 64). */
class Sink {
  s = '';
  constructor(
    private readonly render: Render,
    private readonly limit: number,
    /** What a piece past the limit fails with. */
    private readonly refusal: string,
  ) {}
  add(piece: string): void {
    if (this.s.length + piece.length > this.limit) fail(this.refusal);
    this.render.step(piece.length >> 6);
    this.s += piece;
  }
}

/** The variables API Gateway gives a template, and how the render is bounded. */
export interface RenderOptions {
  /** A variable the template has not set: undefined when there is none of the name. */
  global(name: string): unknown;
  /**
   * Names of variables under which a reference that finds nothing writes nothing, rather than its own
   * text as Velocity otherwise does: API Gateway's own (`$context.missing` is '').
   */
  quietRoots: ReadonlySet<string>;
  /** The most characters the template may write, and the most any string it builds may hold. */
  maxChars: number;
}

const BREAK = 1;
const STOP = 2;

/** One render of a template: its variables and what it has spent. */
export class Render {
  private readonly vars = new Map<string, unknown>();
  private steps = 0;
  private readonly started = process.cpuUsage();
  private clockAt = CLOCK_EVERY;
  private loop: LoopState | undefined;

  constructor(private readonly options: RenderOptions) {}

  get maxChars(): number {
    return this.options.maxChars;
  }

  /** Counts `n` steps against the render's budget. */
  step(n = 1): void {
    if ((this.steps += n) > MAX_STEPS) fail(`The mapping template takes more than ${MAX_STEPS} steps.`);
    if (this.steps >= this.clockAt) {
      this.clockAt = this.steps + CLOCK_EVERY;
      const { user, system } = process.cpuUsage(this.started);
      if (user + system > MAX_RENDER_MS * 1000) fail(`The mapping template takes more than ${MAX_RENDER_MS} ms.`);
    }
  }

  /**
   * Looks at the CPU clock now, whatever the steps: after work done at one step whose cost they only
   * estimate (a caller's body parsed as JSON), so that nothing more runs once the render is past its time.
   */
  lookAtClock(): void {
    this.clockAt = this.steps;
    this.step(0);
  }

  /** Counts the work of matching `pattern` against `chars` characters: the linear engine's is many times a plain search's. */
  match(chars: number, pattern: string): void {
    this.step(isLiteralPattern(pattern) ? 1 + (chars >> 6) : 1 + chars * linearCost(pattern));
  }

  /** Counts the work of going through `chars` characters (a step per 64). */
  work(chars: number): void {
    this.step(1 + (chars >> 6));
  }

  /** A string of `length` characters the template is about to build: refused before it is built when too long. */
  sized(length: number): void {
    this.within(length);
    this.work(length);
  }

  /** Refuses a string of `length` characters, as sized does, without counting the work of building it. */
  within(length: number): void {
    if (length > this.options.maxChars) fail(`The mapping template builds a string of more than ${this.options.maxChars} characters.`);
  }

  run(nodes: Node[], sink: Sink): void {
    this.exec(nodes, sink);
  }

  private exec(nodes: Node[], sink: Sink): number {
    for (const node of nodes) {
      this.step();
      switch (node.k) {
        case 'text':
          sink.add(node.s);
          break;
        case 'ref':
          this.writeRef(node, sink);
          break;
        case 'set':
          this.set(node.target, this.eval(node.value));
          break;
        case 'if': {
          let chosen = node.otherwise;
          for (const branch of node.branches) {
            if (truthy(this.eval(branch.cond))) {
              chosen = branch.body;
              break;
            }
          }
          if (chosen) {
            const signal = this.exec(chosen, sink);
            if (signal) return signal;
          }
          break;
        }
        case 'foreach': {
          const signal = this.foreach(node, sink);
          if (signal === STOP) return STOP;
          break;
        }
        case 'break':
          return BREAK;
        case 'stop':
          return STOP;
      }
    }
    return 0;
  }

  private foreach(node: Extract<Node, { k: 'foreach' }>, sink: Sink): number {
    const items = iterable(this.eval(node.items), this);
    if (items.length > MAX_FOREACH_ITERATIONS) tooManyItems(items.length);
    const had = this.vars.has(node.name);
    const before = this.vars.get(node.name);
    const beforeCount = this.vars.get('velocityCount');
    const state = new LoopState(items.length, this.loop);
    this.loop = state;
    let signal = 0;
    try {
      for (let i = 0; i < items.length; i++) {
        state.index = i;
        this.vars.set(node.name, items[i]);
        this.vars.set('velocityCount', i + 1);
        signal = this.exec(node.body, sink);
        if (signal) break;
      }
    } finally {
      this.loop = state.parent;
      if (had) this.vars.set(node.name, before);
      else this.vars.delete(node.name);
      if (beforeCount === undefined) this.vars.delete('velocityCount');
      else this.vars.set('velocityCount', beforeCount);
    }
    return signal === STOP ? STOP : 0;
  }

  private writeRef(node: Extract<Node, { k: 'ref' }>, sink: Sink): void {
    const value = this.resolve(node.ref);
    const found = value !== undefined && value !== null;
    if (node.backslashes > 0) {
      // Velocity's escaping: `\$x` is `$x` written as is when $x is set, and left alone when it is not.
      if (!found) return sink.add('\\'.repeat(node.backslashes) + node.src);
      sink.add('\\'.repeat(node.backslashes >> 1));
      if (node.backslashes % 2 === 1) return sink.add(node.src);
    }
    if (found) this.write(value, sink, 0);
    else if (!node.quiet && !this.options.quietRoots.has(node.ref.root)) sink.add(node.src);
  }

  /** Writes a value as Java's toString() would, bounded by the sink. */
  write(v: unknown, sink: Sink, depth: number): void {
    if (depth > MAX_WRITE_DEPTH) fail(`The mapping template writes a value nested more than ${MAX_WRITE_DEPTH} levels deep.`);
    if (typeof v === 'string') return sink.add(v);
    if (typeof v === 'number' || typeof v === 'boolean') return sink.add(String(v));
    if (v === null || v === undefined) return sink.add('null');
    this.step();
    if (Array.isArray(v)) {
      sink.add('[');
      this.step(v.length * ENTRY_STEPS);
      for (let i = 0; i < v.length; i++) {
        if (i > 0) sink.add(', ');
        this.write(v[i], sink, depth + 1);
      }
      return sink.add(']');
    }
    if (isMap(v)) {
      sink.add('{');
      let first = true;
      const keys = mapKeys(v, this);
      this.step(keys.length * ENTRY_STEPS);
      for (const key of keys) {
        if (!first) sink.add(', ');
        first = false;
        sink.add(key);
        sink.add('=');
        this.write(mapGet(v, key), sink, depth + 1);
      }
      return sink.add('}');
    }
    if (v instanceof Entry) {
      sink.add(v.key);
      sink.add('=');
      return this.write(v.value, sink, depth + 1);
    }
    if (v instanceof VtlObject) sink.add(v.describe());
    // Nothing else reaches a template: its values are JSON's, its own and those above.
  }

  /** A value as a string (Java's toString()), within the bound on strings. */
  text(v: unknown): string {
    return javaString(v, this, this.options.maxChars);
  }

  private lookup(name: string): unknown {
    if (name === 'foreach' && !this.vars.has(name)) return this.loop;
    return this.vars.has(name) ? this.vars.get(name) : this.options.global(name);
  }

  private resolve(ref: Ref, steps = ref.steps.length): unknown {
    let value = this.lookup(ref.root);
    for (let i = 0; i < steps; i++) {
      if (value === undefined || value === null) return undefined;
      const step = ref.steps[i]!;
      this.step();
      if (step.k === 'prop') value = property(value, step.name, this);
      else if (step.k === 'index') value = index(value, this.eval(step.at));
      else {
        const args = step.args.map((a) => this.eval(a));
        value = value instanceof VtlObject ? value.call(step.name, args, this) : method(value, step.name, args, this);
      }
    }
    return value;
  }

  private set(target: Ref, value: unknown): void {
    // Velocity 1.7: a #set whose value is null leaves the variable as it was.
    if (value === undefined || value === null) return;
    if (target.steps.length === 0) {
      this.vars.set(target.root, value);
      return;
    }
    const owner = this.resolve(target, target.steps.length - 1);
    const last = target.steps.at(-1)!;
    const key = last.k === 'prop' ? last.name : last.k === 'index' ? this.eval(last.at) : undefined;
    if (key === undefined || key === null) return;
    if (Array.isArray(owner) && typeof key === 'number') {
      if (Number.isInteger(key) && key >= 0 && key < owner.length) {
        changes++;
        owner[key] = value;
      }
    } else if (isMap(owner)) mapPut(owner, this.key(key), value);
  }

  eval(e: Expr): unknown {
    this.step();
    switch (e.k) {
      case 'lit':
        return e.v;
      case 'ref':
        return this.resolve(e.ref);
      case 'str': {
        const sink = new Sink(
          this,
          this.options.maxChars,
          `The mapping template builds a string of more than ${this.options.maxChars} characters.`,
        );
        this.exec(e.parts, sink);
        return sink.s;
      }
      case 'list':
        return e.items.map((item) => this.eval(item));
      case 'range': {
        const from = this.eval(e.from);
        const to = this.eval(e.to);
        if (typeof from !== 'number' || typeof to !== 'number' || !Number.isInteger(from) || !Number.isInteger(to)) return undefined;
        const length = Math.abs(to - from) + 1;
        // Counted before it is made: `[1..999999999]` must not be built to be refused.
        this.step(length);
        const direction = to >= from ? 1 : -1;
        return Array.from({ length }, (_, i) => from + i * direction);
      }
      case 'map': {
        const m = new Map<string, unknown>();
        for (const [k, v] of e.entries) m.set(this.key(this.eval(k)), this.eval(v));
        return m;
      }
      case 'not':
        return !truthy(this.eval(e.e));
      case 'neg': {
        const v = this.eval(e.e);
        return typeof v === 'number' ? -v : undefined;
      }
      case 'ops': {
        let left = this.eval(e.first);
        for (const [op, right] of e.rest) {
          if (op === '&&') {
            if (!truthy(left)) return false;
            left = truthy(this.eval(right));
          } else if (op === '||') {
            if (truthy(left)) return true;
            left = truthy(this.eval(right));
          } else left = this.binary(op, left, this.eval(right));
        }
        return left;
      }
    }
  }

  private binary(op: Op, a: unknown, b: unknown): unknown {
    switch (op) {
      case '==':
        return this.equal(a, b);
      case '!=':
        return !this.equal(a, b);
      case '<':
      case '<=':
      case '>':
      case '>=':
        if (typeof a !== 'number' || typeof b !== 'number') return false;
        return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
      case '+':
        if (typeof a === 'number' && typeof b === 'number') return a + b;
        if (a === undefined || a === null || b === undefined || b === null) return undefined;
        if (typeof a === 'string' || typeof b === 'string') {
          const left = this.text(a);
          const right = this.text(b);
          this.sized(left.length + right.length);
          return left + right;
        }
        return undefined;
      default: {
        if (typeof a !== 'number' || typeof b !== 'number') return undefined;
        const integers = Number.isInteger(a) && Number.isInteger(b);
        if (op === '-') return a - b;
        if (op === '*') return a * b;
        // Velocity answers null for a division by zero; integers divide as Java's do.
        if (b === 0) return undefined;
        if (op === '/') return integers ? Math.trunc(a / b) : a / b;
        return a % b;
      }
    }
  }

  /** Velocity's `==`: numbers by value, otherwise what Java's equals or, between different kinds, toString() says. */
  equal(a: unknown, b: unknown): boolean {
    if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
    if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'boolean')) return a === b;
    const left = this.text(a);
    const right = this.text(b);
    // Two strings are compared character by character (and a string built in pieces is first joined).
    this.work(Math.min(left.length, right.length));
    return left === right;
  }

  /** A value as a map's key: its text, counted as the characters a lookup hashes. */
  key(v: unknown): string {
    const text = this.text(v);
    this.work(text.length);
    return text;
  }
}

function tooManyItems(count: number): never {
  fail(`A #foreach in the mapping template goes over ${count} items; API Gateway's templates go over at most ${MAX_FOREACH_ITERATIONS}.`);
}

function truthy(v: unknown): boolean {
  // Velocity 1.7, as API Gateway runs it: only null and false are false; an empty string is true.
  return v !== undefined && v !== null && v !== false;
}

/** What #foreach goes over: a list's items, a map's values; nothing for anything else. */
function iterable(v: unknown, r: Render): readonly unknown[] {
  if (Array.isArray(v)) return v;
  // A map's size is known before its values are listed: one past the bound is refused without them.
  if (isMap(v)) {
    const size = mapSize(v, r);
    if (size > MAX_FOREACH_ITERATIONS) tooManyItems(size);
    return mapValues(v, r);
  }
  return [];
}

function property(v: unknown, name: string, r: Render): unknown {
  if (v instanceof VtlObject) return v.prop(name, r);
  if (isMap(v)) return mapGet(v, name);
  if (v instanceof Entry) return name === 'key' ? v.key : name === 'value' ? v.value : undefined;
  // Velocity reads `$list.empty` as `$list.isEmpty()`.
  if (name === 'empty') return method(v, 'isEmpty', [], r);
  return undefined;
}

function index(v: unknown, at: unknown): unknown {
  if (Array.isArray(v)) return typeof at === 'number' && Number.isInteger(at) && at >= 0 ? v[at] : undefined;
  if (isMap(v) && typeof at === 'string') return mapGet(v, at);
  return undefined;
}

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

/** The Java methods templates call on strings, lists, maps and entries; undefined for any other. */
function method(v: unknown, name: string, args: unknown[], r: Render): unknown {
  const [a, b] = args;
  if (name === 'toString' && args.length === 0) return r.text(v);
  if (name === 'equals' && args.length === 1) return r.equal(v, a);
  if (typeof v === 'string') return stringMethod(v, name, args, r);
  if (Array.isArray(v)) return listMethod(v, name, args, r);
  if (isMap(v)) {
    switch (name) {
      case 'get':
        return mapGet(v, r.key(a));
      case 'containsKey':
        return mapHas(v, r.key(a));
      case 'keySet': {
        // A list of its own: the template may change it, never the keys kept for the map.
        const keys = mapKeys(v, r);
        r.step(keys.length);
        return [...keys];
      }
      case 'values':
        return mapValues(v, r);
      case 'entrySet': {
        const keys = mapKeys(v, r);
        r.step(keys.length);
        return keys.map((k) => new Entry(k, mapGet(v, k)));
      }
      case 'size':
        return mapSize(v, r);
      case 'isEmpty':
        return mapSize(v, r) === 0;
      case 'put':
        return args.length === 2 && b !== undefined ? mapPut(v, r.key(a), b) : undefined;
    }
    return undefined;
  }
  if (v instanceof Entry) {
    if (name === 'getKey') return v.key;
    if (name === 'getValue') return v.value;
    return undefined;
  }
  if (typeof v === 'number' && args.length === 0) {
    if (name === 'intValue' || name === 'longValue') return Math.trunc(v);
    if (name === 'doubleValue') return v;
  }
  if (typeof v === 'boolean' && name === 'booleanValue') return v;
  return undefined;
}

function listMethod(v: unknown[], name: string, args: unknown[], r: Render): unknown {
  const [a, b] = args;
  const ia = int(a);
  const ib = int(b);
  switch (name) {
    case 'size':
      return v.length;
    case 'isEmpty':
      return v.length === 0;
    case 'get':
      return ia !== undefined && ia >= 0 && ia < v.length ? v[ia] : outOfRange(name, a);
    case 'contains':
      r.step(v.length);
      return v.some((item) => r.equal(item, a));
    case 'indexOf':
      r.step(v.length);
      return v.findIndex((item) => r.equal(item, a));
    case 'add':
      if (args.length !== 1) return undefined;
      changes++;
      v.push(a);
      return true;
    case 'subList':
      if (ia === undefined || ib === undefined || ia < 0 || ib > v.length || ia > ib) return outOfRange(name, a);
      r.step(ib - ia);
      return v.slice(ia, ib);
  }
  return undefined;
}

/** Java throws for an index outside a list or string; on API Gateway the template fails. */
function outOfRange(name: string, at: unknown): never {
  fail(`The mapping template's .${name}(${String(at)}) is out of range.`);
}

function stringMethod(s: string, name: string, args: unknown[], r: Render): unknown {
  const [a, b] = args;
  const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : r.text(v));
  const sa = str(a);
  const sb = str(b);
  const ia = int(a);
  const ib = int(b);
  switch (name) {
    case 'length':
      return s.length;
    case 'isEmpty':
      return s.length === 0;
    case 'toLowerCase':
    case 'toUpperCase':
    case 'trim':
      r.work(s.length);
      return name === 'trim' ? s.trim() : name === 'toLowerCase' ? s.toLowerCase() : s.toUpperCase();
    case 'contains':
    case 'startsWith':
    case 'endsWith':
    case 'indexOf':
    case 'lastIndexOf':
    case 'equalsIgnoreCase':
    case 'concat': {
      if (sa === undefined) return undefined;
      r.work(s.length + sa.length);
      if (name === 'contains') return s.includes(sa);
      if (name === 'startsWith') return s.startsWith(sa, ib ?? 0);
      if (name === 'endsWith') return s.endsWith(sa);
      if (name === 'indexOf') return s.indexOf(sa, ib ?? 0);
      if (name === 'lastIndexOf') return s.lastIndexOf(sa);
      if (name === 'equalsIgnoreCase') return s.toLowerCase() === sa.toLowerCase();
      r.sized(s.length + sa.length);
      return s + sa;
    }
    case 'charAt':
      return ia !== undefined && ia >= 0 && ia < s.length ? s[ia] : outOfRange(name, a);
    case 'substring': {
      const end = b === undefined ? s.length : ib;
      if (ia === undefined || end === undefined || ia < 0 || end > s.length || ia > end) return outOfRange(name, a);
      r.work(end - ia);
      return s.slice(ia, end);
    }
    case 'replace': {
      if (sa === undefined || sb === undefined) return undefined;
      r.work(s.length);
      // Each replacement is a step, counted (and the length it makes checked) before any is made.
      let count = 0;
      if (sa === '') count = s.length + 1;
      else for (let at = s.indexOf(sa); at !== -1 && count <= MAX_STEPS; at = s.indexOf(sa, at + sa.length)) count++;
      r.step(count);
      r.sized(s.length + count * (sb.length - sa.length));
      return s.replaceAll(sa, () => sb);
    }
    case 'replaceAll':
    case 'replaceFirst': {
      if (sa === undefined || sb === undefined) return undefined;
      const pattern = regexp(sa, name === 'replaceAll' ? 'g' : '');
      r.match(s.length, sa);
      let made = s.length;
      // Each replacement is counted as it is made, so a pattern that matches everywhere cannot build gigabytes.
      return s.replace(pattern, (...match: unknown[]) => {
        const replacement = javaReplacement(sb, match);
        made += replacement.length - (match[0] as string).length;
        r.step();
        r.within(made);
        return replacement;
      });
    }
    case 'matches':
      if (sa === undefined) return undefined;
      r.match(s.length, sa);
      return isLiteralPattern(sa) ? s === sa : regexp(`^(?:${sa})$`, '').test(s);
    case 'split':
      if (sa === undefined) return undefined;
      r.match(s.length, sa);
      return split(s, regexp(sa, 'g'), ib ?? 0, r);
  }
  return undefined;
}

/**
 * Java's String.split: a match of nothing at the start makes no empty first part; with a limit above 0,
 * at most that many parts, the last holding the rest; with 0, trailing empty parts are dropped.
 */
function split(s: string, re: RegExp, limit: number, r: Render): string[] {
  const parts: string[] = [];
  let at = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (limit > 0 && parts.length === limit - 1) break;
    const empty = m[0].length === 0;
    if (empty) {
      if (m.index >= s.length) break;
      re.lastIndex++;
      if (m.index === 0) continue;
    }
    r.step();
    parts.push(s.slice(at, m.index));
    at = m.index + m[0].length;
  }
  parts.push(s.slice(at));
  if (limit === 0) while (parts.length > 1 && parts.at(-1) === '') parts.pop();
  if (limit === 0 && parts.length === 1 && parts[0] === '' && s.length > 0) parts.pop();
  return parts;
}

/** Java's replacement text: `$1` a group, `\$` a dollar sign. */
function javaReplacement(replacement: string, match: unknown[]): string {
  if (!replacement.includes('$') && !replacement.includes('\\')) return replacement;
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === '\\' && i + 1 < replacement.length) out += replacement[++i];
    else if (c === '$' && /[0-9]/.test(replacement[i + 1] ?? '')) {
      const group = match[Number(replacement[++i])];
      out += typeof group === 'string' ? group : '';
    } else out += c;
  }
  return out;
}

/**
 * A regular expression a template's string method takes, run by V8's linear-time engine (a caller's
 * string against `(a+)+` must not hold the event loop); kept by its text, so a request builds none.
 */
const regexps = new Map<string, RegExp>();
function regexp(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = regexps.get(key);
  if (re === undefined) {
    try {
      re = linearPattern(pattern, flags);
    } catch (err) {
      if (err instanceof PatternProblem) fail(`The mapping template's pattern ${pattern.slice(0, 100)} ${err.message}.`);
      throw err;
    }
    if (regexps.size >= MAX_COMPILED) regexps.clear();
    regexps.set(key, re);
  }
  re.lastIndex = 0;
  return re;
}

/**
 * Renders a template: parsed once (and kept), then run within the bounds above. Throws PlatformError
 * `SerializationException` when it cannot be parsed or passes a bound.
 */
export function renderVelocity(template: string, options: RenderOptions): string {
  const made = compile(template);
  if ('error' in made) fail(made.error);
  // A template of plain text is itself.
  const only = made.nodes.length === 1 ? made.nodes[0]! : undefined;
  if (only?.k === 'text') {
    if (only.s.length > options.maxChars) fail(`The mapping template makes more than ${options.maxChars} characters.`);
    return only.s;
  }
  const render = new Render(options);
  const sink = new Sink(render, options.maxChars, `The mapping template makes more than ${options.maxChars} characters.`);
  render.run(made.nodes, sink);
  return sink.s;
}
