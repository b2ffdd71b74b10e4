// Runs on the main thread: the operator panel (docs/panel.md) — a node:http server beside the game
// server, no framework. It serves the page and its assets (shipped in the package; uPlot from
// node_modules, no CDN), a JSON API for scripts, and one Server-Sent Events stream per open tab, all
// fed by the one sampler (sampler.ts). Who may use it: auth.ts. State changes only by POST, with
// credentials and from the panel's own origin; no GET acts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Err } from '../wire/enums.js';
import type { ENetServerSupervisor } from '../supervisor/server.js';
import { AdminAuth, clearedCookie, loopbackHost, sameOrigin, sessionCookie } from './auth.js';
import { BROADCAST_EVENT, checkAdminOptions, type AdminHandle, type AdminHooks, type AdminOptions } from './options.js';
import { parseQuery, peerRow, queryKey, selectPeers, type PeerQuery } from './peers.js';
import { Sampler } from './sampler.js';

const MAX_BODY = 16 * 1024;
const MAX_REASON = 256;
const MAX_MESSAGE = 2000;

/** The panel's own files (copied beside this file by the build) and uPlot's, from node_modules. */
const ASSETS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'assets');
const require = createRequire(import.meta.url);
function uplotFile(name: string): string | undefined {
  try {
    return join(dirname(require.resolve('uplot/package.json')), 'dist', name);
  } catch {
    return undefined;
  }
}

