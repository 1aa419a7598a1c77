/**
 * `aws-chunked` request bodies (SigV4 streaming uploads): `hex-size[;chunk-signature=sig]\r\n bytes \r\n`
 * repeated, a zero-size chunk, then optional trailing headers (`x-amz-checksum-crc32:...`,
 * `x-amz-trailer-signature:...`) and a blank line.
 */

/** The payload hashes that announce a chunked body. */
export const STREAMING_PAYLOADS = new Set([
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);

export interface Chunk {
  data: Buffer;
  signature: string | undefined;
}

export interface ChunkedBody {
  /** Every chunk, the final empty one included. */
  chunks: Chunk[];
  /** The chunks' bytes joined. */
  data: Buffer;
  /** Trailing headers by lower-cased name, in the order sent (the trailer signature excluded). */
  trailers: [string, string][];
  trailerSignature: string | undefined;
}

/** Why a chunked body could not be read. */
export class ChunkedBodyError extends Error {}

/** Every chunk but the last must hold at least this many bytes (S3's rule). */
export const MIN_CHUNK_BYTES = 8192;

/**
 * A chunk smaller than MIN_CHUNK_BYTES that was not the last: S3's InvalidChunkSizeError, naming the chunk
 * being read when it showed (1-based) and the small one's size. Refused at once, it also bounds the work:
 * each chunk costs a signature check, and a body of one-byte chunks would be millions of them.
 */
export class ChunkSizeError extends ChunkedBodyError {
  constructor(
    readonly chunk: number,
    readonly badChunkSize: number,
  ) {
    super(`Only the last chunk is allowed to have a size less than ${MIN_CHUNK_BYTES} bytes`);
  }
}

const MAX_HEADER_LINE = 4096;

export function decodeChunked(body: Buffer): ChunkedBody {
  const chunks: Chunk[] = [];
  const parts: Buffer[] = [];
  let at = 0;
  const line = (): string => {
    const end = body.indexOf('\r\n', at);
    if (end < 0 || end - at > MAX_HEADER_LINE) throw new ChunkedBodyError('a chunk header is not terminated by CRLF');
    const text = body.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    const m = /^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$/.exec(header);
    if (!m) throw new ChunkedBodyError(`malformed chunk header '${header.slice(0, 100)}'`);
    const size = parseInt(m[1]!, 16);
    if (!Number.isSafeInteger(size) || at + size > body.length) throw new ChunkedBodyError('a chunk is longer than the body');
    const previous = chunks.at(-1);
    if (size > 0 && previous && previous.data.length < MIN_CHUNK_BYTES) throw new ChunkSizeError(chunks.length + 1, previous.data.length);
    const data = body.subarray(at, at + size);
    at += size;
    chunks.push({ data, signature: m[2] });
    if (size === 0) break;
    parts.push(data);
    if (body.toString('latin1', at, at + 2) !== '\r\n') throw new ChunkedBodyError('a chunk is not followed by CRLF');
    at += 2;
  }
  const trailers: [string, string][] = [];
  let trailerSignature: string | undefined;
  // After the last chunk: CRLF alone (no trailers), or trailer lines ending with an empty one.
  while (at < body.length) {
    const text = line();
    if (text === '') break;
    const colon = text.indexOf(':');
    if (colon <= 0) throw new ChunkedBodyError(`malformed trailer '${text.slice(0, 100)}'`);
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSignature = value;
    else trailers.push([name, value]);
  }
  if (at !== body.length) throw new ChunkedBodyError('bytes after the end of the chunked body');
  return { chunks, data: Buffer.concat(parts), trailers, trailerSignature };
}
