#!/usr/bin/env node
// A Colyseus 0.16 echo server for bench/colyseus.mjs: one room type, 'echo', whose every client's
// 'echo' bytes message goes back to that client as it came (the counterpart of enet-server's demo
// echo). WebSocket transport on 127.0.0.1, port 0 unless --port; prints `listening <port>` once
// bound (as bench/echo-server.mjs does). SIGTERM / SIGINT: shuts down and exits.
import { createServer } from 'node:http';
import { Room, Server } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;

class EchoRoom extends Room {
  // One room holds every client of the run, as the ENet demo serves them all from one host.
  maxClients = 100_000;

  onCreate() {
    // No state: nothing to patch, so the room sends only the echoes.
    this.onMessage('echo', (client, bytes) => client.sendBytes('echo', bytes));
  }
}

const http = createServer();
// The transport's stock keep-alive (a ping every 3 s) stays on, as ENet keeps its own pings.
const transport = new WebSocketTransport({ server: http });
// Our own signal handlers below (Colyseus' would shut down twice).
const server = new Server({ transport, greet: false, gracefullyShutdown: false });
server.define('echo', EchoRoom);
await server.listen(port, '127.0.0.1');
process.stdout.write(`listening ${http.address().port}\n`);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  // Bounded: a stuck shutdown still ends the process.
  setTimeout(() => process.exit(0), 3000).unref();
  server.gracefullyShutdown(false).then(() => process.exit(0), () => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
