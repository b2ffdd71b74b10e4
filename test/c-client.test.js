// A client written in C against the system libenet (test/c/string_client.c) talks to our server.
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CompressionMode } from '../dist/index.js';
import { startServer, waitFor } from './helpers.js';

const binary = fileURLToPath(new URL('./c/bin/string_client', import.meta.url));

function runClient(port, message, { flags = [], timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    execFile(binary, [...flags, '127.0.0.1', String(port), message, String(timeoutMs)], { timeout: 10_000 }, (error, stdout, stderr) => {
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

test('the C client with ENet\'s range coder talks to a COMPRESS_RANGE_CODER server, compressed on the wire', async (t) => {
  const server = await startServer(t, { setup: (s) => s.setCompressionMode(CompressionMode.COMPRESS_RANGE_CODER) });
  const message = 'range coded from C; '.repeat(100); // 2000 bytes, very compressible
  const received = waitFor(server, 'packetReceived');
  const left = waitFor(server, 'peerDisconnected', 15_000);
  server.on('packetReceived', (peer, packet) => server.sendPacket(peer.peerId, `echo: ${packet}`));
  const run = runClient(server.getLocalPort(), message, { flags: ['--range-coder'] });
  const [peer, packet] = await received;
  t.is(packet, message);
  const { code, stdout, stderr } = await run;
  t.is(code, 0, stderr);
  t.true(stdout.includes(`RECV echo: ${message}\n`), stdout);
  t.deepEqual(await left, [peer, 'Connection lost']);
  // The whole conversation (handshake, the STRING both ways, acks, disconnect) took fewer UDP bytes
  // than the message alone, in each direction: the range coder really ran on both ends.
  const { wireBytesIn, wireBytesOut, bytesIn } = server.getMetrics();
  t.true(bytesIn > message.length);
  t.log(`a ${message.length}-byte message each way: ${wireBytesIn} wire bytes in, ${wireBytesOut} out`);
  t.true(wireBytesIn < message.length / 2, `wireBytesIn ${wireBytesIn}`);
  t.true(wireBytesOut < message.length / 2, `wireBytesOut ${wireBytesOut}`);
});

test('no negotiation: a C client without compression never completes its connection to a COMPRESS_RANGE_CODER server', async (t) => {
  const server = await startServer(t, { setup: (s) => s.setCompressionMode(CompressionMode.COMPRESS_RANGE_CODER) });
  let connecting = 0;
  server.on('peerConnecting', () => connecting++);
  // The server's handshake reply is range-coded; a client without the range coder drops it.
  const { code, stderr } = await runClient(server.getLocalPort(), 'hello', { timeoutMs: 1500 });
  t.is(code, 2, stderr);
  t.regex(stderr, /connect timeout/);
  t.is(connecting, 0);
});
