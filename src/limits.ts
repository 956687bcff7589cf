import { warn } from './warnings.js';

/** The attribute limits of a log record (OpenTelemetry specification, "Attribute limits"). */
export interface AttributeLimits {
  /** Most attributes a record keeps. */
  readonly attributeCountLimit: number;
  /** Longest string (or byte array) an attribute value keeps; longer ones are truncated. */
  readonly attributeValueLengthLimit: number;
}

/** The specification's defaults: 128 attributes, values of any length. */
export const DEFAULT_ATTRIBUTE_LIMITS: AttributeLimits = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
};

type Env = Readonly<Record<string, string | undefined>>;

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
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw.trim());
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    warn(
      'OTW004',
      `Expected ${name} to be an integer ${range}, got ${JSON.stringify(raw)}; using ${fallback}`,
      name,
    );
    return fallback;
  }
  return fallback;
}

/**
 * The log record attribute limits from `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`
 * and `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`, falling back to the general
 * `OTEL_ATTRIBUTE_COUNT_LIMIT` and `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, then to
 * the specification's defaults.
 */
export function attributeLimitsFromEnv(env: Env = process.env): AttributeLimits {
  return {
    attributeCountLimit: readIntegerEnv(
      env,
      ['OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'],
      DEFAULT_ATTRIBUTE_LIMITS.attributeCountLimit,
      0,
    ),
    attributeValueLengthLimit: readIntegerEnv(
      env,
      ['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'],
      DEFAULT_ATTRIBUTE_LIMITS.attributeValueLengthLimit,
      1,
    ),
  };
}
