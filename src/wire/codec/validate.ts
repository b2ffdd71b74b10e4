// Encode-side check for MSGPACK (and JSON-stringified) values, run before msgpackr sees them:
// msgpackr would silently write a function as nil, recurse forever on a circular structure and
// has no depth limit. The walk stops at maxDepth, so it never recurses deeper than the limit.

import { invalidData, type CodecLimits } from './limits.js';

const hasOwn = Object.prototype.hasOwnProperty;
const INT64_MIN = -(2n ** 63n);
const UINT64_END = 2n ** 64n;

/**
 * Throws ERR_INVALID_DATA unless `value` can be encoded as msgpack within the limits:
 * no functions or symbols, bigints within int64/uint64, nesting (arrays, objects, Maps, Sets)
 * at most maxDepth (circular structures are reported as such), Map keys primitive,
 * no single string or byte array larger than maxPacketSize.
 */
export function assertEncodable(value: unknown, limits: CodecLimits): void {
  const problem = check(value, 0, limits);
  if (problem !== undefined) {
    if (problem.startsWith('@depth')) {
      const where = shorten(problem.slice(6));
      const circular = findCycle(value);
      throw invalidData(
        circular
          ? `cannot encode a circular structure${where ? ` (at ${where})` : ''}`
          : `value nests deeper than the limit of ${limits.maxDepth} levels${where ? ` (at ${where})` : ''}`,
      );
    }
    throw invalidData(`cannot encode ${shortenPath(problem)}`);
  }
}

function shorten(path: string): string {
  return path.length <= 64 ? path : `${path.slice(0, 30)}…${path.slice(-30)}`;
}

function shortenPath(problem: string): string {
  const at = problem.indexOf(' (at ');
  return at < 0 ? problem : `${problem.slice(0, at)} (at ${shorten(problem.slice(at + 5, -1))})`;
}

function prefix(problem: string, key: string): string {
  // "@depth" problems keep the marker first, the path after it.
  if (problem.startsWith('@depth')) return `@depth${key}${problem.slice(6)}`;
  const at = problem.indexOf(' (at ');
  return at < 0 ? `${problem} (at ${key})` : `${problem.slice(0, at)} (at ${key}${problem.slice(at + 5)}`;
}

/** undefined when encodable, else a description of the first problem ("@depth…" for depth). */
function check(value: unknown, depth: number, limits: CodecLimits): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > limits.maxPacketSize ? `a string of ${value.length} characters (over maxPacketSize)` : undefined;
    case 'number':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'bigint':
      return value < INT64_MIN || value >= UINT64_END ? `the bigint ${value} (outside 64 bits)` : undefined;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      break;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (ArrayBuffer.isView(obj)) {
    return obj.byteLength > limits.maxPacketSize ? `a byte array of ${obj.byteLength} bytes (over maxPacketSize)` : undefined;
  }
  if (obj instanceof Date || obj instanceof ArrayBuffer) return undefined;
  if (depth >= limits.maxDepth) return '@depth';
  const next = depth + 1;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const p = check(obj[i], next, limits);
      if (p !== undefined) return prefix(p, `[${i}]`);
    }
    return undefined;
  }
  if (obj instanceof Map) {
    for (const [k, v] of obj) {
      const kt = typeof k;
      if (kt !== 'string' && kt !== 'number' && kt !== 'boolean' && kt !== 'bigint') {
        return `a Map key of type ${k === null ? 'null' : kt} (keys must be strings, numbers, booleans or bigints)`;
      }
      const p = check(v, next, limits);
      if (p !== undefined) return prefix(p, `.${String(k)}`);
    }
    return undefined;
  }
  if (obj instanceof Set) {
    let i = 0;
    for (const v of obj) {
      const p = check(v, next, limits);
      if (p !== undefined) return prefix(p, `[${i}]`);
      i++;
    }
    return undefined;
  }
  if (obj instanceof RegExp) return undefined;
  if (obj instanceof Error) {
    // msgpackr writes [name, message, cause]
    const p = check((obj as { cause?: unknown }).cause, next, limits);
    return p === undefined ? undefined : prefix(p, '.cause');
  }
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    // msgpackr's rule for class instances: toJSON() when there is one, else the own enumerable properties.
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      let json: unknown;
      try {
        json = toJSON.call(obj);
      } catch (error) {
        return `a value whose toJSON() threw (${(error as Error)?.message ?? error})`;
      }
      if (json === obj) return 'a value whose toJSON() returns itself';
      return check(json, depth, limits);
    }
  }
  for (const key in obj) {
    if (!hasOwn.call(obj, key)) continue;
    const p = check((obj as Record<string, unknown>)[key], next, limits);
    if (p !== undefined) return prefix(p, `.${key}`);
  }
  return undefined;
}

/** Failure-path only: is there a cycle? (An explicit stack of ancestors, iterative.) */
function findCycle(root: unknown): boolean {
  type Frame = { obj: object; children: unknown[]; i: number };
  const onPath = new Set<object>();
  const stack: Frame[] = [];
  const push = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return false;
    if (onPath.has(v)) return true;
    onPath.add(v);
    let children: unknown[];
    if (v instanceof Map) children = [...v.values()];
    else if (v instanceof Set || Array.isArray(v)) children = [...(v as Iterable<unknown>)];
    else children = Object.values(v);
    stack.push({ obj: v, children, i: 0 });
    return false;
  };
  if (push(root)) return true;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i >= top.children.length) {
      onPath.delete(top.obj);
      stack.pop();
      continue;
    }
    if (push(top.children[top.i++])) return true;
    if (stack.length > 100_000) return false; // deep but apparently not circular; give up looking
  }
  return false;
}
