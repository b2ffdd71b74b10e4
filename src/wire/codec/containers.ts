// Side tables that let decoded Godot containers encode back to the same bytes without putting
// anything visible on the JS values themselves (WeakMaps: no extra properties, nothing leaks into
// JSON, msgpack or deep-equality checks, and entries die with their containers):
//  - typed Array / typed Dictionary element types (Godot 4 typed containers);
//  - which entries of a container held a FLOAT whose value is integral (JS has one number type:
//    without this, `1.0` would come back as INT 1);
//  - the original key order of dictionaries whose keys JS would reorder (integer-like keys).
// A copy of a container (spread, JSON round trip…) is a new, untyped container: this is by design.

import { VariantType } from './variant-type.js';

/** A Godot container element type: a builtin Variant type, a class name, or a script path. */
export type ContainerType = VariantType | { readonly className: string } | { readonly script: string };

export interface DictionaryTypes {
  readonly key?: ContainerType;
  readonly value?: ContainerType;
}

const arrayTypes = new WeakMap<object, ContainerType>();
const dictionaryTypes = new WeakMap<object, DictionaryTypes>();
/** container → keys (array indices, object keys, Map keys) whose value was an integral FLOAT. */
const floatEntries = new WeakMap<object, Set<unknown>>();
/** plain object → its keys in wire order, when JS would enumerate them in another order. */
const keyOrders = new WeakMap<object, readonly string[]>();

function checkType(type: ContainerType | undefined, what: string): void {
  if (type === undefined) return;
  if (typeof type === 'number') {
    if (!Number.isInteger(type) || type < 0 || type >= VariantType.VARIANT_MAX) {
      throw new TypeError(`${what}: ${type} is not a Variant type`);
    }
    return;
  }
  if (type === null || typeof type !== 'object' ||
      (typeof (type as { className?: unknown }).className !== 'string' && typeof (type as { script?: unknown }).script !== 'string')) {
    throw new TypeError(`${what}: expected a VariantType, { className } or { script }`);
  }
}

/** Marks `elements` (the array itself, not a copy) as a typed Array[type] and returns it. */
export function typedArray<T>(type: ContainerType, elements: T[] = []): T[] {
  checkType(type, 'typedArray');
  if (type === VariantType.NIL) arrayTypes.delete(elements);
  else arrayTypes.set(elements, type);
  return elements;
}

/** The element type of a typed array (decoded, or made with typedArray), else undefined. */
export function getArrayType(array: readonly unknown[]): ContainerType | undefined {
  return arrayTypes.get(array);
}

/** Marks a dictionary (plain object or Map, not copied) as typed Dictionary[key, value] and returns it. */
export function typedDictionary<D extends object>(key: ContainerType | undefined, value: ContainerType | undefined, dictionary: D): D {
  checkType(key, 'typedDictionary key');
  checkType(value, 'typedDictionary value');
  const k = key === VariantType.NIL ? undefined : key;
  const v = value === VariantType.NIL ? undefined : value;
  if (k === undefined && v === undefined) dictionaryTypes.delete(dictionary);
  else dictionaryTypes.set(dictionary, { key: k, value: v });
  return dictionary;
}

/** The key/value types of a typed dictionary, else undefined. */
export function getDictionaryTypes(dictionary: object): DictionaryTypes | undefined {
  return dictionaryTypes.get(dictionary);
}

/** Records that `container[key]` is a FLOAT even if its value is integral. */
export function markFloat(container: object, key: unknown): void {
  let set = floatEntries.get(container);
  if (set === undefined) floatEntries.set(container, (set = new Set()));
  set.add(key);
}

/** The keys of `container` recorded as FLOAT (undefined when none). */
export function floatKeys(container: object): ReadonlySet<unknown> | undefined {
  return floatEntries.get(container);
}

/** @internal */
export function setKeyOrder(object: object, keys: readonly string[]): void {
  keyOrders.set(object, keys);
}

/** @internal */
export function getKeyOrder(object: object): readonly string[] | undefined {
  return keyOrders.get(object);
}
