// A game-logic module that cannot work fails createServer() at once (src/game-actor/define.ts
// checkGameLogicModule, run first in every game actor), naming the module, the reason and, for load
// and syntax errors, file:line; enet-server then exits 1 with that line. Unknown createServer()
// options are refused by name.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENetServerSupervisor, InvalidOptionError } from '../dist/index.js';
import { GAME_LOGIC_HANDLERS } from '../dist/game-actor/define.js';

const bad = (name) => fileURLToPath(new URL(`./fixtures/game/bad/${name}`, import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));

const CASES = [
  ['no-default.mjs', /has no default export .*it exports onPacket/],
  ['not-defined.mjs', /default export is an object not made by defineGameLogic/],
  ['typo.mjs', /unknown name 'onPackets' in defineGameLogic/],
  ['start-throws.mjs', /onStart threw Error: no database at .*start-throws\.mjs:6/],
  ['syntax.mjs', /has a syntax error: Unexpected end of input at .*syntax\.mjs:\d+/],
  ['at-tick-not-boolean.mjs', /deliverAtTick must be true or false, got yes/],
  ['throws-at-load.mjs', /failed to load: TypeError: Cannot read properties of undefined .* at .*throws-at-load\.mjs:3/],
];

for (const [file, expected] of CASES) {
  test(`createServer rejects a game-logic module that cannot work: ${file}`, async (t) => {
    const server = new ENetServerSupervisor();
    t.teardown(() => server.stopServer());
    const error = await t.throwsAsync(server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', gameLogic: bad(file), gameActors: 1, logger: { warn() {}, error() {} } }));
    t.true(error.message.includes(bad(file)), error.message);
    t.regex(error.message, expected);
    t.false(server.isServerActive());
  });
}

test('the known handler names are one exported list', (t) => {
  t.deepEqual([...GAME_LOGIC_HANDLERS], ['tickRate', 'deliverAtTick', 'onStart', 'onPeerAuthenticated', 'onPacket', 'events', 'onPeerDisconnected', 'onPeerDropped', 'onPeerResumed', 'onTick']);
});

test('enet-server exits 1 with one line naming the module, the reason and file:line', (t) => {
  const result = spawnSync(process.execPath, [CLI, '--bind', '127.0.0.1', '--port', '0', '--game-logic', bad('syntax.mjs'), '--actors', '1'], { encoding: 'utf8', timeout: 20_000 });
  t.is(result.status, 1, result.stderr);
  t.false(result.stdout.includes('listening'), result.stdout);
  const lines = result.stderr.trim().split('\n');
  t.is(lines.length, 1, result.stderr);
  t.regex(lines[0], /syntax\.mjs: has a syntax error: Unexpected end of input at .*syntax\.mjs:\d+/);
});

test('unknown createServer options are refused by name', async (t) => {
  const server = new ENetServerSupervisor();
  t.teardown(() => server.stopServer());
  const error = await t.throwsAsync(server.createServer(0, 4, 2, { bindAddress: '127.0.0.1', maxPacketSise: 100, gamelogic: '/x.mjs' }), { instanceOf: InvalidOptionError });
  t.is(error.option, 'maxPacketSise');
  t.regex(error.message, /unknown options 'maxPacketSise', 'gamelogic' \(known: .*maxPacketSize/);
});
