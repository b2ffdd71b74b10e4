// The game-logic module contract (README "Writing game logic"). A module's default export comes
// from defineGameLogic({...}); it is loaded in every game actor, each a thread of a Piscina pool.
// Types, defineGameLogic (which gives a module written in TypeScript its types and marks the
// definition), and the checks a game actor runs on the module before anything else
// (checkGameLogicModule, startGameLogic): a module that cannot work fails createServer() at once,
// naming the module, the reason and, where there is one, file:line.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  /**
   * With ticks: hand this actor its packets once per tick, just before `onTick` (the handlers run
   * for everything that arrived since the previous tick), instead of as they arrive. The actor then
   * sleeps between ticks: one wake-up per tick instead of one per burst of arrivals (README "Sizing
   * a server"). For games that apply inputs at the tick anyway; a handler's answer waits for the tick.
   * What arrives between ticks waits in the actor's ring (`ringBytes`, 8 MiB by default: ~200,000 game
   * inputs); a ring that fills holds its net actor back until the tick, as any full ring does.
   */
  deliverAtTick?: boolean;
  /** Runs when the actor starts, and again in its replacement after a crash. */
  onStart?(ctx: GameContext): MaybePromise<void>;
  onPeerAuthenticated?(peer: GamePeer, ctx: GameContext): MaybePromise<void>;
  /** Packets that are not custom events listed in `events`. Without it they go to the supervisor's signals. */
  onPacket?(peer: GamePeer, packet: unknown, channel: number, ctx: GameContext): MaybePromise<void>;
  /** Custom events by name; names not listed go to the supervisor's signals. */
  events?: Record<string, (peer: GamePeer, payload: Record<string, unknown>, channel: number, ctx: GameContext) => MaybePromise<void>>;
  onPeerDisconnected?(peer: GamePeer, reason: string, ctx: GameContext): MaybePromise<void>;
  /**
   * Sessions (README "Sessions"): the peer's connection broke and its seat is held; it stays on this
   * actor, and what is sent to it meanwhile waits in its outbox. Keep its state.
   */
  onPeerDropped?(peer: GamePeer, reason: string, ctx: GameContext): MaybePromise<void>;
  /** Sessions: the peer came back on a new connection; what it missed has been sent again. */
  onPeerResumed?(peer: GamePeer, ctx: GameContext): MaybePromise<void>;
  /** `dtSeconds`: time since the previous tick (a slow tick delays the next; ticks never pile up). */
  onTick?(dtSeconds: number, ctx: GameContext): MaybePromise<void>;
}

/**
 * Every name a definition may have (GameLogic's fields): anything else is refused as a typo
 * (`onPackets`). The compiler keeps this list and GameLogic in step.
 */
const HANDLERS: Record<keyof GameLogic, 'number' | 'boolean' | 'function' | 'events'> = {
  tickRate: 'number',
  deliverAtTick: 'boolean',
  onStart: 'function',
  onPeerAuthenticated: 'function',
  onPacket: 'function',
  events: 'events',
  onPeerDisconnected: 'function',
  onPeerDropped: 'function',
  onPeerResumed: 'function',
  onTick: 'function',
};
export const GAME_LOGIC_HANDLERS: readonly string[] = Object.freeze(Object.keys(HANDLERS));

/** Named exports a game-logic module may have beside its default (the CLI installs `authenticate`). */
export const GAME_LOGIC_EXPORTS: readonly string[] = Object.freeze(['default', 'authenticate']);

/** Marks what defineGameLogic returned (Symbol.for: the same mark whichever copy of the package made it). */
const DEFINED = Symbol.for('enet-actor-server.defineGameLogic');

/** Declares a game-logic module: `export default defineGameLogic({ ... })`. */
export function defineGameLogic<T extends GameLogic>(logic: T): T {
  if (logic !== null && typeof logic === 'object' && Object.isExtensible(logic) && !Object.hasOwn(logic, DEFINED)) {
    Object.defineProperty(logic, DEFINED, { value: true, enumerable: false });
  }
  return logic;
}

/** A game-logic module that cannot work: its message names the module and the reason (and file:line). */
export class GameLogicModuleError extends Error {
  override name = 'GameLogicModuleError';
}

const pathOf = (url: string): string => (url.startsWith('file:') ? fileURLToPath(url) : url);

