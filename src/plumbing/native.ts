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
    throw new Error(
      'enet-actor-server: the native addon is not built. Install its system libraries ' +
        '(apt-get install -y libenet-dev zlib1g-dev libzstd-dev pkg-config g++ make python3), then build it: ' +
        'in this repository `npm run build:native`; as a dependency, approve its install script ' +
        '(`npm install-scripts approve enet-actor-server`) and run `npm rebuild enet-actor-server`.',
      { cause: error },
    );
  }
  return addon;
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

