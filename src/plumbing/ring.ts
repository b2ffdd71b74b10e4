// Single-producer single-consumer byte ring over a SharedArrayBuffer. The layout is specified in
// docs/protocol.md and mirrored by native/src/ring.h: the native net actor reads and writes the
// same memory, so every offset here is part of a contract.

export const RING_HEADER_BYTES = 256;
export const RING_MIN_CAPACITY = 64 * 1024;

/** Int32 slots of the header. */
export const H_WRITE = 0;
export const H_DOORBELL = 1;
export const H_CONSUMER_SLEEPING = 2;
export const H_STALLS = 3;
export const H_READ = 16;
export const H_PRODUCER_WAITING = 17;
export const H_CAPACITY = 32;

const PAD_MARKER = 0xffffffff;

const align4 = (n: number): number => (n + 3) & ~3;

/** The largest record payload a ring of this capacity accepts. */
export const maxRecordBytes = (capacity: number): number => capacity / 2 - 8;

/** Creates the shared memory of a ring with `capacity` data bytes (a power of two). */
export function createRingBuffer(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < RING_MIN_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two ≥ ${RING_MIN_CAPACITY}, got ${capacity}`);
  }
  const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
  new Int32Array(sab, 0, RING_HEADER_BYTES / 4)[H_CAPACITY] = capacity;
  return sab;
}

/** The smallest power-of-two capacity that holds two records of `maxRecord` bytes. */
export function ringCapacityFor(maxRecord: number, atLeast = RING_MIN_CAPACITY): number {
  let capacity = Math.max(RING_MIN_CAPACITY, atLeast);
  while (maxRecordBytes(capacity) < maxRecord) capacity *= 2;
  return capacity;
}

class RingView {
  readonly header: Int32Array;
  /** The data area. Record payloads are addressed by offsets into it. */
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly capacity: number;
  protected readonly mask: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    this.capacity = this.header[H_CAPACITY];
    if (this.capacity < RING_MIN_CAPACITY || buffer.byteLength !== RING_HEADER_BYTES + this.capacity) {
      throw new RangeError('not a ring buffer (bad capacity in header)');
    }
    this.mask = this.capacity - 1;
    this.bytes = new Uint8Array(buffer, RING_HEADER_BYTES, this.capacity);
    this.view = new DataView(buffer, RING_HEADER_BYTES, this.capacity);
  }

  /** Times the producer found this ring full. */
  get stalls(): number {
    return Atomics.load(this.header, H_STALLS);
  }
}

/**
 * The producing end. Write a record with `reserve(len)` (returns the payload's offset in `bytes`, or
 * -1 when the ring is full), fill it, then `commit()`; `publish()` makes everything committed visible
 * and reports whether the consumer was asleep and must be woken (the caller knows how: a JS consumer
 * through `notifyConsumer()`, the native one through the addon's `wake`).
 */
export class RingProducer extends RingView {
  private write: number;
  private pendingLength = -1;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.write = Atomics.load(this.header, H_WRITE) >>> 0;
  }

  get maxRecord(): number {
    return maxRecordBytes(this.capacity);
  }

  /** Reserves `length` payload bytes; returns their offset in `bytes`, or -1 if the ring is full. */
  reserve(length: number): number {
    if (length > this.maxRecord) throw new RangeError(`record of ${length} bytes exceeds the ring's ${this.maxRecord}`);
    const need = 4 + align4(length);
    const read = Atomics.load(this.header, H_READ) >>> 0;
    const free = this.capacity - ((this.write - read) >>> 0);
    const pos = this.write & this.mask;
    const tail = this.capacity - pos;
    let at = pos;
    if (need > tail) {
      if (tail + need > free) return this.full();
      this.view.setUint32(pos, PAD_MARKER, true);
      this.write = (this.write + tail) >>> 0;
      at = 0;
    } else if (need > free) {
      return this.full();
    }
    this.view.setUint32(at, length, true);
    this.pendingLength = length;
    return at + 4;
  }

  /** Completes the record reserved last. */
  commit(): void {
    this.write = (this.write + 4 + align4(this.pendingLength)) >>> 0;
    this.pendingLength = -1;
  }

  /** Copies one record in: returns false (and counts a stall) when the ring is full. */
  push(payload: Uint8Array): boolean {
    const at = this.reserve(payload.length);
    if (at < 0) return false;
    this.bytes.set(payload, at);
    this.commit();
    return true;
  }

  /** Publishes committed records. Returns true when the consumer was asleep: the caller must wake it. */
  publish(): boolean {
    this.publishQuietly();
    return this.takeConsumerSleeping();
  }

  /** Makes committed records visible without looking at the consumer. Returns false when there were none. */
  publishQuietly(): boolean {
    if (this.write === Atomics.load(this.header, H_WRITE) >>> 0) return false;
    Atomics.store(this.header, H_WRITE, this.write | 0);
    return true;
  }

  /** True (and the flag cleared) when the consumer sleeps: the caller must wake it. */
  takeConsumerSleeping(): boolean {
    return Atomics.compareExchange(this.header, H_CONSUMER_SLEEPING, 1, 0) === 1;
  }

  /** Wakes a JS consumer waiting in `RingConsumer.wait()`. */
  notifyConsumer(): void {
    Atomics.add(this.header, H_DOORBELL, 1);
    Atomics.notify(this.header, H_DOORBELL);
  }

  /** Bytes free right now (for tests and metrics). */
  get freeBytes(): number {
    return this.capacity - ((this.write - (Atomics.load(this.header, H_READ) >>> 0)) >>> 0);
  }

  private full(): number {
    Atomics.store(this.header, H_PRODUCER_WAITING, 1);
    Atomics.add(this.header, H_STALLS, 1);
    return -1;
  }
}

