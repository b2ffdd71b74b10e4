// Child of bench/cluster.mjs: --count ENetClients on 127.0.0.1:--port, in their own process so that
// receiving 500 packets at once is not one thread's queue for 1,500 clients. For every packet
// { round } it reports to the parent, over IPC, when the last of its clients got that round
// (performance.timeOrigin + performance.now(): one clock for every process of the machine).
import { connectClients } from './lib/clients.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((arg, i, all) => (arg.startsWith('--') ? [arg.slice(2), all[i + 1]] : null)).filter(Boolean));
const port = Number(args.port);
const count = Number(args.count);
const now = () => performance.timeOrigin + performance.now();

const seen = new Map();
const clients = await connectClients(port, count);
for (const client of clients) {
  client.on('packetReceived', (packet) => {
    if (typeof packet?.round !== 'number') return;
    const got = (seen.get(packet.round) ?? 0) + 1;
    seen.set(packet.round, got);
    if (got === count) {
      seen.delete(packet.round);
      process.send({ round: packet.round, last: now() });
    }
  });
}
process.send({ ready: true });
process.on('message', (message) => {
  if (message === 'stop') {
    for (const client of clients) client.disconnectFromServer();
    setTimeout(() => process.exit(0), 200);
  }
});
process.on('disconnect', () => process.exit(0));
