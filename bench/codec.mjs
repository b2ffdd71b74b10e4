#!/usr/bin/env node
// Codec benchmark: encode and decode speed and size of the same messages in three wire formats.
//
//   node bench/codec.mjs [--quick] [--rounds N] [--min-ms MS] [--out bench/results/codec.json]
//
// Formats, through the package's public codec (dist/index.js, so build first), type byte included:
//   VARIANT  Godot 4 binary Variant     ENetPacketUtils.encodeVariant / decodeVariant
//   MSGPACK  msgpackr (our default)     ENetPacketUtils.encodeMsgpack / decodeAuto
//   JSON     UTF-8 JSON text            ENetPacketUtils.encodeJson(JSON.stringify(v)) / decodeJson
// Messages, built from one seeded generator so every format carries the same values:
//   state   a typical game-state dictionary: tick, 16 players (id, name, position, rotation, velocity,
//           hp, flags, inventory) and a few events. Vectors are Vector3 (float32) for VARIANT, plain
//           {x,y,z} objects for MSGPACK and JSON (what a JS user sends); floats are float32 values.
//   chat    a small chat dictionary.
//   floats  1000 float32s: PackedFloat32Array (a Float32Array) for VARIANT, the Float32Array's bytes
//           (msgpack bin, turned back into a Float32Array after decoding) for MSGPACK, and a number[]
//           for JSON (which has no typed arrays).
// Before timing, decode(encode(x)) must deep-equal x for every message and format (else exit 1).
// Method: warm-up, then for each measurement batches timed with process.hrtime.bigint() until it has
// run >= min-ms (300 ms; --quick: 50 ms); rounds (5) are interleaved across all measurements and the
// median round is reported; the ×MSGPACK ratios are the median of the per-round ratios. Table on
// stdout, progress on stderr, every round's numbers in the JSON file (bench/results/codec.json).
import { headerComment, machineBusyTicks } from './lib/proc.mjs';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

// ---------- options ----------
const opts = { quick: false, rounds: 5, minMs: null, warmupMs: null, out: join(here, 'results', 'codec.json') };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    const take = () => {
      if (a[i + 1] === undefined) fail(`${k} needs a value`);
      return a[++i];
    };
    const positive = (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) fail(`invalid ${k}: ${v}`);
      return n;
    };
    switch (k) {
      case '--quick': opts.quick = true; break;
      case '--rounds': opts.rounds = Math.round(positive(take())); break;
      case '--min-ms': opts.minMs = positive(take()); break;
      case '--out': opts.out = resolve(take()); break;
      case '-h': case '--help':
        process.stdout.write(headerComment(import.meta.url));
        process.exit(0);
      default: fail(`unknown option ${k}`);
    }
  }
  opts.minMs ??= opts.quick ? 50 : 300;
  opts.warmupMs = opts.quick ? 30 : 150;
}

function fail(msg) {
  process.stderr.write(`bench/codec.mjs: ${msg}\n`);
  process.exit(1);
}
const log = (m) => process.stderr.write(`[codec] ${m}\n`);

let pkg;
try {
  pkg = await import('../dist/index.js');
} catch (e) {
  fail(`cannot load dist/index.js (build the package first: npm run build): ${e.message}`);
}
const { ENetPacketUtils: U, Vector3 } = pkg;
const msgpackr = await import('msgpackr'); // the instance dist/ uses: is its native string decoder active?
const msgpackrVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'msgpackr', 'package.json'), 'utf8')).version;

// ---------- messages ----------
/** Deterministic PRNG (mulberry32): the same messages on every run. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The game state, with `vec(x, y, z)` making the vectors. Floats are float32 values (what a Godot
 * client's real_t holds, and what a Vector3 carries), so every format can round-trip them exactly.
 */
function makeState(vec) {
  const rand = rng(0x5eed);
  const f32 = (lo, hi) => Math.fround(lo + rand() * (hi - lo));
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const players = [];
  for (let i = 0; i < 16; i++) {
    players.push({
      id: 1000 + i,
      name: `player_${String(i + 1).padStart(2, '0')}`,
      position: vec(f32(-200, 200), f32(0, 30), f32(-200, 200)),
      rotation: f32(-Math.PI, Math.PI),
      velocity: vec(f32(-8, 8), f32(-2, 2), f32(-8, 8)),
      hp: int(0, 100),
      flags: [rand() < 0.9, rand() < 0.2, rand() < 0.3, rand() < 0.1],
      inventory: Array.from({ length: 8 }, () => int(0, 4000)),
    });
  }
  return {
    tick: 123456,
    players,
    events: [
      { type: 'hit', from: 1003, to: 1007, damage: 12 },
      { type: 'pickup', player: 1005, item: 1042 },
      { type: 'spawn', player: 1011, at: vec(f32(-200, 200), 0, f32(-200, 200)) },
      { type: 'chat', player: 1002, text: 'gg' },
    ],
  };
}

