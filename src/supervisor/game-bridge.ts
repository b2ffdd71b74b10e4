// Runs on the main thread: the supervisor's side of the game actors — placing an approved peer on
// its actor and routing its records there, what a replacement actor restores, the actors'
// messages (ctx.post, handler errors, logs, ctx.cluster calls), and records set aside.
import { ConnectionState, Err } from '../wire/enums.js';
import { ENetError, GameHandlerError, PlacementError, SetAsideError } from '../wire/errors.js';
import { IN_DISCONNECT } from '../wire/protocol.js';
import { readDisconnect, serverDisconnectReason } from '../wire/records.js';
import { isInt } from '../common/checks.js';
import { encodeAttach, type ActorMessage, type ClusterCall, type SupervisorMessage } from '../game-actor/control.js';
import { REASON_SERVER_ERROR } from './admission.js';
import type { ClusterMember } from '../cluster/member.js';
import type { ENetServerPeer } from './peer.js';
import type { ServerCore } from './core.js';

export class GameBridge {
  /** Records that crashed their actor three times. */
  setAside = 0;

  constructor(
    private readonly core: ServerCore,
    private readonly reject: (peer: ENetServerPeer, reason: string) => void,
    private readonly cluster: () => ClusterMember<ENetServerPeer> | null,
  ) {}

  /** Places the peer on an actor and routes its records there. False: it was rejected instead. */
  place(peer: ENetServerPeer): boolean {
    const running = this.core.running!;
    const actors = running.actors!;
    let actor: number;
    try {
      actor = running.options.placePeer ? running.options.placePeer(peer) : peer.peerId % actors.count;
      if (!isInt(actor, 0, actors.count - 1)) throw new Error(`returned ${String(actor)}, not an actor index 0–${actors.count - 1}`);
    } catch (error) {
      this.core.errors.report(new PlacementError(peer.peerId, (error as Error)?.message ?? String(error), { cause: error }), 'a handler');
      this.reject(peer, REASON_SERVER_ERROR);
      return false;
    }
    const view = {
      peerId: peer.peerId,
      shard: peer.shard,
      slot: peer.slot,
      channels: peer.channels,
      format: peer.format,
      remoteAddress: peer.getRemoteAddress(),
      remotePort: peer.getRemotePort(),
      customData: peer.getCustomData(),
    };
    let attach: Uint8Array;
    try {
      attach = encodeAttach(view);
    } catch (error) {
      this.core.errors.report(new PlacementError(peer.peerId, `its custom data cannot be cloned to game actor ${actor} (${(error as Error).message}); the actor sees customData null`, { cause: error }), 'a handler');
      attach = encodeAttach({ ...view, customData: null });
    }
    peer.actor = actor;
    peer.routing = true;
    peer.attach = attach;
    running.directory!.set({ shard: peer.shard, slot: peer.slot, peerId: peer.peerId, channels: peer.channels, format: peer.format, actor });
    const shard = running.shards[peer.shard];
    shard.link.out.route(shard.host, peer.slot, peer.peerId, actor + 1, attach);
    return true;
  }

  /** What a replacement of actor `id` restores: the peers placed there. */
  attachViewsOf(id: number): Uint8Array[] {
    const views: Uint8Array[] = [];
    for (const peer of this.core.peers.values()) {
      if (peer.actor === id && peer.attach && peer.state === ConnectionState.STATE_AUTHENTICATED) views.push(peer.attach);
    }
    return views;
  }

  readonly onActorMessage = (id: number, message: ActorMessage): void => {
    switch (message.type) {
      case 'post':
        this.core.emit('actorMessage', id, message.message);
        return;
      case 'handlerError':
        this.core.errors.report(new GameHandlerError(id, message.handler, message.peerId, message.message, message.stack), 'a handler');
        return;
      case 'log': {
        const logger = this.core.running?.options.logger ?? console;
        if (message.level === 'warn') logger.warn(`enet-actor-server: ${message.message}`);
        else logger.error(`enet-actor-server: ${message.message}`);
        return;
      }
      case 'ready':
        return;
      case 'cluster':
        void this.onClusterCall(id, message.id, message.call);
        return;
    }
  };

  /** ctx.cluster: run on the main thread's cluster member, answered to the actor. */
  private async onClusterCall(actorId: number, callId: number, call: ClusterCall): Promise<void> {
    let reply: SupervisorMessage;
    try {
      const cluster = this.cluster();
      if (!cluster) throw new ENetError(Err.ERR_UNCONFIGURED, 'ctx.cluster needs a server started with options.cluster');
      reply = { type: 'clusterReply', id: callId, err: await cluster.runActorCall(call) };
    } catch (error) {
      const code = error instanceof ENetError ? error.code : Err.FAILED;
      reply = { type: 'clusterReply', id: callId, error: { code, message: (error as Error)?.message ?? String(error) } };
    }
    this.core.running?.actors?.postTo(actorId, reply);
  }

  onSetAside(id: number, record: Uint8Array, peerId: number): void {
    this.setAside++;
    const kind = record[0];
    const error = new SetAsideError(id, peerId, kind);
    (this.core.running?.options.logger ?? console).error(`enet-actor-server: ${error.message}`);
    this.core.errors.report(error, 'a handler');
    // A disconnect its actor never passed on: the supervisor learns of it here.
    if (kind === IN_DISCONNECT) {
      const peer = this.core.peers.get(peerId);
      if (!peer) return;
      const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
      this.core.removePeer(peer, peer.pendingReason ?? serverDisconnectReason(readDisconnect(record, view, 0, record.length)));
    }
  }
}
