// Helpers shared by the benchmarks: CPU accounting from /proc, --help text.
import { execFileSync } from 'node:child_process';
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

/** Clock ticks per second of /proc's CPU times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Waits (bounded by `maxMs`) until the rest of the machine uses < thresholdPercent of a core, so that
 * the figures are ours and not a neighbour's; returns the last reading (% of a core).
 */
export async function waitForQuiet(maxMs, log, thresholdPercent = 25) {
  const t0 = Date.now();
  for (;;) {
    const a = machineBusyTicks();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const b = machineBusyTicks();
    const busy = a === null || b === null ? 0 : (100 * (b - a)) / CLK_TCK;
    if (busy < thresholdPercent) return busy;
    if (Date.now() - t0 >= maxMs) {
      log(`the machine is still busy (${busy.toFixed(0)}% of a core used by other processes); measuring anyway`);
      return busy;
    }
    log(`waiting for a quiet machine: other processes use ${busy.toFixed(0)}% of a core`);
  }
}

/** CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat; null if unreadable. */
export function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}
