/**
 * The value a map holds under `key` as its own property, or undefined. Maps built from stored JSON are
 * plain objects, so `map[key]` with a key from a request (`constructor`, `__proto__`) would find
 * Object.prototype's members; every lookup by a requested name goes through here.
 */
export function own<T>(map: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}