const chat = { type: 'chat', from: 1007, channel: 'team', text: 'push B, I have the flag!', time: 987654 };

const floats = (() => {
  const rand = rng(0xf10a7);
  const a = new Float32Array(1000);
  for (let i = 0; i < a.length; i++) a[i] = (rand() - 0.5) * 1000;
  return a;
})();

/** msgpack carries a Float32Array as `bin`: its bytes come back as a Buffer; rebuild the floats (copied, aligned). */
function floatsFromBytes(bytes) {
  const out = new Float32Array(bytes.length >>> 2);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

const godotState = makeState((x, y, z) => new Vector3(x, y, z));
const plainState = makeState((x, y, z) => ({ x, y, z }));

const variant = { encode: (v) => U.encodeVariant(v), decode: (b) => U.decodeVariant(b) };
const msgpack = { encode: (v) => U.encodeMsgpack(v), decode: (b) => U.decodeAuto(b) };
const json = { encode: (v) => U.encodeJson(JSON.stringify(v)), decode: (b) => U.decodeJson(b) };

const FORMATS = ['VARIANT', 'MSGPACK', 'JSON'];
const CASES = [
  {
    message: 'state',
    what: 'game state, 16 players',
    formats: {
      VARIANT: { shape: 'Vector3', value: godotState, ...variant },
      MSGPACK: { shape: '{x,y,z}', value: plainState, ...msgpack },
      JSON: { shape: '{x,y,z}', value: plainState, ...json },
    },
  },
  {
    message: 'chat',
    what: 'small chat dictionary',
    formats: {
      VARIANT: { shape: 'Dictionary', value: chat, ...variant },
      MSGPACK: { shape: 'map', value: chat, ...msgpack },
      JSON: { shape: 'object', value: chat, ...json },
    },
  },
  {
    message: 'floats',
    what: '1000 float32',
    formats: {
      VARIANT: { shape: 'PackedFloat32Array', value: floats, ...variant },
      MSGPACK: { shape: 'bin (Float32Array)', value: floats, encode: msgpack.encode, decode: (b) => floatsFromBytes(U.decodeAuto(b)) },
      JSON: { shape: 'number[]', value: Array.from(floats), ...json },
    },
  },
];

// ---------- verification: the codecs must round-trip before they are timed ----------
const measurements = [];
for (const c of CASES) {
  for (const format of FORMATS) {
    const f = c.formats[format];
    let bytes;
    let decoded;
    try {
      bytes = Buffer.from(f.encode(f.value)); // a copy: encoders may return views of reused buffers
      decoded = f.decode(bytes);
      assert.deepStrictEqual(decoded, f.value);
      assert.deepStrictEqual(Buffer.from(f.encode(f.value)), bytes, 'encoding the same value twice gives other bytes');
    } catch (e) {
      fail(`${c.message} / ${format}: decode(encode(x)) does not give x back, refusing to time a broken codec:\n${e.stack ?? e}`);
    }
    const expectedType = { VARIANT: 1, MSGPACK: 6, JSON: 3 }[format];
    if (bytes[0] !== expectedType) fail(`${c.message} / ${format}: packet type ${bytes[0]}, expected ${expectedType}`);
    measurements.push({ message: c.message, what: c.what, format, shape: f.shape, bytes: bytes.length, f, packet: bytes, encodeNs: [], decodeNs: [] });
  }
}
log(`verified: decode(encode(x)) deep-equals x for ${measurements.length} message/format pairs`);

// ---------- timing ----------
let sink = 0; // results feed this so that no call can be optimised away

/** ns per call of fn(arg): batches (sized to ~1 ms) timed until minMs has been spent. */
function timeIt(fn, arg, minMs) {
  const minNs = BigInt(Math.round(minMs * 1e6));
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink ^= consume(fn(arg));
    if (process.hrtime.bigint() - t0 >= 1_000_000n || batch >= 1 << 20) break;
    batch *= 2;
  }
  let ops = 0;
  let ns = 0n;
  while (ns < minNs) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink ^= consume(fn(arg));
    ns += process.hrtime.bigint() - t0;
    ops += batch;
  }
  return Number(ns) / ops;
}

function consume(r) {
  return r === null || r === undefined ? 0 : (r.length ?? 1);
}


const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const started = process.hrtime.bigint();
const busy0 = machineBusyTicks();
const cpu0 = process.cpuUsage();
log(`warm-up ${opts.warmupMs} ms per measurement, then ${opts.rounds} rounds of >= ${opts.minMs} ms per measurement`);
for (const m of measurements) {
  timeIt(m.f.encode, m.f.value, opts.warmupMs);
  timeIt(m.f.decode, m.packet, opts.warmupMs);
}
for (let round = 0; round < opts.rounds; round++) {
  for (const m of measurements) {
    m.encodeNs.push(timeIt(m.f.encode, m.f.value, opts.minMs));
    m.decodeNs.push(timeIt(m.f.decode, m.packet, opts.minMs));
  }
  log(`round ${round + 1}/${opts.rounds} done`);
}
const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpu0);
const busy1 = machineBusyTicks();
let otherCpuPercent = null;
if (busy0 !== null && busy1 !== null) {
  const ownTicks = ((cpu.user + cpu.system) / 1e6) * 100; // USER_HZ is 100 on Linux
  otherCpuPercent = Math.max(0, ((busy1 - busy0 - ownTicks) / 100 / elapsedS) * 100);
}

