/**
 * A zip reader that never trusts the sizes an archive declares: it reads the central directory, then
 * inflates one entry at a time in bounded chunks on zlib's thread pool, handing each chunk to the caller,
 * who counts what really comes out and may throw to stop at once. Nothing is inflated as a whole.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';

export interface ZipEntry {
  /** The name as stored (UTF-8), `/`-separated; a folder's ends with `/`. */
  name: string;
  /** Length of the stored name in bytes. */
  nameBytes: number;
  method: number;
  /** Where the entry's compressed data starts in the archive, and how long it is (both checked to fit). */
  dataStart: number;
  compressedSize: number;
  /** What the archive claims; only ever compared with what inflating really produced. */
  declaredSize: number;
  crc: number;
}

/** The archive is not a zip this reader can take (truncated, corrupt, encrypted, an unknown method). */
export class ZipFormatError extends Error {}

/** Output chunks are at most this long, so no single step holds much memory or runs long. */
const CHUNK_BYTES = 64 * 1024;
const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const UTF8 = new TextDecoder('utf-8');

/**
 * The entries of a zip, from its central directory. Refuses an archive that says it holds more than
 * `maxEntries` before reading any of them (the count is checked again against what is really there).
 */
export function readZipEntries(zip: Uint8Array, maxEntries: number): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const eocd = findEndOfCentralDirectory(view);
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) {
    throw new ZipFormatError('the archive spans several disks');
  }
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator >= 0 && view.getUint32(locator, true) === ZIP64_LOCATOR) {
      const at = safeNumber(view.getBigUint64(locator + 8, true));
      need(view, at, 56);
      if (view.getUint32(at, true) !== ZIP64_EOCD) throw new ZipFormatError('the zip64 end of central directory is missing');
      count = safeNumber(view.getBigUint64(at + 32, true));
      cdSize = safeNumber(view.getBigUint64(at + 40, true));
      cdOffset = safeNumber(view.getBigUint64(at + 48, true));
    }
  }
  if (count > maxEntries) throw new TooManyEntriesError(count);
  need(view, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let at = cdOffset;
  for (let i = 0; i < count; i++) {
    need(view, at, 46);
    if (view.getUint32(at, true) !== CENTRAL) throw new ZipFormatError('the central directory is corrupt');
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressedSize = view.getUint32(at + 20, true);
    let declaredSize = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let localOffset = view.getUint32(at + 42, true);
    need(view, at + 46, nameLength + extraLength + commentLength);
    const nameBytes = zip.subarray(at + 46, at + 46 + nameLength);
    // Zip64 sizes and offset, in that order, each present only when its 32-bit field is saturated.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const size = view.getUint16(extra + 2, true);
      if (id === 0x0001) {
        let p = extra + 4;
        const take = () => {
          if (p + 8 > extra + 4 + size) throw new ZipFormatError('a zip64 extra field is too short');
          const v = safeNumber(view.getBigUint64(p, true));
          p += 8;
          return v;
        };
        if (declaredSize === 0xffffffff) declaredSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      extra += 4 + size;
    }
    if (flags & 0x0001) throw new ZipFormatError('the archive holds encrypted entries');
    if (method !== 0 && method !== 8)
      throw new ZipFormatError(`an entry uses compression method ${method} (only stored and deflate are read)`);
    need(view, localOffset, 30);
    if (view.getUint32(localOffset, true) !== LOCAL) throw new ZipFormatError('a local file header is missing');
    const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) + view.getUint16(localOffset + 28, true);
    need(view, dataStart, compressedSize);
    entries.push({
      name: UTF8.decode(nameBytes),
      nameBytes: nameLength,
      method,
      dataStart,
      compressedSize,
      declaredSize,
      crc,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Thrown by readZipEntries before any entry is read. */
export class TooManyEntriesError extends Error {
  constructor(readonly count: number) {
    super(`the archive holds ${count} entries`);
  }
}

/**
 * Inflates one entry, calling `onChunk` with each piece (at most 64 KiB) as it comes out, and awaiting
 * it: whatever `onChunk` throws stops the inflation at once and is rethrown as it is. Corrupt data, a
 * stored size that does not match, or a wrong CRC are ZipFormatErrors.
 */
export async function inflateEntry(zip: Uint8Array, entry: ZipEntry, onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void> {
  const data = Buffer.from(zip.buffer, zip.byteOffset + entry.dataStart, entry.compressedSize);
  let crc = 0;
  let produced = 0;
  const take = async (chunk: Buffer) => {
    produced += chunk.byteLength;
    // An entry that inflates past its declared size is lying about it: stop now, not at its end.
    if (produced > entry.declaredSize) throw new ZipFormatError(`entry ${entry.name} is larger than the archive says`);
    crc = crc32(chunk, crc);
    await onChunk(chunk);
  };
  if (entry.method === 0) {
    for (let i = 0; i < data.byteLength; i += CHUNK_BYTES) await take(data.subarray(i, i + CHUNK_BYTES));
  } else {
    // What take() threw is kept: pipeline() may reject with the AbortError of the streams it tore down.
    let stopped: { err: unknown } | undefined;
    try {
      await pipeline(Readable.from(pieces(data)), createInflateRaw({ chunkSize: CHUNK_BYTES }), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          try {
            await take(chunk);
          } catch (err) {
            stopped = { err };
            throw err;
          }
        }
      });
    } catch (err) {
      if (stopped) throw stopped.err;
      if (isZlibError(err)) throw new ZipFormatError(`entry ${entry.name} is corrupt (${(err as Error).message})`);
      throw err;
    }
  }
  if (produced !== entry.declaredSize) throw new ZipFormatError(`entry ${entry.name} is not the size the archive says`);
  if (crc >>> 0 !== entry.crc >>> 0) throw new ZipFormatError(`entry ${entry.name} fails its CRC check`);
}

function* pieces(data: Buffer): Generator<Buffer> {
  for (let i = 0; i < data.byteLength; i += CHUNK_BYTES) yield data.subarray(i, i + CHUNK_BYTES);
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function findEndOfCentralDirectory(view: DataView): number {
  // The record is 22 bytes plus a comment of at most 65535.
  const lowest = Math.max(0, view.byteLength - 22 - 0xffff);
  for (let at = view.byteLength - 22; at >= lowest; at--) {
    if (view.getUint32(at, true) === EOCD && at + 22 + view.getUint16(at + 20, true) <= view.byteLength) return at;
  }
  throw new ZipFormatError('it is not a zip archive (no end of central directory)');
}

function need(view: DataView, at: number, length: number): void {
  if (at < 0 || length < 0 || at + length > view.byteLength) throw new ZipFormatError('the archive is truncated');
}

function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('a zip64 field is out of range');
  return Number(value);
}
