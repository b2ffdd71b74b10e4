// Runs on the main thread: the supervisor's half of sessions (docs/protocol.md "Sessions") — tokens,
// the seat held while a peer is dropped, the resume handshake (token check, export from the old
// connection's shard, resume on the new one), and the ends (window over, outbox overflowed, refused).
// The outbox and the numbering live in native; this part decides.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ConnectionState, PacketType } from '../wire/enums.js';
import { DISCONNECT_LATER, FLAG_GONE } from '../wire/protocol.js';
import { decodePacket, makeEvent, splitEvent } from '../wire/codec/index.js';
import { REASON_CONNECTION_LOST } from '../wire/records.js';
import { RESUMED_EVENT, RESUME_EVENT, SESSION_EVENT, SESSION_EXPIRED } from '../wire/conventions.js';
import type { ENetServerPeer } from './peer.js';
import type { ServerCore } from './core.js';
import type { Shard } from './shards.js';

/** Bytes of a token: 128 random bits. */
const TOKEN_BYTES = 16;

/** A resume under way: the new connection's peer, and what the client said it received. */
interface PendingResume {
  connection: ENetServerPeer;
  session: ENetServerPeer;
  counts: number[];
  /** The token the client presented (valid again if this resume never happens), and the one it gets. */
  presented: string;
  /** 'exporting' until IN_SESSION_EXPORTED, then 'resuming' until IN_SESSION_RESUMED. */
  stage: 'exporting' | 'resuming';
  token: string;
}

export class Sessions {
  resumed = 0;
  expired = 0;
  refused = 0;
  /** Connections that came to resume (RESUME_MAGIC), by their temporary peer id, until they did or were refused. */
  readonly connecting = new Map<number, ENetServerPeer>();
  private readonly byToken = new Map<string, ENetServerPeer>();
  /** Resumes waiting for their session's export, by the session's peer id. */
  private readonly pending = new Map<number, PendingResume>();

  constructor(private readonly core: ServerCore) {}

  private get windowMs(): number {
    return this.core.running?.options.resume.windowMs ?? 0;
  }

  /** A new server run. */
  reset(): void {
    this.resumed = 0;
    this.expired = 0;
    this.refused = 0;
    this.connecting.clear();
    this.byToken.clear();
    this.pending.clear();
  }

  heldCount(): number {
    return this.byToken.size;
  }

  /**
   * The peer is approved: a session-aware client gets its token (`_session`, the approval it waits
   * for); a client that asked only for the approval gets an empty token.
   */
  grant(peer: ENetServerPeer): void {
    const running = this.core.running;
    if (!running || peer.sessionKind === undefined) return;
    let token = '';
    if (peer.sessionKind === 'session' && this.windowMs > 0) {
      token = randomBytes(TOKEN_BYTES).toString('base64url');
      peer.sessionToken = token;
      this.byToken.set(token, peer);
    }
    running.engine.sendNotice(peer, makeEvent(SESSION_EVENT, { token, windowMs: token ? this.windowMs : 0 }), true);
  }

