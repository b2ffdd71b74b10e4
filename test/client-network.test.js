// Client networks made by createClientNetwork() and handed to clients; a destroyed client host costs
// nothing later; disconnectFromServer() takes effect at once; handler exceptions never reach the loop.
import test from 'ava';
import { ENetClient, ClientStatus, Err, createClientNetwork, ClientNetwork } from '../dist/index.js';
import { startServer, connectClient, collect, until, waitFor, WAIT_MS } from './helpers.js';

function echoServer(t, options) {
  return startServer(t, {
    maxPeers: 256,
    options,
    setup: (server) => server.on('packetReceived', (peer, packet, channel) => server.sendPacket(peer.peerId, packet, channel)),
  });
}

function closeAfter(t, network) {
  t.teardown(() => network.close());
  return network;
}

test('a client network honours its maxPacketSize: a 2 MiB packet goes both ways (the default network holds 1 MiB)', async (t) => {
  const server = await echoServer(t, { maxPacketSize: 4 * 1024 * 1024 });
  const network = closeAfter(t, createClientNetwork({ maxPacketSize: 4 * 1024 * 1024, pollRate: 5 }));
  t.true(network instanceof ClientNetwork);
  t.is(network.maxPacketSize, 4 * 1024 * 1024);
  const { client } = await connectClient(t, server, { client: new ENetClient({ network }) });
  t.is(client.getNetwork(), network);
  t.is(client.getPollRate(), 5);
  const big = new Uint8Array(2 * 1024 * 1024).map((_, i) => i % 251);
  const echo = waitFor(client, 'packetReceived', WAIT_MS * 2);
  t.is(client.sendPacket(big), Err.OK);
  const [packet] = await echo;
  t.is(packet.length, big.length);
  t.true(Buffer.from(packet).equals(Buffer.from(big)));
});

test('a client asking for more than its network holds gets ERR_INVALID_PARAMETER from connectToServer, not a RangeError', async (t) => {
  const server = await echoServer(t);
  const onDefault = new ENetClient({ maxPacketSize: 8 * 1024 * 1024 });
  t.is(onDefault.connectToServer('127.0.0.1', server.getLocalPort()), Err.ERR_INVALID_PARAMETER);
  t.is(onDefault.getConnectionStatus(), ClientStatus.STATUS_DISCONNECTED);
  const network = closeAfter(t, createClientNetwork({ maxPacketSize: 64 * 1024, ringBytes: 64 * 1024 }));
  const small = new ENetClient({ network, maxPacketSize: 128 * 1024 });
  t.is(small.connectToServer('127.0.0.1', server.getLocalPort()), Err.ERR_INVALID_PARAMETER);
  // Within its network's size, a client connects; a packet over its own limit is ERR_INVALID_DATA.
  const { client } = await connectClient(t, server, { client: new ENetClient({ network }) });
  t.is(client.sendPacket(new Uint8Array(70 * 1024)), Err.ERR_INVALID_DATA);
  t.is(client.sendPacket(new Uint8Array(32 * 1024)), Err.OK);
});

test('client network options are validated, naming the option', (t) => {
  for (const [options, option] of [
    [{ maxPacketSize: 0 }, 'maxPacketSize'],
    [{ maxPacketSize: 1.5 }, 'maxPacketSize'],
    [{ ringBytes: 1024 }, 'ringBytes'],
    [{ pollRate: 'fast' }, 'pollRate'],
  ]) {
    const error = t.throws(() => createClientNetwork(options));
    t.is(error.code, Err.ERR_INVALID_PARAMETER);
    t.is(error.option, option);
  }
  t.is(t.throws(() => new ENetClient({ network: {} })).option, 'network');
  t.is(t.throws(() => new ENetClient({ connectTimeoutMs: -1 })).option, 'connectTimeoutMs');
});

test('clients on two networks run on two threads and each gets its own echoes; close() reports "Network closed"', async (t) => {
  const server = await echoServer(t);
  const a = closeAfter(t, createClientNetwork());
  const b = closeAfter(t, createClientNetwork());
  const ca = (await connectClient(t, server, { client: new ENetClient({ network: a }) })).client;
  const cb = (await connectClient(t, server, { client: new ENetClient({ network: b }) })).client;
  const echoes = [waitFor(ca, 'packetReceived'), waitFor(cb, 'packetReceived')];
  ca.sendPacket({ from: 'a' });
  cb.sendPacket({ from: 'b' });
  t.deepEqual((await Promise.all(echoes)).map(([p]) => p.from), ['a', 'b']);
  t.is(a.getMetrics().clients, 1);
  t.is(a.getMetrics().hosts, 1);

  const gone = waitFor(ca, 'disconnectedFromServer');
  await a.close();
  t.deepEqual(await gone, ['Network closed']);
  t.false(ca.isConnectedToServer());
  t.true(cb.isConnectedToServer(), 'the other network is untouched');
  // A client that connects afterwards starts the network again.
  const again = await connectClient(t, server, { client: new ENetClient({ network: a }) });
  t.true(again.client.isConnectedToServer());
});

