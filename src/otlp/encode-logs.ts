/**
 * OTLP logs in protobuf, written by this package: one log record at a time
 * into a batch's buffer (as `ScopeLogs.log_records` fields), and the
 * envelope around a batch when it is sent. Field numbers are those of
 * `opentelemetry/proto/logs/v1/logs.proto`, `common/v1/common.proto` and
 * `resource/v1/resource.proto`. The output decodes to what the upstream
 * `ProtobufLogsSerializer` writes for the same records (a golden test holds
 * the two together); it leaves out fields equal to their protobuf default,
 * as protobuf allows.
 */
import {
  isSpanContextValid,
  trace,
  type AnyValue,
  type Attributes,
  type Context,
  type HrTime,
  type SpanContext,
} from '@opentelemetry/api';
import { timeInputToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  FIXED32,
  FIXED64,
  LENGTH_DELIMITED,
  ProtobufWriter,
  VARINT,
  varintSize,
} from './protobuf-writer.js';

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** Writes the fields of an `AnyValue` message (its content, not its tag or length). */
export function writeAnyValue(w: ProtobufWriter, value: unknown): void {
  const type = typeof value;
  if (type === 'string') {
    w.tag(1, LENGTH_DELIMITED);
    w.string(value as string);
  } else if (type === 'number') {
    const n = value as number;
    if (Number.isInteger(n) && n >= MIN_INT64 && n < MAX_INT64) {
      w.tag(3, VARINT);
      w.int64(n);
    } else {
      w.tag(4, FIXED64);
      w.double(n);
    }
  } else if (type === 'boolean') {
    w.tag(2, VARINT);
    w.uint(value ? 1 : 0);
  } else if (value instanceof Uint8Array) {
    w.tag(7, LENGTH_DELIMITED);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, LENGTH_DELIMITED);
    const list = w.begin();
    for (let i = 0; i < value.length; i++) {
      w.tag(1, LENGTH_DELIMITED);
      const item = w.begin();
      writeAnyValue(w, value[i]);
      w.end(item);
    }
    w.end(list);
  } else if (type === 'object' && value !== null) {
    w.tag(6, LENGTH_DELIMITED);
    const list = w.begin();
    const map = value as Record<string, unknown>;
    for (const key in map) {
      if (!Object.hasOwn(map, key)) continue;
      w.tag(1, LENGTH_DELIMITED);
      writeKeyValue(w, key, map[key]);
    }
    w.end(list);
  }
  // null, undefined and anything else: an empty AnyValue, as upstream writes it.
}

/** Writes one length-delimited `KeyValue` (after its tag). */
function writeKeyValue(w: ProtobufWriter, key: string, value: unknown): void {
  const kv = w.begin();
  w.tag(1, LENGTH_DELIMITED);
  w.string(key);
  w.tag(2, LENGTH_DELIMITED);
  const v = w.begin();
  writeAnyValue(w, value);
  w.end(v);
  w.end(kv);
}

/** Writes every own attribute as a repeated `KeyValue` field; `skipEmptyKeys` as the SDK drops them. */
function writeAttributes(
  w: ProtobufWriter,
  field: number,
  attributes: Attributes,
  skipEmptyKeys: boolean,
): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    if (value === undefined || (skipEmptyKeys && key === '')) continue;
    if (typeof value === 'string' && writeShortStringKeyValue(w, field, key, value)) continue;
    w.tag(field, LENGTH_DELIMITED);
    writeKeyValue(w, key, value);
  }
}

/**
 * The common attribute, an ASCII key with a short ASCII string, written in
 * one go: every length fits one byte, so the bytes are known before they
 * are written. Returns false, having written nothing, for any other.
 */
function writeShortStringKeyValue(
  w: ProtobufWriter,
  field: number,
  key: string,
  value: string,
): boolean {
  const k = key.length;
  const v = value.length;
  // KeyValue = key (2 + k) + value (2 + AnyValue: 2 + v); its length must stay below 128.
  if (k + v > 121) return false;
  w.ensure(k + v + 8);
  const buf = w.buf;
  let pos = w.pos;
  buf[pos++] = (field << 3) | LENGTH_DELIMITED;
  buf[pos++] = k + v + 6;
  buf[pos++] = 0x0a; // key
  buf[pos++] = k;
  for (let i = 0; i < k; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return false;
    buf[pos++] = c;
  }
  buf[pos++] = 0x12; // value
  buf[pos++] = v + 2;
  buf[pos++] = 0x0a; // AnyValue.string_value
  buf[pos++] = v;
  for (let i = 0; i < v; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x80) return false;
    buf[pos++] = c;
  }
  w.pos = pos;
  return true;
}

/** Below this, the SDK reads a number of milliseconds as `performance.now()`. */
const PERFORMANCE_TIME_BELOW = performance.timeOrigin / 2;

/**
 * A time given in milliseconds, as the SDK's `timeInputToHrTime` reads it:
 * epoch milliseconds, or (far below now) `performance.now()` ones.
 */
