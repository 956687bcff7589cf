/**
 * The pure mapping of a winston `info` object to the parts of an
 * OpenTelemetry log record: its exception, body, time, event name and
 * metadata attributes. Each part is read on its own: one that cannot be read
 * is left out (or given a placeholder) and its failure kept in the sink's
 * state, while the other parts are kept.
 *
 * The request context is not mapped here: it is added by the enrichment,
 * between the exception and the metadata (`transport/build-record.ts`).
 */
import { CorrelationKeys, type CapturedCall } from '../context/call-capture.js';
import { CORRELATION_KEYS } from '../symbols.js';
import {
  boundString,
  newValueState,
  readValue,
  toAnyValue,
  UNREADABLE,
  type AnyValue,
  type ValueLimits,
} from './any-value.js';
import { addAttribute, type AttributeSink } from './attribute-sink.js';
import { findException, forEachExceptionAttribute } from './exception.js';

/** winston's own keys: never attributes. */
const WINSTON_KEYS: ReadonlySet<string> = new Set(['level', 'message', 'splat']);

/** Keys of the info that winston's exception and rejection handlers build, carried otherwise. */
const HANDLER_KEYS = ['exception', 'rejection', 'error', 'stack', 'trace', 'date', 'process', 'os'];

/** Fields of an error that winston copies onto `info`. */
const ERROR_FIELDS = ['name', 'code', 'cause', 'stack'] as const;

/** Semantic convention: the name of an event record. */
const EVENT_NAME_KEY = 'event.name';

const EXCEPTION_PREFIX = 'exception.';

/** What mapping the exception found out about the rest of `info`. */
export interface ExceptionMapping {
  /** Keys of `info` that are the exception's, not attributes; undefined when none. */
  readonly skip: string[] | undefined;
  /** The Error whose message is the body, where `info.message` is not. */
  readonly messageError: unknown;
}

const NO_EXCEPTION: ExceptionMapping = { skip: undefined, messageError: undefined };

/**
 * Adds the exception's `exception.*` attributes to `sink`, first, so that one
 * unreadable field of `info` or of the error does not cost the others.
 */
export function mapException(
  info: Record<string, unknown>,
  call: CapturedCall,
  sink: AttributeSink,
): ExceptionMapping {
  try {
    const found = findException(info, call);
    if (found === undefined) return NO_EXCEPTION;
    forEachExceptionAttribute(found.error, sink.limits.maxStringLength, (key, value) =>
      addAttribute(sink, key, value),
    );
    sink.hasException = sink.count > 0;
    const skip: string[] = [];
    let messageError: unknown;
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
    return { skip, messageError };
  } catch (error) {
    sink.failure ??= error;
    return NO_EXCEPTION;
  }
}

/**
 * The body: the message (its first line only for a crash record, whose
 * message winston builds from the whole stack), else the message of the
 * exception that stands for it, else the message converted as a value.
 */
export function mapBody(
  info: Record<string, unknown>,
  messageError: unknown,
  crash: boolean,
  limits: ValueLimits,
  sink: AttributeSink,
): AnyValue | undefined {
  try {
    const message = info.message;
    if (typeof message === 'string') {
      return boundString(crash ? firstLine(message) : message, limits.maxStringLength);
    }
    if (messageError !== undefined) {
      const text = (messageError as { message?: unknown }).message;
      return typeof text === 'string' ? boundString(text, limits.maxStringLength) : '';
    }
    if (message === undefined) return undefined;
    const bodyState = newValueState(limits);
    const body = toAnyValue(message, 0, bodyState);
    if (bodyState.failure !== undefined) sink.failure ??= bodyState.failure;
    return body;
  } catch (error) {
    sink.failure ??= error;
    return UNREADABLE;
  }
}

/** What {@link mapMetadata} took from `info` besides attributes. */
export interface MetadataMapping {
  /** The time a `timestamp` field stands for, when it can be trusted. */
  timestamp: number | undefined;
  /** `event.name`, when it is a non-empty string. */
  eventName: string | undefined;
}

/**
 * Adds the metadata to `sink`: defaultMeta, child metadata, per-call metadata,
 * and the splat objects that winston or `format.splat()` merged. Only what is
 * on `info` counts: a format that removed a field (redaction) keeps it
 * removed. Left out: winston's keys, `skip`, a crash record's handler keys,
 * the correlation fields `traceContext()` wrote, and the `timestamp` and
 * `event.name` it returns instead.
 */
export function mapMetadata(
  info: Record<string, unknown>,
  skip: string[] | undefined,
  crash: boolean,
  sink: AttributeSink,
): MetadataMapping {
  const mapped: MetadataMapping = { timestamp: undefined, eventName: undefined };
  try {
    if (crash) (skip ??= []).push(...HANDLER_KEYS);
    const correlation = (info as { [CORRELATION_KEYS]?: unknown })[CORRELATION_KEYS];
    if (correlation instanceof CorrelationKeys) (skip ??= []).push(...correlation.keys);
    if (info.timestamp !== undefined) {
      mapped.timestamp = timestampOf(info.timestamp);
      if (mapped.timestamp !== undefined) (skip ??= []).push('timestamp');
    }
    const event = info[EVENT_NAME_KEY];
    if (typeof event === 'string' && event !== '') {
      mapped.eventName = event;
      (skip ??= []).push(EVENT_NAME_KEY);
    }
    addFields(info, skip, sink);
  } catch (error) {
    sink.failure ??= error;
  }
  return mapped;
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

function addFields(source: object, skip: readonly string[] | undefined, sink: AttributeSink): void {
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (WINSTON_KEYS.has(key) || (skip !== undefined && skip.includes(key))) continue;
    if (sink.hasException && key.startsWith(EXCEPTION_PREFIX)) continue;
    addField(source, key, sink);
  }
}

function addField(source: object, key: string, sink: AttributeSink): void {
  const converted = toAnyValue(readValue(source, key, sink), 1, sink);
  if (converted !== undefined) {
    addAttribute(sink, key.length > 256 ? boundString(key, 256) : key, converted);
  }
}
