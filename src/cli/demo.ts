// Runs on the main thread: the demo behaviour of enet-server (and of `npm start`) — chat and echo.
//   - a packet { type: 'chat', msg } is relayed to every other peer as { type: 'chat', from, msg };
//   - every other packet is sent back to its sender on the same channel (events included: an event
//     packet comes back as the same event, so a load tester's --event NAME is answered);
//   - the event 'ping' is answered with the event 'pong' (payload + serverTime);
//   - in AUTH_PRELOGIN_ONLY / AUTH_CUSTOM, any login dictionary is approved and kept as the peer's custom data.
import { AuthMode } from '../shared/enums.js';
import type { ENetServerSupervisor } from '../supervisor/server.js';

export interface DemoOptions {
  /** One line per join and leave (default: none). */
  log?: (line: string) => void;
}

export function installDemo(server: ENetServerSupervisor, { log }: DemoOptions = {}): void {
  server.on('peerAuthenticated', (peer) => {
    log?.(`peer ${peer.peerId} joined from ${peer.getRemoteAddress()}:${peer.getRemotePort()} (${server.getPeerCount()} online)`);
    server.sendPacket(peer.peerId, { type: 'welcome', peerId: peer.peerId });
  });
  server.on('peerDisconnected', (peer, reason) => {
    log?.(`peer ${peer.peerId} left: ${reason || 'no reason'} (${server.getPeerCount()} online)`);
  });
  server.on('packetReceived', (peer, packet, channel) => {
    if (packet !== null && typeof packet === 'object' && (packet as { type?: unknown }).type === 'chat') {
      server.sendPacketToAll({ type: 'chat', from: peer.peerId, msg: String((packet as { msg?: unknown }).msg) }, channel, true, [peer.peerId]);
      return;
    }
    server.sendPacket(peer.peerId, packet, channel);
  });
  server.registerEvent('ping', (peer, payload, channel) => {
    server.triggerEvent(peer.peerId, 'pong', { ...payload, serverTime: Date.now() }, channel);
  });
  server.on('peerPrelogin', (peer, login) => {
    if (server.getAuthenticationMode() !== AuthMode.AUTH_PRELOGIN_ONLY) return;
    peer.setCustomData(login);
    peer.authenticate();
  });
  server.setCustomAuthenticator((peer, login) => {
    peer.setCustomData(login);
    return true;
  });
}
