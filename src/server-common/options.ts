// The one options schema: every createServer() argument and option, every setter's range, and every
// enet-server flag and environment variable, checked in one place against one typed defaults
// object (the checks the client shares are in src/common/checks.ts). The API, the setters and the CLI all call these; a bad value is an ENetError with
// ERR_INVALID_PARAMETER whose `option` names what was wrong (the CLI turns it into its flag).
import { isIPv4 } from 'node:net';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { AuthMode, CompressionMode, PacketFormat } from '../wire/enums.js';
import {
  DEFAULT_AUTH_TIMEOUT_S,
  DEFAULT_MAX_CHANNELS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_PACKET_SIZE,
  DEFAULT_MAX_PEERS,
  DEFAULT_POLL_RATE_MS,
  DEFAULT_RING_BYTES,
  DEFAULT_PEER_TIMEOUT,
  ENET_MAX_PEERS,
  MAX_NET_ACTORS,
} from '../wire/defaults.js';
import type { RestartPolicy } from '../supervision/restart-policy.js';
import { DEFAULT_RESTART_POLICY } from '../supervision/restart-policy.js';
import type { GuardOptions, PeerTimeout } from '../plumbing/native.js';
import { LIMITS, invalid, intIn, isInt, checkPacketFormat, checkPeerTimeout, type Logger } from '../common/checks.js';

/** What a game actor's placement function gets (the supervisor's ENetServerPeer). */
export interface PlaceablePeer {
  readonly peerId: number;
  getCustomData(): unknown;
}

export { LIMITS, InvalidOptionError, isInt, checkPollRate, checkCompression, checkPacketFormat } from '../common/checks.js';
export type { Logger } from '../common/checks.js';
export type { GuardOptions } from '../plumbing/native.js';

export interface ServerOptions<Peer extends PlaceablePeer = PlaceablePeer> {
  /** Address to bind; default all IPv4 interfaces. */
  bindAddress?: string;
  /** Game-logic module (absolute path or file: URL) loaded in every game actor. */
  gameLogic?: string | URL;
  /** Game actors (threads of the pool); default `os.availableParallelism()`. */
  gameActors?: number;
  /** Which actor handles an authenticated peer (main thread, at authentication); default `peerId % gameActors`. */
  placePeer?: (peer: Peer) => number;
  /** Each game actor's worker `resourceLimits` (e.g. `{ maxOldGenerationSizeMb: 256 }`). */
  actorResourceLimits?: ResourceLimits;
  /** Restart a game actor whose handler threw, instead of reporting it and keeping its state. */
  restartOnHandlerError?: boolean;
  /** Shards (net actors). Only 1 until shards exist. */
  netActors?: number;
  /** How structured values are encoded for peers that have not shown their own format. */
  packetFormat?: PacketFormat;
  /** Largest packet, type byte included, in either direction. */
  maxPacketSize?: number;
  /** Deepest nesting a decoded or encoded value may have. */
  maxDepth?: number;
  /** Bytes of each ring between the net actor and its consumers (rounded up to a power of two). */
  ringBytes?: number;
  /** How actors are restarted when their thread dies; unset fields take the defaults. */
  restartPolicy?: Partial<RestartPolicy>;
  /** Where malformed packets and handler errors are reported; default `console`. */
  logger?: Logger;
  // ---- defences against hostile networks (README "Running on the internet") ----
  /** Peers (connected or connecting) from one IP address: ENet's duplicatePeers. */
  maxPeersPerAddress?: number;
  /** Handshakes in progress (a CONNECT received, not completed), every address together. */
  maxPendingConnects?: number;
  /** Handshakes in progress from one IP address. */
  maxPendingPerAddress?: number;
  /** A handshake not completed within this is dropped (ENet's own limit is 30 s). */
  handshakeTimeoutMs?: number;
  /** CONNECT datagrams accepted per IP address (a token bucket); `false`: no limit. */
  connectRateLimit?: { perSecond: number; burst: number } | false;
  /** An address whose peers fail authentication `failures` times within `windowMs` is refused for `banMs`; `false`: never. */
  authFailureLimit?: { failures: number; windowMs: number; banMs: number } | false;
  /** Per-peer limits on what it sends, in native code; excess dropped; over it for `disconnectAfterMs`: kicked. `false`: none. */
  rateLimit?: { packetsPerSecond: number; bytesPerSecond: number; burst: number; disconnectAfterMs: number } | false;
  /** Bytes queued to one peer and not acknowledged; past it sends to it return ERR_BUSY and group sends skip it. */
  maxQueuedBytesPerPeer?: number;
  /** IPv4 addresses the per-address CONNECT limits (rate, handshakes, peers, bans) do not apply to. */
  trustedAddresses?: string[];
  /** Join a fleet of servers coordinated through Redis (README "Running a fleet"). */
  cluster?: ClusterOptions;
  /**
   * Sessions (README "Sessions"): a session-aware client whose connection breaks keeps its seat for
   * `windowMs` and resumes with nothing lost; what is sent to it meanwhile waits in an outbox of
   * `outboxBytes`. `windowMs: 0` or `false`: off.
   */
  resume?: { windowMs?: number; outboxBytes?: number } | false;
  /** Every peer's ENet timeout (ENet's enet_peer_timeout; Godot's ENetPacketPeer.set_timeout): when a silent peer is given up. */
  peerTimeout?: Partial<PeerTimeout>;
}

