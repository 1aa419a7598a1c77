/**
 * A large JSON body (a code upload: up to 70 MB, a zip in base64) parsed on a thread of its own, its
 * base64 members decoded there. On the thread that answers requests, turning a 53 MB body into text,
 * parsing it and decoding the zip took 200 ms of a 40 MB UpdateFunctionCode, during which no other
 * request was answered; here that thread only copies the body over and takes the zip back (moved, not
 * copied). Should the parser's thread fail, the body is parsed in place, as a small one is.
 */
import { Worker } from 'node:worker_threads';
import type { PlatformError } from '../../../core/errors.js';
import { rememberCodeSha256 } from '../../../domain/lambda-function.js';
import type { ApiRequest } from './http.js';
import { parseJsonBody } from './rest-json.js';

/** Bodies past this are parsed on the parser's thread. */
export const LARGE_JSON_BYTES = 1024 * 1024;

export interface LargeJsonRequest {
  id: number;
  body: Uint8Array;
  /** Paths of base64 members to decode (e.g. ['Code', 'ZipFile']). */
  blobs: string[][];
}

export type LargeJsonReply =
  | { id: number; error: string }
  | { id: number; value: Record<string, unknown>; decoded: { path: string[]; bytes: Uint8Array; sha256: string }[] };

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, (reply: LargeJsonReply | undefined) => void>();

/**
 * The body as parseJsonBody reads it, with each base64 member at `blobs` already decoded (a Uint8Array
 * where the text was; optBlob takes either). Small bodies are parsed in place.
 */
export async function parseJsonBodyDecoding(
  req: ApiRequest,
  onError: (message: string) => PlatformError,
  blobs: string[][],
): Promise<Record<string, unknown>> {
  if (req.body.byteLength <= LARGE_JSON_BYTES) return parseJsonBody(req, onError);
  const reply = await onThread({ id: ++nextId, body: req.body, blobs });
  if (reply === undefined) return parseJsonBody(req, onError);
  if ('error' in reply) throw onError(reply.error);
  for (const { path, bytes, sha256 } of reply.decoded) {
    let holder = reply.value;
    for (const member of path.slice(0, -1)) holder = holder[member] as Record<string, unknown>;
    const blob = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Its hash was taken there too: a code package's CodeSha256 (a base64 SHA-256).
    rememberCodeSha256(blob, sha256);
    holder[path[path.length - 1]!] = blob;
  }
  return reply.value;
}

/** The parser thread's reply, or undefined when it could not give one. */
function onThread(request: LargeJsonRequest): Promise<LargeJsonReply | undefined> {
  const thread = (worker ??= start());
  return new Promise((resolve) => {
    // A body being parsed keeps the process alive; an idle parser does not.
    if (waiting.size === 0) thread.ref();
    waiting.set(request.id, resolve);
    thread.postMessage(request);
  });
}

function start(): Worker {
  const thread = new Worker(new URL('./json-thread.js', import.meta.url));
  thread.unref();
  thread.on('message', (reply: LargeJsonReply) => {
    const resolve = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (waiting.size === 0) thread.unref();
    resolve?.(reply);
  });
  // A thread that fails hands its bodies back to be parsed in place; the next large body starts another.
  const gone = () => {
    if (worker === thread) worker = undefined;
    for (const resolve of waiting.values()) resolve(undefined);
    waiting.clear();
  };
  thread.on('error', gone);
  thread.on('exit', gone);
  return thread;
}
