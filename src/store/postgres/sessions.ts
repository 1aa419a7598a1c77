// STS's temporary keys issued to operators' callers (keyring.ts), one row each.
import { readDocument } from '../documents.js';
import type { SessionRecord, SessionRepository } from '../store.js';
import type { Db } from './db.js';

export class PostgresSessions implements SessionRepository {
  constructor(private readonly db: Db) {}

  async get(accessKeyId: string) {
    const row = await this.db.row<{ doc: string }>('SELECT doc FROM sts_sessions WHERE access_key_id = $1', [accessKeyId]);
    return row && readDocument<SessionRecord>(row.doc, `the session ${accessKeyId}`);
  }

  async put(session: SessionRecord, now: number, max: number) {
    await this.db.run('DELETE FROM sts_sessions WHERE expires_at <= $1', [now]);
    await this.db.run('INSERT INTO sts_sessions (access_key_id, expires_at, doc) VALUES ($1, $2, $3)', [
      session.accessKeyId,
      session.expiresAt,
      JSON.stringify(session),
    ]);
    await this.db.run(
      'DELETE FROM sts_sessions WHERE access_key_id IN (SELECT access_key_id FROM sts_sessions ORDER BY expires_at LIMIT greatest(0, (SELECT count(*) FROM sts_sessions) - $1))',
      [max],
    );
  }
}
