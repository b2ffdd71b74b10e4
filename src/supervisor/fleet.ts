// Runs on the main thread: the adapter between a server and its fleet member (src/cluster/member.ts,
// loaded only when options.cluster is set, so ioredis stays off a lone server's start-up and off every
// game actor thread). The member sees the server only through this ClusterHost.
import { ConnectionState, Err } from '../wire/enums.js';
import { DISCONNECT_LATER } from '../wire/protocol.js';
import { fleetBytes } from '../cluster/encode.js';
import type { ClusterHost, ClusterMember } from '../cluster/member.js';
import type { Running, ServerCore } from './core.js';
import type { ENetServerPeer } from './peer.js';

/** The member for `running.options.cluster`, not started yet; null when the server stopped meanwhile. */
export async function createFleetMember(
  core: ServerCore,
  running: Running,
  reject: (peer: ENetServerPeer, reason: string) => void,
  stillRunning: () => boolean,
): Promise<ClusterMember<ENetServerPeer> | null> {
  const { engine, options } = running;
  const host: ClusterHost<ENetServerPeer> = {
    peers: () => core.peers.values(),
    peerCount: () => core.peers.size,
    maxPeers: running.maxPeers,
    limits: running.limits,
    logger: options.logger,
    isLive: (peer) => core.peers.isLive(peer),
    sendEncoded: (peer, packet, channel, reliable) => {
      const bytes = fleetBytes(packet, core.formatOf(peer));
      return bytes ? core.sendBytes(peer, bytes, channel, reliable) : Err.ERR_INVALID_DATA;
    },
    broadcastEncoded: (packet, channel, reliable, excludePeerIds) => {
      engine.sendInFormats(core.peers.authenticated(excludePeerIds), (format) => fleetBytes(packet, format), channel, reliable);
    },
    kick: (peer, reason) => {
      if (peer.state === ConnectionState.STATE_AUTHENTICATED) core.disconnect(peer, reason, DISCONNECT_LATER);
      else reject(peer, reason);
    },
    onDown: (error) => {
      options.logger.warn(`enet-actor-server: ${error.message}; serving this server's peers only until it is back`);
      core.emit('clusterDown', error);
    },
    onUp: () => core.emit('clusterUp'),
    report: (error) => core.errors.report(error, 'the cluster'),
  };
  const { ClusterMember } = await import('../cluster/member.js');
  if (!stillRunning()) return null; // stopServer() came first
  return new ClusterMember(host, options.cluster!, { address: options.bindAddress, port: running.port });
}
