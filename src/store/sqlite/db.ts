// What every SQLite repository shares: the database handle, the store's lock, and rows that hold a JSON document.
import { readDocument } from '../documents.js';
import type Database from 'better-sqlite3';

export type Db = Database.Database;
/**
 * Runs a database step under the store's lock (outside a transaction) or directly (inside one). A step is
 * synchronous, or a batch handed to the log writer's thread, which holds the lock until it is written.
 */
export type Guard = <T>(step: () => T | Promise<T>) => Promise<T>;

/** What every connection to the file sets: the store's and the log writer's (log-writer.ts). */
export function configure(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
}

/** The document of a `SELECT doc` row, or undefined when there is no row. */
export const parse = <T>(row: unknown): T | undefined => (row ? readDocument<T>((row as { doc: string }).doc) : undefined);
/** The documents of `SELECT doc` rows. */
export const docs = <T>(rows: unknown[]): T[] => (rows as { doc: string }[]).map((r) => readDocument<T>(r.doc));
