// Runs on every thread whose native passes publish to inbound rings (a net actor, the main thread,
// a game actor when it flushes its own sends): native code cannot wake a JS waiter, so after a pass
// this thread notifies the consumers whose doorbell native rang. A game actor consumes one ring per
// shard and sleeps on one wake word of its own for all of them; every other consumer sleeps on its
// ring's doorbell.
import { H_CONSUMER_SLEEPING, H_DOORBELL, RING_HEADER_BYTES, type RingConsumer } from './ring.js';

/** The wake word of a consumer of several rings: a 4-byte SharedArrayBuffer. */
export const createWakeWord = (): SharedArrayBuffer => new SharedArrayBuffer(4);

export class Doorbells {
  private readonly headers: Int32Array[];
  private readonly wakes: (Int32Array | undefined)[];
  /** The doorbell values this thread last saw, one per ring. */
  private readonly seen: Int32Array;

  /** `wakes[i]`: the wake word ring i's consumer sleeps on, if not the ring's own doorbell. */
  constructor(inbound: readonly SharedArrayBuffer[], wakes: readonly (SharedArrayBuffer | undefined)[] = []) {
    this.headers = inbound.map((buffer) => new Int32Array(buffer, 0, RING_HEADER_BYTES / 4));
    this.wakes = inbound.map((_, i) => (wakes[i] ? new Int32Array(wakes[i]!) : undefined));
    this.seen = Int32Array.from(this.headers, (header) => Atomics.load(header, H_DOORBELL));
  }

  /**
   * Notifies the consumers of the rings whose doorbell moved since this thread last looked. Every
   * ring ringing would wake consumers for nothing (measured: the idle main thread woke ~5,000
   * times a second beside two busy game actors).
   */
  notifyRung(): void {
    for (let i = 0; i < this.headers.length; i++) {
      const doorbell = Atomics.load(this.headers[i], H_DOORBELL);
      if (doorbell === this.seen[i]) continue;
      this.seen[i] = doorbell;
      const wake = this.wakes[i];
      if (wake) ring(wake);
      else Atomics.notify(this.headers[i], H_DOORBELL);
    }
  }
}

/** Wakes a consumer sleeping on `wake` (or about to: the count changes, so its wait returns at once). */
export function ring(wake: Int32Array): void {
  Atomics.add(wake, 0, 1);
  Atomics.notify(wake, 0);
}

/**
 * Sleeps until any of `rings` gets a record, `wake` is rung (`interrupted` tells whether that
 * already happened for a flag), or `timeoutMs` passes. The producers ring because this sets every
 * ring's CONSUMER_SLEEPING; the wake word is read first, so a ring between reading it and waiting
 * is not lost.
 */
export async function waitForAny(rings: readonly RingConsumer[], wake: Int32Array, timeoutMs = Infinity, interrupted?: () => boolean): Promise<void> {
  const count = Atomics.load(wake, 0);
  for (const r of rings) Atomics.store(r.header, H_CONSUMER_SLEEPING, 1);
  try {
    if (rings.some((r) => r.hasData) || interrupted?.()) return;
    const result = Atomics.waitAsync(wake, 0, count, timeoutMs);
    if (result.async) await result.value;
  } finally {
    for (const r of rings) Atomics.store(r.header, H_CONSUMER_SLEEPING, 0);
  }
}

/**
 * Sleeps until `wake` is rung or `timeoutMs` passes, on a libuv timer: Atomics.waitAsync's own
 * timeout came back 2 ms late on average on an idle machine, and far later under load, which for
 * an actor that only wakes for its ticks (GameLogic.deliverAtTick) is the tick's lateness. The
 * wait's own timeout (a little longer) retires it soon after the timer has won.
 */
export async function waitForWakeOrTime(wake: Int32Array, timeoutMs: number, interrupted?: () => boolean): Promise<void> {
  const count = Atomics.load(wake, 0);
  if (interrupted?.()) return;
  const woke = Atomics.waitAsync(wake, 0, count, timeoutMs + WAIT_RETIRE_MS);
  if (!woke.async) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([woke.value, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
}
const WAIT_RETIRE_MS = 5;
