// What a net actor worker is started with, shared by the worker and the thread that starts it.

export interface NetActorData {
  reactorId: number;
  /** Every inbound ring, ring 0 (the supervisor's) first: the worker notifies their consumers. */
  inbound: SharedArrayBuffer[];
  /** Per inbound ring: the wake word its consumer sleeps on (game actors), else undefined. */
  wakes: (SharedArrayBuffer | undefined)[];
  /** Int32 settings read by the worker on every pass (so changing them needs no message). */
  control: SharedArrayBuffer;
}

export const CONTROL_POLL_RATE = 0;
/** Set to 1 to make the worker throw from inside its loop (injectFault: chaos tests, drills). */
export const CONTROL_FAULT = 1;
export const CONTROL_SLOTS = 4;
