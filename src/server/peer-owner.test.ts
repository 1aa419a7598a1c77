import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { connectionOwner, diagnosedOwner, ownerInTable } from './peer-owner.js';

/**
 * One connection to a server of this process: the server's end, as the server sees its peer, and
 * `orphan()`, which leaves the client's end closed by its process while the server keeps its half
 * open (so it lingers in FIN_WAIT2, owned by no one).
 */
async function connection(opts: { listen?: string; from?: string } = {}) {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, opts.listen ?? '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect({ port, host: '127.0.0.1', ...(opts.from && { localAddress: opts.from }) });
  await new Promise((resolve) => client.once('connect', resolve));
  const socket = await accepted;
  const peer = {
    address: socket.remoteAddress!,
    port: socket.remotePort!,
    localAddress: socket.localAddress!,
    localPort: socket.localPort!,
  };
  return {
    peer,
    async orphan() {
      const ended = new Promise((resolve) => socket.once('end', resolve));
      client.end();
      await ended;
      client.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    close() {
      client.destroy();
      socket.destroy();
      server.close();
    },
  };
}

describe('connectionOwner', () => {
  it('finds the live row of exactly this connection, by both addresses and ports, and its owner', async () => {
    const c = await connection({ from: '127.0.0.7' });
    const { peer } = c;
    assert.equal(peer.address, '127.0.0.7');
    assert.equal(await connectionOwner(peer), process.getuid!());
    // The same ports from another address, or a port with no connection: no owner to tell.
    assert.equal(await connectionOwner({ ...peer, address: '127.0.0.8' }), null);
    assert.equal(await connectionOwner({ ...peer, port: peer.port === 65535 ? 65534 : peer.port + 1 }), null);
    c.close();
  });

  it("a read that shows the connection's row twice (the kernel resumed a page after rows before it went) still names its owner", () => {
    const peer = { address: '127.0.0.1', port: 0xc350, localAddress: '127.0.0.1', localPort: 0x11d6 };
    const row = (sl: number, st: string, uid: number, inode: number) =>
      `  ${sl}: 0100007F:C350 0100007F:11D6 ${st} 00000000:00000000 00:00000000 00000000 ${uid.toString().padStart(5)}        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;
    const head = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const other =
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n';
    assert.equal(ownerInTable(head + other + row(1, '01', 993, 777) + row(2, '01', 993, 777), peer), 993);
    assert.equal(ownerInTable(head + row(1, '01', 0, 778), peer), 0);
    // Rows of two sockets for one connection: which is it? Nobody's.
    assert.equal(ownerInTable(head + row(1, '01', 993, 777) + row(2, '01', 0, 778), peer), null);
    // TIME_WAIT and orphans own nothing; no live row is no answer (the caller reads again).
    assert.equal(ownerInTable(head + row(1, '06', 0, 0) + row(2, '05', 0, 0), peer), undefined);
    assert.equal(ownerInTable(head + other, peer), undefined);
  });

  it('connections made at once share reads of the table, and each is found in a read begun after it was made', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const sockets: net.Socket[] = [];
    server.on('connection', (s) => sockets.push(s));
    const clients = Array.from({ length: 40 }, () => net.connect({ port, host: '127.0.0.1' }));
    await Promise.all(clients.map((c) => new Promise((resolve) => c.once('connect', resolve))));
    while (sockets.length < clients.length) await new Promise((resolve) => setImmediate(resolve));
    const owners = await Promise.all(
      sockets.map((s) =>
        connectionOwner({ address: s.remoteAddress!, port: s.remotePort!, localAddress: s.localAddress!, localPort: s.localPort! }),
      ),
    );
    assert.deepEqual(new Set(owners), new Set([process.getuid!()]));
    for (const c of clients) c.destroy();
    for (const s of sockets) s.destroy();
    server.close();
  });

  it("a client's end its process closed after sending (an orphan in FIN_WAIT2, uid 0 in the table) has no owner", async () => {
    const c = await connection();
    assert.equal(await connectionOwner(c.peer), process.getuid!());
    await c.orphan();
    assert.equal(await connectionOwner(c.peer), null);
    c.close();
  });

  it('on a dual-stack listener an IPv4 client (::ffff:127.0.0.1 to the server) is found in the IPv4 table', async () => {
    const c = await connection({ listen: '::' });
    assert.equal(c.peer.address, '::ffff:127.0.0.1');
    assert.equal(await connectionOwner(c.peer), process.getuid!());
    c.close();
  });

  it("the kernel's socket diagnostics (ss), asked when the table has no row, tell the same owner, and no owner for an orphan", async () => {
    const c = await connection({ from: '127.0.0.6' });
    assert.equal(await diagnosedOwner(c.peer), process.getuid!());
    assert.equal(await diagnosedOwner({ ...c.peer, address: '127.0.0.8' }), null);
    await c.orphan();
    assert.equal(await diagnosedOwner(c.peer), null);
    c.close();
  });
});
