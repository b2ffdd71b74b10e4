#!/usr/bin/env node
// Soak: a long enet-loadtest run with churn, NAT re-mappings and a lossy link together, the RSS of the
// server and of every load-tester process sampled all along. Not in CI (30 minutes by default).
//
//   node bench/soak.mjs [--minutes 30] [--clients 200] [--rate 10] [--churn 5] [--link loss=2%,delay=30ms,jitter=10ms]
//                       [--rebind-every 60] [--rebind-fraction 0.25] [--processes 1] [--sample-s 10]
//                       [--out bench/results/soak.json] [--plot FILE.svg]
//
// It starts a fresh enet-server (the demo echo), then runs
//   enet-loadtest --port P --clients 200 --rate 10 --warmup 10 --duration <minutes*60> --churn 5
//     --link loss=2%,delay=30ms,jitter=10ms --rebind-at 60 --rebind-at 120 … --rebind-fraction 0.25
//     --server-pid <server> --json …
// (its summary at the end, as always) and every --sample-s seconds reads VmRSS from /proc of the
// server, the load tester and each of its bot processes. What to look at: the RSS table (start = the
// first sample of the measured window, middle, end): after the warmup both sides stay flat — the
// server keeps no trace of the thousands of sessions that came and went, the bots none of the
// connections they closed or re-opened; then, in the load tester's summary, delivery 100 %, `lost 0`,
// `disconnected 0`, `resumed` = `interrupted` (each re-mapping interrupts the re-mapped clients and
// every one resumes), `duplicates 0`, churn `failed 0`. Exit status: the load tester's (0 = clean).
import { headerComment } from './lib/proc.mjs';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const SERVER = join(root, 'dist', 'cli', 'server.js');
const LOADTEST = join(root, 'dist', 'cli', 'loadtest.js');

const opts = {
  minutes: 30, clients: 200, rate: 10, churn: 5, link: 'loss=2%,delay=30ms,jitter=10ms', rebindEvery: 60, rebindFraction: 0.25,
  processes: 1, sampleS: 10, warmup: 10, out: join(here, 'results', 'soak.json'), plot: null,
};
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--help') {
      process.stdout.write(headerComment(import.meta.url));
      process.exit(0);
    }
    const name = a[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(name in opts) || i + 1 >= a.length) {
      process.stderr.write(`bench/soak: unknown or incomplete flag ${a[i]} (--help)\n`);
      process.exit(2);
    }
    const v = a[++i];
    if (name === 'out' || name === 'plot') opts[name] = resolve(v);
    else if (name === 'link') opts.link = v;
    else if (!(Number(v) >= 0)) {
      process.stderr.write(`bench/soak: ${a[i - 1]} needs a number\n`);
      process.exit(2);
    } else opts[name] = Number(v);
  }
}

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
const log = (line) => process.stderr.write(`${line}\n`);
const fmt = (n, d = 1) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '-');

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch { return null; }
}
function childPids(pid) {
  const out = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch { /* gone */ }
  return out;
}

