// VARIANT (1), DICTIONARY (2), NODE (5): Godot 4's binary Variant serialization, as Godot's
// `var_to_bytes` / `bytes_to_var` without objects (core/io/marshalls.cpp). Little-endian, every
// value padded to 4 bytes, a u32 header: low byte = Variant type, bits 16+ = flags.
//
// JS → Variant: null/undefined → NIL; boolean → BOOL; number → INT when it is a safe integer,
// else FLOAT; bigint → INT; string → STRING; Array → ARRAY; plain object / Map → DICTIONARY;
// Uint8Array (Buffer) → PACKED_BYTE_ARRAY, Int32Array → PACKED_INT32_ARRAY, BigInt64Array →
// PACKED_INT64_ARRAY, Float32Array → PACKED_FLOAT32_ARRAY, Float64Array → PACKED_FLOAT64_ARRAY;
// the classes of math.ts → their types; VariantFloat → FLOAT. INT and FLOAT take 64 bits only
// when 32 do not hold the value (Godot's rule).
// Variant → JS: the reverse; INT outside int32 → bigint; DICTIONARY → plain object when every key
// is a string (StringName keys become strings, as in Godot's Dictionary), else a Map.
// Exact re-encoding of decoded values: see containers.ts (typed containers, integral FLOATs,
// key order) and the `is64` flag of the math classes. A top-level FLOAT with an integral value
// decodes to a plain number and re-encodes as INT (wrap it in VariantFloat to send a float).

import { Err } from '../enums.js';
import { ENetError } from '../errors.js';
import {
  floatKeys, getArrayType, getDictionaryTypes, getKeyOrder, markFloat, setKeyOrder, typedArray,
  typedDictionary, type ContainerType,
} from './containers.js';
import { checkPacketSize, invalidData, resolveLimits, type CodecLimits } from './limits.js';
import {
  AABB, Basis, Color, NodePath, PackedColorArray, PackedStringArray, PackedVector2Array, PackedVector3Array,
  PackedVector4Array, Plane, Projection, Quaternion, Rect2, Rect2i, RID, StringName, Transform2D, Transform3D,
  VariantFloat, Vector2, Vector2i, Vector3, Vector3i, Vector4, Vector4i,
} from './math.js';
import { ENCODE_FLAG_64, VariantType as T } from './variant-type.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const hasOwn = Object.prototype.hasOwnProperty;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const TYPE_NAMES: string[] = [];
for (const [name, id] of Object.entries(T)) if (typeof id === 'number') TYPE_NAMES[id] = name;

function tooDeep(maxDepth: number): ENetError {
  return invalidData(`Variant nests deeper than the limit of ${maxDepth} levels (or is circular)`);
}

// =============================================================================================
// Encoding

/** A growable little-endian output buffer; one is pooled for the process (encoding is synchronous). */
class Writer {
  buf: Buffer;
  view: DataView;
  pos = 0;
  limit = 0;
  maxDepth = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need > this.limit) {
      throw invalidData(`the Variant does not fit in the maximum packet size (more than ${this.limit} bytes)`);
    }
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.min(Math.max(need, this.buf.length * 2), Math.max(need, this.limit)));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
      this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    }
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.pos = p + 4;
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Components as float32, or float64 when `is64`. */
  reals(is64: boolean, ...values: number[]): void {
    if (is64) for (const v of values) this.f64(v);
    else for (const v of values) this.f32(v);
  }

  pad(): void {
    const n = (4 - (this.pos & 3)) & 3;
    if (n === 0) return;
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.pos++] = 0;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** u32 byte length, UTF-8, (NUL), zero padding to 4. */
  string(text: string, withNul = false): void {
    const extra = withNul ? 1 : 0;
    const n = text.length;
    if (n <= 64) {
      // Short strings: ASCII written by hand (cheaper than Buffer#write); fall through otherwise.
      this.ensure(4 + ((n + extra + 3) & ~3));
      const b = this.buf;
      let p = this.pos + 4;
      let j = 0;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (j === n) {
        if (withNul) b[p++] = 0;
        const len = n + extra;
        const h = this.pos;
        b[h] = len; // < 256
        b[h + 1] = 0;
        b[h + 2] = 0;
        b[h + 3] = 0;
        this.pos = p;
        this.pad();
        return;
      }
    }
    const worst = 4 + text.length * 3 + extra + 3;
    if (this.pos + worst <= this.limit) {
      this.ensure(worst);
      const written = text.length === 0 ? 0 : this.buf.write(text, this.pos + 4, 'utf8');
      const p = this.pos;
      const len = written + extra;
      this.buf[p] = len & 0xff;
      this.buf[p + 1] = (len >>> 8) & 0xff;
      this.buf[p + 2] = (len >>> 16) & 0xff;
      this.buf[p + 3] = (len >>> 24) & 0xff;
      this.pos = p + 4 + written;
      if (withNul) this.buf[this.pos++] = 0;
    } else {
      const written = Buffer.byteLength(text, 'utf8');
      this.u32(written + extra);
      this.ensure(written + extra);
      this.buf.write(text, this.pos, 'utf8');
      this.pos += written;
      if (withNul) this.buf[this.pos++] = 0;
    }
    this.pad();
  }
}

