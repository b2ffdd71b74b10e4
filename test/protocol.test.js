// The record constants exist twice, in src/wire/protocol.ts (JS side) and native/src/protocol.h
// (C++ side), under the same names: docs/protocol.md is the contract, and this test keeps the two
// copies equal both ways.
import test from 'ava';
import { readFileSync } from 'node:fs';
import * as protocol from '../dist/wire/protocol.js';

const header = readFileSync(new URL('../native/src/protocol.h', import.meta.url), 'utf8');
// Every `constexpr T NAME = expr;` and enum entry `NAME = expr,` of protocol.h, in order; expr is a
// number or arithmetic over numbers, sizeof(type) and names defined above it.
const SIZEOF = { uint32_t: 4, double: 8 };
const native = new Map();
for (const [, name, expr] of header.matchAll(/^\s*(?:constexpr\s+\w+\s+)?([A-Z][A-Z0-9_]*)\s*=\s*([^;,\n]+?)\s*[;,]/gm)) {
  const numeric = expr.replace(/sizeof\((\w+)\)/g, (_, type) => String(SIZEOF[type])).replace(/\b[A-Z][A-Z0-9_]*\b/g, (ref) => {
    if (!native.has(ref)) throw new Error(`protocol.h: ${name} uses ${ref} before it is defined`);
    return String(native.get(ref));
  });
  if (!/^(?:0x[0-9a-fA-F]+|[\d\s*+\-()])+$/.test(numeric)) throw new Error(`protocol.h: cannot evaluate ${name} = ${expr}`);
  native.set(name, Function(`return (${numeric});`)());
}
const ts = new Map(Object.entries(protocol).filter(([, v]) => typeof v === 'number'));

// protocol.h names protocol.ts does not have, each with why.
const NATIVE_ONLY = {
  STATS_ROW_BYTES: 'a row in bytes, for native size checks (JS sizes the table in u32 rows)',
  STATS_INTERVAL_MS: "how often native rewrites the stats rows: native's schedule",
  COUNTERS_BYTES: 'the counters table in bytes, for the reactorCreate size check',
  C_COUNT: 'how many counter slots native writes (the rest of COUNTERS_SLOTS is spare)',
  ENET_MAX_PEERS: "ENet's limit, for hostCreate's argument check (JS keeps it with its defaults)",
  ENET_MAX_CHANNELS: "ENet's limit, for hostCreate's argument check (JS keeps it with its defaults)",
  EVENTS_PER_PASS: "ENet events one pass takes at most: native's schedule",
  QUIET_SLEEP_MS: "the net actor's sleep with no peer at all: native's schedule",
};

test('protocol.h parses into the constants it defines', (t) => {
  t.true(native.size > 60);
  t.is(native.get('R_BODY'), native.get('RECORD_HEADER_BYTES'));
});

test('every numeric constant of protocol.ts has the same name and value in protocol.h', (t) => {
  t.true(ts.size > 40);
  for (const [name, value] of ts) {
    t.true(native.has(name), `${name} is missing from protocol.h`);
    t.is(native.get(name), value, name);
  }
});

test('every constant of protocol.h but the listed native-only ones has the same name and value in protocol.ts', (t) => {
  for (const [name, value] of native) {
    if (name in NATIVE_ONLY) continue;
    t.true(ts.has(name), `${name} is missing from protocol.ts (or belongs in NATIVE_ONLY, with a reason)`);
    t.is(ts.get(name), value, name);
  }
  for (const name of Object.keys(NATIVE_ONLY)) {
    t.true(native.has(name), `NATIVE_ONLY lists ${name}, which protocol.h does not define`);
    t.false(ts.has(name), `NATIVE_ONLY lists ${name}, which protocol.ts has: drop it from the list`);
  }
});

test('record kinds are distinct within each direction', (t) => {
  const kinds = (prefix) => Object.entries(protocol).filter(([name]) => name.startsWith(prefix)).map(([, v]) => v);
  for (const prefix of ['IN_', 'OUT_']) t.is(new Set(kinds(prefix)).size, kinds(prefix).length, prefix);
});
