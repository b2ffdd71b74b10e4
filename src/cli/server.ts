#!/usr/bin/env node
// enet-server: runs one server from flags or environment variables (a flag wins over its variable).
// Without --game-logic it runs the demo (chat + echo, src/cli/demo.ts). Once bound it prints
// "enet-server listening on <address>:<port>" and tells PM2 it is ready; SIGINT/SIGTERM stop it
// gracefully. A bad value exits with status 2 and one line naming the flag (or the ENET_* variable
// it came from); flags that cannot work together are refused the same way.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMPRESSION_NAMES } from '../wire/conventions.js';
import { parseArgs } from 'node:util';
import { ENetServerSupervisor } from '../supervisor/server.js';
import { AuthMode, PacketFormat } from '../wire/enums.js';
import { ENetError } from '../wire/errors.js';
import { InvalidOptionError, LIMITS, SERVER_DEFAULTS, checkAuthTimeout, checkPollRate, isInt, type DuplicateLoginPolicy, type ServerOptions } from '../server-common/options.js';
import { checkPeerTimeout } from '../common/checks.js';
import { installDemo } from './demo.js';
import type { CustomAuthenticator } from '../supervisor/events.js';
import { serveUntilSignal } from '../supervisor/process.js';
import { isLoopback } from '../admin/auth.js';
import type { AdminHandle } from '../admin/options.js';

/** Where the CLI's own defaults differ from the API's (a public server wants more than 32 slots). */
const CLI_DEFAULTS = { port: 7777, maxPeers: 1024 };

/** This package's version (package.json beside dist/). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const AUTH_MODES: Record<string, AuthMode> = { none: AuthMode.AUTH_NONE, prelogin: AuthMode.AUTH_PRELOGIN_ONLY, custom: AuthMode.AUTH_CUSTOM };
const COMPRESSIONS = COMPRESSION_NAMES;
const FORMATS: Record<string, PacketFormat> = { msgpack: PacketFormat.MSGPACK, godot: PacketFormat.GODOT };

interface Flag {
  env: string;
  /** For --help. */
  value: string;
  help: string;
}

