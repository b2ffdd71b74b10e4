#!/usr/bin/env node
// Our server as an echo server, through the public API only (the counterpart of bench/c/echo_server.c).
//   node bench/echo-server.mjs [port=0] [maxPeers=256]
// Prints "listening <port>" (the port actually bound) once createServer() has resolved, sends every
// decoded packet back to its sender on the same channel, reliably; stops on SIGTERM / SIGINT.
import { ENetServerSupervisor } from '../dist/index.js';

const port = Number(process.argv[2] ?? 0);
const maxPeers = Number(process.argv[3] ?? 256);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !Number.isInteger(maxPeers) || maxPeers < 1) {
  process.stderr.write('usage: node bench/echo-server.mjs [port=0] [maxPeers=256]\n');
  process.exit(1);
}

const server = new ENetServerSupervisor();
let echoed = 0;
let refused = 0;
server.on('packetReceived', (peer, packet, channel) => {
  // RAW packets arrive as bytes and are sent back as RAW: the same bytes on the wire.
  if (server.sendPacket(peer.peerId, packet, channel, true) === 0) echoed++;
  else refused++;
});
server.on('error', (err) => process.stderr.write(`echo-server: error: ${err?.stack ?? err}\n`));

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  const guard = setTimeout(() => {
    process.stderr.write(`echo-server: stopServer() did not finish within 5 s after ${signal}\n`);
    process.exit(1);
  }, 5000);
  guard.unref();
  try {
    await server.stopServer();
  } catch (err) {
    process.stderr.write(`echo-server: stopServer failed: ${err?.stack ?? err}\n`);
  }
  process.stderr.write(`echo-server: stopped, ${echoed} echoed, ${refused} refused\n`);
  process.exit(0);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

try {
  await server.createServer(port, maxPeers, 2, { bindAddress: '127.0.0.1' });
} catch (err) {
  process.stderr.write(`echo-server: createServer failed: ${err?.stack ?? err}\n`);
  process.exit(1);
}
process.stdout.write(`listening ${server.getLocalPort()}\n`);
