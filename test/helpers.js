// Test helpers: real servers on loopback port 0, real ENet clients, bounded waits on events.
import dgram from 'node:dgram';
import { CompressionMode, ENetServerSupervisor, ENetClient } from '../dist/index.js';

// Generous: a wait only runs out when something is wrong, and a loaded 2-core machine is slow.
export const WAIT_MS = 15000;

/**
 * Resolves with the arguments of the next `event` that passes `filter`; rejects after `ms`.
 * (Not events.once: that also rejects on an 'error' event, which some tests expect to see.)
 */
export function waitFor(emitter, event, ms = WAIT_MS, filter = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`));
    }, ms);
    function listener(...args) {
      if (!filter(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    }
    emitter.on(event, listener);
  });
}

/** Collects `count` emissions of `event` (each as its argument list). */
export function collect(emitter, event, count, ms = WAIT_MS) {
  const seen = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${ms} ms with ${seen.length}/${count} '${event}'`));
    }, ms);
    function listener(...args) {
      seen.push(args);
      if (seen.length === count) {
        clearTimeout(timer);
        emitter.off(event, listener);
        resolve(seen);
      }
    }
    emitter.on(event, listener);
  });
}

/** Polls a condition on the event loop (for state reached without an event), bounded. */
export async function until(condition, ms = WAIT_MS, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * With ENET_TEST_GAME_ACTORS=N every server of the suite runs N game actors with a module that
 * handles nothing (`npm run test:actors`): everything then behaves as in main-thread mode.
 */
const GAME_ACTORS = Number(process.env.ENET_TEST_GAME_ACTORS ?? 0);
export const EMPTY_GAME_LOGIC = new URL('./fixtures/game/empty.mjs', import.meta.url).href;
const actorOptions = GAME_ACTORS > 0 ? { gameLogic: EMPTY_GAME_LOGIC, gameActors: GAME_ACTORS } : {};

/** A started server on 127.0.0.1, port 0; stopped by `t.teardown`. */
export async function startServer(t, { maxPeers = 32, channels = 2, options = {}, setup } = {}) {
  const server = new ENetServerSupervisor();
  setup?.(server);
  await server.createServer(0, maxPeers, channels, { bindAddress: '127.0.0.1', ...actorOptions, ...options });
  t.teardown(() => server.stopServer());
  return server;
}

/** A client connected to `server`; resolves with the client and the server-side peer once authenticated (AUTH_NONE). */
export async function connectClient(t, server, { channels = 2, authenticated = true, client = new ENetClient() } = {}) {
  const connected = waitFor(client, 'connectedToServer');
  const serverSide = waitFor(server, authenticated ? 'peerAuthenticated' : 'peerConnecting');
  const err = client.connectToServer('127.0.0.1', server.getLocalPort(), channels);
  if (err !== 0) throw new Error(`connectToServer returned ${err}`);
  t.teardown(() => client.disconnectFromServer());
  await connected;
  const [peer] = await serverSide;
  return { client, peer };
}

/** Every compression mode, as [name, value]. */
export const COMPRESSION_MODES = Object.entries(CompressionMode).filter(([, value]) => typeof value === 'number');

/** ENet's "compressed" bit in the first big-endian u16 of its protocol header. */
export const ENET_HEADER_FLAG_COMPRESSED = 0x4000;

/**
 * A UDP relay on 127.0.0.1 between one ENet client and the server on `serverPort`: the client connects
 * to the returned `port`. Each datagram is shown to `toServer(msg)` / `toClient(msg)`, then forwarded.
 * Closed by `t.teardown`.
 */
export async function startUdpRelay(t, serverPort, { toServer = () => {}, toClient = () => {} } = {}) {
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let client = null;
  front.on('message', (msg, rinfo) => {
    client = { address: rinfo.address, port: rinfo.port };
    toServer(msg);
    back.send(msg, serverPort, '127.0.0.1');
  });
  back.on('message', (msg) => {
    toClient(msg);
    if (client) front.send(msg, client.port, client.address);
  });
  await Promise.all([
    new Promise((resolve) => front.bind(0, '127.0.0.1', resolve)),
    new Promise((resolve) => back.bind(0, '127.0.0.1', resolve)),
  ]);
  t.teardown(() => {
    front.close();
    back.close();
  });
  return { port: front.address().port };
}
