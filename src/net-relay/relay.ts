// An impaired link, on purpose: a UDP relay on loopback that a client talks to instead of the
// server (enet-loadtest --link, and the tests of sessions and bad networks). Real UDP all the way:
//
//   client ──► [front socket] ── delay/jitter/loss ──► [upstream socket per client] ──► server
//   client ◄── [front socket] ◄── delay/jitter/loss ── [upstream socket per client] ◄── server
//
// Each client source (address:port) gets its own upstream socket, as behind a NAT: the server sees a
// distinct source port per client. rebind() re-maps clients to new upstream sockets (new source
// ports, the old mapping's late replies dropped), blackout() drops everything for a while. Loss,
// delay and jitter apply to each direction independently; one seedable PRNG decides them all, so a
// test with a seed sees the same drops. Everything is bounded: delayed datagrams wait in one heap
// per relay under one timer, idle mappings expire, close() cancels and closes everything.
import dgram from 'node:dgram';
import { isIP } from 'node:net';

/** How a link is impaired; each direction independently. */
export interface LinkSpec {
  /** Chance that a datagram is dropped, 0–100 (independent per datagram). Default 0. */
  lossPercent?: number;
  /** One-way delay, ms. Default 0. */
  delayMs?: number;
  /** Each datagram's delay is uniform in delayMs ± jitterMs (never below 0): datagrams reorder. Default 0. */
  jitterMs?: number;
}

export interface LinkRelayOptions {
  /** Where the server is. */
  target: { address: string; port: number };
  /** Where clients send to; default 127.0.0.1, port 0 (any). */
  listen?: { address?: string; port?: number };
  link?: LinkSpec;
  /** Seed of the PRNG behind loss and jitter (and rebind()'s choice of clients): reproducible runs. Default random. */
  seed?: number;
  /** How long a re-mapped client's old upstream socket lives on (its replies dropped) before it closes; default 1000 ms. */
  rebindGraceMs?: number;
  /** A mapping without traffic either way for this long is forgotten (as a NAT does); default 120 000 ms. */
  idleTimeoutMs?: number;
  /** At most this many mappings; datagrams of more clients are dropped. Default 65 536. */
  maxClients?: number;
  /** At most this many datagrams waiting out their delay; more are dropped. Default 1 000 000. */
  maxQueued?: number;
}

export interface LinkRelayStats {
  /** Client mappings now. */
  clients: number;
  forwarded: { up: number; down: number };
  dropped: { up: number; down: number };
  /** Client mappings re-mapped by rebind(), in all. */
  rebinds: number;
}

/** One client mapping as the relay sees it. */
export interface LinkRelayClient {
  /** The client's source, address:port. */
  source: string;
  /** The local port of its upstream socket now (the source port the server sees). */
  upstreamPort: number;
  /** How many times it was re-mapped. */
  rebinds: number;
}

interface Mapping {
  key: string;
  address: string;
  port: number;
  upstream: dgram.Socket;
  lastSeen: number;
  rebinds: number;
}

interface Pending {
  due: number;
  order: number;
  up: boolean;
  data: Buffer;
  mapping: Mapping;
}

const DEFAULT_GRACE_MS = 1000;
const FRONT_BUFFER_BYTES = 4 * 1024 * 1024;
const DEFAULT_IDLE_MS = 120_000;
const LOOPBACK = /^127\./;

/** mulberry32: small, fast, good enough for drop decisions; [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks a LinkSpec and fills its defaults; throws RangeError naming the field. */
export function normalizeLinkSpec(spec: LinkSpec = {}): Required<LinkSpec> {
  const out = { lossPercent: spec.lossPercent ?? 0, delayMs: spec.delayMs ?? 0, jitterMs: spec.jitterMs ?? 0 };
  if (!Number.isFinite(out.lossPercent) || out.lossPercent < 0 || out.lossPercent > 100) throw new RangeError(`lossPercent must be 0–100, got ${spec.lossPercent}`);
  if (!Number.isFinite(out.delayMs) || out.delayMs < 0 || out.delayMs > 60_000) throw new RangeError(`delayMs must be 0–60000, got ${spec.delayMs}`);
  if (!Number.isFinite(out.jitterMs) || out.jitterMs < 0 || out.jitterMs > 60_000) throw new RangeError(`jitterMs must be 0–60000, got ${spec.jitterMs}`);
  return out;
}

