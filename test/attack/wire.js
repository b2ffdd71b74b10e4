// ENet 1.3 protocol datagrams built and read by hand (network byte order), for the hostile-input
// tests and benchmarks. Layouts from /usr/include/enet/protocol.h and ENet 1.3.17's protocol.c:
//   protocol header: u16 peerID (low 12 bits: peer id, 0xFFF = none; bits 12-13: session id;
//                    0x4000 compressed; 0x8000 sent time present), [u16 sentTime]
//   command header:  u8 command (low 4 bits: number; 0x80 acknowledge; 0x40 unsequenced),
//                    u8 channelID, u16 reliableSequenceNumber
// Only loopback is ever targeted by the code that uses this module.

export const PEER_ID_NONE = 0x0fff;
export const HEADER_FLAG_COMPRESSED = 0x4000;
export const HEADER_FLAG_SENT_TIME = 0x8000;
export const SESSION_SHIFT = 12;

export const Command = Object.freeze({
  ACKNOWLEDGE: 1,
  CONNECT: 2,
  VERIFY_CONNECT: 3,
  DISCONNECT: 4,
  PING: 5,
  SEND_RELIABLE: 6,
  SEND_UNRELIABLE: 7,
  SEND_FRAGMENT: 8,
  SEND_UNSEQUENCED: 9,
  BANDWIDTH_LIMIT: 10,
  THROTTLE_CONFIGURE: 11,
  SEND_UNRELIABLE_FRAGMENT: 12,
});
export const FLAG_ACKNOWLEDGE = 0x80;
export const FLAG_UNSEQUENCED = 0x40;

/** Fixed size of each command (header included), as ENet's commandSizes table; 0 = none. */
export const COMMAND_SIZES = [0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24];

/** Size of a CONNECT datagram with the sent-time field: 4 + 48. */
export const CONNECT_DATAGRAM_BYTES = 52;

/** The 16-bit ENet clock field: milliseconds, low 16 bits. */
export const sentTimeNow = () => Date.now() & 0xffff;

/**
 * A CONNECT datagram as enet_host_connect sends it (peer id 0xFFF, sent time, CONNECT|ACKNOWLEDGE on
 * channel 0xFF). Every field can be overridden; connectID should differ per forged connect.
 */
export function connectDatagram({
  sentTime = sentTimeNow(),
  reliableSequenceNumber = 1,
  outgoingPeerID = 0,
  incomingSessionID = 0xff,
  outgoingSessionID = 0xff,
  mtu = 1392,
  windowSize = 32768,
  channelCount = 2,
  incomingBandwidth = 0,
  outgoingBandwidth = 0,
  packetThrottleInterval = 5000,
  packetThrottleAcceleration = 2,
  packetThrottleDeceleration = 2,
  connectID = 0,
  data = 0,
} = {}) {
  const b = Buffer.alloc(CONNECT_DATAGRAM_BYTES);
  b.writeUInt16BE(PEER_ID_NONE | HEADER_FLAG_SENT_TIME, 0);
  b.writeUInt16BE(sentTime & 0xffff, 2);
  b[4] = Command.CONNECT | FLAG_ACKNOWLEDGE;
  b[5] = 0xff;
  b.writeUInt16BE(reliableSequenceNumber & 0xffff, 6);
  b.writeUInt16BE(outgoingPeerID & 0xffff, 8);
  b[10] = incomingSessionID & 0xff;
  b[11] = outgoingSessionID & 0xff;
  b.writeUInt32BE(mtu >>> 0, 12);
  b.writeUInt32BE(windowSize >>> 0, 16);
  b.writeUInt32BE(channelCount >>> 0, 20);
  b.writeUInt32BE(incomingBandwidth >>> 0, 24);
  b.writeUInt32BE(outgoingBandwidth >>> 0, 28);
  b.writeUInt32BE(packetThrottleInterval >>> 0, 32);
  b.writeUInt32BE(packetThrottleAcceleration >>> 0, 36);
  b.writeUInt32BE(packetThrottleDeceleration >>> 0, 40);
  b.writeUInt32BE(connectID >>> 0, 44);
  b.writeUInt32BE(data >>> 0, 48);
  return b;
}

