// What every PostgreSQL repository shares: the connection a repository runs on, its own transactions with retry, and rows that hold a JSON document.
import { PlatformError } from '../../core/errors.js';
import { readDocument } from '../documents.js';
import pg from 'pg';

/** The isolation level of a transaction. */
export type Isolation = 'SERIALIZABLE' | 'REPEATABLE READ' | 'READ COMMITTED';

/** How many times a transaction runs before its conflict is given to the caller. */
const ATTEMPTS = 16;

/** SQLSTATEs after which a transaction is run again from the start: serialization failure, deadlock, unique violation. */
const RETRIED = new Set(['40001', '40P01', '23505']);

/** True when `err` means another writer got there first, so running the work again on fresh reads may succeed. */
export function isConflict(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'StoreConflict' || RETRIED.has((err as { code?: string }).code ?? '');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The last error of a statement in each client's open transaction. After a failed statement PostgreSQL
 * answers COMMIT with a rollback and no error; when the work caught that statement's error, the
 * transaction must still fail (or run again, if the error was a conflict), not report a commit.
 */
const failures = new WeakMap<pg.PoolClient, Error>();

/**
 * Runs `work` on one client of `pool` inside `BEGIN ISOLATION LEVEL …` and commits. A conflict (see
 * `isConflict`) rolls back and runs `work` again from the start, up to ATTEMPTS times, after a random pause
 * under a ceiling that doubles with each attempt; any other error rolls back and is thrown.
 */
export async function runTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, isolation: Isolation): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      failures.delete(client);
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      const commit = await client.query('COMMIT');
      if (commit.command === 'ROLLBACK') {
        throw failures.get(client) ?? new Error('the transaction was rolled back at its commit, as one of its statements had failed');
      }
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollback) {
        broken = rollback as Error;
      }
      if (!isConflict(err)) throw err;
      if (attempt >= ATTEMPTS) {
        // Writers that keep meeting each other (a flood of changes that all read what the others write):
        // the caller is told to slow down and retry, as AWS throttles, not that the server failed. A
        // conflict of the work's own (a key taken, a revision changed) goes to the caller as it is.
        const code = (err as { code?: string }).code;
        if (code === '40001' || code === '40P01')
          throw new PlatformError('ThrottlingException', 'Rate exceeded: too many changes at once; retry shortly.');
        throw err;
      }
    } finally {
      // A client whose rollback failed is in an unknown state: the pool drops it instead of reusing it.
      client.release(broken);
    }
    // Full jitter over an exponential ceiling (4 ms, 8 ms, … at most 400 ms): many transactions that keep
    // meeting each other spread out instead of colliding again in step.
    await sleep(Math.random() * Math.min(400, 2 ** (attempt + 1)));
  }
}

/**
 * The connection a repository runs its statements on: the pool (each statement in autocommit) outside a
 * transaction, or the transaction's client inside one.
 */
export class Db {
  constructor(
    private readonly pool: pg.Pool,
    private readonly client?: pg.PoolClient,
  ) {}

  get inTransaction(): boolean {
    return this.client !== undefined;
  }

  private async query(sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    refuseNul(params);
    try {
      return await (this.client ?? this.pool).query(sql, params as unknown[]);
    } catch (err) {
      const failure = refusal(err) ?? (err as Error);
      if (this.client) failures.set(this.client, failure);
      throw failure;
    }
  }

  /** The rows of a statement. */
  async rows<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.query(sql, params)).rows as R[];
  }

  /** The first row of a statement, or undefined when it returned none. */
  async row<R>(sql: string, params: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.rows<R>(sql, params))[0];
  }

  /** Runs a statement; returns how many rows it wrote. */
  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  /**
   * Runs the statements of one repository method atomically: in their own transaction (retried on
   * conflict) outside a transaction, or directly inside the caller's.
   */
  atomic<T>(work: (db: Db) => Promise<T>, isolation: Isolation = 'SERIALIZABLE'): Promise<T> {
    if (this.client) return work(this);
    return runTransaction(this.pool, (client) => work(new Db(this.pool, client)), isolation);
  }
}

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can): a name or key carrying one is the caller's
 * mistake, refused as AWS refuses a value its patterns do not allow, before any statement runs (it
 * answered 500, and a transaction around it changes nothing). Documents are JSON, where it is escaped;
 * columns that must hold any text are BYTEA (utf8()).
 */
function refuseNul(params: readonly unknown[]): void {
  for (const p of params) {
    if (typeof p === 'string' && p.includes('\u0000')) {
      throw new PlatformError(
        'ValidationException',
        `A name or key may not contain the character U+0000: '${p.replaceAll('\u0000', '\\0').slice(0, 200)}'.`,
      );
    }
  }
}

/**
 * A value PostgreSQL cannot hold, as the caller's error: a data exception (SQLSTATE class 22: bad text,
 * a number out of range) or a limit of the program's (class 54: an index entry past its size, a name
 * of thousands of characters in a key). Not the server's fault, and never passing: a validation error.
 */
function refusal(err: unknown): PlatformError | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !(code.startsWith('22') || code.startsWith('54'))) return undefined;
  return new PlatformError('ValidationException', `The store cannot hold a value of this request: ${(err as Error).message}`);
}

/** The document of a `SELECT doc` row, or undefined when there is no row. */
export const parse = <T>(row: { doc: string } | undefined): T | undefined => (row ? readDocument<T>(row.doc) : undefined);
/** The documents of `SELECT doc` rows. */
export const docs = <T>(rows: { doc: string }[]): T[] => rows.map((r) => readDocument<T>(r.doc));

/** A string as the UTF-8 bytes of a BYTEA column, for strings that may hold U+0000 (which TEXT cannot); `Buffer.toString()` reads it back. */
export const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * A LIKE pattern matching the strings that start with `prefix`, `%`, `_` and `\` in it matching only
 * themselves. On a `COLLATE "C"` column the match can use the column's index.
 */
export const startsWith = (prefix: string): string => `${prefix.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * The pool's type parsers: bigint (int8) columns and counts come back as JS numbers (a SUM, numeric, is cast back to bigint), which the
 * store's values (milliseconds, sequence numbers, byte counts) always fit. Scoped to the store's pool,
 * leaving pg's global parsers alone.
 */
export const types: pg.CustomTypesConfig = {
  getTypeParser: (id, format) =>
    id === pg.types.builtins.INT8 && format !== 'binary' ? Number : (pg.types.getTypeParser(id, format) as (value: string) => unknown),
};
