/** A stored document that is not what a store writes: the row was changed outside Versa, or damaged. */
export class StoreCorrupt extends Error {
  override readonly name = 'StoreCorrupt';
}

/**
 * A document read back from a row: the JSON object the store wrote there. Anything else (text that is
 * not JSON, or JSON that is not an object) is refused with a StoreCorrupt naming what was being read,
 * instead of travelling on as a record with missing members.
 */
export function readDocument<T>(text: string, what = 'a stored document'): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StoreCorrupt(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreCorrupt(`${what} is not a JSON object: ${text.slice(0, 80)}`);
  }
  return value as T;
}
