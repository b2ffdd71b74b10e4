// Runs on any thread that reports application errors to a logger (the ENetClient's, today; the
// server's supervisor does the same in its own copy). A handler that throws on every packet must
// not flood the log: each cause (where + message) is logged at most once every REPEAT_MS, with how
// many like it were left out meanwhile; a logger that throws is ignored.
import type { Logger } from './checks.js';

export const ERROR_LOG_REPEAT_MS = 10_000;
/** Causes remembered at most (the oldest is forgotten first). */
const CAUSES = 256;

export class ErrorLog {
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: () => Logger,
    private readonly prefix: string,
  ) {}

  /** `where` names the cause's source, e.g. "'packetReceived' listener". */
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
}
