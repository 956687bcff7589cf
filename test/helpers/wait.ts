import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `get` until it returns something other than `undefined` (or `false`),
 * and returns that. Throws after `timeoutMillis`, naming `what` (a function is
 * called then, for a message that shows the state at the time).
 */
export async function waitUntil<T>(
  what: string | (() => string),
  get: () => T | undefined | false,
  timeoutMillis = 10_000,
  everyMillis = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const value = get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await sleep(everyMillis);
  }
}
