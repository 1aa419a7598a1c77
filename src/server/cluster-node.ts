import type { Leadership } from '../core/leadership.js';
import type { Logger } from '../core/logger.js';
import { LeaseLost, type Lease, type NodeRecord, type Store } from '../store/store.js';

/** The lease that makes a node the leader. */
const LEADER = 'leader';

export interface ClusterNodeOptions {
  id: string;
  /** Where this node answers (known once its listener is bound). */
  url: () => string;
  logger: Logger;
  /** Real milliseconds between heartbeats, each of which also takes or renews the leader lease. */
  beatMs?: number;
  /** How long a lease lasts unrenewed: a dead leader is replaced within about this plus one beat. */
  leaseMs?: number;
}

/** What `/_versa/health` and the console show of the cluster. */
export interface ClusterStatus {
  node: string;
  leader: string | undefined;
  leading: boolean;
  epoch: number | undefined;
  nodes: { id: string; url: string; startedAt: number; seenAt: number }[];
}

interface Envelope {
  from: string;
  topic: string;
  message: unknown;
}

/**
 * This process as one of the nodes sharing a store. Every beat it records that it is alive and takes or
 * keeps the leader lease; gaining the lease starts the leader's duties, losing it stops them. It carries
 * messages between nodes over the store's notifications: changes other nodes must hear of (to drop what
 * they cached) and work for the leader.
 */
export class ClusterNode implements Leadership {
  private lease: Lease | undefined;
  private nodes: NodeRecord[] = [];
  private leaderId: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private transition: Promise<void> = Promise.resolve();
  private closed = false;
  /** When the last beat reached the database (real ms). */
  private lastRenewal = 0;
  /** Whether the last beat failed to reach the database. */
  private unreachable = false;
  private readonly startedAt = Date.now();
  private readonly handlers = new Map<string, (message: unknown, from: string) => void>();
  private readonly leadHooks: (() => Promise<void>)[] = [];
  private readonly resyncHooks: (() => void)[] = [];
  private readonly stepDownHooks: (() => Promise<void>)[] = [];
  private readonly unlisten: () => void;
  private readonly beatMs: number;
  private readonly leaseMs: number;

  constructor(
    private readonly store: Store,
    private readonly opts: ClusterNodeOptions,
  ) {
    this.beatMs = opts.beatMs ?? 500;
    this.leaseMs = opts.leaseMs ?? 2500;
    this.unlisten = store.cluster.listen((raw) => this.receive(raw));
  }

  get id(): string {
    return this.opts.id;
  }

  get leading(): boolean {
    return this.lease !== undefined && !this.closed;
  }

  /** Calls `handler` with each message sent under `topic` (by `broadcast` from another node, or `toLeader` while this node leads). */
  on(topic: string, handler: (message: unknown, from: string) => void): void {
    this.handlers.set(topic, handler);
  }

  /** Runs `start` whenever this node becomes the leader, and `stop` whenever it stops being it. */
  onLeadership(start: () => Promise<void>, stop: () => Promise<void>): void {
    this.leadHooks.push(start);
    this.stepDownHooks.push(stop);
  }

  /** Runs `hook` when messages from other nodes may have been lost (this node's listening connection came back). */
  onResync(hook: () => void): void {
    this.resyncHooks.push(hook);
  }

  /** Tells every other node of `message` under `topic` (they hear it once it is committed). */
  broadcast(topic: string, message: unknown): void {
    void this.send({ from: this.id, topic, message });
  }

  toLeader(topic: string, message: unknown): Promise<void> {
    if (!this.leading) return this.send({ from: this.id, topic: `leader:${topic}`, message });
    this.handlers.get(topic)?.(message, this.id);
    return Promise.resolve();
  }

  /** Inside a transaction: throws LeaseLost unless this node still leads under the epoch it started with. */
  async fence(tx: Store): Promise<void> {
    const lease = this.lease;
    if (!lease || this.closed) throw new LeaseLost(`node ${this.id} does not lead`);
    await tx.cluster.checkLease(LEADER, this.id, lease.epoch);
  }

