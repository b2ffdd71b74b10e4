import test from 'ava';
import {
  ENetPacketUtils as U, varToBytes, bytesToVar, encodePacket, decodePacket, encodeNode, decodeNodeMetadata,
  encodeVariant, encodeDictionary, decodeDictionary, decodeVariant,
  VariantType, Vector2, Vector2i, Rect2, Rect2i, Vector3, Vector3i, Transform2D, Vector4, Vector4i, Plane, Quaternion,
  AABB, Basis, Transform3D, Projection, Color, StringName, NodePath, RID, VariantFloat,
  PackedStringArray, PackedVector2Array, PackedVector3Array, PackedVector4Array, PackedColorArray,
  typedArray, getArrayType, typedDictionary, getDictionaryTypes, floatKeys,
} from '../dist/wire/codec/index.js';
import { PacketType, PacketFormat, NodeSyncFlags, Err } from '../dist/wire/enums.js';
import { ENetError } from '../dist/wire/errors.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_PACKET_SIZE } from '../dist/wire/defaults.js';

/** Hand-written vectors: hex with spaces, little-endian as on the wire. */
const hx = (s) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString('hex');

function invalid(t, fn, message) {
  const error = t.throws(fn, { instanceOf: ENetError }, message);
  t.is(error?.code, Err.ERR_INVALID_DATA, `${message ?? ''}: ${error?.message}`);
  return error;
}

