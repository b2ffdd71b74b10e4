// Runs on any thread that reads the records of docs/protocol.md: one reader per inbound record kind,
// so no role reads a record body by offset (the writers of outbound records are in
// src/plumbing/outbound.ts). A record is read where it lies in its ring: `bytes`/`view` span the
// ring's data, `offset` is where the record starts, `length` its payload length (header included).
import {
  CAUSE_LOCAL,
  R_BODY,
  R_CHANNEL,
  R_FLAGS,
  R_PEER_ID,
  R_SLOT,
  ipv4ToString,
} from './protocol.js';

/** The reason a disconnect gets when the other side went away (it disconnected or timed out). */
export const REASON_CONNECTION_LOST = 'Connection lost';

const utf8 = new TextDecoder();

export const recordKind = (bytes: Uint8Array, offset: number): number => bytes[offset];
export const recordPeerId = (view: DataView, offset: number): number => view.getUint32(offset + R_PEER_ID, true);
export const recordSlot = (view: DataView, offset: number): number => view.getUint32(offset + R_SLOT, true);
export const recordChannel = (bytes: Uint8Array, offset: number): number => bytes[offset + R_CHANNEL];
export const recordFlags = (view: DataView, offset: number): number => view.getUint16(offset + R_FLAGS, true);
/** The body (IN_RECEIVE: the packet; IN_ATTACH: the attach bytes), a view into the ring. */
export const recordBody = (bytes: Uint8Array, offset: number, length: number): Uint8Array => bytes.subarray(offset + R_BODY, offset + length);

/** IN_CONNECT body: u32 connect data, u8[4] IPv4, u16 port, u16 channels. */
export interface ConnectRecord {
  data: number;
  address: string;
  port: number;
  channels: number;
}

export function readConnect(bytes: Uint8Array, view: DataView, offset: number): ConnectRecord {
  return {
    data: view.getUint32(offset + R_BODY, true),
    address: ipv4ToString(bytes, offset + R_BODY + 4),
    port: view.getUint16(offset + R_BODY + 8, true),
    channels: view.getUint16(offset + R_BODY + 10, true),
  };
}

/** IN_DISCONNECT body: u32 disconnect data, u32 cause (CAUSE_*), then the reason given locally (UTF-8, may be empty). */
export interface DisconnectRecord {
  data: number;
  cause: number;
  /** The reason that travelled with our own OUT_DISCONNECT ('' if none). */
  reason: string;
}

export function readDisconnect(bytes: Uint8Array, view: DataView, offset: number, length: number): DisconnectRecord {
  return {
    data: view.getUint32(offset + R_BODY, true),
    cause: view.getUint32(offset + R_BODY + 4, true),
    reason: length > R_BODY + 8 ? utf8.decode(bytes.subarray(offset + R_BODY + 8, offset + length)) : '',
  };
}

/** IN_DROPPED (sessions): the same body as IN_DISCONNECT (cause CAUSE_REMOTE). */
export const readDropped = readDisconnect;

/** IN_SESSION_RESUMED body: u32 temporaryPeerId, u32 count, count × u32 native's received counts per channel. */
export interface SessionResumedRecord {
  /** The peerId the new connection had until the resume gave its slot the session's peerId (the header's). */
  temporaryPeerId: number;
  /** Reliable packets native received from the session peer, per channel (empty with FLAG_GONE). */
  counts: number[];
}

export function readSessionResumed(view: DataView, offset: number, length: number): SessionResumedRecord {
  const count = Math.min(view.getUint32(offset + R_BODY + 4, true), Math.max(0, (length - R_BODY - 8) >> 2));
  const counts = new Array<number>(count);
  for (let i = 0; i < count; i++) counts[i] = view.getUint32(offset + R_BODY + 8 + 4 * i, true);
  return { temporaryPeerId: view.getUint32(offset + R_BODY, true), counts };
}

/** A server peer's disconnect reason: the one we gave; none for our own reasonless disconnect; else "Connection lost". */
export function serverDisconnectReason(record: DisconnectRecord): string {
  if (record.reason !== '') return record.reason;
  return record.cause === CAUSE_LOCAL ? '' : REASON_CONNECTION_LOST;
}

/** IN_KICK_REQUEST body: u32 cause (KICK_*). */
export const readKickCause = (view: DataView, offset: number): number => view.getUint32(offset + R_BODY, true);

/** IN_ERROR body: i32 ENet error code. */
export const readErrorCode = (view: DataView, offset: number): number => view.getInt32(offset + R_BODY, true);
