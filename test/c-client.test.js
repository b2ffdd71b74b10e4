// A client written in C against the system libenet (test/c/string_client.c) talks to our server.
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, waitFor } from './helpers.js';

const binary = fileURLToPath(new URL('./c/bin/string_client', import.meta.url));

function runClient(port, message) {
  return new Promise((resolve) => {
    execFile(binary, ['127.0.0.1', String(port), message, '5000'], { timeout: 10_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

test('the C client connects, sends a STRING packet, and gets the server reply as STRING', async (t) => {
  const server = await startServer(t);
  const received = waitFor(server, 'packetReceived');
  const left = waitFor(server, 'peerDisconnected', 15_000);
  server.on('packetReceived', (peer, packet) => server.sendPacket(peer.peerId, `echo: ${packet}`));
  const run = runClient(server.getLocalPort(), 'hello from C ✓');
  const [peer, packet, channel] = await received;
  t.is(packet, 'hello from C ✓');
  t.is(channel, 0);
  t.is(peer.getRemoteAddress(), '127.0.0.1');
  const { code, stdout, stderr } = await run;
  t.is(code, 0, stderr);
  t.true(stdout.includes('CONNECTED'));
  t.true(stdout.includes('RECV echo: hello from C ✓'), stdout);
  t.deepEqual(await left, [peer, 'Connection lost']);
});