/**
 * Every option createServer() knows: one entry per field of ServerOptions (the compiler keeps the
 * two in step), so a misspelt option is refused by name instead of ignored.
 */
const OPTION_NAMES: Record<keyof ServerOptions, true> = {
  bindAddress: true, gameLogic: true, gameActors: true, placePeer: true, actorResourceLimits: true,
  restartOnHandlerError: true, netActors: true, packetFormat: true, maxPacketSize: true, maxDepth: true,
  ringBytes: true, restartPolicy: true, logger: true, maxPeersPerAddress: true, maxPendingConnects: true,
  maxPendingPerAddress: true, handshakeTimeoutMs: true, connectRateLimit: true, authFailureLimit: true,
  rateLimit: true, maxQueuedBytesPerPeer: true, trustedAddresses: true, cluster: true, resume: true, peerTimeout: true,
};
export const SERVER_OPTION_NAMES: readonly string[] = Object.freeze(Object.keys(OPTION_NAMES));

export type DuplicateLoginPolicy = 'kick-old' | 'reject-new' | 'allow';

export interface ClusterOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  redis: string;
  /** This server's name in the fleet; default `<hostname>:<bound port>`. */
  serverId?: string;
  /** What clients should dial to reach this server; default the bound address and port. */
  advertise?: { address: string; port: number };
  /** How often presence (and identities) are refreshed. */
  heartbeatMs?: number;
  /** A server not heard from for this long has left the fleet (with its identities). */
  ttlMs?: number;
  /** A second peer with the same identity anywhere in the fleet. */
  duplicateLogin?: DuplicateLoginPolicy;
}

export interface ResolvedClusterOptions {
  redis: string;
  /** undefined: `<hostname>:<bound port>`, known once bound. */
  serverId: string | undefined;
  advertise: { address: string; port: number } | undefined;
  heartbeatMs: number;
  ttlMs: number;
  duplicateLogin: DuplicateLoginPolicy;
}

