// Shared by enet-loadtest's parent (src/cli/loadtest.ts) and its bot processes
// (src/cli/loadtest-bots.ts): the flags and their validation, the messages between the two, the
// layout of a measured message, thresholds, and the summary. Nothing here starts anything.
import { existsSync } from 'node:fs';
import { COMPRESSION_NAMES } from '../wire/conventions.js';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CompressionMode, PacketFormat, PacketType } from '../wire/enums.js';
import { encodePacket, makeEvent } from '../wire/codec/index.js';
import { formatLinkSpec, parseLinkSpec, type LinkRelayStats, type LinkSpec } from '../net-relay/relay.js';

// ---- flags ---------------------------------------------------------------------------------

export type LoadFormat = 'msgpack' | 'godot' | 'raw';

export interface LoadConfig {
  host: string;
  port: number;
  clients: number;
  processes: number;
  /** Messages per second per client (0: connect and stay idle). */
  rate: number;
  /** Bytes of each message as sent (type byte included); at least the header of the layout. */
  size: number;
  /** Seconds measured, after the warmup. */
  duration: number;
  /** Seconds of load after every client connected, not counted. */
  warmup: number;
  /** Connects per second, all processes together. */
  ramp: number;
  reliable: boolean;
  /** The login dictionary sent first (prelogin / custom-auth servers). */
  auth: Record<string, unknown> | undefined;
  /** Send this custom event instead of a plain packet. */
  event: string | undefined;
  compression: CompressionMode;
  format: LoadFormat;
  /** file: URL of the scenario module. */
  scenario: string | undefined;
  serverPid: number | undefined;
  json: string | undefined;
  plot: string | undefined;
  thresholds: Threshold[];
  /** Seconds a client may take to connect. */
  connectTimeout: number;
  /** Seconds the echoes of the last messages may take after the measured window. */
  grace: number;
  /** --link: the impairment of each client's path (a relay per bot process); undefined: no relay unless rebinds or blackouts ask for one. */
  link: Required<LinkSpec> | undefined;
  /** --rebind-at: seconds into the measured window when clients' ports are re-mapped. */
  rebindAt: number[];
  /** --rebind-fraction: the share of clients re-mapped each time (default 1). */
  rebindFraction: number;
  /** --blackout S:LEN: everything dropped for `seconds` from `at` seconds into the window. */
  blackouts: { at: number; seconds: number }[];
  /** --churn: clients per second (all processes together) that leave and are replaced. */
  churn: number;
}

/** Whether the bot processes put a relay in front of the server. */
export const usesRelay = (c: Pick<LoadConfig, 'link' | 'rebindAt' | 'blackouts'>): boolean =>
  c.link !== undefined || c.rebindAt.length > 0 || c.blackouts.length > 0;

const COMPRESSIONS = COMPRESSION_NAMES;

interface FlagSpec {
  value: string;
  help: string;
  type?: 'string' | 'boolean';
  multiple?: boolean;
}

