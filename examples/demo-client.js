// A demo client (`npm run demo:client`) for the demo server: says hello in the chat, sends an
// echo, pings with an event, prints what comes back, and leaves. ENET_HOST / ENET_PORT configure it.
import { ENetClient } from '../dist/index.js';

const host = process.env.ENET_HOST ?? '127.0.0.1';
const port = Number(process.env.ENET_PORT ?? 7777);
const client = new ENetClient();

client.on('connectedToServer', () => {
  console.log(`connected to ${host}:${port}`);
  client.sendPacket({ type: 'chat', msg: 'hello everyone' });
  client.sendPacket('echo me');
  client.triggerEvent('ping', { sentAt: Date.now() });
});
client.on('packetReceived', (packet, channel) => console.log(`packet on channel ${channel}:`, packet));
client.registerEvent('pong', (payload) => {
  console.log(`pong after ${Date.now() - payload.sentAt} ms`, payload);
  client.disconnectFromServer('demo done');
});
client.on('connectionFailed', (reason) => {
  console.error(`connection failed: ${reason}`);
  process.exitCode = 1;
});
client.on('disconnectedFromServer', (reason) => console.log(`disconnected: ${reason || 'bye'}`));

client.connectToServer(host, port);
