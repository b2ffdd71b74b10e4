// Loads the native addon (native/). It is context-aware: the main thread and every net-actor
// worker load their own instance, all sharing the process-wide registry of reactors.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface HostOptions {
  /** Bind address of a server host; default "0.0.0.0". */
  address?: string;
  /** Port of a server host (0 = ephemeral); undefined makes a client host. */
  port?: number;
  peers: number;
  channels: number;
  compression: number;
  maxPacketSize: number;
  /** The host's stats table (docs/protocol.md). */
  stats: SharedArrayBuffer;
  /** Server hosts: the native defences (native/src/guard.h); unset fields take native's defaults. */
  guard?: Partial<GuardOptions>;
  /** Server hosts: join a SO_REUSEPORT group on the port (every shard of one server). */
  reusePort?: boolean;
  /** Server hosts: a u32 (Int32Array/SAB) every shard draws peer ids from (its last id). */
  peerIds?: SharedArrayBuffer;
  /**
   * Server hosts: each session's outbox bound in bytes (docs/protocol.md "Sessions"); 0 or unset =
   * no sessions. Peers connecting with SESSION_MAGIC / RESUME_MAGIC get one.
   */
  sessionOutboxBytes?: number;
  /** Every peer's ENet timeout (enet_peer_timeout as it connects); unset fields: ENet's defaults (32, 5000, 30000). */
  peerTimeout?: PeerTimeout;
}

export interface NativeAddon {
  /** Ring 0 of each direction is the supervisor's, ring k game actor k-1's. */
  reactorCreate(inbound: SharedArrayBuffer | SharedArrayBuffer[], outbound: SharedArrayBuffer | SharedArrayBuffer[], counters: SharedArrayBuffer): number;
  hostCreate(reactorId: number, options: HostOptions): { host: number; port: number };
  service(reactorId: number, timeoutMs: number): number;
  /**
   * Drains the outbound ring and sends at once on this thread if no thread is inside service();
   * -1 when one is (then wake it), else SERVICE_* bits as from service().
   */
  flushOutbound(reactorId: number): number;
  /**
   * This thread's event loop watches the host's socket: when it is readable, one pass over that
   * host runs here and `onServiced(bits)` follows, with the new records in the inbound ring
   * (published without the doorbell). Detach before destroying the host.
   */
  attachInline(reactorId: number, host: number, onServiced: (bits: number) => void): void;
  detachInline(reactorId: number, host: number): void;
  setInlineReferenced(reactorId: number, referenced: boolean): void;
  wake(reactorId: number): void;
  reactorDestroy(reactorId: number): void;
}

let addon: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const nativeDir = fileURLToPath(new URL('../../native', import.meta.url));
  try {
    addon = require('node-gyp-build')(nativeDir) as NativeAddon;
  } catch (error) {
    throw new Error(nativeLoadHelp(error as Error, nativeDir), { cause: error });
  }
  return addon;
}

const SYSTEM_PACKAGES = 'apt-get install -y libenet-dev zlib1g-dev libzstd-dev pkg-config g++ make python3';

/**
 * One line saying what to run when the addon does not load: none was built or shipped for this
 * platform (build it: in a checkout, or as a dependency whose install script npm 11 skipped unless
 * approved), or one was found but the system's libraries it links against are missing.
 */
export function nativeLoadHelp(error: Error, nativeDir: string): string {
  const first = String(error?.message ?? error).split('\n')[0];
  const target = `${process.platform}-${process.arch}, Node ${process.versions.node}`;
  const inCheckout = !nativeDir.split(/[\\/]/).includes('node_modules');
  if (!/No native build was found/.test(first)) {
    return `enet-actor-server: the native addon was found but does not load (${first}). ` +
      `Install its system libraries (${SYSTEM_PACKAGES}), or rebuild it: ${inCheckout ? '`npm run build:native`' : '`npm rebuild enet-actor-server`'}.`;
  }
  return inCheckout
    ? `enet-actor-server: the native addon is not built (${target}). Install its system libraries (${SYSTEM_PACKAGES}), then run \`npm run build:native\` (or \`bash scripts/setup.sh\`).`
    : `enet-actor-server: no prebuilt native addon for ${target}, and it was not built. Install its system libraries (${SYSTEM_PACKAGES}), ` +
      'then approve its install script and build it: `npm approve-scripts enet-actor-server && npm rebuild enet-actor-server` ' +
      '(npm 11 skips a dependency\'s install script until approved; older npm: `npm rebuild enet-actor-server`).';
}

/** What native's guard gets (native/src/guard.h GuardOptions; 0 turns a rate off). */
export interface GuardOptions {
  maxPeersPerAddress: number;
  maxPendingConnects: number;
  maxPendingPerAddress: number;
  handshakeTimeoutMs: number;
  connectPerSecond: number;
  connectBurst: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
  burstSeconds: number;
  disconnectAfterMs: number;
  trusted: string[];
}

/** ENet's per-peer timeout (docs/enet-facts.md "Retransmission, pings and timeouts"). */
export interface PeerTimeout {
  /** Retransmissions (as a power of two: 2^(attempts-1) ≥ limit) before minimumMs may end the peer. */
  limit: number;
  /** A peer whose oldest unacknowledged packet waited this long, past `limit`, is disconnected. */
  minimumMs: number;
  /** …and at this long in any case. */
  maximumMs: number;
}
