// Many clients in one process, and backpressure: a full ring refuses with ERR_BUSY, never loses.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { ENetClient, Err } from '../dist/index.js';
import { startServer, connectClient, collect, until, waitFor, WAIT_MS } from './helpers.js';

const threadCount = () => readdirSync('/proc/self/task').length;

test('200 ENetClients in one process share one network thread; each gets its own echo', async (t) => {
  const server = await startServer(t, { maxPeers: 256 });
  server.on('packetReceived', (peer, packet) => server.sendPacket(peer.peerId, packet));
  const first = new ENetClient();
  first.connectToServer('127.0.0.1', server.getLocalPort());
  await waitFor(first, 'connectedToServer');
  t.teardown(() => first.disconnectFromServer());
  const threadsWithOne = threadCount();

  const clients = Array.from({ length: 199 }, () => new ENetClient());
  await Promise.all(clients.map((client) => {
    const connected = waitFor(client, 'connectedToServer', WAIT_MS * 2);
    t.is(client.connectToServer('127.0.0.1', server.getLocalPort()), Err.OK);
    t.teardown(() => client.disconnectFromServer());
    return connected;
  }));
  // ENet completes the client's side of the handshake first: the server's follows an ack later.
  await until(() => server.getAuthenticatedPeerCount() === 200, WAIT_MS, '200 server-side peers');
  t.true(threadCount() - threadsWithOne <= 2, `threads grew from ${threadsWithOne} to ${threadCount()}`);

  const all = [first, ...clients];
  const echoes = all.map((client) => waitFor(client, 'packetReceived', WAIT_MS * 2));
  all.forEach((client, i) => t.is(client.sendPacket({ client: i }), Err.OK));
  const got = await Promise.all(echoes);
  t.deepEqual(got.map(([packet]) => packet.client), all.map((_, i) => i));
});

test("the host's peer window follows its peers: 600 clients at once, the last 300 leave, 400 more join; each connects and is answered", async (t) => {
  // Native keeps ENet's walked slots to the highest in use plus one pass's connects (256): bursts past
  // that must still all get in, and slots freed at the top must come back (Reactor::fitPeerWindow).
  const server = await startServer(t, { maxPeers: 1200 });
  server.on('packetReceived', (peer, packet) => server.sendPacket(peer.peerId, packet));
  const join = async (n) => {
    const clients = Array.from({ length: n }, () => new ENetClient());
    await Promise.all(clients.map((client) => {
      const connected = waitFor(client, 'connectedToServer', WAIT_MS * 3);
      t.is(client.connectToServer('127.0.0.1', server.getLocalPort()), Err.OK);
      t.teardown(() => client.disconnectFromServer());
      return connected;
    }));
    return clients;
  };
  const echoAll = async (clients, tag) => {
    const echoes = clients.map((client) => waitFor(client, 'packetReceived', WAIT_MS * 3));
    clients.forEach((client, i) => t.is(client.sendPacket({ tag, i }), Err.OK));
    const got = await Promise.all(echoes);
    t.deepEqual(got.map(([packet]) => packet.i), clients.map((_, i) => i));
  };
  const first = await join(600);
  await until(() => server.getAuthenticatedPeerCount() === 600, WAIT_MS * 2, '600 server-side peers');
  await echoAll(first, 'first');
  const leaving = first.slice(300);
  const gone = leaving.map((client) => waitFor(client, 'disconnectedFromServer', WAIT_MS * 2));
  for (const client of leaving) client.disconnectFromServer();
  await Promise.all(gone);
  await until(() => server.getPeerCount() === 300, WAIT_MS * 2, '300 peers left');
  const second = await join(400);
  await until(() => server.getAuthenticatedPeerCount() === 700, WAIT_MS * 2, '700 server-side peers');
  await echoAll([...first.slice(0, 300), ...second], 'second');
});

test('a full outbound ring is backpressure: ERR_BUSY, and every accepted packet arrives in order', async (t) => {
  // The smallest ring that holds two maximum-size packets: a burst in one tick fills it.
  const server = await startServer(t, { options: { maxPacketSize: 16 * 1024, ringBytes: 64 * 1024, maxQueuedBytesPerPeer: 8 * 1024 * 1024 } });
  const { client, peer } = await connectClient(t, server);

  const payload = new Uint8Array(8000);
  const accepted = [];
  let busy = 0;
  for (let i = 0; i < 200; i++) {
    payload[0] = i;
    const result = server.sendPacket(peer.peerId, payload);
    if (result === Err.OK) accepted.push(i);
    else if (result === Err.ERR_BUSY) busy++;
    else t.fail(`unexpected ${result}`);
  }
  t.true(busy > 0, 'the ring filled up');
  t.true(accepted.length > 0);
  t.true(server.getMetrics().ringStalls > 0, 'the stall is counted');
  const received = await collect(client, 'packetReceived', accepted.length);
  t.deepEqual(received.map(([packet]) => packet[0]), accepted);

  // Once drained, the ring takes packets again.
  const after = waitFor(client, 'packetReceived');
  t.is(server.sendPacket(peer.peerId, 'room again'), Err.OK);
  t.is((await after)[0], 'room again');
});

test('a full inbound ring holds the net actor back (counted as a stall); nothing is lost or reordered', async (t) => {
  const server = await startServer(t, { options: { maxPacketSize: 16 * 1024, ringBytes: 64 * 1024 } });
  const { client } = await connectClient(t, server);

  const count = 100;
  const seen = [];
  let blocked = false;
  const all = new Promise((resolve) => {
    server.on('packetReceived', (peer, packet) => {
      if (!blocked) {
        // The application stalls the main thread: the inbound ring (64 KiB) fills meanwhile.
        blocked = true;
        const until = Date.now() + 400;
        while (Date.now() < until);
      }
      seen.push(packet[0]);
      if (seen.length === count) resolve();
    });
  });
  const payload = new Uint8Array(4000);
  for (let i = 0; i < count; i++) {
    payload[0] = i;
    t.is(client.sendPacket(payload), Err.OK);
  }
  await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${seen.length}/${count} arrived`)), WAIT_MS * 2))]);
  t.deepEqual(seen, [...Array(count).keys()]);
  t.true(server.getMetrics().ringStalls > 0, 'the net actor waited for room');
});
