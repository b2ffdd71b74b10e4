// Forged ENet CONNECT datagrams from a raw UDP socket (no handshake is ever completed): the handshake
// flood of the hardening issue. Loopback only: the target must be a 127.x address.
import dgram from 'node:dgram';
import { connectDatagram, parseCommands, Command, CONNECT_DATAGRAM_BYTES } from './wire.js';

export function assertLoopback(address) {
  if (!/^127\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`hostile traffic goes to loopback only, not ${address}`);
}

/** A UDP socket bound to a loopback address that counts what it sends and receives. */
export async function countingSocket(bind) {
  assertLoopback(bind);
  const socket = dgram.createSocket('udp4');
  const stats = { sent: 0, bytesSent: 0, sendErrors: 0, received: 0, bytesReceived: 0, verifyConnects: 0 };
  socket.on('message', (msg) => {
    stats.received++;
    stats.bytesReceived += msg.length;
    for (const c of parseCommands(msg)) if (c.number === Command.VERIFY_CONNECT) stats.verifyConnects++;
  });
  socket.on('error', () => stats.sendErrors++);
  await new Promise((resolve) => socket.bind(0, bind, resolve));
  return {
    socket,
    stats,
    send(buf, port, host) {
      assertLoopback(host);
      socket.send(buf, port, host, (err) => {
        if (err) stats.sendErrors++;
        else {
          stats.sent++;
          stats.bytesSent += buf.length;
        }
      });
    },
    close: () => new Promise((resolve) => socket.close(resolve)),
  };
}

/**
 * Sends `perSecond` forged CONNECTs per second (each with its own connectID and outgoingPeerID, so
 * ENet sees a new peer every time) to host:port from `bind`, for `durationMs`, in ticks of `tickMs`.
 * Returns { sending, stats, close }: `sending` resolves when the last one is sent (at most
 * perSecond × durationMs / 1000 datagrams, after durationMs at most); the socket stays open, counting
 * what the server still sends back (retransmitted VERIFY_CONNECTs), until `close()`.
 * `signal` (an AbortSignal) stops the sending early.
 */
export async function startForging({ port, host = '127.0.0.1', bind = '127.0.0.5', perSecond = 256, durationMs = 3000, tickMs = 10, seed = 1, signal } = {}) {
  assertLoopback(host);
  const s = await countingSocket(bind);
  const total = Math.round((perSecond * durationMs) / 1000);
  let x = seed >>> 0 || 1;
  const rand32 = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
  const t0 = Date.now();
  let queued = 0;
  const sending = new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - t0;
      const due = Math.min(total, Math.floor((elapsed * perSecond) / 1000));
      while (queued < due) {
        s.send(connectDatagram({ connectID: rand32(), outgoingPeerID: queued & 0x0fff, sentTime: Date.now() }), port, host);
        queued++;
      }
      if (queued >= total || elapsed >= durationMs || signal?.aborted) {
        clearInterval(timer);
        resolve({ queued, elapsedMs: Date.now() - t0 });
      }
    }, tickMs);
  });
  let closed = null;
  return {
    sending,
    stats: s.stats,
    bytesPerConnect: CONNECT_DATAGRAM_BYTES,
    close: () => (closed ??= s.close()),
  };
}