/** Every flag: the one table --help and parsing come from. */
export const FLAGS: Record<string, FlagSpec> = {
  host: { value: 'IPV4', help: 'server address (default 127.0.0.1)' },
  port: { value: 'N', help: 'server UDP port (required)' },
  clients: { value: 'N', help: 'ENet clients, 1–100000 (default 100)' },
  processes: { value: 'N', help: 'bot processes sharing the clients (default ceil(clients / 1000))' },
  rate: { value: 'MSG/S', help: 'messages per second per client, 0 = connect only (default 10)' },
  size: { value: 'BYTES', help: 'bytes per message as sent, type byte included (default 64, or the layout\'s header if larger: 24 msgpack, 73 godot, 13 raw)' },
  duration: { value: 'S', help: 'seconds measured (default 10)' },
  warmup: { value: 'S', help: 'seconds of load before measuring, after every client connected (default 2)' },
  ramp: { value: 'N/S', help: 'connects per second, all processes together (default 500)' },
  reliable: { value: '', help: 'reliable messages (the default)', type: 'boolean' },
  unreliable: { value: '', help: 'unreliable (unsequenced) messages: loss is counted, not retried', type: 'boolean' },
  auth: { value: 'JSON', help: 'a login dictionary sent first, for prelogin / custom-auth servers' },
  event: { value: 'NAME', help: 'send the custom event NAME (the demo echoes it) instead of a plain packet' },
  compression: { value: 'MODE', help: 'none | range-coder | fastlz | zlib | zstd, or 0–4 (must match the server; default none)' },
  format: { value: 'F', help: 'msgpack | godot | raw: how a message is encoded (default msgpack)' },
  scenario: { value: 'FILE', help: 'a module whose exported async function (client, ctx) drives each client instead of the fixed rate' },
  'server-pid': { value: 'PID', help: "the server's process: its CPU and RSS in the summary" },
  json: { value: 'FILE', help: 'write the summary as JSON' },
  plot: { value: 'FILE.svg', help: 'write RTT percentiles, clients connected and echoes/s over time (link events marked) and the RTT histogram as SVG' },
  threshold: { value: 'EXPR', help: 'NAME OP NUMBER, NAME any numeric field of the --json summary by dotted path (or p50 p90 p99 max for rtt.*), OP < <= > >= ==; e.g. p99<5, delivery>0.999, resume.p99<3000 (repeatable): exit 3 when one fails', multiple: true },
  'connect-timeout': { value: 'S', help: 'seconds a client may take to connect (default 10)' },
  grace: { value: 'S', help: 'seconds the echoes of the window\'s messages may take after it (retransmissions; ends early when all are back; default 5)' },
  link: { value: 'SPEC', help: 'impair every client\'s path both ways, e.g. "loss=2%,delay=30ms,jitter=10ms" (a UDP relay per bot process; each client its own upstream port, as behind a NAT)' },
  'rebind-at': { value: 'S', help: 're-map clients\' ports (a NAT re-mapping) S seconds into the measured window (repeatable)', multiple: true },
  'rebind-fraction': { value: 'F', help: 'the share of clients each --rebind-at re-maps, 0–1 (default 1)' },
  blackout: { value: 'S:LEN', help: 'drop everything both ways for LEN seconds from S seconds into the measured window (repeatable)', multiple: true },
  churn: { value: 'N', help: 'N clients per second leave and are replaced by new ones (connect, login), from the warmup on' },
};

export const usage = (): string =>
  [
    'usage: enet-loadtest --port N [flags]',
    '',
    'Connects many headless ENet clients (in child processes) to a server that echoes, sends every',
    'client --rate messages per second, measures round trips on the echoes, and prints a summary.',
    'The server must send every message back to its sender: enet-server without --game-logic (the demo)',
    'does, and so does `npm start`. For a server that does not echo, drive the clients with --scenario FILE',
    '(and judge the run with --threshold), or --rate 0 to test connections only.',
    '',
    ...Object.entries(FLAGS).map(([name, f]) => `  --${`${name} ${f.value}`.padEnd(22)} ${f.help}`),
    '  --help                 this text',
    '',
    'Exit status: 0 ran; 1 no client connected, nothing came back (messages sent, no echo), clients were',
    'disconnected during the run, or a bot process failed; 2 bad flags; 3 a threshold failed.',
    'With --threshold the thresholds judge the run instead of the echo and disconnect checks.',
  ].join('\n');

/** A bad flag: the CLI prints its one line and exits 2. */
export class FlagError extends Error {}

function fail(flag: string, message: string): never {
  throw new FlagError(`--${flag}: ${message}`);
}

function num(flag: string, text: string | undefined, fallback: number, min: number, max: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    fail(flag, `expected ${integer ? 'an integer' : 'a number'} ${min}–${max}, got '${text}'`);
  }
  return value;
}

