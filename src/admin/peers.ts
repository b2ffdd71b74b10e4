// Runs on the main thread: the operator panel's peer rows — one per peer, read from its stats row
// in shared memory (no round trip to a net actor) — and the server-side filter, sort and paging that
// keep the page usable with thousands of peers (only the page asked for is sent).
import { PeerStatistic } from '../wire/enums.js';
import { STATS_PEER_ID, STATS_PROCESSED_BYTES, STATS_QUEUED_BYTES, STATS_ROW } from '../wire/protocol.js';
import type { ENetServerPeer } from '../supervisor/peer.js';

/** ENet's packet loss is a fraction of ENET_PEER_PACKET_LOSS_SCALE (enet/enet.h). */
const PACKET_LOSS_SCALE = 1 << 16;

export interface PeerRow {
  id: number;
  /** address:port */
  address: string;
  state: 'connecting' | 'prelogin' | 'authenticated' | 'disconnecting';
  shard: number;
  /** Its game actor, or -1 (the main thread). */
  actor: number;
  rttMs: number;
  /** 0–1. */
  loss: number;
  /** Bytes queued to it and not acknowledged yet. */
  queuedBytes: number;
  /** Payload bytes the net actor has taken to send it (u32, wraps at 4 GiB). ENet keeps no per-peer bytes received for us: omitted. */
  bytesOut: number;
  connectedS: number;
  /** Its connection broke and its seat is held for a resume (sessions). */
  dropped: boolean;
  identity: string | null;
}

const STATES: PeerRow['state'][] = ['connecting', 'prelogin', 'authenticated', 'disconnecting'];

/** Reads a peer's row; `stats` is its shard's stats table (undefined when the server stopped). */
export function peerRow(peer: ENetServerPeer, stats: Uint32Array | undefined): PeerRow {
  let queuedBytes = 0;
  let bytesOut = 0;
  const row = peer.slot * STATS_ROW;
  if (stats && stats[row + STATS_PEER_ID] === peer.peerId) {
    queuedBytes = stats[row + STATS_QUEUED_BYTES];
    bytesOut = stats[row + STATS_PROCESSED_BYTES];
  }
  return {
    id: peer.peerId,
    address: `${peer.getRemoteAddress()}:${peer.getRemotePort()}`,
    state: STATES[peer.state] ?? 'connecting',
    shard: peer.shard,
    actor: peer.actor,
    rttMs: peer.getPing(),
    loss: peer.getStatistic(PeerStatistic.PEER_PACKET_LOSS) / PACKET_LOSS_SCALE,
    queuedBytes,
    bytesOut,
    connectedS: Math.round(peer.getConnectionTime() * 10) / 10,
    dropped: peer.isDropped(),
    identity: peer.getIdentity(),
  };
}

export const SORT_KEYS = {
  id: (r: PeerRow) => r.id,
  address: (r: PeerRow) => r.address,
  state: (r: PeerRow) => r.state,
  shard: (r: PeerRow) => r.shard,
  actor: (r: PeerRow) => r.actor,
  rtt: (r: PeerRow) => r.rttMs,
  loss: (r: PeerRow) => r.loss,
  queued: (r: PeerRow) => r.queuedBytes,
  out: (r: PeerRow) => r.bytesOut,
  connected: (r: PeerRow) => r.connectedS,
} as const;
export type SortKey = keyof typeof SORT_KEYS;

export interface PeerQuery {
  sort: SortKey;
  dir: 'asc' | 'desc';
  filter: string;
  offset: number;
  limit: number;
}

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;

/** A query from URL parameters; anything unknown or out of range falls back to its default. */
export function parseQuery(params: URLSearchParams): PeerQuery {
  const sort = params.get('sort') ?? 'id';
  const int = (name: string, fallback: number, max: number): number => {
    const n = Number(params.get(name) ?? Number.NaN);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
  };
  return {
    sort: Object.hasOwn(SORT_KEYS, sort) ? (sort as SortKey) : 'id',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
    filter: (params.get('filter') ?? '').slice(0, 200),
    offset: int('offset', 0, 1e9),
    limit: int('limit', DEFAULT_LIMIT, MAX_LIMIT) || DEFAULT_LIMIT,
  };
}

export function queryKey(q: PeerQuery): string {
  return `${q.sort}|${q.dir}|${q.offset}|${q.limit}|${q.filter}`;
}

/** Field names a filter term may compare: `rtt>100`, `loss>=0.05`, `shard=1`, `state=prelogin`. */
const FIELDS: Record<string, (r: PeerRow) => number | string | boolean> = {
  ...SORT_KEYS,
  id: (r) => r.id,
  dropped: (r) => r.dropped,
  identity: (r) => r.identity ?? '',
};

type Term = (r: PeerRow) => boolean;

/**
 * A filter: space-separated terms, all of which must hold. `field<op>value` compares (ops > >= < <= =
 * !=; numbers numerically); any other term is a case-insensitive substring of the id, address,
 * state or identity.
 */
export function compileFilter(filter: string): Term {
  const terms: Term[] = [];
  for (const word of filter.trim().split(/\s+/)) {
    if (word === '') continue;
    const m = /^([a-z]+)(>=|<=|!=|>|<|=)(.*)$/i.exec(word);
    const read = m ? FIELDS[m[1].toLowerCase()] : undefined;
    if (m && read) {
      const [, , op, text] = m;
      const num = Number(text);
      const numeric = text !== '' && !Number.isNaN(num);
      terms.push((r) => {
        let v = read(r);
        if (typeof v === 'boolean') v = v ? 1 : 0;
        const value: number | string = numeric && typeof v === 'number' ? num : text.toLowerCase();
        const field = typeof v === 'number' && numeric ? v : String(v).toLowerCase();
        switch (op) {
          case '>': return field > value;
          case '>=': return field >= value;
          case '<': return field < value;
          case '<=': return field <= value;
          case '!=': return field !== value;
          default: return field === value;
        }
      });
    } else {
      const needle = word.toLowerCase();
      terms.push((r) => String(r.id) === needle || r.address.includes(needle) || r.state.includes(needle) || (r.identity?.toLowerCase().includes(needle) ?? false));
    }
  }
  return (r) => terms.every((term) => term(r));
}

export interface PeerPage {
  /** Peers matching the filter (all pages). */
  total: number;
  /** Every peer. */
  all: number;
  offset: number;
  limit: number;
  sort: SortKey;
  dir: 'asc' | 'desc';
  filter: string;
  rows: PeerRow[];
}

/** Filters, sorts and pages `rows` (not modified). */
export function selectPeers(rows: readonly PeerRow[], q: PeerQuery): PeerPage {
  const matching = q.filter.trim() === '' ? rows.slice() : rows.filter(compileFilter(q.filter));
  const key = SORT_KEYS[q.sort];
  const sign = q.dir === 'desc' ? -1 : 1;
  matching.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : a.id - b.id) * sign;
  });
  return {
    total: matching.length,
    all: rows.length,
    offset: q.offset,
    limit: q.limit,
    sort: q.sort,
    dir: q.dir,
    filter: q.filter,
    rows: matching.slice(q.offset, q.offset + q.limit),
  };
}
