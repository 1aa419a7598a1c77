import { storeContract } from '../store-contract.js';
import { openPostgresStore } from './postgres-store.js';
import { createTestDatabase } from './test-database.js';

// Runs against the PostgreSQL server at VERSA_TEST_PG (default: postgres on 127.0.0.1:5432), in a database of its own.
storeContract('postgres', async () => {
  const { url, drop } = await createTestDatabase();
  return {
    store: await openPostgresStore(url),
    reopen: () => openPostgresStore(url),
    cleanup: drop,
  };
});
