// The game-logic module contract (README "Writing game logic"). A module's default export comes
// from defineGameLogic({...}); it is loaded in every game actor, each a thread of a Piscina pool.
// Types only, plus the identity function that gives a module written in TypeScript its types.
import type { Err } from '../wire/enums.js';

/** A peer as a game actor sees it: a plain view, not the supervisor's ENetServerPeer. */
export interface GamePeer {
  readonly peerId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** A structured clone of `peer.getCustomData()` as it was when the peer was authenticated. */
  readonly customData: unknown;
}

/** What a handler may do. Sends go straight into this actor's outbound ring (no main-thread hop). */
export interface GameContext {
  /** This actor's index, 0..gameActors-1. */
  readonly actorId: number;
  send(peerId: number, packet: unknown, channel?: number, reliable?: boolean): Err;
  /** Bytes go on the wire as they are, without a type byte. */
  sendRaw(peerId: number, bytes: Uint8Array, channel?: number, reliable?: boolean): Err;
  /** Every authenticated peer of the server (on any actor), less `exclude`. */
  sendToAll(packet: unknown, channel?: number, reliable?: boolean, exclude?: readonly number[]): Err;
  sendToMultiple(peerIds: readonly number[], packet: unknown, channel?: number, reliable?: boolean): Err;
  triggerEvent(peerId: number, name: string, payload?: Record<string, unknown>, channel?: number, reliable?: boolean): Err;
  triggerEventToAll(name: string, payload?: Record<string, unknown>, channel?: number, reliable?: boolean, exclude?: readonly number[]): Err;
  /** Disconnects the peer (any actor's) with `reason`, as `ENetServer.kickPeer`. */
  kick(peerId: number, reason?: string): Err;
  /** → the supervisor's `'actorMessage'(actorId, message)` (structured clone). */
  post(message: unknown): void;
  /** Ids of the peers placed on this actor. */
  peers(): number[];
  /**
   * The fleet (options.cluster), through the supervisor's cluster member: the packet is encoded
   * here, the Redis call made on the main thread. Without a cluster the calls reject with ENetError
   * ERR_UNCONFIGURED; while Redis is down, ERR_UNAVAILABLE (as server.cluster's).
   */
  readonly cluster: GameCluster;
}

export interface GameCluster {
  sendTo(identity: string, packet: unknown, channel?: number, reliable?: boolean): Promise<Err>;
  broadcast(packet: unknown, channel?: number, reliable?: boolean, excludeIdentities?: readonly string[]): Promise<void>;
  publish(topic: string, message: unknown): Promise<void>;
}

type MaybePromise<T> = T | Promise<T>;

export interface GameLogic {
  /** onTick calls per second; 0 (the default) = no ticks. */
  tickRate?: number;
  /** Runs when the actor starts, and again in its replacement after a crash. */
  onStart?(ctx: GameContext): MaybePromise<void>;
  onPeerAuthenticated?(peer: GamePeer, ctx: GameContext): MaybePromise<void>;
  /** Packets that are not custom events listed in `events`. Without it they go to the supervisor's signals. */
  onPacket?(peer: GamePeer, packet: unknown, channel: number, ctx: GameContext): MaybePromise<void>;
  /** Custom events by name; names not listed go to the supervisor's signals. */
  events?: Record<string, (peer: GamePeer, payload: Record<string, unknown>, channel: number, ctx: GameContext) => MaybePromise<void>>;
  onPeerDisconnected?(peer: GamePeer, reason: string, ctx: GameContext): MaybePromise<void>;
  /** `dtSeconds`: time since the previous tick (a slow tick delays the next; ticks never pile up). */
  onTick?(dtSeconds: number, ctx: GameContext): MaybePromise<void>;
}

/** Declares a game-logic module: `export default defineGameLogic({ ... })`. */
export function defineGameLogic<T extends GameLogic>(logic: T): T {
  return logic;
}
