// Node heartbeats, leases with fencing epochs, and notifications between the nodes sharing one database.
import pg from 'pg';
import { LeaseLost, type ClusterRepository, type Lease, type NodeRecord } from '../store.js';
import type { Db } from './db.js';

/** The one channel every node's notifications travel on. */
const CHANNEL = 'versa';
/** The database's clock, in epoch milliseconds: the time every node's heartbeats and leases are measured by. */
const NOW_MS = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * One store's listeners, and the one connection that LISTENs for them. Messages sent while the
 * connection is down (it reconnects after a short pause) are not heard: once it is back, the listeners
 * are told (with undefined) that they may have missed some.
 */
export class Notifications {
  private readonly listeners = new Set<(message: string | undefined) => void>();
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly config: pg.ClientConfig) {}

  /** Connects and LISTENs; resolves once messages sent from now on will be heard. */
  async start(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL) return;
      for (const listener of [...this.listeners]) listener(n.payload ?? '');
    });
    client.on('error', () => this.reconnect(client));
    client.on('end', () => this.reconnect(client));
    await client.connect();
    try {
      if (this.closed) throw new Error('the store is closed');
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
  }

  private reconnect(dropped: pg.Client): void {
    if (this.closed || this.client !== dropped) return;
    this.client = undefined;
    dropped.removeAllListeners();
    dropped.on('error', () => undefined);
    dropped.end().catch(() => undefined);
    const attempt = () => {
      this.retry = undefined;
      if (this.closed) return;
      this.start().then(
        () => {
          for (const listener of [...this.listeners]) listener(undefined);
        },
        () => {
          if (!this.closed) this.retry = setTimeout(attempt, 1000);
        },
      );
    };
    this.retry = setTimeout(attempt, 100);
  }

  listen(listener: (message: string | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end();
    }
  }
}

interface LeaseRow {
  name: string;
  node_id: string;
  epoch: number;
  expires_at: number;
}

const leaseOf = (r: LeaseRow): Lease => ({ name: r.name, nodeId: r.node_id, epoch: r.epoch, expiresAt: r.expires_at });

export class PostgresCluster implements ClusterRepository {
  constructor(
    private readonly db: Db,
    private readonly notifications: Notifications,
  ) {}

  /** Writes the heartbeat and reads the live nodes in one statement, by one reading of the database's clock. */
  async heartbeat(node: { id: string; url: string; startedAt: number }, withinMs: number) {
    const rows = await this.db.rows<{ id: string; url: string; started_at: number; seen_at: number }>(
      `WITH clock AS (SELECT ${NOW_MS} AS now),
       beat AS (
         INSERT INTO cluster_nodes (id, url, started_at, seen_at) SELECT $1::text, $2::text, $3::bigint, now FROM clock
         ON CONFLICT (id) DO UPDATE SET url = excluded.url, started_at = excluded.started_at, seen_at = excluded.seen_at
         RETURNING id, url, started_at, seen_at
       )
       SELECT id, url, started_at, seen_at FROM beat
       UNION ALL
       SELECT id, url, started_at, seen_at FROM cluster_nodes WHERE id <> $1 AND seen_at >= (SELECT now FROM clock) - $4::bigint
       ORDER BY id`,
      [node.id, node.url, node.startedAt, withinMs],
    );
    return rows.map((r): NodeRecord => ({ id: r.id, url: r.url, startedAt: r.started_at, seenAt: r.seen_at }));
  }

  /**
   * One statement: takes the lease when it is free or expired (the epoch goes up when the holder
   * changes), renews it for its holder, or writes nothing. The update locks the row, so it waits for any
   * transaction that read the lease `FOR SHARE` in checkLease.
   */
  async acquireLease(name: string, nodeId: string, ttlMs: number) {
    const row = await this.db.row<LeaseRow>(
      `INSERT INTO leases (name, node_id, epoch, expires_at) VALUES ($1, $2, 1, ${NOW_MS} + $3)
       ON CONFLICT (name) DO UPDATE SET
         epoch = CASE WHEN leases.node_id = excluded.node_id THEN leases.epoch ELSE leases.epoch + 1 END,
         node_id = excluded.node_id, expires_at = excluded.expires_at
       WHERE leases.node_id = excluded.node_id OR leases.expires_at <= excluded.expires_at - $3
       RETURNING name, node_id, epoch, expires_at`,
      [name, nodeId, ttlMs],
    );
    return row && leaseOf(row);
  }

  async releaseLease(name: string, nodeId: string) {
    await this.db.run('UPDATE leases SET expires_at = 0 WHERE name = $1 AND node_id = $2', [name, nodeId]);
  }

  async lease(name: string) {
    const row = await this.db.row<LeaseRow>('SELECT name, node_id, epoch, expires_at FROM leases WHERE name = $1', [name]);
    return row && leaseOf(row);
  }

  /**
   * Reads the lease `FOR SHARE`: the row stays locked until the transaction ends, so a takeover (which
   * updates it) waits, and the fenced writes cannot land after the successor's.
   */
  async checkLease(name: string, nodeId: string, epoch: number) {
    const row = await this.db.row<LeaseRow>('SELECT name, node_id, epoch, expires_at FROM leases WHERE name = $1 FOR SHARE', [name]);
    if (!row || row.node_id !== nodeId || row.epoch !== epoch) {
      throw new LeaseLost(`node ${nodeId} no longer holds ${name} at epoch ${epoch}`);
    }
  }

  /** `pg_notify`: inside a transaction PostgreSQL delivers it at the commit, and never after a rollback. */
  async notify(message: string) {
    await this.db.run('SELECT pg_notify($1, $2)', [CHANNEL, message]);
  }

  listen(listener: (message: string | undefined) => void) {
    return this.notifications.listen(listener);
  }
}