const ASSETS: Record<string, { file: () => string | undefined; type: string }> = {
  '/assets/panel.js': { file: () => join(ASSETS_DIR, 'panel.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/panel.css': { file: () => join(ASSETS_DIR, 'panel.css'), type: 'text/css; charset=utf-8' },
  '/assets/uPlot.iife.min.js': { file: () => uplotFile('uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/uPlot.min.css': { file: () => uplotFile('uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Starts the panel; resolves once listening. */
export async function startAdmin(server: ENetServerSupervisor, options: AdminOptions, hooks: AdminHooks): Promise<AdminHandle> {
  const { port, address, token } = checkAdminOptions(options);
  const auth = new AdminAuth(token);
  const sampler = new Sampler(server, hooks.statsOf);
  const streams = new Set<Stream>();
  const page = await readFile(join(ASSETS_DIR, 'index.html'), 'utf8');
  const loginPage = await readFile(join(ASSETS_DIR, 'login.html'), 'utf8');

  // One sample a second feeds every stream; streams asking for the same page share its JSON.
  // What the panel itself costs the main thread (GET /api/state's `cost`): sampling, and the updates.
  const cost = { samples: 0, sampleMs: 0, fanouts: 0, fanoutMs: 0, updates: 0 };
  sampler.onSample(() => {
    cost.samples++;
    cost.sampleMs += sampler.lastSampleMs;
    if (streams.size === 0) return;
    const started = performance.now();
    const pages = new Map<string, string>();
    const overview = JSON.stringify(sampler.overview);
    const point = JSON.stringify(sampler.point());
    for (const stream of streams) {
      if (stream.session !== undefined && !auth.sessionValid(stream.session)) {
        stream.response.end();
        continue;
      }
      const key = queryKey(stream.query);
      let peers = pages.get(key);
      if (peers === undefined) {
        peers = JSON.stringify(selectPeers(sampler.rows(), stream.query));
        pages.set(key, peers);
      }
      stream.response.write(`event: update\ndata: {"overview":${overview},"point":${point},"peers":${peers}}\n\n`);
      cost.updates++;
    }
    cost.fanouts++;
    cost.fanoutMs += performance.now() - started;
  });

  const http = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) send(response, 500, { error: error.message });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://panel');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (!auth.required && !loopbackHost(request)) {
      send(response, 403, { error: 'this panel has no token and answers only to a loopback Host (DNS rebinding guard)' });
      return;
    }

    if (path === '/login') {
      if (method === 'GET' || method === 'HEAD') {
        html(response, 200, loginPage.replace('{{error}}', url.searchParams.has('failed') ? 'Wrong token.' : ''), LOGIN_CSP);
        return;
      }
      if (method !== 'POST') return methodNotAllowed(response, 'GET, POST');
      return login(request, response);
    }

    const verdict = auth.check(request);
    if (!verdict.ok) {
      if (verdict.status === 429) return tooMany(response, verdict.retryAfterS ?? 60);
      const wantsPage = method === 'GET' && !path.startsWith('/api/') && (request.headers.accept ?? '').includes('text/html');
      if (wantsPage) {
        html(response, 401, '<!doctype html><meta charset="utf-8"><title>401</title><p>Not logged in. <a href="/login">Log in</a>.</p>', LOGIN_CSP);
      } else {
        response.writeHead(401, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="enet-server admin"' });
        response.end('{"error":"unauthorized: Authorization: Bearer <token>, or log in at /login"}\n');
      }
      return;
    }

    // Routes: [method, pattern] → handler. A known path with another method is 405, not 404.
    const kick = /^\/api\/peers\/(\d+)\/kick$/.exec(path);
    const peer = /^\/api\/peers\/(\d+)$/.exec(path);
    if (path === '/' || path === '/index.html') {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(response, 'GET');
      html(response, 200, page, PAGE_CSP);
      return;
    }
    if (Object.hasOwn(ASSETS, path)) {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(response, 'GET');
      return asset(response, path);
    }
    if (path === '/api/state') {
      if (method !== 'GET') return methodNotAllowed(response, 'GET');
      send(response, 200, state(parseQuery(url.searchParams)));
      return;
    }
    if (path === '/api/events') {
      if (method !== 'GET') return methodNotAllowed(response, 'GET');
      openStream(request, response, parseQuery(url.searchParams), url.searchParams.get('history') !== '0');
      return;
    }
    if (peer) {
      if (method !== 'GET') return methodNotAllowed(response, 'GET');
      return peerDetails(response, Number(peer[1]));
    }
    if (kick || path === '/api/broadcast' || path === '/logout') {
      if (method !== 'POST') return methodNotAllowed(response, 'POST');
      if (!sameOrigin(request)) {
        send(response, 403, { error: 'cross-origin request refused: Origin (or Referer) must match Host' });
        return;
      }
      if (path === '/logout') {
        auth.closeSession(request);
        response.writeHead(303, { ...SECURITY_HEADERS, location: '/login', 'set-cookie': clearedCookie() }).end();
        return;
      }
      const body = await readBody(request, response);
      if (body === undefined) return;
      if (kick) return kickPeer(response, Number(kick[1]), body.reason);
      return broadcast(response, body.message);
    }
    send(response, 404, { error: `not found: ${path}` });
  }

  function state(query: PeerQuery): object {
    // `streams`: panels (and scripts) following /api/events now.
    // `cost`: ms of main thread the panel used since it started (samples, and updates to streams).
    return { overview: sampler.overview, streams: streams.size, cost, peers: selectPeers(sampler.readRows(), query) };
  }

  async function login(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const from = request.socket.remoteAddress ?? '';
    const wait = auth.limited(from);
    if (wait > 0) return tooMany(response, wait);
    if (!sameOrigin(request)) {
      send(response, 403, { error: 'cross-origin login refused' });
      return;
    }
    const body = await readBody(request, response);
    if (body === undefined) return;
    const token = typeof body.token === 'string' ? body.token : '';
    if (!auth.required || auth.matches(token)) {
      const secure = request.headers['x-forwarded-proto'] === 'https';
      response.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'set-cookie': sessionCookie(auth.openSession(), secure) }).end();
      return;
    }
    auth.fail(from);
    response.writeHead(303, { ...SECURITY_HEADERS, location: '/login?failed=1' }).end();
  }

  function openStream(request: IncomingMessage, response: ServerResponse, query: PeerQuery, history: boolean): void {
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const stream: Stream = { response, query, session: auth.sessionOf(request) };
    // A Bearer stream is not tied to a session; a cookie stream ends with its session.
    if (request.headers.authorization !== undefined) stream.session = undefined;
    streams.add(stream);
    // A closed tab (or a dropped connection) removes its stream at once.
    const remove = (): void => {
      streams.delete(stream);
    };
    request.socket.setNoDelay(true);
    request.once('close', remove);
    response.once('close', remove);
    response.write('retry: 2000\n\n');
    const first = { overview: sampler.overview, point: null, peers: selectPeers(sampler.rows(), query), history: history ? sampler.history() : undefined };
    response.write(`event: update\ndata: ${JSON.stringify(first)}\n\n`);
  }

  function peerDetails(response: ServerResponse, id: number): void {
    const found = server.getPeer(id);
    if (!found) {
      send(response, 404, { error: `no peer ${id}` });
      return;
    }
    const statistics: Record<string, number> = {};
    const names = ['packetLoss', 'packetLossVariance', 'packetLossEpoch', 'roundTripTime', 'roundTripTimeVariance', 'lastRoundTripTime', 'lastRoundTripTimeVariance', 'packetThrottle', 'packetThrottleLimit', 'packetThrottleCounter', 'packetThrottleEpoch', 'packetThrottleAcceleration', 'packetThrottleDeceleration', 'packetThrottleInterval'];
    names.forEach((name, i) => {
      statistics[name] = found.getStatistic(i);
    });
    send(response, 200, { ...peerRow(found, hooks.statsOf(found.shard)), authState: found.getAuthState(), customData: safeJson(found.getCustomData()), statistics });
  }

  function kickPeer(response: ServerResponse, id: number, reason: unknown): void {
    if (reason !== undefined && typeof reason !== 'string') {
      send(response, 400, { error: 'reason must be a string' });
      return;
    }
    if (!server.getPeer(id)) {
      send(response, 404, { error: `no peer ${id}` });
      return;
    }
    server.kickPeer(id, (reason ?? '').slice(0, MAX_REASON));
    send(response, 200, { ok: true, id });
  }

  function broadcast(response: ServerResponse, message: unknown): void {
    if (typeof message !== 'string' || message.trim() === '') {
      send(response, 400, { error: 'message must be a non-empty string' });
      return;
    }
    const peers = server.getAuthenticatedPeerCount();
    const err = server.triggerEventToAll(BROADCAST_EVENT, { message: message.slice(0, MAX_MESSAGE) });
    send(response, err === Err.OK ? 200 : 409, { ok: err === Err.OK, err, peers });
  }

  async function asset(response: ServerResponse, path: string): Promise<void> {
    const { file, type } = ASSETS[path];
    const name = file();
    let body: Buffer;
    try {
      if (name === undefined) throw new Error('uplot is not installed');
      body = await readFile(name);
    } catch (error) {
      send(response, 503, { error: `asset unavailable: ${(error as Error).message}` });
      return;
    }
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'private, max-age=300' }).end(body);
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, address, () => {
      http.off('error', reject);
      resolve();
    });
  });
  sampler.start();
  const bound = http.address();
  let closing: Promise<void> | undefined;
  return {
    port: typeof bound === 'object' && bound ? bound.port : port,
    address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        sampler.stop();
        for (const stream of streams) stream.response.end();
        streams.clear();
        http.close(() => resolve());
        http.closeAllConnections();
      });
      return closing;
    },
  };
}

