// Node state (sendNodeState): JavaScript has no scene tree, a node is any object of this shape.

import { Err, NodeSyncFlags } from '../enums.js';
import { ENetError } from '../errors.js';
import { Basis, Transform2D, Transform3D, VariantFloat, Vector2, Vector3 } from './math.js';

export interface NetworkNode {
  name: string;
  path?: string;
  className?: string;
  position?: unknown;
  rotation?: unknown;
  scale?: unknown;
  transform?: unknown;
  properties?: unknown;
  serializeForNetwork?(): unknown;
}

export type NodeStateType = 'node' | 'node_meta' | 'node_transform' | 'node_custom';

export interface NodeState {
  _type: NodeStateType;
  _class: string;
  _path: string;
  _name: string;
  [key: string]: unknown;
}

/**
 * The dictionary a node is sent as. Flags, first match wins: SYNC_CUSTOM → `node_custom` with
 * `custom` = serializeForNetwork() (bytes go under `custom_bytes` instead; no method → null);
 * SYNC_PROPERTIES → `node` with `properties` (an empty object when the node has none) and
 * position/rotation/scale/transform when present; SYNC_TRANSFORM_ONLY → `node_transform` with
 * position/rotation/scale/transform when present; otherwise → `node_meta`.
 * `_class` defaults to 'Node', `_path` to the name. Values are taken as they are (no conversion).
 */
export function buildNodeState(node: NetworkNode, flags: number): NodeState {
  if (node === null || typeof node !== 'object') {
    throw new ENetError(Err.ERR_INVALID_PARAMETER, `a node must be an object, got ${node === null ? 'null' : typeof node}`);
  }
  const name = node.name === undefined || node.name === null ? '' : String(node.name);
  const state: NodeState = {
    _type: 'node_meta',
    _class: node.className === undefined || node.className === null ? 'Node' : String(node.className),
    _path: node.path === undefined || node.path === null ? name : String(node.path),
    _name: name,
  };
  if (flags & NodeSyncFlags.SYNC_CUSTOM) {
    state._type = 'node_custom';
    const custom = typeof node.serializeForNetwork === 'function' ? node.serializeForNetwork() : null;
    if (custom instanceof Uint8Array) state.custom_bytes = custom;
    else state.custom = custom === undefined ? null : custom;
  } else if (flags & NodeSyncFlags.SYNC_PROPERTIES) {
    state._type = 'node';
    state.properties = node.properties ?? {};
    addTransform(state, node);
  } else if (flags & NodeSyncFlags.SYNC_TRANSFORM_ONLY) {
    state._type = 'node_transform';
    addTransform(state, node);
  }
  return state;
}

function addTransform(state: NodeState, node: NetworkNode): void {
  if (node.position !== undefined) state.position = node.position;
  if (node.rotation !== undefined) state.rotation = node.rotation;
  if (node.scale !== undefined) state.scale = node.scale;
  if (node.transform !== undefined) state.transform = node.transform;
}

// ---------------------------------------------------------------------------------------------
// Godot typing of a node state (NODE packets carry Godot Variants)

function isNum(v: unknown): v is number {
  return typeof v === 'number';
}

/** `{x,y,z}` → Vector3, `{x,y}` → Vector2; math class instances and anything else stay as they are. */
function toVector(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Vector2 || v instanceof Vector3) return v;
  const o = v as { x?: unknown; y?: unknown; z?: unknown };
  if (!isNum(o.x) || !isNum(o.y)) return v;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  return isNum(o.z) ? new Vector3(o.x, o.y, o.z) : new Vector2(o.x, o.y);
}

/**
 * A transform given as a plain object or an array: `{x, y, origin}` (2D columns) → Transform2D,
 * `{basis: {x, y, z}, origin}` → Transform3D, 6 numbers → Transform2D (x.x, x.y, y.x, y.y,
 * origin.x, origin.y), 12 numbers → Transform3D (basis columns x, y, z, then origin).
 */
function toTransform(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Transform2D || v instanceof Transform3D) return v;
  if (Array.isArray(v) && v.every(isNum)) {
    const c = v as number[];
    if (c.length === 6) return new Transform2D({ x: c[0]!, y: c[1]! }, { x: c[2]!, y: c[3]! }, { x: c[4]!, y: c[5]! });
    if (c.length === 12) {
      return new Transform3D(
        new Basis({ x: c[0]!, y: c[1]!, z: c[2]! }, { x: c[3]!, y: c[4]!, z: c[5]! }, { x: c[6]!, y: c[7]!, z: c[8]! }),
        { x: c[9]!, y: c[10]!, z: c[11]! },
      );
    }
    return v;
  }
  const o = v as { x?: unknown; y?: unknown; origin?: unknown; basis?: unknown };
  const origin = toVector(o.origin);
  const basis = o.basis as { x?: unknown; y?: unknown; z?: unknown } | undefined;
  if (basis && typeof basis === 'object' && origin instanceof Vector3) {
    const bx = toVector(basis.x);
    const by = toVector(basis.y);
    const bz = toVector(basis.z);
    if (bx instanceof Vector3 && by instanceof Vector3 && bz instanceof Vector3) return new Transform3D(new Basis(bx, by, bz), origin);
  }
  const x = toVector(o.x);
  const y = toVector(o.y);
  if (x instanceof Vector2 && y instanceof Vector2 && origin instanceof Vector2) return new Transform2D(x, y, origin);
  return v;
}

/**
 * The node state with Godot types where Godot has them: position/scale `{x,y}` → Vector2 and
 * `{x,y,z}` → Vector3, a numeric rotation → FLOAT (even when integral), a vector rotation →
 * Vector2/Vector3, transform → Transform2D/Transform3D (see toTransform). Other values unchanged.
 */
export function toGodotNodeState(state: NodeState): NodeState {
  const out: NodeState = { ...state };
  if ('position' in out) out.position = toVector(out.position);
  if ('scale' in out) out.scale = toVector(out.scale);
  if ('rotation' in out) out.rotation = isNum(out.rotation) ? new VariantFloat(out.rotation) : toVector(out.rotation);
  if ('transform' in out) out.transform = toTransform(out.transform);
  return out;
}
