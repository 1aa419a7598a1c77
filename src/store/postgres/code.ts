// Code packages (the zip files functions run), keyed by their SHA-256.
import type { CodeRepository } from '../store.js';
import type { Db } from './db.js';

export class PostgresCode implements CodeRepository {
  constructor(private readonly db: Db) {}

  async put(sha256: string, zip: Uint8Array) {
    await this.db.run('INSERT INTO code_packages (sha256, size, zip) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING', [
      sha256,
      zip.byteLength,
      Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength),
    ]);
  }

  async get(sha256: string) {
    const row = await this.db.row<{ zip: Buffer }>('SELECT zip FROM code_packages WHERE sha256 = $1', [sha256]);
    return row ? new Uint8Array(row.zip) : undefined;
  }
}
