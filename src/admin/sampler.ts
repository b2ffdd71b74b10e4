// Runs on the main thread: the operator panel's one sampler. Once a second it reads the server
// (getMetrics(), every peer's RTT and loss), turns counters into rates from the previous sample, and
// keeps the last HISTORY samples in a ring so a tab opened now still draws the last ten minutes. Every
// open stream (server.ts) is fed from the same sample: N tabs cost one sample plus N pages of peers.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ENetServerSupervisor } from '../supervisor/server.js';
import type { ServerInfo } from '../cluster/member.js';
import { peerRow, type PeerRow } from './peers.js';

/** Samples kept: ten minutes at one a second. */
export const HISTORY = 600;
export const SAMPLE_MS = 1000;
/** The fleet's server list is read from Redis this often (not every second). */
const FLEET_MS = 5000;
/** The event-loop delay probe's timer period; its samples include it, so it is subtracted. */
const LAG_RESOLUTION_MS = 10;

/** The chart series, one column each in the history ring. */
export const SERIES = ['t', 'peers', 'authenticated', 'packetsIn', 'packetsOut', 'bytesIn', 'bytesOut', 'rttP50', 'rttP99', 'cpu', 'lagP99'] as const;
export type Series = (typeof SERIES)[number];

export interface ActorRowView {
  kind: 'net' | 'game';
  id: number;
  peers: number;
  /** Bytes waiting in its inbound + outbound rings. */
  ringDepth: number;
  inboundDepth: number;
  outboundDepth: number;
  /** Game actors: share of the last interval its event loop was busy (0–1). */
  busy: number | null;
  handledPerS: number;
  restarts: number;
}

export interface Overview {
  /** ms since the epoch. */
  at: number;
  /** Seconds since this process started. */
  uptimeS: number;
  active: boolean;
  port: number;
  peers: number;
  authenticated: number;
  /** Per second, over the last sample interval. */
  rates: { packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number; wireBytesIn: number; wireBytesOut: number };
  /** This process, % of one core over the last interval. */
  cpuPercent: number;
  rssBytes: number;
  /** Event-loop delay over the last interval (perf_hooks monitorEventLoopDelay), ms. */
  eventLoopLagMs: { mean: number; p99: number; max: number };
  /** RTT across the peers now, ms. */
  rttMs: { p50: number; p99: number };
  /** Packet loss across the peers now (0–1). */
  lossP99: number;
  queuedBytes: number;
  shards: number;
  gameActors: number;
  actors: ActorRowView[];
  sessions: { held: number; dropped: number; resumed: number; expired: number; refused: number; outboxBytes: number };
  defences: { pendingConnects: number; refusedConnects: number; rateLimited: number; kicked: number; bannedAddresses: number; malformedPackets: number };
  fleet: { serverId: string; up: boolean; servers: ServerInfo[]; error?: string } | null;
}

type Counters = { packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number; wireBytesIn: number; wireBytesOut: number; handled: Map<string, number> };

