// A fresh database per test suite, made through the PostgreSQL server the tests run against.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server's `postgres` database, through which test databases are created and dropped; VERSA_TEST_PG overrides it. */
const BASE = process.env.VERSA_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs one statement on the base database, failing with a sentence that says how to start PostgreSQL when it is not answering. */
async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    const where = new URL(BASE).host;
    throw new Error(
      `The PostgreSQL store tests need a PostgreSQL server, and none answered at ${where} (${(err as Error).message}). ` +
        'Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, ' +
        'or set VERSA_TEST_PG to the URL of a database on a running server through which the tests may create and drop databases.',
      { cause: err },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named versa_test_<random hex>; `drop` removes it, closing any connection left on it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `versa_test_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(BASE);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
