// A real Godot 3.2 client (NetworkedMultiplayerENet in a headless `godot3-server` run, script
// test/godot/godot3_client.gd) talks to our server, once per ENet compression mode.
//
// Godot 3's high-level peer puts an 8-byte header in front of every packet it sends — u32 LE source id
// (its unique id, also its ENet connect data), u32 LE target id (1 = the server) — and strips 8 bytes
// from every packet it receives on channels 1..channel_count-1 (channel 0 is its system channel). So the
// server sees header + payload in 'rawPacketReceived' and answers with sendRawPacket(header + payload)
// on channel 1.
//
// A small UDP relay sits between Godot and the server and reads ENet's protocol header of every
// datagram, so the test proves the mode was really used on the wire in both directions (the
// "compressed" bit, 0x4000 of the first big-endian u16, is set only when compression made a datagram
// smaller).
//
// Needs `godot3-server` (Debian: `apt-get install godot3-server`, which `npm run setup` tries; or
// GODOT3_BIN=/path/to/godot3-headless); without it every test is registered as skipped, with the reason.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompressionMode, Err } from '../dist/index.js';
import { COMPRESSION_MODES, ENET_HEADER_FLAG_COMPRESSED, collect, startServer, startUdpRelay, waitFor } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./godot/godot3_client.gd', import.meta.url));
const GODOT = process.env.GODOT3_BIN || 'godot3-server';
const GODOT_TIMEOUT_MS = 5000; // the script's own deadline (it exits 1 after it)
const KILL_AFTER_MS = 15_000; // we SIGKILL the process if it is still running after this
const RELIABLE_CHANNEL = 1; // Godot 3: SYSCH_CONFIG = 0, SYSCH_RELIABLE = 1, SYSCH_UNRELIABLE = 2
const GODOT_CHANNELS = 3; // Godot 3's default channel_count (SYSCH_MAX)

// Same text as big_payload() in godot3_client.gd.
const LINE = 'the quick brown fox jumps over the lazy dog 0123456789; ';
const bigPayload = (who) => `big payload from ${who}: ` + LINE.repeat(40);

/** The environment Godot 3 needs to run non-interactively: a HOME of its own, a locale it knows. */
function godotEnv(home) {
  return {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    LANG: 'en_US.UTF-8', // with LANG=C Godot 3.2 prints "Invalid locale 'C'" errors
    LC_ALL: 'en_US.UTF-8',
    DISPLAY: '',
  };
}

