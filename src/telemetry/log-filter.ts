import { PlatformError } from '../core/errors.js';

/**
 * CloudWatch Logs term filter patterns, as FilterLogEvents takes them:
 *
 * - `ERROR Exception`: every term must appear (case-sensitive, anywhere in the message);
 * - `"request failed"`: a quoted term is an exact phrase;
 * - `?ERROR ?WARN`: at least one of the `?` terms must appear;
 * - `-DEBUG`: the term must not appear.
 *
 * An empty pattern matches everything. JSON (`{ $.x = 1 }`) and space-delimited (`[a, b]`) patterns are
 * refused with InvalidParameterException rather than silently matching the wrong events.
 *
 * What a match costs is bounded by the message's length whatever the pattern: a few terms are each
 * looked for with `includes` (V8's string search, fastest for them); more are found in one pass over the
 * message (`TermSearch`), since a 1,024-character pattern of hundreds of terms would otherwise read a
 * 256 KB message hundreds of times.
 */
export function compileFilterPattern(pattern: string | undefined): (message: string) => boolean {
  const text = (pattern ?? '').trim();
  if (text === '') return () => true;
  if (text.startsWith('{') || text.startsWith('[')) {
    throw new PlatformError(
      'InvalidParameterException',
      'Versa supports term filter patterns only (terms, "exact phrases", ?optional terms and -excluded terms), not JSON or space-delimited patterns.',
    );
  }
  const sets = { all: new Set<string>(), any: new Set<string>(), none: new Set<string>() };
  for (const token of tokenize(text)) {
    if (token.term === '') continue;
    sets[token.prefix === '?' ? 'any' : token.prefix === '-' ? 'none' : 'all'].add(token.term);
  }
  const [all, any, none] = [[...sets.all], [...sets.any], [...sets.none]];
  const judge = (has: (term: string) => boolean) => all.every(has) && (any.length === 0 || any.some(has)) && !none.some(has);
  const terms = [...new Set([...all, ...any, ...none])];
  if (terms.length <= FEW_TERMS) return (message) => judge((term) => message.includes(term));
  const search = new TermSearch(terms);
  const index = new Map(terms.map((t, i) => [t, i]));
  return (message) => {
    const found = search.find(message);
    return judge((term) => found[index.get(term)!] === 1);
  };
}

/** Up to this many distinct terms, each is looked for on its own. */
const FEW_TERMS = 4;

/**
 * Which of a set of terms occur in a text, found in one pass over its UTF-16 code units (Aho–Corasick):
 * a trie of the terms with, at each node, where to continue when the next unit does not follow (the
 * longest proper suffix that is also in the trie) and every term that ends there. Its cost is the text's
 * length plus the terms found, however many terms there are.
 */
export class TermSearch {
  /** Each node's children by code unit. */
  private readonly next: Map<number, number>[] = [new Map<number, number>()];
  private readonly fail: number[] = [0];
  /** The terms (by index) ending at each node, its suffixes' included. */
  private readonly ends: number[][] = [[]];

  private readonly count: number;

  constructor(terms: readonly string[]) {
    this.count = terms.length;
    terms.forEach((term, id) => {
      let node = 0;
      for (let i = 0; i < term.length; i++) {
        const unit = term.charCodeAt(i);
        let child = this.next[node]!.get(unit);
        if (child === undefined) {
          child = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.ends.push([]);
          this.next[node]!.set(unit, child);
        }
        node = child;
      }
      this.ends[node]!.push(id);
    });
    // Breadth first, so that a node's suffix is finished before the node.
    const queue = [...this.next[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      for (const [unit, child] of this.next[node]!) {
        let f = this.fail[node]!;
        while (f !== 0 && !this.next[f]!.has(unit)) f = this.fail[f]!;
        const to = this.next[f]!.get(unit);
        this.fail[child] = to !== undefined && to !== child ? to : 0;
        this.ends[child]!.push(...this.ends[this.fail[child]]!);
        queue.push(child);
      }
    }
  }

  /** For each term, 1 when it occurs in `text`. */
  find(text: string): Uint8Array {
    const found = new Uint8Array(this.count);
    const { next, fail, ends } = this;
    const root = (this.root ??= this.rootTable());
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      let to: number | undefined;
      while (node !== 0) {
        to = next[node]!.get(unit);
        if (to !== undefined) break;
        node = fail[node]!;
      }
      // At the root (where most of a text that holds no term is read) a table, not a map.
      node = node === 0 ? root[unit]! : to!;
      const ending = ends[node]!;
      if (ending.length > 0) for (const id of ending) found[id] = 1;
    }
    return found;
  }

  /** The root's children by code unit, 0 for none (the root stays). */
  private root: Uint32Array | undefined;

  private rootTable(): Uint32Array {
    const table = new Uint32Array(65536);
    for (const [unit, child] of this.next[0]!) table[unit] = child;
    return table;
  }
}

function* tokenize(text: string): Generator<{ prefix: '' | '?' | '-'; term: string }> {
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) return;
    let prefix: '' | '?' | '-' = '';
    if ((text[i] === '?' || text[i] === '-') && i + 1 < text.length && text[i + 1] !== ' ') {
      prefix = text[i] as '?' | '-';
      i++;
    }
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new PlatformError('InvalidParameterException', `Invalid filter pattern: unmatched quote in ${text}`);
      yield { prefix, term: text.slice(i + 1, end) };
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && text[i] !== ' ' && text[i] !== '\t') i++;
      yield { prefix, term: text.slice(start, i) };
    }
  }
}