/** Called once per record: `offset` and `length` address the payload in `ring.bytes`. */
export type RecordHandler = (bytes: Uint8Array, offset: number, length: number) => void;

/**
 * The consuming end. `drain(handler)` hands every published record to `handler` and only then
 * releases them (at-least-once: a consumer that dies mid-batch leaves them to its replacement).
 */
export class RingConsumer extends RingView {
  private read: number;

  constructor(buffer: SharedArrayBuffer) {
    super(buffer);
    this.read = Atomics.load(this.header, H_READ) >>> 0;
  }

  /** True when published records are waiting. */
  get hasData(): boolean {
    return (Atomics.load(this.header, H_WRITE) >>> 0) !== this.read;
  }

  /**
   * Handles up to `limit` records, releases them, and returns how many were handled. A record whose
   * handler throws is not released. Afterwards, `takeProducerWaiting()` tells whether the producer
   * had found the ring full and must be told there is room.
   */
  drain(handler: RecordHandler, limit = Infinity): number {
    const write = Atomics.load(this.header, H_WRITE) >>> 0;
    let read = this.read;
    let count = 0;
    try {
      while (read !== write && count < limit) {
        const pos = read & this.mask;
        const length = this.view.getUint32(pos, true);
        if (length === PAD_MARKER) {
          read = (read + this.capacity - pos) >>> 0;
          continue;
        }
        handler(this.bytes, pos + 4, length);
        read = (read + 4 + align4(length)) >>> 0;
        count++;
      }
    } finally {
      // Release what was handled even if the handler threw on a later record: that record stays.
      this.read = read;
      Atomics.store(this.header, H_READ, read | 0);
    }
    return count;
  }

  /**
   * The next published record without releasing it: its payload's offset in `bytes` (its length in
   * `peekedLength`), or -1 when there is none. For consumers that release record by record.
   */
  peek(): number {
    const write = Atomics.load(this.header, H_WRITE) >>> 0;
    for (;;) {
      if (this.read === write) return -1;
      const pos = this.read & this.mask;
      const length = this.view.getUint32(pos, true);
      if (length === PAD_MARKER) {
        this.read = (this.read + this.capacity - pos) >>> 0;
        continue;
      }
      this.peekedLength = length;
      return pos + 4;
    }
  }

  /** Length of the record `peek()` returned. */
  peekedLength = 0;

  /** Releases the record `peek()` returned: the producer may reuse its bytes. */
  release(): void {
    this.read = (this.read + 4 + align4(this.peekedLength)) >>> 0;
    Atomics.store(this.header, H_READ, this.read | 0);
  }

  /** Bytes published and not yet released (the ring's depth). */
  get depth(): number {
    return ((Atomics.load(this.header, H_WRITE) >>> 0) - (Atomics.load(this.header, H_READ) >>> 0)) >>> 0;
  }

  /** Clears and returns the producer's "held back by a full ring" flag. */
  takeProducerWaiting(): boolean {
    return Atomics.compareExchange(this.header, H_PRODUCER_WAITING, 1, 0) === 1;
  }

  /**
   * Resolves when the producer publishes, the doorbell is rung for another reason (`interrupted`
   * tells whether that already happened), or after `timeoutMs`. Never a timer poll: the producer
   * rings the doorbell only because this set CONSUMER_SLEEPING.
   */
  async wait(timeoutMs = Infinity, interrupted?: () => boolean): Promise<void> {
    const doorbell = Atomics.load(this.header, H_DOORBELL);
    Atomics.store(this.header, H_CONSUMER_SLEEPING, 1);
    // `interrupted` is asked after the doorbell was read: a flag set and rung before this point is
    // seen here, one set later changes the doorbell and ends the wait (no lost wake-up).
    if (this.hasData || interrupted?.()) {
      Atomics.store(this.header, H_CONSUMER_SLEEPING, 0);
      return;
    }
    const result = Atomics.waitAsync(this.header, H_DOORBELL, doorbell, timeoutMs);
    if (result.async) await result.value;
    Atomics.store(this.header, H_CONSUMER_SLEEPING, 0);
  }
}
