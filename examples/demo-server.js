// A demo server written with the API (`npm run demo:server`; `npm start` runs the same demo as
// enet-server): chat, echo, and one registered event.
//   - a packet {type: 'chat', msg} is relayed to every other peer as {type: 'chat', from, msg};
//   - any other packet is echoed back to its sender on the same channel;
//   - the event 'ping' is answered with the event 'pong' (payload + serverTime).
// ENET_PORT (default 7777) and ENET_MAX_PEERS (default 256) configure it.
import { ENetServer, serveUntilSignal } from '../dist/index.js';

const port = Number(process.env.ENET_PORT ?? 7777);
const maxPeers = Number(process.env.ENET_MAX_PEERS ?? 256);

ENetServer.on('peerAuthenticated', (peer) => {
  console.log(`peer ${peer.peerId} joined from ${peer.getRemoteAddress()}:${peer.getRemotePort()} (${ENetServer.getPeerCount()} online)`);
  ENetServer.sendPacket(peer.peerId, { type: 'welcome', peerId: peer.peerId });
});

ENetServer.on('peerDisconnected', (peer, reason) => {
  console.log(`peer ${peer.peerId} left: ${reason || 'no reason'} (${ENetServer.getPeerCount()} online)`);
});

ENetServer.on('packetReceived', (peer, packet, channel) => {
  if (packet !== null && typeof packet === 'object' && packet.type === 'chat') {
    ENetServer.sendPacketToAll({ type: 'chat', from: peer.peerId, msg: String(packet.msg) }, channel, true, [peer.peerId]);
    return;
  }
  ENetServer.sendPacket(peer.peerId, packet, channel);
});

ENetServer.registerEvent('ping', (peer, payload, channel) => {
  ENetServer.triggerEvent(peer.peerId, 'pong', { ...payload, serverTime: Date.now() }, channel);
});

await ENetServer.createServer(port, maxPeers, 2);
console.log(`demo server listening on 0.0.0.0:${ENetServer.getLocalPort()} (Ctrl+C to stop)`);
// Tells PM2 it is ready (the port is bound) and stops gracefully on SIGINT/SIGTERM.
await serveUntilSignal(ENetServer);