/** Every flag, its variable and its meaning: the one table --help, parsing and errors come from. */
const FLAGS: Record<string, Flag> = {
  port: { env: 'ENET_PORT', value: 'N', help: `UDP port, 0 = any free one (default ${CLI_DEFAULTS.port})` },
  bind: { env: 'ENET_BIND', value: 'IPV4', help: `address to bind (default ${SERVER_DEFAULTS.bindAddress})` },
  'max-peers': { env: 'ENET_MAX_PEERS', value: 'N', help: `peer slots, ${LIMITS.maxPeers.join('–')} (default ${CLI_DEFAULTS.maxPeers})` },
  channels: { env: 'ENET_CHANNELS', value: 'N', help: `channels, ${LIMITS.maxChannels.join('–')} (default ${SERVER_DEFAULTS.maxChannels})` },
  auth: { env: 'ENET_AUTH', value: 'MODE', help: "none | prelogin | custom (the demo approves any login dictionary; with --game-logic the module's export authenticate(peer, loginData) decides; default none)" },
  'auth-timeout': { env: 'ENET_AUTH_TIMEOUT', value: 'S', help: `seconds a peer has to log in, 0 = no limit (default ${SERVER_DEFAULTS.authTimeout})` },
  compression: { env: 'ENET_COMPRESSION', value: 'MODE', help: 'none | range-coder | fastlz | zlib | zstd, or 0–4 (default none; clients must match)' },
  format: { env: 'ENET_FORMAT', value: 'F', help: 'msgpack | godot: structured values for peers that have not shown theirs (default msgpack)' },
  'poll-rate': { env: 'ENET_POLL_RATE', value: 'MS', help: `longest the net actor sleeps with peers connected, ${LIMITS.pollRate.join('–')} (default ${SERVER_DEFAULTS.pollRate})` },
  'max-packet-size': { env: 'ENET_MAX_PACKET_SIZE', value: 'BYTES', help: `largest packet either way (default ${SERVER_DEFAULTS.maxPacketSize})` },
  'game-logic': { env: 'ENET_GAME_LOGIC', value: 'FILE', help: 'a game-logic module (defineGameLogic) run in game actors, instead of the demo' },
  actors: { env: 'ENET_ACTORS', value: 'N', help: 'game actors with --game-logic (default: one per core)' },
  'net-actors': { env: 'ENET_NET_ACTORS', value: 'N', help: `shards: net actors, each one ENet host on the same port, ${LIMITS.netActors.join('–')} (default: 1 per 4,095 peers, with room)` },
  'peer-timeout': {
    env: 'ENET_PEER_TIMEOUT',
    value: 'MIN:MAX',
    help: `ENet gives a silent peer up after MIN ms once its resends reached the limit, after MAX ms in any case, 100 ≤ MIN ≤ MAX ≤ 86400000 (default ${SERVER_DEFAULTS.peerTimeout.minimumMs}:${SERVER_DEFAULTS.peerTimeout.maximumMs})`,
  },
  'resume-window': { env: 'ENET_RESUME_WINDOW', value: 'MS', help: `sessions: how long a dropped player's seat is held for a resume, 0 = off (default ${SERVER_DEFAULTS.resume.windowMs})` },
  'metrics-port': { env: 'ENET_METRICS_PORT', value: 'N', help: 'serve Prometheus text at http://<metrics-host>:N/metrics (default: off)' },
  'metrics-host': { env: 'ENET_METRICS_HOST', value: 'IPV4', help: 'address of the metrics endpoint (default: the --bind address)' },
  'admin-port': { env: 'ENET_ADMIN_PORT', value: 'N', help: 'the operator panel (web page + JSON API) at http://<admin-address>:N/ (default: off; docs/panel.md)' },
  'admin-address': { env: 'ENET_ADMIN_ADDRESS', value: 'IP', help: 'address of the panel (default 127.0.0.1; any other needs a token)' },
  'admin-token': { env: 'ENET_ADMIN_TOKEN', value: 'T', help: "the panel's token (Authorization: Bearer T, or its login form); prefer the variable: a flag shows in ps" },
  'cluster-redis': { env: 'ENET_CLUSTER_REDIS', value: 'URL', help: 'join the fleet coordinated by this Redis (redis://host:port; default: alone)' },
  'server-id': { env: 'ENET_SERVER_ID', value: 'ID', help: "this server's name in the fleet (default <hostname>:<port>)" },
  advertise: { env: 'ENET_ADVERTISE', value: 'HOST:PORT', help: 'what clients should dial to reach this server (default the bound address and port)' },
  'cluster-heartbeat': { env: 'ENET_CLUSTER_HEARTBEAT', value: 'MS', help: `presence refresh period (default ${SERVER_DEFAULTS.cluster.heartbeatMs})` },
  'cluster-ttl': { env: 'ENET_CLUSTER_TTL', value: 'MS', help: `a server silent this long has left the fleet (default ${SERVER_DEFAULTS.cluster.ttlMs})` },
  'duplicate-login': { env: 'ENET_DUPLICATE_LOGIN', value: 'POLICY', help: 'kick-old | reject-new | allow: a second peer with the same identity (default kick-old)' },
};

const usage = (): string =>
  [
    'usage: enet-server [flags]        (each flag also reads its environment variable)',
    '',
    ...Object.entries(FLAGS).map(([name, f]) => `  --${`${name} ${f.value}`.padEnd(24)} ${f.env.padEnd(22)} ${f.help}`),
    '  -h, --help                                              this text',
    '  --version                                               print the version and exit',
    '',
    'Prints "enet-server listening on <address>:<port>" once bound; SIGINT/SIGTERM stop it gracefully.',
    'With --metrics-port: /metrics (Prometheus), /health (alive) and /ready (bound, actors up, in the fleet if configured).',
    'With --admin-port: the operator panel, printed as "enet-server admin on http://A:P/" (docs/panel.md).',
    'Exit status: 0 stopped by a signal, 1 could not start (port in use, a game-logic module that fails), 2 bad flags.',
  ].join('\n');

/** A bad flag: exits 2 with one line. */
class FlagError extends Error {}

/** Where each value came from: a flag, or its environment variable (errors name the one the user wrote). */
type Sources = Map<string, 'flag' | 'env'>;
let sources: Sources = new Map();

