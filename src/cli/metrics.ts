// Runs on the main thread of enet-server: Prometheus text at http://<host>:<port>/metrics (beside
// /health, liveness, and /ready, readiness), with
// prom-client — its default process metrics plus the server's, read from getMetrics() at each
// scrape (nothing is counted twice, nothing runs between scrapes).
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ENetServerSupervisor } from '../supervisor/server.js';
import type { PeerTransport, ServerMetrics } from '../supervisor/events.js';

type CounterName =
  | 'packetsIn' | 'packetsOut' | 'bytesIn' | 'bytesOut' | 'wireBytesIn' | 'wireBytesOut' | 'malformedPackets'
  | 'droppedUnauthenticated' | 'ringStalls' | 'actorRestarts' | 'setAside' | 'rateLimited' | 'busySkipped';

const COUNTERS: [name: string, help: string, field: CounterName][] = [
  ['enet_packets_received_total', 'Packets received from peers.', 'packetsIn'],
  ['enet_packets_sent_total', 'Packets queued to peers (one per target of a group send).', 'packetsOut'],
  ['enet_received_bytes_total', 'Packet payload bytes received from peers.', 'bytesIn'],
  ['enet_sent_bytes_total', 'Packet payload bytes queued to peers.', 'bytesOut'],
  ['enet_wire_received_bytes_total', 'UDP payload bytes received (after compression, ENet headers included).', 'wireBytesIn'],
  ['enet_wire_sent_bytes_total', 'UDP payload bytes sent (after compression, ENet headers included).', 'wireBytesOut'],
  ['enet_malformed_packets_total', 'Packets that did not decode, dropped.', 'malformedPackets'],
  ['enet_dropped_unauthenticated_total', 'Packets of peers not authenticated (after their login), dropped.', 'droppedUnauthenticated'],
  ['enet_ring_stalls_total', 'Times a ring between actors was full (backpressure).', 'ringStalls'],
  ['enet_actor_restarts_total', 'Actor restarts (net and game).', 'actorRestarts'],
  ['enet_set_aside_total', 'Records set aside after crashing their game actor 3 times.', 'setAside'],
  ['enet_rate_limited_packets_total', 'Datagrams and packets dropped by the per-peer rate limits.', 'rateLimited'],
  ['enet_busy_skipped_total', 'Group-send targets left out: too much queued to them (maxQueuedBytesPerPeer).', 'busySkipped'],
];

type GaugeName = 'pendingConnects' | 'queuedBytes' | 'bannedAddresses';

const GAUGES: [name: string, help: string, field: GaugeName][] = [
  ['enet_pending_connects', 'Handshakes in progress.', 'pendingConnects'],
  ['enet_queued_bytes', 'Bytes queued to peers and not acknowledged yet.', 'queuedBytes'],
  ['enet_banned_addresses', 'Addresses refused now after repeated authentication failures.', 'bannedAddresses'],
];

/** Histograms over the connected peers, rebuilt from the stats tables at each scrape (ENet's figures). */
const TRANSPORT: [name: string, help: string, buckets: number[], each: (sample: PeerTransport, observe: (value: number) => void) => void][] = [
  [
    'enet_peer_rtt_seconds',
    "Connected peers by ENet's smoothed round-trip time.",
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2],
    (sample, observe) => {
      for (const ms of sample.rttMs) observe(ms / 1000);
    },
  ],
  [
    'enet_peer_packet_loss_ratio',
    "Connected peers by ENet's packet loss of reliable packets (a fraction, smoothed over 10 s epochs).",
    [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    (sample, observe) => {
      for (const ratio of sample.packetLoss) observe(ratio);
    },
  ],
  [
    'enet_peer_packet_throttle_ratio',
    "Connected peers by ENet's packet throttle (1: no unreliable packet held back; lower under loss or rising RTT).",
    [0.125, 0.25, 0.5, 0.75, 0.9, 0.99, 1],
    (sample, observe) => {
      for (const ratio of sample.throttle) observe(ratio);
    },
  ],
];