/** Parses argv into a config; throws FlagError (exit 2). Returns null for --help. */
export function parseFlags(argv: string[], cwd = process.cwd()): LoadConfig | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(Object.entries(FLAGS).map(([name, f]) => [name, { type: f.type ?? 'string', multiple: f.multiple ?? false }])),
        help: { type: 'boolean' },
      } as NonNullable<Parameters<typeof parseArgs>[0]>['options'],
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    // node:util's messages name the flag: "Unknown option '--x'", "Option '--port <value>' argument missing".
    const message = (error as Error).message;
    const flag = /'(--?[\w-]+)/.exec(message)?.[1] ?? '';
    throw new FlagError(flag ? `${flag}: ${message.split('.')[0]}` : message);
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (v.help) return null;
  const str = (name: string) => v[name] as string | undefined;
  const host = str('host') ?? '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host) && !/^[a-zA-Z0-9.-]+$/.test(host)) fail('host', `not an address: '${host}'`);
  if (str('port') === undefined) fail('port', 'required (the server\'s UDP port)');
  const port = num('port', str('port'), 0, 1, 65535, true);
  const clients = num('clients', str('clients'), 100, 1, 100_000, true);
  const processes = num('processes', str('processes'), Math.ceil(clients / 1000), 1, Math.min(clients, 256), true);
  const rate = num('rate', str('rate'), 10, 0, 10_000, false);
  const size = num('size', str('size'), 64, 1, 1024 * 1024, true);
  const duration = num('duration', str('duration'), 10, 0.1, 86_400, false);
  const warmup = num('warmup', str('warmup'), 2, 0, 86_400, false);
  const ramp = num('ramp', str('ramp'), 500, 0.1, 1_000_000, false);
  const connectTimeout = num('connect-timeout', str('connect-timeout'), 10, 0.1, 600, false);
  const grace = num('grace', str('grace'), 5, 0, 600, false);
  if (v.reliable && v.unreliable) fail('unreliable', 'cannot be combined with --reliable');
  let auth: Record<string, unknown> | undefined;
  if (str('auth') !== undefined) {
    try {
      auth = JSON.parse(str('auth')!);
    } catch (error) {
      fail('auth', `not JSON: ${(error as Error).message}`);
    }
    if (auth === null || typeof auth !== 'object' || Array.isArray(auth)) fail('auth', 'must be a JSON object (the login dictionary)');
  }
  const event = str('event');
  if (event !== undefined && event === '') fail('event', 'needs a name');
  let compression = CompressionMode.COMPRESS_NONE;
  const c = str('compression');
  if (c !== undefined) {
    if (c in COMPRESSIONS) compression = COMPRESSIONS[c];
    else if (/^[0-4]$/.test(c)) compression = Number(c) as CompressionMode;
    else fail('compression', `expected none | range-coder | fastlz | zlib | zstd or 0–4, got '${c}'`);
  }
  const format = (str('format') ?? 'msgpack') as LoadFormat;
  if (!['msgpack', 'godot', 'raw'].includes(format)) fail('format', `expected msgpack | godot | raw, got '${format}'`);
  if (format === 'raw' && event !== undefined) fail('format', 'raw messages cannot carry an --event (use msgpack or godot)');
  let scenario: string | undefined;
  if (str('scenario') !== undefined) {
    const file = isAbsolute(str('scenario')!) ? str('scenario')! : resolve(cwd, str('scenario')!);
    if (!existsSync(file)) fail('scenario', `no such file: ${file}`);
    scenario = pathToFileURL(file).href;
  }
  const pid = str('server-pid');
  const serverPid = pid === undefined ? undefined : num('server-pid', pid, 0, 1, 2 ** 31 - 1, true);
  const thresholds = ((v.threshold as string[] | undefined) ?? []).map((expr) => {
    try {
      return parseThreshold(expr);
    } catch (error) {
      return fail('threshold', (error as Error).message);
    }
  });
  let link: Required<LinkSpec> | undefined;
  if (str('link') !== undefined) {
    try {
      link = parseLinkSpec(str('link')!);
    } catch (error) {
      fail('link', (error as Error).message);
    }
  }
  const rebindAt = ((v['rebind-at'] as string[] | undefined) ?? []).map((text) => num('rebind-at', text, 0, 0, duration, false));
  for (const at of rebindAt) if (at >= duration) fail('rebind-at', `${at} s is not inside the measured window (--duration ${duration})`);
  if (str('rebind-fraction') !== undefined && rebindAt.length === 0) fail('rebind-fraction', 'needs --rebind-at');
  const rebindFraction = num('rebind-fraction', str('rebind-fraction'), 1, 0, 1, false);
  const blackouts = ((v.blackout as string[] | undefined) ?? []).map((text) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
    if (!m) fail('blackout', `expected S:LEN (seconds into the window : seconds dark), got '${text}'`);
    const at = Number(m[1]);
    const seconds = Number(m[2]);
    if (at >= duration) fail('blackout', `${at} s is not inside the measured window (--duration ${duration})`);
    if (seconds <= 0 || seconds > 600) fail('blackout', `LEN must be more than 0 and at most 600 s, got '${m[2]}'`);
    return { at, seconds };
  });
  const churn = num('churn', str('churn'), 0, 0, 100_000, false);
  const minSize = messageTemplate({ format, event, size: 1 }).bytes.length;
  if (size < minSize && str('size') !== undefined) fail('size', `at least ${minSize} bytes for --format ${format}${event ? ' with --event' : ''}, got ${size}`);
  return {
    host, port, clients, processes, rate, size: Math.max(size, minSize), duration, warmup, ramp,
    reliable: !v.unreliable,
    auth, event, compression, format, scenario, serverPid,
    json: str('json'), plot: str('plot'), thresholds, connectTimeout, grace,
    link, rebindAt, rebindFraction, blackouts, churn,
  };
}

