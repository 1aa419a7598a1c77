// What every SQLite repository shares: the database handle, the store's lock, and rows that hold a JSON document.
import { readDocument } from '../documents.js';
import type Database from 'better-sqlite3';

export type Db = Database.Database;
/** Runs a synchronous database step under the store's lock (outside a transaction) or directly (inside one). */
export type Guard = <T>(step: () => T) => Promise<T>;

/** The document of a `SELECT doc` row, or undefined when there is no row. */
export const parse = <T>(row: unknown): T | undefined => (row ? readDocument<T>((row as { doc: string }).doc) : undefined);
/** The documents of `SELECT doc` rows. */
export const docs = <T>(rows: unknown[]): T[] => (rows as { doc: string }[]).map((r) => readDocument<T>(r.doc));
