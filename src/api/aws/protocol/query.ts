/**
 * The AWS query protocol (CloudWatch's older wire form): form-encoded requests with `X.member.N` lists
 * and `X.Field` structures; XML answers.
 */
export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };

/** Turns `A.member.1.B=x&C=y` into `{A: [{B: 'x'}], C: 'y'}`. Leaves stay strings. */
export function parseQueryForm(body: string): Record<string, QueryValue> {
  const root: Record<string, QueryValue> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split('.');
    let node: Record<string, QueryValue> | QueryValue[] = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      if (part === 'member' && Array.isArray(node)) continue;
      const slot = Array.isArray(node) ? Number(part) - 1 : part;
      const next = parts[i + 1];
      const container = node as Record<string | number, QueryValue>;
      if (last) {
        container[slot] = value;
      } else {
        container[slot] ??= next === 'member' ? [] : {};
        node = container[slot] as Record<string, QueryValue> | QueryValue[];
      }
    }
  }
  return root;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Serialises an output object as query-protocol XML: lists as `<member>`, dates as ISO-8601. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(typeof value === 'string' ? value : JSON.stringify(value));
}

export function queryResponseXml(namespace: string, operation: string, result: unknown, requestId: string): string {
  const body = result === undefined ? '' : `<${operation}Result>${toXml(result)}</${operation}Result>`;
  return `<${operation}Response xmlns="${namespace}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
}

export function queryErrorXml(code: string, message: string, fault: 'Sender' | 'Receiver', requestId: string): string {
  return `<ErrorResponse><Error><Type>${fault}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
