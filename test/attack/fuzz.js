// A seeded datagram fuzzer for an ENet server on loopback. Two sources:
//  - blind (from `blindBind`, e.g. 127.0.0.6): random bytes and mutated datagrams of a captured
//    session, as they are (so they carry other peers' ids: ENet must drop them for the wrong
//    address), with peer id 0xFFF (reaches CONNECT handling and, with the compressed flag, the
//    decompressor), or as mutated CONNECTs;
//  - in session (from `sessionBind`, e.g. 127.0.0.7): a handshake done by hand (CONNECT, the
//    server's VERIFY_CONNECT, our ACK) gives a real peer, whose id and session go in the header of
//    mutated commands, so they reach ENet's command handlers, the fragment reassembly and the
//    server's packet decoding. The session is renewed (DISCONNECT, new handshake) every
//    `sessionEvery` datagrams, or when it is lost.
// Everything derives from `seed` (the handshake's timing aside). Bounded by `count` datagrams and
// `deadlineMs`; sends in bursts of `burst` and yields to the event loop between them.
import dgram from 'node:dgram';
import zlib from 'node:zlib';
import { assertLoopback } from './forge.js';
import {
  Command,
  COMMAND_SIZES,
  FLAG_ACKNOWLEDGE,
  PEER_ID_NONE,
  HEADER_FLAG_COMPRESSED,
  HEADER_FLAG_SENT_TIME,
  ackCommand,
  bandwidthLimitCommand,
  connectDatagram,
  datagram,
  disconnectCommand,
  fragmentCommand,
  parseCommands,
  parseHeader,
  parseVerifyConnect,
  pingCommand,
  reliableCommand,
  sentTimeNow,
  throttleConfigureCommand,
  unsequencedCommand,
} from './wire.js';

/** sfc32: a small, fast, seedable PRNG (32-bit state words). */
export function prng(seed) {
  let a = 0x9e3779b9,
    b = 0x243f6a88,
    c = 0xb7e15162,
    d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) next();
  const r = {
    u32: next,
    /** integer in [0, n) */
    int: (n) => (n <= 0 ? 0 : next() % n),
    chance: (p) => next() / 4294967296 < p,
    pick: (arr) => arr[next() % arr.length],
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        const v = next();
        out[i] = v & 0xff;
        if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
        if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
        if (i + 3 < n) out[i + 3] = v >>> 24;
      }
      return out;
    },
  };
  return r;
}

const INTERESTING_32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 1 << 20, (1 << 20) + 1, 1 << 24, 4096, 4097, 1392, 576];
const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x0fff, 0x1000, 0x7fff, 0x8000, 0xfffe, 0xffff, 1392, 4096];

/** One mutation of `input` (a Buffer; not modified). */
export function mutate(r, input) {
  let b = Buffer.from(input);
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    switch (r.int(10)) {
      case 0: {
        // flip 1-8 bits
        const n = 1 + r.int(8);
        for (let i = 0; i < n && b.length; i++) b[r.int(b.length)] ^= 1 << r.int(8);
        break;
      }
      case 1: // truncate
        b = b.subarray(0, r.int(b.length + 1));
        break;
      case 2: // append random bytes
        b = Buffer.concat([b, r.bytes(1 + r.int(64))]);
        break;
      case 3: // random byte
        if (b.length) b[r.int(b.length)] = r.u32() & 0xff;
        break;
      case 4: // interesting u16 at a random offset (length fields, sequence numbers, peer ids)
        if (b.length >= 2) b.writeUInt16BE(r.pick(INTERESTING_16), r.int(b.length - 1));
        break;
      case 5: // interesting u32 at a random offset (fragment counts, lengths, offsets, mtu, channels)
        if (b.length >= 4) b.writeUInt32BE(r.pick(INTERESTING_32) >>> 0, r.int(b.length - 3));
        break;
      case 6: {
        // rewrite a command's length field or command byte, found by walking the datagram
        const cmds = parseCommands(b);
        if (cmds.length) {
          const c = r.pick(cmds);
          if (r.chance(0.5) && c.dataLength !== undefined && c.size >= 6) {
            const at = c.number === Command.SEND_RELIABLE ? c.offset + 4 : c.offset + 6;
            if (at + 2 <= b.length) b.writeUInt16BE(r.pick(INTERESTING_16), at);
          } else {
            b[c.offset] = (b[c.offset] & 0xf0) | r.int(16);
          }
        }
        break;
      }
      case 7: {
        // splice: repeat a slice of itself (many commands in one datagram)
        if (b.length > 4) {
          const from = 4 + r.int(b.length - 4);
          const slice = b.subarray(from, from + 1 + r.int(64));
          const times = 1 + r.int(40);
          b = Buffer.concat([b, ...Array(times).fill(slice)]);
        }
        break;
      }
      case 8: // toggle header flags / session bits
        if (b.length >= 2) b[0] ^= r.pick([0x40, 0x80, 0x10, 0x20, 0x30, 0xc0]);
        break;
      default: // shuffle two bytes
        if (b.length >= 2) {
          const i = r.int(b.length),
            j = r.int(b.length);
          const t = b[i];
          b[i] = b[j];
          b[j] = t;
        }
    }
  }
  return b;
}

