/**
 * Who runs the platform's controllers (deployments, alarm evaluation, asynchronous dispatch, stack
 * operations): one node at a time among those sharing a store. Work that must happen on the leader is
 * handed to it by topic; the leader runs it at once when that is this node.
 */
export interface Leadership {
  /** True while this node leads. */
  readonly leading: boolean;
  /** Hands `message` under `topic` to the leading node's handler. */
  toLeader(topic: string, message: unknown): void;
}
