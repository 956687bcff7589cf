import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Defaults } from '../defaults.js';
import { format, type Format, type TransformableInfo } from 'logform';
import { getRequestContext, type RequestContext } from '../context/request-context.js';
import { CorrelationKeys, type CapturedCall } from '../context/call-capture.js';
import { describeError, warn } from '../warnings.js';
import { CAPTURED_CALL, CORRELATION_KEYS } from '../symbols.js';

/** Request context fields and the key each gets in the app's own lines. */
const FIELD_KEYS = [
  ['requestId', 'request_id'],
  ['userId', 'user_id'],
  ['route', 'http_route'],
  ['method', 'http_method'],
  ['path', 'url_path'],
  ['clientAddress', 'client_address'],
] as const satisfies ReadonlyArray<readonly [keyof RequestContext, string]>;

/** Options of {@link traceContext}. */
export interface TraceContextFormatOptions {
  /**
   * Add the request context fields (`request_id`, `user_id`, `http_route`,
   * `http_method`, `url_path`, `client_address`) as well as the trace fields.
   * @default true
   */
  requestContext?: boolean;
}

/** The fixed default of each {@link TraceContextFormatOptions} option. */
export const TRACE_CONTEXT_DEFAULTS = {
  requestContext: true,
} as const satisfies Defaults<TraceContextFormatOptions>;

/**
 * A winston format that adds `trace_id`, `span_id` and `trace_flags` (two hex
 * digits) and the request context fields to `info`, so Console and File lines
 * correlate with the exported records. Absent values are left out, never
 * written as "undefined". The OtelTransport does not export these keys again:
 * its records carry the same facts as trace context and attributes.
 *
 * @example
 * winston.createLogger({
 *   format: winston.format.combine(traceContext(), winston.format.json()),
 *   transports: [new winston.transports.Console(), new OtelTransport()],
 * });
 */
export function traceContext(options: TraceContextFormatOptions = {}): Format {
  const withRequest = options.requestContext ?? TRACE_CONTEXT_DEFAULTS.requestContext;
  return format((info) => {
    try {
      addCorrelation(info as TransformableInfo & Record<PropertyKey, unknown>, withRequest);
    } catch (error) {
      warn('OTW006', describeError(error));
    }
    return info;
  })();
}

function addCorrelation(info: Record<PropertyKey, unknown>, withRequest: boolean): void {
  // Prefer what was captured at the call: a format on a transport runs later.
  const call = info[CAPTURED_CALL] as CapturedCall | undefined;
  const added: string[] = [];
  const spanContext = trace.getSpanContext(call?.context ?? context.active());
  if (spanContext !== undefined && isSpanContextValid(spanContext)) {
    info.trace_id = spanContext.traceId;
    info.span_id = spanContext.spanId;
    info.trace_flags = spanContext.traceFlags.toString(16).padStart(2, '0');
    added.push('trace_id', 'span_id', 'trace_flags');
  }
  if (withRequest) {
    const request = call !== undefined ? call.request : getRequestContext();
    if (request !== undefined) {
      for (const [field, key] of FIELD_KEYS) {
        const value = request[field];
        if (value !== undefined && value !== null && value !== '') {
          info[key] = value;
          added.push(key);
        }
      }
    }
  }
  if (added.length > 0) info[CORRELATION_KEYS] = new CorrelationKeys(added);
}
