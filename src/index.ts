// The public API of enet-actor-server.
import { ENetServerSupervisor } from './supervisor/server.js';

export { ENetServerSupervisor } from './supervisor/server.js';
export { ENetServerPeer } from './supervisor/peer.js';
export { ENetClient } from './client/client.js';
export type { ClientEvents, ClientOptions, ClientEventCallback } from './client/client.js';
export type { ServerEvents, CustomAuthenticator, EventCallback, ServerMetrics } from './supervisor/events.js';
export type { ServerOptions, Logger } from './supervisor/options.js';
export type { RestartPolicy } from './shared/restart-policy.js';
export {
  AuthMode,
  AuthState,
  ClientStatus,
  CompressionMode,
  ConnectionState,
  Err,
  NodeSyncFlags,
  PacketFormat,
  PacketType,
  PeerStatistic,
} from './shared/enums.js';
export { ENetError } from './shared/errors.js';
export { ENetPacketUtils } from './shared/codec/index.js';
export type { NetworkNode } from './shared/codec/index.js';

/** The process-wide server, as the seed's `ENetServer` singleton. */
export const ENetServer = new ENetServerSupervisor();
