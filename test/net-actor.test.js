// The server's main thread services its socket while its event loop is idle; the net actor keeps
// ENet's timers and carries the traffic whenever the main thread is busy.
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, collect, waitFor, until } from './helpers.js';

const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs a fixture script; resolves with { code, stdout, stderr } once it exits (killed after `ms`). */
function runFixture(t, name, args, { ms = 20_000 } = {}) {
  const child = spawn(process.execPath, [fixture(name), ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  t.teardown(() => child.kill('SIGKILL'));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('while the main thread is blocked the net actor receives: counters keep rising during the block, and every packet arrives once, in order, afterwards', async (t) => {
  const COUNT = 100;
  const server = await startServer(t);
  const joined = waitFor(server, 'peerAuthenticated');
  const exited = runFixture(t, 'burst-client.mjs', [server.getLocalPort(), COUNT, 3]);
  const [peer] = await joined;
  const inbound = collect(server, 'packetReceived', COUNT);
  const sentBefore = server.getMetrics().packetsOut;
  const receivedBefore = server.getMetrics().packetsIn;
  server.sendPacket(peer.peerId, 'go');
  await until(() => server.getMetrics().packetsOut > sentBefore, 5000, "'go' on the wire");

  // Block the event loop (as a long game tick would) until the net actor has received them all.
  // It notices the busy thread within pollRate (10 ms) and from then on watches the socket itself:
  // the packets, 3 ms apart over ~300 ms, are received as they come, in many steps.
  const deadline = Date.now() + 10_000;
  let received = 0;
  let steps = 0;
  while (Date.now() < deadline && received < COUNT) {
    const now = server.getMetrics().packetsIn - receivedBefore;
    if (now !== received) steps++;
    received = now;
  }
  t.is(received, COUNT, 'the net actor received every packet while the main thread was busy');
  t.log(`received in ${steps} steps`);
  t.true(steps >= 10, `received in ${steps} steps`);

  const packets = (await inbound).map(([from, packet]) => (t.is(from, peer), packet.i));
  t.deepEqual(packets, [...Array(COUNT).keys()]);
  server.sendPacket(peer.peerId, 'bye');
  const { code, stderr } = await exited;
  t.is(code, 0, stderr);
});

test('stopping the server leaves nothing behind: a process that started and stopped it twice exits by itself', async (t) => {
  const { code, signal, stdout, stderr } = await runFixture(t, 'start-stop.mjs', [], { ms: 15_000 });
  t.is(stdout, 'done\n', stderr);
  t.is(signal, null, 'it had to be killed: something kept it alive');
  t.is(code, 0, stderr);
});
