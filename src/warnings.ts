import { diag } from '@opentelemetry/api';

/**
 * Every warning this package can give, by code. A code is never reused for a
 * different problem; retired codes stay listed with their meaning.
 */
export const WARNING_CODES = {
  /** A log record could not be built completely; it was emitted with what could be kept. */
  OTW001: 'a log record could not be built completely',
  /** A metadata value could not be read (a getter or Proxy trap threw); a placeholder was kept. */
  OTW002: 'a metadata value could not be read',
  /** More attributes than the attribute count limit; the extra ones were dropped. */
  OTW003: 'attributes dropped at the attribute count limit',
  /** An environment variable had an unusable value; the default was used. */
  OTW004: 'invalid environment variable',
  /** `setRequestContext()` was called outside `runWithRequestContext()`. */
  OTW005: 'request context update outside a request',
  /** The `traceContext()` format could not add its fields. */
  OTW006: 'trace context format failed',
  /** Emitting a record into the OpenTelemetry logs SDK threw. */
  OTW007: 'emitting a log record failed',
  /** A request context given in code was not an object. */
  OTW008: 'invalid request context',
  /** A winston log call threw (on hostile arguments, or in a format or transport); it was contained. */
  OTW009: 'a log call threw',
  /** The preload could not give a winston logger its OtelTransport or correlation fields. */
  OTW010: 'a winston logger could not be instrumented',
  /** Telemetry could not start; the app runs on without it. */
  OTW011: 'telemetry could not start',
  /** Flushing telemetry at the end of the process failed or ran out of time. */
  OTW012: 'flushing telemetry at exit failed',
  /** The request-context middleware could not do all of its work for a request; the request went on. */
  OTW013: 'request-context middleware failed for a request',
  /** The log pipeline dropped records (also a Node.js warning, at most every 30 s). */
  OTW014: 'log records dropped',
  /** An export of log records failed and will be retried; nothing is lost yet. */
  OTW015: 'log export failed; retrying',
  /** Log records are going to the disk spool. */
  OTW016: 'log records going to disk',
  /** The disk spool failed (a full disk, a folder that is not writable); records stay in memory. */
  OTW017: 'spool failed',
  /** Damaged data in the disk spool was skipped: the records in it are lost. */
  OTW018: 'damaged spool data skipped',
  /** A log policy failed (see the README for what each does then), or is set up so that it masks. */
  OTW019: 'log policy failed',
  /** A listener of the transport's `logged` event threw; the record was delivered. */
  OTW020: "a 'logged' listener threw",
  /** Records went to the API's no-op LoggerProvider: no SDK is registered (also a Node.js warning, once). */
  OTW021: 'no LoggerProvider: records go nowhere',
} as const;

/** The type of the Node.js warnings (`process.emitWarning`) this package gives. */
export const NODE_WARNING_TYPE = 'OtelWinstonWarning';

/** A warning code of this package. */
export type WarningCode = keyof typeof WARNING_CODES;

/** How often one code may reach `diag`; the rest are counted and reported with the next one. */
const WARNING_INTERVAL_MS = 10_000;

interface WarningState {
  last: number;
  suppressed: number;
}

const states = new Map<string, WarningState>();

/**
 * Reports a problem through the OpenTelemetry `diag` logger, never through the
 * logger being instrumented. Each code (and `subject`, such as the name of a
 * variable, where one code covers several things) reaches `diag` at most once every ten
 * seconds; repeats in between are counted and the count is reported next time,
 * so a hot loop with bad input cannot flood the diagnostics.
 */
export function warn(code: WarningCode, detail: string, subject = ''): void {
  try {
    const now = Date.now();
    const key = subject === '' ? code : `${code}:${subject}`;
    let state = states.get(key);
    if (state === undefined) {
      state = { last: -Infinity, suppressed: 0 };
      states.set(key, state);
    }
    if (now - state.last < WARNING_INTERVAL_MS) {
      state.suppressed++;
      return;
    }
    const repeats = state.suppressed > 0 ? ` (${state.suppressed} more since the last report)` : '';
    state.last = now;
    state.suppressed = 0;
    diag.warn(`otel-winston ${code}: ${WARNING_CODES[code]}: ${detail}${repeats}`);
  } catch {
    // A diag logger that throws must not break a log call.
  }
}

/** Forgets the rate-limit state, so the next warning of each code is reported. For tests. */
export function resetWarnings(): void {
  states.clear();
}

/** Describes a value for a message: "`-1` (number)". Never throws. */
export function describeValue(value: unknown): string {
  let shown: string;
  try {
    shown =
      typeof value === 'string'
        ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
        : typeof value === 'object' && value !== null
          ? Array.isArray(value)
            ? 'an array'
            : 'an object'
          : String(value);
  } catch {
    shown = 'an unprintable value';
  }
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${shown}\` (${type})`;
}

/** A short, never-throwing description of an error for a warning. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    return 'an unprintable error';
  }
}
