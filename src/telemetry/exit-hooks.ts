import { onUncaught as onCrash } from '../transport/crash.js';
import { describeError, warn } from '../warnings.js';

/** What the exit hooks do, supplied by the telemetry that installs them. */
export interface ExitActions {
  /**
   * Flushes logs, spans and metrics, records that arrive meanwhile
   * included; resolves when done.
   */
  flush(): Promise<void>;
  /**
   * Drops whatever is still held and says so, once, on stderr (what a disk
   * spool can keep goes there). `final` when the process ends right after
   * (the `exit` event, a signal raised again): files can be closed.
   * Synchronous: it runs at the flush deadline and in the process `exit` event.
   */
  giveUp(final: boolean): void;
  /** The longest a flush may take before the process goes on to end. */
  readonly timeoutMillis: number;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs `flush` but stops waiting after `timeoutMillis`, with a warning, and
 * then calls `onTimeout`; never rejects. Until then its timer keeps the
 * process alive, so that a flush at the end of a script can finish; after
 * it, nothing of it does.
 */
export async function flushWithin(
  flush: () => Promise<void>,
  timeoutMillis: number,
  onTimeout?: () => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMillis);
  });
  try {
    const outcome = await Promise.race([flush().then(() => 'done' as const), deadline]);
    if (outcome === 'timeout') {
      warn('OTW012', `the flush did not finish within ${timeoutMillis} ms`);
      onTimeout?.();
    }
  } catch (error) {
    warn('OTW012', describeError(error));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Flushes telemetry on every way a process ends, and then keeps Node's own
 * outcome:
 *
 * - `beforeExit` (the event loop ran dry): flush; the process then ends as it would;
 * - `SIGTERM`, `SIGINT`: flush, then end by the same signal, unless the app
 *   has its own handler, which then decides;
 * - an uncaught exception or unhandled rejection: flush, and if nobody else
 *   owns the crash, record it first as a FATAL record, then print it as Node
 *   does and exit with code 1 (see `transport/crash.ts`, where that decision is).
 *
 * `process.exit()` ends the process synchronously: nothing asynchronous,
 * such as an export, can run after it; what is still held then is counted
 * as dropped and reported. Returns a function that removes the hooks.
 */
export function installExitHooks(actions: ExitActions): () => void {
  // One flush at a time, but not once only: an app that handles SIGTERM itself
  // may log while it shuts down, and the flush at beforeExit must carry that too.
  let flushing: Promise<void> | undefined;
  const giveUp = (final: boolean): void => {
    try {
      actions.giveUp(final);
    } catch (error) {
      warn('OTW012', describeError(error));
    }
  };
  /** The process ends now. */
  const onExit = (): void => giveUp(true);
  const flushOnce = (): Promise<void> =>
    (flushing ??= flushWithin(
      () => actions.flush(),
      actions.timeoutMillis,
      // An app with its own signal handler goes on after the deadline: not final.
      () => giveUp(false),
    ).finally(() => {
      flushing = undefined;
    }));

  const onBeforeExit = (): void => {
    process.removeListener('beforeExit', onBeforeExit);
    // The app's own beforeExit listeners run after ours, in this same turn:
    // flush in the next one, so what they log goes out too.
    setImmediate(() => void flushOnce());
  };

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    const appHandles = process.listenerCount(signal) > 1;
    if (signalled && !appHandles) {
      // A second Ctrl-C while flushing: stop waiting, end now.
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
      return;
    }
    signalled = true;
    void flushOnce().then(() => {
      if (appHandles) return;
      process.removeListener(signal, onSignal);
      // Ending by a signal skips the 'exit' event: report what was lost first.
      giveUp(true);
      process.kill(process.pid, signal);
    });
  };

  const onUncaught = (error: unknown, origin: string): void => onCrash(error, origin, flushOnce);

  process.on('beforeExit', onBeforeExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('uncaughtException', onUncaught);
  // process.exit(), or the end after beforeExit: nothing can be sent any more, only counted.
  process.on('exit', onExit);

  return () => {
    process.removeListener('beforeExit', onBeforeExit);
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    process.removeListener('uncaughtException', onUncaught);
    process.removeListener('exit', onExit);
  };
}