let pooled: Writer | null = new Writer(64 * 1024);
/** Pooled buffers above this size are not kept after use. */
const POOL_KEEP_BYTES = 4 * 1024 * 1024;

function acquire(limit: number, maxDepth: number): Writer {
  const w = pooled ?? new Writer(4096); // nested use (from a getter): a private writer
  pooled = null;
  w.pos = 0;
  w.limit = limit;
  w.maxDepth = maxDepth;
  return w;
}

function release(w: Writer): void {
  if (pooled === null && w.buf.length <= POOL_KEEP_BYTES) pooled = w;
  else if (pooled === null) pooled = new Writer(64 * 1024);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function writeInt(w: Writer, v: number): void {
  if (v >= INT32_MIN && v <= INT32_MAX) {
    w.u32(T.INT);
    w.u32(v);
  } else {
    w.u32(T.INT | ENCODE_FLAG_64);
    w.i64(BigInt(v));
  }
}

function writeBigInt(w: Writer, v: bigint): void {
  if (v < INT64_MIN || v > INT64_MAX) throw invalidData(`the integer ${v} does not fit in 64 bits`);
  if (v >= -0x80000000n && v <= 0x7fffffffn) {
    w.u32(T.INT);
    w.u32(Number(v));
  } else {
    w.u32(T.INT | ENCODE_FLAG_64);
    w.i64(v);
  }
}

function writeFloat(w: Writer, v: number): void {
  if (Math.fround(v) === v) {
    w.u32(T.FLOAT);
    w.f32(v);
  } else {
    // also NaN (float(NaN) != NaN in C++ too)
    w.u32(T.FLOAT | ENCODE_FLAG_64);
    w.f64(v);
  }
}

/**
 * Writes one value. `hint` is the element type a typed container imposes (or FLOAT for an entry
 * recorded as an integral float): numbers become FLOAT under FLOAT, strings STRING_NAME under
 * STRING_NAME; anything else is written by its own type.
 */
function writeValue(w: Writer, v: unknown, depth: number, hint: number): void {
  switch (typeof v) {
    case 'number':
      if (hint !== T.FLOAT && Number.isSafeInteger(v)) writeInt(w, v);
      else writeFloat(w, v);
      return;
    case 'string':
      w.u32(hint === T.STRING_NAME ? T.STRING_NAME : T.STRING);
      w.string(v);
      return;
    case 'boolean':
      w.u32(T.BOOL);
      w.u32(v ? 1 : 0);
      return;
    case 'bigint':
      if (hint === T.FLOAT) writeFloat(w, Number(v));
      else writeBigInt(w, v);
      return;
    case 'undefined':
      w.u32(T.NIL);
      return;
    case 'object':
      if (v === null) w.u32(T.NIL);
      else writeObject(w, v, depth);
      return;
    default:
      throw invalidData(`cannot encode a ${typeof v} as a Variant`);
  }
}

function containerKind(type: ContainerType | undefined): number {
  if (type === undefined) return 0;
  if (typeof type === 'number') return type === T.NIL ? 0 : 1;
  return 'script' in type ? 3 : 2;
}

function writeContainerType(w: Writer, type: ContainerType | undefined): void {
  if (type === undefined || type === T.NIL) return;
  if (typeof type === 'number') w.u32(type);
  else if ('script' in type) w.string(type.script);
  else w.string(type.className);
}

function builtinHint(type: ContainerType | undefined): number {
  return typeof type === 'number' ? type : T.NIL;
}

function writeArray(w: Writer, arr: readonly unknown[], depth: number): void {
  if (depth >= w.maxDepth) throw tooDeep(w.maxDepth);
  const type = getArrayType(arr);
  w.u32(T.ARRAY | (containerKind(type) << 16));
  writeContainerType(w, type);
  const n = arr.length;
  w.u32(n);
  const hint = builtinHint(type);
  const floats = floatKeys(arr);
  for (let i = 0; i < n; i++) {
    writeValue(w, arr[i], depth + 1, floats !== undefined && floats.has(i) ? T.FLOAT : hint);
  }
}

function orderedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  const order = getKeyOrder(obj);
  if (order === undefined) return keys;
  const out: string[] = [];
  const seen = new Set<string>();
  for (const k of order) if (hasOwn.call(obj, k) && !seen.has(k)) { seen.add(k); out.push(k); }
  for (const k of keys) if (!seen.has(k)) out.push(k);
  return out;
}

