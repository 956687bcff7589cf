import { warn } from '../warnings.js';

type Env = Readonly<Record<string, string | undefined>>;

const TRUE = new Set(['true', '1', 'on', 'yes']);
const FALSE = new Set(['false', '0', 'off', 'no']);

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
