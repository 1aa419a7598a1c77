// STS's temporary keys issued to operators' callers (keyring.ts), one row each.
import { readDocument } from '../documents.js';
import type { SessionLimits, SessionRecord, SessionRepository } from '../store.js';
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

  put(session: SessionRecord, now: number, limits: SessionLimits) {
    const issuer = session.issuer ?? '';
    return this.guard(() =>
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM sts_sessions WHERE expires_at <= ?').run(now);
        const count = (where: string, ...params: unknown[]) =>
          (this.db.prepare(`SELECT count(*) AS n FROM sts_sessions ${where}`).get(...params) as { n: number }).n;
        const dropOwn = (n: number) =>
          this.db
            .prepare(
              'DELETE FROM sts_sessions WHERE access_key_id IN (SELECT access_key_id FROM sts_sessions WHERE issuer = ? ORDER BY expires_at LIMIT ?)',
            )
            .run(issuer, n);
        const own = count('WHERE issuer = ?', issuer);
        if (own >= limits.perIssuer) dropOwn(own - limits.perIssuer + 1);
        const all = count('');
        if (all >= limits.total) {
          if (count('WHERE issuer = ?', issuer) === 0) return false;
          dropOwn(all - limits.total + 1);
        }
        this.db
          .prepare('INSERT INTO sts_sessions (access_key_id, expires_at, issuer, doc) VALUES (?, ?, ?, ?)')
          .run(session.accessKeyId, session.expiresAt, issuer, JSON.stringify(session));
        return true;
      })(),
    );
  }
}
