// The native half of sessions (docs/protocol.md "Sessions (resume after a dropped connection)"),
// driven through the net actor link itself: a real server host and real client hosts, each in its own
// reactor, records written and read as the supervisor and ENetClient will. No mocks.
import test from 'ava';
import { NetActorLink } from '../dist/net-actor/owner.js';
import { DEFAULT_RESTART_POLICY } from '../dist/supervision/restart-policy.js';
import { RingConsumer } from '../dist/plumbing/ring.js';
import { createWakeWord } from '../dist/plumbing/doorbells.js';
import * as P from '../dist/wire/protocol.js';
import { readConnect, readDisconnect, readDropped, readSessionResumed } from '../dist/wire/records.js';

const OUTBOX = 1 << 20;
const LOCALHOST = P.ipv4ToBytes('127.0.0.1');

/** A record copied out of its ring. */
function parse(bytes, offset, length) {
  const copy = bytes.slice(offset, offset + length);
  const view = new DataView(copy.buffer);
  return {
    kind: copy[P.R_KIND],
    channel: copy[P.R_CHANNEL],
    flags: view.getUint16(P.R_FLAGS, true),
    host: view.getUint32(P.R_HOST, true),
    slot: view.getUint32(P.R_SLOT, true),
    peerId: view.getUint32(P.R_PEER_ID, true),
    body: copy.subarray(P.R_BODY),
    copy,
    view,
  };
}

/** Records of one inbound ring, with bounded waits. */
class Inbox {
  records = [];
  waiters = [];
  push = (record) => {
    this.records.push(record);
    for (const w of [...this.waiters]) {
      if (w.filter(record)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(record);
      }
    }
  };
  /** The first record (seen already or to come) after index `from` that passes `filter`. */
  next(filter, what, ms = 15_000, from = 0) {
    const seen = this.records.slice(from).find(filter);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { filter, resolve, timer: setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms) };
      this.waiters.push(w);
    });
  }
  of(kind) {
    return this.records.filter((r) => r.kind === kind);
  }
}

function link(t, { actors = 0 } = {}) {
  const inbox = new Inbox();
  const wakes = Array.from({ length: actors }, () => createWakeWord());
  const l = new NetActorLink({
    maxPacketSize: 4096,
    ringBytes: 1 << 16,
    pollRate: 5,
    restartPolicy: DEFAULT_RESTART_POLICY,
    actorWakes: wakes,
    onRecord: (bytes, offset, length) => inbox.push(parse(bytes, offset, length)),
  });
  l.start();
  // Actor rings are read by polling here (no game actor thread).
  const actorInboxes = l.actorRings.map((rings) => {
    const box = new Inbox();
    const consumer = new RingConsumer(rings.inbound);
    const timer = setInterval(() => consumer.drain((bytes, offset, length) => box.push(parse(bytes, offset, length))), 2);
    t.teardown(() => clearInterval(timer));
    return box;
  });
  t.teardown(() => l.close());
  return { link: l, inbox, actorInboxes, counter: (c) => l.counters[c] };
}

async function server(t, { sessionOutboxBytes = OUTBOX, actors = 0 } = {}) {
  const s = link(t, { actors });
  const { host, port, stats } = s.link.createHost({ address: '127.0.0.1', port: 0, peers: 8, channels: 2, compression: 0, sessionOutboxBytes });
  return { ...s, host, port, stats };
}

let nextClientPeerId = 1;

/** A client host in its own reactor, connected to `srv` with connect data `data`; both ends' slots and ids. */
async function client(t, srv, data, { channels = 2 } = {}) {
  const c = link(t);
  const { host, stats } = c.link.createHost({ peers: 1, channels: 2, compression: 0 });
  const peerId = nextClientPeerId++;
  const before = srv.inbox.records.length;
  c.link.out.connect(host, peerId, LOCALHOST, srv.port, channels, data);
  const connected = await c.inbox.next((r) => r.kind === P.IN_CONNECT && r.peerId === peerId, 'the client connect');
  const accepted = await srv.inbox.next(
    (r) => r.kind === P.IN_CONNECT && readConnect(r.copy, r.view, 0).data === data,
    'the server connect',
    15_000,
    before,
  );
  const self = {
    ...c,
    host,
    stats,
    slot: connected.slot,
    peerId,
    server: { slot: accepted.slot, peerId: accepted.peerId },
    send: (channel, reliable, bytes) => c.link.out.send(host, connected.slot, peerId, channel, reliable, Uint8Array.from(bytes)),
    /** Non-ack packets received from the server on `channel` (their bytes as arrays). */
    packets: (channel) => c.inbox.of(P.IN_RECEIVE).filter((r) => r.channel === channel && r.body[0] !== P.SESSION_CONTROL).map((r) => [...r.body]),
    acks: () => c.inbox.of(P.IN_RECEIVE).filter((r) => r.body[0] === P.SESSION_CONTROL),
  };
  return self;
}

