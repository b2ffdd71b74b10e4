// Runs on the thread that uses ENetClient (usually the main thread). A client network is one net
// actor: one worker thread servicing one ENet host per client, so hundreds of load-test clients
// cost one thread and two rings, not hundreds of threads. Every ENetClient uses the process's
// shared network unless it is given one made by createClientNetwork().
import { NetActorLink } from '../net-actor/owner.js';
import { DEFAULT_MAX_PACKET_SIZE, DEFAULT_POLL_RATE_MS, DEFAULT_RING_BYTES } from '../wire/defaults.js';
import { DEFAULT_RESTART_POLICY } from '../supervision/restart-policy.js';
import { InvalidOptionError, LIMITS, checkPollRate, isInt } from '../common/checks.js';
import {
  C_BYTES_IN,
  C_BYTES_OUT,
  C_HOSTS,
  C_HOST_VISITS,
  C_INBOUND_STALLS,
  C_PACKETS_IN,
  C_PACKETS_OUT,
  C_PASSES,
  C_SEND_FAILURES,
  R_HOST,
} from '../wire/protocol.js';
import type { RecordHandler } from '../plumbing/ring.js';

export interface ClientNetworkOptions {
  /**
   * Largest packet (type byte included) its clients may send or receive; the rings are sized for it.
   * A client asking for more gets `ERR_INVALID_PARAMETER` from connectToServer(). Default 1 MiB.
   */
  maxPacketSize?: number;
  /**
   * How long the network thread sleeps at most between passes (ENet's timers), in ms, 1–1000; a
   * client's setPollRate() may lower it while that client is attached. Default 10.
   */
  pollRate?: number;
  /** Bytes of each of its two rings (rounded up to a power of two; at least two maximum-size records). Default 8 MiB. */
  ringBytes?: number;
}

/** Counters of a client network (see docs/protocol.md, "Counters table"). */
export interface ClientNetworkMetrics {
  /** Clients attached now (connecting, connected or disconnecting). */
  clients: number;
  /** Live ENet hosts in native: one per attached client. */
  hosts: number;
  /** Passes of the network thread so far, and the hosts they walked (live hosts only). */
  passes: number;
  hostVisits: number;
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Passes that waited for room in the inbound ring (the clients' thread was busy). */
  ringStalls: number;
  sendFailures: number;
}

/** What a client gives the network to receive its records. */
export interface ClientEndpoint {
  /** The poll rate this client asked for, or undefined for the network's own. */
  readonly pollRate: number | undefined;
  /** One inbound record of this endpoint's host. Should not throw (a throw is logged and dropped). */
  onRecord: RecordHandler;
  /** The network was closed under it: its host is gone. */
  onNetworkClosed(): void;
}

export class ClientNetwork {
  readonly maxPacketSize: number;
  readonly ringBytes: number;
  /** The poll rate of clients that did not set their own. */
  readonly pollRate: number;
  private link: NetActorLink | undefined;
  private readonly endpoints = new Map<number, ClientEndpoint>();
  /** Endpoints that set their own poll rate (usually none). */
  private readonly ownRates = new Map<ClientEndpoint, number>();
  private active = 0;

  constructor(options: ClientNetworkOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'client network options must be an object');
    const maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
    if (!isInt(maxPacketSize, LIMITS.maxPacketSize[0], LIMITS.maxPacketSize[1])) {
      throw new InvalidOptionError('maxPacketSize', `maxPacketSize must be an integer ${LIMITS.maxPacketSize[0]}–${LIMITS.maxPacketSize[1]}, got ${String(maxPacketSize)}`);
    }
    const ringBytes = options.ringBytes ?? DEFAULT_RING_BYTES;
    if (!isInt(ringBytes, LIMITS.ringBytes[0], LIMITS.ringBytes[1])) {
      throw new InvalidOptionError('ringBytes', `ringBytes must be an integer ${LIMITS.ringBytes[0]}–${LIMITS.ringBytes[1]}, got ${String(ringBytes)}`);
    }
    this.maxPacketSize = maxPacketSize;
    this.ringBytes = ringBytes;
    this.pollRate = options.pollRate === undefined ? DEFAULT_POLL_RATE_MS : checkPollRate(options.pollRate);
  }

