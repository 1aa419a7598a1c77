// Code packages (the zip files functions run), keyed by their SHA-256.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CodeRepository } from '../store.js';
import type { Db, Guard } from './db.js';

/** A package's key: its SHA-256 in base64, as Lambda's CodeSha256 is. */
const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Each package is a file beside the database (`packages/ab/abcd….zip`), written and read through the
 * thread pool: a package is up to 50 MB zipped and 250 MB unzipped, and as a row of the database its
 * insert, commit and read ran on the event loop, where a 40 MB UpdateFunctionCode held every other
 * request for over a second. A file is written under a temporary name, flushed and renamed into place,
 * so it is whole or absent; it is written before the function that names it is committed (a transaction
 * that then fails leaves a package no one names, as a failed write of a row with the same key would have
 * kept it). Packages stored by an earlier Versa, as rows, are still read from the database.
 */
export class SqliteCode implements CodeRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
    private readonly dir: string,
  ) {}

  /**
   * Where a package lives, named by its hash in hexadecimal (base64 holds `/`); throws for a key that is
   * not a SHA-256, so no caller can point outside the directory.
   */
  private fileOf(sha256: string): string {
    if (!SHA256_BASE64.test(sha256)) throw new Error(`not a package key: ${sha256.slice(0, 80)}`);
    const hex = Buffer.from(sha256, 'base64').toString('hex');
    return path.join(this.dir, hex.slice(0, 2), `${hex}.zip`);
  }

  async put(sha256: string, zip: Uint8Array): Promise<void> {
    const file = this.fileOf(sha256);
    if (await exists(file)) return;
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(zip);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.fileOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return this.guard(() => {
      const row = this.db.prepare('SELECT zip FROM code_packages WHERE sha256 = ?').get(sha256) as { zip: Buffer } | undefined;
      return row ? new Uint8Array(row.zip) : undefined;
    });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
