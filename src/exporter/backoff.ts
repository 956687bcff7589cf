/** How long to wait before the next attempt, and for how long to keep trying. */
export interface RetryPolicy {
  /** The first wait, in milliseconds. */
  readonly initialMillis: number;
  /** The longest wait between two attempts, in milliseconds. */
  readonly maxMillis: number;
  /** How long one batch may be retried before it is dropped; `Infinity`: while the queue has room. */
  readonly maxElapsedMillis: number;
}

const MULTIPLIER = 1.5;
/** Each wait is randomised by ±20%, so that many processes do not retry in step. */
const JITTER = 0.2;
/** A `Retry-After` longer than this is taken as this: a server cannot park a client for a day. */
const MAX_RETRY_AFTER_MILLIS = 10 * 60_000;

/**
 * The wait before attempt `failures + 1`, after `failures` failed ones in a
 * row: exponential from `initialMillis`, capped at `maxMillis`, with jitter;
 * a server's `Retry-After` wins when it gives one.
 */
export function backoffMillis(
  policy: RetryPolicy,
  failures: number,
  retryAfterMillis: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMillis !== undefined) return Math.min(retryAfterMillis, MAX_RETRY_AFTER_MILLIS);
  const base = Math.min(policy.maxMillis, policy.initialMillis * MULTIPLIER ** (failures - 1));
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  return Math.max(0, Math.min(policy.maxMillis, jittered));
}

/**
 * A `Retry-After` header (RFC 9110 §10.2.3): a number of seconds, or an
 * HTTP date. `undefined` when absent or unreadable.
 */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