  /** The network's net actor, started on first use (and again after close()). */
  get(): NetActorLink {
    if (!this.link) {
      const link = new NetActorLink({
        maxPacketSize: this.maxPacketSize,
        ringBytes: this.ringBytes,
        pollRate: this.pollRate,
        restartPolicy: DEFAULT_RESTART_POLICY,
        onRecord: this.route,
        // The clients' thread reads its hosts' sockets itself while its event loop is idle: an echo
        // is handled in the wake-up its datagram causes, instead of waiting for the network thread's
        // pass to end and its doorbell to wake this thread (~0.1–0.3 ms each at 1,000 clients x
        // 10 msg/s, docs/loadtest.md "Where the client's median went"). The network thread keeps
        // ENet's timers and carries the traffic while this thread is busy (NetActorLink).
        serviceInline: true,
      });
      link.setReferenced(this.active > 0);
      link.start();
      this.link = link;
      this.updatePollRate();
    }
    return this.link;
  }

  attach(host: number, endpoint: ClientEndpoint): void {
    this.endpoints.set(host, endpoint);
    if (endpoint.pollRate !== undefined) this.refreshPollRate(endpoint);
  }

  /** The host is gone: its records are ignored from now on. */
  detach(host: number): void {
    const endpoint = this.endpoints.get(host);
    if (!endpoint) return;
    this.endpoints.delete(host);
    if (this.ownRates.delete(endpoint)) this.updatePollRate();
  }

  /** A client that is connecting or connected keeps the process alive, as a socket would. */
  hold(): void {
    if (this.active++ === 0) this.link?.setReferenced(true);
  }

  release(): void {
    if (--this.active === 0) this.link?.setReferenced(false);
  }

  /** An endpoint's own poll rate changed (or it was attached with one). */
  refreshPollRate(endpoint: ClientEndpoint): void {
    let attached = false;
    for (const e of this.endpoints.values()) {
      if (e === endpoint) {
        attached = true;
        break;
      }
    }
    if (attached && endpoint.pollRate !== undefined) this.ownRates.set(endpoint, endpoint.pollRate);
    else this.ownRates.delete(endpoint);
    this.updatePollRate();
  }

  getMetrics(): ClientNetworkMetrics {
    const c = this.link?.counters;
    const at = (slot: number) => (c ? c[slot] : 0);
    return {
      clients: this.endpoints.size,
      hosts: at(C_HOSTS),
      passes: at(C_PASSES),
      hostVisits: at(C_HOST_VISITS),
      packetsIn: at(C_PACKETS_IN),
      packetsOut: at(C_PACKETS_OUT),
      bytesIn: at(C_BYTES_IN),
      bytesOut: at(C_BYTES_OUT),
      ringStalls: at(C_INBOUND_STALLS),
      sendFailures: at(C_SEND_FAILURES),
    };
  }

  /**
   * Stops the network thread and destroys every host (flushing what they queued). Clients still
   * attached report 'connectionFailed' or 'disconnectedFromServer' with "Network closed". A client
   * that connects afterwards starts the network again.
   */
  async close(): Promise<void> {
    const link = this.link;
    if (!link) return;
    this.link = undefined;
    const endpoints = [...this.endpoints.values()];
    this.endpoints.clear();
    this.ownRates.clear();
    await link.close();
    for (const endpoint of endpoints) {
      try {
        endpoint.onNetworkClosed();
      } catch (error) {
        console.error(`enet-actor-server client network: ${(error as Error)?.stack ?? error}`);
      }
    }
  }

  private updatePollRate(): void {
    let rate = Infinity;
    for (const own of this.ownRates.values()) rate = Math.min(rate, own);
    // Clients without their own rate (or no client at all) take the network's.
    if (rate === Infinity || this.ownRates.size < this.endpoints.size) rate = Math.min(rate, this.pollRate);
    this.link?.setPollRate(rate);
  }

  private readonly route = (bytes: Uint8Array, offset: number, length: number): void => {
    const host = this.link!.inbound.view.getUint32(offset + R_HOST, true);
    const endpoint = this.endpoints.get(host);
    if (!endpoint) return;
    try {
      endpoint.onRecord(bytes, offset, length);
    } catch (error) {
      // Never into the network loop: the pump must go on for every other client.
      console.error(`enet-actor-server client: ${(error as Error)?.stack ?? error}`);
    }
  };
}

/**
 * A client network of its own (one thread servicing its clients' ENet hosts), for clients that
 * need other limits than the shared one's, or to spread many clients over several threads:
 * `new ENetClient({ network })`.
 */
export function createClientNetwork(options: ClientNetworkOptions = {}): ClientNetwork {
  return new ClientNetwork(options);
}

/** The process's shared network: every ENetClient created without `network` uses it. */
export const clientNetwork = new ClientNetwork();
