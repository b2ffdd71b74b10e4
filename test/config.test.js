// Configuration: compression, packet size limit, poll rate, bind address.
import test from 'ava';
import { ENetServerSupervisor, ENetClient, CompressionMode, Err } from '../dist/index.js';
import { startServer, connectClient, waitFor } from './helpers.js';

test('range-coder compression end to end (set before createServer on both sides)', async (t) => {
  const server = await startServer(t, { setup: (s) => s.setCompressionMode(CompressionMode.COMPRESS_RANGE_CODER) });
  const client = new ENetClient();
  client.setCompressionMode(CompressionMode.COMPRESS_RANGE_CODER);
  await connectClient(t, server, { client });
  const text = 'compress me '.repeat(200);
  const got = waitFor(server, 'packetReceived');
  client.sendPacket(text);
  t.is((await got)[1], text);
  const metrics = server.getMetrics();
  t.true(metrics.bytesIn > text.length, 'the payload counts as it was sent');
  t.true(metrics.wireBytesIn < text.length / 2, 'the wire carried far fewer bytes than the text');
});

test('setCompressionMode works on a running server (new traffic uses the new mode)', async (t) => {
  const server = await startServer(t);
  const client = new ENetClient();
  await connectClient(t, server, { client });
  server.setCompressionMode(CompressionMode.COMPRESS_RANGE_CODER);
  client.setCompressionMode(CompressionMode.COMPRESS_RANGE_CODER);
  const got = waitFor(server, 'packetReceived');
  client.sendPacket('after the switch '.repeat(50));
  t.is((await got)[1], 'after the switch '.repeat(50));
  t.is(server.getCompressionMode(), CompressionMode.COMPRESS_RANGE_CODER);
});

test('every CompressionMode (0..4) is accepted by the server and the client; other values are refused', (t) => {
  const server = new ENetServerSupervisor();
  const client = new ENetClient();
  for (const mode of [
    CompressionMode.COMPRESS_NONE,
    CompressionMode.COMPRESS_RANGE_CODER,
    CompressionMode.COMPRESS_FASTLZ,
    CompressionMode.COMPRESS_ZLIB,
    CompressionMode.COMPRESS_ZSTD,
  ]) {
    server.setCompressionMode(mode);
    t.is(server.getCompressionMode(), mode);
    client.setCompressionMode(mode);
    t.is(client.getCompressionMode(), mode);
  }
  for (const bad of [9, 5, -1, 2.5, '1', NaN, null, undefined]) {
    const fromServer = t.throws(() => server.setCompressionMode(bad), undefined, `server, ${String(bad)}`);
    t.is(fromServer.code, Err.ERR_INVALID_PARAMETER);
    t.regex(fromServer.message, /not a CompressionMode/);
    t.is(t.throws(() => client.setCompressionMode(bad)).code, Err.ERR_INVALID_PARAMETER, `client, ${String(bad)}`);
  }
  t.is(server.getCompressionMode(), CompressionMode.COMPRESS_ZSTD, 'a refused value leaves the mode as it was');
  t.is(client.getCompressionMode(), CompressionMode.COMPRESS_ZSTD);
});

test('maxPacketSize bounds what the server sends; smaller packets still flow', async (t) => {
  const server = await startServer(t, { options: { maxPacketSize: 4096 } });
  const { client, peer } = await connectClient(t, server);
  t.is(server.sendPacket(peer.peerId, Buffer.alloc(4095)), Err.OK, 'type byte + 4095 = 4096 fits');
  t.is(server.sendPacket(peer.peerId, Buffer.alloc(4096)), Err.ERR_INVALID_DATA);
  t.is(client.sendPacket(Buffer.alloc(100)), Err.OK);
  const got = waitFor(server, 'packetReceived');
  t.is((await got)[1].length, 100);
});

test('bindAddress is honoured: a server bound to 127.0.0.1 accepts loopback clients', async (t) => {
  const server = await startServer(t, { options: { bindAddress: '127.0.0.1' } });
  const { peer } = await connectClient(t, server);
  t.is(peer.getRemoteAddress(), '127.0.0.1');
});

