import type { Attributes, LogRecord, SeverityNumber } from '@opentelemetry/api';
import { forEachRequestAttribute } from '../context/request-attributes.js';
import { describeError, warn } from '../warnings.js';
import {
  boundString,
  newValueState,
  type AnyValue,
  toAnyValue,
  type ValueLimits,
  type ValueState,
} from './any-value.js';
import type { CapturedCall } from './capture.js';
import { findException, forEachExceptionAttribute, type FoundException } from './exception.js';

const SPLAT = Symbol.for('splat');

/** Set by the `traceContext()` format: the keys it added, which are not attributes again. */
export const CORRELATION_KEYS = Symbol.for('otel-winston.correlation-keys.v1');

/** winston's own keys: never attributes. */
const WINSTON_KEYS = new Set(['level', 'message', 'splat']);

/** Keys of the info that winston's exception and rejection handlers build, carried otherwise. */
const HANDLER_KEYS = new Set([
  'exception',
  'rejection',
  'error',
  'stack',
  'trace',
  'date',
  'process',
  'os',
]);

/** Fields of an error that winston copies onto `info`. */
const ERROR_FIELDS = ['name', 'code', 'cause', 'stack'] as const;

/** Semantic convention: the name of an event record. */
const EVENT_NAME_KEY = 'event.name';

/**
 * A record built by winston's exception or rejection handler: an uncaught
 * exception or an unhandled rejection, about to end the process.
 */
export function isCrashRecord(info: unknown): boolean {
  if (typeof info !== 'object' || info === null) return false;
  try {
    const record = info as { exception?: unknown; rejection?: unknown };
    return record.exception === true || record.rejection === true;
  } catch {
    return false;
  }
}

/** What a record needs beyond the `info` object and its captured call. */
export interface RecordSettings {
  readonly limits: ValueLimits;
  readonly attributeCountLimit: number;
  readonly attributeValueLengthLimit: number;
  readonly includeRequestContext: boolean;
}

/** The severity a record was given. */
export interface Severity {
  readonly number: SeverityNumber;
  readonly text: string | undefined;
}

/** Collects a record's attributes under the count limit; keys set earlier are protected. */
class AttributeSink {
  readonly attributes: Attributes = {};
  count = 0;
  dropped = 0;
  private readonly protectedKeys = new Set<string>();

  constructor(private readonly limit: number) {}

  readonly add = (key: string, value: AnyValue): void => {
    if (Object.hasOwn(this.attributes, key)) {
      if (!this.protectedKeys.has(key)) this.attributes[key] = value;
      return;
    }
    if (this.count >= this.limit) {
      this.dropped++;
      return;
    }
    this.attributes[key] = value;
    this.count++;
  };

  protect(key: string): void {
    this.protectedKeys.add(key);
  }
}

function timestampOf(value: unknown): number | undefined {
  let time: number;
  if (typeof value === 'string') time = Date.parse(value);
  else if (typeof value === 'number') time = value;
  else if (value instanceof Date) time = value.getTime();
  else return undefined;
  return Number.isFinite(time) ? time : undefined;
}

const PRINTF_TOKEN = /%[sdifjoOc]/;

/**
 * Builds the OpenTelemetry log record for a winston `info` object. Never
 * throws: each part is read on its own, and a part that cannot be read is left
 * out with a `diag` warning while the rest of the record is kept.
 */
