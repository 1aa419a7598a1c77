// Versa's own key-value settings, such as the platform clock's anchor.
import type { SettingsRepository } from '../store.js';
import type { Db } from './db.js';

export class PostgresSettings implements SettingsRepository {
  constructor(private readonly db: Db) {}

  async get(key: string) {
    return (await this.db.row<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))?.value;
  }

  async put(key: string, value: string) {
    await this.db.run('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      key,
      value,
    ]);
  }
}
