import { randomBytes, randomUUID } from 'node:crypto';

/** A new RFC 4122 UUID, the form AWS uses for request ids and revision ids. */
export function uuid(): string {
  return randomUUID();
}

/** A lowercase hex id of `bytes` random bytes. */
export function hexId(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lowercase alphanumeric id, the form API Gateway uses (`a1b2c3d4e5`). */
export function alnumId(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}
