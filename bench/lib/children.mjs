// The child processes of a benchmark script: every one is tracked and killed when the script exits,
// servers are started until they print their port, and one-shot programs run to completion with a
// bound. Used by bench/loadtest.mjs, bench/networks.mjs, bench/sessions.mjs and bench/game.mjs.
import { execFile, spawn } from 'node:child_process';

const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Sends `signal` to every child still running (a script's own SIGINT/SIGTERM handler). */
export function signalChildren(signal) {
  for (const child of children) {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Starts a server and resolves once its stdout matched `ready` (group 1: the port) within 15 s:
 * `{ port, pid, stderrTail(), stop() }`. `stop()` sends SIGTERM, SIGKILL after 8 s, and resolves with
 * `{ ms, killed }`. stdout is read on and dropped after the match (a demo server logs every join).
 */
export async function startServer(cmd, args, ready, { cwd, env } = {}) {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let errTail = '';
  child.stderr.on('data', (d) => {
    errTail = (errTail + d).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start within 15 s: ${out}${errTail}`)), 15_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      setTimeout(() => reject(new Error(`${cmd} exited (${signal ?? code}) before it was ready: ${out}${errTail}`)), 50);
    });
    child.stdout.setEncoding('utf8').on('data', function onData(chunk) {
      out += chunk;
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', onData).resume();
      resolve(Number(m[1]));
    });
  });
  return {
    port,
    pid: child.pid,
    stderrTail: () => errTail,
    stop: async () => {
      const t0 = performance.now();
      let killed = false;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, 8000);
      await exited;
      clearTimeout(timer);
      children.delete(child);
      return { ms: Math.round(performance.now() - t0), killed };
    },
  };
}

/** Runs a program to its end (SIGKILL after `timeoutMs`): `{ code, stdout, stderr }`. */
export function run(file, args, timeoutMs, { cwd } = {}) {
  return new Promise((resolve) => {
    const child = execFile(file, args, { cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      children.delete(child);
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr });
    });
    children.add(child);
  });
}
