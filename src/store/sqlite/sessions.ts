// STS's temporary keys issued to operators' callers (keyring.ts), one row each.
import { readDocument } from '../documents.js';
import type { SessionRecord, SessionRepository } from '../store.js';
import type { Db, Guard } from './db.js';

export class SqliteSessions implements SessionRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(accessKeyId: string) {
    return this.guard(() => {
      const row = this.db.prepare('SELECT doc FROM sts_sessions WHERE access_key_id = ?').get(accessKeyId) as { doc: string } | undefined;
      return row && readDocument<SessionRecord>(row.doc, `the session ${accessKeyId}`);
    });
  }

  put(session: SessionRecord, now: number, max: number) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM sts_sessions WHERE expires_at <= ?').run(now);
      this.db
        .prepare('INSERT INTO sts_sessions (access_key_id, expires_at, doc) VALUES (?, ?, ?)')
        .run(session.accessKeyId, session.expiresAt, JSON.stringify(session));
      this.db
        .prepare(
          'DELETE FROM sts_sessions WHERE access_key_id IN (SELECT access_key_id FROM sts_sessions ORDER BY expires_at LIMIT max(0, (SELECT count(*) FROM sts_sessions) - ?))',
        )
        .run(max);
    });
  }
}
