// Runs on the thread of an ENetClient: the client's half of a session (docs/protocol.md "Sessions").
// It numbers the reliable packets the client sends per channel and keeps them (bounded) until the
// server's acknowledgements say they arrived, counts the reliable packets received per channel, and
// writes and reads the binary acknowledgements. The connection it rides on may change (a resume);
// the session does not.
import { SESSION_CONTROL, SESSION_OP_ACK } from '../wire/protocol.js';

interface Sent {
  seq: number;
  bytes: Uint8Array;
}

export class ClientSession {
  /** The server's token for the next resume ('' until approved, and on a server without sessions). */
  token = '';
  windowMs = 0;
  private readonly outbox: Sent[][];
  private readonly nextSeq: Uint32Array;
  private readonly received: Uint32Array;
  private outboxBytes = 0;
  /** Counts changed since the last acknowledgement we sent. */
  private dirty = false;

  constructor(
    readonly channels: number,
    private readonly maxOutboxBytes: number,
  ) {
    this.outbox = Array.from({ length: channels }, () => []);
    this.nextSeq = new Uint32Array(channels);
    this.received = new Uint32Array(channels);
  }

  /** Bytes kept until acknowledged. */
  get bytes(): number {
    return this.outboxBytes;
  }

  /** False when the outbox has no room for these bytes (the send is ERR_BUSY). */
  hasRoom(bytes: number): boolean {
    return this.outboxBytes + bytes <= this.maxOutboxBytes;
  }

  /** A reliable packet we sent (or are about to send) on `channel`: numbered and kept. */
  sent(channel: number, bytes: Uint8Array): void {
    const seq = ++this.nextSeq[channel];
    this.outbox[channel].push({ seq, bytes });
    this.outboxBytes += bytes.length;
  }

  /** A reliable packet received on `channel` (session control packets are not counted). */
  receivedOne(channel: number): void {
    if (channel >= this.channels) return;
    this.received[channel]++;
    this.dirty = true;
  }

  /** What we received per channel (for `_resume`). */
  receivedCounts(): number[] {
    return [...this.received];
  }

  /** The server's counts: what it has, we need not keep. */
  trim(counts: ArrayLike<number>): void {
    for (let channel = 0; channel < this.channels && channel < counts.length; channel++) {
      const list = this.outbox[channel];
      const upTo = counts[channel];
      let drop = 0;
      while (drop < list.length && list[drop].seq <= upTo) this.outboxBytes -= list[drop++].bytes.length;
      if (drop > 0) list.splice(0, drop);
    }
  }

  /** What is still unacknowledged, per channel in order: sent again after a resume. */
  *unacknowledged(): Generator<{ channel: number; bytes: Uint8Array }> {
    for (let channel = 0; channel < this.channels; channel++) {
      for (const entry of this.outbox[channel]) yield { channel, bytes: entry.bytes };
    }
  }

  /** Forgets the outbox (a server without sessions: nothing is ever acknowledged). */
  clear(): void {
    for (const list of this.outbox) list.length = 0;
    this.outboxBytes = 0;
  }

  /** An acknowledgement packet when our counts changed since the last one, else null. */
  takeAck(): Uint8Array | null {
    if (!this.dirty) return null;
    this.dirty = false;
    return encodeAck(this.received);
  }
}

/** SESSION_CONTROL, SESSION_OP_ACK, u8 count, count × u32 (docs/protocol.md "Acknowledgements"). */
export function encodeAck(counts: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(3 + counts.length * 4);
  const view = new DataView(bytes.buffer);
  bytes[0] = SESSION_CONTROL;
  bytes[1] = SESSION_OP_ACK;
  bytes[2] = counts.length;
  for (let i = 0; i < counts.length; i++) view.setUint32(3 + i * 4, counts[i], true);
  return bytes;
}

/** The counts of an acknowledgement, or null when `bytes` is not one. */
export function decodeAck(bytes: Uint8Array): Uint32Array | null {
  if (bytes.length < 3 || bytes[0] !== SESSION_CONTROL || bytes[1] !== SESSION_OP_ACK) return null;
  const count = bytes[2];
  if (bytes.length < 3 + count * 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const counts = new Uint32Array(count);
  for (let i = 0; i < count; i++) counts[i] = view.getUint32(3 + i * 4, true);
  return counts;
}
