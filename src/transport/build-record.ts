import type { Attributes, LogRecord, SeverityNumber } from '@opentelemetry/api';
import { forEachRequestAttribute } from '../context/request-attributes.js';
import type { RequestContext } from '../context/request-context.js';
import { describeError, warn } from '../warnings.js';
import {
  boundString,
  newValueState,
  UNREADABLE,
  toAnyValue,
  type AnyValue,
  type ValueLimits,
  type ValueState,
} from './any-value.js';
import { CorrelationKeys, type CapturedCall } from '../context/call-capture.js';
import { findException, forEachExceptionAttribute } from './exception.js';
import { CORRELATION_KEYS } from '../symbols.js';

/** winston's own keys: never attributes. */
const WINSTON_KEYS: ReadonlySet<string> = new Set(['level', 'message', 'splat']);

/** Keys of the info that winston's exception and rejection handlers build, carried otherwise. */
const HANDLER_KEYS = ['exception', 'rejection', 'error', 'stack', 'trace', 'date', 'process', 'os'];

/** Fields of an error that winston copies onto `info`. */
const ERROR_FIELDS = ['name', 'code', 'cause', 'stack'] as const;

/** Semantic convention: the name of an event record. */
const EVENT_NAME_KEY = 'event.name';

const EXCEPTION_PREFIX = 'exception.';

/** What a record needs beyond the `info` object and its captured call. */
export interface RecordSettings {
  /** Bounds for the body. */
  readonly limits: ValueLimits;
  /** Bounds for attribute values: `limits` with the attribute value length limit applied. */
  readonly attributeLimits: ValueLimits;
  readonly attributeCountLimit: number;
  readonly includeRequestContext: boolean;
}

/** The severity a record was given. */
export interface Severity {
  readonly number: SeverityNumber;
  readonly text: string | undefined;
  /** A crash record (see `isCrashRecord` in crash.ts), decided once per record by the transport. */
  readonly crash: boolean;
}

/**
 * A record's attributes as they are collected, under the count limit, and the
 * state of converting its values: one object per record.
 */
interface AttributeSink extends ValueState {
  limits: ValueLimits;
  /** {@link NO_ATTRIBUTES} until the first attribute is added. */
  attributes: Attributes;
  count: number;
  dropped: number;
  limit: number;
  /** Metadata may not overwrite the exception's attributes. */
  hasException: boolean;
}

/** The attributes of a record that has none: shared, never written to. */
const NO_ATTRIBUTES: Attributes = Object.freeze({});

function addAttribute(sink: AttributeSink, key: string, value: AnyValue): void {
  if (sink.count === 0 && sink.attributes === NO_ATTRIBUTES) sink.attributes = {};
  const attributes = sink.attributes;
  if (Object.hasOwn(attributes, key)) {
    attributes[key] = value;
  } else if (sink.count < sink.limit) {
    attributes[key] = value;
    sink.count++;
  } else {
    sink.dropped++;
  }
}

/**
 * The sink of the last record, kept for the next: building a record is
 * synchronous, so only a reentrant call (a getter that logs) finds none and
 * makes its own.
 */
let spareSink: AttributeSink | undefined;

function takeSink(settings: RecordSettings): AttributeSink {
  const limits = settings.attributeLimits;
  const sink = spareSink;
  if (sink === undefined) {
    return {
      limits,
      budget: limits.maxValuesPerRecord,
      ancestors: undefined,
      failure: undefined,
      attributes: NO_ATTRIBUTES,
      count: 0,
      dropped: 0,
      limit: settings.attributeCountLimit,
      hasException: false,
    };
  }
  spareSink = undefined;
  sink.limits = limits;
  sink.budget = limits.maxValuesPerRecord;
  sink.failure = undefined;
  sink.attributes = NO_ATTRIBUTES;
  sink.count = 0;
  sink.dropped = 0;
  sink.limit = settings.attributeCountLimit;
  sink.hasException = false;
  return sink;
}

/**
 * The converted attributes of the last request context seen, for the
 * records that follow it: a request's records come together, and its
 * context is a frozen snapshot, so they are converted once per request.
 * Only a context of plain values (no lists) is kept.
 */
let lastRequest: Readonly<RequestContext> | undefined;
let lastRequestLimits: ValueLimits | undefined;
let lastRequestAttributes: Array<readonly [string, AnyValue]> = [];

function addRequestAttributes(sink: AttributeSink, request: Readonly<RequestContext>): void {
  if (request !== lastRequest || sink.limits !== lastRequestLimits) {
    const converted: Array<readonly [string, AnyValue]> = [];
    let plain = true;
    forEachRequestAttribute(request, (key, value) => {
      if (typeof value === 'object') plain = false;
      converted.push([key, toAnyValue(value, 1, sink) ?? null]);
    });
    lastRequest = plain ? request : undefined;
    lastRequestLimits = sink.limits;
    lastRequestAttributes = converted;
  }
  for (const [key, value] of lastRequestAttributes) addAttribute(sink, key, value);
}

/** An ISO-8601 date-time with a time zone, as `format.timestamp()` writes by default. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * The time a `timestamp` field stands for: a Date, or an ISO-8601 string with
 * a zone. Anything else (a custom format, an epoch in unknown units) is not
 * trusted: it stays an attribute and the record keeps the time of the call.
 */
function timestampOf(value: unknown): number | undefined {
  let time: number;
  if (typeof value === 'string' && ISO_8601.test(value)) time = Date.parse(value);
  else if (value instanceof Date) time = value.getTime();
  else return undefined;
  return Number.isFinite(time) ? time : undefined;
}