function writeDictionaryHeader(w: Writer, dict: object, count: number, depth: number): { key: number; value: number } {
  if (depth >= w.maxDepth) throw tooDeep(w.maxDepth);
  const types = getDictionaryTypes(dict);
  w.u32(T.DICTIONARY | (containerKind(types?.key) << 16) | (containerKind(types?.value) << 18));
  writeContainerType(w, types?.key);
  writeContainerType(w, types?.value);
  w.u32(count);
  return { key: builtinHint(types?.key), value: builtinHint(types?.value) };
}

function writePlainDictionary(w: Writer, obj: Record<string, unknown>, depth: number): void {
  const keys = orderedKeys(obj);
  const hints = writeDictionaryHeader(w, obj, keys.length, depth);
  const keyType = hints.key === T.STRING_NAME ? T.STRING_NAME : T.STRING;
  const floats = floatKeys(obj);
  for (const key of keys) {
    w.u32(keyType);
    w.string(key);
    writeValue(w, obj[key], depth + 1, floats !== undefined && floats.has(key) ? T.FLOAT : hints.value);
  }
}

function writeMap(w: Writer, map: Map<unknown, unknown>, depth: number): void {
  const hints = writeDictionaryHeader(w, map, map.size, depth);
  const floats = floatKeys(map);
  for (const [key, value] of map) {
    writeValue(w, key, depth + 1, hints.key);
    writeValue(w, value, depth + 1, floats !== undefined && floats.has(key) ? T.FLOAT : hints.value);
  }
}

/** Copies the element bytes of a typed array (little-endian platforms) or writes them one by one. */
function writeTypedArray(w: Writer, type: number, arr: Int32Array | BigInt64Array | Float32Array | Float64Array): void {
  w.u32(type);
  w.u32(arr.length);
  if (LITTLE_ENDIAN) {
    w.bytes(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    return;
  }
  for (let i = 0; i < arr.length; i++) {
    if (arr instanceof Int32Array) w.u32(arr[i]!);
    else if (arr instanceof BigInt64Array) w.i64(arr[i]!);
    else if (arr instanceof Float32Array) w.f32(arr[i]!);
    else w.f64(arr[i]!);
  }
}

function writePackedFloats(w: Writer, type: number, data: Float32Array | Float64Array, width: number, flagged: boolean): void {
  w.u32(type | (flagged ? ENCODE_FLAG_64 : 0));
  w.u32(data.length / width);
  if (LITTLE_ENDIAN) {
    w.bytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) w.f64(data[i]!);
    else w.f32(data[i]!);
  }
}

function int32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX) throw invalidData(`${what} must be a 32-bit integer, got ${v}`);
  return v;
}