/** A registry whose every scrape reads the server's metrics once. */
export function createMetricsRegistry(server: ENetServerSupervisor): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One getMetrics() per scrape, shared by every metric's collect().
  let snapshot: { at: number; metrics: ServerMetrics } | undefined;
  const current = (): ServerMetrics => {
    const now = performance.now();
    if (!snapshot || now - snapshot.at > 100) snapshot = { at: now, metrics: server.getMetrics() };
    return snapshot.metrics;
  };
  // One pass over the stats tables per scrape, shared by the transport histograms.
  let transport: { at: number; sample: PeerTransport } | undefined;
  const currentTransport = (): PeerTransport => {
    const now = performance.now();
    if (!transport || now - transport.at > 100) transport = { at: now, sample: server.getPeerTransport() };
    return transport.sample;
  };
  for (const [name, help, buckets, each] of TRANSPORT) {
    new Histogram({
      name,
      help,
      buckets,
      registers: [registry],
      collect() {
        this.reset();
        each(currentTransport(), (value) => this.observe(value));
      },
    });
  }
  new Counter({
    name: 'enet_retransmissions_total',
    help: "Reliable commands ENet timed out and sent again (from its per-peer packetsLost; a lower bound).",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(current().transport.retransmissions);
    },
  });
  if (server.cluster) {
    new Gauge({
      name: 'enet_cluster_up',
      help: "1 while the fleet's Redis is reachable (this server registered in the fleet), else 0.",
      registers: [registry],
      collect() {
        this.set(server.cluster?.isUp() ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: 'enet_peers',
    help: 'Connected peers (authenticated or not).',
    registers: [registry],
    collect() {
      this.set(current().peers);
    },
  });
  new Gauge({
    name: 'enet_authenticated_peers',
    help: 'Authenticated peers.',
    registers: [registry],
    collect() {
      this.set(current().authenticatedPeers);
    },
  });
  for (const [name, help, field] of COUNTERS) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(current()[field]);
      },
    });
  }
  for (const [name, help, field] of GAUGES) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(current()[field]);
      },
    });
  }
  const byCause = (name: string, help: string, read: (m: ServerMetrics) => Record<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['cause'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [cause, value] of Object.entries(read(current()))) if (cause !== 'total') this.inc({ cause }, value);
      },
    });
  const sessions = (name: string, help: string, read: (s: ServerMetrics['sessions']) => number, kind: 'gauge' | 'counter') => {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      registers: [registry],
      collect(this: Gauge | Counter) {
        if (this instanceof Gauge) this.set(read(current().sessions));
        else {
          this.reset();
          this.inc(read(current().sessions));
        }
      },
    });
  };
  sessions('enet_sessions_held', 'Seats with a session now (connected or dropped).', (s) => s.held, 'gauge');
  sessions('enet_sessions_dropped', 'Seats held for a resume now (their connection broke).', (s) => s.dropped, 'gauge');
  sessions('enet_sessions_resumed_total', 'Sessions resumed on a new connection.', (s) => s.resumed, 'counter');
  sessions('enet_sessions_expired_total', 'Dropped seats that ended: window over or outbox overflowed.', (s) => s.expired, 'counter');
  sessions('enet_sessions_refused_total', 'Resume attempts refused (unknown, used or expired token).', (s) => s.refused, 'counter');
  sessions('enet_sessions_outbox_bytes', 'Bytes waiting in session outboxes for an acknowledgement.', (s) => s.outboxBytes, 'gauge');
  byCause('enet_refused_connects_total', 'CONNECTs refused before ENet saw them, by cause.', (m) => m.refusedConnects);
  byCause('enet_kicked_total', 'Peers disconnected by the defences, by cause.', (m) => m.kicked);
  const byActor = ['kind', 'id'] as const;
  const actorGauge = (name: string, help: string, read: (row: ServerMetrics['actors'][number]) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: byActor,
      registers: [registry],
      collect() {
        this.reset();
        for (const row of current().actors) {
          const value = read(row);
          if (value !== undefined) this.set({ kind: row.kind, id: String(row.id) }, value);
        }
      },
    });
  actorGauge('enet_actor_inbound_depth_bytes', 'Bytes waiting in the actor\'s inbound ring.', (r) => r.inboundDepth);
  actorGauge('enet_actor_outbound_depth_bytes', 'Bytes waiting in the actor\'s outbound ring.', (r) => r.outboundDepth);
  actorGauge('enet_actor_peers', 'Peers the actor handles.', (r) => r.peers);
  actorGauge('enet_actor_busy_ratio', 'Share of the last scrape interval a game actor\'s event loop was busy.', (r) => (r.cpuPercent === undefined ? undefined : r.cpuPercent / 100));
  new Counter({
    name: 'enet_actor_handled_total',
    help: 'Records an actor handled (the net actor: packets received).',
    labelNames: byActor,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of current().actors) this.inc({ kind: row.kind, id: String(row.id) }, row.handled);
    },
  });
  new Counter({
    name: 'enet_actor_restarts_by_actor_total',
    help: 'Restarts of each actor.',
    labelNames: byActor,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of current().actors) this.inc({ kind: row.kind, id: String(row.id) }, row.restarts);
    },
  });
  return registry;
}

export interface Readiness {
  ready: boolean;
  /** The UDP port is bound and the server runs. */
  bound: boolean;
  /** Game actors running (0 without --game-logic). */
  gameActors: number;
  /** With a fleet: registered in it (its Redis reachable); null without one. */
  fleet: boolean | null;
  /** Why not ready (empty when ready). */
  reasons: string[];
}

/** What GET /ready answers: bound, actors up (createServer resolved, none given up), in the fleet if configured. */
export function readiness(server: ENetServerSupervisor): Readiness {
  const bound = server.isServerActive() && server.getLocalPort() > 0;
  const gameActors = bound ? server.getMetrics().actors.filter((row) => row.kind === 'game').length : 0;
  const fleet = server.cluster ? server.cluster.isUp() : null;
  const reasons = [...(bound ? [] : ['not bound (starting or stopped)']), ...(fleet === false ? ["the fleet's Redis is unreachable"] : [])];
  return { ready: reasons.length === 0, bound, gameActors, fleet, reasons };
}

export interface ServeOptions {
  /** GET /ready: 200 when ready, else 503 (default: always ready). */
  ready?: () => Readiness;
}

/**
 * Serves GET /metrics (the registry), GET /health (200 while the process serves: liveness) and
 * GET /ready (readiness, JSON: 200 or 503). Resolves once listening, with the bound port.
 */
export async function serveMetrics(registry: Registry, port: number, host: string, options: ServeOptions = {}): Promise<{ server: Server; port: number }> {
  const http = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('only GET\n');
      return;
    }
    if (path === '/health') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/ready') {
      const state = options.ready?.() ?? { ready: true, bound: true, gameActors: 0, fleet: null, reasons: [] };
      response.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(state)}\n`);
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics, /health and /ready are served here\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  return { server: http, port: typeof address === 'object' && address ? address.port : port };
}
