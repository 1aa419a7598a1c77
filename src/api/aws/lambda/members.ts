import { PlatformError } from '../../../core/errors.js';
import { memberReader } from '../protocol/members.js';

/**
 * Typed reads of Lambda's request members: the shared reader with Lambda's error for a wrong type,
 * InvalidParameterValueException.
 */
type Body = Record<string, unknown>;

const read = memberReader(wrongType);
export const optString = read.string;
export const optNumber = read.number;
export const optInteger = read.integer;
export const optBoolean = read.boolean;
export const optObject = read.object;
export const optStringMap = read.stringMap;
export const optStringList = read.stringList;

function wrongType(member: string, expected: string): PlatformError {
  return new PlatformError('InvalidParameterValueException', `Could not read request member ${member}: expected ${expected}.`);
}

/** Base64 member (blobs in rest-json), decoded (or as parseJsonBodyDecoding already decoded it). */
export function optBlob(body: Body, member: string): Uint8Array | undefined {
  const decoded = Object.hasOwn(body, member) ? body[member] : undefined;
  if (decoded instanceof Uint8Array) return decoded;
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

/** The whole number an opaque `Marker` carries (see `markerOf`), or undefined without one. */
export function markerNumber(marker: string | null): number | undefined {
  if (!marker) return undefined;
  const n = Number(Buffer.from(marker, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(n) || n < 0) throw new PlatformError('InvalidParameterValueException', `Invalid Marker: ${marker}`);
  return n;
}

/** An opaque `Marker` carrying a whole number: where the next page starts. */
export const markerOf = (n: number): string => Buffer.from(String(n)).toString('base64url');

/** One page of `items` after the opaque `marker`, and the marker of the next page. */
export function paginate<T>(
  items: T[],
  marker: string | null,
  max: number | undefined,
  fallback = 50,
): { page: T[]; nextMarker: string | undefined } {
  const start = markerNumber(marker) ?? 0;
  const size = max ?? fallback;
  const page = items.slice(start, start + size);
  return { page, nextMarker: start + size < items.length ? markerOf(start + size) : undefined };
}
