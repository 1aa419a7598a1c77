import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { storeContract } from '../store-contract.js';
import { openSqliteStore } from './sqlite-store.js';

storeContract('sqlite', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'versa-store-'));
  const file = path.join(dir, 'versa.db');
  return {
    store: openSqliteStore(file),
    reopen: () => Promise.resolve(openSqliteStore(file)),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
