import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Repository } from '../store/store.js';

/** What a blob is known by: its SHA-256 (its name), the MD5 S3's ETag is, and its size. */
export interface BlobInfo {
  sha256: string;
  md5: string;
  size: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Where blobs are kept for every node when several share a store (the store's S3 repository). */
export type SharedBlobs = Pick<S3Repository, 'putBlob' | 'openBlob' | 'deleteBlob'>;

/** The size of the pieces a blob moves to and from the shared store in: what one statement holds. */
const SHARED_CHUNK_BYTES = 1024 * 1024;

/**
 * Object bytes in the data directory, one file per distinct content named by its SHA-256
 * (`blobs/ab/abcd...`). A file is written under `tmp/` and renamed into place, so a blob is either whole
 * or absent; since names are hashes, an object's key never becomes a path. Who still points at a blob is
 * the store's business: the S3 service calls `remove` once nothing does.
 *
 * With `shared` (nodes sharing a PostgreSQL store), every blob committed here is also kept there, and a
 * blob another node wrote is fetched from there into this directory the first time it is read. Either way
 * it moves a mebibyte at a time between file and store, so an object's size never becomes memory. A file
 * here says nothing about the shared copy (another node may have deleted it since): the S3 service
 * writes a record only in a transaction that holds the copy (`holdBlob`), and `share`s it again when
 * there is none.
 */
export class BlobStore {
  private readonly blobs: string;
  private readonly tmp: string;
  /** Fetches from the shared store under way, by blob: readers at once share one. */
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(
    root: string,
    private readonly shared?: SharedBlobs,
  ) {
    this.blobs = path.join(root, 'blobs');
    this.tmp = path.join(root, 'tmp');
  }

  /** Clears what an interrupted write left in `tmp/`. */
  async open(): Promise<void> {
    await rm(this.tmp, { recursive: true, force: true });
    await mkdir(this.tmp, { recursive: true });
    await mkdir(this.blobs, { recursive: true });
  }

  /** Where a blob lives; throws for a name that is not a SHA-256, so no caller can point outside the store. */
  path(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a blob name: ${sha256.slice(0, 80)}`);
    return path.join(this.blobs, sha256.slice(0, 2), sha256);
  }

  /**
   * Hashes the bytes (or takes the hashes already taken of them); the caller decides whether to keep them
   * (`commit`) once it has checked the digests.
   */
  static describe(data: Uint8Array, hashed?: { sha256: string; md5: string }): BlobInfo {
    if (hashed) return { sha256: hashed.sha256, md5: hashed.md5, size: data.byteLength };
    return {
      sha256: createHash('sha256').update(data).digest('hex'),
      md5: createHash('md5').update(data).digest('hex'),
      size: data.byteLength,
    };
  }

  /** Stores the bytes under their hash (nothing is written when that content is already stored). */
  async put(data: Uint8Array, info: BlobInfo = BlobStore.describe(data)): Promise<BlobInfo> {
    await this.commit(await this.stage(data), info.sha256);
    return info;
  }

  /** Writes the bytes to a temporary file, to be `commit`ted (or `discard`ed) later. */
  async stage(data: Uint8Array): Promise<string> {
    const temp = this.tempName();
    await writeFile(temp, data);
    return temp;
  }

  /** True when blobs are also kept in the store the nodes share. */
  get sharing(): boolean {
    return this.shared !== undefined;
  }

  /**
   * Moves a staged file into place as the blob `sha256`, and keeps the shared copy of one this node did
   * not have. Callers hold the S3 service's lock from here until the record pointing at it is written,
   * so that no sweep can remove the file in between.
   */
  async commit(temp: string, sha256: string): Promise<void> {
    const target = this.path(sha256);
    if (await exists(target)) {
      await rm(temp, { force: true });
      return;
    }
    await this.settle(temp, target);
    await this.share(sha256);
  }

  /**
   * Keeps the shared copy of a blob this node has (nothing is written when the copy is there); false
   * when this node has no file of it to copy from.
   */
  async share(sha256: string): Promise<boolean> {
    const target = this.path(sha256);
    if (!this.shared) return true;
    if (!(await exists(target))) return false;
    await this.shared.putBlob(sha256, () => createReadStream(target, { highWaterMark: SHARED_CHUNK_BYTES }));
    return true;
  }

  async discard(temp: string): Promise<void> {
    await rm(temp, { force: true });
  }

  /**
   * One file made of several blobs, in order (a completed multipart upload), streamed and hashed as it is
   * written; staged, for the caller to `commit`.
   */
  async concat(parts: readonly string[]): Promise<BlobInfo & { temp: string }> {
    const temp = this.tempName();
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    const out = createWriteStream(temp);
    try {
      for (const part of parts) {
        await pipeline(
          createReadStream(await this.local(part)),
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              sha.update(chunk);
              md5.update(chunk);
              size += chunk.length;
              yield chunk;
            }
          },
          out,
          { end: false },
        );
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      out.destroy();
      await rm(temp, { force: true });
      throw err;
    }
    return { sha256: sha.digest('hex'), md5: md5.digest('hex'), size, temp };
  }

  /** The bytes from `start` to `end` inclusive (the whole blob without them), as a stream. */
  async stream(sha256: string, range?: { start: number; end: number }): Promise<ReadStream> {
    return createReadStream(await this.local(sha256), range && { start: range.start, end: range.end });
  }

  async read(sha256: string): Promise<Buffer> {
    return readFile(await this.local(sha256));
  }

  /**
   * Removes this node's file of a blob, and the shared copy unless (checked in the store, against every
   * node's references) something points at it again.
   */
  async remove(sha256: string): Promise<void> {
    await unlink(this.path(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await this.shared?.deleteBlob(sha256);
  }

  /** The blob's file here, fetched first from the shared copy when another node wrote it. */
  private async local(sha256: string): Promise<string> {
    const target = this.path(sha256);
    if (!this.shared || (await exists(target))) return target;
    let fetch = this.fetching.get(sha256);
    if (!fetch) {
      fetch = this.fetch(this.shared, sha256, target).finally(() => this.fetching.delete(sha256));
      this.fetching.set(sha256, fetch);
    }
    await fetch;
    return target;
  }

  /**
   * Copies a blob from the shared store into place, chunk by chunk through a temporary file. A copy that
   * is gone, or that ends short or hashes otherwise (deleted while read), leaves nothing behind: the
   * blob stays absent here, as it is there.
   */
  private async fetch(shared: SharedBlobs, sha256: string, target: string): Promise<void> {
    const copy = await shared.openBlob(sha256);
    if (!copy) return;
    const temp = this.tempName();
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        copy.chunks,
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            hash.update(chunk);
            size += chunk.byteLength;
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
      if (size !== copy.size || hash.digest('hex') !== sha256) {
        await rm(temp, { force: true });
        return;
      }
      await this.settle(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /** Every stored blob's name, for the sweep at start-up. */
  async list(): Promise<string[]> {
    const names: string[] = [];
    for (const dir of await readdir(this.blobs).catch(() => [] as string[])) {
      for (const name of await readdir(path.join(this.blobs, dir)).catch(() => [] as string[])) {
        if (SHA256_HEX.test(name)) names.push(name);
      }
    }
    return names;
  }

  private tempName(): string {
    return path.join(this.tmp, randomBytes(12).toString('hex'));
  }

  private async settle(temp: string, target: string): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    await rename(temp, target);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
