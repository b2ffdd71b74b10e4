#!/usr/bin/env node
// The server side of bench/hardening.mjs: our server, through the public API, in a process of its
// own so that its RSS and CPU are its own.
//   node bench/hardening-server.mjs [--max-peers 256] [--options JSON] [--auth none|custom]
//                                   [--auth-timeout S] [--echo all|legit]
// --options: createServer options as JSON (e.g. '{"rateLimit":false,"maxPacketSize":262144}').
// --auth custom: AUTH_CUSTOM with an authenticator that approves {token:"good"}, rejects
//   {token:"bad"} and leaves anything else pending (never approved: the auth timeout ends it).
// Every authenticated peer gets {kind:"welcome"}. --echo all (default) sends every decoded packet
// back to its sender on its channel, reliably (the "echoing handler"); --echo legit only
// {kind:"legit"} ones. Prints "listening <port>", then "metrics <json>" every 250 ms (getMetrics()
// without the actor rows, plus rss, heapUsed and the peers per remote address); stops on SIGTERM/SIGINT.
import { AuthMode, ENetServerSupervisor } from '../dist/index.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const maxPeers = Number(opt('--max-peers', 256));
const options = JSON.parse(opt('--options', '{}'));
const auth = opt('--auth', 'none');
const authTimeout = Number(opt('--auth-timeout', 10));
const echo = opt('--echo', 'all');

const server = new ENetServerSupervisor();
server.on('error', () => {});
if (auth === 'custom') {
  server.setAuthenticationMode(AuthMode.AUTH_CUSTOM);
  server.setAuthenticationTimeout(authTimeout);
  server.setCustomAuthenticator((peer, data) => (data?.token === 'good' ? true : data?.token === 'bad' ? false : undefined));
}
server.on('peerAuthenticated', (peer) => server.sendPacket(peer.peerId, { kind: 'welcome' }, 0, true));
let echoed = 0;
let busy = 0;
server.on('packetReceived', (peer, packet, channel) => {
  if (echo === 'legit' && !(packet && typeof packet === 'object' && packet.kind === 'legit')) return;
  if (server.sendPacket(peer.peerId, packet, channel, true) === 0) echoed++;
  else busy++;
});
await server.createServer(0, maxPeers, 2, { bindAddress: '127.0.0.1', logger: { warn() {}, error() {} }, ...options });
process.stdout.write(`listening ${server.getLocalPort()}\n`);

const timer = setInterval(() => {
  const { actors, ...m } = server.getMetrics();
  const byAddress = {};
  for (const p of server.getPeers()) byAddress[p.getRemoteAddress()] = (byAddress[p.getRemoteAddress()] ?? 0) + 1;
  const mem = process.memoryUsage();
  process.stdout.write(`metrics ${JSON.stringify({ ...m, rss: mem.rss, heapUsed: mem.heapUsed, byAddress, echoed, busy, at: Date.now() })}\n`);
}, 250);

const stop = async () => {
  clearInterval(timer);
  await server.stopServer();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
