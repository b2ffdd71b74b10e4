// The operator panel in a real browser: headless Chromium (Debian's, /usr/bin/chromium, or
// CHROMIUM_PATH) driven by puppeteer-core. Logs in by the form, then: rows appear and disappear live
// as real ENet clients connect and leave, the kick button's in-page form kicks with the typed reason,
// and the page logs no console error. Takes a screenshot: to docs/panel.png (the README shows it) with
// ENET_UPDATE_SCREENSHOT=1, else to the temporary directory (a test run leaves the checkout as it was).
// Where Chromium or puppeteer-core is missing this test FAILS (scripts/setup.sh installs Chromium).
import test from 'ava';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENetClient } from '../dist/index.js';
import { connectClient, startServer, waitFor } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.ENET_UPDATE_SCREENSHOT
  ? fileURLToPath(new URL('../docs/panel.png', import.meta.url))
  : join(tmpdir(), `enet-panel-${process.pid}.png`);
const TOKEN = 'browser-test-token';

/** puppeteer-core from node_modules (or NODE_PATH, which createRequire's resolution honours). */
async function loadPuppeteer() {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('puppeteer-core');
  const module = await import(pathToFileURL(entry).href);
  return module.default ?? module;
}

test('the panel in headless Chromium: live rows, kick with a typed reason, no console errors; screenshot to docs/panel.png', async (t) => {
  t.timeout(90_000);
  if (!existsSync(CHROMIUM)) t.fail(`Chromium is not installed at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM_PATH`);
  let puppeteer;
  try {
    puppeteer = await loadPuppeteer();
  } catch (error) {
    t.fail(`puppeteer-core cannot be loaded (npm install; a devDependency): ${error.message}`);
    return;
  }
  if (!existsSync(CHROMIUM)) return;

  const server = await startServer(t, { maxPeers: 128 });
  server.on('packetReceived', (peer, packet) => peer.sendPacket(packet, 0, false));
  const admin = await server.startAdmin({ port: 0, token: TOKEN });
  t.teardown(() => admin.close());
  const base = `http://127.0.0.1:${admin.port}`;

  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--headless=new', '--disable-gpu'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // The EventSource is aborted by design when the page's query changes or the page closes.
    if (!request.url().includes('/api/events')) problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });

  // Log in by the form.
  await page.goto(`${base}/login`);
  await page.type('input[name="token"]', TOKEN);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  t.is(new URL(page.url()).pathname, '/');

  // Rows appear live.
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push(await connectClient(t, server));
  for (const { peer } of clients) await page.waitForSelector(`tr[data-peer-id="${peer.peerId}"]`, { timeout: 5000 });
  t.pass('rows appeared');

  // …and disappear live.
  const leaving = clients[0];
  const left = waitFor(server, 'peerDisconnected');
  leaving.client.disconnectFromServer();
  await left;
  await page.waitForSelector(`tr[data-peer-id="${leaving.peer.peerId}"]`, { hidden: true, timeout: 5000 });
  t.pass('a row disappeared');

  // Kick: the row's button, the in-page form's reason, Enter.
  const target = clients[1];
  const kicked = waitFor(target.client, 'disconnectedFromServer');
  await page.click(`tr[data-peer-id="${target.peer.peerId}"] [data-action="kick"]`);
  await page.waitForSelector('input[name="reason"]', { visible: true });
  await page.type('input[name="reason"]', 'Kicked from the panel: be nice');
  await page.keyboard.press('Enter');
  const [reason] = await kicked;
  t.is(reason, 'Kicked from the panel: be nice');
  await page.waitForSelector(`tr[data-peer-id="${target.peer.peerId}"]`, { hidden: true, timeout: 5000 });

  // A fuller page for the screenshot: more players sending, a few seconds of charts.
  const crowd = [];
  for (let i = 0; i < 40; i++) {
    const client = new ENetClient();
    crowd.push(client);
    t.teardown(() => client.disconnectFromServer());
    client.connectToServer('127.0.0.1', server.getLocalPort());
  }
  const traffic = setInterval(() => {
    for (const client of crowd) if (client.isConnectedToServer()) client.sendPacket({ x: Math.random(), y: Math.random() }, 0, false);
  }, 50);
  t.teardown(() => clearInterval(traffic));
  await page.waitForFunction(() => document.querySelectorAll('#peers tbody tr').length >= 40, { timeout: 15_000 });
  await new Promise((resolve) => setTimeout(resolve, 8000));
  const chartsDrawn = await page.evaluate(() => document.querySelectorAll('.uplot canvas').length);
  t.is(chartsDrawn, 4, 'four uPlot charts');
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  clearInterval(traffic);

  t.deepEqual(problems, [], problems.join('\n'));
});
