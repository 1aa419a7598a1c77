import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import type { Peer } from '../api/aws/protocol/http.js';

/** Socket states of a client's end that still carries its request: established, or closing its sending half (not orphaned: see below). */
const LIVE_STATES = new Set(['01', '04', '05']);

/**
 * The user that owns the client's end of a TCP connection to this process, from the kernel's socket
 * tables (Linux): the row whose local address and port are the client's and whose remote address and port
 * are ours, in a live state (a TIME_WAIT row of the same ports belongs to no one, and says uid 0). Null
 * when neither the table (read three times) nor `ss` has such a row, or they have rows of two sockets.
 *
 * The table lists every socket of the machine, which anyone on it (a function too) can make long: read
 * synchronously it held the event loop 24-80 ms per new connection. It is read asynchronously (the
 * kernel writes it on a worker thread), one read at a time, and each read serves every connection made
 * before it began; the rows of a connection are found by searching the text, not by splitting it.
 */
export async function connectionOwner(peer: Peer, asked = performance.now(), tries = 3): Promise<number | null> {
  // On a dual-stack listener an IPv4 client arrives as `::ffff:a.b.c.d`, but its own socket is an IPv4
  // one, listed in the IPv4 table (a client may also use an IPv6 socket to that address: the other table).
  const address = unmapped(peer.address);
  const localAddress = unmapped(peer.localAddress);
  if (isIPv4(address) && isIPv4(localAddress) && !isIPv4(peer.address)) {
    const owner = await connectionOwner({ ...peer, address, localAddress }, asked, tries);
    return owner ?? connectionOwner(peer, asked, 1);
  }
  const v4 = isIPv4(peer.address) && isIPv4(peer.localAddress);
  const text = await table(v4 ? '/proc/net/tcp' : '/proc/net/tcp6', asked);
  if (text === undefined) return null;
  const found = ownerInTable(text, peer);
  // The kernel writes the table a page at a time while sockets come and go, so a read can miss a row
  // (seen under load). A row not found is looked for again, the last time a moment later, and then
  // asked of the kernel's socket diagnostics (`ss`), which filter in the kernel, seamless.
  if (found === undefined && tries > 1) {
    if (tries === 2) await new Promise((resolve) => setTimeout(resolve, 25));
    return connectionOwner(peer, performance.now(), tries - 1);
  }
  return found === undefined ? diagnosedOwner(peer) : found;
}

/**
 * The owner of the connection's live row in a read of the table: undefined when it has none, null when
 * it has rows of different sockets (which one is it?). A read taken while sockets come and go can also
 * show one socket's row twice (a page resumed after rows before it went): the same inode, one socket.
 */
export function ownerInTable(text: string, peer: Peer): number | null | undefined {
  // A row is `sl: local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`.
  const needle = ` ${procAddress(peer.address)}:${hexPort(peer.port)} ${procAddress(peer.localAddress)}:${hexPort(peer.localPort)} `;
  let owner: number | undefined;
  let inode: string | undefined;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) {
    const end = text.indexOf('\n', at);
    const fields = text
      .slice(at + needle.length, end < 0 ? undefined : end)
      .trim()
      .split(/\s+/);
    // A socket its process has closed while the other end has not (an orphan, in FIN_WAIT2) still shows
    // a live state, but with no inode and uid 0: it belongs to no one, and must never pass for root's.
    if (!LIVE_STATES.has(fields[0]!) || fields[6] === '0') continue;
    if (inode !== undefined && inode !== fields[6]) return null;
    inode = fields[6];
    owner = Number(fields[4]);
  }
  return owner;
}

/**
 * The owner of the client's end as `ss` (netlink socket diagnostics) tells it: one live socket of those
 * addresses and ports, not an orphan (inode 0); null where `ss` is missing or says otherwise.
 */
export async function diagnosedOwner(peer: Peer): Promise<number | null> {
  const at = (address: string, port: number) => `${isIPv4(address) ? address : `[${address}]`}:${port}`;
  const args = ['-tnHe', 'state', 'established', 'state', 'fin-wait-1', 'state', 'fin-wait-2'];
  args.push('src', at(peer.address, peer.port), 'dst', at(peer.localAddress, peer.localPort));
  const out = await new Promise<string>((resolve) => execFile('ss', args, { timeout: 2_000 }, (err, stdout) => resolve(err ? '' : stdout)));
  const rows = out.split('\n').filter((line) => line.trim() !== '');
  if (rows.length !== 1) return null;
  const inode = /\bino:(\d+)/.exec(rows[0]!)?.[1];
  if (inode === undefined || inode === '0') return null;
  // `ss` names a socket's user only when it is not root.
  return Number(/\buid:(\d+)/.exec(rows[0]!)?.[1] ?? 0);
}

/**
 * The connection's owner (null: it could not be told), looked up once and kept on it: the answer itself
 * once it is known, so that the connection's later requests are told at once.
 */
export function peerOwner(peer: Peer): number | null | Promise<number | null> {
  if (peer.ownerKnown !== undefined) return peer.ownerKnown;
  return (peer.owner ??= connectionOwner(peer).then((owner) => (peer.ownerKnown = owner)));
}

/** Each table's latest read (begun when), and the read queued to begin once it ends. */
const reads = new Map<
  string,
  { latest?: { startedAt: number; text: Promise<string | undefined> }; queued?: Promise<string | undefined> }
>();

/** The table as read at some time after `asked`: the latest read if it began since, else the next one. */
function table(file: string, asked: number): Promise<string | undefined> {
  let state = reads.get(file);
  if (!state) reads.set(file, (state = {}));
  const s = state;
  if (s.latest && s.latest.startedAt >= asked) return s.latest.text;
  s.queued ??= (s.latest?.text ?? Promise.resolve(undefined)).then(() => {
    const read = { startedAt: performance.now(), text: readFile(file, 'latin1').catch(() => undefined) };
    s.latest = read;
    s.queued = undefined;
    return read.text;
  });
  return s.queued;
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

/** An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) as the IPv4 address it is; any other as it is. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