// ---- the measured message ------------------------------------------------------------------

/**
 * Every message carries a sequence number `s` (u32, per client) and its send time `t` (ms, the bot
 * process's performance.now()), padded with `p` to --size bytes:
 * - msgpack: PacketType.MSGPACK + the map { s: uint32, t: float64, p: bin } (plus `_event` for --event);
 * - godot: PacketType.VARIANT + the Dictionary { s: int, t: float (64-bit), p: PackedByteArray };
 * - raw: PacketType.RAW, u32 s, f64 t (little-endian), zero padding.
 * The bytes are built once; each send writes s and t in place. The server echoes the message (the
 * demo re-encodes it in the same format), so an echo is decoded and read back as a value.
 */
export interface MessageTemplate {
  bytes: Uint8Array;
  view: DataView;
  sAt: number;
  tAt: number;
  littleEndian: boolean;
}

const S_SENTINEL = 0x7ab1c2d3;
const T_SENTINEL = 1234567.891011121314; // needs 64 bits as a float

export function messageTemplate({ format, event, size }: { format: LoadFormat; event: string | undefined; size: number }): MessageTemplate {
  if (format === 'raw') {
    const bytes = new Uint8Array(Math.max(13, size));
    bytes[0] = PacketType.RAW;
    return { bytes, view: new DataView(bytes.buffer), sAt: 1, tAt: 5, littleEndian: true };
  }
  const build = (pad: number): Uint8Array => {
    const fields = { s: S_SENTINEL, t: T_SENTINEL, p: new Uint8Array(pad) };
    const value = event === undefined ? fields : makeEvent(event, fields);
    return encodePacket(value, format === 'godot' ? PacketFormat.GODOT : PacketFormat.MSGPACK);
  };
  const bare = build(0).length;
  let pad = Math.max(0, size - bare);
  let bytes = build(pad);
  // A longer bin/array header may have grown it: shrink the padding until it fits (or is 0).
  while (bytes.length > size && pad > 0) {
    pad = Math.max(0, pad - (bytes.length - size));
    bytes = build(pad);
  }
  const littleEndian = format === 'godot';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const find = (probe: (at: number) => boolean): number => {
    for (let at = 1; at + 8 <= bytes.length; at++) if (probe(at)) return at;
    throw new Error('message template: sentinel not found');
  };
  const sAt = find((at) => view.getUint32(at, littleEndian) === S_SENTINEL);
  const tAt = find((at) => view.getFloat64(at, littleEndian) === T_SENTINEL);
  return { bytes, view, sAt, tAt, littleEndian };
}

