// S3's buckets, objects, multipart uploads and their parts (the bytes live in the blob store).
import type { BucketDoc, ObjectDoc, PartDoc, UploadDoc } from '../../domain/s3.js';
import type { S3Repository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';

/**
 * S3's records. Keys are TEXT compared with SQLite's BINARY collation, which orders UTF-8 bytes as S3
 * lists keys; a prefix is matched with `substr` so that `%` and `_` in keys mean nothing special.
 */
export class SqliteS3 implements S3Repository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  getBucket(name: string) {
    return this.guard(() => parse<BucketDoc>(this.db.prepare('SELECT doc FROM s3_buckets WHERE name = ?').get(name)));
  }

  listBuckets() {
    return this.guard(() =>
      (
        this.db.prepare('SELECT name, region, created_at FROM s3_buckets ORDER BY name').all() as {
          name: string;
          region: string;
          created_at: number;
        }[]
      ).map((r) => ({ name: r.name, region: r.region, createdAt: r.created_at })),
    );
  }

  createBucket(bucket: BucketDoc) {
    return this.guard(
      () =>
        this.db
          .prepare('INSERT INTO s3_buckets (name, region, created_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING')
          .run(bucket.name, bucket.region, bucket.createdAt, JSON.stringify(bucket)).changes === 1,
    );
  }

  putBucket(bucket: BucketDoc) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO s3_buckets (name, region, created_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc',
        )
        .run(bucket.name, bucket.region, bucket.createdAt, JSON.stringify(bucket));
    });
  }

  deleteBucket(name: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM s3_parts WHERE upload_id IN (SELECT id FROM s3_uploads WHERE bucket = ?)').run(name);
        this.db.prepare('DELETE FROM s3_uploads WHERE bucket = ?').run(name);
        this.db.prepare('DELETE FROM s3_buckets WHERE name = ?').run(name);
      })();
    });
  }

  getObject(bucket: string, key: string) {
    return this.guard(() => parse<ObjectDoc>(this.db.prepare('SELECT doc FROM s3_objects WHERE bucket = ? AND key = ?').get(bucket, key)));
  }

  putObject(object: ObjectDoc) {
    return this.guard(() =>
      this.db.transaction(() => {
        const old = this.db.prepare('SELECT blob FROM s3_objects WHERE bucket = ? AND key = ?').get(object.bucket, object.key) as
          { blob: string } | undefined;
        this.db
          .prepare(
            'INSERT INTO s3_objects (bucket, key, blob, doc) VALUES (?, ?, ?, ?) ON CONFLICT(bucket, key) DO UPDATE SET blob = excluded.blob, doc = excluded.doc',
          )
          .run(object.bucket, object.key, object.blob, JSON.stringify(object));
        return old?.blob;
      })(),
    );
  }

  deleteObject(bucket: string, key: string) {
    return this.guard(() => {
      const row = this.db.prepare('DELETE FROM s3_objects WHERE bucket = ? AND key = ? RETURNING blob').get(bucket, key) as
        { blob: string } | undefined;
      return row?.blob;
    });
  }

  listObjects(bucket: string, filter: { prefix: string; after: string; limit: number }) {
    return this.guard(() =>
      docs<ObjectDoc>(
        this.db
          .prepare(
            'SELECT doc FROM s3_objects WHERE bucket = ? AND key > ? AND key >= ? AND substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?',
          )
          .all(bucket, filter.after, filter.prefix, filter.prefix, filter.prefix, filter.limit),
      ),
    );
  }

  hasObjects(bucket: string) {
    return this.guard(() => this.db.prepare('SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1').get(bucket) !== undefined);
  }

  getUpload(uploadId: string) {
    return this.guard(() => parse<UploadDoc>(this.db.prepare('SELECT doc FROM s3_uploads WHERE id = ?').get(uploadId)));
  }

  putUpload(upload: UploadDoc) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO s3_uploads (id, bucket, key, doc) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc')
        .run(upload.uploadId, upload.bucket, upload.key, JSON.stringify(upload));
    });
  }

  deleteUpload(uploadId: string) {
    return this.guard(() =>
      this.db.transaction(() => {
        const blobs = (this.db.prepare('DELETE FROM s3_parts WHERE upload_id = ? RETURNING blob').all(uploadId) as { blob: string }[]).map(
          (r) => r.blob,
        );
        return this.db.prepare('DELETE FROM s3_uploads WHERE id = ?').run(uploadId).changes === 1 ? blobs : undefined;
      })(),
    );
  }

  listUploads(bucket: string) {
    return this.guard(() => docs<UploadDoc>(this.db.prepare('SELECT doc FROM s3_uploads WHERE bucket = ? ORDER BY key, id').all(bucket)));
  }

  countUploads(bucket: string) {
    return this.guard(() => (this.db.prepare('SELECT COUNT(*) AS n FROM s3_uploads WHERE bucket = ?').get(bucket) as { n: number }).n);
  }

  putPart(part: PartDoc) {
    return this.guard(() =>
      this.db.transaction(() => {
        const old = this.db
          .prepare('SELECT blob FROM s3_parts WHERE upload_id = ? AND part_number = ?')
          .get(part.uploadId, part.partNumber) as { blob: string } | undefined;
        this.db
          .prepare(
            'INSERT INTO s3_parts (upload_id, part_number, blob, doc) VALUES (?, ?, ?, ?) ON CONFLICT(upload_id, part_number) DO UPDATE SET blob = excluded.blob, doc = excluded.doc',
          )
          .run(part.uploadId, part.partNumber, part.blob, JSON.stringify(part));
        return old?.blob;
      })(),
    );
  }

  listParts(uploadId: string) {
    return this.guard(() =>
      docs<PartDoc>(this.db.prepare('SELECT doc FROM s3_parts WHERE upload_id = ? ORDER BY part_number').all(uploadId)),
    );
  }

  blobInUse(blob: string) {
    return this.guard(() => this.inUse(blob));
  }

  private inUse(blob: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM s3_objects WHERE blob = ? UNION ALL SELECT 1 FROM s3_parts WHERE blob = ? LIMIT 1').get(blob, blob) !==
      undefined
    );
  }

  async putBlob(sha256: string, chunks: () => AsyncIterable<Uint8Array>) {
    // One process writes this store: chunks go in one statement at a time, the size row last, so a
    // reader sees a copy only once it is whole.
    if (await this.guard(() => this.db.prepare('SELECT 1 FROM s3_blobs WHERE sha256 = ?').get(sha256) !== undefined)) return;
    let seq = 0;
    let size = 0;
    for await (const chunk of chunks()) {
      const at = seq++;
      await this.guard(() =>
        this.db
          .prepare('INSERT INTO s3_blob_chunks (sha256, seq, data) VALUES (?, ?, ?) ON CONFLICT(sha256, seq) DO NOTHING')
          .run(sha256, at, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
      );
      size += chunk.byteLength;
    }
    await this.guard(() =>
      this.db.prepare('INSERT INTO s3_blobs (sha256, size) VALUES (?, ?) ON CONFLICT(sha256) DO NOTHING').run(sha256, size),
    );
  }

  async openBlob(sha256: string) {
    const row = await this.guard(
      () => this.db.prepare('SELECT size FROM s3_blobs WHERE sha256 = ?').get(sha256) as { size: number } | undefined,
    );
    if (!row) return undefined;
    const { db, guard } = this;
    async function* chunks() {
      for (let seq = 0; ; seq++) {
        const chunk = await guard(
          () => db.prepare('SELECT data FROM s3_blob_chunks WHERE sha256 = ? AND seq = ?').get(sha256, seq) as { data: Buffer } | undefined,
        );
        if (!chunk) return;
        yield new Uint8Array(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
      }
    }
    return { size: row.size, chunks: chunks() };
  }

  holdBlob(sha256: string) {
    // One writer at a time: nothing can delete the copy while the transaction asking runs.
    return this.guard(() => this.db.prepare('SELECT 1 FROM s3_blobs WHERE sha256 = ?').get(sha256) !== undefined);
  }

  deleteBlob(sha256: string) {
    return this.guard(() =>
      this.db.transaction(() => {
        if (this.inUse(sha256)) return false;
        const deleted = this.db.prepare('DELETE FROM s3_blobs WHERE sha256 = ?').run(sha256).changes === 1;
        this.db.prepare('DELETE FROM s3_blob_chunks WHERE sha256 = ?').run(sha256);
        return deleted;
      })(),
    );
  }
}
