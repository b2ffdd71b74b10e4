import { Err } from './enums.js';

/** An Error that carries the Godot `Error` code it stands for. */
export class ENetError extends Error {
  readonly code: Err;

  constructor(code: Err, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ENetError';
    this.code = code;
  }
}
