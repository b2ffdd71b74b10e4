// The fuzzer (./fuzz.js) in a process of its own, so that generating datagrams does not compete with
// the server's main thread. Started with child_process.fork; gets { options, corpus: [hex] } as its
// first IPC message, answers { progress } now and then and { done: stats } at the end, then exits.
// Bounded by the options' count and deadlineMs, and by a hard exit after deadlineMs + 10 s.
import { runFuzz } from './fuzz.js';

process.once('message', async ({ options, corpus }) => {
  const hard = setTimeout(() => process.exit(3), (options.deadlineMs ?? 20_000) + 10_000);
  hard.unref();
  let last = 0;
  const stats = await runFuzz({
    ...options,
    corpus: corpus.map((hex) => Buffer.from(hex, 'hex')),
    onProgress: (s) => {
      if (s.sent - last >= 20_000) {
        last = s.sent;
        process.send({ progress: { ...s } });
      }
    },
  });
  process.send({ done: stats }, () => process.exit(0));
});
