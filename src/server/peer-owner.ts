import { readFileSync } from 'node:fs';
import type { Peer } from '../api/aws/protocol/http.js';

/**
 * The user that owns the other end of a loopback TCP connection to this process, from the kernel's socket
 * tables (Linux; undefined elsewhere, or when the connection is gone). Reads all of /proc/net/tcp and
 * tcp6: for rare requests only (a metrics scrape), never on the hot path.
 */
export function loopbackPeerOwner(peer: Pick<Peer, 'port' | 'localPort'>): number | undefined {
  // A row is `sl local_address rem_address st tx:rx tr:when retrnsmt uid ...`, addresses as HEX_IP:HEX_PORT.
  const local = `:${hexPort(peer.port)}`;
  const remote = `:${hexPort(peer.localPort)}`;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length > 7 && f[1]!.endsWith(local) && f[2]!.endsWith(remote)) return Number(f[7]);
    }
  }
  return undefined;
}

/** Whether a connection was opened by `uid`: read from the kernel once per connection, then kept on it. */
export function peerIs(peer: Peer | undefined, uid: number): boolean {
  if (peer === undefined) return false;
  if (peer.owner === undefined) peer.owner = loopbackPeerOwner(peer) ?? null;
  return peer.owner === uid;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
