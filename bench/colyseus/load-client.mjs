#!/usr/bin/env node
// The Colyseus load client of bench/colyseus.mjs: `--clients` colyseus.js clients join one 'echo'
// room of bench/colyseus/echo-server.mjs (each its own WebSocket), and each sends `--rate` 64-byte
// messages a second, paced as enet-loadtest's bots pace theirs (src/cli/loadtest-bots.ts: a 2 ms
// tick, each client on its own random phase, a client that fell 1 s behind skips instead of
// bursting). Every message carries a sequence number and its send time; its echo gives a round trip.
//
//   node bench/colyseus/load-client.mjs --port P [--clients 1000] [--rate 10] [--size 64]
//        [--duration 10] [--warmup 2] [--grace 5] [--server-pid PID]
//
// Timeline: join everyone (50 at a time) → warmup → the window (messages sent in it are counted) →
// stop sending, wait for their echoes (at most --grace s) → one JSON line on stdout → leave, exit.
// Server CPU (--server-pid) and this process's CPU are taken over the window (/proc, see
// bench/lib/proc.mjs). Every wait is bounded.
import { Client } from 'colyseus.js';
import { processCpuMs } from '../lib/proc.mjs';

const opts = { host: '127.0.0.1', port: 0, clients: 1000, rate: 10, size: 64, duration: 10, warmup: 2, grace: 5, 'server-pid': 0 };
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const name = a[i].replace(/^--/, '');
    if (!(name in opts) || i + 1 >= a.length) {
      process.stderr.write(`load-client: unknown or incomplete flag ${a[i]}\n`);
      process.exit(2);
    }
    opts[name] = name === 'host' ? a[i + 1] : Number(a[i + 1]);
  }
  if (!(opts.port > 0) || !(opts.size >= 16)) {
    process.stderr.write('load-client: --port is required, --size at least 16\n');
    process.exit(2);
  }
}

/** As src/cli/loadtest-bots.ts: the send schedule's resolution, and the lag a client may fall behind. */
const TICK_MS = 2;
const MAX_LAG_MS = 1000;
const JOIN_BATCH = 50;
const JOIN_TIMEOUT_MS = 20_000;
const log = (line) => process.stderr.write(`[colyseus load] ${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function bounded(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))])
    .finally(() => clearTimeout(timer));
}

const endpoint = new Client(`ws://${opts.host}:${opts.port}`);
const period = 1000 / opts.rate;
let windowStart = Infinity;
let windowEnd = Infinity;
let sending = true;
let sent = 0;
let received = 0;
let sentTotal = 0;
let receivedTotal = 0;
let left = 0;
let rtts = new Float64Array(1 << 16);
let rttCount = 0;

function record(ms) {
  if (rttCount === rtts.length) {
    const grown = new Float64Array(rtts.length * 2);
    grown.set(rtts);
    rtts = grown;
  }
  rtts[rttCount++] = ms;
}

/** One client: its room, its message (stamped in place: the transport copies it into a frame). */
function makeBot(room) {
  const bytes = new Uint8Array(opts.size);
  const view = new DataView(bytes.buffer);
  const bot = { room, seq: 0, nextAt: 0, bytes, view };
  room.onMessage('echo', (echo) => {
    const v = new DataView(echo.buffer, echo.byteOffset, echo.byteLength);
    const t = v.getFloat64(8, true);
    const now = performance.now();
    receivedTotal++;
    if (t >= windowStart && t < windowEnd) {
      received++;
      record(now - t);
    }
  });
  room.onLeave(() => {
    left++;
  });
  return bot;
}

function sendOne(bot, now) {
  bot.view.setUint32(0, bot.seq++ >>> 0, true);
  bot.view.setFloat64(8, now, true);
  bot.room.sendBytes('echo', bot.bytes);
  sentTotal++;
  if (now >= windowStart && now < windowEnd) sent++;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function main() {
  const bots = [];
  const t0 = performance.now();
  for (let start = 0; start < opts.clients; start += JOIN_BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(opts.clients, start + JOIN_BATCH); i++) batch.push(endpoint.joinOrCreate('echo'));
    const rooms = await bounded(Promise.all(batch), JOIN_TIMEOUT_MS, `joining clients ${start}…`);
    for (const room of rooms) bots.push(makeBot(room));
  }
  log(`${bots.length} clients joined in ${Math.round(performance.now() - t0)} ms`);

  const begin = performance.now();
  for (const bot of bots) bot.nextAt = begin + Math.random() * Math.min(period, 1000);
  const ticker = setInterval(() => {
    if (!sending) return;
    const now = performance.now();
    for (const bot of bots) {
      if (now - bot.nextAt > MAX_LAG_MS) bot.nextAt = now;
      while (bot.nextAt <= now) {
        sendOne(bot, performance.now());
        bot.nextAt += period;
      }
    }
  }, TICK_MS);

  await sleep(opts.warmup * 1000);
  const serverCpu0 = opts['server-pid'] ? processCpuMs(opts['server-pid']) : null;
  const ownCpu0 = process.cpuUsage();
  windowStart = performance.now();
  await sleep(opts.duration * 1000);
  windowEnd = performance.now();
  const serverCpu1 = opts['server-pid'] ? processCpuMs(opts['server-pid']) : null;
  const ownCpu = process.cpuUsage(ownCpu0);
  sending = false;
  clearInterval(ticker);
  const windowMs = windowEnd - windowStart;
  const deadline = performance.now() + opts.grace * 1000;
  while (received < sent && performance.now() < deadline) await sleep(5);

  const sorted = rtts.subarray(0, rttCount).sort();
  const summary = {
    type: 'summary',
    clients: opts.clients,
    connected: bots.length,
    rate: opts.rate,
    size: opts.size,
    windowMs,
    sent,
    received,
    sentTotal,
    receivedTotal,
    delivery: sent > 0 ? received / sent : 0,
    left,
    rtt: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : NaN, count: sorted.length },
    clientCpuPercent: ((ownCpu.user + ownCpu.system) / 1000 / windowMs) * 100,
    serverCpuPercent: serverCpu0 !== null && serverCpu1 !== null ? ((serverCpu1 - serverCpu0) / windowMs) * 100 : null,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  // Leave politely (bounded), so the server sees its clients go.
  await Promise.race([Promise.all(bots.map((bot) => bot.room.leave(true).catch(() => {}))), sleep(2000)]);
}

main().then(() => process.exit(0), (error) => {
  log(error.stack ?? String(error));
  process.exit(1);
});
