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
 * row: exponential from `initialMillis`, capped at `maxMillis`, with jitter.
 * A server's `Retry-After` may make it longer (up to 10 minutes), never
 * shorter: a server that says "0" cannot make the client hammer it.
 */
export function backoffMillis(
  policy: RetryPolicy,
  failures: number,
  retryAfterMillis: number | undefined,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxMillis, policy.initialMillis * MULTIPLIER ** (failures - 1));
  const backoff = Math.max(
    0,
    Math.min(policy.maxMillis, base * (1 - JITTER + 2 * JITTER * random())),
  );
  if (retryAfterMillis === undefined) return backoff;
  return Math.max(backoff, Math.min(retryAfterMillis, MAX_RETRY_AFTER_MILLIS));
}

/** An IMF-fixdate, the HTTP date form (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`. */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * A `Retry-After` header (RFC 9110 §10.2.3): a whole number of seconds, or
 * an HTTP date in the future. `undefined` when absent, malformed or past.
 */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!HTTP_DATE.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) || date <= now ? undefined : date - now;
}
