#!/usr/bin/env node
// enet-loadtest: drives many headless ENet clients against a server that echoes (enet-server's
// demo, `npm start`, or any server that sends every packet back). The clients run in --processes
// bot processes (src/cli/loadtest-bots.ts, child_process.fork), each on its own client network;
// this process coordinates them (connect, warmup, measured window, drain), merges their HDR
// histograms, shows live progress on stderr, and prints a summary table on stdout (--json, --plot,
// --threshold for CI). It always ends: every phase is bounded, a dead server is a clean failure
// (connectFailed), and the bot processes are killed on the way out whatever happens.
import { fork, type ChildProcess } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pidusage from 'pidusage';
import { build, decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import {
  FlagError,
  RTT_BUCKETS,
  bucketLowMs,
  checkThreshold,
  formatLinkSpec,
  formatSummary,
  parseFlags,
  runProblems,
  thresholdValue,
  usage,
  usesRelay,
  type BotCounters,
  type BotsConfig,
  type LoadConfig,
  type Summary,
  type ToBots,
  type ToParent,
} from './loadtest-lib.js';

const BOTS = fileURLToPath(new URL('./loadtest-bots.js', import.meta.url));

/** Slack on top of each phase's own bound before it is cut short. */
const SLACK_MS = 5000;

export interface RunOptions {
  /** Live progress (default process.stderr). */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Notes and warnings (default process.stderr). */
  log?: (line: string) => void;
  /** Aborting ends the run early: the window closes now, the echoes are awaited, the summary follows. */
  signal?: AbortSignal;
}

export interface RunResult {
  summary: Summary;
  /** 0 ran; 1 no client connected, a bot process failed, or (without thresholds) nothing came back or clients were disconnected; 3 a threshold failed. */
  exitCode: number;
}

interface Child {
  index: number;
  process: ChildProcess;
  clients: number;
  counters: BotCounters | undefined;
  connected: boolean;
  final: Extract<ToParent, { type: 'final' }> | undefined;
  exited: boolean;
  rssMb: number;
}

const newHistogram = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

function emptyCounters(): BotCounters {
  return {
    connected: 0, connectFailed: 0, online: 0, disconnected: 0, sentTotal: 0, sent: 0, receivedTotal: 0, received: 0, sendRefused: 0, scenarioErrors: 0,
    interrupted: 0, resumed: 0, duplicates: 0, churnLeft: 0, churnJoined: 0, churnFailed: 0,
  };
}

function botExecArgv(): string[] {
  const extra = process.env.ENET_LOADTEST_NODE_OPTIONS?.split(/\s+/).filter(Boolean) ?? [];
  return [...process.execArgv, ...extra];
}

/** Runs one load test; resolves once every bot process is gone. */
export async function runLoadtest(config: LoadConfig, options: RunOptions = {}): Promise<RunResult> {
  const progressOut = options.progress ?? process.stderr;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const tty = Boolean(progressOut.isTTY);
  const started = performance.now();
  const children: Child[] = [];
  // Per second since the start: RTT figures. Only the second under way keeps a histogram (~130 KB
  // each): a finished one is reduced to its figures, so a 30-minute soak does not grow by 200 MB.
  const timeline = new Map<number, { count: number; p50: number; p90: number; p99: number; max: number }>();
  let openSecond: { second: number; histogram: Histogram } | undefined;
  const closeSecond = () => {
    const h = openSecond?.histogram;
    if (openSecond && h && h.totalCount > 0) {
      const at = (p: number) => h.getValueAtPercentile(p) / 1000;
      timeline.set(openSecond.second, { count: h.totalCount, p50: at(50), p90: at(90), p99: at(99), max: h.maxValue / 1000 });
    }
    openSecond = undefined;
  };
  let lastInterval: Histogram | undefined;
  /** Per second since the start: clients connected then, echoes received up to then. */
  const loadBySecond = new Map<number, { connected: number; receivedTotal: number }>();
  let phase: 'connecting' | 'warmup' | 'measuring' | 'draining' | 'done' = 'connecting';
  let windowStartedAt = 0;
  let failedChild = false;

  // ---- the bot processes ----
  const base = Math.floor(config.clients / config.processes);
  let first = 0;
  const events = new EventTarget();
  const changed = () => events.dispatchEvent(new Event('change'));
  const aborted = () => options.signal?.aborted ?? false;
  options.signal?.addEventListener('abort', changed, { once: true });
  for (let i = 0; i < config.processes; i++) {
    const count = base + (i < config.clients % config.processes ? 1 : 0);
    const child: Child = {
      index: i,
      // ENET_LOADTEST_NODE_OPTIONS: node flags for the bot processes (e.g. --cpu-prof, to profile them).
      process: fork(BOTS, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: botExecArgv() }),
      clients: count,
      counters: undefined,
      connected: false,
      final: undefined,
      exited: false,
      rssMb: 0,
    };
    children.push(child);
    const botsConfig: BotsConfig = { ...config, first, count, processRamp: (config.ramp * count) / config.clients, processIndex: i };
    first += count;
    child.process.on('message', (message: ToParent) => {
      switch (message.type) {
        case 'progress': {
          child.counters = message.counters;
          child.rssMb = Math.max(child.rssMb, message.rssMb);
          const interval = decodeFromCompressedBase64(message.interval);
          const second = Math.floor((performance.now() - started) / 1000);
          if (openSecond?.second !== second) {
            closeSecond();
            openSecond = { second, histogram: newHistogram() };
          }
          openSecond.histogram.add(interval);
          lastInterval = interval;
          return;
        }
        case 'connected':
          child.counters = message.counters;
          child.connected = true;
          changed();
          return;
        case 'final':
          child.counters = message.counters;
          child.final = message;
          child.rssMb = Math.max(child.rssMb, message.rssMb);
          changed();
          return;
        case 'log':
          log(message.line);
          return;
      }
    });
    child.process.on('error', (error) => log(`bot process ${i + 1}: ${error.message}`));
    child.process.on('exit', (code, signal) => {
      child.exited = true;
      if (phase !== 'done' && (code !== 0 || !child.final)) {
        failedChild = true;
        log(`bot process ${i + 1} exited early (${signal ?? `code ${code}`})`);
      }
      changed();
    });
    child.process.send({ type: 'start', config: botsConfig } satisfies ToBots);
  }
  const broadcast = (message: ToBots) => {
    for (const child of children) if (!child.exited && child.process.connected) child.process.send(message);
  };
  const until = (condition: () => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (condition()) return resolve(true);
      const timer = setTimeout(() => {
        events.removeEventListener('change', check);
        resolve(condition());
      }, ms);
      function check() {
        if (!condition()) return;
        clearTimeout(timer);
        events.removeEventListener('change', check);
        resolve(true);
      }
      events.addEventListener('change', check);
    });
  const pause = (ms: number) => until(() => aborted() || children.every((c) => c.exited), ms);
  const sum = (key: keyof BotCounters): number => children.reduce((n, c) => n + (c.final?.counters ?? c.counters ?? emptyCounters())[key], 0);

  // ---- live progress ----
  let lastReceived = 0;
  let lastAt = performance.now();
  let rate = 0;
  const render = () => {
    const now = performance.now();
    const received = sum('receivedTotal');
    if (now - lastAt >= 900) {
      rate = ((received - lastReceived) * 1000) / (now - lastAt);
      lastReceived = received;
      lastAt = now;
    }
    const p99 = lastInterval && lastInterval.totalCount > 0 ? `${(lastInterval.getValueAtPercentile(99) / 1000).toFixed(2)} ms` : '-';
    loadBySecond.set(Math.floor((now - started) / 1000), { connected: sum('online'), receivedTotal: received });
    const line = `[${((now - started) / 1000).toFixed(1)}s ${phase}] connected ${sum('online')}/${config.clients} (${sum('connectFailed')} failed)  sent ${sum('sentTotal')}  received ${received}  ${Math.round(rate)}/s  p99 ${p99}`;
    progressOut.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  };
  const ticker = setInterval(render, tty ? 250 : 1000);

  // ---- the hard deadline: whatever happens, the bot processes go and we return ----
  const connectBoundMs = (config.clients / config.ramp) * 1000 + config.connectTimeout * 1000 + SLACK_MS;
  const hardDeadlineMs = connectBoundMs + (config.warmup + config.duration + config.grace) * 1000 + 4 * SLACK_MS;
  let hardStop = false;
  const hard = setTimeout(() => {
    hardStop = true;
    log(`enet-loadtest: hard deadline (${Math.round(hardDeadlineMs / 1000)} s) reached: killing the bot processes`);
    for (const child of children) if (!child.exited) child.process.kill('SIGKILL');
  }, hardDeadlineMs);

  let serverStart: { ctime: number; at: number } | undefined;
  let serverEnd: { ctime: number; memory: number; at: number } | undefined;
  const sampleServer = async () => {
    if (config.serverPid === undefined) return undefined;
    try {
      const stat = await pidusage(config.serverPid);
      return { ctime: stat.ctime, memory: stat.memory, at: performance.now() };
    } catch (error) {
      log(`enet-loadtest: cannot read server pid ${config.serverPid}: ${(error as Error).message}`);
      return undefined;
    }
  };

  try {
    // Connect phase: every process connected or failed all of its clients (bounded).
    await until(() => aborted() || children.every((c) => c.connected || c.exited), connectBoundMs);
    const connected = sum('connected');
    if (connected > 0 && !hardStop && !aborted()) {
      phase = 'warmup';
      await pause(config.warmup * 1000);
      phase = 'measuring';
      serverStart = await sampleServer();
      windowStartedAt = performance.now();
      broadcast({ type: 'window' });
      await pause(config.duration * 1000);
    }
    phase = 'draining';
    const end = await sampleServer();
    if (end) serverEnd = end;
    broadcast({ type: 'stop' });
    await until(() => children.every((c) => c.final || c.exited), config.grace * 1000 + SLACK_MS);
  } finally {
    phase = 'done';
    clearInterval(ticker);
    render();
    if (tty) progressOut.write('\n');
    broadcast({ type: 'exit' });
    await until(() => children.every((c) => c.exited), 3000);
    for (const child of children) if (!child.exited) child.process.kill('SIGKILL');
    await until(() => children.every((c) => c.exited), 2000);
    clearTimeout(hard);
    pidusage.clear();
  }

  // ---- the summary ----
  const rtt = newHistogram();
  const connect = newHistogram();
  const resume = newHistogram();
  const buckets = new Array<number>(RTT_BUCKETS).fill(0);
  const relay = { clients: 0, forwarded: { up: 0, down: 0 }, dropped: { up: 0, down: 0 }, rebinds: 0 };
  const disconnectReasons: Record<string, number> = {};
  const connectFailReasons: Record<string, number> = {};
  const addUp = (into: Record<string, number>, from: Record<string, number> | undefined) => {
    for (const [reason, n] of Object.entries(from ?? {})) into[reason] = (into[reason] ?? 0) + n;
  };
  for (const child of children) {
    if (!child.final) continue;
    addUp(disconnectReasons, child.final.disconnectReasons);
    addUp(connectFailReasons, child.final.connectFailReasons);
    rtt.add(decodeFromCompressedBase64(child.final.rtt));
    connect.add(decodeFromCompressedBase64(child.final.connect));
    resume.add(decodeFromCompressedBase64(child.final.resume));
    child.final.buckets.forEach((n, k) => (buckets[k] += n));
    const r = child.final.relay;
    if (r) {
      relay.clients += r.clients;
      relay.forwarded.up += r.forwarded.up;
      relay.forwarded.down += r.forwarded.down;
      relay.dropped.up += r.dropped.up;
      relay.dropped.down += r.dropped.down;
      relay.rebinds += r.rebinds;
    }
  }
  closeSecond();
  const pct = (h: Histogram, p: number) => (h.totalCount > 0 ? h.getValueAtPercentile(p) / 1000 : 0);
  const sent = sum('sent');
  const received = sum('received');
  const finals = children.filter((c) => c.final);
  const windowMs = finals.length > 0 ? finals.reduce((n, c) => n + c.final!.windowMs, 0) / finals.length : 0;
  const clientProcesses = children.map((c) => ({ cpuPercent: c.final?.cpuPercent ?? 0, rssMb: c.rssMb, clients: c.clients }));
  const clientCpuPercent = clientProcesses.reduce((n, p) => n + p.cpuPercent, 0);
  const windowStartSecond = Math.floor((windowStartedAt - started) / 1000);
  // Where the window's link events fall on the plot's time axis (seconds since the start); only
  // those the window reached (an interrupted run may end before them).
  const windowAt = (windowStartedAt - started) / 1000;
  const happened = (at: number) => windowStartedAt > 0 && at <= windowMs / 1000;
  const link = usesRelay(config) ? config.link ?? { lossPercent: 0, delayMs: 0, jitterMs: 0 } : undefined;
  const summary: Summary = {
    clients: config.clients,
    connected: sum('connected'),
    connectFailed: config.clients - sum('connected'),
    disconnected: sum('disconnected'),
    sent,
    received,
    lost: Math.max(0, sent - received),
    delivery: sent > 0 ? received / sent : 0,
    throughput: windowMs > 0 ? (received * 1000) / windowMs : 0,
    windowSeconds: windowMs / 1000,
    rtt: { p50: pct(rtt, 50), p90: pct(rtt, 90), p99: pct(rtt, 99), max: rtt.totalCount > 0 ? rtt.maxValue / 1000 : 0, mean: rtt.totalCount > 0 ? rtt.mean / 1000 : 0, count: rtt.totalCount },
    connect: { p50: pct(connect, 50), p99: pct(connect, 99), max: connect.totalCount > 0 ? connect.maxValue / 1000 : 0, count: connect.totalCount },
    disconnectReasons,
    connectFailReasons,
    problems: [],
    load: [...loadBySecond.entries()].sort(([a], [b]) => a - b).map(([second, point], i, all) => ({
      t: second,
      connected: point.connected,
      echoes: point.receivedTotal - (i > 0 ? all[i - 1][1].receivedTotal : 0),
    })),
    clientProcesses,
    clientCpuPercent,
    clientCpuUsPerMessage: received > 0 ? (clientCpuPercent / 100) * windowMs * 1000 / received : 0,
    sendRefused: sum('sendRefused'),
    interrupted: sum('interrupted'),
    resumed: sum('resumed'),
    resume: { p50: pct(resume, 50), p99: pct(resume, 99), count: resume.totalCount },
    duplicates: sum('duplicates'),
    ...(link ? {
      link: {
        ...link,
        text: formatLinkSpec(link),
        rebinds: config.rebindAt.filter(happened).map((at) => ({ t: +(windowAt + at).toFixed(3), at, fraction: config.rebindFraction })),
        blackouts: config.blackouts.filter((b) => happened(b.at)).map((b) => ({ t: +(windowAt + b.at).toFixed(3), at: b.at, seconds: b.seconds })),
        relay,
      },
    } : {}),
    ...(config.churn > 0 ? { churn: { perSecond: config.churn, left: sum('churnLeft'), joined: sum('churnJoined'), failed: sum('churnFailed') } } : {}),
    config: {
      host: config.host, port: config.port, rate: config.rate, size: config.size, duration: config.duration, warmup: config.warmup,
      ramp: config.ramp, reliable: config.reliable, format: config.format, compression: config.compression, processes: config.processes,
      ...(config.event !== undefined ? { event: config.event } : {}),
      ...(config.scenario !== undefined ? { scenario: fileURLToPath(config.scenario) } : {}),
      ...(config.link !== undefined ? { link: formatLinkSpec(config.link) } : {}),
      ...(config.rebindAt.length > 0 ? { rebindAt: config.rebindAt, rebindFraction: config.rebindFraction } : {}),
      ...(config.blackouts.length > 0 ? { blackouts: config.blackouts.map((b) => `${b.at}:${b.seconds}`) } : {}),
      ...(config.churn > 0 ? { churn: config.churn } : {}),
    },
    thresholds: [],
    timeline: [...timeline.entries()].sort(([a], [b]) => a - b).map(([second, figures]) => ({
      t: second,
      warmup: windowStartedAt === 0 || second < windowStartSecond,
      ...figures,
    })),
    histogram: buckets.flatMap((n, k) => (n > 0 ? [[+bucketLowMs(k).toPrecision(4), n] as [number, number]] : [])),
  };
  if (serverStart && serverEnd && serverEnd.at > serverStart.at) {
    summary.server = {
      cpuPercent: ((serverEnd.ctime - serverStart.ctime) / (serverEnd.at - serverStart.at)) * 100,
      rssMb: serverEnd.memory / 1048576,
      pid: config.serverPid!,
    };
  }
  // Before the thresholds, so that one may judge them (problems.length==0).
  summary.problems = runProblems(summary);
  summary.thresholds = config.thresholds.map((t) => {
    const actual = thresholdValue(summary, t.name);
    return { expr: t.expr, ok: checkThreshold(t, actual), actual: actual ?? null };
  });
  const thresholdFailed = summary.thresholds.some((t) => !t.ok);
  // Thresholds, when given, are the judge of the run; without them a run where nothing came back or
  // clients were disconnected is a failure, not a 0.000 % that exits 0.
  const judged = summary.thresholds.length > 0;
  const exitCode = thresholdFailed ? 3 : summary.connected === 0 || failedChild || hardStop || (!judged && summary.problems.length > 0) ? 1 : 0;
  return { summary, exitCode };
}

