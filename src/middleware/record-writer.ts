import { context, logs, SeverityNumber, type Attributes, type Context } from '@opentelemetry/api';
import { requestContextAttributes } from '../context/request-attributes.js';
import { getRequestContext } from '../context/request-context.js';
import { VERSION } from '../version.js';
import { describeError, warn } from '../warnings.js';
import type { RecordLogger } from './options.js';

/** The levels of the middleware's own records. */
export type RecordLevel = 'error' | 'warn' | 'info';

// The text is the level name, as on the records of a winston logger with npm levels.
const SEVERITIES = {
  error: [SeverityNumber.ERROR, 'error'],
  warn: [SeverityNumber.WARN, 'warn'],
  info: [SeverityNumber.INFO, 'info'],
} as const;

/** The names other level sets give to the same levels (syslog: `err`, `warning`). */
const ALIASES: Record<RecordLevel, readonly string[]> = {
  error: ['error', 'err'],
  warn: ['warn', 'warning'],
  info: ['info', 'notice'],
};

/**
 * The level of `logger` to use for `level`: the name itself when the logger
 * has no `levels` table (not a winston logger), else the first alias it
 * knows; `undefined` when it knows none of them.
 */
function levelIn(logger: RecordLogger, level: RecordLevel): string | undefined {
  const levels = (logger as { levels?: unknown }).levels;
  if (typeof levels !== 'object' || levels === null) return level;
  return ALIASES[level].find((name) => Object.hasOwn(levels, name));
}

/**
 * Writes the middleware's own records (access, identity), linked to the
 * request's server span, with the request context of the caller's scope: to
 * `logger` when one is given and has a fitting level, else through the
 * OpenTelemetry logs API. Never throws: a failure goes to `diag` (OTW007).
 */
export function recordWriter(logger: RecordLogger | undefined) {
  return (
    level: RecordLevel,
    eventName: string,
    body: string,
    extra: Attributes,
    spanContext: Context,
  ): void => {
    try {
      const name = logger !== undefined ? levelIn(logger, level) : undefined;
      if (logger !== undefined && name !== undefined) {
        // The logger's OtelTransport captures the trace and request context itself,
        // and maps `event.name` to the record's event name.
        context.with(spanContext, () =>
          logger.log(name, body, { ...extra, 'event.name': eventName }),
        );
        return;
      }
      const scope = getRequestContext();
      const [severityNumber, severityText] = SEVERITIES[level];
      logs.getLogger('otel-winston', VERSION).emit({
        severityNumber,
        severityText,
        body,
        eventName,
        attributes: { ...(scope !== undefined ? requestContextAttributes(scope) : {}), ...extra },
        context: spanContext,
      });
    } catch (error) {
      warn('OTW007', `The ${eventName} record could not be written: ${describeError(error)}`);
    }
  };
}