function writeMillis(w: ProtobufWriter, millis: number): void {
  if (millis < PERFORMANCE_TIME_BELOW) {
    writeHrTime(w, timeInputToHrTime(millis));
    return;
  }
  const seconds = Math.trunc(millis / 1000);
  w.fixed64Time(seconds, Math.round((millis % 1000) * 1e6));
}

function writeHrTime(w: ProtobufWriter, time: HrTime): void {
  w.fixed64Time(time[0], time[1]);
}

/**
 * The trace fields of the last span context written, encoded: the records
 * of one span share its SpanContext object, so most records copy 33 bytes
 * instead of parsing two hex ids (and validating them) again.
 */
let lastSpan: SpanContext | undefined;
let lastSpanFields: Buffer = Buffer.alloc(0);

/** The trace fields of a record, flags(8), trace_id(9), span_id(10), from a valid span context. */
function writeSpanContext(w: ProtobufWriter, span: SpanContext): void {
  if (span === lastSpan) {
    w.ensure(lastSpanFields.length);
    w.buf.set(lastSpanFields, w.pos);
    w.pos += lastSpanFields.length;
    return;
  }
  const start = w.pos;
  if (span.traceFlags) {
    w.tag(8, FIXED32);
    w.fixed32(span.traceFlags);
  }
  const mark = w.pos;
  w.tag(9, LENGTH_DELIMITED);
  if (!w.hexBytes(span.traceId, 16)) {
    w.pos = mark;
    return;
  }
  const spanMark = w.pos;
  w.tag(10, LENGTH_DELIMITED);
  if (!w.hexBytes(span.spanId, 8)) w.pos = spanMark;
  lastSpanFields = w.copy(start, w.pos);
  lastSpan = span;
}

/** The trace fields for `context`, as the SDK's LogRecordImpl takes them: a valid span context only. */
function writeSpanOf(w: ProtobufWriter, context: Context): void {
  const span = trace.getSpanContext(context);
  if (span !== undefined && (span === lastSpan || isSpanContextValid(span))) {
    writeSpanContext(w, span);
  }
}

/** severity_number(2) unless unspecified, severity_text(3) unless empty, body(5) unless undefined. */
function writeSeverityAndBody(
  w: ProtobufWriter,
  severityNumber: number | undefined,
  severityText: string | undefined,
  body: unknown,
): void {
  if (severityNumber !== undefined && severityNumber !== 0) {
    w.tag(2, VARINT);
    w.uint(severityNumber);
  }
  if (severityText) {
    w.tag(3, LENGTH_DELIMITED);
    w.string(severityText);
  }
  if (body !== undefined) {
    w.tag(5, LENGTH_DELIMITED);
    const start = w.begin();
    writeAnyValue(w, body);
    w.end(start);
  }
}

/** The fields of a record that the transport hands over directly, without the SDK's LogRecordImpl. */
export interface LogRecordFields {
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly severityNumber?: number | undefined;
  readonly severityText?: string | undefined;
  readonly body?: AnyValue | undefined;
  readonly attributes?: Attributes | undefined;
  readonly eventName?: string | undefined;
  readonly context?: Context | undefined;
}

/**
 * Appends `fields` to `w` as one `ScopeLogs.log_records` field (tag,
 * length, `LogRecord`), with `observed` (epoch milliseconds) as its observed
 * time. Encodes what the SDK's `LogRecordImpl` would hold for the same
 * `Logger.emit()` call: a valid span context only, attributes without
 * `undefined` values or empty keys. Returns the bytes appended.
 */
export function appendLogRecordFields(
  w: ProtobufWriter,
  fields: LogRecordFields,
  observed: number,
): number {
  const start = w.pos;
  w.tag(2, LENGTH_DELIMITED);
  const record = w.begin(2);
  w.tag(1, FIXED64);
  writeMillis(w, fields.timestamp);
  writeSeverityAndBody(w, fields.severityNumber, fields.severityText, fields.body);
  if (fields.attributes !== undefined) writeAttributes(w, 6, fields.attributes, true);
  if (fields.context !== undefined) writeSpanOf(w, fields.context);
  w.tag(11, FIXED64);
  writeMillis(w, observed);
  if (fields.eventName) {
    w.tag(12, LENGTH_DELIMITED);
    w.string(fields.eventName);
  }
  w.end(record, 2);
  return w.pos - start;
}

/** Appends an SDK log record to `w` as one `ScopeLogs.log_records` field. Returns the bytes appended. */
export function appendReadableLogRecord(w: ProtobufWriter, log: ReadableLogRecord): number {
  const start = w.pos;
  w.tag(2, LENGTH_DELIMITED);
  const record = w.begin(2);
  w.tag(1, FIXED64);
  writeHrTime(w, log.hrTime);
  writeSeverityAndBody(w, log.severityNumber, log.severityText, log.body);
  if (log.attributes !== undefined) writeAttributes(w, 6, log.attributes, false);
  if (log.droppedAttributesCount > 0) {
    w.tag(7, VARINT);
    w.uint(log.droppedAttributesCount);
  }
  if (log.spanContext !== undefined) writeSpanContext(w, log.spanContext);
  w.tag(11, FIXED64);
  writeHrTime(w, log.hrTimeObserved);
  if (log.eventName) {
    w.tag(12, LENGTH_DELIMITED);
    w.string(log.eventName);
  }
  w.end(record, 2);
  return w.pos - start;
}

