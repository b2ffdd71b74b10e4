// A demo client (`npm run demo:client`) for the demo server (`npm start`): says hello in the chat,
// sends an echo, pings with an event, prints what comes back, and leaves. ENET_HOST / ENET_PORT
// configure it; ENET_LOGIN='{"name":"ann"}' sends a login dictionary first (for --auth prelogin/custom),
// ENET_COMPRESSION the compression mode (it must match the server's).
// Every call's result is checked and the whole run is bounded (ENET_DEMO_TIMEOUT_MS, default 10 s):
// it exits 0 only when the echo and the pong came back, else 1 with the reason.
import { ENetClient, Err } from '../dist/index.js';

const COMPRESSIONS = ['none', 'range-coder', 'fastlz', 'zlib', 'zstd'];

const host = process.env.ENET_HOST ?? '127.0.0.1';
const portText = process.env.ENET_PORT ?? '7777';
const port = Number(portText);
const timeoutMs = Number(process.env.ENET_DEMO_TIMEOUT_MS ?? 10_000);

function fail(reason) {
  console.error(`demo-client: ${reason}`);
  process.exit(1);
}

if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`ENET_PORT must be a port 1–65535, got '${portText}'`);
let login;
if (process.env.ENET_LOGIN) {
  try {
    login = JSON.parse(process.env.ENET_LOGIN);
  } catch (error) {
    fail(`ENET_LOGIN is not JSON: ${error.message}`);
  }
}

const client = new ENetClient({ connectTimeoutMs: Math.min(timeoutMs, 5000) });
const compression = process.env.ENET_COMPRESSION;
if (compression !== undefined) {
  const mode = COMPRESSIONS.includes(compression) ? COMPRESSIONS.indexOf(compression) : Number(compression);
  if (!Number.isInteger(mode) || mode < 0 || mode > 4) fail(`ENET_COMPRESSION must be one of ${COMPRESSIONS.join(', ')} or 0–4, got '${compression}'`);
  client.setCompressionMode(mode);
}

const check = (what, err) => {
  if (err !== Err.OK) fail(`${what} returned ${Err[err] ?? err}`);
};

const timer = setTimeout(() => {
  fail(`no answer within ${timeoutMs} ms from ${host}:${port}` +
    (login ? '' : ' (if the server runs with --auth prelogin/custom, set ENET_LOGIN to a login dictionary)'));
}, timeoutMs);

let echoed = false;
let ponged = false;
let done = false;
const finish = () => {
  if (!echoed || !ponged || done) return;
  done = true;
  client.disconnectFromServer('demo done');
};

client.on('connectedToServer', () => {
  console.log(`connected to ${host}:${port}`);
  if (login) check('sending the login', client.sendPacket(login));
  // With a login, wait for the server's first word (the demo's welcome): it approved us.
  if (!login) start();
});
let started = false;
function start() {
  if (started) return;
  started = true;
  check('sendPacket (chat)', client.sendPacket({ type: 'chat', msg: 'hello everyone' }));
  check('sendPacket (echo)', client.sendPacket('echo me'));
  check("triggerEvent('ping')", client.triggerEvent('ping', { sentAt: Date.now() }));
}
client.on('packetReceived', (packet, channel) => {
  console.log(`packet on channel ${channel}:`, packet);
  if (packet?.type === 'welcome') start();
  if (packet === 'echo me') {
    echoed = true;
    finish();
  }
});
client.registerEvent('pong', (payload) => {
  console.log(`pong after ${Date.now() - payload.sentAt} ms`, payload);
  ponged = true;
  finish();
});
client.on('connectionFailed', (reason) => fail(`connection failed: ${reason}`));
client.on('disconnectedFromServer', (reason) => {
  if (!done) fail(`disconnected by the server: ${reason || 'no reason given'}`);
  console.log(`disconnected: ${reason || 'bye'}`);
  clearTimeout(timer);
  process.exit(0);
});

check(`connectToServer('${host}', ${port})`, client.connectToServer(host, port));
