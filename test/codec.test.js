import test from 'ava';
import {
  ENetPacketUtils as U,
  encodePacket, decodePacket, encodeRaw, encodeString, encodeJson, encodeMsgpack, encodeNode,
  decodeRaw, decodeString, decodeJson, decodeMsgpack, decodeNodeMetadata, decodeVariant, decodeDictionary,
  encodeVariant, encodeDictionary, varToBytes, bytesToVar,
  isEvent, splitEvent, makeEvent, buildNodeState, resolveLimits, DEFAULT_LIMITS,
} from '../dist/wire/codec/index.js';
import { PacketType, PacketFormat, NodeSyncFlags, Err } from '../dist/wire/enums.js';
import { ENetError } from '../dist/wire/errors.js';
import { DEFAULT_MAX_PACKET_SIZE, DEFAULT_MAX_DEPTH } from '../dist/wire/defaults.js';

const bytes = (...b) => Uint8Array.from(b);
const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');

function invalid(t, fn, message) {
  const error = t.throws(fn, { instanceOf: ENetError }, message);
  t.is(error?.code, Err.ERR_INVALID_DATA, `${message ?? ''}: ${error?.message}`);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Exact bytes

test('RAW: exact bytes, round trip, decode is a view of the input', (t) => {
  const packet = U.encodeAuto(Buffer.from([1, 2, 3]));
  t.deepEqual([...packet], [0, 1, 2, 3]);
  t.deepEqual([...U.encodeAuto(new Uint8Array([0xff]))], [0, 0xff]);
  t.deepEqual([...U.encodeAuto(new Uint8Array(0))], [0]);
  const input = bytes(0, 9, 8, 7);
  const out = U.decodeAuto(input);
  t.deepEqual([...out], [9, 8, 7]);
  t.is(out.buffer, input.buffer, 'RAW decode returns a subarray, not a copy');
  t.deepEqual([...decodeRaw(bytes(0))], []);
  t.deepEqual([...decodeRaw(encodeRaw(bytes(5, 6)))], [5, 6]);
});

test('STRING: exact bytes (u32 LE length + UTF-8)', (t) => {
  t.deepEqual([...U.encodeString('hi')], [4, 2, 0, 0, 0, 0x68, 0x69]);
  t.deepEqual([...U.encodeAuto('hi')], [4, 2, 0, 0, 0, 0x68, 0x69]);
  t.deepEqual([...U.encodeString('')], [4, 0, 0, 0, 0]);
  // é = C3 A9 (2 bytes), € = E2 82 AC (3 bytes), 😀 = F0 9F 98 80 (4 bytes)
  t.deepEqual([...U.encodeString('é€😀')], [4, 9, 0, 0, 0, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  const long = 'x'.repeat(0x1234);
  const p = U.encodeString(long);
  t.deepEqual([...p.subarray(0, 5)], [4, 0x34, 0x12, 0, 0]);
  t.is(p.length, 5 + 0x1234);
});

test('JSON: exact bytes; a string is sent as it is, a value is stringified', (t) => {
  t.deepEqual([...U.encodeJson('{"a":1}')], [3, 7, 0, 0, 0, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d]);
  t.deepEqual([...U.encodeJson({ a: 1 })], [3, 7, 0, 0, 0, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x31, 0x7d]);
  t.deepEqual([...U.encodeJson('not json')], [3, 8, 0, 0, 0, ...Buffer.from('not json')]);
  t.deepEqual([...U.encodeJson([1, 'é'])], [3, 8, 0, 0, 0, 0x5b, 0x31, 0x2c, 0x22, 0xc3, 0xa9, 0x22, 0x5d]);
});

test('MSGPACK: exact bytes of plain msgpack (type byte 6, no msgpackr records)', (t) => {
  t.is(hex(U.encodeMsgpack({ a: 1 })), '0681a16101');
  t.is(hex(U.encodeAuto({ a: 1 })), '0681a16101');
  t.is(hex(U.encodeAuto([1, true, null])), '069301c3c0');
  t.is(hex(U.encodeAuto(null)), '06c0');
  t.is(hex(U.encodeAuto(undefined)), '06c0', 'undefined is written as nil');
  t.is(hex(U.encodeAuto(1.5)), '06cb3ff8000000000000');
  t.is(hex(U.encodeAuto(-(2n ** 63n))), '06d38000000000000000');
  t.is(hex(U.encodeAuto({ b: new Uint8Array([1, 2]) })), '0681a162c4020102', 'Uint8Array inside a value is bin');
  // The same object shape twice must not turn into a msgpackr record.
  t.is(hex(U.encodeAuto([{ a: 1 }, { a: 2 }])), '0692' + '81a16101' + '81a16102');
});

// ---------------------------------------------------------------------------------------------
// Round trips

test('STRING round trips (multi-byte UTF-8, empty, BOM, long)', (t) => {
  for (const s of ['', 'hello', 'héllo wörld', '日本語テキスト', '😀🎮👾', '\uFEFFbom', '\u0000nul', 'x'.repeat(100000)]) {
    t.is(U.decodeAuto(U.encodeAuto(s)), s);
    t.is(U.decodeString(U.encodeString(s)), s);
    t.is(decodeString(encodeString(s)), s);
  }
});

test('JSON round trips: values, and text that is not JSON decodes to the text', (t) => {
  for (const v of [{ a: 1, b: [1, 2, { c: 'é' }] }, [1, 2, 3], 42, 'str', true, null, { nested: { deep: [[[]]] } }]) {
    t.deepEqual(U.decodeJson(U.encodeJson(v)), v);
    t.deepEqual(U.decodeAuto(U.encodeJson(v)), v);
  }
  t.is(U.decodeJson(U.encodeJson('hello there')), 'hello there');
  t.is(U.decodeAuto(U.encodeJson('{broken')), '{broken');
  t.is(U.decodeAuto(U.encodeJson('')), '');
  t.deepEqual(U.decodeAuto(U.encodeJson('{"a": [1, 2]}')), { a: [1, 2] });
  t.is(decodeJson(encodeJson('"quoted"')), 'quoted');
});

test('MSGPACK round trips: objects, arrays, nested, bigint, binary, null, booleans, floats', (t) => {
  const values = [
    { type: 'move', x: 10.5, y: -3.25, id: 7 },
    [1, 'two', 3.5, false, null, [], {}],
    { a: { b: { c: { d: [1, [2, [3, [4]]]] } } } },
    null, true, false, 0, -1, 127, 128, -33, 65535, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER, 0.1, -1e-300, 1e300, Infinity, -Infinity,
    'text', '', 'é😀',
    { unicodeKey_é: 1, '': 2 },
  ];
  for (const v of values) {
    t.deepEqual(U.decodeAuto(U.encodeAuto(v)), v, JSON.stringify(v));
    t.deepEqual(decodeMsgpack(U.encodeMsgpack(v)), v);
  }
  t.true(Number.isNaN(U.decodeAuto(U.encodeAuto(NaN))));
  t.true(Object.is(U.decodeAuto(U.encodeAuto(-0)), -0) || U.decodeAuto(U.encodeAuto(-0)) === 0);
  // bigint: outside the safe range decodes as bigint, inside as number
  for (const big of [2n ** 60n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n]) {
    t.is(U.decodeAuto(U.encodeAuto(big)), big);
  }
  t.is(U.decodeAuto(U.encodeAuto(5n)), 5, 'a small bigint decodes as a number');
  t.deepEqual(U.decodeAuto(U.encodeAuto({ n: 2n ** 62n })), { n: 2n ** 62n });
  // binary
  const bin = U.decodeAuto(U.encodeAuto({ data: Buffer.from([0, 1, 254, 255]) })).data;
  t.true(bin instanceof Uint8Array);
  t.deepEqual([...bin], [0, 1, 254, 255]);
  // maps decode as plain objects
  const obj = U.decodeAuto(U.encodeAuto({ k: 1 }));
  t.is(Object.getPrototypeOf(obj), Object.prototype);
  t.deepEqual(U.decodeAuto(U.encodeAuto(new Map([['a', 1], [2, 'b']]))), { a: 1, 2: 'b' });
  t.deepEqual(U.decodeAuto(U.encodeAuto(new Date(1000))), new Date(1000));
  t.deepEqual(U.decodeAuto(U.encodeAuto({ u: undefined })), { u: null });
});

test('MSGPACK decodes plain msgpack from other implementations (hand-written bytes)', (t) => {
  // fixmap{ "a": uint8 200, "b": int16 -300, "c": str8 "hi", "d": bin8 [1], "e": float32 0.5, "f": array16 [nil] }
  const pkt = bytes(6, 0x86,
    0xa1, 0x61, 0xcc, 200,
    0xa1, 0x62, 0xd1, 0xfe, 0xd4,
    0xa1, 0x63, 0xd9, 2, 0x68, 0x69,
    0xa1, 0x64, 0xc4, 1, 1,
    0xa1, 0x65, 0xca, 0x3f, 0x00, 0x00, 0x00,
    0xa1, 0x66, 0xdc, 0, 1, 0xc0);
  const v = U.decodeAuto(pkt);
  t.is(v.a, 200); t.is(v.b, -300); t.is(v.c, 'hi'); t.deepEqual([...v.d], [1]); t.is(v.e, 0.5); t.deepEqual(v.f, [null]);
  // uint64 / int64 beyond 2^53 → bigint; within → number
  t.is(U.decodeAuto(bytes(6, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), 2n ** 64n - 1n);
  t.is(U.decodeAuto(bytes(6, 0xd3, 0, 0, 0, 0, 0, 0, 0, 5)), 5);
  // timestamp extension (-1) is standard msgpack
  t.deepEqual(U.decodeAuto(bytes(6, 0xd6, 0xff, 0, 0, 0, 1)), new Date(1000));
  // map32 / array32 / str32 headers
  t.deepEqual(U.decodeAuto(bytes(6, 0xdf, 0, 0, 0, 1, 0xa1, 0x6b, 0xdd, 0, 0, 0, 1, 0xdb, 0, 0, 0, 1, 0x7a)), { k: ['z'] });
});

test('encodeAuto picks the type: bytes → RAW, string → STRING, other → MSGPACK or VARIANT', (t) => {
  t.is(U.encodeAuto(Buffer.from([1]))[0], PacketType.RAW);
  t.is(U.encodeAuto(new Uint8Array([1]))[0], PacketType.RAW);
  t.is(U.encodeAuto('x')[0], PacketType.STRING);
  t.is(U.encodeAuto({ a: 1 })[0], PacketType.MSGPACK);
  t.is(U.encodeAuto(5, PacketFormat.MSGPACK)[0], PacketType.MSGPACK);
  t.is(U.encodeAuto('x', PacketFormat.GODOT)[0], PacketType.STRING);
  t.is(U.encodeAuto(Buffer.from([1]), PacketFormat.GODOT)[0], PacketType.RAW);
  t.is(encodePacket({ a: 1 })[0], PacketType.MSGPACK);
  t.true(encodePacket({ a: 1 }) instanceof Uint8Array);
  const e = t.throws(() => encodePacket({ a: 1 }, 99), { instanceOf: ENetError });
  t.is(e.code, Err.ERR_INVALID_PARAMETER);
});

test('GODOT format: the Variant codec is either available or fails with ERR_UNAVAILABLE', (t) => {
  let packet;
  try {
    packet = U.encodeAuto({ a: 1 }, PacketFormat.GODOT);
  } catch (error) {
    t.true(error instanceof ENetError);
    t.is(error.code, Err.ERR_UNAVAILABLE);
    t.regex(error.message, /Godot Variant codec is not available/);
    for (const fn of [() => U.encodeVariant(1), () => U.encodeDictionary({}), () => U.decodeVariant(bytes(1, 0, 0, 0, 0)),
      () => U.decodeDictionary(bytes(2, 27, 0, 0, 0, 0, 0, 0, 0)), () => U.decodeAuto(bytes(1, 0, 0, 0, 0)),
      () => U.varToBytes(1), () => U.bytesToVar(bytes(0, 0, 0, 0)), () => decodeNodeMetadata(bytes(5, 0, 0, 0, 0))]) {
      const err = t.throws(fn, { instanceOf: ENetError });
      t.is(err.code, Err.ERR_UNAVAILABLE);
    }
    return;
  }
  t.is(packet[0], PacketType.VARIANT);
  t.deepEqual(U.decodeAuto(packet), { a: 1 });
});

// ---------------------------------------------------------------------------------------------
// Malformed input: every case is ERR_INVALID_DATA

test('malformed: empty packet, unknown type byte, non-bytes', (t) => {
  invalid(t, () => U.decodeAuto(new Uint8Array(0)), 'empty');
  invalid(t, () => U.decodeAuto(Buffer.alloc(0)), 'empty Buffer');
  invalid(t, () => U.decodeAuto(bytes(7)), 'type 7');
  invalid(t, () => U.decodeAuto(bytes(0xff, 1, 2)), 'type 255');
  invalid(t, () => U.decodeAuto('not bytes'), 'a string');
  invalid(t, () => U.decodeAuto(null), 'null');
});

test('malformed STRING/JSON: bad lengths', (t) => {
  for (const type of [PacketType.STRING, PacketType.JSON]) {
    invalid(t, () => U.decodeAuto(bytes(type)), 'no header');
    invalid(t, () => U.decodeAuto(bytes(type, 1, 0, 0)), 'short header');
    invalid(t, () => U.decodeAuto(bytes(type, 3, 0, 0, 0, 0x61, 0x62)), 'length larger than the body');
    invalid(t, () => U.decodeAuto(bytes(type, 1, 0, 0, 0, 0x61, 0x62)), 'length smaller than the body (trailing bytes)');
    invalid(t, () => U.decodeAuto(bytes(type, 0xff, 0xff, 0xff, 0xff, 0x61)), 'huge length');
    invalid(t, () => U.decodeAuto(bytes(type, 0, 0, 0, 0x80)), 'length with the high byte set');
  }
  t.is(U.decodeAuto(bytes(4, 0, 0, 0, 0)), '');
  invalid(t, () => decodeString(bytes(4, 2, 0, 0, 0, 0x61)), 'decodeString length mismatch');
  invalid(t, () => decodeJson(bytes(3, 0, 0, 0, 0, 0x61)), 'decodeJson length mismatch');
});

test('malformed STRING/JSON: invalid UTF-8', (t) => {
  const cases = [
    [0xff], [0xc3], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80] /* surrogate */, [0xc0, 0xaf] /* overlong */,
    [0xf4, 0x90, 0x80, 0x80] /* > U+10FFFF */, [0x61, 0x80],
  ];
  for (const body of cases) {
    for (const type of [PacketType.STRING, PacketType.JSON]) {
      invalid(t, () => U.decodeAuto(bytes(type, body.length, 0, 0, 0, ...body)), `UTF-8 ${body}`);
    }
    invalid(t, () => U.decodeString(bytes(4, body.length, 0, 0, 0, ...body)), `decodeString UTF-8 ${body}`);
  }
});

test('malformed MSGPACK: truncated, bad tokens, trailing garbage, foreign extensions', (t) => {
  invalid(t, () => U.decodeAuto(bytes(6)), 'no body');
  invalid(t, () => U.decodeAuto(bytes(6, 0x92, 0x01)), 'array missing an element');
  invalid(t, () => U.decodeAuto(bytes(6, 0xa5, 0x61)), 'string shorter than its length');
  invalid(t, () => U.decodeAuto(bytes(6, 0xcb, 0, 0)), 'truncated float64');
  invalid(t, () => U.decodeAuto(bytes(6, 0xc4, 10, 1)), 'truncated bin');
  invalid(t, () => U.decodeAuto(bytes(6, 0xc1)), 'never-used token 0xc1');
  invalid(t, () => U.decodeAuto(bytes(6, 0xdd, 0xff, 0xff, 0xff, 0xff)), 'array32 count beyond the data');
  invalid(t, () => U.decodeAuto(bytes(6, 0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0)), 'map32 count beyond the data');
  invalid(t, () => U.decodeAuto(bytes(6, 0x01, 0x02)), 'trailing byte after a value');
  invalid(t, () => U.decodeAuto(bytes(6, 0x81, 0xa1, 0x61, 0x01, 0x00)), 'trailing byte after a map');
  const long = U.encodeAuto({ text: 'x'.repeat(300) });
  invalid(t, () => U.decodeAuto(Buffer.concat([long, Buffer.from([0xc0])])), 'trailing byte after a long value (scanner path)');
  invalid(t, () => U.decodeAuto(long.subarray(0, long.length - 1)), 'truncated long value (scanner path)');
  // msgpackr-only extensions are not plain msgpack
  invalid(t, () => U.decodeAuto(bytes(6, 0xd4, 0x73, 0x00, 0x91, 0x01)), 'msgpackr Set extension');
  invalid(t, () => U.decodeAuto(bytes(6, 0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x01)), 'msgpackr record definition');
  invalid(t, () => U.decodeAuto(bytes(6, 0xd6, 0x69, 0, 0, 0, 1, 0x90)), 'msgpackr structured-clone id');
  invalid(t, () => U.decodeAuto(bytes(6, 0xc7, 1, 0x05, 0x00)), 'unknown extension type 5');
  // a map key that is a container cannot become an object key
  invalid(t, () => U.decodeAuto(bytes(6, 0x81, 0x91, 0x01, 0x02)), 'array as a map key');
  invalid(t, () => decodeMsgpack(bytes(4, 0, 0, 0, 0)), 'decodeMsgpack of a STRING packet');
});

test('malformed: type-specific decoders reject other packet types', (t) => {
  invalid(t, () => decodeString(U.encodeAuto({ a: 1 })));
  invalid(t, () => decodeJson(U.encodeAuto('x')));
  invalid(t, () => decodeRaw(U.encodeAuto('x')));
  invalid(t, () => decodeVariant(U.encodeAuto('x')));
  invalid(t, () => decodeDictionary(U.encodeAuto('x')));
  invalid(t, () => decodeNodeMetadata(U.encodeAuto('x')));
  invalid(t, () => decodeNodeMetadata(U.encodeAuto([1, 2])), 'node metadata must be a dictionary');
});

test('malformed input never escapes as anything but ENetError (random fuzz)', (t) => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const sample = [U.encodeAuto({ a: [1, 2, { b: 'c' }], d: 1.5, e: Buffer.from([1]) }), U.encodeAuto('hello'), U.encodeJson({ x: [1] })];
  let decoded = 0;
  for (let i = 0; i < 5000; i++) {
    const base = sample[i % sample.length];
    const b = Buffer.from(base);
    const flips = 1 + Math.floor(rnd() * 3);
    for (let j = 0; j < flips; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
    try {
      U.decodeAuto(cut);
      decoded++;
    } catch (error) {
      if (!(error instanceof ENetError) || (error.code !== Err.ERR_INVALID_DATA && error.code !== Err.ERR_UNAVAILABLE)) {
        t.fail(`unexpected ${error?.name}: ${error?.message} for ${cut.toString('hex')}`);
        return;
      }
    }
  }
  t.true(decoded > 0);
});

// ---------------------------------------------------------------------------------------------
// Limits

test('limits: encoding a packet over maxPacketSize is ERR_INVALID_DATA', (t) => {
  const limits = { maxPacketSize: 16, maxDepth: 8 };
  t.is(encodePacket('x'.repeat(11), PacketFormat.MSGPACK, limits).length, 16, 'exactly the limit is fine');
  invalid(t, () => encodePacket('x'.repeat(12), PacketFormat.MSGPACK, limits), 'string one byte over');
  invalid(t, () => encodePacket('é'.repeat(6), PacketFormat.MSGPACK, limits), 'multi-byte string over in bytes, not in characters');
  t.is(encodePacket(new Uint8Array(15), PacketFormat.MSGPACK, limits).length, 16);
  invalid(t, () => encodePacket(new Uint8Array(16), PacketFormat.MSGPACK, limits), 'raw over');
  invalid(t, () => encodePacket({ k: 'x'.repeat(20) }, PacketFormat.MSGPACK, limits), 'msgpack over');
  invalid(t, () => encodeJson({ k: 'x'.repeat(20) }, limits), 'json over');
  invalid(t, () => U.encodeAuto('x'.repeat(DEFAULT_MAX_PACKET_SIZE)), 'default limit: string');
  invalid(t, () => U.encodeAuto(Buffer.alloc(DEFAULT_MAX_PACKET_SIZE)), 'default limit: raw');
  invalid(t, () => U.encodeAuto({ data: Buffer.alloc(DEFAULT_MAX_PACKET_SIZE) }), 'default limit: msgpack bin');
  t.is(U.encodeAuto(Buffer.alloc(DEFAULT_MAX_PACKET_SIZE - 1)).length, DEFAULT_MAX_PACKET_SIZE);
});

test('limits: decoding a packet over maxPacketSize is ERR_INVALID_DATA', (t) => {
  const limits = { maxPacketSize: 16, maxDepth: 8 };
  const ok = encodeString('x'.repeat(11));
  t.is(decodePacket(ok, limits), 'x'.repeat(11));
  invalid(t, () => decodePacket(encodeString('x'.repeat(12)), limits));
  invalid(t, () => decodePacket(new Uint8Array(17), limits), 'raw over');
  invalid(t, () => U.decodeAuto(Buffer.alloc(DEFAULT_MAX_PACKET_SIZE + 1)), 'default limit');
});

test('limits: values that cannot be encoded are ERR_INVALID_DATA', (t) => {
  invalid(t, () => U.encodeAuto(() => 1), 'function');
  invalid(t, () => U.encodeAuto({ f() {} }), 'function property');
  invalid(t, () => U.encodeAuto([1, Symbol('s')]), 'symbol');
  invalid(t, () => U.encodeAuto(Symbol('s')), 'top-level symbol');
  invalid(t, () => U.encodeAuto(2n ** 64n), 'bigint beyond uint64');
  invalid(t, () => U.encodeAuto(-(2n ** 63n) - 1n), 'bigint below int64');
  invalid(t, () => U.encodeAuto(new Map([[{}, 1]])), 'object Map key');
  const circular = { a: {} };
  circular.a.back = circular;
  const e = invalid(t, () => U.encodeAuto(circular), 'circular');
  t.regex(e.message, /circular/);
  const arr = [];
  arr.push(arr);
  invalid(t, () => U.encodeAuto(arr), 'circular array');
  invalid(t, () => U.encodeJson(circular), 'circular JSON');
  invalid(t, () => U.encodeJson(undefined), 'undefined JSON');
  invalid(t, () => U.encodeJson(() => 1), 'function JSON');
  invalid(t, () => U.encodeJson({ n: 1n }), 'bigint JSON');
  invalid(t, () => U.encodeString(5), 'encodeString of a number');
});

const nestArrays = (depth) => {
  let v = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

test('limits: nesting depth on encode (maxDepth is allowed, maxDepth + 1 is not)', (t) => {
  const max = DEFAULT_MAX_DEPTH;
  t.deepEqual(U.decodeAuto(U.encodeAuto(nestArrays(max))), nestArrays(max));
  const e = invalid(t, () => U.encodeAuto(nestArrays(max + 1)), 'arrays');
  t.regex(e.message, /deeper than the limit/);
  let obj = {};
  for (let i = 0; i < max + 1; i++) obj = { o: obj };
  invalid(t, () => U.encodeAuto(obj), 'objects');
  invalid(t, () => U.encodeJson(nestArrays(max + 1)), 'JSON value');
  invalid(t, () => U.encodeJson('['.repeat(max + 1) + ']'.repeat(max + 1)), 'JSON text');
  t.notThrows(() => U.encodeJson('"' + '['.repeat(max + 1) + '"'), 'brackets inside a JSON string do not count');
  const limits = { maxPacketSize: 1000, maxDepth: 3 };
  t.notThrows(() => encodePacket([[[1]]], PacketFormat.MSGPACK, limits));
  invalid(t, () => encodePacket([[[[1]]]], PacketFormat.MSGPACK, limits));
  invalid(t, () => encodePacket([[[[]]]], PacketFormat.MSGPACK, limits), 'an empty innermost container counts');
  invalid(t, () => encodePacket({ a: { b: { c: {} } } }, PacketFormat.MSGPACK, limits));
});

test('limits: nesting depth on decode (msgpack and JSON)', (t) => {
  const limits = { maxPacketSize: 1 << 20, maxDepth: 4 };
  // msgpack [[[[1]]]] = 94 91 91 91 01 ... with maxDepth 4: depth 4 ok, depth 5 not
  t.deepEqual(decodePacket(bytes(6, 0x91, 0x91, 0x91, 0x91, 0x01), limits), [[[[1]]]]);
  invalid(t, () => decodePacket(bytes(6, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01), limits), 'msgpack depth 5');
  invalid(t, () => decodePacket(bytes(6, 0x81, 0xa1, 0x61, 0x81, 0xa1, 0x61, 0x81, 0xa1, 0x61, 0x81, 0xa1, 0x61, 0x80), limits), 'maps depth 5');
  t.deepEqual(decodePacket(encodeJson('[[[[1]]]]'), limits), [[[[1]]]]);
  invalid(t, () => decodePacket(encodeJson('[[[[[1]]]]]', { maxPacketSize: 100, maxDepth: 100 }), limits), 'JSON depth 5');
  t.is(decodePacket(encodeJson('"[[[[[[[[[[["'), limits), '[[[[[[[[[[[', 'brackets in JSON strings do not count');
  t.deepEqual(decodePacket(encodeJson('["\\"[[[[[[[[["]'), limits), ['"[[[[[[[[['], 'escaped quotes are handled');
  // default limits
  const enc = (v) => encodePacket(v, PacketFormat.MSGPACK, { maxPacketSize: 1 << 20, maxDepth: 1000 });
  t.notThrows(() => U.decodeAuto(enc(nestArrays(DEFAULT_MAX_DEPTH))));
  invalid(t, () => U.decodeAuto(enc(nestArrays(DEFAULT_MAX_DEPTH + 1))), 'msgpack default depth + 1');
});

test('limits: a 1 MB packet of nested arrays is a clean ERR_INVALID_DATA (no RangeError)', (t) => {
  const size = DEFAULT_MAX_PACKET_SIZE;
  const msgpack = Buffer.alloc(size, 0x91);
  msgpack[0] = PacketType.MSGPACK;
  msgpack[size - 1] = 0xc0;
  const e = invalid(t, () => U.decodeAuto(msgpack), 'msgpack fixarray bomb');
  t.regex(e.message, /deeper than the limit/);
  const arr16 = Buffer.alloc(size);
  arr16[0] = PacketType.MSGPACK;
  for (let i = 1; i + 3 <= size; i += 3) { arr16[i] = 0xdc; arr16[i + 1] = 0; arr16[i + 2] = 1; }
  invalid(t, () => U.decodeAuto(arr16), 'msgpack array16 bomb');
  const maps = Buffer.alloc(size);
  maps[0] = PacketType.MSGPACK;
  for (let i = 1; i + 3 <= size; i += 3) { maps[i] = 0x81; maps[i + 1] = 0xa0 + 0; maps[i + 2] = 0x81; }
  invalid(t, () => U.decodeAuto(maps), 'msgpack map bomb');
  // the msgpackr Set extension reads its content outside its payload: a chain of them must not recurse
  const sets = Buffer.alloc(size);
  sets[0] = PacketType.MSGPACK;
  sets.set([0xdd, 0, 0x05, 0x55, 0x55], 1);
  for (let i = 6; i + 3 <= size; i += 3) sets.set([0xd4, 0x73, 0x00], i);
  invalid(t, () => U.decodeAuto(sets), 'msgpack Set-extension chain');
  const jsonText = '['.repeat(size - 10);
  const json = encodeJson(jsonText, { maxPacketSize: size, maxDepth: size });
  invalid(t, () => U.decodeAuto(json), 'JSON bracket bomb');
  const jsonClosed = encodeJson('['.repeat(400000) + ']'.repeat(400000), { maxPacketSize: size, maxDepth: size });
  invalid(t, () => U.decodeAuto(jsonClosed), 'balanced JSON bomb');
});

test('resolveLimits: defaults, partial limits, invalid limits', (t) => {
  t.is(resolveLimits(), DEFAULT_LIMITS);
  t.deepEqual(resolveLimits({ maxDepth: 5 }), { maxPacketSize: DEFAULT_MAX_PACKET_SIZE, maxDepth: 5 });
  const complete = { maxPacketSize: 10, maxDepth: 2 };
  t.is(resolveLimits(complete), complete, 'complete limits are used as they are');
  for (const bad of [{ maxDepth: 0 }, { maxPacketSize: -1 }, { maxDepth: 1.5 }, { maxPacketSize: NaN }]) {
    const e = t.throws(() => resolveLimits(bad), { instanceOf: ENetError });
    t.is(e.code, Err.ERR_INVALID_PARAMETER);
  }
  // partial limits given to a codec function are completed, not ignored
  invalid(t, () => decodePacket(bytes(6, 0x91, 0x91, 0x91, 0x01), { maxDepth: 2 }));
});

// ---------------------------------------------------------------------------------------------
// Events

test('events: isEvent / splitEvent / makeEvent', (t) => {
  t.true(isEvent({ _event: 'jump', x: 1 }));
  t.true(isEvent(Object.assign(Object.create(null), { _event: 'n' })));
  t.false(isEvent({ _event: 5 }));
  t.false(isEvent({ event: 'x' }));
  t.false(isEvent(null));
  t.false(isEvent('jump'));
  t.false(isEvent(Object.assign(['x'], { _event: 'jump' })), 'arrays are not events');
  t.false(isEvent(Object.assign(Buffer.from([1]), { _event: 'jump' })), 'buffers are not events');
  t.false(isEvent(new Map([['_event', 'jump']])), 'Maps are not plain objects');
  class Custom { constructor() { this._event = 'x'; } }
  t.false(isEvent(new Custom()));

  const ev = { _event: 'jump', x: 1, y: { z: 2 } };
  const split = splitEvent(ev);
  t.deepEqual(split, { name: 'jump', payload: { x: 1, y: { z: 2 } } });
  t.false('_event' in split.payload);
  t.is(ev._event, 'jump', 'the input is not modified');
  t.is(splitEvent({ a: 1 }), null);
  t.is(splitEvent([1]), null);
  t.deepEqual(splitEvent({ _event: '' }), { name: '', payload: {} });

  t.deepEqual(makeEvent('jump', { x: 1 }), { x: 1, _event: 'jump' });
  t.deepEqual(makeEvent('ping'), { _event: 'ping' });
  t.deepEqual(makeEvent('ping', null), { _event: 'ping' });
  t.deepEqual(makeEvent('n', { _event: 'other', a: 1 }), { _event: 'n', a: 1 }, 'the name wins over a payload _event');
  for (const bad of [[1], 5, 'str', new Map()]) {
    const e = t.throws(() => makeEvent('x', bad), { instanceOf: ENetError });
    t.is(e.code, Err.ERR_INVALID_PARAMETER);
  }
  // over the wire
  const decoded = U.decodeAuto(U.encodeAuto(makeEvent('chat', { text: 'hé' })));
  t.true(isEvent(decoded));
  t.deepEqual(splitEvent(decoded), { name: 'chat', payload: { text: 'hé' } });
  const fromJson = U.decodeAuto(U.encodeJson({ _event: 'j', a: [1] }));
  t.deepEqual(splitEvent(fromJson), { name: 'j', payload: { a: [1] } });
});

// ---------------------------------------------------------------------------------------------
// Node state

const node = () => ({
  name: 'Player', path: '/root/World/Player', className: 'CharacterBody2D',
  position: { x: 1.5, y: 2 }, rotation: 0.5, scale: { x: 1, y: 1 },
  properties: { hp: 100, name: 'p1' },
  serializeForNetwork() { return { hp: 100, ammo: 3 }; },
});

test('node state: SYNC_CUSTOM → node_custom with custom (or custom_bytes)', (t) => {
  t.deepEqual(buildNodeState(node(), NodeSyncFlags.SYNC_CUSTOM), {
    _type: 'node_custom', _class: 'CharacterBody2D', _path: '/root/World/Player', _name: 'Player', custom: { hp: 100, ammo: 3 },
  });
  t.is(buildNodeState(node(), NodeSyncFlags.SYNC_CUSTOM | NodeSyncFlags.SYNC_PROPERTIES)._type, 'node_custom', 'CUSTOM wins');
  const withBytes = { name: 'N', serializeForNetwork: () => new Uint8Array([1, 2]) };
  const s = buildNodeState(withBytes, NodeSyncFlags.SYNC_CUSTOM);
  t.deepEqual([...s.custom_bytes], [1, 2]);
  t.false('custom' in s);
  t.is(buildNodeState({ name: 'N' }, NodeSyncFlags.SYNC_CUSTOM).custom, null, 'no serializeForNetwork → null');
});

test('node state: SYNC_PROPERTIES → node with properties and transform fields', (t) => {
  t.deepEqual(buildNodeState(node(), NodeSyncFlags.SYNC_PROPERTIES), {
    _type: 'node', _class: 'CharacterBody2D', _path: '/root/World/Player', _name: 'Player',
    properties: { hp: 100, name: 'p1' }, position: { x: 1.5, y: 2 }, rotation: 0.5, scale: { x: 1, y: 1 },
  });
  t.is(buildNodeState(node(), NodeSyncFlags.SYNC_PROPERTIES | NodeSyncFlags.SYNC_TRANSFORM_ONLY)._type, 'node', 'PROPERTIES wins over TRANSFORM_ONLY');
  t.deepEqual(buildNodeState({ name: 'A' }, NodeSyncFlags.SYNC_PROPERTIES), {
    _type: 'node', _class: 'Node', _path: 'A', _name: 'A', properties: {},
  }, 'defaults: _class Node, _path = name, absent fields omitted');
});

test('node state: SYNC_TRANSFORM_ONLY → node_transform; otherwise → node_meta', (t) => {
  t.deepEqual(buildNodeState({ ...node(), transform: [1, 0, 0, 1, 0, 0] }, NodeSyncFlags.SYNC_TRANSFORM_ONLY), {
    _type: 'node_transform', _class: 'CharacterBody2D', _path: '/root/World/Player', _name: 'Player',
    position: { x: 1.5, y: 2 }, rotation: 0.5, scale: { x: 1, y: 1 }, transform: [1, 0, 0, 1, 0, 0],
  });
  const meta = { _type: 'node_meta', _class: 'CharacterBody2D', _path: '/root/World/Player', _name: 'Player' };
  t.deepEqual(buildNodeState(node(), NodeSyncFlags.SYNC_METADATA_ONLY), meta);
  t.deepEqual(buildNodeState(node(), 0), meta);
  const e = t.throws(() => buildNodeState(null, 1), { instanceOf: ENetError });
  t.is(e.code, Err.ERR_INVALID_PARAMETER);
});

test('node state: encodeNode / decodeNodeMetadata over the wire', (t) => {
  for (const flags of [NodeSyncFlags.SYNC_CUSTOM, NodeSyncFlags.SYNC_PROPERTIES, NodeSyncFlags.SYNC_TRANSFORM_ONLY, NodeSyncFlags.SYNC_METADATA_ONLY]) {
    const packet = U.encodeNode(node(), flags);
    t.true(packet[0] === PacketType.MSGPACK || packet[0] === PacketType.NODE);
    const back = U.decodeNodeMetadata(packet);
    const expected = buildNodeState(node(), flags);
    t.is(back._type, expected._type);
    t.is(back._name, 'Player');
    t.is(back._path, '/root/World/Player');
    t.is(back._class, 'CharacterBody2D');
    if (flags === NodeSyncFlags.SYNC_CUSTOM) t.deepEqual(back.custom, { hp: 100, ammo: 3 });
    if (flags === NodeSyncFlags.SYNC_PROPERTIES) t.deepEqual(back.properties, { hp: 100, name: 'p1' });
    if (flags !== NodeSyncFlags.SYNC_CUSTOM && flags !== NodeSyncFlags.SYNC_METADATA_ONLY) {
      t.is(back.position.x, 1.5);
      t.is(back.position.y, 2);
      t.is(back.rotation, 0.5);
    }
    t.deepEqual(encodeNode(node(), flags), packet);
  }
  const withBytes = U.decodeNodeMetadata(U.encodeNode({ name: 'B', serializeForNetwork: () => Buffer.from([7, 8]) }, NodeSyncFlags.SYNC_CUSTOM));
  t.deepEqual([...withBytes.custom_bytes], [7, 8]);
  invalid(t, () => U.encodeNode({ name: 'C', properties: { f() {} } }, NodeSyncFlags.SYNC_PROPERTIES), 'unencodable properties');
});

test('ENetPacketUtils is a plain frozen object of functions', (t) => {
  for (const name of ['encodeAuto', 'decodeAuto', 'encodeVariant', 'decodeVariant', 'encodeDictionary', 'decodeDictionary',
    'encodeJson', 'decodeJson', 'encodeString', 'decodeString', 'encodeNode', 'decodeNodeMetadata', 'encodeMsgpack',
    'varToBytes', 'bytesToVar']) {
    t.is(typeof U[name], 'function', name);
  }
  t.true(Object.isFrozen(U));
  t.is(typeof encodeVariant, 'function');
  t.is(typeof encodeDictionary, 'function');
  t.is(typeof varToBytes, 'function');
  t.is(typeof bytesToVar, 'function');
});
