import { PlatformError } from '../../../core/errors.js';

/**
 * Typed reads of request members. A member of the wrong JSON type is refused with a message that names
 * it, before any work is done.
 */
type Body = Record<string, unknown>;

function wrongType(member: string, expected: string): PlatformError {
  return new PlatformError('InvalidParameterValueException', `Could not read request member ${member}: expected ${expected}.`);
}

export function optString(body: Body, member: string): string | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw wrongType(member, 'a string');
  return v;
}

export function optNumber(body: Body, member: string): number | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(member, 'a number');
  return v;
}

export function optBoolean(body: Body, member: string): boolean | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(member, 'true or false');
  return v;
}

export function optObject(body: Body, member: string): Body | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(member, 'an object');
  return v as Body;
}

export function optStringMap(body: Body, member: string): Record<string, string> | undefined {
  const v = optObject(body, member);
  if (v === undefined) return undefined;
  for (const value of Object.values(v)) if (typeof value !== 'string') throw wrongType(member, 'a map of strings');
  return v as Record<string, string>;
}

export function optStringList(body: Body, member: string): string[] | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw wrongType(member, 'a list of strings');
  return v as string[];
}

/** Base64 member (blobs in rest-json), decoded. */
export function optBlob(body: Body, member: string): Uint8Array | undefined {
  const v = optString(body, member);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(v)) throw wrongType(member, 'base64 data');
  return new Uint8Array(Buffer.from(v, 'base64'));
}

/** `MaxItems` query parameter within 1..limit. */
export function maxItems(query: URLSearchParams, limit: number): number | undefined {
  const raw = query.get('MaxItems');
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > limit) {
    throw new PlatformError(
      'ValidationException',
      `1 validation error detected: Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value ${n < 1 ? 'greater than or equal to 1' : `less than or equal to ${limit}`}`,
    );
  }
  return n;
}

/** One page of `items` after the opaque `marker`, and the marker of the next page. */
export function paginate<T>(
  items: T[],
  marker: string | null,
  max: number | undefined,
  fallback = 50,
): { page: T[]; nextMarker: string | undefined } {
  let start = 0;
  if (marker) {
    start = Number(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new PlatformError('InvalidParameterValueException', `Invalid Marker: ${marker}`);
  }
  const size = max ?? fallback;
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return { page, nextMarker: next };
}