  status(): ClusterStatus {
    return {
      node: this.id,
      leader: this.leading ? this.id : this.leaderId,
      leading: this.leading,
      epoch: this.lease?.epoch,
      nodes: this.nodes.map((n) => ({ id: n.id, url: n.url, startedAt: n.startedAt, seenAt: n.seenAt })),
    };
  }

  /** The first beat (this node leads when nobody else does), then one every `beatMs`. */
  async start(): Promise<void> {
    await this.beat();
    await this.transition;
    this.timer = setInterval(() => {
      this.beating = this.beating.then(() => this.beat());
    }, this.beatMs);
    this.timer.unref();
  }

  /** Stops the leader's duties and lets the lease go, so that another node takes over at once. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    const held = this.lease;
    this.closed = true;
    this.unlisten();
    if (held) {
      this.lease = undefined;
      await this.runHooks(this.stepDownHooks);
      await this.store.cluster.releaseLease(LEADER, this.id).catch(() => undefined);
    }
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      this.nodes = await this.store.cluster.heartbeat({ id: this.id, url: this.opts.url(), startedAt: this.startedAt }, this.leaseMs * 2);
      const lease = await this.store.cluster.acquireLease(LEADER, this.id, this.leaseMs);
      if (!lease) this.leaderId = (await this.store.cluster.lease(LEADER))?.nodeId;
      this.settle(lease);
    } catch (err) {
      // The database is out of reach: a leader that cannot renew must assume another takes over. Said
      // once per outage, not twice a second.
      if (!this.unreachable) this.opts.logger.warn('cannot reach the store; retrying every beat', { node: this.id, err: String(err) });
      this.unreachable = true;
      if (this.lease && Date.now() - this.lastRenewal > this.leaseMs) this.settle(undefined);
      return;
    }
    if (this.unreachable) this.opts.logger.info('the store answers again', { node: this.id });
    this.unreachable = false;
    this.lastRenewal = Date.now();
  }

  private settle(lease: Lease | undefined): void {
    const was = this.lease;
    if (lease && was && lease.epoch === was.epoch) return;
    this.lease = lease;
    if (lease) this.leaderId = this.id;
    if (was && (!lease || lease.epoch !== was.epoch)) {
      this.opts.logger.warn('this node no longer leads', { node: this.id, epoch: was.epoch });
      this.transition = this.transition.then(() => this.runHooks(this.stepDownHooks));
    }
    if (lease && (!was || lease.epoch !== was.epoch)) {
      // Worth a line only where there is someone to lead: alone (SQLite), it is how every start goes.
      const fields = { node: this.id, epoch: lease.epoch };
      if (this.nodes.length > 1 || lease.epoch > 1) this.opts.logger.info('this node leads', fields);
      else this.opts.logger.debug('this node leads', fields);
      this.transition = this.transition.then(() => (this.lease === lease ? this.runHooks(this.leadHooks) : undefined));
    }
  }

  private async runHooks(hooks: readonly (() => Promise<void>)[]): Promise<void> {
    for (const hook of hooks) {
      try {
        await hook();
      } catch (err) {
        this.opts.logger.error('a leadership change could not be applied', { node: this.id, err });
      }
    }
  }

  private send(envelope: Envelope): Promise<void> {
    return this.store.cluster.notify(JSON.stringify(envelope)).catch((err: unknown) => {
      this.opts.logger.warn('a cluster message could not be sent', { topic: envelope.topic, err });
    });
  }

  private receive(raw: string | undefined): void {
    if (raw === undefined) {
      this.opts.logger.warn('messages from other nodes may have been lost; dropping what was cached', { node: this.id });
      for (const hook of this.resyncHooks) hook();
      return;
    }
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (envelope.from === this.id) return;
    const forLeader = envelope.topic.startsWith('leader:');
    if (forLeader && !this.leading) return;
    const topic = forLeader ? envelope.topic.slice('leader:'.length) : envelope.topic;
    try {
      this.handlers.get(topic)?.(envelope.message, envelope.from);
    } catch (err) {
      this.opts.logger.error('a cluster message could not be handled', { topic, err });
    }
  }
}
