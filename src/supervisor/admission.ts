// Runs on the main thread: who gets in. A connecting peer's way to STATE_AUTHENTICATED (the
// authentication mode, the login packet, the authenticator's verdict, the authentication timer),
// its refusals (server full, rejections, bans of addresses whose logins keep failing), and the
// kicks the native guard asks for (packet too large, rate limit).
import { AuthMode, AuthState, ConnectionState, PacketFormat, PacketType } from '../wire/enums.js';
import { APPROVAL_MAGIC, DISCONNECT_LATER, DISCONNECT_NOW, KICK_PACKET_TOO_LARGE, RESUME_MAGIC, SESSION_MAGIC, ipv4ToBytes } from '../wire/protocol.js';
import { decodePacket } from '../wire/codec/index.js';
import { isPlainObject } from '../common/send-engine.js';
import { isThenable } from '../common/error-reporter.js';
import { DEFAULT_AUTH_TIMEOUT_S } from '../wire/defaults.js';
import { ENetServerPeer } from './peer.js';
import type { ServerCore } from './core.js';
import type { ConnectRecord } from '../wire/records.js';
import type { Shard } from './shards.js';
import type { CustomAuthenticator } from './events.js';
import type { PeerOwner } from './symbols.js';

export const REASON_AUTH_FAILED = 'Authentication failed';
export const REASON_AUTH_TIMEOUT = 'Authentication timeout';
export const REASON_BAD_LOGIN = 'Invalid authentication packet format';
export const REASON_SERVER_ERROR = 'Server error';
export const REASON_PACKET_TOO_LARGE = 'Packet too large';
export const REASON_RATE_LIMIT = 'Rate limit exceeded';
export const REASON_SERVER_FULL = 'Server full';
/** Addresses whose recent authentication failures are remembered (oldest forgotten first). */
const AUTH_FAILURE_ADDRESSES = 10_000;

export class Admission {
  authMode = AuthMode.AUTH_NONE;
  authTimeout = DEFAULT_AUTH_TIMEOUT_S;
  authenticator: CustomAuthenticator | undefined;
  /** Peers past maxPeers that a shard with free slots let in (several shards), sent away. */
  refusedFull = 0;
  kicked = { packetTooLarge: 0, rateLimit: 0 };
  /** Recent authentication failures by address (authFailureLimit). */
  private readonly authFailures = new Map<string, number[]>();

  /**
   * `place`: puts an approved peer on its game actor (src/supervisor/game-bridge.ts); false when it
   * was rejected instead. `owner`: what the ENetServerPeer objects call back into.
   */
  constructor(
    private readonly core: ServerCore,
    private readonly owner: PeerOwner,
    private readonly place: (peer: ENetServerPeer) => boolean,
  ) {}

  /** A new server run: the counters start again. */
  reset(): void {
    this.refusedFull = 0;
    this.kicked = { packetTooLarge: 0, rateLimit: 0 };
    this.authFailures.clear();
  }

  onConnect(shard: Shard, peerId: number, slot: number, connect: ConnectRecord): void {
    const running = this.core.running!;
    const peer = new ENetServerPeer(this.owner, peerId, shard.id, slot, connect.channels, connect.address, connect.port, shard.stats, running.options.packetFormat);
    // docs/protocol.md "Sessions": our ENetClient says in its connect data what it speaks.
    if (connect.data === RESUME_MAGIC) {
      // It comes to take a held seat over: no admission, its first packet decides.
      this.core.sessions.onResumeConnection(peer, (this.authTimeout > 0 ? this.authTimeout : 10) * 1000);
      return;
    }
    let data = connect.data;
    if (data === SESSION_MAGIC || data === APPROVAL_MAGIC) {
      peer.sessionKind = data === SESSION_MAGIC ? 'session' : 'approval';
      data = 0;
    }
    if (this.core.peers.size >= running.maxPeers) {
      // Shards have room beyond their share (the kernel spreads peers unevenly): maxPeers holds here.
      this.refusedFull++;
      this.core.disconnect(peer, REASON_SERVER_FULL, DISCONNECT_LATER);
      return;
    }
    this.core.peers.add(peer);
    this.core.emit('peerConnecting', peer, data);
    if (peer.state !== ConnectionState.STATE_CONNECTING) return; // rejected or approved by a handler
    if (this.authMode === AuthMode.AUTH_NONE) {
      this.authenticate(peer);
      return;
    }
    peer.state = ConnectionState.STATE_PRELOGIN;
    if (this.authTimeout > 0) {
      peer.authTimer = setTimeout(() => {
        peer.authTimer = undefined;
        if (peer.authState === AuthState.AUTH_PENDING && peer.state === ConnectionState.STATE_PRELOGIN) {
          this.reject(peer, REASON_AUTH_TIMEOUT);
        }
      }, this.authTimeout * 1000);
      peer.authTimer.unref();
    }
  }

