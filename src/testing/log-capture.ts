import type { AnyValue, SeverityNumber } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { OtelTransport } from '../transport/otel-transport.js';
import type { OtelTransportOptions } from '../transport/options.js';

/** A record a {@link LogCapture} holds: plain data, easy to assert on with chai. */
export interface CapturedLogRecord {
  readonly body: AnyValue | undefined;
  readonly severityNumber: SeverityNumber | undefined;
  /** The winston level name (or "FATAL" for an uncaught exception). */
  readonly severityText: string | undefined;
  readonly attributes: Readonly<Record<string, AnyValue>>;
  readonly eventName: string | undefined;
  /** Hex trace id of the span active at the log call, if any. */
  readonly traceId: string | undefined;
  /** Hex span id of the span active at the log call, if any. */
  readonly spanId: string | undefined;
  readonly traceFlags: number | undefined;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** Milliseconds since the epoch. */
  readonly observedTimestamp: number;
  readonly scope: { readonly name: string; readonly version: string | undefined };
  /** The SDK's record, for anything not copied here. */
  readonly raw: ReadableLogRecord;
}

/** What to look for with {@link LogCapture.find} and {@link LogCapture.filter}. */
export interface RecordQuery {
  /** Equal to the body, or (a RegExp) matching a string body. */
  body?: string | RegExp;
  /** The winston level name. */
  level?: string;
  /** Only records at least this severe. */
  minSeverity?: SeverityNumber;
  /** Every listed attribute has this value (deep equality for maps and lists). */
  attributes?: Readonly<Record<string, AnyValue>>;
  traceId?: string;
}

/** Captures the records that winston loggers emit through OtelTransport, like pytest's caplog. */
export interface LogCapture {
  /** The in-memory LoggerProvider; give it to code that takes one. */
  readonly loggerProvider: LoggerProvider;
  /** Every record captured since the last {@link LogCapture.reset}, oldest first. */
  readonly records: readonly CapturedLogRecord[];
  /** The bodies of {@link LogCapture.records}. */
  readonly bodies: readonly (AnyValue | undefined)[];
  /** A new OtelTransport that writes into this capture. */
  transport(options?: Omit<OtelTransportOptions, 'loggerProvider'>): OtelTransport;
  /** The first record that matches, or `undefined`. */
  find(query: RecordQuery): CapturedLogRecord | undefined;
  /** Every record that matches. */
  filter(query: RecordQuery): CapturedLogRecord[];
  /** Forgets every record; call it between tests. */
  reset(): void;
  /** Shuts the provider down. */
  shutdown(): Promise<void>;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) =>
    sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

function matches(record: CapturedLogRecord, query: RecordQuery): boolean {
  if (query.body !== undefined) {
    if (query.body instanceof RegExp) {
      if (typeof record.body !== 'string' || !query.body.test(record.body)) return false;
    } else if (record.body !== query.body) return false;
  }
  if (query.level !== undefined && record.severityText !== query.level) return false;
  if (query.minSeverity !== undefined && (record.severityNumber ?? 0) < query.minSeverity)
    return false;
  if (query.traceId !== undefined && record.traceId !== query.traceId) return false;
  if (query.attributes !== undefined) {
    for (const [key, value] of Object.entries(query.attributes)) {
      if (!sameValue(record.attributes[key], value)) return false;
    }
  }
  return true;
}

function toCaptured(raw: ReadableLogRecord): CapturedLogRecord {
  return {
    body: raw.body,
    severityNumber: raw.severityNumber,
    severityText: raw.severityText,
    attributes: raw.attributes as Record<string, AnyValue>,
    eventName: raw.eventName,
    traceId: raw.spanContext?.traceId,
    spanId: raw.spanContext?.spanId,
    traceFlags: raw.spanContext?.traceFlags,
    timestamp: hrTimeToMilliseconds(raw.hrTime),
    observedTimestamp: hrTimeToMilliseconds(raw.hrTimeObserved),
    scope: { name: raw.instrumentationScope.name, version: raw.instrumentationScope.version },
    raw,
  };
}

/**
 * Creates an in-memory capture: an SDK LoggerProvider whose records are kept
 * in order, synchronously, so a test can assert right after the log call.
 *
 * @example
 * const capture = createLogCapture();
 * const logger = winston.createLogger({ transports: [capture.transport()] });
 * afterEach(() => capture.reset());
 *
 * logger.warn('disk almost full', { free: 3 });
 * expect(capture.find({ level: 'warn' })?.attributes).to.deep.equal({ free: 3 });
 */
export function createLogCapture(): LogCapture {
  const exporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const records = (): CapturedLogRecord[] => exporter.getFinishedLogRecords().map(toCaptured);
  return {
    loggerProvider,
    get records() {
      return records();
    },
    get bodies() {
      return records().map((r) => r.body);
    },
    transport(options = {}) {
      return new OtelTransport({ ...options, loggerProvider });
    },
    find(query) {
      return records().find((r) => matches(r, query));
    },
    filter(query) {
      return records().filter((r) => matches(r, query));
    },
    reset() {
      exporter.reset();
    },
    shutdown() {
      return loggerProvider.shutdown();
    },
  };
}
