/**
 * The `statusCode` a MOCK integration's rendered request template names, or undefined when it names
 * none that API Gateway would take ("Unable to parse statusCode. It should be an integer that is defined
 * in the request template."): the template must make an object whose `statusCode` member is an integer.
 *
 * API Gateway takes more than JSON here: the CDK's CORS preflight template is `{ statusCode: 200 }`, a
 * key may be bare or in single quotes, and what follows the status is not looked at. So the text is read
 * member by member, skipping each value before `statusCode` by its brackets and quotes, and reading stops
 * at the status: each character is looked at most once and nothing is built, where JSON.parse of the 10 MB
 * a template may make (3.3 million empty objects beside its status) held the event loop 0.9 to 3 seconds.
 */
export function mockStatusCode(text: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i++;
  for (;;) {
    // API Gateway takes `{"statusCode": 200 ,, }`: empty members are skipped.
    while (i < text.length && (isSpace(text.charCodeAt(i)) || text[i] === ',')) i++;
    if (i >= text.length || text[i] === '}') return undefined;
    const keyStart = i;
    const quoted = text[i] === '"' || text[i] === "'";
    i = quoted ? closingQuote(text, i) + 1 : bareEnd(text, i);
    if (i <= 0) return undefined;
    const name = quoted ? keyStart + 1 : keyStart;
    const isStatus = i - keyStart === (quoted ? 12 : 10) && text.startsWith('statusCode', name);
    i = skipSpace(text, i);
    if (text[i] !== ':') return undefined;
    i = skipSpace(text, i + 1);
    if (isStatus) return integerAt(text, i);
    i = skipValue(text, i);
  }
}

const INTEGER = /-?[0-9]+(?=[\s,}])/y;

/** An integer that ends where a member does (not `200.5`, `2e2` or `"200"`), as a status to select by. */
function integerAt(text: string, at: number): string | undefined {
  INTEGER.lastIndex = at;
  const digits = INTEGER.exec(text)?.[0];
  const value = digits === undefined ? NaN : Number(digits);
  return Number.isSafeInteger(value) ? String(value) : undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Where a bare key ends (at a space or `:`); -1 when it starts as a value would (`{`, `[`). */
function bareEnd(text: string, i: number): number {
  if (text[i] === '{' || text[i] === '[') return -1;
  while (i < text.length && text[i] !== ':' && !isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index of the quote that closes the one at `open` (a backslash escapes the next character), or -1. */
function closingQuote(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** Past a member's value, whatever it holds: at the `,` or `}` that ends it, or the end of the text. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      i = closingQuote(text, i);
      if (i < 0) return text.length;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (c === ',' && depth === 0) return i;
  }
  return text.length;
}