/** The ack packet a session-aware client sends: SESSION_CONTROL, SESSION_OP_ACK, u8 count, count × u32. */
function ackPacket(counts) {
  const bytes = new Uint8Array(3 + 4 * counts.length);
  bytes[0] = P.SESSION_CONTROL;
  bytes[1] = P.SESSION_OP_ACK;
  bytes[2] = counts.length;
  const view = new DataView(bytes.buffer);
  counts.forEach((c, i) => view.setUint32(3 + 4 * i, c, true));
  return bytes;
}

function ackCounts(record) {
  const n = record.body[2];
  return Array.from({ length: n }, (_, i) => record.view.getUint32(P.R_BODY + 3 + 4 * i, true));
}

async function until(condition, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Server → peer: one reliable packet [tag, i] on `channel`. */
function serverSend(srv, target, channel, bytes, { reliable = true, slot = target.slot, peerId = target.peerId } = {}) {
  srv.link.out.send(srv.host, slot, peerId, channel, reliable, Uint8Array.from(bytes));
}

test('(a) a SESSION_MAGIC peer: its reliable packets are counted per channel and acked with a SESSION_CONTROL packet; its acks never reach a ring', async (t) => {
  const srv = await server(t);
  const c = await client(t, srv, P.SESSION_MAGIC);
  for (let i = 0; i < 3; i++) c.send(0, true, [1, i]);
  for (let i = 0; i < 2; i++) c.send(1, true, [2, i]);
  c.send(0, false, [3, 0]); // unreliable: not counted
  const ack = await c.inbox.next((r) => r.kind === P.IN_RECEIVE && r.body[0] === P.SESSION_CONTROL && ackCounts(r).join() === '3,2', 'an ack of [3, 2]');
  t.is(ack.body[1], P.SESSION_OP_ACK);
  t.is(ack.body.length, 3 + 4 * 2, 'count = the peer’s channel count');
  t.is(ack.channel, 0);
  t.is(ack.flags & P.FLAG_RELIABLE, 0, 'acks are unreliable');
  for (const a of c.acks()) t.true(ackCounts(a)[0] <= 3 && ackCounts(a)[1] <= 2);
  await until(() => srv.inbox.of(P.IN_RECEIVE).length === 6, 'the 6 packets at the server');

  // The peer's own acks (and any SESSION_CONTROL packet) are consumed by native: not a record, not a packet.
  const packetsIn = srv.counter(P.C_PACKETS_IN);
  const malformed = srv.counter(P.C_MALFORMED_RECORDS);
  c.send(0, false, ackPacket([0, 0]));
  c.send(0, false, [P.SESSION_CONTROL, 9]); // unknown op: malformed
  c.send(0, true, [4, 0]);
  await until(() => srv.inbox.of(P.IN_RECEIVE).length === 7, 'the packet after the acks');
  t.deepEqual([...srv.inbox.of(P.IN_RECEIVE).at(-1).body], [4, 0]);
  t.is(srv.counter(P.C_PACKETS_IN), packetsIn + 1);
  await until(() => srv.counter(P.C_MALFORMED_RECORDS) === malformed + 1, 'the malformed control packet counted');
  await c.inbox.next((r) => r.kind === P.IN_RECEIVE && r.body[0] === P.SESSION_CONTROL && ackCounts(r).join() === '4,2', 'an ack of [4, 2]');

  // Stats row [19]: ENet's lastReceiveTime, on server and client hosts.
  await until(() => srv.stats[c.server.slot * P.STATS_ROW + P.STATS_LAST_RECEIVE] !== 0, 'the server row’s lastReceiveTime');
  await until(() => c.stats[c.slot * P.STATS_ROW + P.STATS_LAST_RECEIVE] !== 0, 'the client row’s lastReceiveTime');
});

test('(b) reliable sends to a session peer are kept in its outbox until its ack; uncounted and unreliable ones are not', async (t) => {
  const srv = await server(t);
  const c = await client(t, srv, P.SESSION_MAGIC);
  for (let i = 0; i < 5; i++) serverSend(srv, c.server, 0, [...new Uint8Array(99), i]); // 100 bytes each
  serverSend(srv, c.server, 1, new Uint8Array(50));
  serverSend(srv, c.server, 0, new Uint8Array(1000), { reliable: false });
  srv.link.out.sendControlPacket(srv.host, c.server.slot, c.server.peerId, 0, new Uint8Array(1000), true); // FLAG_UNCOUNTED
  await until(() => c.packets(0).length === 7 && c.packets(1).length === 1, 'the packets at the client');
  t.is(srv.counter(P.C_SESSION_OUTBOX_BYTES), 550, 'five of 100 bytes on channel 0, one of 50 on channel 1');

  c.send(0, false, ackPacket([3, 0]));
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 250, 'the outbox trimmed to seq 4..5 and channel 1');
  c.send(0, false, ackPacket([5, 1]));
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 0, 'the outbox empty');

  // Past sessionOutboxBytes: IN_SESSION_OVERFLOW once.
  const small = await server(t, { sessionOutboxBytes: 300 });
  const d = await client(t, small, P.SESSION_MAGIC);
  for (let i = 0; i < 5; i++) serverSend(small, d.server, 0, new Uint8Array(100));
  const overflow = await small.inbox.next((r) => r.kind === P.IN_SESSION_OVERFLOW, 'IN_SESSION_OVERFLOW');
  t.is(overflow.peerId, d.server.peerId);
  t.is(overflow.slot, d.server.slot);
  await sleep(50);
  t.is(small.inbox.of(P.IN_SESSION_OVERFLOW).length, 1, 'once');
});