/** Every default of a server, typed, in one place (the ENet and seed values live in defaults.ts). */
export const SERVER_DEFAULTS = Object.freeze({
  maxPeers: DEFAULT_MAX_PEERS,
  maxChannels: DEFAULT_MAX_CHANNELS,
  pollRate: DEFAULT_POLL_RATE_MS,
  authTimeout: DEFAULT_AUTH_TIMEOUT_S,
  authMode: AuthMode.AUTH_NONE,
  compression: CompressionMode.COMPRESS_NONE,
  bindAddress: '0.0.0.0',
  packetFormat: PacketFormat.MSGPACK,
  maxPacketSize: DEFAULT_MAX_PACKET_SIZE,
  maxDepth: DEFAULT_MAX_DEPTH,
  ringBytes: DEFAULT_RING_BYTES,
  restartPolicy: DEFAULT_RESTART_POLICY,
  restartOnHandlerError: false,
  /** Default: the fewest shards whose hosts fit ENet's 4,095 slots each (defaultNetActors). */
  netActors: undefined as number | undefined,
  // Players behind one NAT (a LAN party, a campus, carrier-grade NAT) share an address: 32 lets a
  // crowd in while one attacking address can hold at most 32 slots.
  maxPeersPerAddress: 32,
  maxPendingConnects: 64,
  // A real client has one handshake at a time; a few allow for several players starting together.
  maxPendingPerAddress: 4,
  // Loopback handshakes take < 1 ms and the slowest real links well under a second.
  handshakeTimeoutMs: 3000,
  connectRateLimit: { perSecond: 10, burst: 20 },
  authFailureLimit: { failures: 5, windowMs: 30_000, banMs: 30_000 },
  // A 60 Hz game sends ~60–120 packets/s per client; 2000/s and 4 MiB/s leave room for bursts.
  rateLimit: { packetsPerSecond: 2000, bytesPerSecond: 4 * 1024 * 1024, burst: 2, disconnectAfterMs: 5000 },
  /** Default: 2 × maxPacketSize. */
  maxQueuedBytesPerPeer: undefined as number | undefined,
  // This machine's own clients (a local load test, a proxy on the same host): a remote attacker
  // cannot send from 127.0.0.1, and anything local could stop the server anyway.
  trustedAddresses: ['127.0.0.1'] as readonly string[],
  resume: { windowMs: 20_000, outboxBytes: 262_144 },
  peerTimeout: DEFAULT_PEER_TIMEOUT,
  cluster: {
    heartbeatMs: 1000,
    // Three heartbeats: one lost or late refresh does not drop a live server from the fleet.
    ttlMs: 3000,
    duplicateLogin: 'kick-old' as DuplicateLoginPolicy,
  },
});

/** createServer(port, maxPeers, maxChannels). */
export function checkServerArgs(port: unknown, maxPeers: unknown, maxChannels: unknown): void {
  intIn('port', port, LIMITS.port);
  intIn('maxPeers', maxPeers, LIMITS.maxPeers);
  intIn('maxChannels', maxChannels, LIMITS.maxChannels);
}

export function checkAuthMode(mode: unknown): AuthMode {
  if (mode !== AuthMode.AUTH_NONE && mode !== AuthMode.AUTH_PRELOGIN_ONLY && mode !== AuthMode.AUTH_CUSTOM) {
    invalid('authMode', `unknown authentication mode ${String(mode)} (0 AUTH_NONE, 1 AUTH_PRELOGIN_ONLY, 2 AUTH_CUSTOM)`);
  }
  return mode as AuthMode;
}

/** Seconds; 0 or less disables the limit; at most LIMITS.authTimeout[1] (Node's timer range). */
export function checkAuthTimeout(seconds: unknown): number {
  const max = LIMITS.authTimeout[1];
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) invalid('authTimeout', `authentication timeout must be a number of seconds, got ${String(seconds)}`);
  if ((seconds as number) > max) invalid('authTimeout', `authentication timeout must be at most ${max} s (about 24.8 days), got ${String(seconds)}; 0 disables it`);
  return seconds as number;
}

/** An absolute path or a file: URL, as a file: URL string. */
export function checkGameLogic(value: unknown): string {
  const text = value instanceof URL ? value.href : value;
  if (typeof text === 'string' && text.startsWith('file:')) return text;
  if (typeof text === 'string' && isAbsolute(text)) return pathToFileURL(text).href;
  return invalid('gameLogic', `gameLogic must be an absolute path or a file: URL, got ${String(value)}`);
}

function checkRestartPolicy(policy: RestartPolicy): RestartPolicy {
  const numbers = [policy.intensity, policy.periodMs, policy.backoffMs, policy.maxBackoffMs];
  if (policy.strategy !== 'one_for_one' || !numbers.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) {
    invalid('restartPolicy', `restartPolicy needs strategy 'one_for_one' and non-negative numbers, got ${JSON.stringify(policy)}`);
  }
  return policy;
}

const positive = (option: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) invalid(option, `${option} must be a number > 0${max < Number.MAX_SAFE_INTEGER ? ` and ≤ ${max}` : ''}, got ${String(value)}`);
  return value as number;
};

function checkAddresses(option: string, list: unknown): string[] {
  if (!Array.isArray(list) || !list.every((a) => typeof a === 'string' && isIPv4(a))) invalid(option, `${option} must be an array of dotted IPv4 addresses`);
  return [...(list as string[])];
}

function limitObject<T extends object>(option: string, value: unknown, fallback: T): T | false {
  if (value === false) return false;
  if (value === undefined) return fallback;
  if (value === null || typeof value !== 'object') invalid(option, `${option} must be an object or false`);
  return { ...fallback, ...(value as Partial<T>) };
}