// ---------- report ----------
const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '-' : Number(v).toFixed(d));
const thousands = (v) => Math.round(v).toLocaleString('en-US');

const rows = measurements.map((m) => {
  const encodeNs = median(m.encodeNs);
  const decodeNs = median(m.decodeNs);
  const spread = (xs) => (Math.max(...xs) - Math.min(...xs)) / median(xs);
  return {
    message: m.message, what: m.what, format: m.format, shape: m.shape, bytes: m.bytes,
    encode: { nsPerOp: encodeNs, opsPerSec: 1e9 / encodeNs, roundsNs: m.encodeNs, spread: spread(m.encodeNs) },
    decode: { nsPerOp: decodeNs, opsPerSec: 1e9 / decodeNs, roundsNs: m.decodeNs, spread: spread(m.decodeNs) },
  };
});
// Ratios to MSGPACK: the median of the per-round ratios (the formats of a message are timed one after
// the other within a round, so a change of CPU speed between rounds cancels out).
for (const [i, r] of rows.entries()) {
  const j = measurements.findIndex((x) => x.message === r.message && x.format === 'MSGPACK');
  const perRound = (key) => measurements[i][key].map((ns, k) => ns / measurements[j][key][k]);
  r.vsMsgpack = { encodeTime: median(perRound('encodeNs')), decodeTime: median(perRound('decodeNs')), bytes: r.bytes / rows[j].bytes };
}

const cols = [
  ['message', 8, 'l'], ['format', 9, 'l'], ['shape', 20, 'l'], ['bytes', 7],
  ['enc ops/s', 12], ['enc ns/op', 11], ['dec ops/s', 12], ['dec ns/op', 11],
  ['enc ×MP', 9], ['dec ×MP', 9], ['size ×MP', 9],
];
const line = (cells) => cells.map((c, i) => (cols[i][2] === 'l' ? String(c).padEnd(cols[i][1]) : String(c).padStart(cols[i][1]))).join(' ');
const out = [];
out.push(`Codec benchmark: median of ${opts.rounds} rounds, >= ${opts.minMs} ms each; packets include the type byte`);
out.push(line(cols.map((c) => c[0])));
out.push('-'.repeat(cols.reduce((n, c) => n + c[1] + 1, -1)));
let previous = null;
for (const r of rows) {
  if (previous !== null && previous !== r.message) out.push('');
  previous = r.message;
  out.push(line([
    r.message, r.format, r.shape, r.bytes,
    thousands(r.encode.opsPerSec), fmt(r.encode.nsPerOp, 0), thousands(r.decode.opsPerSec), fmt(r.decode.nsPerOp, 0),
    fmt(r.vsMsgpack.encodeTime), fmt(r.vsMsgpack.decodeTime), fmt(r.vsMsgpack.bytes),
  ]));
}
out.push('');
out.push('×MP: this format / MSGPACK for the same message (time per op, bytes): > 1 = slower / larger.');
for (const c of CASES) out.push(`${c.message}: ${c.what}`);
out.push(`msgpackr ${msgpackrVersion}, native acceleration ${msgpackr.isNativeAccelerationEnabled ? 'on' : 'off'}; node ${process.version}`);
const noisy = rows.filter((r) => r.encode.spread > 0.2 || r.decode.spread > 0.2);
if (noisy.length) {
  out.push(`* rounds differ by > 20% for ${noisy.length} of ${rows.length} rows (the CPU's speed varied during the run: ` +
    'load elsewhere on the host, or frequency changes); ops/s and ns/op are noisy, the ×MP ratios less so');
}
if (otherCpuPercent !== null && otherCpuPercent > 20) out.push(`* other processes used ${fmt(otherCpuPercent, 0)}% of a core during the run: figures may be disturbed`);

const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgAtStart: loadavg() },
  config: { rounds: opts.rounds, minMs: opts.minMs, warmupMs: opts.warmupMs, quick: opts.quick },
  msgpackr: { version: msgpackrVersion, nativeAcceleration: Boolean(msgpackr.isNativeAccelerationEnabled) },
  messages: Object.fromEntries(CASES.map((c) => [c.message, c.what])),
  results: rows,
  otherCpuPercent,
  elapsedSeconds: elapsedS,
  sink: sink & 1,
};
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
process.stdout.write('\n' + out.join('\n') + '\n');
log(`results written to ${opts.out.replace(root + '/', '')} (${fmt(elapsedS, 1)} s)`);
