import { describeValue } from './warnings.js';

/** Stable error codes of this package. A code is never reused. */
export const ERROR_CODES = {
  /** An option passed in code has the wrong type or value. */
  OTW_ERR_INVALID_OPTION: 'OTW_ERR_INVALID_OPTION',
  /** An argument passed to a function has the wrong type. */
  OTW_ERR_INVALID_ARGUMENT: 'OTW_ERR_INVALID_ARGUMENT',
} as const;

/** An error of this package, with a stable `code`. Thrown only for options passed in code. */
export class OtelWinstonError extends Error {
  /** The stable code of this error, one of {@link ERROR_CODES}. */
  readonly code: keyof typeof ERROR_CODES;

  constructor(code: keyof typeof ERROR_CODES, message: string) {
    super(message);
    this.name = 'OtelWinstonError';
    this.code = code;
  }
}

/**
 * An error for an option with a bad value:
 * "Expected `maxDepth` to be an integer from 1 to 64, got `-1` (number)".
 */
export function invalidOption(name: string, expected: string, got: unknown): OtelWinstonError {
  return new OtelWinstonError(
    'OTW_ERR_INVALID_OPTION',
    `Expected \`${name}\` to be ${expected}, got ${describeValue(got)}`,
  );
}

/** Checks an optional integer option in [min, max]; `Infinity` is accepted where `max` is. */
export function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    value >= min &&
    value <= max &&
    (Number.isInteger(value) || value === Infinity);
  if (!ok) {
    const upper = max === Infinity ? 'Infinity' : String(max);
    throw invalidOption(name, `an integer from ${min} to ${upper}`, value);
  }
}
