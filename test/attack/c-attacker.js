// Runs test/c/bin/attacker (test/c/attacker.c) as a child process and reads its line output.
// Every mode of the C program stops by itself; kill() is for teardown only.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertLoopback } from './forge.js';

export const ATTACKER = fileURLToPath(new URL('../c/bin/attacker', import.meta.url));
export const attackerBuilt = () => existsSync(ATTACKER);

/**
 * attacker(mode, { port, host, bind, ...options }) → { lines, waitLine(re, ms), exited, kill }.
 * Options become flags: { packetSize: 1024 } → --packet-size 1024; true → a bare flag.
 */
export function attacker(mode, { port, host = '127.0.0.1', bind = '127.0.0.5', ...options }) {
  assertLoopback(host);
  for (const b of String(bind).split(',')) assertLoopback(b);
  const args = [mode, '--server', `${host}:${port}`, '--bind', String(bind)];
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined || v === false) continue;
    const flag = '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    if (v === true) args.push(flag);
    else args.push(flag, String(v));
  }
  const child = spawn(ATTACKER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const waiters = new Set();
  let buffer = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters) w(line);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, signal: sig, lines, stderr })));
  let done = false;
  exited.then(() => {
    done = true;
    for (const w of waiters) w(null);
  });
  return {
    lines,
    args,
    get stderr() {
      return stderr;
    },
    exited,
    /** Resolves with the match of the first line (already seen or coming) matching `re`. */
    waitLine(re, ms = 10_000) {
      for (const line of lines) {
        const m = line.match(re);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`attacker ${mode}: no line matching ${re} within ${ms} ms (got: ${lines.join(' | ')}; stderr: ${stderr})`));
        }, ms);
        const w = (line) => {
          if (line === null) {
            clearTimeout(timer);
            waiters.delete(w);
            reject(new Error(`attacker ${mode} exited without a line matching ${re} (got: ${lines.join(' | ')}; stderr: ${stderr})`));
            return;
          }
          const m = line.match(re);
          if (!m) return;
          clearTimeout(timer);
          waiters.delete(w);
          resolve(m);
        };
        if (done) w(null);
        else waiters.add(w);
      });
    },
    kill() {
      if (!done) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Parses "key=value key=value" into numbers. */
export function fields(line) {
  const out = {};
  for (const m of line.matchAll(/(\w+)=(-?\d+)/g)) out[m[1]] = Number(m[2]);
  return out;
}
