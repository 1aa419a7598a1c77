// S3's buckets, objects, multipart uploads and their parts (the bytes live in the blob store).
import type { BucketDoc, ObjectDoc, PartDoc, UploadDoc } from '../../domain/s3.js';
import type { S3Repository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse, startsWith } from './db.js';

/**
 * S3's records. Keys are TEXT `COLLATE "C"`, which orders UTF-8 bytes as S3 lists keys; a prefix is
 * matched with an escaped LIKE so that `%` and `_` in keys mean nothing special.
 */
export class PostgresS3 implements S3Repository {
  constructor(private readonly db: Db) {}

  async getBucket(name: string) {
    return parse<BucketDoc>(await this.db.row('SELECT doc FROM s3_buckets WHERE name = $1', [name]));
  }

  async listBuckets() {
    const rows = await this.db.rows<{ name: string; region: string; created_at: string }>(
      'SELECT name, region, created_at FROM s3_buckets ORDER BY name',
    );
    return rows.map((r) => ({ name: r.name, region: r.region, createdAt: Number(r.created_at) }));
  }

  async createBucket(bucket: BucketDoc) {
    const created = await this.db.run(
      'INSERT INTO s3_buckets (name, region, created_at, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
      [bucket.name, bucket.region, bucket.createdAt, JSON.stringify(bucket)],
    );
    return created === 1;
  }

  async putBucket(bucket: BucketDoc) {
    await this.db.run(
      'INSERT INTO s3_buckets (name, region, created_at, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc',
      [bucket.name, bucket.region, bucket.createdAt, JSON.stringify(bucket)],
    );
  }

