import type { LogRecord, SeverityNumber } from '@opentelemetry/api';
import type { CapturedCall } from '../context/call-capture.js';
import { addCallSiteAttributes, addRequestAttributes } from '../enrichment/request-enricher.js';
import type { ValueLimits } from '../mapping/any-value.js';
import { NO_ATTRIBUTES, newAttributeSink } from '../mapping/attribute-sink.js';
import { mapBody, mapException, mapMetadata } from '../mapping/map-record.js';
import { describeError, warn } from '../warnings.js';

/** What a record needs beyond the `info` object and its captured call. */
export interface RecordSettings {
  /** Bounds for the body. */
  readonly limits: ValueLimits;
  /** Bounds for attribute values: `limits` with the attribute value length limit applied. */
  readonly attributeLimits: ValueLimits;
  readonly attributeCountLimit: number;
  readonly includeRequestContext: boolean;
  readonly includeCodeAttributes: boolean;
}

/** The severity a record was given. */
export interface Severity {
  readonly number: SeverityNumber;
  readonly text: string | undefined;
  /** A crash record (see `isCrashRecord` in crash.ts), decided once per record by the transport. */
  readonly crash: boolean;
}

/**
 * Builds the OpenTelemetry log record for a winston `info` object: the
 * mapping of `info` (`mapping/map-record.ts`) and the enrichment from the
 * call (`enrichment/request-enricher.ts`), in the order of precedence of
 * their attributes under the count limit:
 *
 * 1. the exception (`exception.*`), which the metadata may not overwrite;
 * 2. the request context captured at the call, then the call site
 *    (`code.*`, with `includeCodeAttributes`);
 * 3. the metadata, which overwrites the request context on a clash.
 *
 * Never throws: each part is read on its own, and a part that cannot be read
 * is left out with a `diag` warning while the rest of the record is kept.
 */
export function buildLogRecord(
  info: Record<string, unknown>,
  call: CapturedCall,
  severity: Severity,
  settings: RecordSettings,
): LogRecord {
  const sink = newAttributeSink(settings.attributeLimits, settings.attributeCountLimit);
  const exception = mapException(info, call, sink);
  const body = mapBody(info, exception.messageError, severity.crash, settings.limits, sink);
  if (settings.includeRequestContext && call.request !== undefined) {
    try {
      addRequestAttributes(sink, call.request);
    } catch (error) {
      sink.failure ??= error;
    }
  }
  if (settings.includeCodeAttributes && call.site !== undefined) {
    addCallSiteAttributes(sink, call.site);
  }
  const metadata = mapMetadata(info, exception.skip, severity.crash, sink);

  if (sink.dropped > 0) {
    warn('OTW003', `${sink.dropped} attribute(s) over the limit of ${sink.limit} were dropped`);
  }
  if (sink.failure !== undefined) {
    warn('OTW002', `${describeError(sink.failure)}; the record keeps a placeholder`);
  }
  const timestamp = metadata.timestamp ?? call.time;
  const attributes = sink.attributes;
  // A few fixed shapes: the SDK copies the record with a spread, which stays
  // fast while the shapes it sees are few, and costs per key it copies.
  if (metadata.eventName !== undefined) {
    return {
      timestamp,
      severityNumber: severity.number,
      severityText: severity.text,
      body,
      attributes,
      eventName: metadata.eventName,
      context: call.context,
    };
  }
  if (attributes === NO_ATTRIBUTES) {
    return {
      timestamp,
      severityNumber: severity.number,
      severityText: severity.text,
      body,
      context: call.context,
    };
  }
  return {
    timestamp,
    severityNumber: severity.number,
    severityText: severity.text,
    body,
    attributes,
    context: call.context,
  };
}
