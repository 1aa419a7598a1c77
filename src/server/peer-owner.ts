import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import type { Peer } from '../api/aws/protocol/http.js';

/** Socket states of a client's end that still carries its request: established, or closing its sending half. */
const LIVE_STATES = new Set(['01', '04', '05']);

/**
 * The user that owns the client's end of a TCP connection to this process, from the kernel's socket
 * tables (Linux): the row whose local address and port are the client's and whose remote address and port
 * are ours, in a live state (a TIME_WAIT row of the same ports belongs to no one, and says uid 0). Null
 * when there is no such row, or more than one. Reads the whole table: once per connection, and only where
 * the answer matters (peerOwner).
 */
export function connectionOwner(peer: Peer): number | null {
  const v4 = isIPv4(peer.address) && isIPv4(peer.localAddress);
  const client = `${procAddress(peer.address)}:${hexPort(peer.port)}`;
  const server = `${procAddress(peer.localAddress)}:${hexPort(peer.localPort)}`;
  let text: string;
  try {
    text = readFileSync(v4 ? '/proc/net/tcp' : '/proc/net/tcp6', 'latin1');
  } catch {
    return null;
  }
  let owner: number | null = null;
  let rows = 0;
  // A row is `sl local_address rem_address st tx:rx tr:when retrnsmt uid ...`.
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length > 7 && f[1] === client && f[2] === server && LIVE_STATES.has(f[3]!)) {
      owner = Number(f[7]);
      rows++;
    }
  }
  return rows === 1 ? owner : null;
}

/** The connection's owner, read once and kept on it (null: it could not be told). */
export function peerOwner(peer: Peer): number | null {
  if (peer.owner === undefined) peer.owner = connectionOwner(peer);
  return peer.owner;
}

/**
 * An address as the kernel's tables print it: each 32-bit word of the address in hexadecimal, in the
 * machine's byte order (little-endian on the machines Versa runs on). IPv6 addresses, IPv4-mapped ones
 * included, take four words.
 */
function procAddress(address: string): string {
  const bytes = isIPv4(address) ? address.split('.').map(Number) : ipv6Bytes(address);
  let out = '';
  for (let word = 0; word < bytes.length; word += 4) {
    for (let i = 3; i >= 0; i--) out += bytes[word + i]!.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function ipv6Bytes(address: string): number[] {
  const plain = address.replace(/%.*$/, '');
  // An IPv4 tail (`::ffff:127.0.0.1`) is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(plain);
  const head = v4
    ? plain.slice(0, plain.length - v4[0].length) + `${((+v4[1]! << 8) | +v4[2]!).toString(16)}:${((+v4[3]! << 8) | +v4[4]!).toString(16)}`
    : plain;
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  return groups.flatMap((g) => {
    const n = parseInt(g || '0', 16);
    return [n >> 8, n & 0xff];
  });
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
