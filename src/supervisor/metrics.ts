// Runs on the main thread: getMetrics() — the shards' native counters added up, the supervisor's own
// counts, one row per actor — and the process's CPU and memory, sampled with pidusage.
import pidusage from 'pidusage';
import {
  C_BANNED_ADDRESSES,
  C_BYTES_IN,
  C_BYTES_OUT,
  C_INBOUND_STALLS,
  C_PACKETS_IN,
  C_PACKETS_OUT,
  C_PENDING_CONNECTS,
  C_QUEUED_BYTES,
  C_RATE_LIMITED,
  C_REFUSED_BANNED,
  C_REFUSED_FULL,
  C_REFUSED_PEERS_PER_ADDRESS,
  C_REFUSED_PENDING,
  C_REFUSED_PER_ADDRESS,
  C_REFUSED_RATE,
  C_WIRE_BYTES_IN,
  C_WIRE_BYTES_OUT,
  C_SESSION_OUTBOX_BYTES,
  C_RETRANSMISSIONS,
  STATS_FIRST,
  STATS_PEER_ID,
  STATS_ROW,
  STATS_STATE,
} from '../wire/protocol.js';
import { ENET_PEER_PACKET_LOSS_SCALE, ENET_PEER_PACKET_THROTTLE_SCALE, ENET_PEER_STATE_CONNECTED } from '../wire/defaults.js';
import { PeerStatistic } from '../wire/enums.js';
import type { Running } from './core.js';
import type { PeerTable } from './peer-table.js';
import type { Shard } from './shards.js';
import type { ActorMetrics, PeerTransport, Percentiles, ServerMetrics, TransportMetrics } from './events.js';

/** How often the process's CPU and memory are sampled (pidusage) while a server runs. */
const USAGE_SAMPLE_MS = 1000;

/** What the supervisor's parts counted themselves (the rest is native's). */
export interface SupervisorCounts {
  malformedPackets: number;
  droppedUnauthenticated: number;
  actorRestarts: number;
  setAside: number;
  refusedFull: number;
  kicked: { packetTooLarge: number; rateLimit: number };
  busySkipped: number;
  sessions: { held: number; resumed: number; expired: number; refused: number };
}

/** The counters of every shard, added up (docs/protocol.md "Counters"). */
function sumCounters(shards: readonly Shard[]): Float64Array {
  const total = new Float64Array(shards[0]?.link.counters.length ?? 0);
  for (const shard of shards) {
    const counters = shard.link.counters;
    for (let i = 0; i < total.length; i++) total[i] += counters[i];
  }
  return total;
}

function refused(counters: Float64Array | undefined, fullHere: number): ServerMetrics['refusedConnects'] {
  const rate = counters?.[C_REFUSED_RATE] ?? 0;
  const pending = counters?.[C_REFUSED_PENDING] ?? 0;
  const perAddress = (counters?.[C_REFUSED_PER_ADDRESS] ?? 0) + (counters?.[C_REFUSED_PEERS_PER_ADDRESS] ?? 0);
  const banned = counters?.[C_REFUSED_BANNED] ?? 0;
  const full = (counters?.[C_REFUSED_FULL] ?? 0) + fullHere;
  return { rate, pending, perAddress, banned, full, total: rate + pending + perAddress + banned + full };
}

const RTT = STATS_FIRST + PeerStatistic.PEER_ROUND_TRIP_TIME;
const LOSS = STATS_FIRST + PeerStatistic.PEER_PACKET_LOSS;
const THROTTLE = STATS_FIRST + PeerStatistic.PEER_PACKET_THROTTLE;

/** Room for one entry per slot of a server run, reused by every call (the main thread's only). */
interface Scratch {
  rttMs: Uint32Array;
  packetLoss: Float64Array;
  throttle: Float64Array;
}
const scratches = new WeakMap<Running, Scratch>();

/**
 * The connected peers' RTT, packet loss and throttle into `running`'s scratch arrays: one pass over
 * every shard's stats rows (ENet's figures, rewritten by native every 20 ms), one entry per slot whose
 * ENet peer is CONNECTED. Slots are walked, not the peer table: a linear scan of a Uint32Array.
 * Returns how many entries it wrote.
 */
function scanTransport(running: Running, scratch: Scratch): number {
  const { rttMs, packetLoss, throttle } = scratch;
  let n = 0;
  for (const { stats, slots } of running.shards) {
    for (let row = 0, end = slots * STATS_ROW; row < end; row += STATS_ROW) {
      if (stats[row + STATS_PEER_ID] === 0 || stats[row + STATS_STATE] !== ENET_PEER_STATE_CONNECTED) continue;
      rttMs[n] = stats[row + RTT];
      packetLoss[n] = stats[row + LOSS] / ENET_PEER_PACKET_LOSS_SCALE;
      throttle[n] = stats[row + THROTTLE] / ENET_PEER_PACKET_THROTTLE_SCALE;
      n++;
    }
  }
  return n;
}

