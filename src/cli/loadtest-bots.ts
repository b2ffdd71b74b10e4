// Runs in a bot process forked by enet-loadtest (src/cli/loadtest.ts): `count` ENetClients on one
// client network of its own (one network thread), connected at this process's share of --ramp.
// Each sends --rate measured messages per second (or runs the --scenario function), and every echo
// gives a round trip, recorded in HDR histograms sent to the parent (encoded) over IPC.
//
// Timeline, driven by the parent: 'start' → connect everyone → 'connected' (every client connected
// or failed) → load (warmup) → 'window' (count from now) → 'stop' (stop sending, wait for the
// echoes up to --grace) → 'final' → 'exit' (disconnect, close). If the parent goes away, so do we.
//
// Bad networks (--link, --rebind-at, --blackout): the process runs one relay (src/net-relay) in front
// of the server and its clients connect through it, each client its own upstream port. --churn:
// from the warmup on, clients leave (after their echoes are back, bounded) and new ones replace them.
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { ENetClient } from '../client/client.js';
import { createClientNetwork } from '../client/network.js';
import { createLinkRelay, type LinkRelay } from '../net-relay/relay.js';
import { Err, PacketFormat } from '../wire/enums.js';
import {
  RTT_BUCKETS,
  echoSeq,
  echoTime,
  usesRelay,
  messageTemplate,
  rttBucket,
  stamp,
  type BotCounters,
  type BotsConfig,
  type ToBots,
  type ToParent,
} from './loadtest-lib.js';

/** What a --scenario function gets besides its client. */
export interface ScenarioContext {
  /** This client's index among all clients of the run (0-based). */
  id: number;
  /** Clients in the whole run. */
  clients: number;
  config: Readonly<BotsConfig>;
  /** Sends one measured message (sequence number + send time, --size bytes); its echo is timed. */
  send(): Err;
  /** The next `event` of the client (its arguments), optionally one passing `filter`; rejects after timeoutMs (default 5000). */
  waitFor(event: string, options?: { timeoutMs?: number; filter?: (...args: unknown[]) => boolean }): Promise<unknown[]>;
  /** Resolves after ms, or at once when the run stops. */
  sleep(ms: number): Promise<void>;
  /** Records a round trip you measured yourself (ms), counted while the window is open. */
  record(rttMs: number): void;
  /** True while the window is open (warmup over, not stopped). */
  readonly measuring: boolean;
  /** True once the run stops: return soon. */
  readonly stopped: boolean;
  /** Aborted when the run stops. */
  readonly signal: AbortSignal;
  /** A line for the parent's output. */
  log(line: string): void;
}

type ScenarioFn = (client: ENetClient, ctx: ScenarioContext) => Promise<void> | void;

interface Bot {
  index: number;
  client: ENetClient;
  seq: number;
  nextAt: number;
  startedAt: number;
  online: boolean;
  /** Online and (with --auth) logged in: load may flow. */
  ready: boolean;
  done: boolean;
  /** A --churn replacement (its connect counts as joined, not connected). */
  churn: boolean;
  /** Leaving on purpose (--churn): no more sends, its loss of connection is not a disconnection. */
  leaving: boolean;
  /** Its messages not echoed yet. */
  outstanding: number;
  /** The last DUP_WINDOW sequence numbers echoed (slot seq % DUP_WINDOW holds seq), for duplicates. */
  seen: Int32Array | undefined;
  /** When 'connectionInterrupted' came (performance.now()), or -1. */
  interruptedAt: number;
}

/** The send schedule's resolution: small ticks keep bursts small (the server's socket buffer is 256 KiB). */
const TICK_MS = 2;
/** A client that fell this far behind its schedule skips what it missed instead of bursting. */
const MAX_LAG_MS = 1000;
/** With --auth: wait at most this long for the server's first packet before loading. */
const AUTH_WAIT_MS = 1000;
/** Sequence numbers remembered per client to spot a duplicate echo (1 KiB per client). */
const DUP_WINDOW = 256;
/** A churned client waits at most this long for its echoes before it disconnects. */
const LEAVE_WAIT_MS = 1500;

const send = (message: ToParent): void => {
  if (process.connected) process.send!(message);
};

const histogram = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

