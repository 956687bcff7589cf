/**
 * Every environment variable otel-winston reads is read here, by one of these
 * readers, with the rules of `@opentelemetry/core`'s `get*FromEnv` helpers: a
 * value is trimmed, an empty one counts as unset, a list is split at commas
 * and its empty entries dropped. What these add, and why the core helpers
 * are not used directly:
 *
 * - the variables come from an `env` record (`process.env` by default), so
 *   that `startTelemetry()`, each policy and the tests can pass their own;
 * - a number has a range, and a bad value keeps the default with a coded
 *   warning (OTW004) naming the variable, where the core helpers return
 *   `undefined` through `diag` only;
 * - a boolean has a default (several are on unless turned off) and takes
 *   `on`/`off`, `yes`/`no` and `1`/`0` besides `true`/`false`; the core
 *   helper's default is always false.
 */
import { warn } from './warnings.js';

/** Where variables are read from: `process.env`, or a record given in its place. */
export type Env = Readonly<Record<string, string | undefined>>;

const TRUE = new Set(['true', '1', 'on', 'yes']);
const FALSE = new Set(['false', '0', 'off', 'no']);

/**
 * A variable exactly as it is set, not trimmed (a secret, `NO_COLOR`);
 * `undefined` when it is unset or empty.
 */
export function readRawEnv(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** A string variable, trimmed; `undefined` when it is unset or empty. */
export function readStringEnv(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

/** A boolean variable: true/1/on/yes or false/0/off/no; anything else warns and keeps the default. */
export function readBooleanEnv(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (TRUE.has(raw)) return true;
  if (FALSE.has(raw)) return false;
  warn(
    'OTW004',
    `Expected ${name} to be true or false, got ${JSON.stringify(env[name])}; using ${fallback}`,
  );
  return fallback;
}

/**
 * A boolean variable of the OpenTelemetry specification (`OTEL_SDK_DISABLED`):
 * true only for `true`, in any case; unset, empty and `false` are false, and
 * anything else is false with a warning (as `getBooleanFromEnv` of
 * `@opentelemetry/core`, with a code).
 */
export function readSpecBooleanEnv(env: Env, name: string): boolean {
  const raw = readStringEnv(env, name)?.toLowerCase();
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  warn(
    'OTW004',
    `Expected ${name} to be true or false, got ${JSON.stringify(env[name])}; only "true" is true, using false`,
    name,
  );
  return false;
}

/** The longest delay a Node timer takes; a longer one fires at once. */
const MAX_TIMER_MILLIS = 2_147_483_647;

/** A positive number of milliseconds a timer can wait; anything else warns and keeps the default. */
export function readMillisEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (Number.isFinite(value) && value > 0 && value <= MAX_TIMER_MILLIS) return value;
  warn(
    'OTW004',
    `Expected ${name} to be a number of milliseconds from 1 to ${MAX_TIMER_MILLIS}, got ${JSON.stringify(raw)}; using ${fallback}`,
    name,
  );
  return fallback;
}

/** A comma-separated list, trimmed and lower-cased; `undefined` when the variable is unset or empty. */
export function readListEnv(env: Env, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  return raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

/**
 * Reads an integer in [`min`, `max`] from the first of `names` that is set.
 * An unusable value gets a `diag` warning and the default, never an exception.
 */
export function readIntegerEnv(
  env: Env,
  names: readonly string[],
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  return readOptionalIntegerEnv(env, names, min, max, String(fallback)) ?? fallback;
}

/**
 * Like {@link readIntegerEnv}, `undefined` where it would give a default: for
 * a setting whose default belongs to another library.
 */
export function readOptionalIntegerEnv(
  env: Env,
  names: readonly string[],
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  fallbackText = 'the default',
): number | undefined {
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw.trim());
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    warn(
      'OTW004',
      `Expected ${name} to be an integer ${range}, got ${JSON.stringify(raw)}; using ${fallbackText}`,
      name,
    );
    return undefined;
  }
  return undefined;
}
