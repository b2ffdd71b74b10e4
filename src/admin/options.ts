// Runs on the main thread: the operator panel's options and handle, and their checks — apart from
// the HTTP server (server.ts) so that the package's front can name them without loading it.
import { InvalidOptionError, isInt } from '../common/checks.js';
import { isLoopback } from './auth.js';

export interface AdminOptions {
  /** TCP port; 0 = any free one. */
  port: number;
  /** Default 127.0.0.1. Any non-loopback address requires `token`. */
  address?: string;
  /** The operator's secret: `Authorization: Bearer <token>`, or typed into the login form. */
  token?: string;
}

export interface AdminHandle {
  /** The bound port. */
  port: number;
  address: string;
  /** Stops the panel: closes every stream and the listening socket. */
  close(): Promise<void>;
}

/** What the supervisor lends the panel beyond its public API: a shard's stats table (queued bytes per peer). */
export interface AdminHooks {
  statsOf(shard: number): Uint32Array | undefined;
}

/** The event the broadcast form triggers on every authenticated peer: `{ message }`. */
export const BROADCAST_EVENT = 'adminBroadcast';

/** Checks the options (throws InvalidOptionError naming the option at fault). */
export function checkAdminOptions(options: AdminOptions): Required<Pick<AdminOptions, 'port' | 'address'>> & { token: string | undefined } {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'startAdmin needs { port, address?, token? }');
  const { port, address = '127.0.0.1', token } = options;
  if (!isInt(port, 0, 65535)) throw new InvalidOptionError('port', `the admin port must be an integer 0–65535, got ${String(port)}`);
  if (typeof address !== 'string' || address === '') throw new InvalidOptionError('address', 'the admin address must be a non-empty string');
  if (token !== undefined && (typeof token !== 'string' || token === '')) throw new InvalidOptionError('token', 'the admin token must be a non-empty string');
  if (token === undefined && !isLoopback(address)) {
    throw new InvalidOptionError('token', `the admin panel on ${address} (not loopback) needs a token: anyone who reaches it could kick players`);
  }
  return { port, address, token };
}

