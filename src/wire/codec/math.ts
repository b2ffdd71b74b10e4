// Godot's math and misc Variant types as immutable JS classes. Float-based types remember whether
// they were (or are to be) encoded with 64-bit components (`is64`, a private field: invisible to
// JSON, msgpack and deep-equality checks), so that decoded values encode back to the same bytes.
// Godot's default (single-precision) builds write 32-bit components: that is the default here too.

export interface Vec2Like { readonly x: number; readonly y: number }
export interface Vec3Like { readonly x: number; readonly y: number; readonly z: number }
export interface Vec4Like { readonly x: number; readonly y: number; readonly z: number; readonly w: number }

const f = (v: unknown, name: string): number => {
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`);
  return v;
};

export class Vector2 {
  readonly x: number;
  readonly y: number;
  readonly #is64: boolean;
  constructor(x = 0, y = 0, is64 = false) {
    this.x = f(x, 'Vector2.x');
    this.y = f(y, 'Vector2.y');
    this.#is64 = is64;
    Object.freeze(this);
  }
  /** Components encoded as 64-bit floats (ENCODE_FLAG_64). */
  get is64(): boolean { return this.#is64; }
  static from(v: Vec2Like, is64 = false): Vector2 {
    return v instanceof Vector2 && v.is64 === is64 ? v : new Vector2(v.x, v.y, is64);
  }
  toString(): string { return `(${this.x}, ${this.y})`; }
}

export class Vector2i {
  readonly x: number;
  readonly y: number;
  constructor(x = 0, y = 0) {
    this.x = f(x, 'Vector2i.x');
    this.y = f(y, 'Vector2i.y');
    Object.freeze(this);
  }
  toString(): string { return `(${this.x}, ${this.y})`; }
}

export class Vector3 {
  readonly x: number;
  readonly y: number;
  readonly z: number;
  readonly #is64: boolean;
  constructor(x = 0, y = 0, z = 0, is64 = false) {
    this.x = f(x, 'Vector3.x');
    this.y = f(y, 'Vector3.y');
    this.z = f(z, 'Vector3.z');
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
  static from(v: Vec3Like, is64 = false): Vector3 {
    return v instanceof Vector3 && v.is64 === is64 ? v : new Vector3(v.x, v.y, v.z, is64);
  }
  toString(): string { return `(${this.x}, ${this.y}, ${this.z})`; }
}

export class Vector3i {
  readonly x: number;
  readonly y: number;
  readonly z: number;
  constructor(x = 0, y = 0, z = 0) {
    this.x = f(x, 'Vector3i.x');
    this.y = f(y, 'Vector3i.y');
    this.z = f(z, 'Vector3i.z');
    Object.freeze(this);
  }
  toString(): string { return `(${this.x}, ${this.y}, ${this.z})`; }
}

export class Vector4 {
  readonly x: number;
  readonly y: number;
  readonly z: number;
  readonly w: number;
  readonly #is64: boolean;
  constructor(x = 0, y = 0, z = 0, w = 0, is64 = false) {
    this.x = f(x, 'Vector4.x');
    this.y = f(y, 'Vector4.y');
    this.z = f(z, 'Vector4.z');
    this.w = f(w, 'Vector4.w');
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
  static from(v: Vec4Like, is64 = false): Vector4 {
    return v instanceof Vector4 && v.is64 === is64 ? v : new Vector4(v.x, v.y, v.z, v.w, is64);
  }
  toString(): string { return `(${this.x}, ${this.y}, ${this.z}, ${this.w})`; }
}

export class Vector4i {
  readonly x: number;
  readonly y: number;
  readonly z: number;
  readonly w: number;
  constructor(x = 0, y = 0, z = 0, w = 0) {
    this.x = f(x, 'Vector4i.x');
    this.y = f(y, 'Vector4i.y');
    this.z = f(z, 'Vector4i.z');
    this.w = f(w, 'Vector4i.w');
    Object.freeze(this);
  }
  toString(): string { return `(${this.x}, ${this.y}, ${this.z}, ${this.w})`; }
}

export class Rect2 {
  readonly position: Vector2;
  readonly size: Vector2;
  readonly #is64: boolean;
  constructor(position: Vec2Like = { x: 0, y: 0 }, size: Vec2Like = { x: 0, y: 0 }, is64 = false) {
    this.position = Vector2.from(position, is64);
    this.size = Vector2.from(size, is64);
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
}

export class Rect2i {
  readonly position: Vector2i;
  readonly size: Vector2i;
  constructor(position: Vec2Like = { x: 0, y: 0 }, size: Vec2Like = { x: 0, y: 0 }) {
    this.position = position instanceof Vector2i ? position : new Vector2i(position.x, position.y);
    this.size = size instanceof Vector2i ? size : new Vector2i(size.x, size.y);
    Object.freeze(this);
  }
}

/** Columns `x`, `y` (the basis) and `origin`, as Godot's Transform2D. */
export class Transform2D {
  readonly x: Vector2;
  readonly y: Vector2;
  readonly origin: Vector2;
  readonly #is64: boolean;
  constructor(x: Vec2Like = { x: 1, y: 0 }, y: Vec2Like = { x: 0, y: 1 }, origin: Vec2Like = { x: 0, y: 0 }, is64 = false) {
    this.x = Vector2.from(x, is64);
    this.y = Vector2.from(y, is64);
    this.origin = Vector2.from(origin, is64);
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
  /** A rotation (radians) and a translation. */
  static fromRotation(rotation: number, origin: Vec2Like = { x: 0, y: 0 }, is64 = false): Transform2D {
    const c = Math.cos(rotation);
    const s = Math.sin(rotation);
    return new Transform2D({ x: c, y: s }, { x: -s, y: c }, origin, is64);
  }
}

export class Plane {
  readonly normal: Vector3;
  readonly d: number;
  readonly #is64: boolean;
  constructor(normal: Vec3Like = { x: 0, y: 0, z: 0 }, d = 0, is64 = false) {
    this.normal = Vector3.from(normal, is64);
    this.d = f(d, 'Plane.d');
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
}

export class Quaternion {
  readonly x: number;
  readonly y: number;
  readonly z: number;
  readonly w: number;
  readonly #is64: boolean;
  constructor(x = 0, y = 0, z = 0, w = 1, is64 = false) {
    this.x = f(x, 'Quaternion.x');
    this.y = f(y, 'Quaternion.y');
    this.z = f(z, 'Quaternion.z');
    this.w = f(w, 'Quaternion.w');
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
}

export class AABB {
  readonly position: Vector3;
  readonly size: Vector3;
  readonly #is64: boolean;
  constructor(position: Vec3Like = { x: 0, y: 0, z: 0 }, size: Vec3Like = { x: 0, y: 0, z: 0 }, is64 = false) {
    this.position = Vector3.from(position, is64);
    this.size = Vector3.from(size, is64);
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
}

/** Columns `x`, `y`, `z`, as Godot's Basis (the wire format stores its rows). */
export class Basis {
  readonly x: Vector3;
  readonly y: Vector3;
  readonly z: Vector3;
  readonly #is64: boolean;
  constructor(x: Vec3Like = { x: 1, y: 0, z: 0 }, y: Vec3Like = { x: 0, y: 1, z: 0 }, z: Vec3Like = { x: 0, y: 0, z: 1 }, is64 = false) {
    this.x = Vector3.from(x, is64);
    this.y = Vector3.from(y, is64);
    this.z = Vector3.from(z, is64);
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
  static from(b: { x: Vec3Like; y: Vec3Like; z: Vec3Like }, is64 = false): Basis {
    return b instanceof Basis && b.is64 === is64 ? b : new Basis(b.x, b.y, b.z, is64);
  }
}

export class Transform3D {
  readonly basis: Basis;
  readonly origin: Vector3;
  readonly #is64: boolean;
  constructor(basis: { x: Vec3Like; y: Vec3Like; z: Vec3Like } = new Basis(), origin: Vec3Like = { x: 0, y: 0, z: 0 }, is64 = false) {
    this.basis = Basis.from(basis, is64);
    this.origin = Vector3.from(origin, is64);
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
}

/** Columns `x`, `y`, `z`, `w` (Vector4 each), as Godot's Projection. */
export class Projection {
  readonly x: Vector4;
  readonly y: Vector4;
  readonly z: Vector4;
  readonly w: Vector4;
  readonly #is64: boolean;
  constructor(x: Vec4Like = { x: 1, y: 0, z: 0, w: 0 }, y: Vec4Like = { x: 0, y: 1, z: 0, w: 0 },
    z: Vec4Like = { x: 0, y: 0, z: 1, w: 0 }, w: Vec4Like = { x: 0, y: 0, z: 0, w: 1 }, is64 = false) {
    this.x = Vector4.from(x, is64);
    this.y = Vector4.from(y, is64);
    this.z = Vector4.from(z, is64);
    this.w = Vector4.from(w, is64);
    this.#is64 = is64;
    Object.freeze(this);
  }
  get is64(): boolean { return this.#is64; }
}

/** Always four single-precision floats on the wire. */
export class Color {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
  constructor(r = 0, g = 0, b = 0, a = 1) {
    this.r = f(r, 'Color.r');
    this.g = f(g, 'Color.g');
    this.b = f(b, 'Color.b');
    this.a = f(a, 'Color.a');
    Object.freeze(this);
  }
}

export class StringName {
  readonly name: string;
  constructor(name = '') {
    if (typeof name !== 'string') throw new TypeError('StringName needs a string');
    this.name = name;
    Object.freeze(this);
  }
  toString(): string { return this.name; }
  /** JSON and msgpack see the string. */
  toJSON(): string { return this.name; }
}

/** Godot's NodePath: names separated by `/`, then subnames after `:`; absolute when it starts with `/`. */
export class NodePath {
  readonly names: readonly string[];
  readonly subnames: readonly string[];
  readonly absolute: boolean;
  constructor(path: string | { names: readonly string[]; subnames?: readonly string[]; absolute?: boolean } = '') {
    if (typeof path === 'string') {
      this.absolute = path.startsWith('/');
      const colon = path.indexOf(':');
      const namePart = colon < 0 ? path : path.slice(0, colon);
      this.names = Object.freeze(namePart.split('/').filter((s) => s !== ''));
      this.subnames = Object.freeze(colon < 0 ? [] : path.slice(colon + 1).split(':').filter((s) => s !== ''));
    } else {
      this.names = Object.freeze([...path.names]);
      this.subnames = Object.freeze([...(path.subnames ?? [])]);
      this.absolute = path.absolute ?? false;
    }
    Object.freeze(this);
  }
  toString(): string {
    const names = (this.absolute ? '/' : '') + this.names.join('/');
    return this.subnames.length > 0 ? `${names}:${this.subnames.join(':')}` : names;
  }
  /** JSON and msgpack see the path string. */
  toJSON(): string { return this.toString(); }
}

/** A resource id (u64 on the wire). */
export class RID {
  readonly id: bigint;
  constructor(id: bigint | number = 0n) {
    const big = typeof id === 'bigint' ? id : BigInt(id);
    if (big < 0n || big >= 1n << 64n) throw new RangeError('RID id must fit in 64 unsigned bits');
    this.id = big;
    Object.freeze(this);
  }
}

/** A FLOAT Variant: use it to send an integral number as a float (a plain integral number is sent as INT). */
export class VariantFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = f(value, 'VariantFloat.value');
    Object.freeze(this);
  }
  valueOf(): number { return this.value; }
  /** JSON and msgpack see the number. */
  toJSON(): number { return this.value; }
}

// ---------------------------------------------------------------------------------------------
// Packed arrays without a JS typed-array equivalent. The wrappers are frozen; their `data` arrays
// are the decoded storage (not copied): treat them as read-only.

export class PackedStringArray implements Iterable<string> {
  readonly values: readonly string[];
  constructor(values: Iterable<string> = []) {
    const list = [...values];
    for (const v of list) if (typeof v !== 'string') throw new TypeError('PackedStringArray holds strings');
    this.values = Object.freeze(list);
    Object.freeze(this);
  }
  get length(): number { return this.values.length; }
  [Symbol.iterator](): Iterator<string> { return this.values[Symbol.iterator](); }
  /** JSON and msgpack see the array of strings. */
  toJSON(): readonly string[] { return this.values; }
}

abstract class PackedFloatVectors<T> implements Iterable<T> {
  readonly data: Float32Array | Float64Array;
  protected constructor(data: Float32Array | Float64Array, width: number, name: string) {
    if (!(data instanceof Float32Array || data instanceof Float64Array) || data.length % width !== 0) {
      throw new TypeError(`${name} needs a Float32Array or Float64Array whose length is a multiple of ${width}`);
    }
    this.data = data;
  }
  /** Components encoded as 64-bit floats (a Float64Array). */
  get is64(): boolean { return this.data instanceof Float64Array; }
  abstract get length(): number;
  abstract at(index: number): T;
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

export class PackedVector2Array extends PackedFloatVectors<Vector2> {
  constructor(data: Float32Array | Float64Array = new Float32Array(0)) {
    super(data, 2, 'PackedVector2Array');
    Object.freeze(this);
  }
  static from(vectors: Iterable<Vec2Like>, is64 = false): PackedVector2Array {
    const list = [...vectors];
    const data = is64 ? new Float64Array(list.length * 2) : new Float32Array(list.length * 2);
    list.forEach((v, i) => { data[i * 2] = v.x; data[i * 2 + 1] = v.y; });
    return new PackedVector2Array(data);
  }
  get length(): number { return this.data.length / 2; }
  at(i: number): Vector2 { return new Vector2(this.data[i * 2], this.data[i * 2 + 1], this.is64); }
}

export class PackedVector3Array extends PackedFloatVectors<Vector3> {
  constructor(data: Float32Array | Float64Array = new Float32Array(0)) {
    super(data, 3, 'PackedVector3Array');
    Object.freeze(this);
  }
  static from(vectors: Iterable<Vec3Like>, is64 = false): PackedVector3Array {
    const list = [...vectors];
    const data = is64 ? new Float64Array(list.length * 3) : new Float32Array(list.length * 3);
    list.forEach((v, i) => { data[i * 3] = v.x; data[i * 3 + 1] = v.y; data[i * 3 + 2] = v.z; });
    return new PackedVector3Array(data);
  }
  get length(): number { return this.data.length / 3; }
  at(i: number): Vector3 { return new Vector3(this.data[i * 3], this.data[i * 3 + 1], this.data[i * 3 + 2], this.is64); }
}

export class PackedVector4Array extends PackedFloatVectors<Vector4> {
  constructor(data: Float32Array | Float64Array = new Float32Array(0)) {
    super(data, 4, 'PackedVector4Array');
    Object.freeze(this);
  }
  static from(vectors: Iterable<Vec4Like>, is64 = false): PackedVector4Array {
    const list = [...vectors];
    const data = is64 ? new Float64Array(list.length * 4) : new Float32Array(list.length * 4);
    list.forEach((v, i) => { data.set([v.x, v.y, v.z, v.w], i * 4); });
    return new PackedVector4Array(data);
  }
  get length(): number { return this.data.length / 4; }
  at(i: number): Vector4 {
    const d = this.data;
    return new Vector4(d[i * 4], d[i * 4 + 1], d[i * 4 + 2], d[i * 4 + 3], this.is64);
  }
}

/** Always single precision (a Float32Array of r, g, b, a). */
export class PackedColorArray implements Iterable<Color> {
  readonly data: Float32Array;
  constructor(data: Float32Array = new Float32Array(0)) {
    if (!(data instanceof Float32Array) || data.length % 4 !== 0) {
      throw new TypeError('PackedColorArray needs a Float32Array whose length is a multiple of 4');
    }
    this.data = data;
    Object.freeze(this);
  }
  static from(colors: Iterable<{ r: number; g: number; b: number; a?: number }>): PackedColorArray {
    const list = [...colors];
    const data = new Float32Array(list.length * 4);
    list.forEach((c, i) => { data.set([c.r, c.g, c.b, c.a ?? 1], i * 4); });
    return new PackedColorArray(data);
  }
  get length(): number { return this.data.length / 4; }
  at(i: number): Color {
    const d = this.data;
    return new Color(d[i * 4], d[i * 4 + 1], d[i * 4 + 2], d[i * 4 + 3]);
  }
  *[Symbol.iterator](): Iterator<Color> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