class Bots {
  private readonly network = createClientNetwork();
  private readonly bots: Bot[] = [];
  private readonly online: Bot[] = [];
  private readonly counters: BotCounters = {
    connected: 0, connectFailed: 0, online: 0, disconnected: 0,
    sentTotal: 0, sent: 0, receivedTotal: 0, received: 0, sendRefused: 0, scenarioErrors: 0,
    interrupted: 0, resumed: 0, duplicates: 0, churnLeft: 0, churnJoined: 0, churnFailed: 0,
  };
  private readonly rtt = histogram();
  private readonly connectTimes = histogram();
  private readonly resumeTimes = histogram();
  private relay: LinkRelay | undefined;
  /** Where clients connect: the server, or this process's relay. */
  private target: { host: string; port: number };
  private readonly linkTimers: NodeJS.Timeout[] = [];
  private churnFrom = Infinity;
  private churnDone = 0;
  private churnSeq = 0;
  private interval = histogram();
  private readonly buckets = new Array<number>(RTT_BUCKETS).fill(0);
  private readonly template;
  private readonly period: number;
  private windowStart = Infinity;
  private windowEnd = Infinity;
  private stopping = false;
  private readonly abort = new AbortController();
  private cpuAtWindow = process.cpuUsage();
  private cpuPercent = 0;
  private maxRssMb = 0;
  private scenario: ScenarioFn | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private progress: NodeJS.Timeout | undefined;
  private startedAt = performance.now();
  private nextConnect = 0;
  private connectedReported = false;
  private scenarioErrorLogged = false;
  /** Why clients were disconnected during the run / failed to connect, counted by reason. */
  private readonly disconnectReasons: Record<string, number> = {};
  private readonly connectFailReasons: Record<string, number> = {};

  constructor(private readonly config: BotsConfig) {
    this.template = messageTemplate(config);
    this.period = config.rate > 0 ? 1000 / config.rate : Infinity;
    this.target = { host: config.host, port: config.port };
  }

  async start(): Promise<void> {
    if (this.config.scenario) {
      const mod = (await import(this.config.scenario)) as Record<string, unknown>;
      const fn = [mod.default, mod.scenario, ...Object.values(mod)].find((f) => typeof f === 'function');
      if (typeof fn !== 'function') throw new Error(`${this.config.scenario} exports no function (export default async function (client, ctx) { … })`);
      this.scenario = fn as ScenarioFn;
    }
    if (usesRelay(this.config)) {
      const { address } = await lookup(this.config.host, { family: 4 });
      this.relay = await createLinkRelay({ target: { address, port: this.config.port }, link: this.config.link });
      this.target = { host: '127.0.0.1', port: this.relay.port };
    }
    this.startedAt = performance.now();
    this.ticker = setInterval(this.tick, TICK_MS);
    this.progress = setInterval(this.report, 500);
    this.tick();
  }

  onMessage(message: ToBots): void {
    switch (message.type) {
      case 'window':
        this.windowStart = performance.now();
        this.cpuAtWindow = process.cpuUsage();
        this.scheduleLinkEvents();
        return;
      case 'stop':
        void this.stop();
        return;
      case 'exit':
        void this.exit();
        return;
    }
  }

  // ---- connecting ----------------------------------------------------------------------------

  private connectDue(now: number): void {
    const { count, processRamp } = this.config;
    while (this.nextConnect < count && (now - this.startedAt) >= (this.nextConnect / processRamp) * 1000) this.connect(this.nextConnect++);
  }