/** The protocol header of a datagram: { peerID, sessionID, compressed, sentTime (or null), headerBytes }. */
export function parseHeader(msg) {
  if (msg.length < 2) return null;
  const field = msg.readUInt16BE(0);
  const hasTime = (field & HEADER_FLAG_SENT_TIME) !== 0;
  if (hasTime && msg.length < 4) return null;
  return {
    peerID: field & 0x0fff,
    sessionID: (field >> SESSION_SHIFT) & 3,
    compressed: (field & HEADER_FLAG_COMPRESSED) !== 0,
    sentTime: hasTime ? msg.readUInt16BE(2) : null,
    headerBytes: hasTime ? 4 : 2,
  };
}

/**
 * The commands of an uncompressed datagram (no checksum), as ENet walks them: each
 * { number, flags, channelID, reliableSequenceNumber, offset, size, dataLength } where size is the
 * fixed part and dataLength the payload that follows (SEND_* commands). Stops where ENet would.
 */
export function parseCommands(msg) {
  const header = parseHeader(msg);
  if (!header || header.compressed) return [];
  const commands = [];
  let at = header.headerBytes;
  while (at + 4 <= msg.length) {
    const number = msg[at] & 0x0f;
    const size = COMMAND_SIZES[number] ?? 0;
    if (!size || at + size > msg.length) break;
    let dataLength = 0;
    if (number === Command.SEND_RELIABLE) dataLength = msg.readUInt16BE(at + 4);
    else if (number === Command.SEND_UNRELIABLE || number === Command.SEND_UNSEQUENCED) dataLength = msg.readUInt16BE(at + 6);
    else if (number === Command.SEND_FRAGMENT || number === Command.SEND_UNRELIABLE_FRAGMENT) dataLength = msg.readUInt16BE(at + 6);
    commands.push({
      number,
      flags: msg[at] & 0xf0,
      channelID: msg[at + 1],
      reliableSequenceNumber: msg.readUInt16BE(at + 2),
      offset: at,
      size,
      dataLength,
    });
    at += size + dataLength;
  }
  return commands;
}

/** The fields of a VERIFY_CONNECT command at `offset`. */
export function parseVerifyConnect(msg, offset) {
  return {
    reliableSequenceNumber: msg.readUInt16BE(offset + 2),
    outgoingPeerID: msg.readUInt16BE(offset + 4),
    incomingSessionID: msg[offset + 6],
    outgoingSessionID: msg[offset + 7],
    mtu: msg.readUInt32BE(offset + 8),
    connectID: msg.readUInt32BE(offset + 40),
  };
}

/** The 16-bit peer field of a datagram to an established peer (its id and session, sent time). */
export function peerField(peerID, sessionID, { sentTime = true, compressed = false } = {}) {
  return (peerID & 0x0fff) | ((sessionID & 3) << SESSION_SHIFT) | (sentTime ? HEADER_FLAG_SENT_TIME : 0) | (compressed ? HEADER_FLAG_COMPRESSED : 0);
}

/** A datagram to an established peer: header (with sent time) + the given command bytes. */
export function datagram(peerID, sessionID, commands, { compressed = false, sentTime = sentTimeNow() } = {}) {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(peerField(peerID, sessionID, { compressed }), 0);
  head.writeUInt16BE(sentTime & 0xffff, 2);
  return Buffer.concat([head, ...commands]);
}

/** ACKNOWLEDGE command bytes. */
export function ackCommand(receivedReliableSequenceNumber, receivedSentTime, channelID = 0xff) {
  const c = Buffer.alloc(8);
  c[0] = Command.ACKNOWLEDGE;
  c[1] = channelID;
  c.writeUInt16BE(0, 2);
  c.writeUInt16BE(receivedReliableSequenceNumber & 0xffff, 4);
  c.writeUInt16BE(receivedSentTime & 0xffff, 6);
  return c;
}

