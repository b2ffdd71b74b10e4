// Runs on the main thread of a server process: the glue between one server and its process, used by
// enet-server, the demo and the benchmark servers alike. It tells PM2 the server is ready once it is
// bound (wait_ready), and on SIGINT/SIGTERM stops it gracefully (peers are told "Server stopped")
// within a bound shorter than PM2's kill_timeout, then exits. A second signal exits at once.
import type { ENetServerSupervisor } from './server.js';

export interface ServeOptions {
  /** Longest a graceful stop may take before the process exits anyway (keep it under PM2's kill_timeout). */
  stopTimeoutMs?: number;
  /** Runs when the signal comes, before the server stops (e.g. to read its last metrics). */
  beforeStop?: () => void;
  /** Runs after the server stopped, before the process exits (e.g. to print statistics, close an HTTP server). */
  onStop?: () => void | Promise<void>;
  /** Where "stopping…" goes; default stderr. */
  log?: (line: string) => void;
}

/** Default bound of a graceful stop: below PM2's default kill_timeout (1.6 s) plus ours (5 s in ecosystem.config.cjs). */
export const STOP_TIMEOUT_MS = 4000;

/**
 * Call once the server is started: reports ready to PM2 and stops on SIGINT/SIGTERM. Resolves when
 * the server has stopped because of a signal (the process exits right after).
 */
export function serveUntilSignal(server: ENetServerSupervisor, options: ServeOptions = {}): Promise<void> {
  const { stopTimeoutMs = STOP_TIMEOUT_MS, beforeStop, onStop, log = (line) => process.stderr.write(`${line}\n`) } = options;
  // Under PM2 (wait_ready) only now: the port is bound and every actor is up.
  process.send?.('ready');
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: NodeJS.Signals): Promise<void> => {
      if (stopping) {
        log(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      log(`${signal}: stopping…`);
      const deadline = setTimeout(() => {
        log(`the server did not stop within ${stopTimeoutMs} ms: exiting`);
        process.exit(1);
      }, stopTimeoutMs);
      deadline.unref();
      try {
        beforeStop?.();
        await server.stopServer();
        await onStop?.();
      } catch (error) {
        log(`while stopping: ${(error as Error)?.stack ?? error}`);
      }
      clearTimeout(deadline);
      resolve();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