  deleteBucket(name: string) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM s3_parts WHERE upload_id IN (SELECT id FROM s3_uploads WHERE bucket = $1)', [name]);
      await db.run('DELETE FROM s3_uploads WHERE bucket = $1', [name]);
      await db.run('DELETE FROM s3_buckets WHERE name = $1', [name]);
    });
  }

  async getObject(bucket: string, key: string) {
    return parse<ObjectDoc>(await this.db.row('SELECT doc FROM s3_objects WHERE bucket = $1 AND key = $2', [bucket, key]));
  }

  putObject(object: ObjectDoc) {
    return this.db.atomic(async (db) => {
      const old = await db.row<{ blob: string }>('SELECT blob FROM s3_objects WHERE bucket = $1 AND key = $2', [object.bucket, object.key]);
      await db.run(
        'INSERT INTO s3_objects (bucket, key, blob, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (bucket, key) DO UPDATE SET blob = excluded.blob, doc = excluded.doc',
        [object.bucket, object.key, object.blob, JSON.stringify(object)],
      );
      return old?.blob;
    });
  }

  async deleteObject(bucket: string, key: string) {
    return (await this.db.row<{ blob: string }>('DELETE FROM s3_objects WHERE bucket = $1 AND key = $2 RETURNING blob', [bucket, key]))
      ?.blob;
  }

  async listObjects(bucket: string, filter: { prefix: string; after: string; limit: number }) {
    return docs<ObjectDoc>(
      await this.db.rows(
        "SELECT doc FROM s3_objects WHERE bucket = $1 AND key > $2 AND key >= $3 AND key LIKE $4 ESCAPE '\\' ORDER BY key LIMIT $5",
        [bucket, filter.after, filter.prefix, startsWith(filter.prefix), filter.limit],
      ),
    );
  }

  async hasObjects(bucket: string) {
    return (await this.db.row('SELECT 1 FROM s3_objects WHERE bucket = $1 LIMIT 1', [bucket])) !== undefined;
  }

  async getUpload(uploadId: string) {
    return parse<UploadDoc>(await this.db.row('SELECT doc FROM s3_uploads WHERE id = $1', [uploadId]));
  }

  async putUpload(upload: UploadDoc) {
    await this.db.run(
      'INSERT INTO s3_uploads (id, bucket, key, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc',
      [upload.uploadId, upload.bucket, upload.key, JSON.stringify(upload)],
    );
  }

  deleteUpload(uploadId: string) {
    return this.db.atomic(async (db) => {
      const blobs = (await db.rows<{ blob: string }>('DELETE FROM s3_parts WHERE upload_id = $1 RETURNING blob', [uploadId])).map(
        (r) => r.blob,
      );
      return (await db.run('DELETE FROM s3_uploads WHERE id = $1', [uploadId])) === 1 ? blobs : undefined;
    });
  }

  async listUploads(bucket: string) {
    return docs<UploadDoc>(await this.db.rows('SELECT doc FROM s3_uploads WHERE bucket = $1 ORDER BY key, id', [bucket]));
  }

  async countUploads(bucket: string) {
    return (await this.db.row<{ n: number }>('SELECT COUNT(*) AS n FROM s3_uploads WHERE bucket = $1', [bucket]))!.n;
  }

  putPart(part: PartDoc) {
    return this.db.atomic(async (db) => {
      const old = await db.row<{ blob: string }>('SELECT blob FROM s3_parts WHERE upload_id = $1 AND part_number = $2', [
        part.uploadId,
        part.partNumber,
      ]);
      await db.run(
        'INSERT INTO s3_parts (upload_id, part_number, blob, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (upload_id, part_number) DO UPDATE SET blob = excluded.blob, doc = excluded.doc',
        [part.uploadId, part.partNumber, part.blob, JSON.stringify(part)],
      );
      return old?.blob;
    });
  }

  async listParts(uploadId: string) {
    return docs<PartDoc>(await this.db.rows('SELECT doc FROM s3_parts WHERE upload_id = $1 ORDER BY part_number', [uploadId]));
  }

  async blobInUse(blob: string) {
    return inUse(this.db, blob);
  }

  putBlob(sha256: string, chunks: () => AsyncIterable<Uint8Array>) {
    // READ COMMITTED: a node writing the same blob at once waits on the first chunk's key, then finds
    // it there and writes nothing. The size row goes last, so a reader sees a copy only once it is whole.
    // A copy being deleted (deleteBlob) is waited for, then found gone and written again.
    return this.db.atomic(async (db) => {
      if (await db.row('SELECT 1 FROM s3_blobs WHERE sha256 = $1 FOR KEY SHARE', [sha256])) return;
      let seq = 0;
      let size = 0;
      for await (const chunk of chunks()) {
        await db.run('INSERT INTO s3_blob_chunks (sha256, seq, data) VALUES ($1, $2, $3) ON CONFLICT (sha256, seq) DO NOTHING', [
          sha256,
          seq++,
          Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
        ]);
        size += chunk.byteLength;
      }
      await db.run('INSERT INTO s3_blobs (sha256, size) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING', [sha256, size]);
    }, 'READ COMMITTED');
  }

  async openBlob(sha256: string) {
    const row = await this.db.row<{ size: string }>('SELECT size FROM s3_blobs WHERE sha256 = $1', [sha256]);
    if (!row) return undefined;
    const db = this.db;
    async function* chunks() {
      for (let seq = 0; ; seq++) {
        const chunk = await db.row<{ data: Buffer }>('SELECT data FROM s3_blob_chunks WHERE sha256 = $1 AND seq = $2', [sha256, seq]);
        if (!chunk) return;
        yield new Uint8Array(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
      }
    }
    return { size: Number(row.size), chunks: chunks() };
  }

  async holdBlob(sha256: string) {
    // KEY SHARE conflicts only with deleteBlob's FOR UPDATE: writers holding one blob never wait on each other.
    return (await this.db.row('SELECT 1 FROM s3_blobs WHERE sha256 = $1 FOR KEY SHARE', [sha256])) !== undefined;
  }

  deleteBlob(sha256: string) {
    // FOR UPDATE waits for the transactions holding the copy (holdBlob) to end; READ COMMITTED, the
    // next statement then sees the references they committed.
    return this.db.atomic(async (db) => {
      if (!(await db.row('SELECT 1 FROM s3_blobs WHERE sha256 = $1 FOR UPDATE', [sha256]))) return false;
      if (await inUse(db, sha256)) return false;
      await db.run('DELETE FROM s3_blobs WHERE sha256 = $1', [sha256]);
      await db.run('DELETE FROM s3_blob_chunks WHERE sha256 = $1', [sha256]);
      return true;
    }, 'READ COMMITTED');
  }
}

/** True when an object or a part points at the blob. */
async function inUse(db: Db, blob: string): Promise<boolean> {
  const row = await db.row('SELECT 1 FROM s3_objects WHERE blob = $1 UNION ALL SELECT 1 FROM s3_parts WHERE blob = $1 LIMIT 1', [blob]);
  return row !== undefined;
}
