// ENet compression modes 0..4 (Godot's numbering) between our ENetClient and our server, on the real
// wire: content survives, and the server's wire-level byte counters (ENet's totalReceivedData /
// totalSentData, `getMetrics().wireBytesIn/Out`) show that compression really happened. Plus hostile
// datagrams aimed at the native decompressors. Interop with a real Godot 3 client: godot3.test.js;
// with a C client using ENet's range coder: c-client.test.js.
import test from 'ava';
import dgram from 'node:dgram';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { CompressionMode, ENetClient, Err } from '../dist/index.js';
import { COMPRESSION_MODES, ENET_HEADER_FLAG_COMPRESSED, connectClient, startServer, startUdpRelay, waitFor } from './helpers.js';

const NAME = Object.fromEntries(COMPRESSION_MODES.map(([name, mode]) => [mode, name]));

const LINE = 'the quick brown fox jumps over the lazy dog 0123456789; ';
/** ~11 KB of very compressible text: 9 datagrams of ENet fragments, each compressed on its own. */
const COMPRESSIBLE = LINE.repeat(200);
/**
 * A STRING packet of 1 + 4 + 3 = 8 bytes, under FastLZ's 16-byte minimum input. (What reaches the
 * compressor is the datagram with ENet's command headers; the zero-padding path runs for every bare
 * ack or ping, whose padded result never beats the original, so ENet sends those uncompressed.)
 */
const SMALL = 'abc';
/** 200 KB of text that compresses only somewhat: ENet splits it into ~150 fragments. */
const BIG = (() => {
  let seed = 1;
  const words = [];
  let length = 0;
  while (length < 200_000) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const word = LINE.slice(seed % 40, (seed % 40) + 2 + (seed >> 8) % 12) + String.fromCharCode(65 + (seed >> 4) % 26);
    words.push(word);
    length += word.length;
  }
  return words.join('').slice(0, 200_000);
})();

/** One STRING each way: client → server, then server → client; checks the content both ways. */
async function exchange(t, server, peer, client, text) {
  const atServer = waitFor(server, 'packetReceived', 8000, (p) => p === peer);
  t.is(client.sendPacket(text), Err.OK);
  const [, got] = await atServer;
  t.true(got === text, `client → server: got ${typeof got === 'string' ? got.length : typeof got} chars, sent ${text.length}`);
  const atClient = waitFor(client, 'packetReceived');
  t.is(peer.sendPacket(text), Err.OK);
  const [back] = await atClient;
  t.true(back === text, `server → client: got ${typeof back === 'string' ? back.length : typeof back} chars, sent ${text.length}`);
}

/**
 * Exchanges COMPRESSIBLE then SMALL both ways and returns the server's wire bytes in and out meanwhile.
 * The SMALL exchange comes after: once the server has received it, every pass that received or sent
 * the COMPRESSIBLE datagrams has published its counters.
 */
async function measuredExchange(t, server, peer, client) {
  const before = server.getMetrics();
  await exchange(t, server, peer, client, COMPRESSIBLE);
  await exchange(t, server, peer, client, SMALL);
  const after = server.getMetrics();
  return { wireIn: after.wireBytesIn - before.wireBytesIn, wireOut: after.wireBytesOut - before.wireBytesOut };
}

/**
 * Mode 0: the wire carried at least the text each way. Others: clearly less — the text compresses
 * about 10×, and the bound is only half the text, because a loaded machine can make ENet retransmit
 * some datagrams (they count on the wire too) and a mode switch can drop the first ones.
 */
function assertWire(t, mode, { wireIn, wireOut }) {
  const payload = COMPRESSIBLE.length;
  const what = `${NAME[mode]}: ${payload} bytes of text each way took ${wireIn} wire bytes in, ${wireOut} out`;
  t.log(what);
  if (mode === CompressionMode.COMPRESS_NONE) {
    t.true(wireIn > payload && wireOut > payload, what);
  } else {
    t.true(wireIn > 0 && wireIn < payload / 2, what);
    t.true(wireOut > 0 && wireOut < payload / 2, what);
  }
}

async function connectWithMode(t, server, mode) {
  const client = new ENetClient();
  client.setCompressionMode(mode);
  return connectClient(t, server, { client });
}