export function stamp(template: MessageTemplate, s: number, t: number): Uint8Array {
  template.view.setUint32(template.sAt, s, template.littleEndian);
  template.view.setFloat64(template.tAt, t, template.littleEndian);
  return template.bytes;
}

/** The send time of an echoed message (its decoded value), or -1 when it is not one of ours. */
export function echoTime(value: unknown): number {
  if (value instanceof Uint8Array) {
    if (value.length < 12) return -1;
    return new DataView(value.buffer, value.byteOffset, value.byteLength).getFloat64(4, true);
  }
  if (value !== null && typeof value === 'object') {
    const t = (value as { t?: unknown }).t;
    if (typeof t === 'number') return t;
    // A Variant Dictionary decodes to a Map when its keys are not all strings.
    if (value instanceof Map && typeof value.get('t') === 'number') return value.get('t') as number;
  }
  return -1;
}

/** The sequence number of an echoed message (its decoded value), or -1 when it is not one of ours. */
export function echoSeq(value: unknown): number {
  if (value instanceof Uint8Array) {
    if (value.length < 12) return -1;
    return new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0, true);
  }
  if (value !== null && typeof value === 'object') {
    const s = value instanceof Map ? value.get('s') : (value as { s?: unknown }).s;
    if (typeof s === 'number') return s;
  }
  return -1;
}

// ---- RTT buckets for the plot (log scale, mergeable by addition) ----------------------------

/** Bucket k holds RTTs in [2^(k/4), 2^((k+1)/4)) µs; 0 also takes everything below 1 µs. */
export const RTT_BUCKETS = 112; // up to 2^28 µs ≈ 268 s
export function rttBucket(us: number): number {
  if (us < 1) return 0;
  return Math.min(RTT_BUCKETS - 1, Math.floor(Math.log2(us) * 4));
}
export const bucketLowMs = (k: number): number => 2 ** (k / 4) / 1000;

// ---- messages between the parent and the bot processes ----------------------------------------

export interface BotsConfig extends LoadConfig {
  /** Global index of this process's first client; it runs `count` clients. */
  first: number;
  count: number;
  /** This process's share of --ramp. */
  processRamp: number;
  processIndex: number;
}

/** Counters a bot process reports; all cumulative except where said. */
export interface BotCounters {
  connected: number;
  connectFailed: number;
  /** Clients connected now. */
  online: number;
  disconnected: number;
  /** Messages sent in total / inside the measured window. */
  sentTotal: number;
  sent: number;
  receivedTotal: number;
  /** Echoes of messages sent inside the window. */
  received: number;
  /** Sends refused by the client (ERR_BUSY: its network's ring was full). */
  sendRefused: number;
  scenarioErrors: number;
  /** ENetClient 'connectionInterrupted' / 'resumed' (sessions), when the client emits them. */
  interrupted: number;
  resumed: number;
  /** Echoes of a message already echoed (by sequence number, per client). */
  duplicates: number;
  /** --churn: clients that left on purpose, replacements connected / failed to connect. */
  churnLeft: number;
  churnJoined: number;
  churnFailed: number;
}

export type ToParent =
  | { type: 'progress'; counters: BotCounters; interval: string; rssMb: number }
  | { type: 'connected'; counters: BotCounters }
  | {
      type: 'final'; counters: BotCounters; rtt: string; connect: string; resume: string; buckets: number[]; cpuPercent: number; rssMb: number; windowMs: number;
      relay?: LinkRelayStats; disconnectReasons: Record<string, number>; connectFailReasons: Record<string, number>;
    }
  | { type: 'log'; line: string };

export type ToBots =
  | { type: 'start'; config: BotsConfig }
  | { type: 'window' }
  | { type: 'stop' }
  | { type: 'exit' };