/** How an error names a flag's value: `--port`, or `ENET_PORT (the environment's --port)`. */
function flagName(flag: string): string {
  return sources.get(flag) === 'env' && FLAGS[flag] ? `${FLAGS[flag].env} (the environment's --${flag})` : `--${flag}`;
}

function fail(flag: string, message: string): never {
  throw new FlagError(`${flagName(flag)}: ${message}`);
}

/**
 * `--port -1`: node:util would call a value starting with a dash "ambiguous"; a negative number
 * after a flag that takes a value is its value (then refused by its range, with a real message).
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    if (Object.hasOwn(FLAGS, name) && i + 1 < argv.length && /^-\d/.test(argv[i + 1])) {
      out.push(`${argv[i]}=${argv[++i]}`);
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

function parseFlags(argv: string[], env: NodeJS.ProcessEnv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      options: {
        ...Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    // node:util's messages name the flag: "Unknown option '--x'", "Option '--port <value>' argument missing".
    const message = (error as Error).message.split('\n')[0];
    const flag = /'(--?[\w-]+)/.exec(message)?.[1];
    throw new FlagError(flag && !message.startsWith(flag) ? `${flag}: ${message.replace(/\. To specify.*$/, '')}` : message);
  }
  if (parsed.values.help) return 'help' as const;
  if (parsed.values.version) return 'version' as const;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  sources = new Map();
  const raw = (name: string): string | undefined => {
    const flag = values[name] as string | undefined;
    if (flag !== undefined) {
      sources.set(name, 'flag');
      return flag;
    }
    const fromEnv = env[FLAGS[name].env] || undefined;
    if (fromEnv !== undefined) sources.set(name, 'env');
    return fromEnv;
  };
  const int = (name: string, [min, max]: readonly [number, number], fallback: number | undefined): number | undefined => {
    const text = raw(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (text.trim() === '' || !isInt(n, min, max)) fail(name, `must be an integer ${min}–${max}, got '${text}'`);
    return n;
  };
  const choice = <T>(name: string, table: Record<string, T>, numeric?: readonly [number, number]): T | undefined => {
    const text = raw(name);
    if (text === undefined) return undefined;
    if (Object.hasOwn(table, text.toLowerCase())) return table[text.toLowerCase()];
    const n = Number(text);
    if (numeric && isInt(n, numeric[0], numeric[1])) return n as T;
    return fail(name, `must be one of ${Object.keys(table).join(', ')}${numeric ? ` or ${numeric.join('–')}` : ''}, got '${text}'`);
  };
  const number = <T>(name: string, check: (n: number) => T): T | undefined => {
    const text = raw(name);
    if (text === undefined) return undefined;
    try {
      return check(Number(text.trim() === '' ? Number.NaN : text));
    } catch (error) {
      return fail(name, (error as Error).message);
    }
  };

  const gameLogic = raw('game-logic');
  if (gameLogic !== undefined && gameLogic.trim() === '') fail('game-logic', 'needs a file');
  const actors = int('actors', LIMITS.gameActors, undefined);
  if (actors !== undefined && gameLogic === undefined) fail('actors', 'needs --game-logic (game actors run a game-logic module)');
  const netActors = int('net-actors', LIMITS.netActors, undefined);
  const options: ServerOptions = {
    cluster: clusterOptions(raw, int),
    bindAddress: raw('bind') ?? SERVER_DEFAULTS.bindAddress,
    packetFormat: choice('format', FORMATS),
    maxPacketSize: int('max-packet-size', LIMITS.maxPacketSize, undefined),
    gameLogic: gameLogic === undefined ? undefined : resolve(gameLogic),
    gameActors: actors,
    netActors,
  };
  const resumeWindow = int('resume-window', [0, 24 * 3600_000], undefined);
  const admin = adminOptions(raw, int);
  if (resumeWindow !== undefined) options.resume = { windowMs: resumeWindow };
  options.peerTimeout = peerTimeout(raw('peer-timeout'));
  return {
    port: int('port', LIMITS.port, CLI_DEFAULTS.port)!,
    maxPeers: int('max-peers', LIMITS.maxPeers, CLI_DEFAULTS.maxPeers)!,
    channels: int('channels', LIMITS.maxChannels, SERVER_DEFAULTS.maxChannels)!,
    auth: choice('auth', AUTH_MODES) ?? SERVER_DEFAULTS.authMode,
    authTimeout: number('auth-timeout', checkAuthTimeout),
    compression: choice('compression', COMPRESSIONS, [0, 4]) ?? SERVER_DEFAULTS.compression,
    pollRate: number('poll-rate', checkPollRate),
    metricsPort: int('metrics-port', LIMITS.port, undefined),
    metricsHost: raw('metrics-host'),
    admin,
    options,
  };
}

const AUTH_NAMES = new Map<AuthMode, string>(Object.entries(AUTH_MODES).map(([name, mode]) => [mode, name]));

/**
 * --auth prelogin/custom with --game-logic: the module's named export `authenticate(peer,
 * loginData)` (imported here, on the main thread) decides each login, as a custom authenticator
 * (prelogin: called for each 'peerPrelogin'). Without one every login would wait for an
 * authentication that never comes ("Authentication timeout"): refused (exit 2). A module that does
 * not import is left to createServer, whose error says where.
 */