  /** IN_DROPPED: the connection broke; an approved seat is held for the window, anything else ends now. */
  onDropped(peer: ENetServerPeer, reason: string, shard: Shard): void {
    const running = this.core.running;
    if (!running) return;
    if (peer.resuming) {
      const pending = this.pending.get(peer.peerId);
      // Its old connection timed out while the export was on its way: the export takes the session
      // all the same (detached), and the resume goes on.
      if (pending?.stage === 'exporting') return;
      // The connection that came to resume it went away before it could (native kept the seat): held again.
      this.pending.delete(peer.peerId);
      peer.resuming = false;
      // Native kept the session where it was to resume (this shard): sends to it go there now.
      peer.moveTo(shard.id, peer.slot, peer.channels, peer.getRemoteAddress(), peer.getRemotePort(), shard.stats);
      const held = peer.held;
      peer.held = [];
      for (const { bytes, channel } of held) running.engine.sendBytes(peer, bytes, channel, true);
      if (pending) {
        // The client's next attempt presents the same token: it is valid again.
        peer.sessionToken = pending.presented;
        this.byToken.set(pending.presented, peer);
      }
    } else if (peer.dropped) {
      return;
    } else if (peer.state !== ConnectionState.STATE_AUTHENTICATED || peer.sessionToken === '') {
      this.end(peer);
      return;
    }
    const wasDropped = peer.dropped;
    peer.dropped = true;
    clearTimeout(peer.windowTimer);
    peer.windowTimer = setTimeout(() => {
      peer.windowTimer = undefined;
      if (!peer.dropped || peer.resuming) return;
      this.expired++;
      this.end(peer);
    }, this.windowMs);
    peer.windowTimer.unref();
    if (!wasDropped) this.core.emit('peerDropped', peer, reason || REASON_CONNECTION_LOST);
  }

  /** IN_SESSION_OVERFLOW: what waits for the peer outgrew resume.outboxBytes — the seat ends. */
  onOverflow(peer: ENetServerPeer): void {
    this.core.running?.options.logger.warn(`enet-actor-server: peer ${peer.peerId}'s session outbox overflowed (resume.outboxBytes); its session ends`);
    this.expired++;
    this.end(peer); // dropped: the seat ends; connected: it goes on without a session
  }

  /**
   * Ends a session in native: a dropped peer's IN_DISCONNECT ("Connection lost") follows; an attached
   * one only loses its ability to resume.
   */
  end(peer: ENetServerPeer): void {
    const running = this.core.running;
    this.forget(peer);
    if (!running) return;
    const shard = running.shards[peer.shard];
    shard.link.out.sessionEnd(shard.host, peer.slot, peer.peerId);
  }

  /** The peer is gone or its session over: its token is no longer valid. */
  forget(peer: ENetServerPeer): void {
    if (peer.sessionToken !== '' && this.byToken.get(peer.sessionToken) === peer) this.byToken.delete(peer.sessionToken);
    peer.sessionToken = '';
    clearTimeout(peer.windowTimer);
    peer.windowTimer = undefined;
  }

  // ---- resuming -------------------------------------------------------------------------------

  /** A connection that comes to resume: nothing is emitted for it; its first packet must be `_resume`. */
  onResumeConnection(connection: ENetServerPeer, timeoutMs: number): void {
    this.connecting.set(connection.peerId, connection);
    connection.authTimer = setTimeout(() => {
      connection.authTimer = undefined;
      if (this.connecting.get(connection.peerId) === connection && !connection.loginReceived) this.refuse(connection);
    }, timeoutMs);
    connection.authTimer.unref();
  }

  /** The first packet of a resuming connection. */
  onResumePacket(connection: ENetServerPeer, data: Buffer): void {
    if (connection.loginReceived) return; // one request per connection; later packets wait for the answer
    connection.loginReceived = true;
    clearTimeout(connection.authTimer);
    connection.authTimer = undefined;
    let request: { name: string; payload: Record<string, unknown> } | null = null;
    try {
      if (data[0] === PacketType.MSGPACK || data[0] === PacketType.VARIANT || data[0] === PacketType.DICTIONARY) {
        request = splitEvent(decodePacket(data, this.core.running!.limits));
      }
    } catch {
      request = null;
    }
    const token = request?.name === RESUME_EVENT && typeof request.payload.token === 'string' ? request.payload.token : '';
    const session = this.find(token);
    if (!session || session.resuming || !this.core.peers.isLive(session)) {
      this.refuse(connection);
      return;
    }
    const counts = Array.isArray(request!.payload.c) ? (request!.payload.c as unknown[]).map((n) => (Number.isInteger(n) && (n as number) >= 0 ? (n as number) : 0)) : [];
    // Single use: the token is spent now, whatever happens next.
    this.byToken.delete(token);
    session.sessionToken = '';
    session.resuming = true;
    clearTimeout(session.windowTimer);
    session.windowTimer = undefined;
    this.pending.set(session.peerId, { connection, session, counts, presented: token, token: randomBytes(TOKEN_BYTES).toString('base64url'), stage: 'exporting' });
    const shard = this.core.running!.shards[session.shard];
    shard.link.out.sessionExport(shard.host, session.slot, session.peerId);
  }

