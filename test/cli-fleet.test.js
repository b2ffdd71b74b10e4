// enet-server in a fleet, seen by an operator: enet_cluster_up on /metrics and /ready follow the
// fleet's Redis (1/200 while reachable, 0/503 while not), and a log line says when it is back.
import test from 'ava';
import { startRedis, spawnServer } from './redis-helper.js';

async function until(what, condition, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('enet_cluster_up and /ready follow the fleet\'s Redis; "reachable again" is logged when it comes back', async (t) => {
  const redis = await startRedis(t);
  const server = await spawnServer(t, ['--cluster-redis', redis.url, '--server-id', 'ops-1', '--metrics-port', '0', '--cluster-heartbeat', '100', '--cluster-ttl', '1000']);
  const base = /(http:\/\/[\d.]+:\d+)\/metrics/.exec(server.output())[1];
  const clusterUp = async () => Number(/^enet_cluster_up (\S+)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
  const ready = async () => {
    const response = await fetch(`${base}/ready`);
    return { status: response.status, body: await response.json() };
  };
  await until('enet_cluster_up 1', async () => (await clusterUp()) === 1);
  t.like(await ready(), { status: 200, body: { ready: true, fleet: true } });
  t.regex(server.output(), /fleet ops-1/);

  await redis.stop();
  await until('enet_cluster_up 0', async () => (await clusterUp()) === 0);
  const down = await ready();
  t.is(down.status, 503);
  t.like(down.body, { ready: false, bound: true, fleet: false });
  t.deepEqual(down.body.reasons, ["the fleet's Redis is unreachable"]);
  t.is((await fetch(`${base}/health`)).status, 200, 'alive all along');

  await redis.start();
  await until('the "reachable again" line', () => server.output().includes("enet-server: the fleet's Redis is reachable again: back in the fleet as ops-1"));
  t.is(await clusterUp(), 1);
  t.is((await ready()).status, 200);
});