/** Nearest-rank percentile of a sorted array. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export class Sampler {
  /** The last overview (also what /api/state answers with). */
  overview: Overview;
  /** Incremented at each sample: the streams' page cache is valid for one. */
  tick = 0;
  /** How long the last sample took (ms of main thread). */
  lastSampleMs = 0;
  private readonly columns = new Map<Series, Float64Array>(SERIES.map((name) => [name, new Float64Array(HISTORY)]));
  private count = 0;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private previous: { at: number; counters: Counters; cpu: NodeJS.CpuUsage } | undefined;
  private rowsCache: { tick: number; rows: PeerRow[] } | undefined;
  private fleet: Overview['fleet'] = null;
  private fleetAt = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly server: ENetServerSupervisor,
    private readonly statsOf: (shard: number) => Uint32Array | undefined,
  ) {
    this.lag.enable();
    this.overview = this.sample(false);
  }

  start(): void {
    this.timer = setInterval(() => {
      const started = performance.now();
      this.overview = this.sample(true);
      this.lastSampleMs = performance.now() - started;
      this.tick++;
      for (const listener of this.listeners) listener();
    }, SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.lag.disable();
    this.listeners.clear();
  }

  /** Called after each sample (the streams). */
  onSample(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every peer's row as of this tick, built once per tick however many ask. */
  rows(): PeerRow[] {
    if (this.rowsCache?.tick !== this.tick) this.rowsCache = { tick: this.tick, rows: this.readRows() };
    return this.rowsCache.rows;
  }

  /** Fresh rows (for /api/state, which may be asked between ticks). */
  readRows(): PeerRow[] {
    const rows: PeerRow[] = [];
    for (const peer of this.server.getPeers()) rows.push(peerRow(peer, this.statsOf(peer.shard)));
    return rows;
  }

  /** The history ring, oldest first: one array per series. */
  history(): Record<Series, number[]> {
    const out = {} as Record<Series, number[]>;
    const start = (this.next - this.count + HISTORY) % HISTORY;
    for (const [name, column] of this.columns) {
      const values = new Array<number>(this.count);
      for (let i = 0; i < this.count; i++) values[i] = column[(start + i) % HISTORY];
      out[name] = values;
    }
    return out;
  }

  /** The newest history point (what each update appends to the charts). */
  point(): Record<Series, number> | null {
    if (this.count === 0) return null;
    const at = (this.next - 1 + HISTORY) % HISTORY;
    const out = {} as Record<Series, number>;
    for (const [name, column] of this.columns) out[name] = column[at];
    return out;
  }

  private sample(record: boolean): Overview {
    const now = Date.now();
    const server = this.server;
    const m = server.getMetrics();
    const cpu = process.cpuUsage();
    const counters: Counters = {
      packetsIn: m.packetsIn,
      packetsOut: m.packetsOut,
      bytesIn: m.bytesIn,
      bytesOut: m.bytesOut,
      wireBytesIn: m.wireBytesIn,
      wireBytesOut: m.wireBytesOut,
      handled: new Map(m.actors.map((row) => [`${row.kind}${row.id}`, row.handled])),
    };
    const previous = this.previous;
    const seconds = previous ? Math.max(0.001, (now - previous.at) / 1000) : 0;
    // A counter that went down (the server restarted) starts again from 0.
    const rate = (a: number, b: number | undefined): number => (seconds === 0 || b === undefined ? 0 : Math.max(0, a - b) / seconds);
    const p = previous?.counters;
    const cpuPercent = previous ? ((cpu.user - previous.cpu.user + cpu.system - previous.cpu.system) / 1000 / (now - previous.at || 1)) * 100 : 0;
    this.previous = { at: now, counters, cpu };

    // RTT and loss across every peer: one pass over the stats rows, no row objects.
    const peers = server.getPeers();
    const rtts = new Float64Array(peers.length);
    const losses = new Float64Array(peers.length);
    let n = 0;
    for (const peer of peers) {
      if (peer.isDropped()) continue;
      rtts[n] = peer.getPing();
      losses[n] = peer.getStatistic(0) / 65536;
      n++;
    }
    const rttSorted = rtts.subarray(0, n).sort();
    const lossSorted = losses.subarray(0, n).sort();

    const lag = this.lag;
    const late = (ns: number): number => (lag.count > 0 ? Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS) : 0);
    const lagMs = { mean: late(lag.mean), p99: late(lag.percentile(99)), max: late(lag.max) };
    lag.reset();

    this.refreshFleet(now);
    const overview: Overview = {
      at: now,
      uptimeS: Math.round(process.uptime()),
      active: server.isServerActive(),
      port: server.getLocalPort(),
      peers: m.peers,
      authenticated: m.authenticatedPeers,
      rates: {
        packetsIn: rate(m.packetsIn, p?.packetsIn),
        packetsOut: rate(m.packetsOut, p?.packetsOut),
        bytesIn: rate(m.bytesIn, p?.bytesIn),
        bytesOut: rate(m.bytesOut, p?.bytesOut),
        wireBytesIn: rate(m.wireBytesIn, p?.wireBytesIn),
        wireBytesOut: rate(m.wireBytesOut, p?.wireBytesOut),
      },
      cpuPercent: Math.max(0, cpuPercent),
      rssBytes: process.memoryUsage.rss(),
      eventLoopLagMs: lagMs,
      rttMs: { p50: percentile(rttSorted, 0.5), p99: percentile(rttSorted, 0.99) },
      lossP99: percentile(lossSorted, 0.99),
      queuedBytes: m.queuedBytes,
      shards: m.actors.filter((row) => row.kind === 'net').length,
      gameActors: m.actors.filter((row) => row.kind === 'game').length,
      actors: m.actors.map((row) => ({
        kind: row.kind,
        id: row.id,
        peers: row.peers,
        ringDepth: row.inboundDepth + row.outboundDepth,
        inboundDepth: row.inboundDepth,
        outboundDepth: row.outboundDepth,
        busy: row.cpuPercent === undefined ? null : row.cpuPercent / 100,
        handledPerS: rate(row.handled, p?.handled.get(`${row.kind}${row.id}`)),
        restarts: row.restarts,
      })),
      sessions: { ...m.sessions },
      defences: {
        pendingConnects: m.pendingConnects,
        refusedConnects: m.refusedConnects.total,
        rateLimited: m.rateLimited,
        kicked: m.kicked.packetTooLarge + m.kicked.rateLimit,
        bannedAddresses: m.bannedAddresses,
        malformedPackets: m.malformedPackets,
      },
      fleet: this.fleet,
    };
    if (record) this.record(overview);
    return overview;
  }

  private record(o: Overview): void {
    const values: Record<Series, number> = {
      t: Math.round(o.at / 1000),
      peers: o.peers,
      authenticated: o.authenticated,
      packetsIn: o.rates.packetsIn,
      packetsOut: o.rates.packetsOut,
      bytesIn: o.rates.bytesIn,
      bytesOut: o.rates.bytesOut,
      rttP50: o.rttMs.p50,
      rttP99: o.rttMs.p99,
      cpu: o.cpuPercent,
      lagP99: o.eventLoopLagMs.p99,
    };
    for (const [name, column] of this.columns) column[this.next] = values[name];
    this.next = (this.next + 1) % HISTORY;
    this.count = Math.min(HISTORY, this.count + 1);
  }

  /** The fleet's servers, read in the background every FLEET_MS; the last answer is shown meanwhile. */
  private refreshFleet(now: number): void {
    const cluster = this.server.cluster;
    if (!cluster) {
      this.fleet = null;
      return;
    }
    if (now - this.fleetAt < FLEET_MS) {
      if (this.fleet) this.fleet = { ...this.fleet, up: cluster.isUp() };
      return;
    }
    this.fleetAt = now;
    cluster.servers().then(
      (servers) => {
        this.fleet = { serverId: cluster.serverId, up: cluster.isUp(), servers };
      },
      (error: Error) => {
        this.fleet = { serverId: cluster.serverId, up: cluster.isUp(), servers: this.fleet?.servers ?? [], error: error.message };
      },
    );
    this.fleet ??= { serverId: cluster.serverId, up: cluster.isUp(), servers: [] };
  }
}
