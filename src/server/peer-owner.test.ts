import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { connectionOwner } from './peer-owner.js';

describe('connectionOwner', () => {
  it('finds the live row of exactly this connection, by both addresses and ports, and its owner', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.7' });
    const socket = await accepted;
    const peer = {
      address: socket.remoteAddress!,
      port: socket.remotePort!,
      localAddress: socket.localAddress!,
      localPort: socket.localPort!,
    };
    assert.equal(peer.address, '127.0.0.7');
    assert.equal(connectionOwner(peer), process.getuid!());
    // The same ports from another address, or a port with no connection: no owner to tell.
    assert.equal(connectionOwner({ ...peer, address: '127.0.0.8' }), null);
    assert.equal(connectionOwner({ ...peer, port: peer.port === 65535 ? 65534 : peer.port + 1 }), null);
    client.destroy();
    socket.destroy();
    server.close();
  });
});
