/**
 * A request's body, taken in as it arrives. Past LARGE_BODY_BYTES it is also hashed as it comes (SHA-256,
 * and MD5 for what S3 may store), a piece at a time between other requests' work: hashed whole at its
 * end, a 60 MB S3 upload held every other request for about 200 ms (the hash its `x-amz-content-sha256`
 * is checked against, then the two S3 names the object by), and a signed UpdateFunctionCode of 50 MB for
 * about 100 ms more than an unsigned one (its signature covers the body's hash).
 */
import { createHash, type Hash } from 'node:crypto';
import type { BodyDigests } from '../api/aws/protocol/http.js';

export const LARGE_BODY_BYTES = 1024 * 1024;

export class BodyCollector {
  private chunks: Buffer[] = [];
  private length = 0;
  private sha256: Hash | undefined;
  private md5: Hash | undefined;
  private done: BodyDigests | undefined;

  constructor(
    /** Whether the body may become an S3 object or part, which S3 names by its MD5 too; asked once, of a large body. */
    private readonly forS3: () => boolean,
  ) {}

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length <= LARGE_BODY_BYTES) return;
    if (this.sha256 === undefined) {
      this.sha256 = createHash('sha256');
      if (this.forS3()) this.md5 = createHash('md5');
      // What came before this piece: hashed now, once.
      for (const earlier of this.chunks) this.update(earlier);
      return;
    }
    this.update(chunk);
  }

  /** Lets go of what was taken (the body was refused). */
  drop(): void {
    this.chunks = [];
    this.length = 0;
  }

  /** The body, whole. */
  body(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  /** The hashes of a large body, once it has all come; undefined for a small one. */
  digests(): BodyDigests | undefined {
    if (this.sha256 === undefined) return undefined;
    this.done ??= { sha256: this.sha256.digest('hex'), ...(this.md5 && { md5: this.md5.digest('hex') }) };
    return this.done;
  }

  private update(piece: Buffer): void {
    this.sha256!.update(piece);
    this.md5?.update(piece);
  }
}