for (const [name, mode] of COMPRESSION_MODES) {
  test(`${name} (${mode}): our client and server exchange large, small (< 16 bytes) and 200 KB fragmented STRING packets; the wire bytes show the compression (or, in NONE, its absence)`, async (t) => {
    const server = await startServer(t, { setup: (s) => s.setCompressionMode(mode) });
    const { client, peer } = await connectWithMode(t, server, mode);
    t.is(server.getCompressionMode(), mode);
    t.is(client.getCompressionMode(), mode);
    assertWire(t, mode, await measuredExchange(t, server, peer, client));

    const before = server.getMetrics();
    await exchange(t, server, peer, client, BIG);
    const after = server.getMetrics();
    t.true(after.packetsIn - before.packetsIn === 1 && after.bytesIn - before.bytesIn === BIG.length + 5);
    t.log(`200 KB each way: ${after.wireBytesIn - before.wireBytesIn} wire bytes in, ${after.wireBytesOut - before.wireBytesOut} out`);
    t.is(server.getPeerCount(), 1);
  });
}

test('switching the mode on a running server and client (both) keeps traffic flowing, in every mode', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectWithMode(t, server, CompressionMode.COMPRESS_NONE);
  // Every mode, including direct switches between the compressors this package adds.
  for (const mode of [2, 3, 4, 1, 0, 4, 2, 3, 0]) {
    server.setCompressionMode(mode);
    client.setCompressionMode(mode);
    t.is(server.getCompressionMode(), mode);
    t.is(client.getCompressionMode(), mode);
    assertWire(t, mode, await measuredExchange(t, server, peer, client));
  }
  t.is(server.getPeerCount(), 1, 'the same connection carried every mode');
  t.true(client.isConnectedToServer());
});

// ---- hostile datagrams -------------------------------------------------------------------------

const FLAG_SENT_TIME = 0x8000;
const NO_PEER = 0x0fff; // ENet's "no peer yet" id: datagrams from anyone reach the decompressor

/** ENet's 2-byte protocol header (peer id 0xFFF, compressed bit set) + body. */
const hostile = (body, flags = 0) => {
  const header = Buffer.alloc(flags & FLAG_SENT_TIME ? 4 : 2);
  header.writeUInt16BE(ENET_HEADER_FLAG_COMPRESSED | NO_PEER | flags, 0);
  return Buffer.concat([header, Buffer.from(body)]);
};

/** A deterministic PRNG, so that a failure can be replayed. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Bodies aimed at each decompressor: truncated, out-of-range references, output bombs, wrong framing. */
function craftedBodies(mode) {
  const u32le = (v) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v, 0);
    return b;
  };
  switch (mode) {
    case CompressionMode.COMPRESS_FASTLZ: {
      const longMatches = (count) => Buffer.concat([Buffer.from([0x00, 0x41]), Buffer.alloc(count * 3, Buffer.from([0xe0, 0xff, 0x00]))]);
      return [
        [0x1f, 0x41], // literal run of 32, 1 byte present
        [0x00, 0x41, 0xe0], // level-1 long match, length and distance bytes missing
        [0x00, 0x41, 0x20], // match, distance byte missing
        [0x00, 0x41, 0x3f, 0xff], // distance 8192, 1 byte of output so far
        [0x00, 0x41, 0x20, 0x01], // distance 2, 1 byte of output so far
        longMatches(400), // 105 KB of output from 1.2 KB: must stop at ENet's limit
        Buffer.concat([Buffer.from([0x20, 0x41, 0xe0]), Buffer.alloc(1000, 0xff)]), // level 2: endless length bytes
        [0x20, 0x41, 0x3f, 0xff, 0xff, 0xff], // level 2: far distance 73727
        [0x20, 0x41, 0x3f, 0xff, 0x00], // level 2: far distance, second byte missing
        [0x40, 0x41, 0x42], // level 3 (does not exist)
        [0xe0, 0x41],
        [0x00],
      ];
    }
    case CompressionMode.COMPRESS_ZLIB: {
      const bomb = deflateSync(Buffer.alloc(1 << 20)); // 1 MiB of zeros in about 1 KB
      const valid = deflateSync(Buffer.from(LINE.repeat(20)));
      const badAdler = Buffer.from(valid);
      badAdler[badAdler.length - 1] ^= 0xff;
      return [
        bomb,
        badAdler,
        valid.subarray(0, valid.length - 6), // no end of stream
        deflateRawSync(Buffer.from(LINE)), // no zlib header
        gzipSync(Buffer.from(LINE)), // gzip, not zlib
        [0x78, 0xbb, 0, 0, 0, 1, 0x4b, 0x04, 0], // asks for a preset dictionary
        [0x78, 0x9c],
        [0x78],
      ];
    }
    case CompressionMode.COMPRESS_ZSTD: {
      const magic = u32le(0xfd2fb528);
      // Single-segment frame declaring 128 KiB of content: one RLE block of 131072 zeros.
      const blockHeader = (last, type, size) => {
        const v = (last ? 1 : 0) | (type << 1) | (size << 3);
        return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
      };
      const rleBomb = Buffer.concat([magic, Buffer.from([0xa0]), u32le(131072), blockHeader(true, 1, 131072), Buffer.from([0])]);
      return [
        rleBomb,
        rleBomb.subarray(0, 10), // truncated
        Buffer.concat([magic, Buffer.from([0x00, 0xff]), blockHeader(true, 1, 16), Buffer.from([7])]), // 2^41-byte window
        Buffer.concat([magic, Buffer.from([0x20, 0x10]), blockHeader(true, 2, 40), Buffer.alloc(40, 0xa5)]), // garbage compressed block
        Buffer.concat([u32le(0x184d2a50), u32le(4), Buffer.from([1, 2, 3, 4])]), // skippable frame: no content
        Buffer.concat([magic, Buffer.from([0x20, 0x04]), blockHeader(false, 0, 4), Buffer.from('abcd')]), // never ends
        magic,
      ];
    }
    default:
      return [];
  }
}

