// Child of bench/cluster.mjs: subscribed to one channel of --redis, it reports over IPC when each
// message arrived (performance.timeOrigin + performance.now(), the parent's clock too): Redis pub/sub
// from one process to another alone, the floor under a cross-server sendTo.
import { Redis } from 'ioredis';

const url = process.argv[process.argv.indexOf('--redis') + 1];
const subscriber = new Redis(url, { lazyConnect: true });
await subscriber.connect();
await subscriber.subscribe('bench:floor');
subscriber.on('messageBuffer', () => process.send({ at: performance.timeOrigin + performance.now() }));
process.send({ ready: true });
process.on('message', (message) => {
  if (message === 'stop') subscriber.quit().finally(() => process.exit(0));
});
