// The legitimate side of the hardening tests and benchmarks: ENetClients on 127.0.0.1 that connect,
// log in and exchange numbered messages with a server that echoes `{ kind: 'legit' }` packets.
import { ENetClient } from '../../dist/index.js';

/** Makes `server` echo every `{ kind: 'legit' }` packet to its sender, on its channel, reliably. */
export function echoLegit(server) {
  server.on('packetReceived', (peer, packet, channel) => {
    if (packet && typeof packet === 'object' && packet.kind === 'legit') server.sendPacket(peer.peerId, packet, channel, true);
  });
}

function once(emitter, event, ms, filter = () => true) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      resolve(null);
    }, Math.max(0, ms));
    function listener(...args) {
      if (!filter(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    }
    emitter.on(event, listener);
  });
}

/**
 * One legitimate attempt: connect to 127.0.0.1:port within `connectMs`, send `login` (if any) as the
 * first packet, be authenticated by `server` (its 'peerAuthenticated' for a 127.0.0.1 peer), and get
 * one echo back, all within `connectMs + restMs`. Always disconnects. Resolves with
 * { ok, stage ('connect' | 'login' | 'echo' | 'done'), connectMs, totalMs }.
 */
export async function legitAttempt(server, port, { login, connectMs = 2000, restMs = 2000, compression } = {}) {
  const client = new ENetClient();
  if (compression !== undefined) client.setCompressionMode(compression);
  const t0 = Date.now();
  const result = { ok: false, stage: 'connect', connectMs: null, totalMs: null };
  try {
    const connected = once(client, 'connectedToServer', connectMs);
    const authenticated = once(server, 'peerAuthenticated', connectMs + restMs, (peer) => peer.getRemoteAddress() === '127.0.0.1');
    client.connectToServer('127.0.0.1', port, 2);
    if (!(await connected)) return result;
    result.connectMs = Date.now() - t0;
    result.stage = 'login';
    if (login !== undefined) client.sendPacket(login, 0, true);
    if (!(await authenticated)) return result;
    result.stage = 'echo';
    const n = Math.floor(Math.random() * 1e9);
    const echo = once(client, 'packetReceived', connectMs + restMs - (Date.now() - t0), (p) => p?.kind === 'legit' && p.n === n);
    client.sendPacket({ kind: 'legit', c: -1, n }, 0, true);
    if (!(await echo)) return result;
    result.stage = 'done';
    result.ok = true;
    return result;
  } finally {
    result.totalMs = Date.now() - t0;
    client.disconnectFromServer();
  }
}

/**
 * A connected client that sends a numbered `{ kind: 'legit', c, n }` every `everyMs` and records the
 * echoes. `rtts` holds each echo's round trip in ms. `finish()` stops sending, waits (at most
 * `ms`) for every echo, and resolves with { sent, received, inOrder, lost, rtts, disconnected }.
 */
export function exchange(client, c, { everyMs = 10, channel = 0 } = {}) {
  const sentAt = [];
  const got = [];
  const rtts = [];
  let disconnected = null;
  client.on('packetReceived', (packet) => {
    if (packet?.kind !== 'legit' || packet.c !== c) return;
    got.push(packet.n);
    if (sentAt[packet.n] !== undefined) rtts.push(Number(process.hrtime.bigint() - sentAt[packet.n]) / 1e6);
  });
  client.on('disconnectedFromServer', (reason) => (disconnected = reason));
  const timer = setInterval(() => {
    const n = sentAt.length;
    sentAt.push(process.hrtime.bigint());
    if (client.sendPacket({ kind: 'legit', c, n }, channel, true) !== 0) sentAt.pop();
  }, everyMs);
  return {
    get received() {
      return got.length;
    },
    /** Stops sending (for teardown). */
    stop() {
      clearInterval(timer);
    },
    async finish(ms = 5000) {
      clearInterval(timer);
      const deadline = Date.now() + ms;
      while (got.length < sentAt.length && disconnected === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const inOrder = got.every((n, i) => n === i);
      return { sent: sentAt.length, received: got.length, inOrder, lost: sentAt.length - got.length, rtts, disconnected };
    },
  };
}

/** p-th percentile (0–100) of numbers. */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
