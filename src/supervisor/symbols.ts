// Internal entry points of the supervisor that its peers call. Symbols keep them off the public API.
import type { Err } from '../wire/enums.js';
import type { ENetServerPeer } from './peer.js';

export const kSend = Symbol('enet.send');
export const kSendRaw = Symbol('enet.sendRaw');
export const kDisconnect = Symbol('enet.disconnect');
export const kReject = Symbol('enet.reject');
export const kAuthenticate = Symbol('enet.authenticate');
export const kSetIdentity = Symbol('enet.setIdentity');
export const kRedirect = Symbol('enet.redirect');
export const kSetTimeout = Symbol('enet.setTimeout');

export interface PeerOwner {
  [kSend](peer: ENetServerPeer, packet: unknown, channel: number, reliable: boolean): Err;
  [kSendRaw](peer: ENetServerPeer, bytes: Uint8Array, channel: number, reliable: boolean): Err;
  [kDisconnect](peer: ENetServerPeer, reason: string): void;
  [kReject](peer: ENetServerPeer, reason: string): void;
  [kAuthenticate](peer: ENetServerPeer): void;
  [kSetIdentity](peer: ENetServerPeer, identity: string): Promise<Err>;
  [kRedirect](peer: ENetServerPeer, address: string, port: number, reason: string): Err;
  [kSetTimeout](peer: ENetServerPeer, limit: number, minimumMs: number, maximumMs: number): Err;
}
