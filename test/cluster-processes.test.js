// A fleet of real enet-server processes (dist/cli/server.js --cluster-redis …) on a real
// redis-server: what only processes can show — one SIGKILLed, its presence and identities gone
// from the others' view within the TTL, the rest undisturbed — and the CLI's fleet flags.
import test from 'ava';
import { ENetClient, ENetServerSupervisor, Err } from '../dist/index.js';
import { waitFor } from './helpers.js';
import { eventually, spawnServer, startRedis } from './redis-helper.js';

// Short, so that the expiry is seen within the test; long enough that a loaded machine's late
// heartbeats do not expire the servers that live on.
const HEARTBEAT_MS = 100;
const TTL_MS = 1000;
/** The observer's own polling, on a loaded 2-core machine. */
const OBSERVE_SLACK_MS = 1000;

function fleetArgs(redis, serverId) {
  return ['--cluster-redis', redis.url, '--server-id', serverId, '--cluster-heartbeat', String(HEARTBEAT_MS), '--cluster-ttl', String(TTL_MS)];
}

/** A client of a demo server, named `identity` through the demo's 'identify' event. */
async function identifiedClient(t, port, identity) {
  const client = new ENetClient();
  t.teardown(() => client.disconnectFromServer());
  const connected = waitFor(client, 'connectedToServer');
  t.is(client.connectToServer('127.0.0.1', port), Err.OK);
  await connected;
  const answered = waitFor(client, 'unknownEventReceived', undefined, (name) => name === 'identified');
  client.triggerEvent('identify', { identity });
  const [, payload] = await answered;
  t.is(payload.err, Err.OK);
  return client;
}

test('SIGKILL of one of three servers: its presence and identities are gone from the others within the TTL; the others are undisturbed', async (t) => {
  const redis = await startRedis(t);
  const [one, two, three] = await Promise.all([
    spawnServer(t, fleetArgs(redis, 'one')),
    spawnServer(t, fleetArgs(redis, 'two')),
    spawnServer(t, [...fleetArgs(redis, 'three'), '--advertise', 'play.example.com:9000']),
  ]);
  // An observer in this process, part of the same fleet.
  const observer = new ENetServerSupervisor();
  await observer.createServer(0, 4, 2, { bindAddress: '127.0.0.1', logger: { warn() {}, error() {} }, cluster: { redis: redis.url, serverId: 'observer', heartbeatMs: HEARTBEAT_MS, ttlMs: TTL_MS } });
  t.teardown(() => observer.stopServer());

  const ada = await identifiedClient(t, one.port, 'ada');
  const bob = await identifiedClient(t, two.port, 'bob');
  await identifiedClient(t, two.port, 'bea');
  const servers = await observer.cluster.servers();
  t.deepEqual(servers.map((s) => s.serverId).sort(), ['observer', 'one', 'three', 'two']);
  t.like(servers.find((s) => s.serverId === 'three'), { address: 'play.example.com', port: 9000 });
  t.like(servers.find((s) => s.serverId === 'one'), { address: '127.0.0.1', port: one.port });
  t.deepEqual(await observer.cluster.locate('bob'), { serverId: 'two', peerId: 1 });

  const bobLost = waitFor(bob, 'disconnectedFromServer', 15_000);
  const killedAt = Date.now();
  two.child.kill('SIGKILL');
  await two.exited;
  await eventually(async () => !(await observer.cluster.servers()).some((s) => s.serverId === 'two'), TTL_MS * 4, 'two out of the fleet');
  const presenceGone = Date.now() - killedAt;
  await eventually(async () => (await observer.cluster.locate('bob')) === null && (await observer.cluster.locate('bea')) === null, TTL_MS * 4, "two's identities gone");
  const identitiesGone = Date.now() - killedAt;
  t.log(`presence gone after ${presenceGone} ms, identities after ${identitiesGone} ms (ttl ${TTL_MS} ms)`);
  // A key lives at most ttlMs after its last refresh; the rest is the observer seeing it.
  t.true(presenceGone <= TTL_MS + HEARTBEAT_MS + OBSERVE_SLACK_MS, `${presenceGone} ms`);
  t.true(identitiesGone <= TTL_MS + HEARTBEAT_MS + OBSERVE_SLACK_MS, `${identitiesGone} ms`);
  t.is(await observer.cluster.sendTo('bob', 'anyone?'), Err.ERR_DOES_NOT_EXIST);

  // The rest of the fleet goes on: one and three listed, ada reachable through Redis.
  t.deepEqual((await observer.cluster.servers()).map((s) => s.serverId).sort(), ['observer', 'one', 'three']);
  const got = waitFor(ada, 'packetReceived', undefined, (packet) => packet?.to === 'ada');
  t.is(await observer.cluster.sendTo('ada', { to: 'ada' }), Err.OK);
  await got;
  t.true(ada.isConnectedToServer());
  t.is(one.child.exitCode, null);
  t.is(three.child.exitCode, null);
  bob.disconnectFromServer();
  void bobLost.catch(() => {});
});

test('enet-server: a cluster flag without --cluster-redis, or a bad one, exits 2 naming the flag', async (t) => {
  const redis = await startRedis(t);
  const cases = [
    [['--server-id', 'x'], /--server-id: needs --cluster-redis/],
    [['--cluster-redis', 'nope'], /--cluster-redis: /],
    [['--cluster-redis', redis.url, '--advertise', 'host'], /--advertise: must be HOST:PORT/],
    [['--cluster-redis', redis.url, '--duplicate-login', 'kick-everyone'], /--duplicate-login: /],
    [['--cluster-redis', redis.url, '--cluster-heartbeat', '100', '--cluster-ttl', '150'], /--cluster-ttl: /],
  ];
  for (const [args, message] of cases) {
    const error = await t.throwsAsync(spawnServer(t, args, { ms: 10_000 }));
    t.regex(error.message, /exited \(2\)/, args.join(' '));
    t.regex(error.message, message, args.join(' '));
  }
});
