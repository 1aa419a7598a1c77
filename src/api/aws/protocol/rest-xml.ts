/**
 * The REST-XML protocol as S3 speaks it: XML documents whose lists are repeated elements (not
 * `<member>`), timestamps in ISO-8601 with milliseconds, and errors as `<Error><Code>...`. Request
 * documents are read by a small parser that knows no DTDs or entities beyond XML's five, so no request
 * can make it fetch, expand or recurse without bound.
 */

export interface XmlNode {
  /** The local name (any `prefix:` dropped). */
  name: string;
  children: XmlNode[];
  /** The element's own text, entities decoded. */
  text: string;
}

/** Why a request document was refused; the caller answers with its service's malformed-document error. */
export class XmlSyntaxError extends Error {}

const MAX_DEPTH = 32;
const MAX_NODES = 50_000;
const NAME = /[A-Za-z_][\w.:-]*/y;
/** What XML 1.0's `Char` leaves out: C0 controls but tab, line feed and carriage return; lone surrogates; U+FFFE and U+FFFF. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** Parses a request document into its root element; throws XmlSyntaxError for anything that is not well-formed. */
export function parseXml(text: string): XmlNode {
  let at = 0;
  let nodes = 0;
  const fail = (why: string): never => {
    throw new XmlSyntaxError(`${why} at offset ${at}`);
  };
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (text.startsWith('<?', at)) {
        const end = text.indexOf('?>', at);
        if (end < 0) fail('unterminated processing instruction');
        at = end + 2;
      } else if (text.startsWith('<!--', at)) {
        const end = text.indexOf('-->', at + 4);
        if (end < 0) fail('unterminated comment');
        at = end + 3;
      } else if (text.startsWith('<!', at)) {
        fail('document type declarations are not accepted');
      } else return;
    }
  };
  const readName = (): string => {
    NAME.lastIndex = at;
    const m = NAME.exec(text);
    if (!m) fail('expected a name');
    at += m![0].length;
    const name = m![0];
    const colon = name.lastIndexOf(':');
    return colon >= 0 ? name.slice(colon + 1) : name;
  };
  const element = (depth: number): XmlNode => {
    if (depth > MAX_DEPTH) fail('elements nested too deeply');
    if (++nodes > MAX_NODES) fail('too many elements');
    if (text[at] !== '<') fail('expected an element');
    at++;
    const rawStart = at;
    const name = readName();
    const qualified = text.slice(rawStart, at);
    // Attributes (namespaces among them) are read over and ignored.
    for (;;) {
      skipSpace();
      if (text.startsWith('/>', at)) {
        at += 2;
        return { name, children: [], text: '' };
      }
      if (text[at] === '>') {
        at++;
        break;
      }
      readName();
      skipSpace();
      if (text[at] !== '=') fail('expected = after an attribute name');
      at++;
      skipSpace();
      const quote = text[at];
      if (quote !== '"' && quote !== "'") fail('expected a quoted attribute value');
      const end = text.indexOf(quote!, at + 1);
      if (end < 0) fail('unterminated attribute value');
      at = end + 1;
    }
    const node: XmlNode = { name, children: [], text: '' };
    let own = '';
    for (;;) {
      if (at >= text.length) fail(`unterminated element ${name}`);
      if (text.startsWith('</', at)) {
        at += 2;
        const closeStart = at;
        readName();
        if (text.slice(closeStart, at) !== qualified) fail(`mismatched closing tag for ${name}`);
        skipSpace();
        if (text[at] !== '>') fail('expected >');
        at++;
        node.text = own;
        return node;
      }
      if (text.startsWith('<![CDATA[', at)) {
        const end = text.indexOf(']]>', at + 9);
        if (end < 0) fail('unterminated CDATA section');
        own += text.slice(at + 9, end);
        at = end + 3;
      } else if (text.startsWith('<!--', at)) {
        const end = text.indexOf('-->', at + 4);
        if (end < 0) fail('unterminated comment');
        at = end + 3;
      } else if (text.startsWith('<?', at) || text.startsWith('<!', at)) {
        fail('unexpected declaration');
      } else if (text[at] === '<') {
        node.children.push(element(depth + 1));
      } else {
        const next = text.indexOf('<', at);
        const end = next < 0 ? text.length : next;
        own += decodeEntities(text.slice(at, end), fail);
        at = end;
      }
    }
  };
  // XML 1.0 has no place for most control characters, written or referenced: S3 refuses such a document.
  if (NOT_XML_CHAR.test(text)) fail('a character XML 1.0 does not allow');
  skipMisc();
  const root = element(0);
  skipMisc();
  if (at !== text.length) fail('content after the root element');
  return root;
}

