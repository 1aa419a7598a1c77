import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';

/** A new RFC 4122 UUID, the form AWS uses for request ids and revision ids. */
export function uuid(): string {
  return randomUUID();
}

/** Random bytes drawn in blocks: ids are made on the invoke path, and one syscall per id showed in profiles. */
const pool = Buffer.alloc(4096);
let used = pool.length;

/** A lowercase hex id of `bytes` random bytes. */
export function hexId(bytes: number): string {
  if (bytes > pool.length) return randomBytes(bytes).toString('hex');
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lowercase alphanumeric id, the form API Gateway uses (`a1b2c3d4e5`). */
export function alnumId(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}
