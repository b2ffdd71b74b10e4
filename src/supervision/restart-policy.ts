// Restart policies stated as data, after Erlang/OTP supervisors: a child that fails is restarted
// after an exponential backoff, unless it failed more than `intensity` times within `periodMs`,
// in which case the supervisor gives up.

export interface RestartPolicy {
  strategy: 'one_for_one';
  /** Most restarts allowed within `periodMs`. */
  intensity: number;
  periodMs: number;
  /** First backoff; doubles with each restart inside the period, capped at `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

export class RestartTracker {
  private failures: number[] = [];

  constructor(private readonly policy: RestartPolicy) {}

  /** Records a failure; returns the delay before restarting, or -1 to give up. */
  recordFailure(now = Date.now()): number {
    const { intensity, periodMs, backoffMs, maxBackoffMs } = this.policy;
    this.failures = this.failures.filter((at) => now - at < periodMs);
    this.failures.push(now);
    if (this.failures.length > intensity) return -1;
    return Math.min(maxBackoffMs, backoffMs * 2 ** (this.failures.length - 1));
  }
}

/** One-for-one, at most 5 restarts in 10 s, backoff 10 ms doubling to 1 s. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  strategy: 'one_for_one',
  intensity: 5,
  periodMs: 10_000,
  backoffMs: 10,
  maxBackoffMs: 1000,
};