export function buildLogRecord(
  info: Record<string, unknown>,
  call: CapturedCall,
  severity: Severity,
  settings: RecordSettings,
): LogRecord {
  const attributeLimits: ValueLimits =
    settings.attributeValueLengthLimit < settings.limits.maxStringLength
      ? { ...settings.limits, maxStringLength: settings.attributeValueLengthLimit }
      : settings.limits;
  const state = newValueState(attributeLimits);
  const sink = new AttributeSink(settings.attributeCountLimit);
  const skip = new Set<string>(WINSTON_KEYS);
  const isHandlerRecord = isCrashRecord(info);
  const record: LogRecord = {
    timestamp: call.time,
    observedTimestamp: Date.now(),
    severityNumber: severity.number,
    severityText: severity.text,
    context: call.context,
  };

  // 1. The exception: its attributes come first and are protected.
  let found: FoundException | undefined;
  try {
    found = findException(info, call.splatError);
    if (found !== undefined) {
      if (found.key !== undefined) skip.add(found.key);
      if (found.key === 'stack' || (found.error as unknown) === info) {
        skip.add('name').add('code').add('cause');
      }
      // winston copies an error's fields onto info (`logger.error('failed', err)`):
      // they are the exception's, not attributes of their own.
      for (const key of ERROR_FIELDS) {
        const value = info[key];
        if (value !== undefined && value === found.error[key]) skip.add(key);
      }
      forEachExceptionAttribute(found.error, attributeLimits.maxStringLength, (key, value) => {
        sink.add(key, value);
        sink.protect(key);
      });
    }
  } catch (error) {
    noteFailure(state, error);
  }

  // 2. The body.
  try {
    const message = info.message;
    if (typeof message === 'string') {
      const body = isHandlerRecord ? firstLine(message) : message;
      record.body = boundString(body, settings.limits.maxStringLength);
    } else if (found !== undefined && found.key === 'message') {
      const text = found.error.message;
      record.body =
        typeof text === 'string' ? boundString(text, settings.limits.maxStringLength) : '';
    } else if (message !== undefined) {
      const bodyState = newValueState(settings.limits);
      record.body = toAnyValue(message, 0, bodyState);
      if (bodyState.failure !== undefined) noteFailure(state, bodyState.failure);
    }
  } catch (error) {
    noteFailure(state, error);
  }

  // 3. The request context captured at the call.
  if (settings.includeRequestContext && call.request !== undefined) {
    try {
      forEachRequestAttribute(call.request, (key, value) => {
        sink.add(key, toAnyValue(value, 1, state) ?? null);
      });
    } catch (error) {
      noteFailure(state, error);
    }
  }

  // 4. The metadata: defaultMeta, child metadata, per-call metadata, splat.
  try {
    if (isHandlerRecord) for (const key of HANDLER_KEYS) skip.add(key);
    const correlation = (info as { [CORRELATION_KEYS]?: readonly string[] })[CORRELATION_KEYS];
    if (correlation !== undefined) for (const key of correlation) skip.add(key);
    const time = timestampOf(info.timestamp);
    if (time !== undefined) {
      record.timestamp = time;
      skip.add('timestamp');
    }
    const eventName = info[EVENT_NAME_KEY];
    if (typeof eventName === 'string' && eventName !== '') {
      record.eventName = eventName;
      skip.add(EVENT_NAME_KEY);
    }
    addFields(info, skip, sink, state);
    addSplat(info, sink, state);
  } catch (error) {
    noteFailure(state, error);
  }

  if (sink.count > 0 || sink.dropped > 0) record.attributes = sink.attributes;
  if (sink.dropped > 0) {
    warn(
      'OTW003',
      `${sink.dropped} attribute(s) over the limit of ${settings.attributeCountLimit} were dropped`,
    );
  }
  if (state.failure !== undefined) {
    warn('OTW002', `${describeError(state.failure)}; the record keeps a placeholder`);
  }
  return record;
}

function noteFailure(state: ValueState, error: unknown): void {
  state.failure ??= error;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

function addFields(
  source: object,
  skip: ReadonlySet<string>,
  sink: AttributeSink,
  state: ValueState,
): void {
  const keys = Object.keys(source);
  for (const key of keys) {
    if (skip.has(key)) continue;
    let value: unknown;
    try {
      value = (source as Record<string, unknown>)[key];
    } catch (error) {
      noteFailure(state, error);
      value = '[Unreadable]';
    }
    const converted = toAnyValue(value, 1, state);
    if (converted !== undefined) sink.add(boundString(key, 256), converted);
  }
}

/**
 * Splat arguments winston did not merge into `info`: objects add their fields
 * (fields already on `info` win); when the message still has printf tokens
 * (no `format.splat()`), primitive arguments are kept as `log.args`.
 */
function addSplat(info: Record<string, unknown>, sink: AttributeSink, state: ValueState): void {
  const splat = (info as { [SPLAT]?: unknown })[SPLAT];
  if (!Array.isArray(splat) || splat.length === 0) return;
  let args: unknown[] | undefined;
  for (const arg of splat as unknown[]) {
    if (typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
      if (arg instanceof Error) continue;
      const extra = new Set<string>();
      for (const key of Object.keys(arg)) if (Object.hasOwn(info, key)) extra.add(key);
      addFields(arg, extra, sink, state);
    } else {
      (args ??= []).push(arg);
    }
  }
  const message = info.message;
  if (args !== undefined && typeof message === 'string' && PRINTF_TOKEN.test(message)) {
    const converted = toAnyValue(args, 1, state);
    if (converted !== undefined) sink.add('log.args', converted);
  }
}
