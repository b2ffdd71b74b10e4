// Runs in the net actor's worker thread. The hot loop is native: each service() call drains the
// outbound ring into ENet, services the hosts, writes inbound records, and sleeps in poll() (host
// sockets + a wake-up eventfd) for at most pollRate ms when there is nothing to do. This thread only
// rings the inbound doorbells, which native code cannot do for a JS waiter.
import { workerData } from 'node:worker_threads';
import { loadNative } from '../shared/native.js';
import { RING_HEADER_BYTES } from '../shared/ring.js';
import { doorbellsOf, notifyRung } from '../shared/outbound.js';
import { SERVICE_DESTROYED, SERVICE_NOTIFY_INBOUND } from '../shared/protocol.js';
import { CONTROL_FAULT, CONTROL_POLL_RATE, type NetActorData } from './control.js';

const { reactorId, inbound, control } = workerData as NetActorData;
const native = loadNative();
const inboundHeaders = inbound.map((buffer) => new Int32Array(buffer, 0, RING_HEADER_BYTES / 4));
const doorbellsSeen = doorbellsOf(inboundHeaders);
const settings = new Int32Array(control);

for (;;) {
  if (Atomics.exchange(settings, CONTROL_FAULT, 0) !== 0) throw new Error('fault injected into the net actor');
  const result = native.service(reactorId, Atomics.load(settings, CONTROL_POLL_RATE));
  // Some consumer's doorbell was rung (native cannot notify a JS waiter): those rings are notified.
  if (result & SERVICE_NOTIFY_INBOUND) notifyRung(inboundHeaders, doorbellsSeen);
  if (result & SERVICE_DESTROYED) break;
}