  /** The first packet of a peer in STATE_PRELOGIN: its login dictionary. */
  onLoginPacket(peer: ENetServerPeer, data: Buffer): void {
    peer.loginReceived = true;
    let login: unknown;
    try {
      login = decodePacket(data, this.core.running!.limits);
    } catch {
      login = undefined;
    }
    if (!isPlainObject(login)) {
      this.reject(peer, REASON_BAD_LOGIN);
      return;
    }
    if (data[0] === PacketType.VARIANT || data[0] === PacketType.DICTIONARY) peer.format = PacketFormat.GODOT;
    const authenticator = this.authenticator;
    if (this.authMode !== AuthMode.AUTH_CUSTOM || !authenticator) {
      this.core.emit('peerPrelogin', peer, login);
      return;
    }
    let verdict: unknown;
    try {
      verdict = authenticator(peer, login);
    } catch (error) {
      this.core.errors.report(error, 'the authenticator');
      verdict = false;
    }
    if (isThenable(verdict)) {
      verdict.then(
        (result) => this.applyVerdict(peer, result),
        (error: unknown) => {
          this.core.errors.report(error, 'the authenticator');
          this.applyVerdict(peer, false);
        },
      );
    } else {
      this.applyVerdict(peer, verdict);
    }
  }

  /** `true` approves, `false` rejects, `undefined` leaves it to the authenticator's own calls. */
  private applyVerdict(peer: ENetServerPeer, verdict: unknown): void {
    if (peer.authState !== AuthState.AUTH_PENDING || peer.state !== ConnectionState.STATE_PRELOGIN) return;
    if (verdict === true) this.authenticate(peer);
    else if (verdict === undefined) return;
    else {
      if (verdict !== false) this.core.running?.options.logger.warn(`enet-actor-server: the authenticator returned ${typeof verdict}; expected true, false or undefined — rejecting peer ${peer.peerId}`);
      this.reject(peer, REASON_AUTH_FAILED);
    }
  }

  authenticate(peer: ENetServerPeer): void {
    if (peer.state !== ConnectionState.STATE_CONNECTING && peer.state !== ConnectionState.STATE_PRELOGIN) return;
    if (this.core.peers.get(peer.peerId) !== peer) return;
    clearTimeout(peer.authTimer);
    peer.authTimer = undefined;
    if (this.core.running?.actors && !this.place(peer)) return;
    peer.state = ConnectionState.STATE_AUTHENTICATED;
    peer.authState = AuthState.AUTH_APPROVED;
    this.core.sessions.grant(peer);
    this.core.emit('peerAuthenticated', peer);
  }

  reject(peer: ENetServerPeer, reason: string): void {
    if (peer.state === ConnectionState.STATE_DISCONNECTING) return;
    if (peer.state !== ConnectionState.STATE_AUTHENTICATED) this.countAuthFailure(peer);
    peer.authState = AuthState.AUTH_REJECTED;
    this.core.disconnect(peer, String(reason ?? ''), DISCONNECT_LATER);
  }

  /** The native guard found a peer sending a packet over maxPacketSize or over its rate limit. */
  kickAbusive(peer: ENetServerPeer, cause: number): void {
    const tooLarge = cause === KICK_PACKET_TOO_LARGE;
    const reason = tooLarge ? REASON_PACKET_TOO_LARGE : REASON_RATE_LIMIT;
    if (tooLarge) this.kicked.packetTooLarge++;
    else this.kicked.rateLimit++;
    this.core.errors.log(new Error(`peer ${peer.peerId} (${peer.getRemoteAddress()}:${peer.getRemotePort()}) disconnected: ${reason}`), 'the guard');
    // A flooder's acknowledgements drown with its flood (its datagrams are dropped): waiting for
    // them (DISCONNECT_LATER) could take seconds. It is dropped at once instead.
    this.core.disconnect(peer, reason, tooLarge ? DISCONNECT_LATER : DISCONNECT_NOW);
  }

  /** authFailureLimit: an address whose peers keep failing authentication is refused for a while. */
  private countAuthFailure(peer: ENetServerPeer): void {
    const running = this.core.running;
    const limit = running?.options.authFailureLimit;
    if (!running || !limit) return;
    const address = peer.getRemoteAddress();
    const now = Date.now();
    const recent = (this.authFailures.get(address) ?? []).filter((at) => now - at < limit.windowMs);
    recent.push(now);
    if (recent.length < limit.failures) {
      if (!this.authFailures.has(address) && this.authFailures.size >= AUTH_FAILURE_ADDRESSES) {
        this.authFailures.delete(this.authFailures.keys().next().value!);
      }
      this.authFailures.set(address, recent);
      return;
    }
    this.authFailures.delete(address);
    for (const shard of running.shards) shard.link.out.ban(shard.host, ipv4ToBytes(address), limit.banMs);
    this.core.errors.log(new Error(`${address}: ${recent.length} failed logins within ${limit.windowMs} ms, refused for ${limit.banMs} ms`), 'authFailureLimit');
  }
}
