// The durable queue of Event (asynchronous) invocations.
import { readDocument } from '../documents.js';
import type { AsyncEventRecord } from '../../domain/async-event.js';
import type { AsyncEventRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';

const ENDED = "('done', 'failed', 'dropped')";

export class SqliteAsyncEvents implements AsyncEventRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  enqueue(e: AsyncEventRecord) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO async_events (id, function_name, status, attempts, next_attempt_at, finished_at, bytes, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          e.id,
          e.functionName,
          e.status,
          e.attempts,
          e.nextAttemptAt,
          e.finishedAt ?? null,
          Buffer.byteLength(e.payload),
          JSON.stringify(e),
        );
    });
  }

  get(id: string) {
    return this.guard(() =>
      parse<AsyncEventRecord>(this.db.prepare('SELECT doc FROM async_events WHERE id = ?').get(id) as { doc: string } | undefined),
    );
  }

  claim(now: number, leaseUntil: number, skip: readonly string[]) {
    return this.guard(() =>
      this.db.transaction(() => {
        const notIn = skip.length ? `AND function_name NOT IN (${skip.map(() => '?').join(', ')})` : '';
        const row = this.db
          .prepare(`SELECT seq, doc FROM async_events WHERE status = 'pending' AND next_attempt_at <= ? ${notIn} ORDER BY seq LIMIT 1`)
          .get(now, ...skip) as { seq: number; doc: string } | undefined;
        if (!row) return undefined;
        const event = readDocument<AsyncEventRecord>(row.doc);
        const claimed: AsyncEventRecord = { ...event, status: 'running', attempts: event.attempts + 1, leaseUntil };
        this.db
          .prepare("UPDATE async_events SET status = 'running', attempts = ?, doc = ? WHERE seq = ?")
          .run(claimed.attempts, JSON.stringify(claimed), row.seq);
        return claimed;
      })(),
    );
  }

  settle(next: AsyncEventRecord, claimedAttempts: number) {
    return this.guard(
      () =>
        this.db
          .prepare(
            "UPDATE async_events SET status = ?, attempts = ?, next_attempt_at = ?, finished_at = ?, doc = ? WHERE id = ? AND status = 'running' AND attempts = ?",
          )
          .run(next.status, next.attempts, next.nextAttemptAt, next.finishedAt ?? null, JSON.stringify(next), next.id, claimedAttempts)
          .changes > 0,
    );
  }

  running() {
    return this.guard(() =>
      docs<AsyncEventRecord>(this.db.prepare("SELECT doc FROM async_events WHERE status = 'running' ORDER BY seq").all()),
    );
  }

  nextDue(skip: readonly string[]) {
    return this.guard(() => {
      const notIn = skip.length ? `AND function_name NOT IN (${skip.map(() => '?').join(', ')})` : '';
      const row = this.db.prepare(`SELECT MIN(next_attempt_at) AS at FROM async_events WHERE status = 'pending' ${notIn}`).get(...skip) as {
        at: number | null;
      };
      return row.at ?? undefined;
    });
  }

  depth(functionName: string) {
    return this.guard(() => {
      const rows = this.db
        .prepare(
          "SELECT status, COUNT(*) AS n, SUM(bytes) AS bytes FROM async_events WHERE function_name = ? AND status IN ('pending', 'running') GROUP BY status",
        )
        .all(functionName) as { status: string; n: number; bytes: number }[];
      const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
      return { pending: of('pending'), running: of('running'), bytes: rows.reduce((sum, r) => sum + r.bytes, 0) };
    });
  }

  deleteFinishedBefore(timestamp: number) {
    return this.guard(
      () => this.db.prepare(`DELETE FROM async_events WHERE status IN ${ENDED} AND finished_at < ?`).run(timestamp).changes,
    );
  }
}