test('a destroyed client host costs nothing later: after 120 clients came and went, passes walk the one live host', async (t) => {
  const server = await echoServer(t);
  const network = closeAfter(t, createClientNetwork());
  const { client: stayer } = await connectClient(t, server, { client: new ENetClient({ network }) });
  for (let round = 0; round < 4; round++) {
    const clients = Array.from({ length: 30 }, () => new ENetClient({ network }));
    await Promise.all(clients.map((client) => {
      const connected = waitFor(client, 'connectedToServer');
      t.is(client.connectToServer('127.0.0.1', server.getLocalPort()), Err.OK);
      return connected;
    }));
    t.is(network.getMetrics().hosts, 31);
    await Promise.all(clients.map((client) => {
      const gone = waitFor(client, 'disconnectedFromServer');
      client.disconnectFromServer('bye');
      return gone;
    }));
  }
  await until(() => network.getMetrics().hosts === 1, WAIT_MS, 'one live host');
  // Every pass and stats pass walks live hosts only (the stayer's). The echoes themselves are read
  // on this thread (src/client/network.ts: serviceInline); the network thread's passes come at least
  // every pollRate ms for ENet's timers: wait for a few of them.
  const before = network.getMetrics();
  for (let i = 0; i < 50; i++) {
    const echo = waitFor(stayer, 'packetReceived');
    stayer.sendPacket(i);
    await echo;
  }
  await until(() => network.getMetrics().passes >= before.passes + 3, WAIT_MS, 'passes of the network thread');
  const after = network.getMetrics();
  const passes = after.passes - before.passes;
  const visits = after.hostVisits - before.hostVisits;
  t.true(passes > 0, 'passes happened');
  t.true(visits <= 2 * passes, `walked ${visits} hosts in ${passes} passes with 1 live host (121 were created)`);
  t.is(after.clients, 1);
});

test('isConnectedToServer() is false as soon as disconnectFromServer() is called; the disconnect is reported once confirmed', async (t) => {
  const server = await echoServer(t);
  const { client } = await connectClient(t, server);
  const gone = waitFor(client, 'disconnectedFromServer');
  client.disconnectFromServer('leaving');
  t.false(client.isConnectedToServer());
  t.is(client.getConnectionStatus(), ClientStatus.STATUS_DISCONNECTED);
  t.is(client.sendPacket('too late'), Err.ERR_UNCONFIGURED);
  t.deepEqual(await gone, ['leaving']);
});

test('connectToServer() right after disconnectFromServer() starts a new connection; the old one is not reported', async (t) => {
  const server = await echoServer(t);
  const { client } = await connectClient(t, server);
  const reports = [];
  client.on('disconnectedFromServer', (reason) => reports.push(reason));
  const left = waitFor(server, 'peerDisconnected');
  client.disconnectFromServer('old');
  const connected = waitFor(client, 'connectedToServer');
  t.is(client.connectToServer('127.0.0.1', server.getLocalPort()), Err.OK);
  await connected;
  await left; // the old connection's end reached the server (and so its ack the client)
  const echo = waitFor(client, 'packetReceived');
  client.sendPacket('new');
  t.is((await echo)[0], 'new');
  t.deepEqual(reports, []);
});

test("a handler's exception becomes an 'error' event; the client and its network go on", async (t) => {
  const server = await echoServer(t);
  const { client } = await connectClient(t, server);
  const { client: other } = await connectClient(t, server);
  const errors = [];
  client.on('error', (error) => errors.push(error.message));
  const seen = collect(client, 'packetReceived', 2); // listeners after a throwing one miss that emission
  let calls = 0;
  client.on('packetReceived', () => {
    calls++;
    if (calls === 1) throw new Error('boom in packetReceived');
  });
  client.registerEvent('tick', () => {
    throw new Error('boom in an event callback');
  });
  client.sendPacket(1);
  client.sendPacket(2);
  await seen;
  const custom = waitFor(client, 'customEventReceived');
  client.sendPacket({ _event: 'tick' });
  await custom; // still emitted after the callback threw
  const echo = waitFor(other, 'packetReceived');
  other.sendPacket('other');
  t.is((await echo)[0], 'other', 'other clients of the network are unaffected');
  t.deepEqual(errors, ['boom in packetReceived', 'boom in an event callback']);
});

test('without an error listener, a handler throwing again and again is logged once; timer paths, async listeners and a throwing error listener too', async (t) => {
  const server = await echoServer(t);
  const logged = [];
  const logger = { warn: (m) => logged.push(m), error: (m) => logged.push(m) };
  const { client } = await connectClient(t, server, { client: new ENetClient({ logger }) });
  client.on('packetReceived', () => {
    throw new Error('again and again');
  });
  const raw = collect(client, 'rawPacketReceived', 3);
  for (let i = 0; i < 3; i++) client.sendPacket(i);
  await raw;
  await until(() => logged.length >= 1, WAIT_MS, 'a log line');
  t.is(logged.length, 1);
  t.regex(logged[0], /'packetReceived' listener failed: Error: again and again/);

  // An async listener's rejection is reported the same way (not an unhandled rejection).
  client.on('rawPacketReceived', async () => {
    throw new Error('async trouble');
  });
  client.sendPacket('one more');
  await until(() => logged.some((m) => /'rawPacketReceived' listener failed: Error: async trouble/.test(m)), WAIT_MS, 'the async rejection');

  // The connect timeout fires from a timer: a throwing listener there is reported, not uncaught.
  const port = server.getLocalPort();
  const lonely = new ENetClient({ logger, connectTimeoutMs: 200 });
  const failed = waitFor(lonely, 'connectionFailed', WAIT_MS);
  lonely.on('connectionFailed', () => {
    throw new Error('from a timer');
  });
  t.is(lonely.connectToServer('127.0.0.1', port === 65535 ? 1 : port + 1), Err.OK);
  await failed;
  await until(() => logged.some((m) => /'connectionFailed' listener failed: Error: from a timer/.test(m)), WAIT_MS, 'the timer-path log');

  // An 'error' listener that throws itself falls back to the logger.
  client.on('error', () => {
    throw new Error('the error listener broke');
  });
  const more = waitFor(client, 'rawPacketReceived');
  client.sendPacket('x');
  await more;
  await until(() => logged.some((m) => /the error listener broke/.test(m)), WAIT_MS, 'the fallback log');
  t.pass();
});
