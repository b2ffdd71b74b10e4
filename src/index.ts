// The public API of enet-actor-server.
import { ENetServerSupervisor } from './supervisor/server.js';

export { ENetServerSupervisor } from './supervisor/server.js';
export { ENetServerPeer } from './supervisor/peer.js';
export { ENetClient } from './client/client.js';
export type { ClientEvents, ClientOptions, ClientEventCallback } from './client/client.js';
export { createClientNetwork, ClientNetwork } from './client/network.js';
export type { ClientNetworkOptions, ClientNetworkMetrics } from './client/network.js';
export type { ServerEvents, CustomAuthenticator, EventCallback, ServerMetrics, ActorMetrics, SessionMetrics, TransportMetrics, PeerTransport, Percentiles } from './supervisor/events.js';
export { defineGameLogic } from './game-actor/define.js';
export type { GameLogic, GameContext, GamePeer, GameCluster } from './game-actor/define.js';
export type { ServerOptions, Logger } from './supervisor/options.js';
export type { RestartPolicy } from './supervision/restart-policy.js';
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
} from './wire/enums.js';
export { ENetError, GameHandlerError, ActorGaveUpError, PlacementError, SetAsideError } from './wire/errors.js';
export { InvalidOptionError, SERVER_DEFAULTS, LIMITS } from './server-common/options.js';
export type { ClusterOptions, DuplicateLoginPolicy } from './server-common/options.js';
export type { ClusterMember, ServerInfo } from './cluster/member.js';
export type { ActorKind } from './wire/errors.js';
export {
  ENetPacketUtils,
  Vector2,
  Vector2i,
  Rect2,
  Rect2i,
  Vector3,
  Vector3i,
  Transform2D,
  Vector4,
  Vector4i,
  Plane,
  Quaternion,
  AABB,
  Basis,
  Transform3D,
  Projection,
  Color,
  StringName,
  NodePath,
  RID,
  VariantFloat,
  PackedStringArray,
  PackedVector2Array,
  PackedVector3Array,
  PackedVector4Array,
  PackedColorArray,
  VariantType,
  typedArray,
  typedDictionary,
} from './wire/codec/index.js';
export type { NetworkNode, NodeState, CodecLimits } from './wire/codec/index.js';

export { serveUntilSignal, type ServeOptions } from './supervisor/process.js';
export { BROADCAST_EVENT as ADMIN_BROADCAST_EVENT, type AdminOptions, type AdminHandle } from './admin/options.js';

/** The process-wide server, as the seed's `ENetServer` singleton. */
export const ENetServer = new ENetServerSupervisor();
export { createLinkRelay, parseLinkSpec, formatLinkSpec, LinkRelay, type LinkSpec, type LinkRelayOptions, type LinkRelayStats, type LinkRelayClient } from './net-relay/relay.js';