/**
 * Parses "loss=2%,delay=30ms,jitter=10ms" (any subset, any order; loss in % with or without the
 * sign, delay and jitter in ms, s also accepted: "delay=0.2s"). Throws an Error saying what is wrong.
 */
export function parseLinkSpec(text: string): Required<LinkSpec> {
  const trimmed = text.trim();
  if (trimmed === '') throw new Error('empty link spec (expected e.g. loss=2%,delay=30ms,jitter=10ms)');
  const seen = new Set<string>();
  const spec: LinkSpec = {};
  for (const part of trimmed.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([^\s]*)\s*$/i.exec(part);
    if (!m) throw new Error(`'${part.trim()}' is not KEY=VALUE (keys: loss, delay, jitter)`);
    const key = m[1].toLowerCase();
    const value = m[2];
    if (seen.has(key)) throw new Error(`'${key}' given twice`);
    seen.add(key);
    if (key === 'loss') {
      const n = /^(\d+(?:\.\d+)?)%?$/.exec(value);
      if (!n || Number(n[1]) > 100) throw new Error(`loss: expected a percentage 0–100 like 2%, got '${value}'`);
      spec.lossPercent = Number(n[1]);
    } else if (key === 'delay' || key === 'jitter') {
      const n = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
      if (!n) throw new Error(`${key}: expected a duration like 30ms or 0.2s, got '${value}'`);
      const msValue = Number(n[1]) * (n[2] === 's' ? 1000 : 1);
      if (msValue > 60_000) throw new Error(`${key}: at most 60 s, got '${value}'`);
      if (key === 'delay') spec.delayMs = msValue;
      else spec.jitterMs = msValue;
    } else {
      throw new Error(`unknown key '${key}' (keys: loss, delay, jitter)`);
    }
  }
  return normalizeLinkSpec(spec);
}

/** "loss 2% delay 30±10 ms" (or "clean" when nothing is impaired). */
export function formatLinkSpec(spec: LinkSpec): string {
  const s = normalizeLinkSpec(spec);
  const parts: string[] = [];
  if (s.lossPercent > 0) parts.push(`loss ${+s.lossPercent.toFixed(3)}%`);
  if (s.delayMs > 0 || s.jitterMs > 0) parts.push(`delay ${+s.delayMs.toFixed(1)}${s.jitterMs > 0 ? `±${+s.jitterMs.toFixed(1)}` : ''} ms`);
  return parts.length > 0 ? parts.join(' ') : 'clean';
}

/** The relay; make one with createLinkRelay(). */
export class LinkRelay {
  private readonly front: dgram.Socket;
  private readonly mappings = new Map<string, Mapping>();
  /** Re-mapped upstream sockets living out their grace. */
  private readonly retired = new Set<{ socket: dgram.Socket; timer: NodeJS.Timeout }>();
  private link: Required<LinkSpec>;
  /** One PRNG per direction (and one for rebind()'s choice): a direction's drops depend only on its own datagrams. */
  private readonly random: { up: () => number; down: () => number; pick: () => number };
  private readonly heap: Pending[] = [];
  private order = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private readonly sweeper: NodeJS.Timeout;
  private blackoutUntil = 0;
  private closed = false;
  private readonly counts = { forwardedUp: 0, forwardedDown: 0, droppedUp: 0, droppedDown: 0, rebinds: 0 };
  private readonly upstreamAddress: string;
  private readonly graceMs: number;
  private readonly idleMs: number;
  private readonly maxClients: number;
  private readonly maxQueued: number;