function scratchOf(running: Running): Scratch {
  let scratch = scratches.get(running);
  if (!scratch) {
    let slots = 0;
    for (const shard of running.shards) slots += shard.slots;
    scratch = { rttMs: new Uint32Array(slots), packetLoss: new Float64Array(slots), throttle: new Float64Array(slots) };
    scratches.set(running, scratch);
  }
  return scratch;
}

/** One entry per connected peer (copies: the caller may keep them). */
export function peerTransport(running: Running | undefined): PeerTransport {
  if (!running) return { peers: 0, rttMs: new Uint32Array(0), packetLoss: new Float64Array(0), throttle: new Float64Array(0) };
  const scratch = scratchOf(running);
  const n = scanTransport(running, scratch);
  return { peers: n, rttMs: scratch.rttMs.slice(0, n), packetLoss: scratch.packetLoss.slice(0, n), throttle: scratch.throttle.slice(0, n) };
}

/** Nearest-rank p50 and p99 of `values` (sorted in place). */
function percentiles(values: Uint32Array | Float64Array): Percentiles {
  const n = values.length;
  if (n === 0) return { p50: 0, p99: 0 };
  values.sort();
  return { p50: values[Math.ceil(0.5 * n) - 1], p99: values[Math.ceil(0.99 * n) - 1] };
}

function transportMetrics(running: Running | undefined, counters: Float64Array | undefined): TransportMetrics {
  const retransmissions = counters?.[C_RETRANSMISSIONS] ?? 0;
  if (!running) return { peers: 0, rttMs: { p50: 0, p99: 0 }, packetLoss: { p50: 0, p99: 0 }, retransmissions };
  const scratch = scratchOf(running);
  const n = scanTransport(running, scratch);
  return {
    peers: n,
    rttMs: percentiles(scratch.rttMs.subarray(0, n)),
    packetLoss: percentiles(scratch.packetLoss.subarray(0, n)),
    retransmissions,
  };
}

export function buildMetrics(running: Running | undefined, peers: PeerTable, counts: SupervisorCounts, usage: ProcessUsage): ServerMetrics {
  const counters = running ? sumCounters(running.shards) : undefined;
  const actors: ActorMetrics[] = [];
  let actorStalls = 0;
  let busySkipped = counts.busySkipped;
  if (running) {
    const peersOn = peers.countPerShard(running.shards.length);
    for (const shard of running.shards) {
      const link = shard.link;
      actors.push({
        kind: 'net',
        id: shard.id,
        restarts: link.restarts,
        handled: link.counters[C_PACKETS_IN],
        inboundDepth: link.inbound.depth,
        outboundDepth: link.out.ring.capacity - link.out.ring.freeBytes,
        peers: peersOn[shard.id],
      });
      actorStalls += link.out.ring.stalls;
    }
    for (const { outboundStalls, busySkipped: actorSkipped, ...row } of running.actors?.rows() ?? []) {
      actors.push({ ...row, peers: peers.countOnActor(row.id) });
      actorStalls += outboundStalls;
      busySkipped += actorSkipped;
    }
  }
  return {
    peers: peers.size,
    authenticatedPeers: peers.authenticatedCount(),
    packetsIn: counters?.[C_PACKETS_IN] ?? 0,
    packetsOut: counters?.[C_PACKETS_OUT] ?? 0,
    bytesIn: counters?.[C_BYTES_IN] ?? 0,
    bytesOut: counters?.[C_BYTES_OUT] ?? 0,
    wireBytesIn: counters?.[C_WIRE_BYTES_IN] ?? 0,
    wireBytesOut: counters?.[C_WIRE_BYTES_OUT] ?? 0,
    malformedPackets: counts.malformedPackets,
    droppedUnauthenticated: counts.droppedUnauthenticated,
    actorRestarts: counts.actorRestarts,
    setAside: counts.setAside,
    pendingConnects: counters?.[C_PENDING_CONNECTS] ?? 0,
    refusedConnects: refused(counters, counts.refusedFull),
    rateLimited: counters?.[C_RATE_LIMITED] ?? 0,
    kicked: { ...counts.kicked },
    queuedBytes: counters?.[C_QUEUED_BYTES] ?? 0,
    busySkipped,
    bannedAddresses: counters?.[C_BANNED_ADDRESSES] ?? 0,
    ringStalls: (counters?.[C_INBOUND_STALLS] ?? 0) + actorStalls,
    cpuPercent: usage.cpuPercent,
    memoryRss: usage.memoryRss,
    actors,
    sessions: {
      ...counts.sessions,
      dropped: peers.droppedCount(),
      outboxBytes: counters?.[C_SESSION_OUTBOX_BYTES] ?? 0,
    },
    transport: transportMetrics(running, counters),
  };
}

/** The process's CPU (% of one core) and RSS, sampled every USAGE_SAMPLE_MS while started. */
export class ProcessUsage {
  cpuPercent = 0;
  memoryRss = process.memoryUsage.rss();
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    const sample = (): void => {
      pidusage(process.pid, (error, stats) => {
        if (error || !stats) return;
        this.cpuPercent = stats.cpu;
        this.memoryRss = stats.memory;
      });
    };
    sample();
    this.timer = setInterval(sample, USAGE_SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