/** A client host that vanishes: destroyed without a disconnect (the server times it out). */
function vanish(c) {
  c.link.destroyHost(c.host);
}

test('(c) a session peer that vanishes is dropped (IN_DROPPED, to its actor ring), its reliable sends wait in the outbox, and a resume on a new connection delivers them in order', async (t) => {
  const srv = await server(t, { actors: 1 });
  const [actor] = srv.actorInboxes;
  const a = await client(t, srv, P.SESSION_MAGIC);
  // Route the peer to actor ring 1 (docs/protocol.md "Routing").
  srv.link.out.route(srv.host, a.server.slot, a.server.peerId, 1, Uint8Array.of(7));
  await srv.inbox.next((r) => r.kind === P.IN_ROUTED, 'IN_ROUTED');
  srv.link.out.routeDone(srv.host, a.server.slot, a.server.peerId);
  await actor.next((r) => r.kind === P.IN_ATTACH, 'IN_ATTACH');
  // Traffic both ways settles ENet's round-trip time, so that its timeout comes in seconds.
  for (let i = 0; i < 40; i++) {
    serverSend(srv, a.server, 0, [0, i]);
    a.send(0, true, [9, i]);
    await sleep(10);
  }
  await until(() => a.packets(0).length === 40, 'the first 40 at the client');
  a.send(0, false, ackPacket([40, 0]));
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 0, 'the first 40 acked');

  const started = Date.now();
  const row = a.server.slot * P.STATS_ROW + P.STATS_FIRST;
  t.log(`rtt ${srv.stats[row + 3]} var ${srv.stats[row + 4]}`);
  vanish(a);
  const dropped = await actor.next((r) => r.kind === P.IN_DROPPED, 'IN_DROPPED on the actor ring', 40_000);
  t.log(`dropped after ${Date.now() - started} ms`);
  t.is(dropped.peerId, a.server.peerId);
  t.is(readDropped(dropped.copy, dropped.view, 0, dropped.copy.length).cause, P.CAUSE_REMOTE);
  t.is(srv.inbox.of(P.IN_DISCONNECT).length + actor.of(P.IN_DISCONNECT).length, 0, 'no IN_DISCONNECT');
  t.is(srv.stats[a.server.slot * P.STATS_ROW + P.STATS_PEER_ID], 0, 'the slot is forgotten');

  // Meanwhile: reliable sends go to the outbox (numbered 41..), unreliable ones are dropped quietly.
  const stale = srv.counter(P.C_DROPPED_STALE);
  for (let i = 40; i < 45; i++) serverSend(srv, a.server, 0, [0, i]);
  serverSend(srv, a.server, 1, [1, 0]);
  serverSend(srv, a.server, 0, [5, 5], { reliable: false });
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 12, 'six packets of 2 bytes in the outbox');
  t.is(srv.counter(P.C_DROPPED_STALE), stale, 'not counted as stale');

  // A new connection comes to resume: export, then resume with the client's counts.
  const b = await client(t, srv, P.RESUME_MAGIC);
  srv.link.out.sessionExport(srv.host, a.server.slot, a.server.peerId);
  const exported = await srv.inbox.next((r) => r.kind === P.IN_SESSION_EXPORTED, 'IN_SESSION_EXPORTED');
  t.is(exported.peerId, a.server.peerId);
  t.is(exported.flags & P.FLAG_GONE, 0);
  t.is(srv.counter(P.C_SESSION_OUTBOX_BYTES), 0, 'parked sessions are not counted');
  srv.link.out.sessionResume(srv.host, b.server.slot, b.server.peerId, a.server.peerId, [40, 0]);
  const resumed = await srv.inbox.next((r) => r.kind === P.IN_SESSION_RESUMED, 'IN_SESSION_RESUMED');
  t.is(resumed.flags & P.FLAG_GONE, 0);
  t.is(resumed.slot, b.server.slot);
  t.is(resumed.peerId, a.server.peerId);
  t.deepEqual(readSessionResumed(resumed.view, 0, resumed.copy.length), { temporaryPeerId: b.server.peerId, counts: [40, 0] });
  const back = await actor.next((r) => r.kind === P.IN_RESUMED, 'IN_RESUMED on the actor ring');
  t.is(back.slot, b.server.slot);
  t.is(back.peerId, a.server.peerId);
  t.is(srv.stats[b.server.slot * P.STATS_ROW + P.STATS_PEER_ID], a.server.peerId, 'the slot has the session’s peerId');

  await until(() => b.packets(0).length === 5 && b.packets(1).length === 1, 'the kept packets at the new connection');
  t.deepEqual(b.packets(0), [40, 41, 42, 43, 44].map((i) => [0, i]));
  t.deepEqual(b.packets(1), [[1, 0]]);
  t.is(srv.counter(P.C_SESSION_RESENDS), 6);
  // Routed at once: the peer's packets on the new connection go to the actor.
  b.send(0, true, [9, 40]);
  const moved = await actor.next((r) => r.kind === P.IN_RECEIVE && r.body[0] === 9 && r.body[1] === 40, 'a packet of the new connection at the actor');
  t.is(moved.peerId, a.server.peerId);
  // Both numberings go on: 41 received from the client on channel 0, and the server's next is 46.
  await b.inbox.next((r) => r.kind === P.IN_RECEIVE && r.body[0] === P.SESSION_CONTROL && ackCounts(r).join() === '41,0', 'an ack of [41, 0]');
  serverSend(srv, { slot: b.server.slot, peerId: a.server.peerId }, 0, [0, 45]);
  await until(() => b.packets(0).length === 6, 'the next packet');
  b.send(0, false, ackPacket([46, 1]));
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 0, 'all of them acked');
});

