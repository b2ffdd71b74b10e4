import { Err } from './enums.js';

/** An Error that carries the Godot `Error` code it stands for. */
export class ENetError extends Error {
  readonly code: Err;

  constructor(code: Err, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ENetError';
    this.code = code;
  }
}

export type ActorKind = 'net' | 'game';

// The payloads of the supervisor's 'error' event: one class per cause, each with a stable `code`.

/** A game-logic handler threw or its promise rejected. The actor kept running (unless restartOnHandlerError). */
export class GameHandlerError extends Error {
  readonly code = 'ERR_GAME_HANDLER';

  constructor(
    readonly actorId: number,
    readonly handler: string,
    /** The peer the handler ran for; 0 for onStart and onTick. */
    readonly peerId: number,
    message: string,
    stack?: string,
  ) {
    super(`game actor ${actorId}: ${handler}${peerId ? ` (peer ${peerId})` : ''} failed: ${message}`);
    this.name = 'GameHandlerError';
    if (stack) this.stack = `${this.name}: ${this.message}\n    caused by ${stack}`;
  }
}

/** An actor died more often than its restart policy allows; the server stops. */
export class ActorGaveUpError extends Error {
  readonly code = 'ERR_ACTOR_GAVE_UP';

  constructor(
    readonly kind: ActorKind,
    readonly actorId: number,
    readonly lastReason: string,
  ) {
    super(`${kind} actor ${actorId} failed too often (restart intensity exceeded), last: ${lastReason}`);
    this.name = 'ActorGaveUpError';
  }
}

/** options.placePeer threw or returned no valid actor index; the peer was rejected with "Server error". */
export class PlacementError extends Error {
  readonly code = 'ERR_PLACEMENT';

  constructor(
    readonly peerId: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`placePeer for peer ${peerId}: ${message}`, options);
    this.name = 'PlacementError';
  }
}

/** A record that was in hand at three deaths of its game actor was set aside (not handled). */
export class SetAsideError extends Error {
  readonly code = 'ERR_SET_ASIDE';

  constructor(
    readonly actorId: number,
    readonly peerId: number,
    readonly kind: number,
  ) {
    super(`game actor ${actorId} died 3 times handling a record (kind ${kind}) of peer ${peerId}: set aside`);
    this.name = 'SetAsideError';
  }
}