async function main() {
  if (!existsSync(SERVER) || !existsSync(LOADTEST)) throw new Error('build first: npm run build');
  const duration = Math.round(opts.minutes * 60);
  const server = spawn(process.execPath, [SERVER, '--port', '0', '--bind', '127.0.0.1', '--max-peers', String(opts.clients * 2 + 64)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(server);
  const port = await new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`enet-server did not start: ${out}`)), 15_000);
    server.once('exit', (code) => rej(new Error(`enet-server exited (${code}): ${out}`)));
    server.stdout.setEncoding('utf8').on('data', function onData(chunk) {
      out += chunk;
      const m = /enet-server listening on [\d.]+:(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      server.stdout.off('data', onData).resume(); // the demo logs every join and leave: not kept
      res(Number(m[1]));
    });
  });
  const rebinds = [];
  for (let at = opts.rebindEvery; opts.rebindEvery > 0 && at < duration; at += opts.rebindEvery) rebinds.push('--rebind-at', String(at));
  const json = opts.out.replace(/\.json$/, '') + '.loadtest.json';
  mkdirSync(dirname(opts.out), { recursive: true });
  const args = ['--port', String(port), '--clients', String(opts.clients), '--rate', String(opts.rate), '--warmup', String(opts.warmup),
    '--duration', String(duration), '--churn', String(opts.churn), '--link', opts.link, ...rebinds,
    ...(rebinds.length ? ['--rebind-fraction', String(opts.rebindFraction)] : []), '--processes', String(opts.processes),
    '--server-pid', String(server.pid), '--json', json, ...(opts.plot ? ['--plot', opts.plot] : [])];
  log(`enet-loadtest ${args.join(' ')}`);
  const started = performance.now();
  const loadtest = spawn(process.execPath, [LOADTEST, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  children.add(loadtest);
  const samples = [];
  const sample = () => {
    const bots = childPids(loadtest.pid).map((pid) => ({ pid, rssMb: rssMb(pid) })).filter((b) => b.rssMb !== null);
    const s = { t: Math.round((performance.now() - started) / 1000), serverMb: rssMb(server.pid), loadtestMb: rssMb(loadtest.pid), botsMb: bots.map((b) => b.rssMb) };
    samples.push(s);
    if (process.stderr.isTTY || samples.length % 6 === 0) {
      log(`soak t=${s.t}s  server rss ${fmt(s.serverMb)} MB  load tester ${fmt(s.loadtestMb)} MB  bots ${s.botsMb.map((m) => fmt(m)).join(' / ')} MB`);
    }
  };
  const timer = setInterval(sample, opts.sampleS * 1000);
  const code = await new Promise((res) => loadtest.once('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));
  clearInterval(timer);
  children.delete(loadtest);
  server.kill('SIGTERM');

  // start: the first sample of the measured window (the warmup and the connects are over), middle, end.
  const inWindow = samples.filter((s) => s.t >= opts.warmup + 5 && s.botsMb.length > 0);
  const pick = (f) => inWindow[Math.min(inWindow.length - 1, Math.floor(f * (inWindow.length - 1)))];
  const points = inWindow.length ? { start: pick(0), middle: pick(0.5), end: pick(1) } : {};
  const summary = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : null;
  writeFileSync(opts.out, `${JSON.stringify({ date: new Date().toISOString(), options: opts, args, exitCode: code, points, samples, summary: summary && { ...summary, timeline: undefined, load: undefined, histogram: undefined } }, null, 2)}\n`);
  const row = (name, get) => `  ${name.padEnd(16)}${['start', 'middle', 'end'].map((k) => (points[k] ? `${fmt(get(points[k]))} MB (t=${points[k].t} s)` : '-').padStart(22)).join('')}` +
    `${points.start ? `   end - start ${fmt(get(points.end) - get(points.start))} MB` : ''}\n`;
  process.stdout.write(`\nsoak RSS (${opts.minutes} min, ${opts.clients} clients, churn ${opts.churn}/s, ${opts.link}, ${rebinds.length / 2} re-mappings of ${opts.rebindFraction * 100}%):\n` +
    row('server', (p) => p.serverMb) + row('load tester', (p) => p.loadtestMb) +
    (points.start?.botsMb ?? []).map((_, i) => row(`bots ${i + 1}`, (p) => p.botsMb[i])).join(''));
  if (summary) {
    process.stdout.write(`  churn: ${summary.churn?.left ?? 0} left, ${summary.churn?.joined ?? 0} joined, ${summary.churn?.failed ?? 0} failed; ` +
      `interrupted ${summary.interrupted}, resumed ${summary.resumed}, disconnected ${summary.disconnected}, lost ${summary.lost}, duplicates ${summary.duplicates}\n`);
  }
  log(`samples in ${opts.out.replace(root + '/', '')}, the load tester's summary in ${json.replace(root + '/', '')}`);
  return code;
}

main().then((code) => process.exit(code), (error) => {
  log(`bench/soak: ${error.stack ?? error}`);
  process.exit(1);
});