test('(d) EXPORT of a live session resets its connection; RESUME on a new one re-sends exactly what the client did not count, in order, and reports native’s counts', async (t) => {
  const srv = await server(t);
  const a = await client(t, srv, P.SESSION_MAGIC);
  const other = await client(t, srv, P.SESSION_MAGIC);
  const plain = await client(t, srv, 0);
  for (let i = 1; i <= 5; i++) serverSend(srv, a.server, 0, [0, i]);
  // One packet to three peers (OUT_SEND_MULTI): numbered and kept once per peer with a session.
  const targets = Uint32Array.of(a.server.slot, a.server.peerId, other.server.slot, other.server.peerId, plain.server.slot, plain.server.peerId);
  srv.link.out.sendMulti(srv.host, 0, true, targets, Uint8Array.of(0, 6));
  for (let i = 1; i <= 2; i++) serverSend(srv, a.server, 1, [1, i]);
  for (let i = 0; i < 4; i++) a.send(0, true, [9, i]);
  a.send(1, true, [9, 9]);
  await until(() => a.packets(0).length === 6 && a.packets(1).length === 2, 'the packets at the client');
  await until(() => other.packets(0).length === 1 && plain.packets(0).length === 1, 'the shared packet at the others');
  await until(() => srv.inbox.of(P.IN_RECEIVE).length === 5, 'the client’s packets at the server');
  a.send(0, false, ackPacket([2, 0]));
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 12 + 2, 'seq 3..6 and channel 1’s two kept, and the other peer’s one');

  const b = await client(t, srv, P.RESUME_MAGIC);
  // Its first packet (`_resume`, left out of the client's numbering): not counted, so never acked.
  b.send(0, true, [7, 7]);
  await srv.inbox.next((r) => r.kind === P.IN_RECEIVE && r.peerId === b.server.peerId, 'the `_resume` packet');
  await sleep(2 * P.ACK_INTERVAL_MS);
  t.is(b.acks().length, 0, 'no ack on a connection that comes to resume');
  srv.link.out.sessionExport(srv.host, a.server.slot, a.server.peerId);
  const exported = await srv.inbox.next((r) => r.kind === P.IN_SESSION_EXPORTED, 'IN_SESSION_EXPORTED');
  t.is(exported.flags & P.FLAG_GONE, 0);
  t.is(srv.stats[a.server.slot * P.STATS_ROW + P.STATS_PEER_ID], 0, 'the old slot is forgotten at once');
  // The client says it received 3 on channel 0 and 1 on channel 1 (more than it acked).
  srv.link.out.sessionResume(srv.host, b.server.slot, b.server.peerId, a.server.peerId, [3, 1]);
  const resumed = await srv.inbox.next((r) => r.kind === P.IN_SESSION_RESUMED, 'IN_SESSION_RESUMED');
  t.deepEqual(readSessionResumed(resumed.view, 0, resumed.copy.length), { temporaryPeerId: b.server.peerId, counts: [4, 1] });
  t.is(resumed.slot, b.server.slot);
  t.is(resumed.peerId, a.server.peerId);
  await until(() => b.packets(0).length === 3 && b.packets(1).length === 1, 'the re-sent packets');
  await sleep(100);
  t.deepEqual(b.packets(0), [[0, 4], [0, 5], [0, 6]]);
  t.deepEqual(b.packets(1), [[1, 2]]);
  t.is(srv.counter(P.C_SESSION_RESENDS), 4);
  t.is(srv.counter(P.C_SESSION_OUTBOX_BYTES), 8 + 2);
  // The other peer's copy of the shared packet is its own: its ack frees it.
  other.send(0, false, ackPacket([1, 0]));
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 8, 'the other peer’s outbox empty');
  t.is(srv.inbox.of(P.IN_DISCONNECT).length + srv.inbox.of(P.IN_DROPPED).length, 0, 'the export made no disconnect record');
  t.is(b.acks().length, 0, 'nothing received since the resume: no ack');

  // A record written before JS learnt of the resume (old slot) reaches the new connection.
  serverSend(srv, a.server, 0, [0, 7]);
  await until(() => b.packets(0).length === 4, 'the late send');
  t.deepEqual(b.packets(0).at(-1), [0, 7]);

  // Unknown sessions: FLAG_GONE.
  srv.link.out.sessionExport(srv.host, 0, 999_999);
  const gone = await srv.inbox.next((r) => r.kind === P.IN_SESSION_EXPORTED && r.peerId === 999_999, 'IN_SESSION_EXPORTED of an unknown session');
  t.is(gone.flags & P.FLAG_GONE, P.FLAG_GONE);
  srv.link.out.sessionResume(srv.host, b.server.slot, a.server.peerId, 999_998, [0, 0]);
  const refused = await srv.inbox.next((r) => r.kind === P.IN_SESSION_RESUMED && r.peerId === 999_998, 'IN_SESSION_RESUMED of an unknown session');
  t.is(refused.flags & P.FLAG_GONE, P.FLAG_GONE);
  t.is(srv.stats[b.server.slot * P.STATS_ROW + P.STATS_PEER_ID], a.server.peerId, 'the connection keeps its session');
});

