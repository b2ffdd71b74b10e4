// The movement demo's bots (`npm run demo:movement:client`): BOTS clients (default 4) walk at random
// for DURATION seconds (default 10), then leave. HOST / PORT (default 127.0.0.1:7778) name the server.
import { ENetClient } from 'enet-actor-server';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 7778);
const botCount = Math.max(1, Number(process.env.BOTS ?? 4));
const durationMs = Number(process.env.DURATION ?? 10) * 1000;

const bots = [];
let snapshots = 0; // this second's, all bots together
let total = 0;
let stopping = false;

for (let i = 0; i < botCount; i++) {
  const client = new ENetClient();
  const bot = { n: i + 1, client, id: 0, actor: -1, seq: 0, dx: 0, dy: 0, x: NaN, y: NaN };
  bots.push(bot);
  client.registerEvent('welcome', ({ id, actor, x, y }) => Object.assign(bot, { id, actor, x, y }));
  client.on('packetReceived', (packet) => {
    if (packet?.t !== 'state') return;
    snapshots++;
    total++;
    const me = packet.players.find(([id]) => id === bot.id);
    if (me) [, bot.x, bot.y] = me;
  });
  client.on('connectionFailed', (reason) => {
    if (stopping) return;
    console.error(`bot ${bot.n}: connection failed: ${reason}`);
    process.exitCode = 1;
  });
  const err = client.connectToServer(host, port);
  if (err !== 0) throw new Error(`connectToServer(${host}, ${port}) returned error ${err}`);
}

const randomStep = () => Math.floor(Math.random() * 3) - 1; // -1, 0 or 1

// ~10 Hz: a new random direction now and then, resent in between because inputs are unreliable.
const inputs = setInterval(() => {
  for (const bot of bots) {
    if (!bot.client.isConnectedToServer()) continue;
    if (bot.seq % 10 === 0) [bot.dx, bot.dy] = [randomStep(), randomStep()];
    bot.client.triggerEvent('input', { seq: ++bot.seq, dx: bot.dx, dy: bot.dy }, 0, false);
  }
}, 100);

const report = setInterval(() => {
  const first = bots[0];
  const where = Number.isNaN(first.x) ? 'not placed yet' : `at (${first.x.toFixed(1)}, ${first.y.toFixed(1)}) on actor ${first.actor}`;
  const online = bots.filter((b) => b.client.isConnectedToServer()).length;
  console.log(`bots ${online} | snapshots/s ${snapshots} | bot 1 ${where}`);
  snapshots = 0;
}, 1000);

setTimeout(() => {
  stopping = true;
  clearInterval(inputs);
  clearInterval(report);
  console.log(`done: ${total} snapshots in ${durationMs / 1000} s; leaving`);
  if (total === 0) process.exitCode = 1; // no server, or one without this game: a failed demo
  let left = bots.length;
  const done = () => --left === 0 && process.exit();
  for (const { client } of bots) {
    client.once('disconnectedFromServer', done);
    client.once('connectionFailed', done); // still connecting: the disconnect cancels it
    client.disconnectFromServer('demo done');
  }
  // A server that is gone never confirms the disconnects: leave anyway.
  setTimeout(() => process.exit(), 2000).unref();
}, durationMs);
