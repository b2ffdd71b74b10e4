// The record constants exist twice, in src/wire/protocol.ts (JS side) and native/src/protocol.h
// (C++ side): docs/protocol.md is the contract, and this test keeps the two copies equal.
import test from 'ava';
import { readFileSync } from 'node:fs';
import * as protocol from '../dist/wire/protocol.js';

const header = readFileSync(new URL('../native/src/protocol.h', import.meta.url), 'utf8');
const native = new Map(
  [...header.matchAll(/^\s*(?:constexpr\s+\w+\s+)?([A-Z][A-Z0-9_]+)\s*=\s*(\d+)\s*[;,]/gm)].map((m) => [m[1], Number(m[2])]),
);
// The few names that differ between the two sides.
const CPP_NAME = {
  RECORD_HEADER_BYTES: 'REC_HEADER_BYTES',
  R_BODY: 'REC_HEADER_BYTES',
  R_KIND: 'REC_KIND',
  R_CHANNEL: 'REC_CHANNEL',
  R_FLAGS: 'REC_FLAGS',
  R_HOST: 'REC_HOST',
  R_SLOT: 'REC_SLOT',
  R_PEER_ID: 'REC_PEER_ID',
  CAUSE_LOCAL: 'CAUSE_REQUESTED',
  STATS_ROW: 'STATS_ROW_U32',
  STATS_FIRST: 'STATS_FIRST_STATISTIC',
  C_MALFORMED_RECORDS: 'C_MALFORMED',
  SERVICE_NOTIFY_INBOUND: 'SERVICE_NOTIFY',
  SERVICE_DESTROYED: 'SERVICE_DESTROYED',
};

test('every numeric constant of protocol.ts has the same value in protocol.h', (t) => {
  const names = Object.entries(protocol).filter(([, v]) => typeof v === 'number');
  t.true(names.length > 40);
  for (const [name, value] of names) {
    const cpp = CPP_NAME[name] ?? name;
    t.true(native.has(cpp), `${name} (${cpp}) is missing from protocol.h`);
    t.is(native.get(cpp), value, name);
  }
});

test('record kinds are distinct within each direction', (t) => {
  const kinds = (prefix) => Object.entries(protocol).filter(([name]) => name.startsWith(prefix)).map(([, v]) => v);
  for (const prefix of ['IN_', 'OUT_']) t.is(new Set(kinds(prefix)).size, kinds(prefix).length, prefix);
});