function writeObject(w: Writer, v: object, depth: number): void {
  if (Array.isArray(v)) return writeArray(w, v, depth);
  if (isPlainObject(v)) return writePlainDictionary(w, v as Record<string, unknown>, depth);
  if (v instanceof Uint8Array) {
    w.u32(T.PACKED_BYTE_ARRAY);
    w.u32(v.length);
    w.bytes(v);
    w.pad();
    return;
  }
  if (v instanceof Vector2) {
    w.u32(T.VECTOR2 | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.x, v.y);
  }
  if (v instanceof Vector3) {
    w.u32(T.VECTOR3 | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.x, v.y, v.z);
  }
  if (v instanceof Map) return writeMap(w, v, depth);
  if (v instanceof VariantFloat) return writeFloat(w, v.value);
  if (v instanceof StringName) {
    w.u32(T.STRING_NAME);
    return w.string(v.name);
  }
  if (v instanceof Vector2i) {
    w.u32(T.VECTOR2I);
    w.u32(int32(v.x, 'Vector2i.x'));
    return w.u32(int32(v.y, 'Vector2i.y'));
  }
  if (v instanceof Vector3i) {
    w.u32(T.VECTOR3I);
    w.u32(int32(v.x, 'Vector3i.x'));
    w.u32(int32(v.y, 'Vector3i.y'));
    return w.u32(int32(v.z, 'Vector3i.z'));
  }
  if (v instanceof Vector4) {
    w.u32(T.VECTOR4 | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.x, v.y, v.z, v.w);
  }
  if (v instanceof Vector4i) {
    w.u32(T.VECTOR4I);
    for (const c of [v.x, v.y, v.z, v.w]) w.u32(int32(c, 'Vector4i component'));
    return;
  }
  if (v instanceof Rect2) {
    w.u32(T.RECT2 | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.position.x, v.position.y, v.size.x, v.size.y);
  }
  if (v instanceof Rect2i) {
    w.u32(T.RECT2I);
    for (const c of [v.position.x, v.position.y, v.size.x, v.size.y]) w.u32(int32(c, 'Rect2i component'));
    return;
  }
  if (v instanceof Transform2D) {
    w.u32(T.TRANSFORM2D | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.x.x, v.x.y, v.y.x, v.y.y, v.origin.x, v.origin.y);
  }
  if (v instanceof Plane) {
    w.u32(T.PLANE | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.normal.x, v.normal.y, v.normal.z, v.d);
  }
  if (v instanceof Quaternion) {
    w.u32(T.QUATERNION | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.x, v.y, v.z, v.w);
  }
  if (v instanceof AABB) {
    w.u32(T.AABB | (v.is64 ? ENCODE_FLAG_64 : 0));
    return w.reals(v.is64, v.position.x, v.position.y, v.position.z, v.size.x, v.size.y, v.size.z);
  }
  if (v instanceof Basis) {
    w.u32(T.BASIS | (v.is64 ? ENCODE_FLAG_64 : 0));
    return writeBasisRows(w, v);
  }
  if (v instanceof Transform3D) {
    w.u32(T.TRANSFORM3D | (v.is64 ? ENCODE_FLAG_64 : 0));
    writeBasisRows(w, v.basis, v.is64);
    return w.reals(v.is64, v.origin.x, v.origin.y, v.origin.z);
  }
  if (v instanceof Projection) {
    w.u32(T.PROJECTION | (v.is64 ? ENCODE_FLAG_64 : 0));
    for (const c of [v.x, v.y, v.z, v.w]) w.reals(v.is64, c.x, c.y, c.z, c.w);
    return;
  }
  if (v instanceof Color) {
    w.u32(T.COLOR);
    return w.reals(false, v.r, v.g, v.b, v.a);
  }
  if (v instanceof NodePath) {
    w.u32(T.NODE_PATH);
    w.u32((v.names.length | 0x80000000) >>> 0);
    w.u32(v.subnames.length);
    w.u32(v.absolute ? 1 : 0);
    for (const s of v.names) w.string(s);
    for (const s of v.subnames) w.string(s);
    return;
  }
  if (v instanceof RID) {
    w.u32(T.RID);
    return w.u64(v.id);
  }
  if (v instanceof Int32Array) return writeTypedArray(w, T.PACKED_INT32_ARRAY, v);
  if (v instanceof BigInt64Array) return writeTypedArray(w, T.PACKED_INT64_ARRAY, v);
  if (v instanceof Float32Array) return writeTypedArray(w, T.PACKED_FLOAT32_ARRAY, v);
  if (v instanceof Float64Array) return writeTypedArray(w, T.PACKED_FLOAT64_ARRAY, v);
  if (v instanceof PackedStringArray) {
    w.u32(T.PACKED_STRING_ARRAY);
    w.u32(v.values.length);
    for (const s of v.values) w.string(s, true);
    return;
  }
  if (v instanceof PackedVector2Array) return writePackedFloats(w, T.PACKED_VECTOR2_ARRAY, v.data, 2, v.is64);
  if (v instanceof PackedVector3Array) return writePackedFloats(w, T.PACKED_VECTOR3_ARRAY, v.data, 3, v.is64);
  if (v instanceof PackedVector4Array) return writePackedFloats(w, T.PACKED_VECTOR4_ARRAY, v.data, 4, v.is64);
  if (v instanceof PackedColorArray) return writePackedFloats(w, T.PACKED_COLOR_ARRAY, v.data, 4, false);
  const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  throw invalidData(`cannot encode ${ArrayBuffer.isView(v) ? `a ${name}` : `an instance of ${name}`} as a Variant (Godot objects are not supported)`);
}

/** The wire stores a Basis by rows: rows[i][j] = column j, component i. */
function writeBasisRows(w: Writer, b: Basis, is64 = b.is64): void {
  w.reals(is64, b.x.x, b.y.x, b.z.x, b.x.y, b.y.y, b.z.y, b.x.z, b.y.z, b.z.z);
}

/** Runs `fn` with the pooled writer; returns what it wrote, `prefix` bytes reserved in front. */
function encodeWith(value: unknown, limits: CodecLimits, prefix: number, type: number): Buffer {
  const w = acquire(limits.maxPacketSize - prefix, limits.maxDepth);
  try {
    writeValue(w, value, 0, T.NIL);
    const out = Buffer.allocUnsafe(prefix + w.pos);
    if (prefix > 0) out[0] = type;
    w.buf.copy(out, prefix, 0, w.pos);
    return out;
  } catch (error) {
    if (error instanceof ENetError) throw error;
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw invalidData('the value nests too deeply to encode', error);
    }
    throw invalidData(`cannot encode the value as a Variant: ${(error as Error)?.message ?? error}`, error);
  } finally {
    release(w);
  }
}