test('game-logic options are checked: a relative path or a bad actor count is ERR_INVALID_PARAMETER, leaving the server stopped', async (t) => {
  const server = new ENetServerSupervisor();
  for (const options of [
    { gameLogic: 'game.js' },
    { gameLogic: 42 },
    { gameLogic: '/tmp/game.js', gameActors: 0 },
    { gameLogic: '/tmp/game.js', gameActors: 1.5 },
    { gameLogic: '/tmp/game.js', placePeer: 'first' },
  ]) {
    const error = await t.throwsAsync(server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', ...options }));
    t.is(error.code, Err.ERR_INVALID_PARAMETER, JSON.stringify(options));
    t.false(server.isServerActive());
  }
});

test('a game-logic module that cannot be loaded fails createServer with ERR_CANT_CREATE naming it, and frees the port', async (t) => {
  const server = new ENetServerSupervisor();
  const missing = '/tmp/enet-actor-server-no-such-module.mjs';
  const error = await t.throwsAsync(server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', gameLogic: missing, gameActors: 1 }));
  t.is(error.code, Err.ERR_CANT_CREATE);
  t.regex(error.message, /no-such-module/);
  t.false(server.isServerActive());
  // The server can be created afterwards (nothing left half-started).
  await server.createServer(0, 4, 2, { bindAddress: '127.0.0.1' });
  t.true(server.isServerActive());
  await server.stopServer();
});

test('every option is checked in one place: bad values are ERR_INVALID_PARAMETER naming the option, and nothing is bound', async (t) => {
  const server = new ENetServerSupervisor();
  for (const [options, option] of [
    [{ bindAddress: 'not-an-address' }, 'bindAddress'],
    [{ bindAddress: '999.1.1.1' }, 'bindAddress'],
    [{ ringBytes: -5 }, 'ringBytes'],
    [{ ringBytes: 1.5 }, 'ringBytes'],
    [{ maxPacketSize: 8 }, 'maxPacketSize'],
    [{ maxDepth: 0 }, 'maxDepth'],
    [{ packetFormat: 7 }, 'packetFormat'],
    [{ restartPolicy: { intensity: -1 } }, 'restartPolicy'],
    [{ logger: {} }, 'logger'],
    [{ netActors: 17 }, 'netActors'],
    [{ netActors: 0 }, 'netActors'],
    [{ netActors: 1.5 }, 'netActors'],
    [{ restartOnHandlerError: 'yes' }, 'restartOnHandlerError'],
  ]) {
    const error = await t.throwsAsync(server.createServer(0, 4, 2, options), undefined, JSON.stringify(options));
    t.is(error.code, Err.ERR_INVALID_PARAMETER, JSON.stringify(options));
    t.is(error.option, option);
    t.false(server.isServerActive());
  }
  for (const [args, option] of [
    [[70000, 4, 2], 'port'],
    [[0, 0, 2], 'maxPeers'],
    [[0, 65536, 2], 'maxPeers'],
    [[0, 4, 256], 'maxChannels'],
    // One ENet host holds 4,095 peers: more need more shards.
    [[0, 5000, 2, { netActors: 1 }], 'netActors'],
  ]) {
    const error = await t.throwsAsync(server.createServer(...args));
    t.is(error.code, Err.ERR_INVALID_PARAMETER);
    t.is(error.option, option);
  }
});

test('setters are range-checked: an auth timeout past Node\'s timer range, NaN poll rates and unknown modes throw; poll rates clamp', (t) => {
  const server = new ENetServerSupervisor();
  for (const bad of [Infinity, 30 * 24 * 3600, Number.NaN, '10']) {
    const error = t.throws(() => server.setAuthenticationTimeout(bad));
    t.is(error.code, Err.ERR_INVALID_PARAMETER, String(bad));
  }
  server.setAuthenticationTimeout(2_000_000);
  t.is(server.getAuthenticationTimeout(), 2_000_000);
  server.setAuthenticationTimeout(0);
  t.is(server.getAuthenticationTimeout(), 0);
  t.throws(() => server.setPollRate(Number.NaN), { code: Err.ERR_INVALID_PARAMETER });
  server.setPollRate(0);
  t.is(server.getPollRate(), 1);
  server.setPollRate(5000);
  t.is(server.getPollRate(), 1000);
  t.throws(() => server.setAuthenticationMode(3), { code: Err.ERR_INVALID_PARAMETER });
  t.throws(() => server.setCompressionMode('zstd'), { code: Err.ERR_INVALID_PARAMETER });
});