export type ResolvedServerOptions<Peer extends PlaceablePeer = PlaceablePeer> = {
  guard: GuardOptions;
  authFailureLimit: { failures: number; windowMs: number; banMs: number } | false;
  maxQueuedBytesPerPeer: number;
  bindAddress: string;
  packetFormat: PacketFormat;
  maxPacketSize: number;
  maxDepth: number;
  ringBytes: number;
  restartPolicy: RestartPolicy;
  logger: Logger;
  restartOnHandlerError: boolean;
  netActors: number;
  /** file: URL, or undefined: no game actors. */
  gameLogic: string | undefined;
  /** 0 without gameLogic. */
  gameActors: number;
  placePeer: ((peer: Peer) => number) | undefined;
  actorResourceLimits: ResourceLimits | undefined;
  /** undefined: not part of a fleet. */
  cluster: ResolvedClusterOptions | undefined;
  /** windowMs 0: sessions off. */
  resume: { windowMs: number; outboxBytes: number };
  peerTimeout: PeerTimeout;
};

/**
 * Peer slots of each shard's host. One shard gets exactly maxPeers. Several share a port through the
 * kernel's SO_REUSEPORT hash, which is uneven (a binomial spread): each gets its even share plus
 * four standard deviations of it, so no shard is full while the server is below maxPeers (the
 * supervisor enforces maxPeers itself), and no more: ENet walks every allocated slot each pass.
 */
export function shardSlots(maxPeers: number, shards: number): number {
  if (shards === 1) return Math.min(maxPeers, ENET_MAX_PEERS);
  const share = Math.ceil(maxPeers / shards);
  return Math.min(ENET_MAX_PEERS, share + Math.ceil(4 * Math.sqrt(share)) + 16);
}

/**
 * With sessions on, each shard's host gets twice its slots (up to ENet's 4,095): when a NAT re-maps
 * every player at once, each one's old connection still holds a slot until its resume arrives on a new
 * connection and drops it — without the room, the resumes would be refused as a full host. maxPeers
 * is still enforced by the supervisor for new players.
 */
export function hostSlots(maxPeers: number, shards: number, sessions: boolean): number {
  const slots = shardSlots(maxPeers, shards);
  return sessions ? Math.min(ENET_MAX_PEERS, 2 * slots) : slots;
}

/** The fewest shards whose hosts, with that room, fit ENet's 4,095 slots (1 up to 4,095 peers). */
export function defaultNetActors(maxPeers: number): number {
  for (let shards = 1; shards < MAX_NET_ACTORS; shards++) {
    const share = Math.ceil(maxPeers / shards);
    if (shards === 1 ? maxPeers <= ENET_MAX_PEERS : share + Math.ceil(4 * Math.sqrt(share)) + 16 <= ENET_MAX_PEERS) return shards;
  }
  return MAX_NET_ACTORS;
}

const DUPLICATE_LOGIN_POLICIES: readonly DuplicateLoginPolicy[] = ['kick-old', 'reject-new', 'allow'];