  /** IN_SESSION_EXPORTED: the session left its old connection; the new one takes it. */
  onExported(peerId: number, flags: number): void {
    const pending = this.pending.get(peerId);
    if (!pending) return;
    if (flags & FLAG_GONE) {
      this.pending.delete(peerId);
      pending.session.resuming = false;
      pending.session.held = [];
      this.refuse(pending.connection);
      this.core.removePeer(pending.session, REASON_CONNECTION_LOST);
      return;
    }
    const running = this.core.running!;
    const { connection, session, counts } = pending;
    pending.stage = 'resuming';
    const shard = running.shards[connection.shard];
    shard.link.out.sessionResume(shard.host, connection.slot, connection.peerId, session.peerId, counts);
  }

  /** IN_SESSION_RESUMED: the seat is on its new connection; tell the client what we have. */
  onResumed(shard: Shard, slot: number, peerId: number, temporaryPeerId: number, counts: number[], flags: number): void {
    const pending = this.pending.get(peerId);
    if (!pending) return;
    this.pending.delete(peerId);
    const { connection, session, token } = pending;
    this.connecting.delete(temporaryPeerId);
    const running = this.core.running!;
    if (flags & FLAG_GONE) {
      session.resuming = false;
      session.held = [];
      this.refuse(connection);
      this.core.removePeer(session, REASON_CONNECTION_LOST);
      return;
    }
    const directory = running.directory;
    if (directory && session.actor >= 0) directory.clear(session.shard, session.slot, session.peerId);
    session.moveTo(shard.id, slot, connection.channels, connection.getRemoteAddress(), connection.getRemotePort(), shard.stats);
    if (directory && session.actor >= 0) {
      directory.set({ shard: session.shard, slot: session.slot, peerId: session.peerId, channels: session.channels, format: session.format, actor: session.actor });
    }
    session.dropped = false;
    session.resuming = false;
    this.applyTimeout(session); // the new connection got the server's peerTimeout at its CONNECT
    session.sessionToken = token;
    this.byToken.set(token, session);
    this.resumed++;
    running.engine.sendNotice(session, makeEvent(RESUMED_EVENT, { token, c: counts }), true);
    // What the main thread sent while the seat moved, in order, after what native sent again.
    const held = session.held;
    session.held = [];
    for (const { bytes, channel } of held) running.engine.sendBytes(session, bytes, channel, true);
    this.core.emit('peerResumed', session);
  }

  /** The peer's own ENet timeout (peer.setTimeout), if it has one, on its connection now (OUT_SET_TIMEOUT). */
  applyTimeout(peer: ENetServerPeer): void {
    const shard = this.core.running?.shards[peer.shard];
    const t = peer.peerTimeout;
    if (shard && t) shard.link.out.setPeerTimeout(shard.host, peer.slot, peer.peerId, t.limit, t.minimumMs, t.maximumMs);
  }

  /** The resuming connection is told "Session expired" and let go; nothing is emitted for it. */
  private refuse(connection: ENetServerPeer): void {
    this.refused++;
    this.core.disconnect(connection, SESSION_EXPIRED, DISCONNECT_LATER);
  }

  /** The seat a token names, compared in constant time. */
  private find(token: string): ENetServerPeer | undefined {
    if (token.length === 0) return undefined;
    const candidate = this.byToken.get(token);
    if (!candidate) return undefined;
    const a = Buffer.from(candidate.sessionToken);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b) ? candidate : undefined;
  }
}