/** The Godot 3 version string, or null with the reason (binary missing, not 3.x). */
function probeGodot() {
  const home = mkdtempSync(join(tmpdir(), 'godot3-probe-'));
  try {
    // `--version` prints e.g. "3.2.3.stable.custom_build" and exits 255.
    const result = spawnSync(GODOT, ['--version'], { env: godotEnv(home), cwd: home, timeout: 10_000, encoding: 'utf8' });
    if (result.error) {
      const why = result.error.code === 'ENOENT' ? 'not found' : `could not be run (${result.error.code ?? result.error.message})`;
      return { version: null, reason: `${GODOT} ${why}` };
    }
    const version = result.stdout.trim().split('\n').pop() ?? '';
    if (!/^3\.\d+/.test(version)) return { version: null, reason: `${GODOT} --version printed '${version}', not Godot 3.x` };
    return { version, reason: null };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * A UDP relay: Godot → relay → server and back. Records, per direction, how many datagrams went
 * through and how many carried ENet's "compressed" header bit.
 */
async function startRelay(t, serverPort) {
  const stats = {
    toServer: { datagrams: 0, compressed: 0, bytes: 0 },
    toClient: { datagrams: 0, compressed: 0, bytes: 0 },
  };
  const count = (side) => (msg) => {
    side.datagrams++;
    side.bytes += msg.length;
    if (msg.length >= 2 && (msg.readUInt16BE(0) & ENET_HEADER_FLAG_COMPRESSED) !== 0) side.compressed++;
  };
  const { port } = await startUdpRelay(t, serverPort, { toServer: count(stats.toServer), toClient: count(stats.toClient) });
  return { port, stats };
}

/** Runs the Godot client to completion (or kills it); resolves with { code, signal, stdout, stderr }. */
function runGodot(t, port, mode) {
  const home = mkdtempSync(join(tmpdir(), 'godot3-client-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  return new Promise((resolve) => {
    // cwd = a scratch dir: without a project, Godot 3 uses the working directory as res:// and
    // user://, and writes logs/ there.
    const child = spawn(
      GODOT,
      ['--script', SCRIPT, '--', '127.0.0.1', String(port), String(mode), String(GODOT_TIMEOUT_MS)],
      { env: godotEnv(home), cwd: home, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, KILL_AFTER_MS);
    const done = (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed });
    };
    child.on('error', (error) => {
      stderr += `\nspawn error: ${error.message}`;
      done(null, null);
    });
    child.on('close', done);
    t.teardown(() => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  });
}

/** Godot 3's high-level header: u32 LE source id, u32 LE target id. */
function godotHeader(source, target) {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(source, 0);
  header.writeUInt32LE(target, 4);
  return header;
}

const godot = probeGodot();

for (const [name, mode] of COMPRESSION_MODES) {
  const title = `Godot 3 NetworkedMultiplayerENet client exchanges raw packets with ${name} (${mode})`;
  if (!godot.version) {
    test.skip(`${title} — skipped: ${godot.reason}; install it with \`apt-get install godot3-server\``, () => {});
    continue;
  }
  test.serial(title, async (t) => {
    const warnings = [];
    const logger = { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
    const server = await startServer(t, {
      channels: GODOT_CHANNELS,
      options: { logger },
      setup: (s) => s.setCompressionMode(mode),
    });
    t.is(server.getCompressionMode(), mode);
    const relay = await startRelay(t, server.getLocalPort());

    const run = runGodot(t, relay.port, mode);
    // Every wait is bounded; when one times out, the failure shows what Godot printed.
    const withGodotOutput = (promise) => {
      const explained = promise.catch(async (error) => {
        const { code, signal, stdout, stderr } = await run;
        throw new Error(`${error.message}\nGodot exited with ${code} (signal ${signal})\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      });
      explained.catch(() => {}); // awaited below; no unhandled rejection when an earlier wait already failed
      return explained;
    };
    const connecting = withGodotOutput(waitFor(server, 'peerConnecting', 10_000));
    const authenticated = withGodotOutput(waitFor(server, 'peerAuthenticated', 10_000));
    const packets = withGodotOutput(collect(server, 'rawPacketReceived', 2, 10_000));
    const left = withGodotOutput(waitFor(server, 'peerDisconnected', 20_000));

    const [peer, connectData] = await connecting;
    await authenticated;
    const [[p1, small, ch1], [p2, big, ch2]] = await packets;
    t.is(p1, peer);
    t.is(p2, peer);
    t.is(ch1, RELIABLE_CHANNEL);
    t.is(ch2, RELIABLE_CHANNEL);

    // The header Godot 3 put in front: its unique id (= its ENet connect data), then target 1.
    const godotId = small.readUInt32LE(0);
    t.is(godotId, connectData, 'header source = the unique id sent as ENet connect data');
    t.true(godotId > 1 && godotId <= 0x7fffffff);
    t.is(small.readUInt32LE(4), 1, 'header target = 1 (the server)');
    t.is(small.subarray(8).toString('utf8'), 'hello from godot');
    t.is(big.readUInt32LE(0), godotId);
    t.is(big.readUInt32LE(4), 1);
    t.is(big.subarray(8).toString('utf8'), bigPayload('godot'));

    // Our answer: source 1 (the server), target = the Godot peer, on Godot's reliable channel.
    const header = godotHeader(1, godotId);
    const replySmall = Buffer.concat([header, Buffer.from(`hello from server ${mode}`)]);
    const replyBig = Buffer.concat([header, Buffer.from(bigPayload('server'))]);
    t.is(peer.sendRawPacket(replySmall, RELIABLE_CHANNEL, true), Err.OK);
    t.is(peer.sendRawPacket(replyBig, RELIABLE_CHANNEL, true), Err.OK);

    const { code, signal, stdout, stderr, killed } = await run;
    t.log(stdout.trim().split('\n').filter((l) => /^(CONFIG|CONNECTED|RECV|DONE)/.test(l)).join('\n'));
    t.false(killed, `Godot did not exit within ${KILL_AFTER_MS} ms:\n${stdout}\n${stderr}`);
    t.is(code, 0, `Godot exited with ${code} (signal ${signal}):\n${stdout}\n${stderr}`);
    t.false(/SCRIPT ERROR|Parse Error/.test(stderr), stderr);
    t.true(stdout.includes(`CONFIG compression_mode=${mode} `), stdout);
    t.true(stdout.includes(`CONNECTED id=${godotId}`), stdout);
    t.true(stdout.includes(`RECV hello from server ${mode} from=1 channel=${RELIABLE_CHANNEL}`), stdout);
    t.true(stdout.includes(`RECV_BIG ${bigPayload('server').length} ok from=1 channel=${RELIABLE_CHANNEL}`), stdout);
    t.true(stdout.includes('DONE'), stdout);

    // Godot closed the connection on its own.
    t.deepEqual(await left, [peer, 'Connection lost']);

    // The mode was really used on the wire, both ways (the 2 KB payloads compress well).
    t.log(`datagrams to server ${JSON.stringify(relay.stats.toServer)}, to Godot ${JSON.stringify(relay.stats.toClient)}`);
    if (mode === CompressionMode.COMPRESS_NONE) {
      t.is(relay.stats.toServer.compressed, 0);
      t.is(relay.stats.toClient.compressed, 0);
    } else {
      t.true(relay.stats.toServer.compressed > 0, 'Godot sent compressed datagrams');
      t.true(relay.stats.toClient.compressed > 0, 'the server sent compressed datagrams');
    }
    if (warnings.length) t.log(`server logger: ${warnings.join(' | ')}`);
  });
}