/** options.cluster (createServer) and the enet-server --cluster-* flags. */
export function checkClusterOptions(cluster: unknown): ResolvedClusterOptions {
  if (cluster === null || typeof cluster !== 'object' || Array.isArray(cluster)) return invalid('cluster', 'cluster must be an object { redis, serverId?, advertise?, heartbeatMs?, ttlMs?, duplicateLogin? }');
  const c = cluster as Partial<Record<keyof ClusterOptions, unknown>>;
  const d = SERVER_DEFAULTS.cluster;
  let url: URL | undefined;
  try {
    url = typeof c.redis === 'string' ? new URL(c.redis) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    invalid('cluster.redis', `cluster.redis must be a redis://host:port URL, got ${String(c.redis)}`);
  }
  // Newlines separate the fields of an identity's value in Redis (docs/cluster.md).
  if (c.serverId !== undefined && (typeof c.serverId !== 'string' || c.serverId === '' || c.serverId.length > 200 || /[\n\r]/.test(c.serverId))) {
    invalid('cluster.serverId', `cluster.serverId must be a non-empty string of at most 200 characters without line breaks, got ${String(c.serverId)}`);
  }
  let advertise: { address: string; port: number } | undefined;
  if (c.advertise !== undefined) {
    const a = c.advertise as { address?: unknown; port?: unknown } | null;
    if (a === null || typeof a !== 'object' || typeof a.address !== 'string' || a.address === '' || !isInt(a.port, 1, 65535)) {
      invalid('cluster.advertise', `cluster.advertise must be { address: string, port: 1–65535 }, got ${JSON.stringify(c.advertise)}`);
    }
    advertise = { address: a!.address as string, port: a!.port as number };
  }
  const heartbeatMs = intIn('cluster.heartbeatMs', c.heartbeatMs ?? d.heartbeatMs, LIMITS.clusterHeartbeatMs);
  const ttlMs = intIn('cluster.ttlMs', c.ttlMs ?? d.ttlMs, LIMITS.clusterTtlMs);
  // A TTL shorter than two heartbeats expires live servers between refreshes.
  if (ttlMs < 2 * heartbeatMs) invalid('cluster.ttlMs', `cluster.ttlMs must be at least 2 × cluster.heartbeatMs (${2 * heartbeatMs}), got ${ttlMs}`);
  const duplicateLogin = c.duplicateLogin ?? d.duplicateLogin;
  if (!DUPLICATE_LOGIN_POLICIES.includes(duplicateLogin as DuplicateLoginPolicy)) {
    invalid('cluster.duplicateLogin', `cluster.duplicateLogin must be one of ${DUPLICATE_LOGIN_POLICIES.join(', ')}, got ${String(duplicateLogin)}`);
  }
  return { redis: c.redis as string, serverId: c.serverId as string | undefined, advertise, heartbeatMs, ttlMs, duplicateLogin: duplicateLogin as DuplicateLoginPolicy };
}