/** A socket bound to `bind` whose incoming datagrams go to `onMessage`. */
async function openSocket(bind, onMessage) {
  assertLoopback(bind);
  const socket = dgram.createSocket('udp4');
  socket.on('message', onMessage);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.bind(0, bind, resolve));
  return socket;
}

/** The commands of a server datagram, inflating it first when it is zlib-compressed. */
function serverCommands(msg, compression) {
  const h = parseHeader(msg);
  if (!h) return { header: null, commands: [], body: msg };
  if (!h.compressed) return { header: h, commands: parseCommands(msg), body: msg };
  if (compression !== 'zlib') return { header: h, commands: [], body: msg };
  try {
    const inflated = zlib.inflateSync(msg.subarray(h.headerBytes));
    const body = Buffer.concat([msg.subarray(0, h.headerBytes), inflated]);
    body.writeUInt16BE(body.readUInt16BE(0) & ~HEADER_FLAG_COMPRESSED, 0);
    return { header: h, commands: parseCommands(body), body };
  } catch {
    return { header: h, commands: [], body: msg };
  }
}

/**
 * Runs the fuzzer. `corpus`: captured datagrams (Buffers), client→server first.
 * Returns { sent, blind, inSession, handshakes, handshakeFailures, bytes, elapsedMs, received }.
 */