/** `[type, var_to_bytes(value)]` for type VARIANT, DICTIONARY or NODE. */
export function encodeVariantPacket(type: number, value: unknown, limits: CodecLimits): Buffer {
  const out = encodeWith(value, limits, 1, type);
  checkPacketSize(out.length, limits);
  return out;
}

/** Godot's `var_to_bytes` (no type byte), bounded by the limits (default: the package defaults). */
export function varToBytes(value: unknown, limits?: Partial<CodecLimits>): Uint8Array {
  return encodeWith(value, resolveLimits(limits), 0, 0);
}

// =============================================================================================
// Decoding

class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;
  readonly maxDepth: number;
  /** The value just read was a FLOAT (containers use it to remember integral floats). */
  lastFloat = false;

  constructor(bytes: Uint8Array, start: number, maxDepth: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = bytes.length;
    this.maxDepth = maxDepth;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw invalidData(`truncated Variant: ${what} needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  i32(what: string): number {
    return this.u32(what) | 0;
  }

  f32(): number {
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** `count` float components (8 bytes each when is64, else 4), bounds-checked once. */
  reals(count: number, is64: boolean, what: string): number[] {
    this.need(count * (is64 ? 8 : 4), what);
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = is64 ? this.f64() : this.f32();
    return out;
  }

  ints(count: number, what: string): number[] {
    this.need(count * 4, what);
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = this.i32(what);
    return out;
  }

  /** A Godot string: u32 length, UTF-8, padding to 4 (required, as Godot requires it). */
  string(what: string): string {
    const len = this.u32(`${what} length`);
    if (len > 0x7fffffff) throw invalidData(`${what} length ${len} is negative as an int32`);
    const padded = len + ((4 - (len & 3)) & 3);
    this.need(padded, what);
    const start = this.pos;
    this.pos += padded;
    return decodeGodotUtf8(this.bytes, start, start + len, what);
  }

  /** A count of elements that each take at least `minBytes`: checked against the bytes left. */
  count(raw: number, minBytes: number, what: string): number {
    if (raw * minBytes > this.end - this.pos) {
      throw invalidData(`${what} count ${raw} exceeds the ${this.end - this.pos} bytes left`);
    }
    return raw;
  }

  /** Packed array count: an int32 (negative is invalid) checked against the bytes left. */
  packedCount(elementBytes: number, what: string): number {
    const raw = this.u32(`${what} count`);
    if (raw > 0x7fffffff) throw invalidData(`${what} count ${raw} is negative as an int32`);
    return this.count(raw, elementBytes, what);
  }
}

// Short ASCII strings (dictionary keys, names) come back again and again: a small cache keyed by
// their bytes saves creating the same string for every packet (as msgpackr does for map keys).
const CACHE_SLOTS = 4096;
const CACHE_MAX_LENGTH = 32;
const cachedBytes: (Uint8Array | undefined)[] = new Array(CACHE_SLOTS);
const cachedStrings: (string | undefined)[] = new Array(CACHE_SLOTS);

/**
 * UTF-8 as Godot's String::parse_utf8 reads it: a leading byte-order mark is skipped, the text
 * ends at the first NUL, invalid sequences are an error.
 */
function decodeGodotUtf8(bytes: Uint8Array, start: number, end: number, what: string): string {
  if (end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf) start += 3;
  let ascii = true;
  let hash = 0;
  let i = start;
  for (; i < end; i++) {
    const b = bytes[i]!;
    if (b === 0) break;
    if (b >= 0x80) ascii = false;
    hash = (hash * 31 + b) | 0;
  }
  end = i;
  const len = end - start;
  if (len === 0) return '';
  if (ascii && len <= CACHE_MAX_LENGTH) {
    const slot = (hash ^ (hash >>> 12) ^ len) & (CACHE_SLOTS - 1);
    const known = cachedBytes[slot];
    if (known !== undefined && known.length === len) {
      let same = true;
      for (let j = 0; j < len; j++) {
        if (known[j] !== bytes[start + j]) { same = false; break; }
      }
      if (same) return cachedStrings[slot]!;
    }
    let text = '';
    for (let j = start; j < end; j++) text += String.fromCharCode(bytes[j]!);
    const copy = new Uint8Array(len); // a copy: `bytes` may be a view of a buffer that gets reused
    for (let j = 0; j < len; j++) copy[j] = bytes[start + j]!;
    cachedBytes[slot] = copy;
    cachedStrings[slot] = text;
    return text;
  }
  try {
    return strictUtf8.decode(bytes.subarray(start, end));
  } catch (error) {
    throw invalidData(`${what} is not valid UTF-8`, error);
  }
}

function readContainerType(r: Reader, kind: number, what: string): ContainerType | undefined {
  switch (kind) {
    case 0:
      return undefined;
    case 1: {
      const t = r.u32(`${what} element type`);
      if (t >= T.VARIANT_MAX) throw invalidData(`${what} element type ${t} is not a Variant type`);
      return t === T.NIL ? undefined : (t as T);
    }
    case 2:
      return { className: r.string(`${what} class name`) };
    default:
      return { script: r.string(`${what} script path`) };
  }
}

/** Keys JS enumerates before the others (array indices), which would change the key order. */
function isIndexKey(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const c0 = key.charCodeAt(0);
  if (c0 < 0x30 || c0 > 0x39 || (c0 === 0x30 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return Number(key) < 4294967295;
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function readValue(r: Reader, depth: number): unknown {
  const header = r.u32('header');
  const type = header & 0xff;
  const is64 = (header & ENCODE_FLAG_64) !== 0;
  let value: unknown;
  switch (type) {
    case T.NIL:
      value = null;
      break;
    case T.BOOL:
      value = r.u32('BOOL') !== 0;
      break;
    case T.INT:
      if (is64) {
        r.need(8, 'INT');
        const big = r.view.getBigInt64(r.pos, true);
        r.pos += 8;
        value = big >= -0x80000000n && big <= 0x7fffffffn ? Number(big) : big;
      } else {
        value = r.i32('INT');
      }
      break;
    case T.FLOAT:
      r.need(is64 ? 8 : 4, 'FLOAT');
      value = is64 ? r.f64() : r.f32();
      break;
    case T.STRING:
      value = r.string('STRING');
      break;
    case T.VECTOR2: {
      const c = r.reals(2, is64, 'VECTOR2');
      value = new Vector2(c[0], c[1], is64);
      break;
    }
    case T.VECTOR2I: {
      const c = r.ints(2, 'VECTOR2I');
      value = new Vector2i(c[0], c[1]);
      break;
    }
    case T.RECT2: {
      const c = r.reals(4, is64, 'RECT2');
      value = new Rect2({ x: c[0]!, y: c[1]! }, { x: c[2]!, y: c[3]! }, is64);
      break;
    }
    case T.RECT2I: {
      const c = r.ints(4, 'RECT2I');
      value = new Rect2i(new Vector2i(c[0], c[1]), new Vector2i(c[2], c[3]));
      break;
    }
    case T.VECTOR3: {
      const c = r.reals(3, is64, 'VECTOR3');
      value = new Vector3(c[0], c[1], c[2], is64);
      break;
    }
    case T.VECTOR3I: {
      const c = r.ints(3, 'VECTOR3I');
      value = new Vector3i(c[0], c[1], c[2]);
      break;
    }
    case T.TRANSFORM2D: {
      const c = r.reals(6, is64, 'TRANSFORM2D');
      value = new Transform2D({ x: c[0]!, y: c[1]! }, { x: c[2]!, y: c[3]! }, { x: c[4]!, y: c[5]! }, is64);
      break;
    }
    case T.VECTOR4: {
      const c = r.reals(4, is64, 'VECTOR4');
      value = new Vector4(c[0], c[1], c[2], c[3], is64);
      break;
    }
    case T.VECTOR4I: {
      const c = r.ints(4, 'VECTOR4I');
      value = new Vector4i(c[0], c[1], c[2], c[3]);
      break;
    }
    case T.PLANE: {
      const c = r.reals(4, is64, 'PLANE');
      value = new Plane({ x: c[0]!, y: c[1]!, z: c[2]! }, c[3], is64);
      break;
    }
    case T.QUATERNION: {
      const c = r.reals(4, is64, 'QUATERNION');
      value = new Quaternion(c[0], c[1], c[2], c[3], is64);
      break;
    }
    case T.AABB: {
      const c = r.reals(6, is64, 'AABB');
      value = new AABB({ x: c[0]!, y: c[1]!, z: c[2]! }, { x: c[3]!, y: c[4]!, z: c[5]! }, is64);
      break;
    }
    case T.BASIS:
      value = basisFromRows(r.reals(9, is64, 'BASIS'), is64);
      break;
    case T.TRANSFORM3D: {
      const c = r.reals(12, is64, 'TRANSFORM3D');
      value = new Transform3D(basisFromRows(c, is64), { x: c[9]!, y: c[10]!, z: c[11]! }, is64);
      break;
    }
    case T.PROJECTION: {
      const c = r.reals(16, is64, 'PROJECTION');
      const col = (i: number) => ({ x: c[i * 4]!, y: c[i * 4 + 1]!, z: c[i * 4 + 2]!, w: c[i * 4 + 3]! });
      value = new Projection(col(0), col(1), col(2), col(3), is64);
      break;
    }
    case T.COLOR: {
      const c = r.reals(4, false, 'COLOR'); // always single precision
      value = new Color(c[0], c[1], c[2], c[3]);
      break;
    }
    case T.STRING_NAME:
      value = new StringName(r.string('STRING_NAME'));
      break;
    case T.NODE_PATH:
      value = readNodePath(r);
      break;
    case T.RID: {
      r.need(8, 'RID');
      value = new RID(r.view.getBigUint64(r.pos, true));
      r.pos += 8;
      break;
    }
    case T.OBJECT:
    case T.CALLABLE:
    case T.SIGNAL:
      throw invalidData(`Variant type ${TYPE_NAMES[type]} is not supported (objects are not decoded)`);
    case T.DICTIONARY:
      value = readDictionary(r, header, depth);
      break;
    case T.ARRAY:
      value = readArray(r, header, depth);
      break;
    case T.PACKED_BYTE_ARRAY: {
      const n = r.packedCount(1, 'PACKED_BYTE_ARRAY');
      const out = new Uint8Array(n);
      out.set(r.bytes.subarray(r.pos, r.pos + n));
      // Godot tolerates a missing trailing padding (its decoder does not check it).
      r.pos = Math.min(r.end, r.pos + n + ((4 - (n & 3)) & 3));
      value = out;
      break;
    }
    case T.PACKED_INT32_ARRAY:
      value = readNumbers(r, Int32Array, 'PACKED_INT32_ARRAY', 1);
      break;
    case T.PACKED_INT64_ARRAY:
      value = readNumbers(r, BigInt64Array, 'PACKED_INT64_ARRAY', 1);
      break;
    case T.PACKED_FLOAT32_ARRAY:
      value = readNumbers(r, Float32Array, 'PACKED_FLOAT32_ARRAY', 1);
      break;
    case T.PACKED_FLOAT64_ARRAY:
      value = readNumbers(r, Float64Array, 'PACKED_FLOAT64_ARRAY', 1);
      break;
    case T.PACKED_STRING_ARRAY: {
      const n = r.packedCount(4, 'PACKED_STRING_ARRAY');
      const list = new Array<string>(n);
      for (let i = 0; i < n; i++) list[i] = r.string('PACKED_STRING_ARRAY entry');
      value = new PackedStringArray(list);
      break;
    }
    case T.PACKED_VECTOR2_ARRAY:
      value = new PackedVector2Array(readVectors(r, is64, 'PACKED_VECTOR2_ARRAY', 2));
      break;
    case T.PACKED_VECTOR3_ARRAY:
      value = new PackedVector3Array(readVectors(r, is64, 'PACKED_VECTOR3_ARRAY', 3));
      break;
    case T.PACKED_COLOR_ARRAY:
      value = new PackedColorArray(readNumbers(r, Float32Array, 'PACKED_COLOR_ARRAY', 4));
      break;
    case T.PACKED_VECTOR4_ARRAY:
      value = new PackedVector4Array(readVectors(r, is64, 'PACKED_VECTOR4_ARRAY', 4));
      break;
    default:
      throw invalidData(`unknown Variant type ${type}`);
  }
  r.lastFloat = type === T.FLOAT;
  return value;
}

function basisFromRows(c: number[], is64: boolean): Basis {
  // rows[i][j] = c[i * 3 + j]; column j = (rows[0][j], rows[1][j], rows[2][j])
  return new Basis(
    { x: c[0]!, y: c[3]!, z: c[6]! },
    { x: c[1]!, y: c[4]!, z: c[7]! },
    { x: c[2]!, y: c[5]!, z: c[8]! },
    is64,
  );
}

type NumberArrayCtor<A> = { new (length: number): A; readonly BYTES_PER_ELEMENT: number };

/** A packed numeric array of `count × width` elements, copied out (aligned, little-endian). */
function readNumbers<A extends Int32Array | BigInt64Array | Float32Array | Float64Array>(
  r: Reader, Ctor: NumberArrayCtor<A>, what: string, width: number,
): A {
  const size = Ctor.BYTES_PER_ELEMENT;
  const n = r.packedCount(size * width, what);
  const out = new Ctor(n * width);
  const bytes = n * width * size;
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(r.bytes.subarray(r.pos, r.pos + bytes));
  } else {
    for (let i = 0; i < n * width; i++) {
      const p = r.pos + i * size;
      if (out instanceof Int32Array) out[i] = r.view.getInt32(p, true);
      else if (out instanceof BigInt64Array) out[i] = r.view.getBigInt64(p, true);
      else if (out instanceof Float32Array) out[i] = r.view.getFloat32(p, true);
      else (out as Float64Array)[i] = r.view.getFloat64(p, true);
    }
  }
  r.pos += bytes;
  return out;
}

function readVectors(r: Reader, is64: boolean, what: string, width: number): Float32Array | Float64Array {
  return is64 ? readNumbers(r, Float64Array, what, width) : readNumbers(r, Float32Array, what, width);
}

function readNodePath(r: Reader): NodePath {
  const first = r.u32('NODE_PATH name count');
  if ((first & 0x80000000) === 0) throw invalidData('NODE_PATH in the old (Godot 2) format is not supported');
  const nameCount = first & 0x7fffffff;
  let subnameCount = r.u32('NODE_PATH subname count');
  const flags = r.u32('NODE_PATH flags');
  if (flags & 2) subnameCount++; // obsolete format: the property separate from the subpath
  r.count(nameCount + subnameCount, 4, 'NODE_PATH names');
  const names: string[] = [];
  const subnames: string[] = [];
  for (let i = 0; i < nameCount; i++) names.push(r.string('NODE_PATH name'));
  for (let i = 0; i < subnameCount; i++) subnames.push(r.string('NODE_PATH subname'));
  return new NodePath({ names, subnames, absolute: (flags & 1) !== 0 });
}

function readArray(r: Reader, header: number, depth: number): unknown[] {
  if (depth + 1 > r.maxDepth) throw tooDeep(r.maxDepth);
  const type = readContainerType(r, (header >>> 16) & 3, 'ARRAY');
  const n = r.count(r.u32('ARRAY count') & 0x7fffffff, 4, 'ARRAY'); // bit 31: "shared"
  const arr = new Array<unknown>(n);
  const trackFloats = type !== T.FLOAT;
  for (let i = 0; i < n; i++) {
    const v = readValue(r, depth + 1);
    arr[i] = v;
    if (r.lastFloat && trackFloats && Number.isInteger(v)) markFloat(arr, i);
  }
  if (type !== undefined) typedArray(type, arr);
  return arr;
}

function readDictionary(r: Reader, header: number, depth: number): Record<string, unknown> | Map<unknown, unknown> {
  if (depth + 1 > r.maxDepth) throw tooDeep(r.maxDepth);
  const keyType = readContainerType(r, (header >>> 16) & 3, 'DICTIONARY key');
  const valueType = readContainerType(r, (header >>> 18) & 3, 'DICTIONARY value');
  const n = r.count(r.u32('DICTIONARY count') & 0x7fffffff, 8, 'DICTIONARY');
  const trackFloats = valueType !== T.FLOAT;
  let obj: Record<string, unknown> | null = {};
  let keys: string[] = [];
  let indexKeys = false;
  let map: Map<unknown, unknown> | null = null;
  let floats: Set<unknown> | null = null;
  for (let i = 0; i < n; i++) {
    let key = readValue(r, depth + 1);
    if (key instanceof StringName) key = key.name; // Godot's Dictionary stores StringName keys as String
    const value = readValue(r, depth + 1);
    const isFloat = r.lastFloat && trackFloats && Number.isInteger(value);
    if (obj !== null && typeof key === 'string') {
      if (!hasOwn.call(obj, key)) {
        keys.push(key);
        if (!indexKeys && isIndexKey(key)) indexKeys = true;
      }
      setOwn(obj, key, value);
    } else {
      if (map === null) {
        map = new Map();
        for (const k of keys) map.set(k, obj![k]);
        obj = null;
        keys = [];
      }
      map.set(key, value);
    }
    if (isFloat) (floats ??= new Set()).add(key);
    else if (floats !== null) floats.delete(key);
  }
  const dict: Record<string, unknown> | Map<unknown, unknown> = map ?? obj!;
  if (floats !== null) for (const k of floats) markFloat(dict, k);
  if (obj !== null && indexKeys && keys.length > 1) setKeyOrder(obj, keys);
  if (keyType !== undefined || valueType !== undefined) typedDictionary(keyType, valueType, dict);
  return dict;
}

function decodeWith(bytes: Uint8Array, start: number, maxDepth: number): unknown {
  const r = new Reader(bytes, start, maxDepth);
  try {
    // Bytes after the value are ignored, as Godot's bytes_to_var ignores them.
    return readValue(r, 0);
  } catch (error) {
    if (error instanceof ENetError) throw error;
    throw invalidData(`malformed Variant: ${(error as Error)?.message ?? error}`, error);
  }
}

/** The Variant in `bytes[start..]` (the body of a VARIANT/DICTIONARY/NODE packet). */
export function decodeVariantBody(bytes: Uint8Array, start: number, limits: CodecLimits): unknown {
  return decodeWith(bytes, start, limits.maxDepth);
}

/** Godot's `bytes_to_var` (no type byte, no objects), bounded by the limits. */
export function bytesToVar(bytes: Uint8Array, limits?: Partial<CodecLimits>): unknown {
  const resolved = resolveLimits(limits);
  if (!(bytes instanceof Uint8Array)) {
    throw new ENetError(Err.ERR_INVALID_PARAMETER, 'bytesToVar needs a Uint8Array or Buffer');
  }
  checkPacketSize(bytes.length, resolved);
  return decodeWith(bytes, 0, resolved.maxDepth);
}