/**
 * Builds the OpenTelemetry log record for a winston `info` object. Never
 * throws: each part is read on its own, and a part that cannot be read is left
 * out with a `diag` warning while the rest of the record is kept.
 *
 * Attributes are collected in order of precedence for the count limit: the
 * exception, the request context, then the metadata; metadata overwrites the
 * request context on a clash, never the exception.
 */
export function buildLogRecord(
  info: Record<string, unknown>,
  call: CapturedCall,
  severity: Severity,
  settings: RecordSettings,
): LogRecord {
  const sink = takeSink(settings);
  const state: ValueState = sink;
  /** Keys of this info that are not attributes, beyond winston's own. */
  let skip: string[] | undefined;
  const isHandlerRecord = severity.crash;
  let timestamp = call.time;
  let body: AnyValue | undefined;
  let eventName: string | undefined;

  // 1. The exception. Its attributes first: one unreadable field of `info`
  // or of the error must not cost the others.
  let messageError: unknown;
  try {
    const found = findException(info, call);
    if (found !== undefined) {
      forEachExceptionAttribute(
        found.error,
        settings.attributeLimits.maxStringLength,
        (key, value) => addAttribute(sink, key, value),
      );
      sink.hasException = sink.count > 0;
      skip = [];
      if (found.key !== undefined) skip.push(found.key);
      if (found.key === 'message') messageError = found.error;
      // A transport format's copy of `logger.error(err)` lost the error's message.
      if ((found.error as unknown) === call.error && readField(info, 'message') === undefined)
        messageError = found.error;
      if (found.key === 'stack' || (found.error as unknown) === info)
        skip.push('name', 'code', 'cause');
      // winston copies an error's fields onto info (`logger.error('failed', err)`):
      // they are the exception's, not attributes of their own.
      for (const key of ERROR_FIELDS) {
        const value = readField(info, key);
        if (value !== undefined && value === readField(found.error, key)) skip.push(key);
      }
    }
  } catch (error) {
    state.failure ??= error;
  }

  // 2. The body.
  try {
    const message = info.message;
    if (typeof message === 'string') {
      body = boundString(
        isHandlerRecord ? firstLine(message) : message,
        settings.limits.maxStringLength,
      );
    } else if (messageError !== undefined) {
      const text = (messageError as { message?: unknown }).message;
      body = typeof text === 'string' ? boundString(text, settings.limits.maxStringLength) : '';
    } else if (message !== undefined) {
      const bodyState = newValueState(settings.limits);
      body = toAnyValue(message, 0, bodyState);
      if (bodyState.failure !== undefined) state.failure ??= bodyState.failure;
    }
  } catch (error) {
    state.failure ??= error;
    body = UNREADABLE;
  }

  // 3. The request context captured at the call.
  if (settings.includeRequestContext && call.request !== undefined) {
    try {
      addRequestAttributes(sink, call.request);
    } catch (error) {
      state.failure ??= error;
    }
  }

  // 4. The metadata: defaultMeta, child metadata, per-call metadata, and the
  // splat objects that winston or format.splat() merged. Only what is on
  // `info` counts: a format that removed a field (redaction) keeps it removed.
  try {
    if (isHandlerRecord) (skip ??= []).push(...HANDLER_KEYS);
    const correlation = (info as { [CORRELATION_KEYS]?: unknown })[CORRELATION_KEYS];
    if (correlation instanceof CorrelationKeys) (skip ??= []).push(...correlation.keys);
    if (info.timestamp !== undefined) {
      const time = timestampOf(info.timestamp);
      if (time !== undefined) {
        timestamp = time;
        (skip ??= []).push('timestamp');
      }
    }
    const event = info[EVENT_NAME_KEY];
    if (typeof event === 'string' && event !== '') {
      eventName = event;
      (skip ??= []).push(EVENT_NAME_KEY);
    }
    addFields(info, skip, sink, state);
  } catch (error) {
    state.failure ??= error;
  }

  if (sink.dropped > 0) {
    warn('OTW003', `${sink.dropped} attribute(s) over the limit of ${sink.limit} were dropped`);
  }
  if (state.failure !== undefined) {
    warn('OTW002', `${describeError(state.failure)}; the record keeps a placeholder`);
  }
  const attributes = sink.attributes;
  // Cleared before reuse: the record owns its attributes, and ancestors are empty again.
  sink.attributes = NO_ATTRIBUTES;
  spareSink = sink;
  // A few fixed shapes: the SDK copies the record with a spread, which stays
  // fast while the shapes it sees are few, and costs per key it copies.
  if (eventName !== undefined) {
    return {
      timestamp,
      severityNumber: severity.number,
      severityText: severity.text,
      body,
      attributes,
      eventName,
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

/** A field, or `undefined` where its getter or Proxy trap throws. */
function readField(source: object, key: string): unknown {
  try {
    return (source as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

function addFields(
  source: object,
  skip: readonly string[] | undefined,
  sink: AttributeSink,
  state: ValueState,
): void {
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (WINSTON_KEYS.has(key) || (skip !== undefined && skip.includes(key))) continue;
    if (sink.hasException && key.startsWith(EXCEPTION_PREFIX)) continue;
    addField(source, key, sink, state);
  }
}

function addField(source: object, key: string, sink: AttributeSink, state: ValueState): void {
  let value: unknown;
  try {
    value = (source as Record<string, unknown>)[key];
  } catch (error) {
    state.failure ??= error;
    value = '[Unreadable]';
  }
  const converted = toAnyValue(value, 1, state);
  if (converted !== undefined) {
    addAttribute(sink, key.length > 256 ? boundString(key, 256) : key, converted);
  }
}