export async function runFuzz({
  port,
  host = '127.0.0.1',
  blindBind = '127.0.0.6',
  sessionBind = '127.0.0.7',
  seed = 1,
  count = 200_000,
  deadlineMs = 20_000,
  burst = 200,
  corpus = [],
  compression = 'none',
  sessionShare = 0.5,
  sessionEvery = 20_000,
  oversizeShare = 0.002,
  onProgress,
} = {}) {
  assertLoopback(host);
  const r = prng(seed);
  const stats = { sent: 0, blind: 0, inSession: 0, handshakes: 0, handshakeFailures: 0, sessionsLost: 0, acks: 0, bytes: 0, received: 0, sendErrors: 0, elapsedMs: 0 };
  const t0 = Date.now();
  const seeds = corpus.length ? corpus.map((b) => Buffer.from(b)) : [connectDatagram()];

  // --- the in-session peer ---
  let session = null; // { peerID, sessionID, seq: [per channel], group }
  let verifyWaiter = null;
  const sessionSocket = await openSocket(sessionBind, (msg) => {
    stats.received++;
    const { header, commands, body } = serverCommands(msg, compression);
    const acks = [];
    for (const c of commands) {
      if (c.number === Command.VERIFY_CONNECT && verifyWaiter) verifyWaiter({ header, v: parseVerifyConnect(body, c.offset) });
      if (!session) continue;
      if (c.number === Command.DISCONNECT) session.lost = true;
      // Behave like a live peer: acknowledge what the server sends reliably (pings, packets, the
      // disconnect of a kick), so that it keeps the session, or ends it properly.
      else if (c.flags & FLAG_ACKNOWLEDGE && c.number !== Command.VERIFY_CONNECT && header?.sentTime !== null) acks.push(ackCommand(c.reliableSequenceNumber, header.sentTime, c.channelID));
    }
    if (session) {
      session.lastHeard = Date.now();
      if (acks.length && !session.lost) send(sessionSocket, datagram(session.peerID, session.sessionID, acks.slice(0, 32)), false);
    }
  });
  const blindSocket = await openSocket(blindBind, () => stats.received++);

  const send = (socket, buf, fuzzed = true) => {
    if (fuzzed) stats.sent++;
    else stats.acks++;
    stats.bytes += buf.length;
    socket.send(buf, port, host, (err) => {
      if (err) stats.sendErrors++;
    });
  };

  async function handshake() {
    const connectID = r.u32();
    const got = new Promise((resolve) => {
      const timer = setTimeout(() => {
        verifyWaiter = null;
        resolve(null);
      }, 500);
      verifyWaiter = (x) => {
        if (x.v.connectID !== connectID) return;
        clearTimeout(timer);
        verifyWaiter = null;
        resolve(x);
      };
    });
    send(sessionSocket, connectDatagram({ connectID, outgoingPeerID: 0, channelCount: 4, sentTime: sentTimeNow() }));
    const x = await got;
    if (!x) {
      stats.handshakeFailures++;
      return null;
    }
    const s = { peerID: x.v.outgoingPeerID, sessionID: x.v.outgoingSessionID, seq: new Array(256).fill(0), sys: x.v.reliableSequenceNumber, group: 0, lost: false, lastHeard: Date.now() };
    send(sessionSocket, datagram(s.peerID, s.sessionID, [ackCommand(x.v.reliableSequenceNumber, x.header.sentTime ?? 0)]));
    stats.handshakes++;
    return s;
  }

  const endSession = () => {
    if (session && !session.lost) send(sessionSocket, datagram(session.peerID, session.sessionID, [disconnectCommand(0)]));
    session = null;
  };

  // The session asks for 4 channels. Channels 0 and 1 carry a clean stream: in-order reliable and
  // unsequenced packets with random (or corpus) contents, never mutated, so that they all reach the
  // server's decoder (a lost sequence number would stall the channel for good). Everything else —
  // fragments, absurd sequence numbers, system commands, corpus commands, mutations — goes to
  // channels 2, 3 or a random one, in datagrams of their own.
  const packetPayload = () => {
    if (r.chance(0.3)) {
      const src = r.pick(seeds);
      const cmds = parseCommands(src).filter((c) => c.dataLength > 0);
      if (cmds.length) {
        const c = r.pick(cmds);
        const body = src.subarray(c.offset + c.size, c.offset + c.size + c.dataLength);
        return r.chance(0.5) ? Buffer.from(body) : mutate(r, body);
      }
    }
    return r.chance(0.5) ? r.bytes(r.int(200)) : Buffer.concat([Buffer.from([r.int(8)]), r.bytes(r.int(64))]);
  };

  function cleanCommand(s) {
    const ch = r.int(2);
    if (r.chance(0.8)) return reliableCommand(ch, ++s.seq[ch], packetPayload());
    return unsequencedCommand(ch, ++s.group, packetPayload());
  }

  function dirtyCommand(s) {
    const ch = r.chance(0.8) ? 2 + r.int(2) : r.int(256);
    switch (r.int(7)) {
      case 0:
        return reliableCommand(ch, r.chance(0.7) ? ++s.seq[ch] : r.u32() & 0xffff, packetPayload());
      case 1:
        return unsequencedCommand(ch, r.chance(0.7) ? ++s.group : r.u32(), r.bytes(r.int(300)));
      case 2: {
        // a fragment: mostly consistent, sometimes absurd (an absurd total length gets the session
        // kicked for "Packet too large": keep it rare)
        const total = r.chance(0.995) ? 1 + r.int(4000) : r.pick(INTERESTING_32);
        const count = r.chance(0.8) ? 1 + r.int(8) : r.pick(INTERESTING_32);
        const start = r.chance(0.8) ? s.seq[ch] + 1 : r.u32() & 0xffff;
        const number = r.int(Math.max(1, Math.min(count, 16)));
        const payload = r.bytes(r.int(1200));
        if (r.chance(0.3)) s.seq[ch] += Math.min(count >>> 0, 64);
        return fragmentCommand(ch, start + number, { start, count, number, total, offset: r.chance(0.5) ? number * payload.length : r.pick(INTERESTING_32) }, payload);
      }
      case 3:
        return pingCommand(r.chance(0.5) ? ++s.sys : r.u32());
      case 4:
        return ackCommand(r.u32() & 0xffff, r.u32() & 0xffff, r.chance(0.5) ? 0xff : r.int(256));
      case 5:
        return r.chance(0.5) ? bandwidthLimitCommand(r.u32(), r.pick(INTERESTING_32), r.pick(INTERESTING_32)) : throttleConfigureCommand(r.u32(), r.pick(INTERESTING_32), r.pick(INTERESTING_32), r.pick(INTERESTING_32));
      default: {
        // a corpus datagram's commands, re-addressed to our session (a DISCONNECT among them ends it)
        const src = r.pick(seeds);
        const h = parseHeader(src);
        return h && !h.compressed ? src.subarray(h.headerBytes) : r.bytes(r.int(64));
      }
    }
  }

  function sessionDatagram(s) {
    // several commands, within a datagram ENet can receive (its buffer is 4096 bytes; past it the
    // datagram is truncated, which the blind part covers)
    const clean = r.chance(0.5);
    const n = 1 + (r.chance(0.2) ? r.int(40) : r.int(3));
    const budget = r.chance(0.9) ? 1400 : 4000;
    const cmds = [];
    let size = 4;
    for (let i = 0; i < n; i++) {
      const c = clean ? cleanCommand(s) : dirtyCommand(s);
      if (size + c.length > budget) {
        if (clean) {
          // give the sequence number back: it was never sent
          if ((c[0] & 0x0f) === Command.SEND_RELIABLE) s.seq[c[1]]--;
          break;
        }
        if (cmds.length) break;
      }
      cmds.push(c.length > budget ? c.subarray(0, budget) : c);
      size += c.length;
    }
    let d = datagram(s.peerID, s.sessionID, cmds);
    const compress = (body) => {
      const head = Buffer.from(d.subarray(0, 4));
      head.writeUInt16BE(head.readUInt16BE(0) | HEADER_FLAG_COMPRESSED | HEADER_FLAG_SENT_TIME, 0);
      return Buffer.concat([head, body]);
    };
    if (clean) return compression === 'zlib' && r.chance(0.3) ? compress(zlib.deflateSync(d.subarray(4))) : d;
    if (r.chance(0.5)) {
      d = mutate(r, d);
      // keep the peer id and session most of the time, so ENet takes it as this peer's
      if (d.length >= 2 && r.chance(0.8)) d.writeUInt16BE((d.readUInt16BE(0) & 0xc000) | (s.peerID & 0x0fff) | ((s.sessionID & 3) << 12), 0);
    }
    if (compression === 'zlib' && r.chance(0.3) && d.length > 4) {
      d = compress(r.chance(0.8) ? zlib.deflateSync(d.subarray(4)) : mutate(r, zlib.deflateSync(d.subarray(4))));
    }
    return d;
  }

  function blindDatagram() {
    const kind = r.int(10);
    if (r.chance(oversizeShare)) return r.bytes(4097 + r.int(2000)); // past ENet's receive buffer
    if (kind <= 2) return r.bytes(r.int(r.chance(0.9) ? 200 : 1500));
    if (kind <= 5) return mutate(r, r.pick(seeds));
    if (kind === 6) {
      // peer id 0xFFF: CONNECT handling (only CONNECT is parsed without a peer)
      const d = mutate(r, r.pick(seeds));
      if (d.length >= 2) d.writeUInt16BE((d.readUInt16BE(0) & 0xf000) | PEER_ID_NONE, 0);
      return d;
    }
    if (kind === 7) {
      // peer id 0xFFF with the compressed flag: the decompressor sees it first
      let body = r.bytes(r.int(300));
      if (compression === 'zlib' && r.chance(0.7)) {
        const plain = r.chance(0.5) ? connectDatagram({ connectID: r.u32() }).subarray(4) : r.bytes(r.int(200));
        body = r.chance(0.5) ? zlib.deflateSync(plain) : mutate(r, zlib.deflateSync(plain));
      }
      const head = Buffer.alloc(4);
      head.writeUInt16BE(PEER_ID_NONE | HEADER_FLAG_COMPRESSED | (r.chance(0.8) ? HEADER_FLAG_SENT_TIME : 0), 0);
      head.writeUInt16BE(sentTimeNow(), 2);
      return Buffer.concat([head, body]);
    }
    if (kind === 8) return mutate(r, connectDatagram({ connectID: r.u32(), channelCount: r.pick(INTERESTING_32), mtu: r.pick(INTERESTING_32) }));
    // a datagram of random valid-looking commands for a random peer id
    const cmds = [];
    for (let i = 0, n = 1 + r.int(6); i < n; i++) {
      const number = 1 + r.int(12);
      const c = r.bytes(COMMAND_SIZES[number] + r.int(32));
      c[0] = number | (r.u32() & 0xc0);
      cmds.push(c);
    }
    return datagram(r.int(64), r.int(4), cmds);
  }

  let sinceHandshake = 0;
  let nextHandshakeAt = 0; // after a failed handshake, fuzz blind for a while before trying again
  while (stats.sent < count && Date.now() - t0 < deadlineMs) {
    // A session the server has stopped answering (it acknowledges our reliable commands at once,
    // pings every 500 ms) is gone: a kick, a fuzzed DISCONNECT, a timeout.
    if (session && !session.lost && Date.now() - session.lastHeard > 300) session.lost = true;
    if (session?.lost && !session.counted) {
      session.counted = true;
      stats.sessionsLost++;
    }
    if (sessionShare > 0 && stats.sent >= nextHandshakeAt && (!session || session.lost || sinceHandshake >= sessionEvery)) {
      endSession();
      session = await handshake();
      sinceHandshake = 0;
      if (!session) nextHandshakeAt = stats.sent + 5000;
    }
    for (let i = 0; i < burst && stats.sent < count; i++) {
      if (session && r.chance(sessionShare)) {
        send(sessionSocket, sessionDatagram(session));
        stats.inSession++;
        sinceHandshake++;
      } else {
        send(blindSocket, blindDatagram());
        stats.blind++;
      }
    }
    onProgress?.(stats);
    await new Promise((resolve) => setImmediate(resolve));
  }
  endSession();
  // let the last sends leave before closing
  await new Promise((resolve) => setTimeout(resolve, 20));
  await Promise.all([new Promise((res) => sessionSocket.close(res)), new Promise((res) => blindSocket.close(res))]);
  stats.elapsedMs = Date.now() - t0;
  return stats;
}
