// Runs on the main thread: who may use the operator panel (docs/panel.md "Security model"). A request
// is let in by `Authorization: Bearer <token>` or by the session cookie the login form sets (a random
// id mapped to the login, never the token itself). Tokens are compared in constant time over their
// SHA-256 hashes; failed attempts are counted per address and refused for a while once too many;
// state-changing requests must also come from the panel's own origin.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The session cookie's name. */
export const SESSION_COOKIE = 'enet_admin';
/** A login lasts this long (then the form again). */
export const SESSION_TTL_MS = 12 * 3600_000;
/** Failed attempts (bad token by the form or a Bearer header) allowed per address and window… */
export const MAX_FAILURES = 5;
/** …the window they are counted over; past the limit the address is refused until it ends. */
export const FAILURE_WINDOW_MS = 60_000;
/** At most this many live sessions (the oldest are forgotten first). */
const MAX_SESSIONS = 1000;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** 127.0.0.0/8, ::1, localhost: only this machine can reach it. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || a === '::ffff:127.0.0.1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

export type Verdict = { ok: true; via: 'none' | 'bearer' | 'cookie' } | { ok: false; status: 401 | 429; retryAfterS?: number };

export class AdminAuth {
  private readonly tokenHash: Buffer | undefined;
  /** Session id → when it ends (ms, Date.now()). */
  private readonly sessions = new Map<string, number>();
  /** Address → times (ms) of its failed attempts within the window. */
  private readonly failures = new Map<string, number[]>();

  constructor(token: string | undefined) {
    this.tokenHash = token === undefined || token === '' ? undefined : sha256(token);
  }

  /** False when no token was set (loopback only): every local request is let in. */
  get required(): boolean {
    return this.tokenHash !== undefined;
  }

  /** Constant time over the hashes: neither the length nor a prefix of the token leaks. */
  matches(candidate: string): boolean {
    if (!this.tokenHash) return true;
    return timingSafeEqual(sha256(candidate), this.tokenHash);
  }

  /** Seconds this address must still wait, or 0 when it may try. */
  limited(address: string, now = Date.now()): number {
    const times = this.failures.get(address);
    if (!times) return 0;
    while (times.length > 0 && now - times[0] >= FAILURE_WINDOW_MS) times.shift();
    if (times.length === 0) {
      this.failures.delete(address);
      return 0;
    }
    return times.length >= MAX_FAILURES ? Math.max(1, Math.ceil((times[0] + FAILURE_WINDOW_MS - now) / 1000)) : 0;
  }

  fail(address: string, now = Date.now()): void {
    const times = this.failures.get(address) ?? [];
    times.push(now);
    if (times.length > MAX_FAILURES) times.shift();
    this.failures.set(address, times);
    // Bounded: addresses whose window is over are forgotten as new ones come.
    if (this.failures.size > 10_000) for (const key of this.failures.keys()) if (this.limited(key, now) === 0) this.failures.delete(key);
  }

  /** Checks a request's credentials. A wrong Bearer token counts as a failed attempt. */
  check(request: IncomingMessage): Verdict {
    if (!this.tokenHash) return { ok: true, via: 'none' };
    const address = request.socket.remoteAddress ?? '';
    const header = request.headers.authorization;
    if (header !== undefined) {
      const wait = this.limited(address);
      if (wait > 0) return { ok: false, status: 429, retryAfterS: wait };
      const match = /^Bearer\s+(.+)$/i.exec(header);
      if (match && this.matches(match[1].trim())) return { ok: true, via: 'bearer' };
      this.fail(address);
      return { ok: false, status: 401 };
    }
    const id = cookie(request, SESSION_COOKIE);
    if (id !== undefined && this.sessionValid(id)) return { ok: true, via: 'cookie' };
    return { ok: false, status: 401 };
  }

  /** A new session after a good login: its id goes in the cookie. */
  openSession(now = Date.now()): string {
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, now + SESSION_TTL_MS);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return id;
  }

  closeSession(request: IncomingMessage): void {
    const id = cookie(request, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(id);
  }

  /** Still logged in (streams re-check this every tick, so a logout ends them). */
  sessionValid(id: string, now = Date.now()): boolean {
    const until = this.sessions.get(id);
    if (until === undefined) return false;
    if (until <= now) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  /** The session id a request came with (undefined for a Bearer or unauthenticated request). */
  sessionOf(request: IncomingMessage): string | undefined {
    return cookie(request, SESSION_COOKIE);
  }
}

/** The Set-Cookie value of a session (HttpOnly, SameSite=Strict; Secure when served over TLS by a proxy). */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * CSRF: a state-changing request must come from a page of this very panel. Its Origin (or, when a
 * browser sent none, its Referer's origin) must name the Host it was sent to; a request with
 * neither is refused too (browsers send Origin with every POST from a page).
 */
export function sameOrigin(request: IncomingMessage): boolean {
  const host = request.headers.host;
  if (!host) return false;
  const origin = request.headers.origin;
  let from: string | undefined;
  if (origin !== undefined && origin !== 'null') from = origin;
  else if (origin === undefined && request.headers.referer) from = request.headers.referer;
  if (from === undefined) return false;
  try {
    const url = new URL(from);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Without a token the panel listens on loopback only; a browser page on another site could still
 * reach it by re-binding its own name to 127.0.0.1 (DNS rebinding). Such a request carries that
 * site's name in Host: only loopback names are let in then.
 */
export function loopbackHost(request: IncomingMessage): boolean {
  const host = request.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return isLoopback(name);
}
