// Runs on the main thread (the supervisor of a server, or an ENetClient's client network). The one child
// supervisor of every actor kind (net and game), after Erlang/OTP one-for-one: it starts a child, watches it, restarts it with the policy's backoff when
// it dies, and gives up past the policy's intensity. The policy is data (restart-policy.ts); what a
// child is (a worker thread, a Piscina task) is the spec's business.
import { RestartTracker, type RestartPolicy } from './restart-policy.js';
import { ActorGaveUpError, type ActorKind } from '../wire/errors.js';

export type { ActorKind } from '../wire/errors.js';

export interface ChildSpec {
  kind: ActorKind;
  id: number;
  policy: RestartPolicy;
  /**
   * Starts one incarnation. The promise settles when it ends: resolved = it stopped because it was
   * asked to; rejected = it died (the error is the reason).
   */
  start(): Promise<void>;
  /** It died; called before the restart is scheduled (e.g. to look at what it had in hand). */
  onDeath?(reason: string): void;
  /** A new incarnation was started after a death. */
  onRestart?(reason: string): void;
  /** It died more often than the policy allows; it is not restarted. */
  onGiveUp?(error: Error): void;
}

export class ChildSupervisor {
  /** Restarts so far. */
  restarts = 0;
  private readonly tracker: RestartTracker;
  private closed = false;
  private current: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly spec: ChildSpec) {
    this.tracker = new RestartTracker(spec.policy);
  }

  get kind(): ActorKind {
    return this.spec.kind;
  }

  get id(): number {
    return this.spec.id;
  }

  start(): void {
    this.launch();
  }

  /** No more restarts; resolves once the current incarnation has ended (the caller makes it end). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private launch(): void {
    this.current = this.spec.start().then(
      () => undefined,
      (error: unknown) => {
        if (!this.closed) this.died(error instanceof Error ? error.message : String(error));
      },
    );
  }

  private died(reason: string): void {
    this.spec.onDeath?.(reason);
    const delay = this.tracker.recordFailure();
    if (delay < 0) {
      this.closed = true;
      const { kind, id } = this.spec;
      this.spec.onGiveUp?.(new ActorGaveUpError(kind, id, reason));
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.restarts++;
      this.launch();
      this.spec.onRestart?.(reason);
    }, delay);
    this.timer.unref();
  }
}
