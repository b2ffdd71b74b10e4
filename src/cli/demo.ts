// Runs on the main thread: the demo behaviour of enet-server (and of `npm start`) — chat and echo.
//   - a packet { type: 'chat', msg } is relayed to every other peer as { type: 'chat', from, msg };
//   - every other packet is sent back to its sender on the same channel (events included: an event
//     packet comes back as the same event, so a load tester's --event NAME is answered);
//   - the event 'ping' is answered with the event 'pong' (payload + serverTime);
//   - in AUTH_PRELOGIN_ONLY / AUTH_CUSTOM, any login dictionary is approved and kept as the peer's custom data;
//   - in a fleet (--cluster-redis), a login's `identity` string, or the event 'identify' { identity },
//     names the peer fleet-wide (peer.setIdentity; the event is answered with 'identified' { err }).
import { AuthMode, Err } from '../wire/enums.js';
import type { ENetServerPeer } from '../supervisor/peer.js';
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
  // The identity before the approval: under 'reject-new' a duplicate is rejected, never admitted.
  const identify = async (peer: ENetServerPeer, login: Record<string, unknown>): Promise<boolean> => {
    if (!server.cluster || typeof login.identity !== 'string') return true;
    try {
      return (await peer.setIdentity(login.identity)) === Err.OK;
    } catch {
      return true;  // Redis down: the player plays on this server, unnamed
    }
  };
  server.registerEvent('identify', (peer, payload, channel) => {
    const identity = payload.identity;
    peer.setIdentity(String(identity)).then(
      (err) => server.triggerEvent(peer.peerId, 'identified', { err }, channel),
      (error: { code?: number }) => server.triggerEvent(peer.peerId, 'identified', { err: error.code ?? Err.FAILED }, channel),
    );
  });
  server.on('peerPrelogin', (peer, login) => {
    if (server.getAuthenticationMode() !== AuthMode.AUTH_PRELOGIN_ONLY) return;
    peer.setCustomData(login);
    void identify(peer, login).then((ok) => {
      if (ok) peer.authenticate();
    });
  });
  server.setCustomAuthenticator(async (peer, login) => {
    peer.setCustomData(login);
    return (await identify(peer, login)) ? true : undefined;
  });
}