  private connect(i: number, churn = false): void {
    const client = new ENetClient({ network: this.network, connectTimeoutMs: Math.round(this.config.connectTimeout * 1000) });
    const bot: Bot = {
      // A replacement's index follows every first client's, unique over the processes.
      index: churn ? this.config.clients + this.config.processIndex + this.config.processes * i : this.config.first + i,
      client, seq: 0, nextAt: 0, startedAt: performance.now(), online: false, ready: false, done: false,
      churn, leaving: false, outstanding: 0, seen: undefined, interruptedAt: -1,
    };
    this.bots.push(bot);
    client.setCompressionMode(this.config.compression);
    if (this.config.format === 'godot') client.setPacketFormat(PacketFormat.GODOT);
    client.on('error', (error) => this.log(`client ${bot.index}: ${error.stack ?? error}`));
    client.on('packetReceived', (value) => this.onEcho(bot, value));
    client.once('connectedToServer', () => this.onConnected(bot));
    client.once('connectionFailed', (reason: string) => this.onFailed(bot, reason));
    client.on('disconnectedFromServer', (reason: string) => this.onLost(bot, reason));
    // Sessions (when the client has them): an interruption, and its resumption.
    const emitter = client as unknown as EventEmitter;
    emitter.on('connectionInterrupted', () => {
      this.counters.interrupted++;
      bot.interruptedAt = performance.now();
    });
    emitter.on('resumed', () => {
      this.counters.resumed++;
      if (bot.interruptedAt >= 0) this.resumeTimes.recordValue(Math.max(1, Math.round((performance.now() - bot.interruptedAt) * 1000)));
      bot.interruptedAt = -1;
    });
    const err = client.connectToServer(this.target.host, this.target.port);
    if (err !== Err.OK) this.onFailed(bot, `connectToServer returned ${Err[err] ?? err}`);
  }

  private onConnected(bot: Bot): void {
    this.connectTimes.recordValue(Math.max(1, Math.round((performance.now() - bot.startedAt) * 1000)));
    if (bot.churn) this.counters.churnJoined++;
    else this.counters.connected++;
    this.counters.online++;
    bot.online = true;
    this.online.push(bot);
    if (this.config.auth) {
      bot.client.sendPacket(this.config.auth);
      // Packets before the login is approved would be dropped: wait for the server's first word
      // (the demo's welcome), or a moment.
      const timer = setTimeout(() => this.makeReady(bot), AUTH_WAIT_MS);
      bot.client.once('rawPacketReceived', () => {
        clearTimeout(timer);
        this.makeReady(bot);
      });
    } else {
      this.makeReady(bot);
    }
    this.checkConnected();
  }

  private makeReady(bot: Bot): void {
    if (bot.ready || !bot.online) return;
    bot.ready = true;
    bot.nextAt = performance.now() + Math.random() * Math.min(this.period, 1000);
    if (this.scenario) void this.runScenario(bot);
  }

  private onFailed(bot: Bot, reason: string): void {
    if (bot.done) return;
    bot.done = true;
    if (bot.churn) {
      this.counters.churnFailed++;
      this.forget(bot);
      return;
    }
    this.counters.connectFailed++;
    count(this.connectFailReasons, reason);
    this.checkConnected();
  }

  private onLost(bot: Bot, reason: string): void {
    if (!bot.online) return;
    bot.online = false;
    bot.ready = false;
    this.counters.online--;
    if (!this.stopping && !bot.leaving) {
      this.counters.disconnected++;
      count(this.disconnectReasons, reason);
    }
    const at = this.online.indexOf(bot);
    if (at >= 0) this.online.splice(at, 1);
    if (bot.leaving) this.forget(bot);
  }

  /** A client that is gone for good (churned): out of the list. */
  private forget(bot: Bot): void {
    const at = this.bots.indexOf(bot);
    if (at >= 0) this.bots.splice(at, 1);
  }

  private checkConnected(): void {
    if (this.connectedReported || this.counters.connected + this.counters.connectFailed < this.config.count) return;
    this.connectedReported = true;
    this.churnFrom = performance.now();
    send({ type: 'connected', counters: { ...this.counters } });
  }

  // ---- load ----------------------------------------------------------------------------------

  private readonly tick = (): void => {
    const now = performance.now();
    if (this.nextConnect < this.config.count) this.connectDue(now);
    if (this.config.churn > 0 && !this.stopping && now > this.churnFrom) this.churnDue(now);
    if (this.stopping || this.scenario || this.period === Infinity) return;
    for (const bot of this.online) {
      if (!bot.ready) continue;
      if (now - bot.nextAt > MAX_LAG_MS) bot.nextAt = now;
      while (bot.nextAt <= now) {
        this.sendMeasured(bot);
        bot.nextAt += this.period;
      }
    }
  };

  // ---- churn and the link's events -------------------------------------------------------------

  /** This process's share of --churn: so many clients leave and are replaced, evenly over time. */
  private churnDue(now: number): void {
    const share = (this.config.churn * this.config.count) / this.config.clients;
    const due = Math.floor(((now - this.churnFrom) / 1000) * share);
    while (this.churnDone < due) {
      this.churnDone++;
      const victim = this.online.find((b) => b.ready && !b.leaving);
      if (victim) void this.leave(victim);
      this.connect(this.churnSeq++, true);
    }
  }

