// What every SQLite repository shares: the database handle, the store's lock, and rows that hold a JSON document.
import type Database from 'better-sqlite3';

export type Db = Database.Database;
/** Runs a synchronous database step under the store's lock (outside a transaction) or directly (inside one). */
export type Guard = <T>(step: () => T) => Promise<T>;

/** The document of a `SELECT doc` row, or undefined when there is no row. */
export const parse = <T>(row: unknown): T | undefined => (row ? (JSON.parse((row as { doc: string }).doc) as T) : undefined);
/** The documents of `SELECT doc` rows. */
export const docs = <T>(rows: unknown[]): T[] => (rows as { doc: string }[]).map((r) => JSON.parse(r.doc) as T);
