// STS's temporary keys issued to operators' callers (keyring.ts), one row each.
import { readDocument } from '../documents.js';
import type { SessionLimits, SessionRecord, SessionRepository } from '../store.js';
import type { Db } from './db.js';

export class PostgresSessions implements SessionRepository {
  constructor(private readonly db: Db) {}

  async get(accessKeyId: string) {
    const row = await this.db.row<{ doc: string }>('SELECT doc FROM sts_sessions WHERE access_key_id = $1', [accessKeyId]);
    return row && readDocument<SessionRecord>(row.doc, `the session ${accessKeyId}`);
  }

  put(session: SessionRecord, now: number, limits: SessionLimits) {
    const issuer = session.issuer ?? '';
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM sts_sessions WHERE expires_at <= $1', [now]);
      const count = async (where: string, params: unknown[] = []) =>
        Number((await db.row<{ n: string }>(`SELECT count(*) AS n FROM sts_sessions ${where}`, params))!.n);
      const dropOwn = (n: number) =>
        db.run(
          'DELETE FROM sts_sessions WHERE access_key_id IN (SELECT access_key_id FROM sts_sessions WHERE issuer = $1 ORDER BY expires_at LIMIT $2)',
          [issuer, n],
        );
      const own = await count('WHERE issuer = $1', [issuer]);
      if (own >= limits.perIssuer) await dropOwn(own - limits.perIssuer + 1);
      const all = await count('');
      if (all >= limits.total) {
        if ((await count('WHERE issuer = $1', [issuer])) === 0) return false;
        await dropOwn(all - limits.total + 1);
      }
      await db.run('INSERT INTO sts_sessions (access_key_id, expires_at, issuer, doc) VALUES ($1, $2, $3, $4)', [
        session.accessKeyId,
        session.expiresAt,
        issuer,
        JSON.stringify(session),
      ]);
      return true;
    });
  }
}
