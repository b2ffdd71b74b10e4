// The seed's enums, with the seed's (and Godot's) numeric values: they travel on the wire or are
// compared against Godot constants, so the numbers are part of the contract.

export enum AuthMode {
  AUTH_NONE = 0,
  AUTH_PRELOGIN_ONLY = 1,
  AUTH_CUSTOM = 2,
}

export enum ConnectionState {
  STATE_CONNECTING = 0,
  STATE_PRELOGIN = 1,
  STATE_AUTHENTICATED = 2,
  STATE_DISCONNECTING = 3,
}

export enum AuthState {
  AUTH_PENDING = 0,
  AUTH_APPROVED = 1,
  AUTH_REJECTED = 2,
}

export enum ClientStatus {
  STATUS_DISCONNECTED = 0,
  STATUS_CONNECTING = 1,
  STATUS_CONNECTED = 2,
}

/** Godot's ENetConnection.CompressionMode numbering. ENet has no negotiation: both ends must agree. */
export enum CompressionMode {
  COMPRESS_NONE = 0,
  COMPRESS_RANGE_CODER = 1,
  COMPRESS_FASTLZ = 2,
  COMPRESS_ZLIB = 3,
  COMPRESS_ZSTD = 4,
}

export enum NodeSyncFlags {
  SYNC_PROPERTIES = 1,
  SYNC_METADATA_ONLY = 2,
  SYNC_TRANSFORM_ONLY = 4,
  SYNC_CUSTOM = 8,
}

/** The first byte of every packet on the wire. */
export enum PacketType {
  RAW = 0,
  VARIANT = 1,
  DICTIONARY = 2,
  JSON = 3,
  STRING = 4,
  NODE = 5,
  MSGPACK = 6,
}

/** How structured values (not bytes, not strings) are encoded. */
export enum PacketFormat {
  MSGPACK = 0,
  GODOT = 1,
}

/** Godot's ENetPacketPeer.PeerStatistic order. */
export enum PeerStatistic {
  PEER_PACKET_LOSS = 0,
  PEER_PACKET_LOSS_VARIANCE = 1,
  PEER_PACKET_LOSS_EPOCH = 2,
  PEER_ROUND_TRIP_TIME = 3,
  PEER_ROUND_TRIP_TIME_VARIANCE = 4,
  PEER_LAST_ROUND_TRIP_TIME = 5,
  PEER_LAST_ROUND_TRIP_TIME_VARIANCE = 6,
  PEER_PACKET_THROTTLE = 7,
  PEER_PACKET_THROTTLE_LIMIT = 8,
  PEER_PACKET_THROTTLE_COUNTER = 9,
  PEER_PACKET_THROTTLE_EPOCH = 10,
  PEER_PACKET_THROTTLE_ACCELERATION = 11,
  PEER_PACKET_THROTTLE_DECELERATION = 12,
  PEER_PACKET_THROTTLE_INTERVAL = 13,
}

/** Godot's `Error` values (the subset this package returns). */
export enum Err {
  OK = 0,
  FAILED = 1,
  ERR_UNAVAILABLE = 2,
  ERR_UNCONFIGURED = 3,
  ERR_UNAUTHORIZED = 4,
  ERR_OUT_OF_MEMORY = 6,
  ERR_CANT_CREATE = 20,
  ERR_ALREADY_IN_USE = 22,
  ERR_TIMEOUT = 24,
  ERR_CANT_CONNECT = 25,
  ERR_CANT_RESOLVE = 26,
  ERR_INVALID_DATA = 30,
  ERR_INVALID_PARAMETER = 31,
  ERR_DOES_NOT_EXIST = 33,
  ERR_BUSY = 44,
}
