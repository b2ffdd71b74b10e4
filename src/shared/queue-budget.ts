// Runs on every thread that sends to a server's peers (the supervisor, each game actor): whether a
// peer can take more under maxQueuedBytesPerPeer. Native writes each peer's unacknowledged bytes
// into its stats row every stats pass (with a generation number); between two passes this
// producer adds what it sent itself, so a fast sender is held back at once, not 20 ms later.
import { STATS_GENERATION, STATS_QUEUED_BYTES, STATS_ROW } from './protocol.js';

export class QueueBudget {
  private readonly generation: Uint32Array;
  private readonly sentSince: Float64Array;

  constructor(
    private readonly stats: Uint32Array,
    private readonly maxQueuedBytes: number,
  ) {
    const slots = stats.length / STATS_ROW;
    this.generation = new Uint32Array(slots);
    this.sentSince = new Float64Array(slots);
  }

  /** False when `maxQueuedBytes` or more are queued to the peer in `slot`; else counts `bytes` and returns true. */
  take(slot: number, bytes: number): boolean {
    const row = slot * STATS_ROW;
    const generation = this.stats[row + STATS_GENERATION];
    if (generation !== this.generation[slot]) {
      this.generation[slot] = generation;
      this.sentSince[slot] = 0;
    }
    if (this.stats[row + STATS_QUEUED_BYTES] + this.sentSince[slot] >= this.maxQueuedBytes) return false;
    this.sentSince[slot] += bytes;
    return true;
  }
}
