// Every default and limit of the package, in one place (the restart policy's default is beside the
// policy, src/supervision/restart-policy.ts).

/** Largest packet (with its type byte) accepted or sent. ENet's own default is 32 MiB. */
export const DEFAULT_MAX_PACKET_SIZE = 1024 * 1024;
/** Deepest nesting of arrays/objects a decoder accepts and an encoder produces. */
export const DEFAULT_MAX_DEPTH = 128;
/** Seed defaults. */
export const DEFAULT_MAX_PEERS = 32;
export const DEFAULT_MAX_CHANNELS = 2;
export const DEFAULT_POLL_RATE_MS = 10;
export const DEFAULT_AUTH_TIMEOUT_S = 10;
/** ENet limits (docs/enet-facts.md "Limits and defaults"). */
export const ENET_MAX_PEERS = 4095;
/** A server's peers across all its shards (README "Many peers: shards"). */
export const SERVER_MAX_PEERS = 65535;
/** Shards (net actors, one ENet host each) a server may have. */
export const MAX_NET_ACTORS = 16;
export const ENET_MAX_CHANNELS = 255;
/** Ring sizes: each must hold at least two maximum-size records. */
export const DEFAULT_RING_BYTES = 8 * 1024 * 1024;
/** How long stopServer() waits for peers to acknowledge their disconnect before dropping them. */
export const STOP_GRACE_MS = 1000;
/** enet.h: ENET_PEER_STATE_CONNECTED (a stats row's [1]), and the scales of a peer's packetLoss and packetThrottle. */
export const ENET_PEER_STATE_CONNECTED = 5;
export const ENET_PEER_PACKET_LOSS_SCALE = 65536;
export const ENET_PEER_PACKET_THROTTLE_SCALE = 32;
/** ENet's own peer timeout (enet.h ENET_PEER_TIMEOUT_LIMIT/MINIMUM/MAXIMUM): the peerTimeout option's default. */
export const DEFAULT_PEER_TIMEOUT = Object.freeze({ limit: 32, minimumMs: 5000, maximumMs: 30_000 });
