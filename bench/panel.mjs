#!/usr/bin/env node
// The operator panel's cost (docs/panel.md "Cost"): a server in a child process (its CPU read from
// /proc), real ENetClients in this one on several client networks, headless Chromium for the page.
//   node bench/panel.mjs [peers=1000] [bigPeers=5000]
// Prints: the page's first load time with `peers` connected; the server's process CPU over 10 s with
// the panel off, on without a tab, with one tab, and with 10 streams on distinct pages (→ CPU per SSE
// update); then, with `bigPeers` connected, /api/state's response time (sorted, filtered, paged) and
// how long the page takes to re-sort them.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const TOKEN = 'bench-token';
const WINDOW_MS = 10_000;

/** utime + stime of a process, in ms (/proc/<pid>/stat; clock ticks of 10 ms). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function cpuOver(pid, ms) {
  const start = cpuMs(pid);
  const at = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((cpuMs(pid) - start) / (performance.now() - at)) * 100;
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function connectMany(ENetClient, networks, port, count, clients) {
  let connected = 0;
  const batch = 100;
  for (let i = 0; i < count; i += batch) {
    const wave = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const client = new ENetClient({ network: networks[j % networks.length] });
      clients.push(client);
      wave.push(new Promise((resolve) => {
        client.once('connectedToServer', () => {
          connected++;
          resolve();
        });
        client.once('connectionFailed', resolve);
      }));
      client.connectToServer('127.0.0.1', port);
    }
    await Promise.all(wave);
  }
  return connected;
}

async function main() {
  const peers = Number(process.argv[2] ?? 1000);
  const bigPeers = Number(process.argv[3] ?? 5000);
  const { ENetClient, createClientNetwork } = await import('../dist/index.js');
  const puppeteer = (await import(pathToFileURL(createRequire(import.meta.url).resolve('puppeteer-core')).href)).default;

  const child = fork(new URL(import.meta.url).pathname, ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await next();
  const networks = [createClientNetwork(), createClientNetwork()];
  const clients = [];
  let t0 = performance.now();
  const n = await connectMany(ENetClient, networks, port, peers, clients);
  console.log(`${n} clients connected in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${networks.length} client networks`);
  // Light traffic: every client sends a small unreliable packet twice a second.
  const traffic = setInterval(() => {
    for (const client of clients) if (client.isConnectedToServer()) client.sendPacket({ x: 1, y: 2 }, 0, false);
  }, 500);
  await new Promise((resolve) => setTimeout(resolve, 3000));

  const results = {};
  results.off = await cpuOver(child.pid, WINDOW_MS);
  child.send('admin');
  const { admin } = await next();
  const base = `http://127.0.0.1:${admin}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const cost = async () => (await (await fetch(`${base}/api/state?limit=1`, { headers: auth })).json()).cost;
  /** Process CPU over WINDOW_MS, and what the panel counted of its own main-thread time meanwhile. */
  const measure = async () => {
    const before = await cost();
    const cpu = await cpuOver(child.pid, WINDOW_MS);
    const after = await cost();
    const d = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
    return { cpu, sampleMsEach: d.sampleMs / Math.max(1, d.samples), fanoutMsEach: d.fanoutMs / Math.max(1, d.fanouts), updates: d.updates, msPerUpdate: d.updates ? d.fanoutMs / d.updates : 0 };
  };
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const noTab = [await measure()];

  const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] });
  const login = await browser.newPage();
  await login.goto(`${base}/login`);
  await login.type('input[name="token"]', TOKEN);
  await Promise.all([login.waitForNavigation(), login.click('button[type="submit"]')]);
  await login.close();
  const loads = [];
  const oneTab = [];
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const at = performance.now();
    await page.goto(`${base}/`, { waitUntil: 'load' });
    const loaded = performance.now() - at;
    await page.waitForFunction(() => document.querySelectorAll('#peers tbody tr').length >= 100 && document.querySelectorAll('.uplot canvas').length === 4);
    loads.push({ load: loaded, rows: performance.now() - at });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Interleaved with and without the tab: the machine's other load shifts both alike.
    if (i < 2) {
      oneTab.push(await measure());
      await page.close();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      noTab.push(await measure());
    } else await page.close();
  }
  results.firstLoad = { loadEventMs: Math.round(median(loads.map((l) => l.load))), rowsAndChartsMs: Math.round(median(loads.map((l) => l.rows))), runs: loads.map((l) => Math.round(l.rows)) };
  results.noTab = noTab;
  results.oneTab = oneTab;

  // 10 streams on distinct pages (none shares its JSON with another).
  const controllers = [];
  let bytes = 0;
  let events = 0;
  for (let i = 0; i < 10; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    const response = await fetch(`${base}/api/events?sort=rtt&dir=desc&limit=100&offset=${i * 100}&history=0`, { headers: auth, signal: controller.signal });
    (async () => {
      try {
        for await (const chunk of response.body) {
          bytes += chunk.length;
          events += (Buffer.from(chunk).toString().match(/event: update/g) ?? []).length;
        }
      } catch {
        // aborted
      }
    })();
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  bytes = 0;
  events = 0;
  results.tenStreams = await measure();
  results.tenStreams.bytesPerUpdate = Math.round(bytes / Math.max(1, events));
  for (const controller of controllers) controller.abort();

  const api = async (query, runs = 20) => {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const at = performance.now();
      const response = await fetch(`${base}/api/state?${query}`, { headers: auth });
      await response.arrayBuffer();
      times.push(performance.now() - at);
    }
    return Math.round(median(times) * 10) / 10;
  };
  results.apiAtPeers = { 'limit=100&sort=rtt&dir=desc': await api('limit=100&sort=rtt&dir=desc') };

  // 5,000 peers.
  if (bigPeers > peers) {
    networks.push(createClientNetwork(), createClientNetwork());
    t0 = performance.now();
    const more = await connectMany(ENetClient, networks, port, bigPeers - peers, clients);
    console.log(`+${more} clients in ${((performance.now() - t0) / 1000).toFixed(1)} s (${networks.length} client networks)`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const state = await (await fetch(`${base}/api/state?limit=1`, { headers: auth })).json();
    results.big = {
      peers: state.peers.all,
      'limit=100&sort=id': await api('limit=100&sort=id'),
      'limit=100&sort=rtt&dir=desc': await api('limit=100&sort=rtt&dir=desc'),
      'limit=500&sort=address': await api('limit=500&sort=address'),
      'limit=100&filter=rtt>=0 state=authenticated&offset=4000': await api(`limit=100&offset=4000&filter=${encodeURIComponent('rtt>=0 state=authenticated')}`),
    };
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    t0 = performance.now();
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.querySelectorAll('#peers tbody tr').length >= 100 && document.querySelectorAll('.uplot canvas').length === 4);
    results.big.firstLoadMs = Math.round(performance.now() - t0);
    const firstId = await page.$eval('#peers tbody tr', (tr) => tr.dataset.peerId);
    t0 = performance.now();
    await page.click('#peers th[data-sort="address"]');
    await page.waitForFunction((id) => document.querySelector('#peers tbody tr')?.dataset.peerId !== id, {}, firstId);
    results.big.resortMs = Math.round(performance.now() - t0);
    await page.select('#limit', '500');
    t0 = performance.now();
    await page.waitForFunction(() => document.querySelectorAll('#peers tbody tr').length === 500);
    results.big.show500RowsMs = Math.round(performance.now() - t0);
    results.big.oneTab = await measure();
    await page.close();
    results.big.noTab = await measure();
  }

  clearInterval(traffic);
  await browser.close();
  child.send('stop');
  for (const client of clients) client.disconnectFromServer();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  console.log(JSON.stringify(results, (k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v), 2));
  process.exit(0);
}

if (process.argv[2] === '--server') {
  const { ENetServerSupervisor } = await import('../dist/index.js');
  const server = new ENetServerSupervisor();
  await server.createServer(0, 6000, 2, { bindAddress: '127.0.0.1' });
  let admin;
  process.on('message', async (message) => {
    if (message === 'admin') {
      admin = await server.startAdmin({ port: 0, token: TOKEN });
      process.send({ admin: admin.port });
    } else if (message === 'stop') {
      await admin?.close();
      await server.stopServer();
      process.exit(0);
    }
  });
  process.send({ port: server.getLocalPort() });
} else {
  await main();
}
