// Code packages (the zip files functions run), keyed by their SHA-256.
import type { CodeRepository } from '../store.js';
import type { Db, Guard } from './db.js';

export class SqliteCode implements CodeRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  put(sha256: string, zip: Uint8Array) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO code_packages (sha256, size, zip) VALUES (?, ?, ?) ON CONFLICT(sha256) DO NOTHING')
        .run(sha256, zip.byteLength, Buffer.from(zip));
    });
  }

  get(sha256: string) {
    return this.guard(() => {
      const row = this.db.prepare('SELECT zip FROM code_packages WHERE sha256 = ?').get(sha256) as { zip: Buffer } | undefined;
      return row ? new Uint8Array(row.zip) : undefined;
    });
  }
}
