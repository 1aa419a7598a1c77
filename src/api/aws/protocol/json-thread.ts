/**
 * The JSON parser's thread (large-json.ts): parses a body, checks it as parseJsonBody does, and decodes
 * the base64 members it is told of, so that neither the body's text nor the base64 is ever on the thread
 * that answers requests.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { findPrototypeKey } from './members.js';
import type { LargeJsonReply, LargeJsonRequest } from './large-json.js';

/** What base64 may hold, as optBlob takes it (line breaks are skipped by the decoder). */
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

parentPort!.on('message', ({ id, body, blobs }: LargeJsonRequest) => {
  const reply = parse(id, Buffer.from(body.buffer, body.byteOffset, body.byteLength), blobs);
  // The decoded bytes are moved to the other thread, not copied.
  parentPort!.postMessage(reply, 'decoded' in reply ? reply.decoded.map((d) => d.bytes.buffer as ArrayBuffer) : []);
});

function parse(id: number, body: Buffer, blobs: string[][]): LargeJsonReply {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return { id, error: (err as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { id, error: 'the body must be a JSON object' };
  const forbidden = findPrototypeKey(value);
  if (forbidden !== undefined) return { id, error: `the member name at ${forbidden} is not allowed` };
  const decoded: { path: string[]; bytes: Uint8Array; sha256: string }[] = [];
  for (const path of blobs) {
    let holder: unknown = value;
    for (const member of path.slice(0, -1)) holder = isObject(holder) ? holder[member] : undefined;
    const last = path[path.length - 1]!;
    if (!isObject(holder)) continue;
    const text = holder[last];
    // Anything else is left for the caller's own reading to refuse in its words.
    if (typeof text !== 'string' || !BASE64.test(text)) continue;
    delete holder[last];
    // In a buffer of its own (a short one would share Node's pool, which cannot be moved).
    const bytes = new Uint8Array(Buffer.from(text, 'base64'));
    decoded.push({ path, bytes, sha256: createHash('sha256').update(bytes).digest('base64') });
  }
  return { id, value: value as Record<string, unknown>, decoded };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
