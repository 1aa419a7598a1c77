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
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  for (const token of tokenize(text)) {
    if (token.term === '') continue;
    if (token.prefix === '?') any.push(token.term);
    else if (token.prefix === '-') none.push(token.term);
    else all.push(token.term);
  }
  return (message) =>
    all.every((t) => message.includes(t)) &&
    (any.length === 0 || any.some((t) => message.includes(t))) &&
    !none.some((t) => message.includes(t));
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
