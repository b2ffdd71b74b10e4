// ENetServerPeer properties and statistics, read synchronously from shared memory.
import test from 'ava';
import { PeerStatistic } from '../dist/index.js';
import { startServer, connectClient, waitFor, until } from './helpers.js';

test('address, port, custom data, connection time', async (t) => {
  const server = await startServer(t);
  const { peer } = await connectClient(t, server);
  t.is(peer.getRemoteAddress(), '127.0.0.1');
  t.true(Number.isInteger(peer.getRemotePort()) && peer.getRemotePort() > 0 && peer.getRemotePort() !== server.getLocalPort());
  t.is(peer.getCustomData(), null);
  peer.setCustomData({ name: 'ada', score: 3 });
  t.deepEqual(peer.getCustomData(), { name: 'ada', score: 3 });
  const first = peer.getConnectionTime();
  t.true(first >= 0 && first < 5);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.true(peer.getConnectionTime() >= first + 0.04);
});

test('statistics carry ENet values: throttle constants, and a measured round trip after traffic', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  // ENet's defaults (enet.h): throttle scale 32, acceleration 2, deceleration 2, interval 5000 ms.
  await until(() => peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_INTERVAL) !== 0, 3000, 'stats row');
  t.is(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_INTERVAL), 5000);
  t.is(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_ACCELERATION), 2);
  t.is(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_DECELERATION), 2);
  t.is(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_LIMIT), 32);
  // Reliable traffic both ways produces acknowledged round trips; loopback RTT is small.
  for (let i = 0; i < 20; i++) {
    const echoed = waitFor(client, 'packetReceived');
    server.sendPacket(peer.peerId, { i });
    await echoed;
    client.sendPacket({ i });
  }
  // Both sides' stats rows are rewritten at most every 20 ms: wait for the client's too. The
  // smoothed RTT (ENet starts it at 500 and moves it 1/8 of the way per sample) comes down to
  // loopback values; the handshake's sample can be large in the process's first connection (the
  // client's network worker boots meanwhile) and PEER_LAST_ROUND_TRIP_TIME only changes every
  // throttle interval (5 s), so it is only checked to be a real sample.
  await until(
    () => peer.getPing() < 100 && client.getPing() < 500,
    5000,
    'a measured RTT on both sides',
  );
  t.is(peer.getPing(), peer.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME));
  const last = peer.getStatistic(PeerStatistic.PEER_LAST_ROUND_TRIP_TIME);
  t.true(last > 0 && last < 500, `PEER_LAST_ROUND_TRIP_TIME ${last}`);
  // The client reads its own live row (ENet's constants); its RTT was measured above (ENet starts
  // at 500 and moves 1/8 of the way per sample; 0 ms is a real loopback measurement).
  t.is(client.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_INTERVAL), 5000);
  t.is(peer.getStatistic(99), 0, 'an unknown statistic reads 0');
});

test('a departed peer reads zero statistics (its slot may belong to someone else)', async (t) => {
  const server = await startServer(t);
  const { client, peer } = await connectClient(t, server);
  await until(() => peer.getPing() > 0, 3000, 'ping');
  const gone = waitFor(server, 'peerDisconnected');
  client.disconnectFromServer();
  await gone;
  t.is(peer.getPing(), 0);
  t.is(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_INTERVAL), 0);
});
