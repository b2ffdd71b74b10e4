// Runs on every thread that sends to a server's peers (the supervisor, each game actor): whether a
// peer can take more under maxQueuedBytesPerPeer. Native writes into each peer's stats row, every
// stats pass, the bytes queued to it and not acknowledged, and the payload bytes of the send
// records it has taken for it so far. What this producer submitted beyond that is still in a ring
// (not in ENet's queue yet) and is added, so a fast sender is held back at once.
import { STATS_PEER_ID, STATS_PROCESSED_BYTES, STATS_QUEUED_BYTES, STATS_ROW } from '../wire/protocol.js';

export class QueueBudget {
  private readonly peer: Uint32Array;
  private readonly submitted: Uint32Array;

  constructor(
    private readonly stats: Uint32Array,
    private readonly maxQueuedBytes: number,
  ) {
    const slots = stats.length / STATS_ROW;
    this.peer = new Uint32Array(slots);
    this.submitted = new Uint32Array(slots);
  }

  /** False when `maxQueuedBytes` or more are queued to the peer in `slot`; else counts `bytes` and returns true. */
  take(slot: number, bytes: number): boolean {
    const row = slot * STATS_ROW;
    const peer = this.stats[row + STATS_PEER_ID];
    if (peer !== this.peer[slot]) {
      // Another peer in the slot (native's count starts again at 0 with it).
      this.peer[slot] = peer;
      this.submitted[slot] = 0;
    }
    // u32 arithmetic: both counters wrap. Other producers' bytes make `processed` run ahead of ours:
    // then nothing of ours counts as in flight.
    const ahead = (this.submitted[slot] - this.stats[row + STATS_PROCESSED_BYTES]) >>> 0;
    const inFlight = ahead < 2 ** 31 ? ahead : 0;
    if (this.stats[row + STATS_QUEUED_BYTES] + inFlight >= this.maxQueuedBytes) return false;
    this.submitted[slot] = (this.submitted[slot] + bytes) >>> 0;
    return true;
  }
}
