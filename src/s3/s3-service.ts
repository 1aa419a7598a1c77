import { createHash } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { Clock } from '../core/clock.js';
import { hexId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { BucketDoc, BucketSetting, ObjectAttributes, ObjectDoc, PartDoc, UploadDoc } from '../domain/s3.js';
import { Mutex } from '../store/mutex.js';
import type { Store } from '../store/store.js';
import { BlobStore, type BlobInfo } from './blob-store.js';
import { crc32c } from './crc32c.js';
import { invalidArgument, noSuchBucket, noSuchKey, noSuchUpload, S3Error } from './errors.js';
import {
  MAX_KEY_BYTES,
  MAX_OBJECT_BYTES,
  MAX_OPEN_UPLOADS,
  FUNCTIONS_SHARE,
  MAX_PART_NUMBER,
  MIN_PART_BYTES,
  validateBucketName,
} from './limits.js';

export interface PutObjectInput extends ObjectAttributes {
  bucket: string;
  key: string;
  data: Uint8Array;
  /** The `Content-MD5` header, base64. */
  contentMd5?: string;
  /** An `x-amz-checksum-*` value the client sent, in a header or a trailer. */
  checksum?: { algorithm: string; value: string };
  /** The data's hashes when they were already taken (a large body, as it arrived): not computed again. */
  hashed?: { sha256: string; md5: string };
  /** The function whose key writes it (ObjectDoc.byFunction). */
  byFunction?: string;
  /** A conditional write's condition on the object it replaces (`If-None-Match: *`, `If-Match`). */
  condition?: WriteCondition;
}

/**
 * What a conditional write requires of the key's current object, checked in the transaction that
 * writes, so that of two writers racing to create a key only one succeeds.
 */
export type WriteCondition = { ifNoneMatch: true } | { ifMatch: readonly string[] };

export interface ListInput {
  prefix: string;
  delimiter: string;
  /** Keys (and common prefixes) at or before this one are skipped: StartAfter, a continuation token, a Marker. */
  after: string;
  maxKeys: number;
}

export interface ListOutput {
  contents: ObjectDoc[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix listed, where the next page starts. */
  last: string | undefined;
}

export interface CopyInput {
  sourceBucket: string;
  sourceKey: string;
  sourceVersionId?: string;
  bucket: string;
  key: string;
  /** REPLACE's new attributes; undefined copies the source's (COPY). */
  replace?: ObjectAttributes;
  /** The function whose key writes the copy (ObjectDoc.byFunction). */
  byFunction?: string;
  /** A conditional write's condition on the object the copy replaces. */
  condition?: WriteCondition;
}

export interface DeleteResult {
  key: string;
  error?: { code: string; message: string };
}

const CHECKSUMS: Record<string, ((data: Uint8Array) => string) | undefined> = {
  CRC32: (data) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(crc32(data));
    return b.toString('base64');
  },
  CRC32C: (data) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(crc32c(data));
    return b.toString('base64');
  },
  SHA1: (data) => createHash('sha1').update(data).digest('base64'),
  SHA256: (data) => createHash('sha256').update(data).digest('base64'),
  // CRC64NVME is stored and returned as sent: Node has no implementation to check it with.
  CRC64NVME: undefined,
};
/** Each checksum's width in bytes. */
const CHECKSUM_BYTES: Record<string, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };
const LIST_BATCH = 1000;
/** How many times a write re-keeps a blob's shared copy that other nodes keep deleting before it gives up. */
const SHARE_ATTEMPTS = 5;

/** Thrown in a write's transaction to roll it back: the blob it points at has no shared copy (any more). */
class SharedCopyGone extends Error {}

/** A key above every key that starts with `prefix` (keys are at most MAX_KEY_BYTES), and below every other key above it. */
function beyondPrefix(prefix: string): string {
  return prefix + '\u{10FFFF}'.repeat(MAX_KEY_BYTES / 4);
}