function decodeEntities(raw: string, fail: (why: string) => never): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&]{0,10});/g, (_, name: string) => {
    switch (name) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1] ?? /^#(\d{1,7})$/.exec(name)?.[1];
    if (code === undefined) return fail(`unknown entity &${name};`);
    const n = name.startsWith('#x') ? parseInt(code, 16) : Number(code);
    const char = n > 0x10ffff ? '' : String.fromCodePoint(n);
    if (char === '' || NOT_XML_CHAR.test(char)) return fail(`invalid character reference &${name};`);
    return char;
  });
}

/** The first child element of that name. */
export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

/** Every child element of that name. */
export function childrenNamed(node: XmlNode, name: string): XmlNode[] {
  return node.children.filter((c) => c.name === name);
}

/** The text of the first child element of that name. */
export function childText(node: XmlNode, name: string): string | undefined {
  return child(node, name)?.text;
}

/**
 * Text for an element. A control character (an object key may hold one) is written as S3 writes it, a
 * character reference (`&#x1;`): not XML 1.0 either, but what clients that read S3 expect, where the raw
 * character stops most parsers cold. Clients that want every key intact ask for `encoding-type=url`.
 */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what it rewrites
  return text.replace(/[&<>"'\r\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 && c !== '\r' ? `&#x${code.toString(16).toUpperCase()};` : `&#${code};`;
  });
}

/** A value for {@link xmlDocument}: structures become nested elements, arrays repeat the element. */
export type XmlValue = string | number | boolean | Date | undefined | null | XmlValue[] | { [name: string]: XmlValue };

/** The elements for each member of `value` in order (undefined members are left out). */
export function xmlElements(value: { [name: string]: XmlValue }): string {
  let out = '';
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) out += element(name, item);
    else out += element(name, v);
  }
  return out;
}

function element(name: string, v: XmlValue): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((item) => element(name, item)).join('');
  if (v instanceof Date) return `<${name}>${v.toISOString()}</${name}>`;
  if (typeof v === 'object') return `<${name}>${xmlElements(v)}</${name}>`;
  return `<${name}>${escapeXml(String(v))}</${name}>`;
}

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A whole answer document: `<?xml ...?><Root xmlns="...">...</Root>`. */
export function xmlDocument(root: string, value: { [name: string]: XmlValue }, namespace = S3_NAMESPACE): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${namespace}">${xmlElements(value)}</${root}>`;
}

/**
 * An S3 error: `<Error><Code/><Message/>...extra...<RequestId/></Error>`; an answer to HEAD carries no
 * body, as S3's do.
 */
export function restXmlError(
  method: string,
  status: number,
  code: string,
  message: string,
  requestId: string,
  extra: Record<string, string | number> = {},
  headers: Record<string, string> = {},
) {
  const body =
    method === 'HEAD'
      ? ''
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${xmlElements({ Code: code, Message: message, ...extra, RequestId: requestId, HostId: requestId })}</Error>`;
  return {
    status,
    headers: { ...(method === 'HEAD' ? {} : { 'content-type': 'application/xml' }), 'x-amz-request-id': requestId, ...headers },
    body,
  };
}