  /** A churned client stops sending, waits for its echoes (bounded), and disconnects. */
  private async leave(bot: Bot): Promise<void> {
    bot.leaving = true;
    bot.ready = false;
    this.counters.churnLeft++;
    const at = this.online.indexOf(bot);
    if (at >= 0) this.online.splice(at, 1);
    const deadline = performance.now() + LEAVE_WAIT_MS;
    while (bot.outstanding > 0 && performance.now() < deadline && !this.stopping) await sleep(10);
    if (this.stopping) return; // exit() disconnects everyone
    bot.client.disconnectFromServer('churn');
  }

  private scheduleLinkEvents(): void {
    const relay = this.relay;
    if (!relay) return;
    const later = (seconds: number, fn: () => void) => {
      const timer = setTimeout(() => {
        if (!this.stopping) fn();
      }, seconds * 1000);
      this.linkTimers.push(timer);
    };
    for (const at of this.config.rebindAt) later(at, () => relay.rebind(this.config.rebindFraction));
    for (const b of this.config.blackouts) later(b.at, () => relay.blackout(b.seconds * 1000));
  }

  private sendMeasured(bot: Bot): Err {
    const now = performance.now();
    const bytes = stamp(this.template, bot.seq++ >>> 0, now);
    const result = bot.client.sendRawPacket(bytes, 0, this.config.reliable);
    if (result !== Err.OK) {
      this.counters.sendRefused++;
      return result;
    }
    // Out now, not at the end of the tick's batch: the message leaves at its stamped time, and the
    // server gets a tick's messages one by one instead of a burst it echoes all at once
    // (docs/loadtest.md "Where the client's median went").
    this.network.get().out.flush();
    this.counters.sentTotal++;
    bot.outstanding++;
    if (now >= this.windowStart && now < this.windowEnd) this.counters.sent++;
    return Err.OK;
  }

  private onEcho(bot: Bot, value: unknown): void {
    const t = echoTime(value);
    if (t < 0) return;
    const seq = echoSeq(value);
    if (seq >= 0) {
      const seen = (bot.seen ??= new Int32Array(DUP_WINDOW).fill(-1));
      const slot = seq % DUP_WINDOW;
      if (seen[slot] === (seq | 0)) {
        this.counters.duplicates++;
        return;
      }
      seen[slot] = seq | 0;
    }
    bot.outstanding--;
    const now = performance.now();
    const us = Math.max(1, Math.round((now - t) * 1000));
    this.counters.receivedTotal++;
    this.interval.recordValue(us);
    if (t >= this.windowStart && t < this.windowEnd) {
      this.counters.received++;
      this.rtt.recordValue(us);
      this.buckets[rttBucket(us)]++;
    }
  }

  private record(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    const us = Math.max(1, Math.round(rttMs * 1000));
    this.interval.recordValue(us);
    const now = performance.now();
    if (now >= this.windowStart && now < this.windowEnd) {
      this.rtt.recordValue(us);
      this.buckets[rttBucket(us)]++;
    }
  }

  private async runScenario(bot: Bot): Promise<void> {
    const self = this;
    const ctx: ScenarioContext = {
      id: bot.index,
      clients: this.config.clients,
      config: this.config,
      send: () => (bot.online && !bot.leaving ? this.sendMeasured(bot) : Err.ERR_UNCONFIGURED),
      waitFor: (event, { timeoutMs = 5000, filter } = {}) => waitForEvent(bot.client, event, timeoutMs, filter),
      sleep: (ms) => sleep(ms, this.abort.signal),
      record: (rttMs) => this.record(rttMs),
      get measuring() {
        const now = performance.now();
        return now >= self.windowStart && now < self.windowEnd;
      },
      get stopped() {
        return self.stopping;
      },
      signal: this.abort.signal,
      log: (line) => this.log(`client ${bot.index}: ${line}`),
    };
    try {
      await this.scenario!(bot.client, ctx);
    } catch (error) {
      if (this.stopping) return;
      this.counters.scenarioErrors++;
      if (!this.scenarioErrorLogged) {
        this.scenarioErrorLogged = true;
        this.log(`scenario of client ${bot.index} threw: ${(error as Error)?.stack ?? error} (further scenario errors are counted)`);
      }
    }
  }