/** decode(bytes) must give `expected` (checked by `check`), and encode(decode(bytes)) the same bytes. */
function vector(t, name, bytesHex, check) {
  const bytes = hx(bytesHex);
  const value = bytesToVar(bytes);
  check(value);
  t.is(hex(varToBytes(value)), hex(bytes), `${name}: encode(decode(bytes)) is exact`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Scalars

test('NIL, BOOL: vectors', (t) => {
  vector(t, 'nil', '00000000', (v) => t.is(v, null));
  vector(t, 'true', '01000000 01000000', (v) => t.is(v, true));
  vector(t, 'false', '01000000 00000000', (v) => t.is(v, false));
  t.is(hex(varToBytes(undefined)), '00000000');
  t.is(bytesToVar(hx('01000000 05000000')), true, 'any non-zero BOOL is true');
});

test('INT: 32-bit unless it does not fit (ENCODE_FLAG_64), int64 outside int32 decodes as bigint', (t) => {
  vector(t, '1', '02000000 01000000', (v) => t.is(v, 1));
  vector(t, '-2', '02000000 feffffff', (v) => t.is(v, -2));
  vector(t, 'int32 max', '02000000 ffffff7f', (v) => t.is(v, 2147483647));
  vector(t, 'int32 min', '02000000 00000080', (v) => t.is(v, -2147483648));
  vector(t, '2^31', '02000100 00000080 00000000', (v) => t.is(v, 2147483648n));
  vector(t, '-2^31-1', '02000100 ffffff7f ffffffff', (v) => t.is(v, -2147483649n));
  vector(t, 'int64 min', '02000100 00000000 00000080', (v) => t.is(v, -(2n ** 63n)));
  vector(t, 'int64 max', '02000100 ffffffff ffffff7f', (v) => t.is(v, 2n ** 63n - 1n));
  // JS → Variant
  t.is(hex(varToBytes(2 ** 40)), '02000100' + '00000000' + '00010000', 'a safe integer beyond int32 is INT 64');
  t.is(hex(varToBytes(7n)), '02000000' + '07000000', 'a bigint within int32 is written as Godot writes it');
  t.is(hex(varToBytes(-0)), '02000000' + '00000000');
  invalid(t, () => varToBytes(2n ** 63n), 'bigint beyond int64');
  t.is(bytesToVar(hx('02000100 05000000 00000000')), 5, 'a 64-bit INT within int32 decodes as a number');
});

test('FLOAT: float32 unless float32(d) != d; integral floats stay FLOAT inside containers', (t) => {
  vector(t, '1.5', '03000000 0000c03f', (v) => t.is(v, 1.5));
  vector(t, '0.1 (64)', '03000100 9a999999 9999b93f', (v) => t.is(v, 0.1));
  vector(t, '-inf', '03000000 000080ff', (v) => t.is(v, -Infinity));
  t.is(bytesToVar(hx('03000000 cdcccc3d')), Math.fround(0.1), 'a float32 decodes to the nearest JS number');
  t.is(hex(varToBytes(1.5)), '03000000' + '0000c03f');
  t.is(hex(varToBytes(0.1)), '03000100' + '9a999999' + '9999b93f');
  t.is(hex(varToBytes(2 ** 60)), '03000000' + '0000805d', 'an integral number beyond the safe range is FLOAT');
  t.is(hex(varToBytes(NaN)).slice(0, 8), '03000100', 'NaN is 64-bit, as float(NaN) != NaN');
  t.is(hex(varToBytes(new VariantFloat(3))), '03000000' + '00004040', 'VariantFloat sends an integral float');
  t.is(hex(varToBytes(3)), '02000000' + '03000000', 'a plain integral number is INT');
  // integral FLOAT inside an array / a dictionary re-encodes as FLOAT
  const arr = vector(t, '[1.0, 1]', '1c000000 02000000 03000000 0000803f 02000000 01000000', (v) => t.deepEqual(v, [1, 1]));
  t.true(floatKeys(arr).has(0));
  t.false(floatKeys(arr).has(1));
  vector(t, '{hp: 100.0}', '1b000000 01000000 04000000 02000000 68700000 03000000 0000c842', (v) => t.deepEqual(v, { hp: 100 }));
  vector(t, 'Map {1: 2.0}', '1b000000 01000000 02000000 01000000 03000000 00000040', (v) => t.deepEqual([...v], [[1, 2]]));
  // the application modifying a decoded float entry keeps it a float
  const decoded = bytesToVar(hx('1b000000 01000000 04000000 02000000 68700000 03000000 0000c842'));
  decoded.hp = 50;
  t.is(hex(varToBytes(decoded)), '1b000000 01000000 04000000 02000000 68700000 03000000 00004842'.replace(/ /g, ''));
});

test('STRING: u32 length + UTF-8 + padding to 4', (t) => {
  vector(t, 'hi', '04000000 02000000 68690000', (v) => t.is(v, 'hi'));
  vector(t, 'empty', '04000000 00000000', (v) => t.is(v, ''));
  vector(t, 'abcd (no padding)', '04000000 04000000 61626364', (v) => t.is(v, 'abcd'));
  vector(t, 'é', '04000000 02000000 c3a90000', (v) => t.is(v, 'é'));
  vector(t, '😀 + a', '04000000 05000000 f09f9880 61000000', (v) => t.is(v, '😀a'));
  const long = 'é'.repeat(100) + 'x';
  t.is(bytesToVar(varToBytes(long)), long);
  // Godot's parse_utf8: a leading BOM is skipped, the text ends at the first NUL
  t.is(bytesToVar(hx('04000000 05000000 efbbbf61 62000000')), 'ab');
  t.is(bytesToVar(hx('04000000 03000000 61006200')), 'a');
});

// ---------------------------------------------------------------------------------------------
// Math types (32-bit components by default, 64 with the flag), misc types

test('VECTOR2 / VECTOR2I / RECT2 / RECT2I', (t) => {
  vector(t, 'Vector2', '05000000 0000803f 00000040', (v) => {
    t.true(v instanceof Vector2); t.is(v.x, 1); t.is(v.y, 2); t.false(v.is64);
  });
  vector(t, 'Vector2 64', '05000100 00000000 0000f83f 00000000 000000c0', (v) => {
    t.is(v.x, 1.5); t.is(v.y, -2); t.true(v.is64);
  });
  t.is(hex(varToBytes(new Vector2(1, 2))), '050000000000803f00000040');
  t.is(hex(varToBytes(new Vector2(1.5, -2, true))), '050001000000000000' + '00f83f' + '00000000000000c0');
  vector(t, 'Vector2i', '06000000 01000000 ffffffff', (v) => { t.true(v instanceof Vector2i); t.is(v.y, -1); });
  vector(t, 'Rect2', '07000000 0000803f 00000040 00004040 00008040', (v) => {
    t.true(v instanceof Rect2); t.is(v.position.x, 1); t.is(v.position.y, 2); t.is(v.size.x, 3); t.is(v.size.y, 4);
  });
  vector(t, 'Rect2 64', '07000100 ' + '000000000000f03f 0000000000000040 0000000000000840 0000000000001040', (v) => {
    t.true(v.is64); t.is(v.size.y, 4);
  });
  vector(t, 'Rect2i', '08000000 01000000 02000000 03000000 04000000', (v) => {
    t.true(v instanceof Rect2i); t.is(v.size.x, 3);
  });
  invalid(t, () => varToBytes(new Vector2i(1.5, 0)), 'Vector2i needs integers');
  invalid(t, () => varToBytes(new Vector2i(2 ** 31, 0)), 'Vector2i needs int32');
});

test('VECTOR3 / VECTOR3I / VECTOR4 / VECTOR4I / PLANE / QUATERNION / AABB / COLOR', (t) => {
  vector(t, 'Vector3', '09000000 0000803f 00000040 00004040', (v) => { t.true(v instanceof Vector3); t.is(v.z, 3); });
  vector(t, 'Vector3 64', '09000100 000000000000f03f 0000000000000040 0000000000000840', (v) => { t.true(v.is64); t.is(v.z, 3); });
  vector(t, 'Vector3i', '0a000000 01000000 02000000 fdffffff', (v) => { t.true(v instanceof Vector3i); t.is(v.z, -3); });
  vector(t, 'Vector4', '0c000000 0000803f 00000040 00004040 00008040', (v) => { t.true(v instanceof Vector4); t.is(v.w, 4); });
  vector(t, 'Vector4i', '0d000000 01000000 02000000 03000000 04000000', (v) => { t.true(v instanceof Vector4i); t.is(v.w, 4); });
  vector(t, 'Plane', '0e000000 00000000 0000803f 00000000 0000a040', (v) => {
    t.true(v instanceof Plane); t.is(v.normal.y, 1); t.is(v.d, 5);
  });
  vector(t, 'Quaternion', '0f000000 00000000 00000000 00000000 0000803f', (v) => { t.true(v instanceof Quaternion); t.is(v.w, 1); });
  vector(t, 'Quaternion 64', '0f000100 0000000000000000 0000000000000000 0000000000000000 000000000000f03f', (v) => t.true(v.is64));
  vector(t, 'AABB', '10000000 0000803f 00000040 00004040 00008040 0000a040 0000c040', (v) => {
    t.true(v instanceof AABB); t.is(v.position.z, 3); t.is(v.size.x, 4); t.is(v.size.z, 6);
  });
  vector(t, 'Color', '14000000 0000803f 0000003f 00000000 0000803f', (v) => {
    t.true(v instanceof Color); t.is(v.r, 1); t.is(v.g, 0.5); t.is(v.a, 1);
  });
  t.is(hex(varToBytes(new Color(1, 0.5, 0))), '140000000000803f0000003f000000000000803f', 'alpha defaults to 1');
  t.is(hex(varToBytes(new Quaternion())), '0f000000' + '00000000'.repeat(3) + '0000803f', 'identity quaternion');
});

test('TRANSFORM2D / BASIS (rows on the wire) / TRANSFORM3D / PROJECTION', (t) => {
  vector(t, 'Transform2D', '0b000000 0000803f 00000000 00000000 0000803f 0000a040 0000c040', (v) => {
    t.true(v instanceof Transform2D);
    t.deepEqual([v.x.x, v.x.y, v.y.x, v.y.y, v.origin.x, v.origin.y], [1, 0, 0, 1, 5, 6]);
  });
  // columns x=(1,2,3), y=(4,5,6), z=(7,8,9) → rows (1,4,7), (2,5,8), (3,6,9)
  const basisHex = '0000803f 00008040 0000e040 00000040 0000a040 00000041 00004040 0000c040 00001041';
  vector(t, 'Basis', '11000000 ' + basisHex, (v) => {
    t.true(v instanceof Basis);
    t.deepEqual([v.x.x, v.x.y, v.x.z], [1, 2, 3]);
    t.deepEqual([v.y.x, v.y.y, v.y.z], [4, 5, 6]);
    t.deepEqual([v.z.x, v.z.y, v.z.z], [7, 8, 9]);
  });
  t.is(hex(varToBytes(new Basis({ x: 1, y: 2, z: 3 }, { x: 4, y: 5, z: 6 }, { x: 7, y: 8, z: 9 }))), ('11000000' + basisHex).replace(/ /g, ''));
  vector(t, 'Transform3D', '12000000 0000803f 00000000 00000000 00000000 0000803f 00000000 00000000 00000000 0000803f 0000803f 00000040 00004040', (v) => {
    t.true(v instanceof Transform3D); t.is(v.basis.x.x, 1); t.is(v.origin.z, 3);
  });
  t.is(hex(varToBytes(new Transform3D(new Basis(), new Vector3(1, 2, 3)))),
    '12000000 0000803f 00000000 00000000 00000000 0000803f 00000000 00000000 00000000 0000803f 0000803f 00000040 00004040'.replace(/ /g, ''));
  const one = '0000803f';
  const zero = '00000000';
  const identity = [one, zero, zero, zero, zero, one, zero, zero, zero, zero, one, zero, zero, zero, zero, one].join('');
  vector(t, 'Projection', '13000000' + identity, (v) => {
    t.true(v instanceof Projection); t.is(v.x.x, 1); t.is(v.w.w, 1); t.is(v.x.w, 0);
  });
  t.is(hex(varToBytes(new Projection())), '13000000' + identity);
  vector(t, 'Transform2D 64', '0b000100' + '000000000000f03f' + '0000000000000000'.repeat(2) + '000000000000f03f' + '0000000000000000'.repeat(2), (v) => t.true(v.is64));
});

test('STRING_NAME / NODE_PATH (new format) / RID', (t) => {
  vector(t, 'StringName', '15000000 02000000 61620000', (v) => { t.true(v instanceof StringName); t.is(v.name, 'ab'); });
  vector(t, 'NodePath absolute', '16000000 02000080 02000000 01000000 04000000 726f6f74 04000000 4d61696e 08000000 706f7369 74696f6e 01000000 78000000', (v) => {
    t.true(v instanceof NodePath);
    t.deepEqual(v.names, ['root', 'Main']);
    t.deepEqual(v.subnames, ['position', 'x']);
    t.true(v.absolute);
    t.is(v.toString(), '/root/Main:position:x');
  });
  t.is(hex(varToBytes(new NodePath('/root/Main:position:x'))),
    '16000000 02000080 02000000 01000000 04000000 726f6f74 04000000 4d61696e 08000000 706f7369 74696f6e 01000000 78000000'.replace(/ /g, ''));
  vector(t, 'NodePath relative', '16000000 01000080 00000000 00000000 01000000 61000000', (v) => {
    t.false(v.absolute); t.is(v.toString(), 'a');
  });
  vector(t, 'NodePath empty', '16000000 00000080 00000000 00000000', (v) => t.is(v.toString(), ''));
  vector(t, 'RID', '17000000 08070605 04030201', (v) => { t.true(v instanceof RID); t.is(v.id, 0x0102030405060708n); });
  // obsolete NodePath flag 2: the property counts as one more subname
  const old = bytesToVar(hx('16000000 01000080 00000000 02000000 01000000 61000000 01000000 62000000'));
  t.deepEqual(old.subnames, ['b']);
});

// ---------------------------------------------------------------------------------------------
// Containers

test('DICTIONARY: plain object for string keys, Map otherwise; shared bit masked', (t) => {
  vector(t, '{a: 1}', '1b000000 01000000 04000000 01000000 61000000 02000000 01000000', (v) => t.deepEqual(v, { a: 1 }));
  const shared = bytesToVar(hx('1b000000 01000080 04000000 01000000 61000000 02000000 01000000'));
  t.deepEqual(shared, { a: 1 }, 'bit 31 of the count (shared) is masked off');
  vector(t, 'empty', '1b000000 00000000', (v) => t.deepEqual(v, {}));
  vector(t, '{1: "x"}', '1b000000 01000000 02000000 01000000 04000000 01000000 78000000', (v) => {
    t.true(v instanceof Map); t.is(v.get(1), 'x');
  });
  vector(t, 'mixed keys keep their order', '1b000000 02000000 04000000 01000000 61000000 01000000 01000000 00000000 04000000 01000000 62000000', (v) => {
    t.true(v instanceof Map);
    t.deepEqual([...v.entries()], [['a', true], [null, 'b']]);
  });
  // integer-like keys, which JS enumerates first, keep their wire order
  vector(t, '{b:1, "10":2}', '1b000000 02000000 04000000 01000000 62000000 02000000 01000000 04000000 02000000 31300000 02000000 02000000', (v) => {
    t.deepEqual(v, { b: 1, 10: 2 });
  });
  // a StringName key becomes a string key, as in Godot's Dictionary
  t.deepEqual(bytesToVar(hx('1b000000 01000000 15000000 01000000 6b000000 02000000 01000000')), { k: 1 });
  // __proto__ is an own key, not the prototype
  const proto = bytesToVar(hx('1b000000 01000000 04000000 09000000 5f5f7072 6f746f5f 5f000000 02000000 01000000'));
  t.is(Object.getPrototypeOf(proto), Object.prototype);
  t.true(Object.prototype.hasOwnProperty.call(proto, '__proto__'));
  t.is(hex(varToBytes(proto)), '1b000000 01000000 04000000 09000000 5f5f7072 6f746f5f 5f000000 02000000 01000000'.replace(/ /g, ''));
  // encoding: plain objects and Maps
  t.is(hex(varToBytes({ a: 1 })), '1b000000010000000400000001000000610000000200000001000000');
  t.is(hex(varToBytes(new Map([[1, 'x']]))), '1b000000' + '01000000' + '02000000' + '01000000' + '04000000' + '01000000' + '78000000');
});

test('ARRAY: untyped and typed (builtin, class name, script)', (t) => {
  vector(t, '[1, "a"]', '1c000000 02000000 02000000 01000000 04000000 01000000 61000000', (v) => t.deepEqual(v, [1, 'a']));
  vector(t, 'empty', '1c000000 00000000', (v) => t.deepEqual(v, []));
  t.deepEqual(bytesToVar(hx('1c000000 00000080')), [], 'shared empty array');
  const ints = vector(t, 'Array[int]', '1c000100 02000000 02000000 02000000 01000000 02000000 02000000', (v) => t.deepEqual(v, [1, 2]));
  t.is(getArrayType(ints), VariantType.INT);
  const floats = vector(t, 'Array[float]', '1c000100 03000000 02000000 03000000 0000803f 03000000 00002040', (v) => t.deepEqual(v, [1, 2.5]));
  t.is(getArrayType(floats), VariantType.FLOAT);
  t.is(hex(varToBytes(typedArray(VariantType.FLOAT, [1, 2]))), '1c000100 03000000 02000000 03000000 0000803f 03000000 00000040'.replace(/ /g, ''),
    'numbers in an Array[float] are FLOAT');
  const names = vector(t, 'Array[StringName]', '1c000100 15000000 01000000 15000000 01000000 61000000', (v) => {
    t.true(v[0] instanceof StringName);
  });
  t.is(getArrayType(names), VariantType.STRING_NAME);
  t.is(hex(varToBytes(typedArray(VariantType.STRING_NAME, ['a']))), '1c000100 15000000 01000000 15000000 01000000 61000000'.replace(/ /g, ''));
  const cls = vector(t, 'Array[Node]', '1c000200 04000000 4e6f6465 00000000', (v) => t.deepEqual(v, []));
  t.deepEqual(getArrayType(cls), { className: 'Node' });
  const script = vector(t, 'Array[script]', '1c000300 0a000000 7265733a 2f2f782e 67640000 00000000', (v) => t.deepEqual(v, []));
  t.deepEqual(getArrayType(script), { script: 'res://x.gd' });
  t.is(getArrayType([1]), undefined);
});

test('DICTIONARY typed (key kind bits 16-17, value kind bits 18-19)', (t) => {
  const d = vector(t, 'Dictionary[String, int]', '1b000500 04000000 02000000 01000000 04000000 01000000 61000000 02000000 01000000', (v) => t.deepEqual(v, { a: 1 }));
  t.deepEqual(getDictionaryTypes(d), { key: VariantType.STRING, value: VariantType.INT });
  const sn = vector(t, 'Dictionary[StringName, Variant]', '1b000100 15000000 01000000 15000000 01000000 6b000000 02000000 01000000', (v) => t.deepEqual(v, { k: 1 }));
  t.is(getDictionaryTypes(sn).key, VariantType.STRING_NAME);
  const fl = vector(t, 'Dictionary[Variant, float]', '1b000400 03000000 01000000 04000000 01000000 61000000 03000000 00000040', (v) => t.deepEqual(v, { a: 2 }));
  t.is(getDictionaryTypes(fl).value, VariantType.FLOAT);
  const cls = vector(t, 'Dictionary[int, Node]', '1b000900 02000000 04000000 4e6f6465 00000000', (v) => t.true(v instanceof Object));
  t.deepEqual(getDictionaryTypes(cls), { key: VariantType.INT, value: { className: 'Node' } });
  t.is(hex(varToBytes(typedDictionary(VariantType.STRING, VariantType.INT, { a: 1 }))),
    '1b000500 04000000 02000000 01000000 04000000 01000000 61000000 02000000 01000000'.replace(/ /g, ''));
});

test('PACKED arrays: bytes, int32, int64, float32, float64, strings (NUL-inclusive lengths), vectors, colors', (t) => {
  vector(t, 'bytes', '1d000000 03000000 01020300', (v) => { t.true(v instanceof Uint8Array); t.deepEqual([...v], [1, 2, 3]); });
  vector(t, 'bytes 4', '1d000000 04000000 01020304', (v) => t.deepEqual([...v], [1, 2, 3, 4]));
  vector(t, 'bytes empty', '1d000000 00000000', (v) => t.is(v.length, 0));
  t.is(hex(varToBytes(Buffer.from([1, 2, 3]))), '1d000000' + '03000000' + '01020300', 'a Buffer is a PackedByteArray');
  vector(t, 'int32', '1e000000 02000000 01000000 ffffffff', (v) => { t.true(v instanceof Int32Array); t.deepEqual([...v], [1, -1]); });
  vector(t, 'int64', '1f000000 02000000 01000000 00000000 ffffffff ffffffff', (v) => {
    t.true(v instanceof BigInt64Array); t.deepEqual([...v], [1n, -1n]);
  });
  vector(t, 'float32', '20000000 01000000 0000c03f', (v) => { t.true(v instanceof Float32Array); t.deepEqual([...v], [1.5]); });
  vector(t, 'float64', '21000000 01000000 00000000 0000e03f', (v) => { t.true(v instanceof Float64Array); t.deepEqual([...v], [0.5]); });
  vector(t, 'strings', '22000000 02000000 02000000 61000000 04000000 62636400', (v) => {
    t.true(v instanceof PackedStringArray); t.deepEqual(v.values, ['a', 'bcd']);
  });
  t.is(hex(varToBytes(new PackedStringArray(['', 'é']))), '22000000 02000000 01000000 00000000 03000000 c3a90000'.replace(/ /g, ''));
  vector(t, 'vector2', '23000000 01000000 0000803f 00000040', (v) => {
    t.true(v instanceof PackedVector2Array); t.is(v.length, 1); t.is(v.at(0).y, 2); t.false(v.is64);
  });
  vector(t, 'vector2 64', '23000100 01000000 000000000000f03f 0000000000000040', (v) => t.true(v.is64));
  vector(t, 'vector3', '24000000 01000000 0000803f 00000040 00004040', (v) => {
    t.true(v instanceof PackedVector3Array); t.is(v.at(0).z, 3);
  });
  vector(t, 'color', '25000000 01000000 0000803f 00000000 00000000 0000803f', (v) => {
    t.true(v instanceof PackedColorArray); t.is(v.at(0).a, 1);
  });
  vector(t, 'vector4', '26000000 01000000 0000803f 00000040 00004040 00008040', (v) => {
    t.true(v instanceof PackedVector4Array); t.is(v.at(0).w, 4);
  });
  t.is(hex(varToBytes(PackedVector2Array.from([{ x: 1, y: 2 }]))), '23000000010000000000803f00000040');
  t.is(hex(varToBytes(PackedColorArray.from([{ r: 1, g: 0, b: 0 }]))), '25000000010000000000803f00000000000000000000803f');
  // Godot's decoder is lenient: no NUL in a PackedStringArray entry, no trailing padding after bytes
  t.deepEqual(bytesToVar(hx('22000000 01000000 02000000 61620000')).values, ['ab']);
  t.deepEqual([...bytesToVar(hx('1d000000 03000000 010203'))], [1, 2, 3]);
  // other typed arrays have no Variant type
  invalid(t, () => varToBytes(new Uint16Array(2)), 'Uint16Array');
  invalid(t, () => varToBytes(new Float32Array(2).buffer), 'ArrayBuffer');
});

test('nested containers: exact bytes both ways', (t) => {
  // {"p": Vector2(1, 2), "l": [true, null, {"n": -1}]}
  const bytes = `1b000000 02000000
    04000000 01000000 70000000   05000000 0000803f 00000040
    04000000 01000000 6c000000   1c000000 03000000
      01000000 01000000
      00000000
      1b000000 01000000 04000000 01000000 6e000000 02000000 ffffffff`;
  const v = vector(t, 'nested', bytes, (value) => {
    t.true(value.p instanceof Vector2);
    t.is(value.p.y, 2);
    t.deepEqual(value.l, [true, null, { n: -1 }]);
  });
  t.is(hex(varToBytes({ p: new Vector2(1, 2), l: [true, null, { n: -1 }] })), hex(hx(bytes)));
  t.deepEqual(Object.keys(v), ['p', 'l']);
});

test('every type survives encode → decode → encode unchanged (generated values)', (t) => {
  const values = [
    null, true, 0, -1, 123456, 2 ** 31, -(2 ** 40), 1.25, -0.1, 1e300, 'text', '日本',
    new Vector2(0.5, -0.25), new Vector2(0.1, 0.2, true), new Vector2i(3, -4), new Rect2({ x: 1, y: 2 }, { x: 3, y: 4 }),
    new Rect2i({ x: 1, y: 2 }, { x: 3, y: 4 }), new Vector3(1, 2, 3), new Vector3i(1, 2, 3), Transform2D.fromRotation(0.5, { x: 3, y: 4 }),
    new Vector4(1, 2, 3, 4, true), new Vector4i(1, 2, 3, 4), new Plane({ x: 0, y: 1, z: 0 }, 2), new Quaternion(0, 0, 0.7071, 0.7071),
    new AABB({ x: 0, y: 0, z: 0 }, { x: 1, y: 1, z: 1 }), new Basis(), new Transform3D(new Basis(), { x: 1, y: 2, z: 3 }, true),
    new Projection(), new Color(0.2, 0.4, 0.6, 0.8), new StringName('sn'), new NodePath('../a/b:c'), new RID(2n ** 63n),
    { a: [1, { b: [new Vector3(1, 1, 1)] }], c: new Map([[new Vector2i(1, 1), 'v2i key']]) },
    new Uint8Array([9, 8, 7, 6, 5]), new Int32Array([1, 2, 3]), new BigInt64Array([1n, -(2n ** 62n)]), new Float32Array([0.5, 1e-10]),
    new Float64Array([Math.PI]), new PackedStringArray(['x', 'yy', 'zzz', 'wwww']), PackedVector3Array.from([{ x: 1, y: 2, z: 3 }], true),
    PackedVector4Array.from([{ x: 1, y: 2, z: 3, w: 4 }]), typedArray({ className: 'Node2D' }, []),
    typedDictionary(VariantType.INT, VariantType.STRING, new Map([[1, 'one']])),
  ];
  for (const v of values) {
    const once = varToBytes(v);
    t.is(once.length % 4, 0, 'everything is padded to 4');
    const again = varToBytes(bytesToVar(once));
    t.is(hex(again), hex(once), String(v?.constructor?.name ?? v));
  }
});

// ---------------------------------------------------------------------------------------------
// Packets

test('packets: VARIANT / DICTIONARY / NODE carry a Variant after the type byte', (t) => {
  t.is(hex(U.encodeVariant({ a: 1 })), '01' + '1b000000010000000400000001000000610000000200000001000000');
  t.is(hex(U.encodeAuto({ a: 1 }, PacketFormat.GODOT)), '01' + '1b000000010000000400000001000000610000000200000001000000');
  t.is(hex(U.encodeDictionary({ a: 1 })), '02' + '1b000000010000000400000001000000610000000200000001000000');
  t.deepEqual(U.decodeAuto(hx('01 02000000 05000000')), 5);
  t.deepEqual(U.decodeAuto(hx('02 1b000000 01000000 04000000 01000000 61000000 02000000 01000000')), { a: 1 });
  t.deepEqual(U.decodeDictionary(hx('02 1b000000 00000000')), {});
  t.deepEqual(U.decodeVariant(hx('01 1c000000 00000000')), []);
  t.is(hex(U.varToBytes(5)), '0200000005000000');
  t.is(U.bytesToVar(hx('02000000 05000000')), 5);
  invalid(t, () => U.decodeDictionary(hx('02 02000000 05000000')), 'a DICTIONARY packet must hold a dictionary');
  invalid(t, () => U.encodeDictionary([1]), 'encodeDictionary needs a dictionary');
  invalid(t, () => U.decodeAuto(hx('01')), 'VARIANT packet without a body');
  t.is(encodeVariant(1)[0], PacketType.VARIANT);
  t.is(encodeDictionary(new Map())[0], PacketType.DICTIONARY);
  t.is(decodeVariant(encodeVariant('x')), 'x');
  t.deepEqual(decodeDictionary(encodeDictionary({ k: [1] })), { k: [1] });
  // trailing bytes after the value are ignored, as Godot's bytes_to_var ignores them
  t.is(U.decodeAuto(hx('01 02000000 05000000 ffffffff')), 5);
  // event detection works on Godot dictionaries
  const event = U.decodeAuto(U.encodeAuto({ _event: 'jump', h: 2.5 }, PacketFormat.GODOT));
  t.deepEqual(event, { _event: 'jump', h: 2.5 });
});

test('NODE packets: exact bytes of a node_meta state', (t) => {
  const expected = `05 1b000000 04000000
    04000000 05000000 5f747970 65000000   04000000 09000000 6e6f6465 5f6d6574 61000000
    04000000 06000000 5f636c61 73730000   04000000 04000000 4e6f6465
    04000000 05000000 5f706174 68000000   04000000 01000000 41000000
    04000000 05000000 5f6e616d 65000000   04000000 01000000 41000000`;
  const packet = U.encodeNode({ name: 'A' }, NodeSyncFlags.SYNC_METADATA_ONLY);
  t.is(hex(packet), hex(hx(expected)));
  t.deepEqual(U.decodeNodeMetadata(packet), { _type: 'node_meta', _class: 'Node', _path: 'A', _name: 'A' });
});

test('NODE packets: positions become Vector2/Vector3, rotation a FLOAT, transforms Transform2D/3D', (t) => {
  const node2d = { name: 'P', className: 'Node2D', position: { x: 1, y: 2 }, rotation: 0, scale: { x: 1, y: 1 }, properties: { hp: 3 } };
  const packet = encodeNode(node2d, NodeSyncFlags.SYNC_PROPERTIES);
  t.is(packet[0], PacketType.NODE);
  const state = decodeNodeMetadata(packet);
  t.true(state.position instanceof Vector2);
  t.deepEqual([state.position.x, state.position.y], [1, 2]);
  t.true(state.scale instanceof Vector2);
  t.is(state.rotation, 0);
  t.true(floatKeys(state).has('rotation'), 'rotation 0 travels as FLOAT 0.0');
  t.deepEqual(state.properties, { hp: 3 });
  t.is(hex(varToBytes(state)), hex(packet.subarray(1)), 'the decoded state re-encodes to the same bytes');

  const node3d = { name: 'Q', position: { x: 1, y: 2, z: 3 }, rotation: { x: 0, y: 1.5, z: 0 }, transform: [1, 0, 0, 0, 1, 0, 0, 0, 1, 4, 5, 6] };
  const s3 = decodeNodeMetadata(encodeNode(node3d, NodeSyncFlags.SYNC_TRANSFORM_ONLY));
  t.is(s3._type, 'node_transform');
  t.true(s3.position instanceof Vector3);
  t.true(s3.rotation instanceof Vector3);
  t.true(s3.transform instanceof Transform3D);
  t.is(s3.transform.origin.z, 6);
  const t2 = decodeNodeMetadata(encodeNode({ name: 'R', transform: { x: { x: 1, y: 0 }, y: { x: 0, y: 1 }, origin: { x: 7, y: 8 } } }, NodeSyncFlags.SYNC_TRANSFORM_ONLY));
  t.true(t2.transform instanceof Transform2D);
  t.is(t2.transform.origin.y, 8);
  const custom = decodeNodeMetadata(encodeNode({ name: 'C', serializeForNetwork: () => Buffer.from([1, 2]) }, NodeSyncFlags.SYNC_CUSTOM));
  t.deepEqual([...custom.custom_bytes], [1, 2]);
  invalid(t, () => encodeNode({ name: 'F', properties: { f: () => 1 } }, NodeSyncFlags.SYNC_PROPERTIES), 'a function property');
  // phase-1 MSGPACK node packets are still accepted
  t.deepEqual(decodeNodeMetadata(U.encodeMsgpack({ _type: 'node_meta', _name: 'M' })), { _type: 'node_meta', _name: 'M' });
});

// ---------------------------------------------------------------------------------------------
// Encoding limits

test('encoding: what has no Variant form is ERR_INVALID_DATA', (t) => {
  invalid(t, () => varToBytes(() => 1), 'function');
  invalid(t, () => varToBytes(Symbol('s')), 'symbol');
  invalid(t, () => varToBytes({ f() {} }), 'function property');
  invalid(t, () => varToBytes(new Date()), 'class instance (Godot objects are not supported)');
  invalid(t, () => varToBytes(new (class Foo {})()), 'class instance');
  const circular = { a: [] };
  circular.a.push(circular);
  const e = invalid(t, () => varToBytes(circular), 'circular');
  t.regex(e.message, /circular/);
  let deep = 0;
  for (let i = 0; i < DEFAULT_MAX_DEPTH; i++) deep = [deep];
  t.notThrows(() => varToBytes(deep), 'maxDepth levels are fine');
  invalid(t, () => varToBytes([deep]), 'maxDepth + 1 levels');
  invalid(t, () => varToBytes([[[1]]], { maxDepth: 2 }), 'custom maxDepth');
  invalid(t, () => encodePacket({ s: 'x'.repeat(100) }, PacketFormat.GODOT, { maxPacketSize: 64, maxDepth: 8 }), 'over maxPacketSize');
  t.is(encodePacket({ s: 'x'.repeat(40) }, PacketFormat.GODOT, { maxPacketSize: 69, maxDepth: 8 }).length, 69, 'exactly maxPacketSize');
  invalid(t, () => encodePacket({ s: 'x'.repeat(40) }, PacketFormat.GODOT, { maxPacketSize: 68, maxDepth: 8 }), 'one byte over');
  invalid(t, () => U.encodeAuto({ big: new Uint8Array(DEFAULT_MAX_PACKET_SIZE) }, PacketFormat.GODOT), 'big PackedByteArray');
  invalid(t, () => U.encodeAuto({ big: 'é'.repeat(DEFAULT_MAX_PACKET_SIZE / 2) }, PacketFormat.GODOT), 'big string');
  // the pooled writer is fine after errors
  t.is(hex(varToBytes('ok')), '04000000020000006f6b0000');
});

// ---------------------------------------------------------------------------------------------
// Hostile input

test('hostile: truncated buffers', (t) => {
  const cases = [
    '', '00', '000000', '01000000', '02000000', '02000100 00000000', '03000100 00000000', '04000000', '04000000 05000000 6869',
    '05000000 0000803f', '09000100 00000000 00000000', '11000000 00000000', '12000000' + '00000000'.repeat(11), '13000000',
    '14000000 00000000', '15000000 01000000', '16000000', '16000000 01000080 00000000', '16000000 01000080 00000000 00000000',
    '17000000 01000000', '1b000000', '1b000000 01000000', '1b000000 01000000 02000000 01000000', '1c000000', '1c000000 01000000',
    '1c000100', '1c000200 04000000 4e6f', '1d000000 04000000 0102', '1e000000 02000000 01000000', '1f000000 01000000 01000000',
    '20000000 02000000 00000000', '22000000 01000000', '22000000 01000000 04000000 6162', '23000000 01000000 00000000',
    '23000100 01000000 00000000 00000000', '25000000 01000000 00000000', '26000000 01000000 00000000 00000000',
  ];
  for (const c of cases) {
    const bytes = hx(c);
    invalid(t, () => bytesToVar(bytes), `truncated ${c || '(empty)'}`);
    invalid(t, () => U.decodeAuto(Uint8Array.from([PacketType.VARIANT, ...bytes])), `packet ${c || '(empty)'}`);
    // every prefix of a valid value is rejected too
  }
  const full = varToBytes({ a: [1, 'two', new Vector3(1, 2, 3)], b: new PackedStringArray(['x']), c: new NodePath('/a:b') });
  for (let n = 0; n < full.length; n++) {
    invalid(t, () => bytesToVar(full.subarray(0, n)), `prefix ${n}/${full.length}`);
  }
});

test('hostile: lengths and counts larger than the buffer, 2^31 counts — rejected before allocating', (t) => {
  const cases = {
    'string length beyond buffer': '04000000 ff000000 61620000',
    'string length 2^31': '04000000 00000080 61620000',
    'string length 2^32-1': '04000000 ffffffff',
    'string missing its padding': '04000000 02000000 6869',
    'array count 2^31-1': '1c000000 ffffff7f',
    'array count 2^32-1 (masked 2^31-1)': '1c000000 ffffffff 00000000',
    'array count larger than the bytes': '1c000000 03000000 00000000 00000000',
    'dictionary count 2^31-1': '1b000000 ffffff7f',
    'dictionary count beyond the bytes': '1b000000 02000000 00000000 00000000 00000000',
    'byte array count 2^31': '1d000000 00000080',
    'byte array count 2^31-1': '1d000000 ffffff7f',
    'int32 array count 2^30 (×4 overflows int32)': '1e000000 00000040 00000000',
    'int64 array count 2^29': '1f000000 00000020',
    'float32 array count 2^31': '20000000 00000080',
    'float64 array count 2^28+1': '21000000 01000010',
    'string array count 2^31-1': '22000000 ffffff7f',
    'string array count 2^31': '22000000 00000080',
    'vector2 array count 2^29': '23000000 00000020',
    'vector3 array count 2^31-1 (64)': '24000100 ffffff7f',
    'color array count 2^28': '25000000 00000010',
    'vector4 array count 2^31': '26000000 00000080',
    'node path name count 2^31-1': '16000000 ffffffff 00000000 00000000',
    'node path subname count 2^32-1': '16000000 00000080 ffffffff 00000000',
    'node path old format': '16000000 01000000 61000000',
    'typed array with an unknown builtin type': '1c000100 63000000 00000000',
    'typed dictionary key class name too long': '1b000200 ffffff7f',
  };
  for (const [name, c] of Object.entries(cases)) {
    const started = process.hrtime.bigint();
    invalid(t, () => bytesToVar(hx(c)), name);
    t.true(process.hrtime.bigint() - started < 50_000_000n, `${name}: rejected quickly (no huge allocation)`);
  }
});

test('hostile: unsupported and unknown types, invalid UTF-8', (t) => {
  invalid(t, () => bytesToVar(hx('18000100 01000000 00000000')), 'OBJECT as id');
  invalid(t, () => bytesToVar(hx('18000000 00000000')), 'OBJECT');
  invalid(t, () => bytesToVar(hx('19000000')), 'CALLABLE');
  invalid(t, () => bytesToVar(hx('1a000000 01000000 61000000 00000000 00000000')), 'SIGNAL');
  invalid(t, () => bytesToVar(hx('27000000')), 'type 39');
  invalid(t, () => bytesToVar(hx('ff000000')), 'type 255');
  const badStrings = {
    'c3 28 (bad continuation)': '04000000 02000000 c3280000',
    'ff (invalid byte)': '04000000 01000000 ff000000',
    'ed a0 80 (surrogate)': '04000000 03000000 eda08000',
    'c0 af (overlong)': '04000000 02000000 c0af0000',
    'f4 90 80 80 (> U+10FFFF)': '04000000 04000000 f4908080',
    'e2 82 (truncated sequence)': '04000000 02000000 e2820000',
  };
  for (const [name, c] of Object.entries(badStrings)) invalid(t, () => bytesToVar(hx(c)), `STRING ${name}`);
  invalid(t, () => bytesToVar(hx('15000000 02000000 c3280000')), 'STRING_NAME with invalid UTF-8');
  invalid(t, () => bytesToVar(hx('1b000000 01000000 04000000 01000000 ff000000 00000000')), 'invalid UTF-8 key');
  invalid(t, () => bytesToVar(hx('22000000 01000000 03000000 c3286100')), 'PackedStringArray entry with invalid UTF-8');
});

test('hostile: nesting deeper than the limit, incl. a 1 MB packet of nested arrays', (t) => {
  const nested = (levels) => hx('1c000000 01000000'.repeat(levels) + '00000000');
  t.notThrows(() => bytesToVar(nested(DEFAULT_MAX_DEPTH)));
  const e = invalid(t, () => bytesToVar(nested(DEFAULT_MAX_DEPTH + 1)));
  t.regex(e.message, /deeper than the limit/);
  invalid(t, () => bytesToVar(nested(3), { maxDepth: 2 }), 'custom maxDepth');
  const dicts = hx('1b000000 01000000 00000000'.repeat(DEFAULT_MAX_DEPTH + 1) + '00000000');
  invalid(t, () => bytesToVar(dicts), 'nested dictionary values');
  const keys = hx('1b000000 01000000'.repeat(DEFAULT_MAX_DEPTH + 1) + '00000000');
  invalid(t, () => bytesToVar(keys), 'nested dictionary keys');
  // 1 MB: the maximum packet, nothing but nested arrays
  const size = DEFAULT_MAX_PACKET_SIZE;
  const bomb = Buffer.alloc(size);
  bomb[0] = PacketType.VARIANT;
  for (let i = 1; i + 8 <= size; i += 8) bomb.set([0x1c, 0, 0, 0, 1, 0, 0, 0], i);
  const err = invalid(t, () => U.decodeAuto(bomb), '1 MB of nested arrays');
  t.regex(err.message, /deeper than the limit/);
  invalid(t, () => U.decodeAuto(Buffer.concat([bomb, Buffer.alloc(1)])), 'over the maximum packet size');
});

test('hostile: random mutations never escape as anything but ENetError ERR_INVALID_DATA', (t) => {
  let seed = 42;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const samples = [
    varToBytes({ a: [1, 2.5, 'x', new Vector2(1, 2)], b: new Map([[1, new NodePath('/a/b:c')]]), c: new PackedStringArray(['p', 'q']) }),
    varToBytes(typedDictionary(VariantType.STRING, VariantType.FLOAT, { f: 1.5, g: 2 })),
    varToBytes([new Transform3D(), new Projection(), new Color(1, 1, 1), new RID(1n), new Int32Array([1, 2]), new Uint8Array([1])]),
  ];
  let ok = 0;
  for (let i = 0; i < 20000; i++) {
    const base = samples[i % samples.length];
    const b = Buffer.from(base);
    const flips = 1 + Math.floor(rnd() * 4);
    for (let j = 0; j < flips; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
    try {
      bytesToVar(cut);
      ok++;
    } catch (error) {
      if (!(error instanceof ENetError) || error.code !== Err.ERR_INVALID_DATA) {
        t.fail(`unexpected ${error?.name}: ${error?.message} for ${cut.toString('hex')}`);
        return;
      }
    }
  }
  t.true(ok > 0);
});

test('decoded packets do not alias the input buffer (PackedByteArray is a copy; cached strings are copies)', (t) => {
  const packet = Buffer.from(hx('01 1b000000 01000000 04000000 03000000 6b657900 1d000000 02000000 01020000'));
  const value = decodePacket(packet);
  packet.fill(0xee);
  t.deepEqual([...value.key], [1, 2]);
  const again = decodePacket(Buffer.from(hx('01 1b000000 01000000 04000000 03000000 6b657900 02000000 01000000')));
  t.deepEqual(again, { key: 1 });
});

test('Godot values in the other formats: msgpack and JSON see plain data', (t) => {
  const value = { p: new Vector2(1, 2), n: new StringName('sn'), path: new NodePath('/a:b'), f: new VariantFloat(2), s: new PackedStringArray(['x']) };
  const expected = { p: { x: 1, y: 2 }, n: 'sn', path: '/a:b', f: 2, s: ['x'] };
  t.deepEqual(U.decodeAuto(U.encodeAuto(value)), expected);
  t.deepEqual(JSON.parse(JSON.stringify(value)), expected);
  t.deepEqual(U.decodeJson(U.encodeJson(value)), expected);
});