  /** @internal use createLinkRelay(). */
  constructor(private readonly options: LinkRelayOptions, front: dgram.Socket) {
    this.front = front;
    this.link = normalizeLinkSpec(options.link);
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.random = { up: prng(seed), down: prng(seed ^ 0x5bd1e995), pick: prng(seed ^ 0x27d4eb2f) };
    this.upstreamAddress = LOOPBACK.test(options.target.address) ? '127.0.0.1' : '0.0.0.0';
    this.graceMs = options.rebindGraceMs ?? DEFAULT_GRACE_MS;
    this.idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    this.maxClients = options.maxClients ?? 65_536;
    this.maxQueued = options.maxQueued ?? 1_000_000;
    front.on('message', (data, rinfo) => this.fromClient(data, rinfo));
    front.on('error', () => {}); // a send to a client that went away: nothing to do
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.min(this.idleMs, 30_000)));
    this.sweeper.unref();
  }

  /** The address and port clients send to. */
  address(): { address: string; port: number } {
    const a = this.front.address();
    return { address: a.address, port: a.port };
  }

  get port(): number {
    return this.front.address().port;
  }

  /** Changes the impairment from now on (datagrams already delayed keep their delivery time). */
  setLink(spec: LinkSpec): void {
    this.link = normalizeLinkSpec(spec);
  }

  getLink(): Required<LinkSpec> {
    return { ...this.link };
  }

  /**
   * Re-maps `fraction` (0–1) of the clients to new upstream sockets: the server sees new source
   * ports from then on. The old sockets drop what still arrives for them and close after the grace.
   * Returns how many clients were re-mapped.
   */
  rebind(fraction = 1): number {
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`fraction must be 0–1, got ${fraction}`);
    if (this.closed) return 0;
    const all = [...this.mappings.values()];
    const count = Math.round(all.length * fraction);
    // A seeded partial Fisher–Yates: which clients is as reproducible as the drops.
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.random.pick() * (all.length - i));
      [all[i], all[j]] = [all[j], all[i]];
      const mapping = all[i];
      const old = mapping.upstream;
      old.removeAllListeners('message');
      old.on('message', () => this.counts.droppedDown++);
      const entry = { socket: old, timer: setTimeout(() => this.retire(entry), this.graceMs) };
      entry.timer.unref();
      this.retired.add(entry);
      mapping.upstream = this.openUpstream(mapping);
      mapping.rebinds++;
      this.counts.rebinds++;
    }
    return count;
  }

  /** Drops everything, both ways, for `ms` from now (also what was in flight when it would arrive). */
  blackout(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`blackout needs a duration in ms, got ${ms}`);
    this.blackoutUntil = Math.max(this.blackoutUntil, performance.now() + ms);
  }

  /** True while a blackout lasts. */
  get blackedOut(): boolean {
    return performance.now() < this.blackoutUntil;
  }

  stats(): LinkRelayStats {
    const c = this.counts;
    return { clients: this.mappings.size, forwarded: { up: c.forwardedUp, down: c.forwardedDown }, dropped: { up: c.droppedUp, down: c.droppedDown }, rebinds: c.rebinds };
  }

  /** The client mappings now. */
  clients(): LinkRelayClient[] {
    return [...this.mappings.values()].map((m) => ({ source: m.key, upstreamPort: upstreamPort(m.upstream), rebinds: m.rebinds }));
  }

  /** Closes every socket and cancels every timer and delayed datagram; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
    const sockets: dgram.Socket[] = [this.front];
    for (const m of this.mappings.values()) sockets.push(m.upstream);
    this.mappings.clear();
    for (const entry of this.retired) {
      clearTimeout(entry.timer);
      sockets.push(entry.socket);
    }
    this.retired.clear();
    await Promise.all(sockets.map(closeSocket));
  }

  // ---- the two directions ------------------------------------------------------------------

  private fromClient(data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    const key = `${rinfo.address}:${rinfo.port}`;
    let mapping = this.mappings.get(key);
    if (!mapping) {
      if (this.mappings.size >= this.maxClients) {
        this.counts.droppedUp++;
        return;
      }
      mapping = { key, address: rinfo.address, port: rinfo.port, upstream: undefined as unknown as dgram.Socket, lastSeen: 0, rebinds: 0 };
      mapping.upstream = this.openUpstream(mapping);
      this.mappings.set(key, mapping);
    }
    mapping.lastSeen = performance.now();
    this.impair(true, data, mapping);
  }

  private fromServer(mapping: Mapping, data: Buffer): void {
    if (this.closed) return;
    mapping.lastSeen = performance.now();
    this.impair(false, data, mapping);
  }

  private impair(up: boolean, data: Buffer, mapping: Mapping): void {
    const { lossPercent, delayMs, jitterMs } = this.link;
    const random = up ? this.random.up : this.random.down;
    if (this.blackedOut || (lossPercent > 0 && random() * 100 < lossPercent)) {
      this.drop(up);
      return;
    }
    const delay = jitterMs > 0 ? Math.max(0, delayMs - jitterMs + random() * 2 * jitterMs) : delayMs;
    if (delay <= 0) {
      this.deliver(up, data, mapping);
      return;
    }
    if (this.heap.length >= this.maxQueued) {
      this.drop(up);
      return;
    }
    this.push({ due: performance.now() + delay, order: this.order++, up, data, mapping });
    this.arm();
  }

  private deliver(up: boolean, data: Buffer, mapping: Mapping): void {
    // A datagram whose client mapping is gone (expired, closed) has nowhere to go.
    if (this.closed || this.mappings.get(mapping.key) !== mapping || this.blackedOut) {
      this.drop(up);
      return;
    }
    if (up) {
      this.counts.forwardedUp++;
      mapping.upstream.send(data, this.options.target.port, this.options.target.address);
    } else {
      this.counts.forwardedDown++;
      this.front.send(data, mapping.port, mapping.address);
    }
  }

  private drop(up: boolean): void {
    if (up) this.counts.droppedUp++;
    else this.counts.droppedDown++;
  }

  private openUpstream(mapping: Mapping): dgram.Socket {
    const socket = dgram.createSocket('udp4');
    socket.on('error', () => {}); // ICMP unreachable and the like: the datagram is lost, as on a real path
    socket.on('message', (data) => this.fromServer(mapping, data));
    // Sends before the bind completes are queued by node:dgram.
    socket.bind({ port: 0, address: this.upstreamAddress });
    return socket;
  }

  private retire(entry: { socket: dgram.Socket; timer: NodeJS.Timeout }): void {
    this.retired.delete(entry);
    void closeSocket(entry.socket);
  }

  private sweep(): void {
    const now = performance.now();
    for (const [key, m] of this.mappings) {
      if (now - m.lastSeen < this.idleMs) continue;
      this.mappings.delete(key);
      void closeSocket(m.upstream);
    }
  }

  // ---- the delay queue: a binary min-heap on (due, order), one timer for its head ------------

  private arm(): void {
    const head = this.heap[0];
    if (!head) return;
    if (this.timer && this.timerDue <= head.due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = head.due;
    this.timer = setTimeout(this.flush, Math.max(0, head.due - performance.now()));
  }

  private readonly flush = (): void => {
    this.timer = undefined;
    this.timerDue = Infinity;
    // Timers fire up to ~1 ms late; deliver what is due within half a millisecond.
    const now = performance.now() + 0.5;
    while (this.heap.length > 0 && this.heap[0].due <= now) {
      const p = this.pop()!;
      this.deliver(p.up, p.data, p.mapping);
    }
    this.arm();
  };

  private push(p: Pending): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Pending | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Pending, b: Pending): boolean => a.due < b.due || (a.due === b.due && a.order < b.order);

function upstreamPort(socket: dgram.Socket): number {
  try {
    return socket.address().port;
  } catch {
    return 0; // not bound yet
  }
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** Starts a relay; resolves once its front socket is bound (relay.address() is where clients connect). */
export async function createLinkRelay(options: LinkRelayOptions): Promise<LinkRelay> {
  const { target } = options;
  if (!target || isIP(target.address) !== 4 || !Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new RangeError(`target must be an IPv4 address and a port 1–65535, got ${JSON.stringify(target)}`);
  }
  normalizeLinkSpec(options.link);
  const address = options.listen?.address ?? '127.0.0.1';
  const port = options.listen?.port ?? 0;
  const front = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind({ port, address }, () => {
      front.off('error', reject);
      resolve();
    });
  });
  // Every client's datagrams arrive here: room for bursts (best effort; the kernel may cap it).
  try {
    front.setRecvBufferSize(FRONT_BUFFER_BYTES);
    front.setSendBufferSize(FRONT_BUFFER_BYTES);
  } catch {
    // the default then
  }
  return new LinkRelay(options, front);
}