  // ---- reporting and the end -----------------------------------------------------------------

  private readonly report = (): void => {
    const rssMb = process.memoryUsage.rss() / 1048576;
    this.maxRssMb = Math.max(this.maxRssMb, rssMb);
    const interval = encodeIntoCompressedBase64(this.interval);
    this.interval = histogram();
    send({ type: 'progress', counters: { ...this.counters }, interval, rssMb });
  };

  private async stop(): Promise<void> {
    if (this.stopping) return;
    const now = performance.now();
    this.windowEnd = now;
    if (this.windowStart === Infinity) this.windowStart = now; // stopped before the window opened
    const cpu = process.cpuUsage(this.cpuAtWindow);
    const windowMs = now - this.windowStart;
    this.cpuPercent = windowMs > 0 ? ((cpu.user + cpu.system) / 1000 / windowMs) * 100 : 0;
    this.stopping = true;
    this.abort.abort();
    for (const timer of this.linkTimers) clearTimeout(timer);
    // The echoes of the window's last messages: until all are back, or --grace.
    const deadline = now + this.config.grace * 1000;
    while (this.counters.received < this.counters.sent && performance.now() < deadline && this.counters.online > 0) {
      await sleep(5);
    }
    this.report();
    send({
      type: 'final',
      counters: { ...this.counters },
      rtt: encodeIntoCompressedBase64(this.rtt),
      connect: encodeIntoCompressedBase64(this.connectTimes),
      resume: encodeIntoCompressedBase64(this.resumeTimes),
      ...(this.relay ? { relay: this.relay.stats() } : {}),
      buckets: this.buckets,
      cpuPercent: this.cpuPercent,
      rssMb: this.maxRssMb,
      windowMs,
      disconnectReasons: this.disconnectReasons,
      connectFailReasons: this.connectFailReasons,
    });
  }

  private async exit(): Promise<void> {
    clearInterval(this.ticker);
    clearInterval(this.progress);
    for (const timer of this.linkTimers) clearTimeout(timer);
    this.stopping = true;
    this.abort.abort();
    // Disconnect politely, so the server sees its peers go; bounded.
    const gone = this.bots
      .filter((bot) => bot.online || bot.client.getConnectionStatus() !== 0)
      .map((bot) => new Promise<void>((resolve) => {
        bot.client.once('disconnectedFromServer', () => resolve());
        bot.client.once('connectionFailed', () => resolve());
        bot.client.disconnectFromServer('load test done');
      }));
    await Promise.race([Promise.all(gone), sleep(1000)]);
    await Promise.race([this.network.close(), sleep(1000)]);
    await Promise.race([this.relay?.close(), sleep(1000)]);
    process.exit(0);
  }

  private log(line: string): void {
    send({ type: 'log', line: `[bots ${this.config.processIndex + 1}] ${line}` });
  }
}

function count(table: Record<string, number>, reason: string): void {
  const key = reason || '(no reason given)';
  table[key] = (table[key] ?? 0) + 1;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function waitForEvent(client: ENetClient, event: string, timeoutMs: number, filter?: (...args: unknown[]) => boolean): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const emitter = client as unknown as NodeJS.EventEmitter;
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    function listener(...args: unknown[]) {
      if (filter && !filter(...args)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    }
    emitter.on(event, listener);
  });
}

// ---- the process -----------------------------------------------------------------------------

if (!process.send) {
  process.stderr.write('loadtest-bots runs as a child process of enet-loadtest\n');
  process.exit(2);
}
let bots: Bots | undefined;
process.on('disconnect', () => process.exit(0)); // the parent is gone
// Ctrl+C reaches the whole process group: the parent decides when we stop.
process.on('SIGINT', () => {});
process.on('message', (message: ToBots) => {
  if (message.type === 'start') {
    bots = new Bots(message.config);
    bots.start().catch((error) => {
      send({ type: 'log', line: `[bots ${message.config.processIndex + 1}] ${(error as Error)?.stack ?? error}` });
      process.exit(1);
    });
    return;
  }
  bots?.onMessage(message);
});
