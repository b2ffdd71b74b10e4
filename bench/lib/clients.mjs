// ENetClients for the fleet benchmark and its client processes.
import { ENetClient, Err } from '../../dist/index.js';

/** Rejects after `ms` with what was awaited; clears its timer either way. */
export function bounded(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
}

/** `count` clients connected to 127.0.0.1:`port`, in batches of 50 (under the server's maxPendingConnects). */
export async function connectClients(port, count) {
  const clients = [];
  for (let start = 0; start < count; start += 50) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 50); i++) {
      const client = new ENetClient();
      clients.push(client);
      batch.push(new Promise((ok, fail) => {
        client.once('connectedToServer', ok);
        client.once('connectionFailed', (reason) => fail(new Error(reason)));
      }));
      if (client.connectToServer('127.0.0.1', port) !== Err.OK) throw new Error('connectToServer failed');
    }
    await bounded(Promise.all(batch), 20_000, `clients on port ${port}`);
  }
  return clients;
}