// ---- thresholds ------------------------------------------------------------------------------

export type Op = '<' | '<=' | '>' | '>=' | '==';
export interface Threshold {
  expr: string;
  name: string;
  op: Op;
  value: number;
}

/** The names a threshold may use: shorthands for the RTT figures, else a dotted path of the summary. */
const SHORTHANDS: Record<string, string> = {
  p50: 'rtt.p50',
  p90: 'rtt.p90',
  p99: 'rtt.p99',
  max: 'rtt.max',
  rtt: 'rtt.p99',
};
/**
 * The summary's top-level fields: a threshold names one of them, or a numeric field inside one by
 * dotted path (`resume.p99`, `link.relay.dropped.up`, `clientProcesses.0.cpuPercent`), or a shorthand.
 * Whether the path really holds a number is known once the run is summarized (else the threshold fails, n/a).
 */
export const SUMMARY_FIELDS = [
  'clients', 'connected', 'connectFailed', 'disconnected', 'sent', 'received', 'lost', 'delivery', 'throughput',
  'windowSeconds', 'rtt', 'connect', 'server', 'clientProcesses', 'clientCpuPercent', 'clientCpuUsPerMessage',
  'sendRefused', 'interrupted', 'resumed', 'resume', 'duplicates', 'link', 'churn', 'config',
  'disconnectReasons', 'connectFailReasons', 'problems', 'load',
];

export function parseThreshold(expr: string): Threshold {
  const m = /^\s*([A-Za-z][\w]*(?:\.\w+)*)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$/.exec(expr);
  if (!m) throw new Error(`'${expr}' is not NAME OP NUMBER (OP one of < <= > >= ==)`);
  const top = m[1].split('.')[0];
  if (!(m[1] in SHORTHANDS) && !SUMMARY_FIELDS.includes(top)) {
    throw new Error(`'${m[1]}' is not a summary figure (a field of the --json summary by dotted path, from ${SUMMARY_FIELDS.join(', ')}; or ${Object.keys(SHORTHANDS).join(', ')})`);
  }
  return { expr: expr.trim(), name: m[1], op: m[2] as Op, value: Number(m[3]) };
}

