// The wire codec: packet encoding/decoding, limits, events, node state, Godot Variants.

export { ENetPacketUtils, type ENetPacketUtilsType } from './utils.js';
export {
  encodePacket, decodePacket,
  encodeRaw, encodeString, encodeJson, encodeMsgpack, encodeVariant, encodeDictionary, encodeNode,
  decodeRaw, decodeString, decodeJson, decodeMsgpack, decodeVariant, decodeDictionary, decodeNodeMetadata,
} from './packet.js';
export { DEFAULT_LIMITS, resolveLimits, type CodecLimits } from './limits.js';
export { EVENT_KEY, isEvent, splitEvent, makeEvent, type SplitEvent } from './event.js';
export {
  buildNodeState, toGodotNodeState, type NetworkNode, type NodeState, type NodeStateType,
} from './node-state.js';
export { varToBytes, bytesToVar } from './variant.js';
export { VariantType, ENCODE_FLAG_64 } from './variant-type.js';
export {
  Vector2, Vector2i, Rect2, Rect2i, Vector3, Vector3i, Transform2D, Vector4, Vector4i, Plane, Quaternion,
  AABB, Basis, Transform3D, Projection, Color, StringName, NodePath, RID, VariantFloat,
  PackedStringArray, PackedVector2Array, PackedVector3Array, PackedVector4Array, PackedColorArray,
  type Vec2Like, type Vec3Like, type Vec4Like,
} from './math.js';
export {
  typedArray, getArrayType, typedDictionary, getDictionaryTypes, markFloat, floatKeys,
  type ContainerType, type DictionaryTypes,
} from './containers.js';
export { packr } from './msgpack.js';
