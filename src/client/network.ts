// Runs on the thread that uses ENetClient (usually the main thread). Every ENetClient of the
// process shares one net actor: one worker thread servicing one ENet host per client, so hundreds
// of load-test clients cost one thread and two rings, not hundreds of threads.
import { NetActorLink } from '../net-actor/link.js';
import { DEFAULT_MAX_PACKET_SIZE, DEFAULT_POLL_RATE_MS, DEFAULT_RESTART_POLICY, DEFAULT_RING_BYTES } from '../shared/defaults.js';
import { R_HOST } from '../shared/protocol.js';
import type { RecordHandler } from '../shared/ring.js';

/** What a client gives the network to receive its records. */
export interface ClientEndpoint {
  readonly pollRate: number;
  onRecord: RecordHandler;
}

class ClientNetwork {
  private link: NetActorLink | undefined;
  private readonly endpoints = new Map<number, ClientEndpoint>();
  private active = 0;

  get(): NetActorLink {
    if (!this.link) {
      const link = new NetActorLink({
        maxPacketSize: DEFAULT_MAX_PACKET_SIZE,
        ringBytes: DEFAULT_RING_BYTES,
        pollRate: DEFAULT_POLL_RATE_MS,
        restartPolicy: DEFAULT_RESTART_POLICY,
        onRecord: this.route,
      });
      link.setReferenced(false);
      link.start();
      this.link = link;
    }
    return this.link;
  }

  attach(host: number, endpoint: ClientEndpoint): void {
    this.endpoints.set(host, endpoint);
    this.updatePollRate();
  }

  /** The host is gone: its records are ignored from now on. */
  detach(host: number): void {
    this.endpoints.delete(host);
    this.updatePollRate();
  }

  /** A client that is connecting or connected keeps the process alive, as a socket would. */
  hold(): void {
    if (this.active++ === 0) this.link?.setReferenced(true);
  }

  release(): void {
    if (--this.active === 0) this.link?.setReferenced(false);
  }

  private updatePollRate(): void {
    let rate = Infinity;
    for (const endpoint of this.endpoints.values()) rate = Math.min(rate, endpoint.pollRate);
    this.link?.setPollRate(rate === Infinity ? DEFAULT_POLL_RATE_MS : rate);
  }

  private readonly route = (bytes: Uint8Array, offset: number, length: number): void => {
    const host = this.link!.inbound.view.getUint32(offset + R_HOST, true);
    this.endpoints.get(host)?.onRecord(bytes, offset, length);
  };

  refreshPollRate(): void {
    this.updatePollRate();
  }
}

export const clientNetwork = new ClientNetwork();