/**
 * What goes around a batch of encoded records when it is sent: the
 * resource and the scope, encoded once per pair and reused for every batch.
 */
export class LogsEnvelope {
  private constructor(
    /** `ResourceLogs.resource` field, tag included. */
    private readonly resourceField: Buffer,
    /** `ResourceLogs.schema_url` field, tag included, or empty. */
    private readonly resourceSchema: Buffer,
    /** `ScopeLogs.scope` field, tag included. */
    private readonly scopeField: Buffer,
    /** `ScopeLogs.schema_url` field, tag included, or empty. */
    private readonly scopeSchema: Buffer,
  ) {}

  /** The envelope of `resource` and `scope`, encoded once. */
  static of(
    resource: Resource,
    scope: InstrumentationScope & { attributes?: Attributes; droppedAttributesCount?: number },
  ): LogsEnvelope {
    const w = new ProtobufWriter(1024);
    w.tag(1, LENGTH_DELIMITED);
    const r = w.begin(2);
    writeAttributes(w, 1, resource.attributes, false);
    w.end(r, 2);
    const resourceField = w.copy();
    const resourceSchema = schemaField(w, resource.schemaUrl);

    w.reset();
    w.tag(1, LENGTH_DELIMITED);
    const s = w.begin(2);
    w.tag(1, LENGTH_DELIMITED);
    w.string(scope.name);
    if (scope.version) {
      w.tag(2, LENGTH_DELIMITED);
      w.string(scope.version);
    }
    if (scope.attributes !== undefined) writeAttributes(w, 3, scope.attributes, false);
    if (scope.droppedAttributesCount) {
      w.tag(4, VARINT);
      w.uint(scope.droppedAttributesCount);
    }
    w.end(s, 2);
    return new LogsEnvelope(
      resourceField,
      resourceSchema,
      w.copy(),
      schemaField(w, scope.schemaUrl),
    );
  }

  /** The envelope as bytes (four length-prefixed parts), for a spool segment's header. */
  toBytes(): Buffer {
    const parts = [this.resourceField, this.resourceSchema, this.scopeField, this.scopeSchema];
    const out = Buffer.allocUnsafe(parts.reduce((n, part) => n + 4 + part.length, 0));
    let pos = 0;
    for (const part of parts) {
      out.writeUInt32LE(part.length, pos);
      part.copy(out, pos + 4);
      pos += 4 + part.length;
    }
    return out;
  }

  /** The envelope {@link LogsEnvelope.toBytes} wrote; `undefined` for bytes that are not one. */
  static fromBytes(bytes: Buffer): LogsEnvelope | undefined {
    const parts: Buffer[] = [];
    let pos = 0;
    for (let i = 0; i < 4; i++) {
      if (pos + 4 > bytes.length) return undefined;
      const length = bytes.readUInt32LE(pos);
      if (pos + 4 + length > bytes.length) return undefined;
      parts.push(Buffer.from(bytes.subarray(pos + 4, pos + 4 + length)));
      pos += 4 + length;
    }
    if (pos !== bytes.length) return undefined;
    return new LogsEnvelope(parts[0]!, parts[1]!, parts[2]!, parts[3]!);
  }

  /**
   * The `ExportLogsServiceRequest` for `records` (concatenated
   * `ScopeLogs.log_records` fields), as the pieces to send in order: the
   * records themselves are not copied.
   */
  request(records: Buffer): Buffer[] {
    const scopeLogs = this.scopeField.length + records.length + this.scopeSchema.length;
    const resourceLogs =
      this.resourceField.length +
      1 +
      varintSize(scopeLogs) +
      scopeLogs +
      this.resourceSchema.length;
    const w = new ProtobufWriter(64 + this.resourceField.length + this.scopeField.length);
    w.tag(1, LENGTH_DELIMITED);
    w.uint(resourceLogs);
    w.buf.set(this.resourceField, w.pos);
    w.pos += this.resourceField.length;
    w.tag(2, LENGTH_DELIMITED);
    w.uint(scopeLogs);
    w.buf.set(this.scopeField, w.pos);
    w.pos += this.scopeField.length;
    const head = w.copy();
    w.reset();
    w.buf.set(this.scopeSchema, 0);
    w.pos = this.scopeSchema.length;
    w.ensure(this.resourceSchema.length);
    w.buf.set(this.resourceSchema, w.pos);
    w.pos += this.resourceSchema.length;
    return w.pos > 0 ? [head, records, w.copy()] : [head, records];
  }
}

/** A `schema_url` field (number 3 in both ResourceLogs and ScopeLogs), or nothing. */
function schemaField(w: ProtobufWriter, url: string | undefined): Buffer {
  if (!url) return Buffer.alloc(0);
  w.reset();
  w.tag(3, LENGTH_DELIMITED);
  w.string(url);
  return w.copy();
}
