// Runs on the main thread: the records every shard's net actor (and the game actors, relayed) send
// to the supervisor, dispatched by kind — connects to admission, packets to admission (a login) or
// to the packet-events dispatcher (signals), routes taking effect, disconnects, the guard's kicks.
import { ConnectionState, PacketFormat } from '../wire/enums.js';
import {
  FLAG_RELAYED,
  IN_CONNECT,
  IN_DISCONNECT,
  IN_DROPPED,
  IN_ERROR,
  IN_KICK_REQUEST,
  IN_RECEIVE,
  IN_ROUTED,
  IN_SESSION_EXPORTED,
  IN_SESSION_OVERFLOW,
  IN_SESSION_RESUMED,
} from '../wire/protocol.js';
import {
  readConnect,
  readDisconnect,
  readErrorCode,
  readKickCause,
  recordBody,
  recordChannel,
  recordFlags,
  recordKind,
  recordPeerId,
  recordSlot,
  readSessionResumed,
  serverDisconnectReason,
} from '../wire/records.js';
import type { PacketEvents, PacketSignals } from '../common/packet-events.js';
import type { Admission } from './admission.js';
import type { ServerCore } from './core.js';
import type { ENetServerPeer } from './peer.js';
import type { Shard } from './shards.js';

export class Inbound {
  /** Packets that did not decode. */
  malformed = 0;
  /** Packets of peers not (yet) authenticated, dropped. */
  droppedUnauthenticated = 0;

  constructor(
    private readonly core: ServerCore,
    private readonly admission: Admission,
    private readonly events: PacketEvents<[ENetServerPeer]>,
  ) {}

  reset(): void {
    this.malformed = 0;
    this.droppedUnauthenticated = 0;
  }

  readonly onRecord = (shard: Shard, bytes: Uint8Array, offset: number, length: number): void => {
    if (!this.core.running) return;
    const view = shard.link.inbound.view;
    const peerId = recordPeerId(view, offset);
    try {
      switch (recordKind(bytes, offset)) {
        case IN_RECEIVE: {
          const peer = this.core.peers.get(peerId);
          if (!peer) {
            const resuming = this.core.sessions.connecting.get(peerId);
            if (resuming) this.core.sessions.onResumePacket(resuming, Buffer.from(recordBody(bytes, offset, length)));
            return;
          }
          const flags = recordFlags(view, offset);
          const channel = recordChannel(bytes, offset);
          if (peer.routing && !(flags & FLAG_RELAYED)) {
            // It reached us before its route took effect: it goes on to its actor, in order.
            shard.link.out.forward(shard.host, peer.slot, peerId, channel, flags, recordBody(bytes, offset, length));
            return;
          }
          // Each packet gets its own copy: the ring's bytes are reused as soon as the batch ends.
          const data = Buffer.from(recordBody(bytes, offset, length));
          if (flags & FLAG_RELAYED) {
            // Its actor did not handle it: the signals, as in main-thread mode.
            if (peer.state === ConnectionState.STATE_AUTHENTICATED) this.onGamePacket(peer, data, channel);
            return;
          }
          this.onPacket(peer, data, channel);
          return;
        }
        case IN_ROUTED: {
          // Everything of this peer that reached us first is forwarded: its held records may follow.
          shard.link.out.routeDone(shard.host, recordSlot(view, offset), peerId);
          const peer = this.core.peers.get(peerId);
          if (peer) peer.routing = false;
          return;
        }
        case IN_CONNECT:
          this.admission.onConnect(shard, peerId, recordSlot(view, offset), readConnect(bytes, view, offset));
          return;
        case IN_DISCONNECT: {
          const peer = this.core.peers.get(peerId);
          if (!peer) {
            // A connection that came to resume and was refused (or went away): nothing to tell.
            const resuming = this.core.sessions.connecting.get(peerId);
            if (resuming) {
              clearTimeout(resuming.authTimer);
              this.core.sessions.connecting.delete(peerId);
            }
            return;
          }
          this.core.removePeer(peer, peer.pendingReason ?? serverDisconnectReason(readDisconnect(bytes, view, offset, length)));
          return;
        }
        case IN_DROPPED: {
          const peer = this.core.peers.get(peerId);
          if (peer) this.core.sessions.onDropped(peer, serverDisconnectReason(readDisconnect(bytes, view, offset, length)), shard);
          return;
        }
        case IN_SESSION_EXPORTED:
          this.core.sessions.onExported(peerId, recordFlags(view, offset));
          return;
        case IN_SESSION_RESUMED: {
          const { temporaryPeerId, counts } = readSessionResumed(view, offset, length);
          this.core.sessions.onResumed(shard, recordSlot(view, offset), peerId, temporaryPeerId, counts, recordFlags(view, offset));
          return;
        }
        case IN_SESSION_OVERFLOW: {
          const peer = this.core.peers.get(peerId);
          if (peer) this.core.sessions.onOverflow(peer);
          return;
        }
        case IN_KICK_REQUEST: {
          const peer = this.core.peers.get(peerId);
          if (peer) this.admission.kickAbusive(peer, readKickCause(view, offset));
          return;
        }
        case IN_ERROR:
          this.core.running.options.logger.error(`enet-actor-server: ENet host service failed (code ${readErrorCode(view, offset)})`);
          return;
      }
    } catch (error) {
      this.core.errors.report(error, 'a handler');
    }
  };

  private onPacket(peer: ENetServerPeer, data: Buffer, channel: number): void {
    if (peer.state === ConnectionState.STATE_AUTHENTICATED) {
      this.onGamePacket(peer, data, channel);
    } else if (peer.state === ConnectionState.STATE_PRELOGIN && !peer.loginReceived) {
      this.admission.onLoginPacket(peer, data);
    } else {
      this.droppedUnauthenticated++;
    }
  }

  private onGamePacket(peer: ENetServerPeer, data: Buffer, channel: number): void {
    this.current = peer;
    this.events.dispatch([peer], data, channel, this.core.running!.limits, this.signals);
  }

  /** The peer whose packet is being dispatched (the signals below act on it before any handler runs). */
  private current: ENetServerPeer | undefined;
  private readonly signals: PacketSignals<[ENetServerPeer]> = {
    emit: (event, ...args) => (this.core.emit as (event: string, ...args: unknown[]) => void)(event, ...args),
    malformed: (error) => this.countMalformed(this.current!, error),
    report: (error, where) => this.core.errors.report(error, where),
    speaksGodot: () => {
      this.current!.format = PacketFormat.GODOT;
    },
  };

  private countMalformed(peer: ENetServerPeer, error: unknown): void {
    this.malformed++;
    if (peer.malformedReported) return;
    peer.malformedReported = true;
    this.core.running?.options.logger.warn(
      `enet-actor-server: dropped a malformed packet from peer ${peer.peerId} (${peer.getRemoteAddress()}:${peer.getRemotePort()}): ${(error as Error)?.message ?? error}; further ones from this peer are counted silently`,
    );
  }
}
