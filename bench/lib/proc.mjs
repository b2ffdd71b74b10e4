// Helpers shared by the benchmarks: CPU accounting from /proc, --help text.
import { readFileSync } from 'node:fs';

/** Busy ticks of the whole machine (all CPUs), from the first line of /proc/stat; null if unreadable. */
export function machineBusyTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return user + nice + system + irq + softirq + (steal || 0);
  } catch { return null; }
}

/** The comment block at the top of a script (its usage), for --help. */
export function headerComment(url) {
  const lines = readFileSync(new URL(url), 'utf8').split('\n').slice(1);
  const end = lines.findIndex((line) => !line.startsWith('//'));
  return lines.slice(0, end < 0 ? lines.length : end).join('\n') + '\n';
}