/** SEND_RELIABLE command bytes carrying `payload`. */
export function reliableCommand(channelID, reliableSequenceNumber, payload) {
  const c = Buffer.alloc(6 + payload.length);
  c[0] = Command.SEND_RELIABLE | FLAG_ACKNOWLEDGE;
  c[1] = channelID;
  c.writeUInt16BE(reliableSequenceNumber & 0xffff, 2);
  c.writeUInt16BE(payload.length, 4);
  payload.copy(c, 6);
  return c;
}

/** SEND_UNSEQUENCED command bytes carrying `payload`. */
export function unsequencedCommand(channelID, unsequencedGroup, payload) {
  const c = Buffer.alloc(8 + payload.length);
  c[0] = Command.SEND_UNSEQUENCED | FLAG_UNSEQUENCED;
  c[1] = channelID;
  c.writeUInt16BE(0, 2);
  c.writeUInt16BE(unsequencedGroup & 0xffff, 4);
  c.writeUInt16BE(payload.length, 6);
  payload.copy(c, 8);
  return c;
}

/** SEND_FRAGMENT command bytes. */
export function fragmentCommand(channelID, reliableSequenceNumber, { start, count, number, total, offset }, payload) {
  const c = Buffer.alloc(24 + payload.length);
  c[0] = Command.SEND_FRAGMENT | FLAG_ACKNOWLEDGE;
  c[1] = channelID;
  c.writeUInt16BE(reliableSequenceNumber & 0xffff, 2);
  c.writeUInt16BE(start & 0xffff, 4);
  c.writeUInt16BE(payload.length, 6);
  c.writeUInt32BE(count >>> 0, 8);
  c.writeUInt32BE(number >>> 0, 12);
  c.writeUInt32BE(total >>> 0, 16);
  c.writeUInt32BE(offset >>> 0, 20);
  payload.copy(c, 24);
  return c;
}

/** PING, DISCONNECT, BANDWIDTH_LIMIT, THROTTLE_CONFIGURE command bytes (for the fuzzer's corpus). */
export function pingCommand(reliableSequenceNumber) {
  const c = Buffer.alloc(4);
  c[0] = Command.PING | FLAG_ACKNOWLEDGE;
  c[1] = 0xff;
  c.writeUInt16BE(reliableSequenceNumber & 0xffff, 2);
  return c;
}
export function disconnectCommand(data = 0) {
  const c = Buffer.alloc(8);
  c[0] = Command.DISCONNECT | FLAG_UNSEQUENCED;
  c[1] = 0xff;
  c.writeUInt32BE(data >>> 0, 4);
  return c;
}
export function bandwidthLimitCommand(reliableSequenceNumber, incoming, outgoing) {
  const c = Buffer.alloc(12);
  c[0] = Command.BANDWIDTH_LIMIT | FLAG_ACKNOWLEDGE;
  c[1] = 0xff;
  c.writeUInt16BE(reliableSequenceNumber & 0xffff, 2);
  c.writeUInt32BE(incoming >>> 0, 4);
  c.writeUInt32BE(outgoing >>> 0, 8);
  return c;
}
export function throttleConfigureCommand(reliableSequenceNumber, interval, acceleration, deceleration) {
  const c = Buffer.alloc(16);
  c[0] = Command.THROTTLE_CONFIGURE | FLAG_ACKNOWLEDGE;
  c[1] = 0xff;
  c.writeUInt16BE(reliableSequenceNumber & 0xffff, 2);
  c.writeUInt32BE(interval >>> 0, 4);
  c.writeUInt32BE(acceleration >>> 0, 8);
  c.writeUInt32BE(deceleration >>> 0, 12);
  return c;
}
