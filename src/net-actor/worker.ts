// Runs in the net actor's worker thread. The hot loop is native: each service() call drains the
// outbound ring into ENet, services the hosts, writes inbound records, and sleeps in poll() (host
// sockets + a wake-up eventfd) for at most pollRate ms when there is nothing to do. This thread only
// rings the inbound doorbells, which native code cannot do for a JS waiter.
import { workerData } from 'node:worker_threads';
import { loadNative } from '../plumbing/native.js';
import { Doorbells } from '../plumbing/doorbells.js';
import { SERVICE_DESTROYED, SERVICE_NOTIFY_INBOUND } from '../wire/protocol.js';
import { CONTROL_FAULT, CONTROL_POLL_RATE, type NetActorData } from './control.js';

const { reactorId, inbound, wakes, control } = workerData as NetActorData;
const native = loadNative();
const doorbells = new Doorbells(inbound, wakes);
const settings = new Int32Array(control);

for (;;) {
  if (Atomics.exchange(settings, CONTROL_FAULT, 0) !== 0) throw new Error('fault injected into the net actor');
  const result = native.service(reactorId, Atomics.load(settings, CONTROL_POLL_RATE));
  // Some consumer's doorbell was rung (native cannot notify a JS waiter): those rings are notified.
  if (result & SERVICE_NOTIFY_INBOUND) doorbells.notifyRung();
  if (result & SERVICE_DESTROYED) break;
}
