// The SPSC ring on its own: layout, wrap-around, backpressure, and two threads.
import test from 'ava';
import { Worker } from 'node:worker_threads';
import {
  RingConsumer,
  RingProducer,
  createRingBuffer,
  maxRecordBytes,
  H_PRODUCER_WAITING,
  H_STALLS,
  RING_MIN_CAPACITY,
} from '../dist/plumbing/ring.js';

const CAPACITY = RING_MIN_CAPACITY;

function collect(consumer) {
  const out = [];
  consumer.drain((bytes, offset, length) => out.push(Buffer.from(bytes.subarray(offset, offset + length))));
  return out;
}

test('rejects capacities that are not powers of two or too small', (t) => {
  t.throws(() => createRingBuffer(1000), { instanceOf: RangeError });
  t.throws(() => createRingBuffer(1024), { instanceOf: RangeError });
  t.notThrows(() => createRingBuffer(CAPACITY * 2));
});

test('records come out in order with their exact bytes, including empty ones', (t) => {
  const sab = createRingBuffer(CAPACITY);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  const sent = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.from([1, 2, 3, 4, 5, 6, 7])];
  for (const record of sent) t.true(producer.push(record));
  t.false(consumer.hasData, 'nothing is visible before publish');
  producer.publish();
  t.true(consumer.hasData);
  t.deepEqual(collect(consumer), sent);
  t.false(consumer.hasData);
});

test('wraps around the end with a padding record, many times', (t) => {
  const sab = createRingBuffer(CAPACITY);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  // 1000 bytes does not divide the capacity: records regularly meet the end.
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 500; round++) {
    for (let i = 0; i < 7; i++) {
      const record = Buffer.alloc(1000 + (next % 13), next & 0xff);
      record.writeUInt32LE(next++, 0);
      t.true(producer.push(record));
    }
    producer.publish();
    for (const record of collect(consumer)) {
      if (record.readUInt32LE(0) !== expected || record.length !== 1000 + (expected % 13)) {
        t.fail(`record ${expected} came out wrong`);
        return;
      }
      expected++;
    }
  }
  t.is(expected, next);
  t.true(next * 1000 > CAPACITY * 50, 'the ring wrapped many times');
});

test('a full ring refuses the record, counts a stall, and loses nothing', (t) => {
  const sab = createRingBuffer(CAPACITY);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  const record = Buffer.alloc(4096, 7);
  let accepted = 0;
  while (producer.push(record)) accepted++;
  t.true(accepted >= CAPACITY / 4100 - 1 && accepted <= CAPACITY / 4100);
  t.is(producer.header[H_STALLS], 1);
  t.is(producer.header[H_PRODUCER_WAITING], 1);
  producer.publish();
  t.is(collect(consumer).length, accepted);
  t.true(consumer.takeProducerWaiting(), 'the consumer learns the producer was held back');
  t.false(consumer.takeProducerWaiting());
  t.true(producer.push(record), 'room again after the consumer released');
});

test('the largest record fits, one byte more throws', (t) => {
  const sab = createRingBuffer(CAPACITY);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  // Misalign the write position so the largest record needs the wrap path.
  t.true(producer.push(Buffer.alloc(12345)));
  producer.publish();
  collect(consumer);
  const max = maxRecordBytes(CAPACITY);
  t.true(producer.push(Buffer.alloc(max, 3)));
  producer.publish();
  const [out] = collect(consumer);
  t.is(out.length, max);
  t.throws(() => producer.reserve(max + 1), { instanceOf: RangeError });
});

test('a record whose handler throws is not released and comes again', (t) => {
  const sab = createRingBuffer(CAPACITY);
  const producer = new RingProducer(sab);
  const consumer = new RingConsumer(sab);
  for (const text of ['one', 'two', 'three']) producer.push(Buffer.from(text));
  producer.publish();
  const seen = [];
  t.throws(() =>
    consumer.drain((bytes, offset, length) => {
      const text = Buffer.from(bytes.subarray(offset, offset + length)).toString();
      if (text === 'two') throw new Error('boom');
      seen.push(text);
    }),
  );
  t.deepEqual(seen, ['one']);
  t.deepEqual(collect(consumer).map(String), ['two', 'three']);
});

test('wait() resolves when a producer in another thread publishes (doorbell), and only then', async (t) => {
  const sab = createRingBuffer(CAPACITY);
  const consumer = new RingConsumer(sab);
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     parentPort.once('message', async () => {
       const { RingProducer } = await import(workerData.ring);
       const p = new RingProducer(workerData.sab);
       p.push(Buffer.from('ping'));
       if (p.publish()) p.notifyConsumer();
     });`,
    { eval: true, workerData: { sab, ring: new URL('../dist/plumbing/ring.js', import.meta.url).href } },
  );
  const waiting = consumer.wait(10_000);
  t.false(consumer.hasData);
  worker.postMessage('go');
  const started = Date.now();
  await waiting;
  t.true(Date.now() - started < 5000, 'woken by the doorbell, not the timeout');
  t.deepEqual(collect(consumer).map(String), ['ping']);
  await worker.terminate();
});

test('a million records through two threads arrive complete and in order despite a small ring', async (t) => {
  const COUNT = 1_000_000;
  const sab = createRingBuffer(CAPACITY);
  const consumer = new RingConsumer(sab);
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     (async () => {
       const { RingProducer } = await import(workerData.ring);
       const p = new RingProducer(workerData.sab);
       let stalls = 0;
       for (let i = 0; i < workerData.count; i++) {
         const length = 4 + (i % 29);
         let at;
         while ((at = p.reserve(length)) < 0) {
           stalls++;
           if (p.publish()) p.notifyConsumer();
           Atomics.wait(new Int32Array(workerData.sab, 0, 64), 16, Atomics.load(new Int32Array(workerData.sab, 0, 64), 16), 5);
         }
         p.view.setUint32(at, i, true);
         p.bytes.fill(i & 0xff, at + 4, at + length);
         p.commit();
         if ((i & 63) === 0 && p.publish()) p.notifyConsumer();
       }
       if (p.publish()) p.notifyConsumer();
       parentPort.postMessage(stalls);
     })();`,
    { eval: true, workerData: { sab, count: COUNT, ring: new URL('../dist/plumbing/ring.js', import.meta.url).href } },
  );
  const stallsReported = new Promise((resolve) => worker.once('message', resolve));
  let expected = 0;
  let corrupt = 0;
  const deadline = Date.now() + 45_000;
  while (expected < COUNT && Date.now() < deadline) {
    const handled = consumer.drain((bytes, offset, length) => {
      const value = new DataView(bytes.buffer, bytes.byteOffset + offset, length).getUint32(0, true);
      if (value !== expected || length !== 4 + (expected % 29) || bytes[offset + length - 1] !== (length > 4 ? expected & 0xff : bytes[offset + length - 1])) corrupt++;
      expected++;
    });
    if (handled === 0) await consumer.wait(100);
  }
  t.is(expected, COUNT);
  t.is(corrupt, 0);
  t.true((await stallsReported) > 0, 'the small ring really filled up (backpressure was exercised)');
  await worker.terminate();
});
