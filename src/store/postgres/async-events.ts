// The durable queue of Event (asynchronous) invocations.
import { readDocument } from '../documents.js';
import type { AsyncEventRecord } from '../../domain/async-event.js';
import type { AsyncEventRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse } from './db.js';

const ENDED = "('done', 'failed', 'dropped')";

export class PostgresAsyncEvents implements AsyncEventRepository {
  constructor(private readonly db: Db) {}

  async enqueue(e: AsyncEventRecord) {
    await this.db.run(
      'INSERT INTO async_events (id, function_name, status, attempts, next_attempt_at, finished_at, bytes, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [e.id, e.functionName, e.status, e.attempts, e.nextAttemptAt, e.finishedAt ?? null, Buffer.byteLength(e.payload), JSON.stringify(e)],
    );
  }

  async get(id: string) {
    return parse<AsyncEventRecord>(await this.db.row('SELECT doc FROM async_events WHERE id = $1', [id]));
  }

  /**
   * Several nodes claim at once: the oldest due row not locked by another claimer is locked and taken
   * (`FOR UPDATE SKIP LOCKED`), in a READ COMMITTED transaction of its own, where a row another claimer
   * took meanwhile is checked again against `status = 'pending'` and passed over.
   */
  claim(now: number, leaseUntil: number, skip: readonly string[]) {
    return this.db.atomic(async (db) => {
      const row = await db.row<{ seq: number; doc: string }>(
        `SELECT seq, doc FROM async_events WHERE status = 'pending' AND next_attempt_at <= $1 AND function_name <> ALL($2::text[])
         ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [now, skip],
      );
      if (!row) return undefined;
      const event = readDocument<AsyncEventRecord>(row.doc);
      const claimed: AsyncEventRecord = { ...event, status: 'running', attempts: event.attempts + 1, leaseUntil };
      await db.run("UPDATE async_events SET status = 'running', attempts = $1, doc = $2 WHERE seq = $3", [
        claimed.attempts,
        JSON.stringify(claimed),
        row.seq,
      ]);
      return claimed;
    }, 'READ COMMITTED');
  }

  async settle(next: AsyncEventRecord, claimedAttempts: number) {
    const changed = await this.db.run(
      "UPDATE async_events SET status = $1, attempts = $2, next_attempt_at = $3, finished_at = $4, doc = $5 WHERE id = $6 AND status = 'running' AND attempts = $7",
      [next.status, next.attempts, next.nextAttemptAt, next.finishedAt ?? null, JSON.stringify(next), next.id, claimedAttempts],
    );
    return changed > 0;
  }

  async running() {
    return docs<AsyncEventRecord>(await this.db.rows("SELECT doc FROM async_events WHERE status = 'running' ORDER BY seq"));
  }

  async nextDue(skip: readonly string[]) {
    const row = await this.db.row<{ at: number | null }>(
      "SELECT MIN(next_attempt_at) AS at FROM async_events WHERE status = 'pending' AND function_name <> ALL($1::text[])",
      [skip],
    );
    return row?.at ?? undefined;
  }

  async depth(functionName: string) {
    const rows = await this.db.rows<{ status: string; n: number; bytes: number }>(
      "SELECT status, COUNT(*) AS n, SUM(bytes)::bigint AS bytes FROM async_events WHERE function_name = $1 AND status IN ('pending', 'running') GROUP BY status",
      [functionName],
    );
    const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
    return { pending: of('pending'), running: of('running'), bytes: rows.reduce((sum, r) => sum + r.bytes, 0) };
  }

  deleteFinishedBefore(timestamp: number) {
    return this.db.run(`DELETE FROM async_events WHERE status IN ${ENDED} AND finished_at < $1`, [timestamp]);
  }
}