/** `file:line` of the first frame of an error's stack that is not Node's own, if any. */
export function errorLocation(error: unknown): string | undefined {
  const stack = error instanceof Error ? String(error.stack ?? '') : '';
  // A SyntaxError at link time starts its stack with "file:///x.mjs:3" and the offending line.
  const head = /^((?:file:\/\/|\/)[^\n]*?):(\d+)\n/.exec(stack);
  if (head) return `${pathOf(head[1])}:${head[2]}`;
  for (const line of stack.split('\n').slice(1)) {
    const frame = /[\s(]((?:file:\/\/|\/)[^\s()]+?):(\d+):\d+\)?\s*$/.exec(line);
    if (frame && !frame[1].includes('/dist/game-actor/')) return `${pathOf(frame[1])}:${frame[2]}`;
  }
  return undefined;
}

/** Where `node --check` finds a syntax error in the file (bounded: 10 s), or undefined. */
function syntaxLocation(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--check', file], { timeout: 10_000, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      const at = /^(\/[^\n]*?|file:\/\/[^\n]*?):(\d+)\s*$/m.exec(stderr);
      resolve(at ? `${pathOf(at[1])}:${at[2]}` : undefined);
    });
  });
}

/**
 * Imports a game-logic module (a file: URL or path) and checks it: a default export made by
 * defineGameLogic, whose names are all known ones (GAME_LOGIC_HANDLERS) with values of the right
 * kind. Resolves with the definition; rejects with a GameLogicModuleError naming the module, the
 * reason and, for errors while loading it (syntax errors included), file:line.
 */
export async function checkGameLogicModule(url: string): Promise<GameLogic> {
  const file = pathOf(url);
  const fail = (reason: string): never => {
    throw new GameLogicModuleError(`game-logic module ${file}: ${reason}`);
  };
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    let at = errorLocation(e);
    if (!at && e.name === 'SyntaxError') at = (await syntaxLocation(file)) ?? '(in a module it imports)';
    const what = e.name === 'SyntaxError' ? 'has a syntax error' : 'failed to load';
    return fail(`${what}: ${e.name === 'SyntaxError' || e.name === 'Error' ? '' : `${e.name}: `}${e.message}${at ? ` at ${at}` : ''}`);
  }
  if (!('default' in module)) {
    const named = Object.keys(module);
    return fail(`has no default export (export default defineGameLogic({ ... }))${named.length ? `; it exports ${named.join(', ')}` : ''}`);
  }
  const logic = module.default;
  if (logic === null || typeof logic !== 'object' || Array.isArray(logic) || !Object.hasOwn(logic, DEFINED)) {
    const kind = logic === null ? 'null' : Array.isArray(logic) ? 'an array' : typeof logic === 'object' ? 'an object not made by defineGameLogic' : `a ${typeof logic}`;
    return fail(`its default export is ${kind}; write export default defineGameLogic({ ... })`);
  }
  const unknown = Object.keys(logic).filter((key) => !Object.hasOwn(HANDLERS, key));
  if (unknown.length > 0) {
    return fail(`unknown name${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} in defineGameLogic({ ... }) (known: ${GAME_LOGIC_HANDLERS.join(', ')})`);
  }
  for (const [key, kind] of Object.entries(HANDLERS)) {
    const value = (logic as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (kind === 'number' && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) fail(`${key} must be a number ≥ 0, got ${String(value)}`);
    if (kind === 'boolean' && typeof value !== 'boolean') fail(`${key} must be true or false, got ${String(value)}`);
    if (kind === 'function' && typeof value !== 'function') fail(`${key} must be a function, got ${typeof value}`);
    if (kind === 'events') {
      if (value === null || typeof value !== 'object') fail(`events must be an object of handlers by event name, got ${typeof value}`);
      for (const [name, handler] of Object.entries(value as object)) {
        if (typeof handler !== 'function') fail(`events.${name} must be a function, got ${typeof handler}`);
      }
    }
  }
  if (module.authenticate !== undefined && typeof module.authenticate !== 'function') fail(`its export authenticate must be a function, got ${typeof module.authenticate}`);
  return logic as GameLogic;
}

/** Runs a first incarnation's onStart: if it throws, the actor (and createServer) fails, saying where. */
export async function startGameLogic(logic: GameLogic, ctx: GameContext, url: string): Promise<void> {
  try {
    await logic.onStart?.(ctx);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const at = errorLocation(e);
    throw new GameLogicModuleError(`game-logic module ${pathOf(url)}: onStart threw ${e.name}: ${e.message}${at ? ` at ${at}` : ''}`, { cause: error });
  }
}