interface Stream {
  response: ServerResponse;
  query: PeerQuery;
  /** The session it was opened with; undefined for a Bearer (or tokenless) stream. */
  session: string | undefined;
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' }).end(`${JSON.stringify(body)}\n`);
}

function html(response: ServerResponse, status: number, body: string, csp: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).end(body);
}

function methodNotAllowed(response: ServerResponse, allow: string): void {
  response.writeHead(405, { ...SECURITY_HEADERS, allow, 'content-type': 'application/json' }).end(`{"error":"method not allowed: ${allow} only"}\n`);
}

function tooMany(response: ServerResponse, retryAfterS: number): void {
  response.writeHead(429, { ...SECURITY_HEADERS, 'retry-after': String(retryAfterS), 'content-type': 'application/json' });
  response.end(`{"error":"too many failed logins from this address; retry in ${retryAfterS} s"}\n`);
}

/** A JSON or form-encoded body (at most MAX_BODY bytes) as an object; answers 400/413 itself and returns undefined. */
async function readBody(request: IncomingMessage, response: ServerResponse): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      send(response, 413, { error: `body larger than ${MAX_BODY} bytes` });
      request.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  send(response, 400, { error: 'the body must be a JSON object (or a form)' });
  return undefined;
}

/** Custom data as JSON, whatever it is: cycles, BigInts, functions and very large values made safe. */
function safeJson(value: unknown): unknown {
  const seen = new WeakSet<object>();
  let text: string;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'function' || typeof v === 'symbol') return `[${typeof v}]`;
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[circular]';
        seen.add(v);
      }
      return v;
    }) ?? 'null';
  } catch (error) {
    return `[not serialisable: ${(error as Error).message}]`;
  }
  return text.length > 64 * 1024 ? `[${text.length} bytes of JSON, not shown]` : (JSON.parse(text) as unknown);
}