test('(e) END of a detached session emits its IN_DISCONNECT and frees its outbox; END of an attached one only ends the numbering', async (t) => {
  const srv = await server(t);
  const a = await client(t, srv, P.SESSION_MAGIC);
  for (let i = 0; i < 40; i++) {
    serverSend(srv, a.server, 0, [0, i]);
    a.send(0, true, [9, i]);
    await sleep(10);
  }
  await until(() => a.packets(0).length === 40, 'the packets at the client');
  vanish(a);
  const dropped = await srv.inbox.next((r) => r.kind === P.IN_DROPPED, 'IN_DROPPED', 40_000);
  t.is(dropped.peerId, a.server.peerId);
  serverSend(srv, a.server, 0, [0, 40]);
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 2 * 41, 'the unacked 40 and the new one kept');
  const disconnects = srv.counter(P.C_DISCONNECTS);
  srv.link.out.sessionEnd(srv.host, a.server.slot, a.server.peerId);
  const gone = await srv.inbox.next((r) => r.kind === P.IN_DISCONNECT, 'IN_DISCONNECT');
  t.is(gone.peerId, a.server.peerId);
  t.is(gone.slot, a.server.slot);
  t.deepEqual(readDisconnect(gone.copy, gone.view, 0, gone.copy.length), { data: 0, cause: P.CAUSE_REMOTE, reason: '' });
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 0, 'the outbox freed');
  t.is(srv.counter(P.C_DISCONNECTS), disconnects + 1);
  // Gone for good: records naming it are stale now, and a second END too.
  const stale = srv.counter(P.C_DROPPED_STALE);
  serverSend(srv, a.server, 0, [0, 41]);
  srv.link.out.sessionEnd(srv.host, a.server.slot, a.server.peerId);
  await until(() => srv.counter(P.C_DROPPED_STALE) === stale + 2, 'both stale');

  // Attached: the connection stays, as a peer without a session (no outbox, no acks).
  const b = await client(t, srv, P.SESSION_MAGIC);
  serverSend(srv, b.server, 0, [0, 1]);
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 2, 'kept');
  srv.link.out.sessionEnd(srv.host, b.server.slot, b.server.peerId);
  await until(() => srv.counter(P.C_SESSION_OUTBOX_BYTES) === 0, 'freed');
  serverSend(srv, b.server, 0, [0, 2]);
  await until(() => b.packets(0).length === 2, 'still connected');
  t.is(srv.counter(P.C_SESSION_OUTBOX_BYTES), 0);
  t.is(srv.inbox.of(P.IN_DISCONNECT).filter((r) => r.peerId === b.server.peerId).length, 0);

  // A session client that leaves says so (SESSION_MAGIC as its disconnect data): IN_DISCONNECT, no drop.
  const c = await client(t, srv, P.SESSION_MAGIC);
  c.link.out.disconnect(c.host, c.slot, c.peerId, P.DISCONNECT_LATER, P.SESSION_MAGIC);
  const left = await srv.inbox.next((r) => r.kind === P.IN_DISCONNECT && r.peerId === c.server.peerId, 'the leaving client’s IN_DISCONNECT');
  t.is(readDisconnect(left.copy, left.view, 0, left.copy.length).data, P.SESSION_MAGIC);
  t.is(srv.inbox.of(P.IN_DROPPED).filter((r) => r.peerId === c.server.peerId).length, 0);
});

