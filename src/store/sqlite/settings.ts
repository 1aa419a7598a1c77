// Versa's own key-value settings, such as the platform clock's anchor.
import type { SettingsRepository } from '../store.js';
import type { Db, Guard } from './db.js';

export class SqliteSettings implements SettingsRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(key: string) {
    return this.guard(() => (this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value);
  }

  put(key: string, value: string) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
        .run(key, value);
    });
  }
}
