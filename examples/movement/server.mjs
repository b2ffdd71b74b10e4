// The movement demo's server (`npm run demo:movement`): the game itself runs in game actors
// (./game.mjs); the main thread only logs. PORT (default 7778) and ACTORS (default 2) configure it.
import { ENetServer } from 'enet-actor-server';

const port = Number(process.env.PORT ?? 7778);
const gameActors = Number(process.env.ACTORS ?? 2);

// Peers stay visible here: the actors own their packets, the supervisor still owns the peers.
ENetServer.on('peerAuthenticated', (peer) => {
  console.log(`peer ${peer.peerId} joined from ${peer.getRemoteAddress()}:${peer.getRemotePort()} (${ENetServer.getPeerCount()} online)`);
});
ENetServer.on('peerDisconnected', (peer, reason) => {
  console.log(`peer ${peer.peerId} left: ${reason || 'no reason'} (${ENetServer.getPeerCount()} online)`);
});
// What the module posts with ctx.post().
ENetServer.on('actorMessage', (actorId, message) => console.log(`actor ${actorId}:`, message));
// Packets and events the module does not handle come on to the main thread's signals, as without
// actors (an event nobody registered is a 'packetReceived' too, after 'unknownEventReceived').
ENetServer.on('packetReceived', (peer, packet) => console.log(`peer ${peer.peerId} sent what the game does not handle:`, packet));
ENetServer.on('error', (error) => console.error('server error:', error.message));

await ENetServer.createServer(port, 64, 2, {
  gameLogic: new URL('./game.mjs', import.meta.url),
  gameActors,
  // Default placement: peerId % gameActors. A game with rooms would pass
  // placePeer: (peer) => roomIndexOf(peer.getCustomData()), e.g. set by a custom authenticator.
});
console.log(`movement server on 0.0.0.0:${ENetServer.getLocalPort()} with ${gameActors} game actors (Ctrl+C to stop)`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.log('stopping…');
    await ENetServer.stopServer();
    process.exit(0);
  });
}
