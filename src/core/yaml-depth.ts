import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

/** The YAML library, loaded on first use: a server that reads no YAML need not load it. */
const require = createRequire(import.meta.url);
let yaml: typeof Yaml | undefined;

/**
 * The line at which a YAML (or JSON) text first nests more than `max` mappings and sequences deep, or
 * undefined when it never does. YAML's composer recurses once per level, and a few thousand levels (a
 * megabyte of `[`) exhaust the stack after seconds of work and gigabytes of memory; this reads only the
 * lexer's tokens, without recursion, so it can run before anything is composed.
 */
export function lineNestedPast(text: string, max: number): number | undefined {
  const { Lexer } = (yaml ??= require('yaml') as typeof Yaml);
  const indents: number[] = [];
  let flow = 0;
  let onLine = 0;
  let line = 1;
  // A line's indentation counts once its first token that is not a comment is seen: blank and comment
  // lines say nothing about nesting.
  let pendingIndent: number | undefined = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '\n' || token === '\r\n') {
      line++;
      pendingIndent = 0;
      onLine = 0;
      continue;
    }
    if (pendingIndent !== undefined) {
      if (/^[ \t]+$/.test(token)) {
        pendingIndent = token.length;
        continue;
      }
      if (token.startsWith('#')) continue;
      if (flow === 0) {
        while (indents.length && indents[indents.length - 1]! >= pendingIndent) indents.pop();
        indents.push(pendingIndent);
      }
      pendingIndent = undefined;
    }
    if (token === '[' || token === '{') flow++;
    else if ((token === ']' || token === '}') && flow > 0) flow--;
    else if ((token === '-' || token === '?') && flow === 0) onLine++;
    else if (token.length > 1 && token.includes('\n')) line += token.split('\n').length - 1;
    if (indents.length + onLine + flow > max) return line;
  }
  return undefined;
}