export function thresholdValue(summary: Summary, name: string): number | undefined {
  const path = (SHORTHANDS[name] ?? name).split('.');
  let value: unknown = summary;
  for (const key of path) value = value === null || typeof value !== 'object' ? undefined : (value as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : undefined;
}

export function checkThreshold(t: Threshold, actual: number | undefined): boolean {
  if (actual === undefined || Number.isNaN(actual)) return false;
  switch (t.op) {
    case '<': return actual < t.value;
    case '<=': return actual <= t.value;
    case '>': return actual > t.value;
    case '>=': return actual >= t.value;
    case '==': return actual === t.value;
  }
}

// ---- the summary (the documented --json shape, plus a few more fields) -------------------------------

export interface Summary {
  clients: number;
  connected: number;
  connectFailed: number;
  /** Clients that lost their connection during the run. */
  disconnected: number;
  sent: number;
  received: number;
  lost: number;
  /** received / sent (1 when nothing was sent). */
  delivery: number;
  /** Echoes per second over the measured window. */
  throughput: number;
  /** How long the measured window really was (shorter than --duration when interrupted), s. */
  windowSeconds: number;
  /** `count`: echoes measured (0: the other figures mean nothing and are shown as –). */
  rtt: { p50: number; p90: number; p99: number; max: number; mean: number; count: number };
  connect: { p50: number; p99: number; max: number; count: number };
  /** Clients disconnected during the run, by the reason they were given ('Authentication failed', …). */
  disconnectReasons: Record<string, number>;
  /** Clients that failed to connect, by reason. */
  connectFailReasons: Record<string, number>;
  /** What is wrong with the run, one line each (nothing came back, clients disconnected); empty when fine. */
  problems: string[];
  /** Per second since the start: clients connected and echoes received in that second (the plot's load panel). */
  load: { t: number; connected: number; echoes: number }[];
  server?: { cpuPercent: number; rssMb: number; pid: number };
  clientProcesses: { cpuPercent: number; rssMb: number; clients: number }[];
  /** Sum over the bot processes (100 = one core). */
  clientCpuPercent: number;
  /** Client-side CPU per echoed message, µs. */
  clientCpuUsPerMessage: number;
  sendRefused: number;
  /** Clients whose connection was interrupted / resumed (ENetClient 'connectionInterrupted' / 'resumed'; 0 when the client has no sessions). */
  interrupted: number;
  resumed: number;
  /** ms from an interruption to its resumption; `count`: resumptions measured (0: shown as –). */
  resume: { p50: number; p99: number; count: number };
  /** Messages echoed more than once (by sequence number). */
  duplicates: number;
  /** With --link / --rebind-at / --blackout: the impairment, what the relays did, and when. */
  link?: {
    lossPercent: number;
    delayMs: number;
    jitterMs: number;
    /** "loss 2% delay 30±10 ms" */
    text: string;
    /** Re-mappings and blackouts: `t` in seconds since the start (the plot's time axis), `at` in seconds into the window. */
    rebinds: { t: number; at: number; fraction: number }[];
    blackouts: { t: number; at: number; seconds: number }[];
    /** The relays' counts, all bot processes together. */
    relay: LinkRelayStats;
  };
  /** With --churn: clients per second replaced, how many left, joined, failed to join. */
  churn?: { perSecond: number; left: number; joined: number; failed: number };
  config: {
    host: string; port: number; rate: number; size: number; duration: number; warmup: number; ramp: number;
    reliable: boolean; format: LoadFormat; event?: string; compression: number; processes: number; scenario?: string;
    link?: string; rebindAt?: number[]; rebindFraction?: number; blackouts?: string[]; churn?: number;
  };
  thresholds: { expr: string; ok: boolean; actual: number | null }[];
  /** Per second of load: RTT percentiles of the echoes received in that second (ms). */
  timeline: { t: number; warmup: boolean; count: number; p50: number; p90: number; p99: number; max: number }[];
  /** The RTT histogram for the plot: [lower bound ms, count] of non-empty log buckets. */
  histogram: [number, number][];
}

const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + ' ms';
/** A dash, not "0.00 ms", for a histogram with nothing in it. */
const NONE = '–';

const byReason = (table: Record<string, number>): string =>
  Object.entries(table).sort(([, a], [, b]) => b - a).map(([reason, n]) => `${n} × "${reason}"`).join(', ');

/** What a run's numbers say is wrong with it, one line each (none: the run is what it claims). */
export function runProblems(s: Pick<Summary, 'connected' | 'sent' | 'received' | 'disconnected' | 'disconnectReasons' | 'config'>): string[] {
  const problems: string[] = [];
  if (s.connected > 0 && s.sent > 0 && s.received === 0) {
    problems.push(
      `nothing came back: ${s.sent} messages sent, 0 echoed. enet-loadtest needs a server that sends every message back ` +
        '(enet-server without --game-logic does); for another server use --scenario FILE, or --rate 0 for connections only',
    );
  }
  if (s.disconnected > 0) {
    problems.push(`${s.disconnected} client${s.disconnected === 1 ? ' was' : 's were'} disconnected during the run: ${byReason(s.disconnectReasons)}`);
  }
  return problems;
}

export { formatLinkSpec };

/** The human summary table (stdout at the end of a run). */
export function formatSummary(s: Summary): string {
  const c = s.config;
  const rows: [string, string][] = [];
  rows.push(['clients', `${s.clients} in ${c.processes} process${c.processes === 1 ? '' : 'es'}; ${c.scenario ? `scenario ${c.scenario}` : `${c.rate} msg/s each, ${c.size} B, ${c.reliable ? 'reliable' : 'unreliable'}, ${c.format}${c.event ? `, event '${c.event}'` : ''}`}`]);
  const connectTimes = s.connect.count > 0 ? `connect p50 ${ms(s.connect.p50)}  p99 ${ms(s.connect.p99)}  max ${ms(s.connect.max)}` : `connect ${NONE}`;
  rows.push(['connected', `${s.connected}/${s.clients} (${s.connectFailed} failed, ${s.disconnected} disconnected during the run)   ${connectTimes}`]);
  if (s.connectFailed > 0 && Object.keys(s.connectFailReasons).length > 0) rows.push(['failed', byReason(s.connectFailReasons)]);
  if (s.disconnected > 0) rows.push(['disconnected', byReason(s.disconnectReasons)]);
  const cut = s.windowSeconds + 0.05 < c.duration ? ` (cut short: --duration ${c.duration})` : '';
  rows.push(['window', `${s.windowSeconds.toFixed(1)} s measured after ${c.warmup} s warmup${cut}`]);
  rows.push(['messages', `sent ${s.sent}  received ${s.received}  lost ${s.lost}${s.sendRefused ? `  refused ${s.sendRefused}` : ''}`]);
  rows.push(['delivery', s.sent > 0 ? `${(s.delivery * 100).toFixed(3)} % of the messages echoed back (the server must echo)` : `${NONE} (nothing sent)`]);
  rows.push(['throughput', `${Math.round(s.throughput)} echoes/s`]);
  rows.push(['rtt', s.rtt.count > 0 ? `p50 ${ms(s.rtt.p50)}  p90 ${ms(s.rtt.p90)}  p99 ${ms(s.rtt.p99)}  max ${ms(s.rtt.max)}` : `${NONE} (no echo measured)`]);
  if (s.link) {
    const l = s.link;
    const events = [
      ...l.rebinds.map((r) => `rebind ${r.fraction === 1 ? 'all' : `${+(r.fraction * 100).toFixed(1)}%`} at ${r.at} s`),
      ...l.blackouts.map((b) => `blackout ${b.seconds} s at ${b.at} s`),
    ];
    rows.push(['link', l.text]);
    if (events.length > 0) rows.push(['link events', events.join(', ')]);
    rows.push(['relay', `forwarded ${l.relay.forwarded.up} up ${l.relay.forwarded.down} down  dropped ${l.relay.dropped.up} up ${l.relay.dropped.down} down  re-mapped ${l.relay.rebinds}`]);
  }
  if (s.churn) rows.push(['churn', `${s.churn.perSecond}/s: ${s.churn.left} left, ${s.churn.joined} joined, ${s.churn.failed} failed to join`]);
  if (s.link || s.churn || s.interrupted || s.resumed || s.duplicates) {
    const resume = s.resume.count > 0 ? `resume p50 ${ms(s.resume.p50)}  p99 ${ms(s.resume.p99)}` : `resume ${NONE}`;
    rows.push(['sessions', `disconnected ${s.disconnected}  interrupted ${s.interrupted}  resumed ${s.resumed}  ${resume}  duplicates ${s.duplicates}`]);
  }
  if (s.server) rows.push(['server', `cpu ${s.server.cpuPercent.toFixed(1)} %  rss ${s.server.rssMb.toFixed(1)} MB  (pid ${s.server.pid})`]);
  s.clientProcesses.forEach((p, i) => rows.push([`bots ${i + 1}`, `cpu ${p.cpuPercent.toFixed(1)} %  rss ${p.rssMb.toFixed(1)} MB  (${p.clients} clients)`]));
  rows.push(['client cpu', `${s.clientCpuPercent.toFixed(1)} % in all, ${s.clientCpuUsPerMessage.toFixed(1)} µs per echoed message`]);
  for (const t of s.thresholds) rows.push(['threshold', `${t.ok ? 'ok  ' : 'FAIL'} ${t.expr}  (${t.actual === null ? 'n/a: not a number in this summary' : +t.actual.toFixed(4)})`]);
  for (const problem of s.problems) rows.push(['PROBLEM', problem]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