/** Real compressed datagrams, re-addressed to peer 0xFFF, then truncated, extended, or with bytes changed. */
function mutations(captured, random, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const original = captured[i % captured.length];
    const headerBytes = original.readUInt16BE(0) & FLAG_SENT_TIME ? 4 : 2;
    const body = Buffer.from(original.subarray(headerBytes));
    let mutated;
    switch (i % 4) {
      case 0: // truncated
        mutated = body.subarray(0, random() % body.length);
        break;
      case 1: // garbage appended
        mutated = Buffer.concat([body, Buffer.from(Array.from({ length: 1 + (random() % 64) }, () => random() & 0xff))]);
        break;
      default: // 1 to 4 bytes changed
        mutated = body;
        for (let k = 1 + (random() % 4); k > 0; k--) mutated[random() % mutated.length] = random() & 0xff;
    }
    out.push(hostile(mutated, original.readUInt16BE(0) & FLAG_SENT_TIME));
  }
  return out;
}

for (const [name, mode] of COMPRESSION_MODES.filter(([, m]) => m >= CompressionMode.COMPRESS_FASTLZ)) {
  test(`${name} (${mode}): garbage datagrams with the compressed bit set do not hurt the server; real clients are served after them`, async (t) => {
    const server = await startServer(t, { setup: (s) => s.setCompressionMode(mode) });
    // A real client through a relay that keeps its compressed datagrams: real data to mutate.
    const captured = [];
    const relay = await startUdpRelay(t, server.getLocalPort(), {
      toServer: (msg) => {
        if (msg.length > 4 && (msg.readUInt16BE(0) & ENET_HEADER_FLAG_COMPRESSED) !== 0) captured.push(Buffer.from(msg));
      },
    });
    const first = new ENetClient();
    first.setCompressionMode(mode);
    const connected = waitFor(first, 'connectedToServer');
    const authenticated = waitFor(server, 'peerAuthenticated');
    t.is(first.connectToServer('127.0.0.1', relay.port, 2), Err.OK);
    t.teardown(() => first.disconnectFromServer());
    await connected;
    const [firstPeer] = await authenticated;
    await exchange(t, server, firstPeer, first, COMPRESSIBLE);
    t.true(captured.length > 0, 'the real client sent compressed datagrams');

    const random = prng(0x5eed0000 + mode);
    const datagrams = [
      ...craftedBodies(mode).flatMap((body) => [hostile(body), hostile(body, FLAG_SENT_TIME | 0x3000)]),
      hostile([]), // header only
      ...Array.from({ length: 150 }, () => hostile(Array.from({ length: 1 + (random() % 1400) }, () => random() & 0xff))),
      ...mutations(captured, random, 400),
    ];
    const socket = dgram.createSocket('udp4');
    t.teardown(() => socket.close());
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    // In batches, so the kernel's socket buffers never overflow.
    for (let i = 0; i < datagrams.length; i += 50) {
      await Promise.all(
        datagrams.slice(i, i + 50).map((d) => new Promise((resolve, reject) => socket.send(d, server.getLocalPort(), '127.0.0.1', (e) => (e ? reject(e) : resolve())))),
      );
    }

    // The server's socket is read in order: a new client's handshake comes after every garbage datagram.
    const { client: second, peer: secondPeer } = await connectWithMode(t, server, mode);
    await exchange(t, server, secondPeer, second, SMALL); // a later pass: the garbage is counted before we measure
    assertWire(t, mode, await measuredExchange(t, server, secondPeer, second));
    await exchange(t, server, firstPeer, first, SMALL); // the first client was not disturbed either
    t.true(server.isServerActive());
    t.is(server.getPeerCount(), 2, 'no peer came out of the garbage');
    t.log(`${datagrams.length} hostile datagrams (${captured.length} real ones mutated)`);
  });
}