// ---- the command ------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  let config: LoadConfig | null;
  try {
    config = parseFlags(argv);
  } catch (error) {
    if (error instanceof FlagError) {
      process.stderr.write(`enet-loadtest: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (config === null) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    // First Ctrl+C: end the run now and summarize it; a second one: leave at once.
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('\nenet-loadtest: interrupted, ending the run (Ctrl+C again to quit at once)\n');
    interrupt.abort();
  });
  const { summary, exitCode } = await runLoadtest(config, { signal: interrupt.signal });
  process.stdout.write(`enet-loadtest ${config.host}:${config.port}\n${formatSummary(summary)}\n`);
  if (config.json) writeFileSync(config.json, `${JSON.stringify(summary, null, 2)}\n`);
  if (config.plot) {
    try {
      const { writePlot } = await import('./loadtest-plot.js');
      await writePlot(config.plot, summary);
    } catch (error) {
      process.stderr.write(`enet-loadtest: could not write the plot: ${(error as Error)?.stack ?? error}\n`);
      return exitCode === 0 ? 1 : exitCode;
    }
  }
  for (const t of summary.thresholds) {
    if (!t.ok) process.stderr.write(`enet-loadtest: threshold failed: ${t.expr} (actual ${t.actual ?? 'n/a'})\n`);
  }
  if (summary.connected === 0) {
    const why = Object.keys(summary.connectFailReasons).length > 0 ? `: ${Object.entries(summary.connectFailReasons).map(([r, n]) => `${n} × "${r}"`).join(', ')}` : '';
    process.stderr.write(`enet-loadtest: no client could connect to ${config.host}:${config.port}${why}\n`);
  }
  for (const problem of summary.problems) process.stderr.write(`enet-loadtest: ${problem}\n`);
  return exitCode;
}

const isMain = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`enet-loadtest: ${(error as Error)?.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
