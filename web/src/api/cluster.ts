import { apiFetch } from './aws';

/** A node sharing the store, as `/_versa/api/cluster` shows it. */
export interface ClusterNode {
  id: string;
  url: string;
  startedAt: number;
  /** The node's last heartbeat (ms, the database's clock). */
  seenAt: number;
}

export interface Cluster {
  /** The node serving this page. */
  node: string;
  leader: string | undefined;
  nodes: ClusterNode[];
}

export async function getCluster(): Promise<Cluster> {
  const res = await apiFetch('/_versa/api/cluster', { cache: 'no-store' });
  if (!res.ok) throw new Error(`the cluster could not be read (HTTP ${res.status})`);
  return (await res.json()) as Cluster;
}
