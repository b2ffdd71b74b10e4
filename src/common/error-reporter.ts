// Runs on any thread that reports application errors: the supervisor (main thread) and each
// ENetClient. The one error reporter: through the owner's 'error' event when anyone listens (a
// listener that throws is logged instead), else the logger. A handler that throws on every packet
// must not flood the log: each cause (where + message) is logged at most once every
// ERROR_LOG_REPEAT_MS, with how many like it were left out meanwhile; a logger that throws is ignored.
import type { Logger } from './checks.js';

export const ERROR_LOG_REPEAT_MS = 10_000;
/** Causes remembered at most (the oldest is forgotten first). */
const CAUSES = 256;

/** What the reporter needs of its owner (an EventEmitter with an 'error' event). */
export interface ErrorOwner {
  listenerCount(event: 'error'): number;
  emit(event: 'error', error: Error): boolean;
}

export class ErrorReporter {
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly owner: ErrorOwner,
    private readonly logger: () => Logger,
    private readonly prefix: string,
  ) {}

  /** `where` names the cause's source, e.g. "'packetReceived' listener". */
  report(error: unknown, where: string): void {
    if (this.owner.listenerCount('error') === 0) {
      this.log(error, where);
      return;
    }
    try {
      this.owner.emit('error', error instanceof Error ? error : new Error(String(error)));
    } catch (thrown) {
      this.log(thrown, "an 'error' listener");
    }
  }

  /** To the logger only, at most once per cause every ERROR_LOG_REPEAT_MS. */
  log(error: unknown, where: string): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const key = `${where}|${text.slice(0, 200)}`;
    const now = Date.now();
    const seen = this.logged.get(key);
    if (seen && now - seen.at < ERROR_LOG_REPEAT_MS) {
      seen.suppressed++;
      return;
    }
    if (!seen && this.logged.size >= CAUSES) this.logged.delete(this.logged.keys().next().value!);
    const suppressed = seen?.suppressed ?? 0;
    this.logged.set(key, { at: now, suppressed: 0 });
    const detail = seen ? text : ((error as Error)?.stack ?? text);
    const more = suppressed > 0 ? ` (${suppressed} more like it in the last ${ERROR_LOG_REPEAT_MS / 1000} s)` : '';
    try {
      this.logger().error(`${this.prefix}: ${where} failed: ${detail}${more}`);
    } catch {
      // A logger that throws has nowhere left to report to.
    }
  }

  /**
   * EventEmitter's captureRejections hook ([Symbol.for('nodejs.rejection')]): an async listener's
   * promise rejected.
   */
  onRejection(error: unknown, event: string | symbol): void {
    if (event === 'error') this.log(error, "an 'error' listener");
    else this.report(error, `'${String(event)}' listener`);
  }
}

export const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
