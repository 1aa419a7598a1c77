import { readFileSync } from 'node:fs';

/**
 * The user that owns the other end of a loopback TCP connection to this process, from the kernel's socket
 * tables (Linux; undefined elsewhere, or when the connection is gone). Reads all of /proc/net/tcp and
 * tcp6: for rare requests only (a metrics scrape), never on the hot path.
 */
export function loopbackPeerOwner(peer: { port: number; localPort: number }): number | undefined {
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

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
