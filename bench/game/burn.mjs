// CPU burn for the benchmarks: a busy loop of `us` microseconds of wall time, measured with
// process.hrtime.bigint() (no sleep, no syscall but the clock's vDSO read). Shared by the
// main-thread echo (bench/echo-server.mjs) and the game-actor echo (bench/game/echo.mjs).

/** Microseconds to burn per packet, from BENCH_BURN_US (0 when unset); worker threads see it too. */
export function burnUsFromEnv(env = process.env) {
  const us = Number(env.BENCH_BURN_US ?? 0);
  if (!Number.isFinite(us) || us < 0) throw new RangeError(`BENCH_BURN_US must be a number >= 0, got ${env.BENCH_BURN_US}`);
  return us;
}

/** Spins for `us` microseconds; returns how many clock reads it took (so the loop cannot be optimised away). */
export function burn(us) {
  if (!(us > 0)) return 0;
  const end = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  let spins = 0;
  while (process.hrtime.bigint() < end) spins++;
  return spins;
}
