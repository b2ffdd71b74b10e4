// Custom events both ways: registered handlers, unknown events, triggerEvent(ToAll).
import test from 'ava';
import { ENetServerSupervisor, Err } from '../dist/index.js';
import { startServer, connectClient, waitFor, collect } from './helpers.js';

test('registerEvent / hasEvent / unregisterEvent', (t) => {
  const server = new ENetServerSupervisor();
  t.false(server.hasEvent('jump'));
  server.registerEvent('jump', () => {});
  t.true(server.hasEvent('jump'));
  server.unregisterEvent('jump');
  t.false(server.hasEvent('jump'));
  t.is(t.throws(() => server.registerEvent('', () => {})).code, Err.ERR_INVALID_PARAMETER);
  t.is(t.throws(() => server.registerEvent('x', 'not a function')).code, Err.ERR_INVALID_PARAMETER);
});

test('a client event runs the registered handler(peer, payload, channel), then customEventReceived, and nothing else', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const order = [];
  let handlerArgs;
  server.registerEvent('player_jump', (...args) => {
    handlerArgs = args;
    order.push('handler');
  });
  server.on('customEventReceived', (...args) => order.push(['custom', ...args]));
  server.on('packetReceived', () => order.push('packet'));
  server.on('unknownEventReceived', () => order.push('unknown'));
  const done = waitFor(server, 'customEventReceived');
  t.is(client.triggerEvent('player_jump', { position: { x: 1, y: 2 } }, 1), Err.OK);
  await done;
  t.deepEqual(handlerArgs, [peer, { position: { x: 1, y: 2 } }, 1]);
  t.deepEqual(order, ['handler', ['custom', peer, 'player_jump', { position: { x: 1, y: 2 } }, 1]]);
  // A marker proves no packetReceived follows.
  const marker = waitFor(server, 'packetReceived');
  client.sendPacket('marker');
  await marker;
  t.deepEqual(order.slice(2), ['packet']);
});

test('an event without a handler gives unknownEventReceived, then packetReceived with the whole dictionary', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  const order = [];
  server.on('unknownEventReceived', (...args) => order.push(['unknown', ...args]));
  server.on('packetReceived', (...args) => order.push(['packet', ...args]));
  const done = waitFor(server, 'packetReceived');
  client.triggerEvent('mystery', { a: 1 });
  await done;
  t.deepEqual(order, [
    ['unknown', peer, 'mystery', { a: 1 }, 0],
    ['packet', peer, { a: 1, _event: 'mystery' }, 0],
  ]);
});

test('server triggerEvent reaches the client handler(payload, channel) and customEventReceived', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  let handlerArgs;
  client.registerEvent('welcome', (...args) => (handlerArgs = args));
  t.true(client.hasEvent('welcome'));
  const custom = waitFor(client, 'customEventReceived');
  t.is(server.triggerEvent(peer.peerId, 'welcome', { motd: 'hi' }, 1), Err.OK);
  t.deepEqual(await custom, ['welcome', { motd: 'hi' }, 1]);
  t.deepEqual(handlerArgs, [{ motd: 'hi' }, 1]);

  client.unregisterEvent('welcome');
  const unknown = waitFor(client, 'unknownEventReceived');
  const packet = waitFor(client, 'packetReceived');
  server.triggerEvent(peer.peerId, 'welcome', { motd: 'again' });
  t.deepEqual(await unknown, ['welcome', { motd: 'again' }, 0]);
  t.deepEqual(await packet, [{ motd: 'again', _event: 'welcome' }, 0]);
});

test('triggerEventToAll honours exclude; triggerEvent refuses bad names and unknown peers', async (t) => {
  const server = await startServer(t);
  const a = await connectClient(t, server);
  const b = await connectClient(t, server);
  const aEvents = [];
  a.client.on('unknownEventReceived', (name) => aEvents.push(name));
  const bGot = waitFor(b.client, 'unknownEventReceived');
  t.is(server.triggerEventToAll('round_start', { round: 3 }, 0, true, [a.peer.peerId]), Err.OK);
  t.deepEqual(await bGot, ['round_start', { round: 3 }, 0]);
  const both = collect(a.client, 'unknownEventReceived', 1);
  server.triggerEventToAll('round_end', {});
  await both;
  t.deepEqual(aEvents, ['round_end'], 'a only got the event it was not excluded from');
  t.is(server.triggerEvent(a.peer.peerId, '', {}), Err.ERR_INVALID_PARAMETER);
  t.is(server.triggerEvent(999, 'x', {}), Err.ERR_INVALID_PARAMETER);
});

test('a throwing event handler does not take the server down', async (t) => {
  const server = await startServer(t);
  const { client } = await connectClient(t, server);
  const errors = [];
  server.on('error', (error) => errors.push(error.message));
  server.registerEvent('bad', () => {
    throw new Error('handler bug');
  });
  client.triggerEvent('bad', {});
  const marker = waitFor(server, 'packetReceived');
  client.sendPacket('still alive');
  t.is((await marker)[1], 'still alive');
  t.deepEqual(errors, ['handler bug']);
});