async function gameLogicAuthenticator(file: string): Promise<CustomAuthenticator | 'none' | 'unloadable'> {
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch {
    return 'unloadable';
  }
  return typeof module.authenticate === 'function' ? (module.authenticate as CustomAuthenticator) : 'none';
}

function installAuthenticator(server: ENetServerSupervisor, mode: AuthMode, authenticate: CustomAuthenticator): void {
  if (mode === AuthMode.AUTH_CUSTOM) {
    server.setCustomAuthenticator(authenticate);
    return;
  }
  const decide = (peer: Parameters<CustomAuthenticator>[0], verdict: unknown): void => {
    if (verdict === true) peer.authenticate();
    else if (verdict === false) peer.reject('Authentication failed');
  };
  const threw = (peer: Parameters<CustomAuthenticator>[0], error: unknown): void => {
    process.stderr.write(`enet-server: authenticate() threw: ${(error as Error)?.stack ?? error}\n`);
    peer.reject('Authentication failed');
  };
  server.on('peerPrelogin', (peer, login) => {
    let verdict;
    try {
      verdict = authenticate(peer, login);
    } catch (error) {
      return threw(peer, error);
    }
    if (verdict instanceof Promise) verdict.then((v) => decide(peer, v), (error) => threw(peer, error));
    else decide(peer, verdict);
  });
}

/** --peer-timeout MIN:MAX → peerTimeout { minimumMs, maximumMs } (limit: ENet's default), checked here. */
function peerTimeout(text: string | undefined): ServerOptions['peerTimeout'] {
  if (text === undefined) return undefined;
  const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(text);
  if (!match) fail('peer-timeout', `must be MIN:MAX in ms (e.g. 5000:30000), got '${text}'`);
  const given = { minimumMs: Number(match[1]), maximumMs: Number(match[2]) };
  try {
    checkPeerTimeout(given);
  } catch (error) {
    // "peerTimeout.minimumMs must be an integer 100–30000, got 50" → "MIN must be an integer 100–30000, got '50:30000'"
    const message = (error as Error).message.replace(/^peerTimeout\.(\w+)/, (_, field: string) => (field === 'minimumMs' ? 'MIN' : 'MAX')).replace(/, got .*$/, '');
    fail('peer-timeout', `${message}, got '${text}'`);
  }
  return given;
}

/** --cluster-* flags; checked by createServer (its InvalidOptionError names the flag through FLAG_OF). */
function clusterOptions(
  raw: (name: string) => string | undefined,
  int: (name: string, range: readonly [number, number], fallback: number | undefined) => number | undefined,
): ServerOptions['cluster'] {
  const redis = raw('cluster-redis');
  for (const name of ['server-id', 'advertise', 'cluster-heartbeat', 'cluster-ttl', 'duplicate-login']) {
    if (redis === undefined && raw(name) !== undefined) fail(name, 'needs --cluster-redis');
  }
  if (redis === undefined) return undefined;
  let advertise: { address: string; port: number } | undefined;
  const text = raw('advertise');
  if (text !== undefined) {
    const match = /^(.+):(\d+)$/.exec(text);
    if (!match || !isInt(Number(match[2]), 1, 65535)) fail('advertise', `must be HOST:PORT with a port 1–65535, got '${text}'`);
    advertise = { address: match[1], port: Number(match[2]) };
  }
  return {
    redis,
    serverId: raw('server-id'),
    advertise,
    heartbeatMs: int('cluster-heartbeat', LIMITS.clusterHeartbeatMs, undefined),
    ttlMs: int('cluster-ttl', LIMITS.clusterTtlMs, undefined),
    duplicateLogin: raw('duplicate-login') as DuplicateLoginPolicy | undefined,
  };
}