test('(f) a peer without a session (connect data 0, or any data on a host without sessions) sees no ack and keeps no outbox', async (t) => {
  const srv = await server(t);
  const plain = await client(t, srv, 0);
  const off = await server(t, { sessionOutboxBytes: 0 });
  const magicOnOff = await client(t, off, P.SESSION_MAGIC);
  for (const [s, c] of [
    [srv, plain],
    [off, magicOnOff],
  ]) {
    for (let i = 0; i < 5; i++) {
      c.send(0, true, [9, i]);
      serverSend(s, c.server, 0, [0, i]);
    }
    // A packet that looks like an ack is just a packet for a peer without a session.
    c.send(0, true, ackPacket([1, 1]));
  }
  for (const [s, c] of [
    [srv, plain],
    [off, magicOnOff],
  ]) {
    await until(() => s.inbox.of(P.IN_RECEIVE).filter((r) => r.peerId === c.server.peerId).length === 6, 'the six packets at the server');
    t.is(s.inbox.of(P.IN_RECEIVE).at(-1).body[0], P.SESSION_CONTROL, 'delivered, not consumed');
    await until(() => c.packets(0).length === 5, 'the five at the client');
  }
  await sleep(3 * P.ACK_INTERVAL_MS);
  t.is(plain.acks().length, 0);
  t.is(magicOnOff.acks().length, 0);
  t.is(srv.counter(P.C_SESSION_OUTBOX_BYTES), 0);
  t.is(off.counter(P.C_SESSION_OUTBOX_BYTES), 0);
  // It leaves (or is dropped) as ever: IN_DISCONNECT.
  plain.link.out.disconnect(plain.host, plain.slot, plain.peerId, P.DISCONNECT_LATER, 0);
  await srv.inbox.next((r) => r.kind === P.IN_DISCONNECT && r.peerId === plain.server.peerId, 'IN_DISCONNECT');
});