/**
 * Versa's S3, for deployment artifacts: buckets, objects (bytes in a content-addressed BlobStore,
 * records in the store), multipart uploads, and bucket settings kept as they were sent. Knows nothing
 * of HTTP. Writes that point records at blobs, and the removal of blobs nothing points at any more,
 * take one lock, so a blob's file is never removed between being written and being referenced. What
 * must hold across nodes sharing the store is decided in the store transaction that writes: that the
 * blob's shared copy is there (and stays), and that a function's key changes no operator's object.
 */
export class S3Service {
  private readonly lock = new Mutex();

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Prepares the blob directory and removes blobs no record points at (left by a crash between the two). */
  async start(): Promise<void> {
    await this.blobs.open();
    await this.release(await this.blobs.list());
  }

  /** The service's clock, for the conditions a request states in dates. */
  now(): number {
    return this.clock.now();
  }

  // Buckets

  async createBucket(name: string, region: string): Promise<{ created: boolean }> {
    validateBucketName(name);
    const created = await this.store.s3.createBucket({ name, region, createdAt: this.clock.now(), settings: {} });
    if (!created) {
      const existing = await this.store.s3.getBucket(name);
      // us-east-1 answers a repeated CreateBucket of one's own bucket with 200, other regions with 409.
      if (existing && existing.region === 'us-east-1' && region === 'us-east-1') return { created: false };
      throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', {
        BucketName: name,
      });
    }
    return { created: true };
  }

  async bucket(name: string): Promise<BucketDoc> {
    const bucket = await this.store.s3.getBucket(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }

  listBuckets(): Promise<Pick<BucketDoc, 'name' | 'region' | 'createdAt'>[]> {
    return this.store.s3.listBuckets();
  }

  async deleteBucket(name: string): Promise<void> {
    await this.bucket(name);
    if (await this.store.s3.hasObjects(name)) {
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
    }
    const blobs: string[] = [];
    for (const upload of await this.store.s3.listUploads(name)) blobs.push(...((await this.store.s3.deleteUpload(upload.uploadId)) ?? []));
    await this.store.s3.deleteBucket(name);
    await this.release(blobs);
  }

  async setting(name: string, setting: BucketSetting): Promise<string | undefined> {
    return (await this.bucket(name)).settings[setting];
  }

  /** Stores (or, with undefined, deletes) a bucket setting's document. */
  async putSetting(name: string, setting: BucketSetting, document: string | undefined): Promise<void> {
    await this.lock.run(async () => {
      const bucket = await this.bucket(name);
      const settings = { ...bucket.settings };
      if (document === undefined) delete settings[setting];
      else settings[setting] = document;
      await this.store.s3.putBucket({ ...bucket, settings });
    });
  }

  async putVersioning(name: string, status: 'Enabled' | 'Suspended'): Promise<void> {
    await this.lock.run(async () => {
      const bucket = await this.bucket(name);
      await this.store.s3.putBucket({ ...bucket, versioning: status });
    });
  }

  // Objects

  async putObject(input: PutObjectInput): Promise<ObjectDoc> {
    const bucket = await this.bucket(input.bucket);
    checkKey(input.key);
    const info = BlobStore.describe(input.data, input.hashed);
    checkDigests(input, info, input.data, 'hex');
    const temp = await this.blobs.stage(input.data);
    const condition = input.condition;
    return this.writeObject(
      bucket,
      temp,
      info,
      {
        bucket: input.bucket,
        key: input.key,
        contentType: input.contentType,
        metadata: input.metadata,
        headers: input.headers,
        etag: info.md5,
        ...(input.checksum && { checksum: input.checksum }),
        ...(input.byFunction !== undefined && { byFunction: input.byFunction }),
      },
      condition && ((tx) => checkWriteCondition(tx, input.bucket, input.key, condition)),
    );
  }

  /** The current object, or the version asked for (only the latest version is kept). */
  async getObject(bucketName: string, key: string, versionId?: string): Promise<ObjectDoc> {
    const bucket = await this.bucket(bucketName);
    if (versionId !== undefined && versionId !== 'null' && bucket.versioning === undefined) {
      throw new S3Error('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
    }
    const object = await this.store.s3.getObject(bucketName, key);
    if (versionId !== undefined && (object?.versionId ?? 'null') !== versionId) {
      throw new S3Error('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
    }
    if (!object) throw noSuchKey(key);
    return object;
  }

  /** An object's bytes, or the inclusive range of them, as a stream. */
  open(object: ObjectDoc, range?: { start: number; end: number }): Promise<ReadStream> {
    return this.blobs.stream(object.blob, range);
  }

  /**
   * The whole of an object Versa reads for itself (Lambda's code, a stack's template). When it deploys
   * from it, its bucket is marked as holding artifacts (BucketDoc.artifacts) first; a template only
   * looked at (ValidateTemplate, which functions may call) marks nothing.
   */
  async read(bucket: string, key: string, versionId?: string, deploying = true): Promise<Uint8Array> {
    const object = await this.getObject(bucket, key, versionId);
    if (deploying) {
      await this.lock.run(async () => {
        const doc = await this.store.s3.getBucket(bucket);
        if (doc && !doc.artifacts) await this.store.s3.putBucket({ ...doc, artifacts: true });
      });
    }
    return this.blobs.read(object.blob);
  }

  /** Deletes an object if it exists (S3 answers the same either way); a function's key only one a function wrote. */
  async deleteObject(bucketName: string, key: string, byFunction?: string): Promise<void> {
    await this.bucket(bucketName);
    const blob = await this.removeObject(bucketName, key, byFunction);
    if (blob !== undefined) await this.release([blob]);
  }

  async deleteObjects(bucketName: string, keys: readonly string[], byFunction?: string): Promise<DeleteResult[]> {
    await this.bucket(bucketName);
    const results: DeleteResult[] = [];
    const freed: string[] = [];
    for (const key of keys) {
      if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
        results.push({ key, error: { code: 'KeyTooLongError', message: 'Your key is too long' } });
        continue;
      }
      const blob = await this.removeObject(bucketName, key, byFunction).catch((err: unknown) => {
        if (err instanceof S3Error && err.code === 'AccessDenied') return err;
        throw err;
      });
      if (blob instanceof S3Error) {
        results.push({ key, error: { code: blob.code, message: blob.message } });
        continue;
      }
      if (blob !== undefined) freed.push(blob);
      results.push({ key });
    }
    await this.release(freed);
    return results;
  }

  /**
   * Deletes an object under the lock; returns its blob. A function's key (`byFunction`) is checked in
   * the transaction that deletes, so that an operator's write through another node between the check and
   * the delete makes the transaction run again and refuse.
   */
  private removeObject(bucketName: string, key: string, byFunction: string | undefined): Promise<string | undefined> {
    return this.lock.run(() => {
      if (byFunction === undefined) return this.store.s3.deleteObject(bucketName, key);
      return this.store.transaction(async (tx) => {
        await this.mayChange(tx, bucketName, key, byFunction);
        return tx.s3.deleteObject(bucketName, key);
      });
    });
  }

  async listObjects(bucketName: string, input: ListInput): Promise<ListOutput> {
    await this.bucket(bucketName);
    const out: ListOutput = { contents: [], commonPrefixes: [], truncated: false, last: undefined };
    if (input.maxKeys <= 0) return out;
    const { prefix, delimiter, after } = input;
    let cursor = after;
    let count = 0;
    for (;;) {
      const batch = await this.store.s3.listObjects(bucketName, { prefix, after: cursor, limit: LIST_BATCH });
      let common: string | undefined;
      for (const object of batch) {
        cursor = object.key;
        common = undefined;
        if (delimiter !== '') {
          const at = object.key.indexOf(delimiter, prefix.length);
          if (at >= 0) common = object.key.slice(0, at + delimiter.length);
        }
        // A common prefix already listed, on this page or (the marker being in it) an earlier one.
        if (common !== undefined && (common === out.commonPrefixes.at(-1) || (after !== '' && after.startsWith(common)))) continue;
        if (count === input.maxKeys) {
          out.truncated = true;
          return out;
        }
        count++;
        if (common !== undefined) {
          out.commonPrefixes.push(common);
          out.last = common;
        } else {
          out.contents.push(object);
          out.last = object.key;
        }
      }
      if (batch.length < LIST_BATCH) return out;
      // The rest of the common prefix a batch ended in adds nothing to the listing: the next batch starts
      // past all of it (one folder of 100,000 keys under a delimiter is one read, not a hundred).
      if (common !== undefined) cursor = beyondPrefix(common);
    }
  }

  async copyObject(input: CopyInput): Promise<ObjectDoc> {
    const source = await this.getObject(input.sourceBucket, input.sourceKey, input.sourceVersionId);
    const bucket = await this.bucket(input.bucket);
    checkKey(input.key);
    if (input.sourceBucket === input.bucket && input.sourceKey === input.key && input.replace === undefined) {
      throw new S3Error(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const attributes = input.replace ?? { contentType: source.contentType, metadata: source.metadata, headers: source.headers };
    const fields = { bucket: input.bucket, key: input.key, ...attributes, etag: source.etag };
    const object = this.record(bucket, { ...fields, ...(input.byFunction !== undefined && { byFunction: input.byFunction }) }, source);
    if (source.checksum) object.checksum = source.checksum;
    // The copy keeps the source's ETag, so its parts too.
    if (source.partSizes) object.partSizes = source.partSizes;
    const old = await this.lock.run(() =>
      // The bytes are shared: a copy is a second record pointing at the same blob.
      this.referencing(source.blob, async (tx) => {
        const current = await tx.s3.getObject(input.sourceBucket, input.sourceKey);
        if (!current || current.blob !== source.blob) throw noSuchKey(input.sourceKey);
        await this.mayChange(tx, input.bucket, input.key, input.byFunction);
        if (input.condition) await checkWriteCondition(tx, input.bucket, input.key, input.condition);
        return tx.s3.putObject(object);
      }),
    );
    if (old !== undefined && old !== object.blob) await this.release([old]);
    return object;
  }

  // Multipart uploads

  /**
   * `byFunction`: started with that function's key, which may not take the last tenth of a bucket's
   * uploads (FUNCTIONS_SHARE), nor replace an object an operator wrote (refused here already, and again
   * when the upload completes).
   */
  async createUpload(bucketName: string, key: string, attributes: ObjectAttributes, byFunction?: string): Promise<UploadDoc> {
    await this.bucket(bucketName);
    checkKey(key);
    await this.mayChange(this.store, bucketName, key, byFunction);
    const upload: UploadDoc = {
      uploadId: hexId(32),
      bucket: bucketName,
      key,
      initiated: this.clock.now(),
      ...attributes,
      ...(byFunction !== undefined && { byFunction }),
    };
    await this.lock.run(async () => {
      const limit = byFunction !== undefined ? Math.floor(MAX_OPEN_UPLOADS * FUNCTIONS_SHARE) : MAX_OPEN_UPLOADS;
      if ((await this.store.s3.countUploads(bucketName)) >= limit) {
        throw new S3Error(
          'InvalidRequest',
          `A bucket may have at most ${MAX_OPEN_UPLOADS} multipart uploads in progress; complete or abort some first.`,
        );
      }
      await this.store.s3.putUpload(upload);
    });
    return upload;
  }

  async uploadPart(
    bucketName: string,
    key: string,
    uploadId: string,
    partNumber: number,
    data: Uint8Array,
    digests: Pick<PutObjectInput, 'contentMd5' | 'checksum' | 'hashed'>,
    /** The function whose key sends the part: it may add only to an upload a function started. */
    byFunction?: string,
  ): Promise<PartDoc> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw invalidArgument(`Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, 'partNumber', String(partNumber));
    }
    await this.upload(bucketName, key, uploadId, byFunction);
    const info = BlobStore.describe(data, digests.hashed);
    checkDigests(digests, info, data, 'base64');
    const temp = await this.blobs.stage(data);
    const part: PartDoc = { uploadId, partNumber, blob: info.sha256, size: info.size, etag: info.md5, lastModified: this.clock.now() };
    const old = await this.lock
      .run(async () => {
        await this.blobs.commit(temp, info.sha256);
        return this.referencing(info.sha256, async (tx) => {
          // Aborted while the part was being written: nothing may point at the blob.
          if (!(await tx.s3.getUpload(uploadId))) throw noSuchUpload(uploadId);
          return tx.s3.putPart(part);
        });
      })
      .catch(async (err: unknown) => {
        await this.release([info.sha256]);
        throw err;
      });
    if (old !== undefined && old !== info.sha256) await this.release([old]);
    return part;
  }

  async completeUpload(
    bucketName: string,
    key: string,
    uploadId: string,
    asked: readonly { partNumber: number; etag: string }[],
    byFunction?: string,
    condition?: WriteCondition,
  ): Promise<ObjectDoc> {
    const bucket = await this.bucket(bucketName);
    const upload = await this.upload(bucketName, key, uploadId, byFunction);
    if (asked.length === 0) {
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    }
    // Checked in S3's order: the list's order, then that each part is there, then the sizes.
    for (let i = 1; i < asked.length; i++) {
      if (asked[i]!.partNumber <= asked[i - 1]!.partNumber) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', {
          UploadId: uploadId,
        });
      }
    }
    const stored = new Map((await this.store.s3.listParts(uploadId)).map((p) => [p.partNumber, p]));
    // Parts gone with their upload (a Complete or Abort ended it since it was read) say so as S3 does.
    if (asked.some((want) => !stored.has(want.partNumber)) && !(await this.store.s3.getUpload(uploadId))) throw noSuchUpload(uploadId);
    const parts = asked.map((want) => {
      const part = stored.get(want.partNumber);
      if (!part || part.etag !== want.etag.replace(/"/g, '')) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
          { UploadId: uploadId, PartNumber: want.partNumber, ETag: want.etag.replace(/"/g, '') },
        );
      }
      return part;
    });
    for (const part of parts.slice(0, -1)) {
      if (part.size < MIN_PART_BYTES) {
        throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
          ProposedSize: part.size,
          MinSizeAllowed: MIN_PART_BYTES,
          PartNumber: part.partNumber,
          ETag: part.etag,
        });
      }
    }
    const total = parts.reduce((sum, p) => sum + p.size, 0);
    if (total > MAX_OBJECT_BYTES) {
      throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
        ProposedSize: total,
        MaxSizeAllowed: MAX_OBJECT_BYTES,
      });
    }
    let joined: BlobInfo & { temp: string };
    try {
      joined = await this.blobs.concat(parts.map((p) => p.blob));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw noSuchUpload(uploadId);
      throw err;
    }
    let partBlobs: string[] = [];
    const md5s = Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex')));
    const etag = `${createHash('md5').update(md5s).digest('hex')}-${parts.length}`;
    const object = await this.writeObject(
      bucket,
      joined.temp,
      joined,
      {
        bucket: bucketName,
        key,
        contentType: upload.contentType,
        metadata: upload.metadata,
        headers: upload.headers,
        etag,
        partSizes: parts.map((p) => p.size),
        ...(byFunction !== undefined && { byFunction }),
      },
      // The upload ends in the transaction that writes the object: a concurrent Abort (or Complete),
      // on this node or another, then finds it gone and answers NoSuchUpload, never both succeeding.
      async (tx) => {
        if (condition) await checkWriteCondition(tx, bucketName, key, condition);
        const deleted = await tx.s3.deleteUpload(uploadId);
        if (deleted === undefined) throw noSuchUpload(uploadId);
        partBlobs = deleted;
      },
    );
    await this.release(partBlobs);
    return object;
  }

  async abortUpload(bucketName: string, key: string, uploadId: string, byFunction?: string): Promise<void> {
    await this.upload(bucketName, key, uploadId, byFunction);
    // Refused when a Complete (or another Abort) ended the upload since it was read above.
    const blobs = await this.lock.run(() => this.store.s3.deleteUpload(uploadId));
    if (blobs === undefined) throw noSuchUpload(uploadId);
    await this.release(blobs);
  }

  async listParts(bucketName: string, key: string, uploadId: string): Promise<{ upload: UploadDoc; parts: PartDoc[] }> {
    const upload = await this.upload(bucketName, key, uploadId);
    return { upload, parts: await this.store.s3.listParts(uploadId) };
  }

  async listUploads(bucketName: string): Promise<UploadDoc[]> {
    await this.bucket(bucketName);
    return this.store.s3.listUploads(bucketName);
  }

  /** An upload in progress; to a function's key (`byFunction`), only one a function started (else AccessDenied). */
  private async upload(bucketName: string, key: string, uploadId: string, byFunction?: string): Promise<UploadDoc> {
    await this.bucket(bucketName);
    const upload = await this.store.s3.getUpload(uploadId);
    if (!upload || upload.bucket !== bucketName || upload.key !== key) throw noSuchUpload(uploadId);
    if (byFunction !== undefined && upload.byFunction === undefined) throw new S3Error('AccessDenied', 'Access Denied');
    return upload;
  }

  /** A new object record, versioned when the bucket's versioning is Enabled. */
  private record(
    bucket: BucketDoc,
    fields: Pick<ObjectDoc, 'bucket' | 'key' | 'contentType' | 'metadata' | 'headers' | 'etag'> &
      Partial<Pick<ObjectDoc, 'checksum' | 'byFunction' | 'partSizes'>>,
    blob: { blob: string; size: number } | BlobInfo,
  ): ObjectDoc {
    const sha = 'sha256' in blob ? blob.sha256 : blob.blob;
    return {
      ...fields,
      blob: sha,
      size: blob.size,
      lastModified: this.clock.now(),
      ...(bucket.versioning === 'Enabled' && { versionId: hexId(16) }),
    };
  }

  /** Commits a staged blob and the record pointing at it under the lock; frees the blob it replaced. */
  private async writeObject(
    bucket: BucketDoc,
    temp: string,
    info: BlobInfo,
    fields: Parameters<S3Service['record']>[1],
    precondition?: (tx: Store) => Promise<void>,
  ): Promise<ObjectDoc> {
    const object = this.record(bucket, fields, info);
    let old: string | undefined;
    try {
      old = await this.lock.run(async () => {
        await this.blobs.commit(temp, info.sha256);
        return this.referencing(info.sha256, async (tx) => {
          // The bucket may have gone while the bytes were being written.
          if (!(await tx.s3.getBucket(bucket.name))) throw noSuchBucket(bucket.name);
          await this.mayChange(tx, bucket.name, fields.key, fields.byFunction);
          await precondition?.(tx);
          return tx.s3.putObject(object);
        });
      });
    } catch (err) {
      await this.blobs.discard(temp);
      await this.release([info.sha256]);
      throw err;
    }
    if (old !== undefined && old !== info.sha256) await this.release([old]);
    return object;
  }

  /**
   * Runs `write`, which points a record at `blob`, as one store transaction that (nodes sharing the
   * store) also holds the blob's shared copy, so that no node deletes the copy between here and the
   * record's commit. A copy another node deleted since this one committed the blob (its file here
   * outlives that) is kept again from this node's file, and the write runs again.
   */
  private async referencing<T>(blob: string, write: (tx: Store) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.transaction(async (tx) => {
          const result = await write(tx);
          if (this.blobs.sharing && !(await tx.s3.holdBlob(blob))) throw new SharedCopyGone(`blob ${blob}'s shared copy is gone`);
          return result;
        });
      } catch (err) {
        if (!(err instanceof SharedCopyGone) || attempt >= SHARE_ATTEMPTS) throw err;
      }
      if (!(await this.blobs.share(blob))) throw new Error(`blob ${blob} has no copy on this node nor in the shared store`);
      this.logger.info('kept again the shared copy of an S3 blob another node had deleted', { blob });
    }
  }

  /**
   * Refuses a function's key (`byFunction`) an object an operator wrote last (ObjectDoc.byFunction), as
   * S3 refuses a role no policy allows: 403 AccessDenied. Called with the transaction that then makes
   * the change (the process's lock alone does not hold back other nodes); a check outside one, as when
   * an upload starts, only refuses early.
   */
  private async mayChange(store: Store, bucket: string, key: string, byFunction: string | undefined): Promise<void> {
    if (byFunction === undefined) return;
    const current = await store.s3.getObject(bucket, key);
    if (current && current.byFunction === undefined) throw new S3Error('AccessDenied', 'Access Denied');
  }

  /** Removes the blobs that no object or part points at any more. */
  private async release(blobs: readonly string[]): Promise<void> {
    const unique = [...new Set(blobs)];
    if (unique.length === 0) return;
    await this.lock.run(async () => {
      for (const blob of unique) {
        if (!(await this.store.s3.blobInUse(blob))) await this.blobs.remove(blob);
      }
    });
  }
}

