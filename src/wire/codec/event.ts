// Custom events: a dictionary whose `_event` key holds a string (the name); the payload is the
// rest of the dictionary. No constants to agree on besides the key itself.

import { Err } from '../enums.js';
import { ENetError } from '../errors.js';

export const EVENT_KEY = '_event';

export interface SplitEvent {
  name: string;
  payload: Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True when a decoded value is an event: a plain object (prototype Object.prototype or null: not
 * an array, not a Buffer, not a Map) whose `_event` is a string.
 */
export function isEvent(value: unknown): value is Record<string, unknown> & { _event: string } {
  return isPlainObject(value) && typeof value[EVENT_KEY] === 'string';
}

/** The event's name and payload (a shallow copy without `_event`), or null when `value` is not an event. */
export function splitEvent(value: unknown): SplitEvent | null {
  if (!isEvent(value)) return null;
  const { [EVENT_KEY]: name, ...payload } = value;
  return { name: name as string, payload };
}

/**
 * The dictionary `triggerEvent` sends: `{ ...payload, _event: name }`. A null/undefined payload
 * gives `{ _event: name }`; a payload that is not a plain object throws ENetError ERR_INVALID_PARAMETER.
 */
export function makeEvent(name: string, payload?: Record<string, unknown> | null): Record<string, unknown> {
  if (typeof name !== 'string') throw new ENetError(Err.ERR_INVALID_PARAMETER, 'an event name must be a string');
  if (payload === null || payload === undefined) return { [EVENT_KEY]: name };
  if (!isPlainObject(payload)) {
    throw new ENetError(Err.ERR_INVALID_PARAMETER,
      `an event payload must be a plain object, got ${Array.isArray(payload) ? 'an array' : typeof payload}`);
  }
  return { ...payload, [EVENT_KEY]: name };
}
