// Node heartbeats, leases with fencing epochs, and notifications. One process owns a SQLite file, so the
// cluster is that one node; the same rules hold as on PostgreSQL, and notifications stay in the process.
import { LeaseLost, type ClusterRepository, type Lease, type NodeRecord } from '../store.js';
import type { Db, Guard } from './db.js';

/** The listeners of one store, and the messages a transaction holds back until it commits. */
export class Notifications {
  private readonly listeners = new Set<(message: string | undefined) => void>();

  listen(listener: (message: string | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Delivers after the current call stack, as a database would after the commit. */
  deliver(messages: readonly string[]): void {
    if (!messages.length) return;
    queueMicrotask(() => {
      for (const message of messages) for (const listener of this.listeners) listener(message);
    });
  }
}

interface LeaseRow {
  name: string;
  node_id: string;
  epoch: number;
  expires_at: number;
}

const leaseOf = (r: LeaseRow): Lease => ({ name: r.name, nodeId: r.node_id, epoch: r.epoch, expiresAt: r.expires_at });

export class SqliteCluster implements ClusterRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
    private readonly notifications: Notifications,
    /** The messages of the enclosing transaction, or undefined outside one. */
    private readonly pending: string[] | undefined,
  ) {}

  heartbeat(node: { id: string; url: string; startedAt: number }, withinMs: number) {
    return this.guard(() => {
      const now = Date.now();
      this.db
        .prepare(
          'INSERT INTO cluster_nodes (id, url, started_at, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET url = excluded.url, started_at = excluded.started_at, seen_at = excluded.seen_at',
        )
        .run(node.id, node.url, node.startedAt, now);
      const rows = this.db
        .prepare('SELECT id, url, started_at, seen_at FROM cluster_nodes WHERE seen_at >= ? ORDER BY id')
        .all(now - withinMs) as { id: string; url: string; started_at: number; seen_at: number }[];
      return rows.map((r): NodeRecord => ({ id: r.id, url: r.url, startedAt: r.started_at, seenAt: r.seen_at }));
    });
  }

  acquireLease(name: string, nodeId: string, ttlMs: number) {
    return this.guard(() => {
      const now = Date.now();
      const row = this.db
        .prepare(
          `INSERT INTO leases (name, node_id, epoch, expires_at) VALUES (?, ?, 1, ?)
           ON CONFLICT(name) DO UPDATE SET
             epoch = CASE WHEN leases.node_id = excluded.node_id THEN leases.epoch ELSE leases.epoch + 1 END,
             node_id = excluded.node_id, expires_at = excluded.expires_at
           WHERE leases.node_id = excluded.node_id OR leases.expires_at <= ?
           RETURNING name, node_id, epoch, expires_at`,
        )
        .get(name, nodeId, now + ttlMs, now) as LeaseRow | undefined;
      return row && leaseOf(row);
    });
  }

  releaseLease(name: string, nodeId: string) {
    return this.guard(() => {
      this.db.prepare('UPDATE leases SET expires_at = 0 WHERE name = ? AND node_id = ?').run(name, nodeId);
    });
  }

  lease(name: string) {
    return this.guard(() => {
      const row = this.db.prepare('SELECT name, node_id, epoch, expires_at FROM leases WHERE name = ?').get(name) as LeaseRow | undefined;
      return row && leaseOf(row);
    });
  }

  checkLease(name: string, nodeId: string, epoch: number) {
    return this.guard(() => {
      const row = this.db.prepare('SELECT name, node_id, epoch, expires_at FROM leases WHERE name = ?').get(name) as LeaseRow | undefined;
      if (!row || row.node_id !== nodeId || row.epoch !== epoch) {
        throw new LeaseLost(`node ${nodeId} no longer holds ${name} at epoch ${epoch}`);
      }
    });
  }

  notify(message: string) {
    if (this.pending) this.pending.push(message);
    else this.notifications.deliver([message]);
    return Promise.resolve();
  }

  listen(listener: (message: string | undefined) => void) {
    return this.notifications.listen(listener);
  }
}
