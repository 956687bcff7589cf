import { readIntegerEnv, type Env } from './env.js';

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