function checkKey(key: string): void {
  if (key === '') throw new S3Error('InvalidArgument', 'Object key must not be empty', { ArgumentName: 'key', ArgumentValue: '' });
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: MAX_KEY_BYTES, Size: Buffer.byteLength(key) });
  }
}

/** A conditional write's condition against the key's current object, as S3 answers it: 412, or 404 for If-Match on no object. */
async function checkWriteCondition(tx: Store, bucket: string, key: string, condition: WriteCondition): Promise<void> {
  const current = await tx.s3.getObject(bucket, key);
  const failed = (name: string) =>
    new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: name });
  if ('ifNoneMatch' in condition) {
    if (current) throw failed('If-None-Match');
    return;
  }
  if (!current) throw noSuchKey(key);
  if (!condition.ifMatch.includes(current.etag)) throw failed('If-Match');
}

/**
 * Refuses bytes whose Content-MD5 or checksum does not match what was received. S3's BadDigest repeats
 * the MD5 it expected in hex for PutObject and as sent (base64) for UploadPart: `expectedAs` says which.
 */
function checkDigests(
  input: Pick<PutObjectInput, 'contentMd5' | 'checksum'>,
  info: BlobInfo,
  data: Uint8Array,
  expectedAs: 'hex' | 'base64',
): void {
  if (input.contentMd5 !== undefined) {
    const given = Buffer.from(input.contentMd5, 'base64');
    if (given.length !== 16 || given.toString('base64') !== input.contentMd5.trim()) {
      throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': input.contentMd5 });
    }
    if (given.toString('hex') !== info.md5) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
        ExpectedDigest: expectedAs === 'hex' ? given.toString('hex') : input.contentMd5,
        CalculatedDigest: Buffer.from(info.md5, 'hex').toString('base64'),
      });
    }
  }
  checkChecksum(input.checksum, data);
}

/** Refuses bytes whose `x-amz-checksum-*` does not match them; unknown algorithms are refused too. */
function checkChecksum(checksum: { algorithm: string; value: string } | undefined, data: Uint8Array): void {
  if (!checksum) return;
  if (!Object.hasOwn(CHECKSUMS, checksum.algorithm)) {
    throw new S3Error(
      'InvalidRequest',
      `The algorithm type you specified in x-amz-checksum-${checksum.algorithm.toLowerCase()} header is invalid.`,
    );
  }
  // Not base64 of the algorithm's width: S3 refuses the header before it compares anything.
  const width = Buffer.from(checksum.value, 'base64');
  if (width.length !== CHECKSUM_BYTES[checksum.algorithm] || width.toString('base64') !== checksum.value) {
    throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${checksum.algorithm.toLowerCase()} header is invalid.`);
  }
  const compute = CHECKSUMS[checksum.algorithm];
  if (compute && compute(data) !== checksum.value) {
    throw new S3Error('BadDigest', `The ${checksum.algorithm} you specified did not match the calculated checksum.`);
  }
}
