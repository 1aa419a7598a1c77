import { randomBytes, randomUUID } from 'node:crypto';

/** A new RFC 4122 UUID, the form AWS uses for request ids and revision ids. */
export function uuid(): string {
  return randomUUID();
}

/** A lowercase hex id of `bytes` random bytes. */
export function hexId(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