/** Checks every option and fills in the defaults. Throws InvalidOptionError. */
export function resolveServerOptions<Peer extends PlaceablePeer>(options: ServerOptions<Peer> = {}, parallelism = 1, maxPeers: number = SERVER_DEFAULTS.maxPeers): ResolvedServerOptions<Peer> {
  if (options === null || typeof options !== 'object') invalid('options', 'options must be an object');
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(OPTION_NAMES, key));
  if (unknown.length > 0) {
    invalid(unknown[0], `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${SERVER_OPTION_NAMES.join(', ')})`);
  }
  const d = SERVER_DEFAULTS;
  const bindAddress = options.bindAddress ?? d.bindAddress;
  if (typeof bindAddress !== 'string' || !isIPv4(bindAddress)) invalid('bindAddress', `bindAddress must be a dotted IPv4 address, got ${String(bindAddress)}`);
  const gameLogic = options.gameLogic === undefined ? undefined : checkGameLogic(options.gameLogic);
  const gameActors = gameLogic === undefined ? 0 : intIn('gameActors', options.gameActors ?? parallelism, LIMITS.gameActors);
  if (options.placePeer !== undefined && typeof options.placePeer !== 'function') invalid('placePeer', 'placePeer must be a function');
  if (options.actorResourceLimits !== undefined && (options.actorResourceLimits === null || typeof options.actorResourceLimits !== 'object')) {
    invalid('actorResourceLimits', 'actorResourceLimits must be an object of worker resourceLimits');
  }
  const restartOnHandlerError = options.restartOnHandlerError ?? d.restartOnHandlerError;
  if (typeof restartOnHandlerError !== 'boolean') invalid('restartOnHandlerError', 'restartOnHandlerError must be a boolean');
  const netActors = intIn('netActors', options.netActors ?? d.netActors ?? defaultNetActors(maxPeers), LIMITS.netActors);
  if (shardSlots(maxPeers, netActors) * netActors < maxPeers) {
    invalid('netActors', `maxPeers ${maxPeers} needs at least ${Math.ceil(maxPeers / ENET_MAX_PEERS)} net actors (ENet hosts of ${ENET_MAX_PEERS} slots), got ${netActors}`);
  }
  const logger = options.logger ?? console;
  if (logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') invalid('logger', 'logger must have warn() and error() methods');
  const policy = options.restartPolicy;
  if (policy !== undefined && (policy === null || typeof policy !== 'object')) invalid('restartPolicy', 'restartPolicy must be an object');
  const maxPacketSize = intIn('maxPacketSize', options.maxPacketSize ?? d.maxPacketSize, LIMITS.maxPacketSize);
  const connect = limitObject('connectRateLimit', options.connectRateLimit, d.connectRateLimit);
  const rate = limitObject('rateLimit', options.rateLimit, d.rateLimit);
  const auth = limitObject('authFailureLimit', options.authFailureLimit, d.authFailureLimit);
  const guard: GuardOptions = {
    maxPeersPerAddress: intIn('maxPeersPerAddress', options.maxPeersPerAddress ?? d.maxPeersPerAddress, LIMITS.maxPeers),
    maxPendingConnects: intIn('maxPendingConnects', options.maxPendingConnects ?? d.maxPendingConnects, LIMITS.maxPeers),
    maxPendingPerAddress: intIn('maxPendingPerAddress', options.maxPendingPerAddress ?? d.maxPendingPerAddress, LIMITS.maxPeers),
    handshakeTimeoutMs: intIn('handshakeTimeoutMs', options.handshakeTimeoutMs ?? d.handshakeTimeoutMs, [100, 60_000]),
    connectPerSecond: connect ? positive('connectRateLimit', connect.perSecond) : 0,
    connectBurst: connect ? positive('connectRateLimit', connect.burst) : 0,
    packetsPerSecond: rate ? positive('rateLimit', rate.packetsPerSecond) : 0,
    bytesPerSecond: rate ? positive('rateLimit', rate.bytesPerSecond) : 0,
    burstSeconds: rate ? positive('rateLimit', rate.burst, 3600) : 0,
    disconnectAfterMs: rate ? intIn('rateLimit', rate.disconnectAfterMs, [0, 24 * 3600_000]) : 0,
    trusted: checkAddresses('trustedAddresses', options.trustedAddresses ?? d.trustedAddresses),
  };
  if (auth) {
    intIn('authFailureLimit', auth.failures, [1, 1_000_000]);
    intIn('authFailureLimit', auth.windowMs, [1, 24 * 3600_000]);
    intIn('authFailureLimit', auth.banMs, [1, 24 * 3600_000]);
  }
  const maxQueuedBytesPerPeer = intIn('maxQueuedBytesPerPeer', options.maxQueuedBytesPerPeer ?? 2 * maxPacketSize, [maxPacketSize, 2 ** 32 - 1]);
  return {
    guard,
    authFailureLimit: auth,
    maxQueuedBytesPerPeer,
    bindAddress,
    packetFormat: checkPacketFormat(options.packetFormat ?? d.packetFormat),
    maxPacketSize,
    maxDepth: intIn('maxDepth', options.maxDepth ?? d.maxDepth, LIMITS.maxDepth),
    ringBytes: intIn('ringBytes', options.ringBytes ?? d.ringBytes, LIMITS.ringBytes),
    restartPolicy: checkRestartPolicy({ ...d.restartPolicy, ...policy }),
    logger,
    restartOnHandlerError,
    netActors,
    gameLogic,
    gameActors,
    placePeer: options.placePeer,
    actorResourceLimits: options.actorResourceLimits,
    cluster: options.cluster === undefined ? undefined : checkClusterOptions(options.cluster),
    resume: checkResume(options.resume, maxPacketSize),
    peerTimeout: checkPeerTimeout(options.peerTimeout),
  };
}

/** `resume`: the session window (0 = off) and each session's outbox bound. */
function checkResume(value: unknown, maxPacketSize: number): { windowMs: number; outboxBytes: number } {
  // Room for at least two of the largest packets (one that can never fit would end every session it meets).
  const d = { ...SERVER_DEFAULTS.resume, outboxBytes: Math.max(SERVER_DEFAULTS.resume.outboxBytes, 2 * maxPacketSize) };
  if (value === false) return { windowMs: 0, outboxBytes: d.outboxBytes };
  if (value === undefined) return { ...d };
  if (value === null || typeof value !== 'object') return invalid('resume', 'resume must be { windowMs, outboxBytes } or false');
  const { windowMs = d.windowMs, outboxBytes = d.outboxBytes } = value as { windowMs?: number; outboxBytes?: number };
  return {
    windowMs: intIn('resume.windowMs', windowMs, [0, 24 * 3600_000]),
    outboxBytes: intIn('resume.outboxBytes', outboxBytes, [1024, 2 ** 31 - 1]),
  };
}