/** --admin-*: the operator panel; a non-loopback address without a token is refused here (exit 2). */
function adminOptions(
  raw: (name: string) => string | undefined,
  int: (name: string, range: readonly [number, number], fallback: number | undefined) => number | undefined,
): { port: number; address: string; token: string | undefined } | undefined {
  const port = int('admin-port', LIMITS.port, undefined);
  const address = raw('admin-address');
  const token = raw('admin-token');
  if (port === undefined) {
    // ENET_ADMIN_TOKEN may sit in a secrets file for every run: only flags are refused.
    for (const name of ['admin-address', 'admin-token']) if (sources.get(name) === 'flag') fail(name, 'needs --admin-port');
    return undefined;
  }
  if (address !== undefined && address.trim() === '') fail('admin-address', 'needs an address');
  const where = address ?? '127.0.0.1';
  if (token === undefined && !isLoopback(where)) {
    fail('admin-address', `${where} is not loopback: the panel needs a token there (--admin-token T or ENET_ADMIN_TOKEN)`);
  }
  return { port, address: where, token };
}

/** createServer's option names → the flags they come from, for one-line errors. */
const FLAG_OF: Record<string, string> = {
  bindAddress: 'bind',
  packetFormat: 'format',
  maxPacketSize: 'max-packet-size',
  gameLogic: 'game-logic',
  gameActors: 'actors',
  netActors: 'net-actors',
  resume: 'resume-window',
  'resume.windowMs': 'resume-window',
  peerTimeout: 'peer-timeout',
  'peerTimeout.minimumMs': 'peer-timeout',
  'peerTimeout.maximumMs': 'peer-timeout',
  port: 'port',
  maxPeers: 'max-peers',
  maxChannels: 'channels',
  cluster: 'cluster-redis',
  'cluster.redis': 'cluster-redis',
  'cluster.serverId': 'server-id',
  'cluster.advertise': 'advertise',
  'cluster.heartbeatMs': 'cluster-heartbeat',
  'cluster.ttlMs': 'cluster-ttl',
  'cluster.duplicateLogin': 'duplicate-login',
};

async function main(): Promise<void> {
  let config;
  try {
    config = parseFlags(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    process.stderr.write(`enet-server: ${error.message} (see --help)\n`);
    process.exit(2);
  }
  if (config === 'help') {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  if (config === 'version') {
    process.stdout.write(`enet-server ${version()}\n`);
    return;
  }
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const server = new ENetServerSupervisor();
  server.on('error', (error) => process.stderr.write(`enet-server: ${error.stack ?? error.message}\n`));
  server.setAuthenticationMode(config.auth);
  if (config.authTimeout !== undefined) server.setAuthenticationTimeout(config.authTimeout);
  server.setCompressionMode(config.compression);
  if (config.pollRate !== undefined) server.setPollRate(config.pollRate);
  let authBy = 'the demo approves any login';
  if (config.options.gameLogic === undefined) {
    installDemo(server, { log });
  } else {
    server.on('actorMessage', (id, message) => log(`game actor ${id}: ${JSON.stringify(message)}`));
    if (config.auth !== AuthMode.AUTH_NONE) {
      const authenticate = await gameLogicAuthenticator(String(config.options.gameLogic));
      if (authenticate === 'none') {
        process.stderr.write(
          `enet-server: ${flagName('auth')} ${AUTH_NAMES.get(config.auth)} with ${flagName('game-logic')}: the module ${config.options.gameLogic} ` +
            'exports no authenticate(peer, loginData), so every login would end in "Authentication timeout"; ' +
            'export one (true approves, false rejects), or drop --auth (see --help)\n',
        );
        process.exit(2);
      }
      if (typeof authenticate === 'function') installAuthenticator(server, config.auth, authenticate);
      authBy = "the module's authenticate()";
    }
  }

  // The supervisor's logger says when the fleet's Redis goes away (a warning); this says when it is back.
  let fleetWasDown = false;
  server.on('clusterDown', () => {
    fleetWasDown = true;
  });
  server.on('clusterUp', () => {
    if (fleetWasDown) log(`enet-server: the fleet's Redis is reachable again: back in the fleet as ${server.cluster?.serverId}`);
    fleetWasDown = false;
  });

  try {
    await server.createServer(config.port, config.maxPeers, config.channels, config.options);
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      const flag = FLAG_OF[error.option];
      process.stderr.write(`enet-server: ${flag ? flagName(flag) : error.option}: ${error.message} (see --help)\n`);
      process.exit(2);
    }
    process.stderr.write(`enet-server: ${(error as Error).message}\n`);
    process.exit(error instanceof ENetError ? 1 : 70);
  }

  let metrics: { close(): void } | undefined;
  let metricsUrl: string | undefined;
  if (config.metricsPort !== undefined) {
    // Loaded only when asked for: prom-client stays off a plain server's start-up.
    const { createMetricsRegistry, serveMetrics, readiness } = await import('./metrics.js');
    const host = config.metricsHost ?? config.options.bindAddress!;
    try {
      const served = await serveMetrics(createMetricsRegistry(server), config.metricsPort, host, { ready: () => readiness(server) });
      metrics = served.server;
      metricsUrl = `http://${host}:${served.port}`;
      log(`enet-server metrics on ${metricsUrl}/metrics (health: /health, readiness: /ready)`);
    } catch (error) {
      process.stderr.write(`enet-server: --metrics-port: cannot listen on ${host}:${config.metricsPort}: ${(error as Error).message}\n`);
      await server.stopServer();
      process.exit(1);
    }
  }
  let admin: AdminHandle | undefined;
  if (config.admin) {
    try {
      admin = await server.startAdmin(config.admin);
      log(`enet-server admin on http://${config.admin.address.includes(':') ? `[${config.admin.address}]` : config.admin.address}:${admin.port}/`);
    } catch (error) {
      process.stderr.write(`enet-server: --admin-port: cannot serve the panel on ${config.admin.address}:${config.admin.port}: ${(error as Error).message}\n`);
      await server.stopServer();
      process.exit(1);
    }
  }
  const serving = config.options.gameLogic === undefined ? 'the demo (chat + echo)' : `game logic ${config.options.gameLogic}`;
  log(`enet-server: ${serving}, up to ${config.maxPeers} peers, ${config.channels} channels`);
  const rows = server.getMetrics().actors;
  const gameActors = rows.filter((row) => row.kind === 'game').length;
  const shards = rows.filter((row) => row.kind === 'net').length;
  const compression = Object.entries(COMPRESSIONS).find(([, mode]) => mode === config.compression)?.[0] ?? String(config.compression);
  const format = Object.entries(FORMATS).find(([, f]) => f === (config.options.packetFormat ?? SERVER_DEFAULTS.packetFormat))?.[0] ?? 'msgpack';
  log(
    `enet-server: auth ${AUTH_NAMES.get(config.auth)}${config.auth === AuthMode.AUTH_NONE ? '' : ` (${authBy})`}, compression ${compression} (clients must match), ` +
      `format ${format}, ${gameActors > 0 ? `${gameActors} game actor${gameActors === 1 ? '' : 's'}` : 'no game actors (main thread)'}, ` +
      `${shards} shard${shards === 1 ? '' : 's'}, fleet ${server.cluster ? server.cluster.serverId : 'off'}, metrics ${metricsUrl ? `${metricsUrl}/metrics` : 'off'}`,
  );
  if (server.cluster) log(`enet-server in the fleet as ${server.cluster.serverId} (${server.cluster.isUp() ? 'Redis reachable' : 'Redis unreachable for now'})`);
  log(`enet-server listening on ${config.options.bindAddress}:${server.getLocalPort()}`);
  await serveUntilSignal(server, {
    onStop: async () => {
      metrics?.close();
      await admin?.close();
    },
    log,
  });
}

await main();
