import type { DecodedLogRecord, DecodedValue } from '../otlp/decode-logs.js';
import type { DecodedSpan } from '../otlp/decode-traces.js';

/** How {@link renderTrace} writes. */
export interface RenderOptions {
  /** ANSI colours by severity. */
  readonly color: boolean;
}

const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
const BOLD = '\u001b[1m';

function severityColor(severity: number): string {
  if (severity >= 17) return '\u001b[31m'; // ERROR, FATAL: red
  if (severity >= 13) return '\u001b[33m'; // WARN: yellow
  if (severity >= 9) return '\u001b[32m'; // INFO: green
  return '\u001b[90m'; // DEBUG, TRACE: grey
}

const KIND = ['', 'internal', 'server', 'client', 'producer', 'consumer'];

/** The request context facts worth a glance, from a span's or a record's attributes. */
const CONTEXT_KEYS: ReadonlyArray<[string, string]> = [
  ['http.request.id', 'request'],
  ['user.id', 'user'],
  ['http.route', 'route'],
];

function show(value: DecodedValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function millis(start: bigint, end: bigint): string {
  const ms = Number(end - start) / 1e6;
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

function contextOf(attributes: Record<string, DecodedValue>): string {
  const parts = CONTEXT_KEYS.filter(
    ([key]) => attributes[key] !== undefined && attributes[key] !== null,
  ).map(([key, label]) => `${label}=${show(attributes[key]!)}`);
  return parts.join(' ');
}

/** The longest attribute value shown in full; longer ones end in "…". */
const MAX_SHOWN = 120;

/** A record's other attributes (not the request context, not the exception), as `key=value`. */
function attributesOf(attributes: Record<string, DecodedValue>): string {
  const shown = new Set(CONTEXT_KEYS.map(([key]) => key));
  const parts: string[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (shown.has(key) || key.startsWith('exception.') || value === null) continue;
    const text = show(value);
    parts.push(`${key}=${text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text}`);
  }
  return parts.join(' ');
}

/** The time of day of a record, UTC, to the millisecond: `14:03:07.412Z`. */
function timeOf(unixNano: bigint): string {
  if (unixNano === 0n) return '--:--:--.---Z';
  return `${new Date(Number(unixNano / 1_000_000n)).toISOString().slice(11, 23)}Z`;
}

/** The frames of a stack trace (its first line repeats the type and message). */
function framesOf(stack: DecodedValue | undefined): string[] {
  if (typeof stack !== 'string') return [];
  return stack
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * A trace as text: its spans as a tree, each span's log records and child
 * spans under it in time order. A record shows its time (UTC), severity
 * (coloured), body, request context (request id, user, route), its other
 * attributes, and an exception with the frames of its stack.
 */
export function renderTrace(
  spans: readonly DecodedSpan[],
  logs: readonly DecodedLogRecord[],
  options: RenderOptions,
): string {
  const paint = (code: string, text: string): string =>
    options.color ? `${code}${text}${RESET}` : text;
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, DecodedSpan[]>();
  const roots: DecodedSpan[] = [];
  for (const span of [...spans].sort((a, b) =>
    a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1,
  )) {
    if (span.parentSpanId !== '' && ids.has(span.parentSpanId)) {
      const list = children.get(span.parentSpanId) ?? [];
      list.push(span);
      children.set(span.parentSpanId, list);
    } else {
      roots.push(span);
    }
  }
  const logsBySpan = new Map<string, DecodedLogRecord[]>();
  const orphans: DecodedLogRecord[] = [];
  for (const record of [...logs].sort((a, b) => (a.timeUnixNano < b.timeUnixNano ? -1 : 1))) {
    if (ids.has(record.spanId)) {
      const list = logsBySpan.get(record.spanId) ?? [];
      list.push(record);
      logsBySpan.set(record.spanId, list);
    } else {
      orphans.push(record);
    }
  }

  const lines: string[] = [];
  const traceId = spans[0]?.traceId ?? logs[0]?.traceId ?? '';
  const service = show(
    spans[0]?.resource['service.name'] ?? logs[0]?.resource['service.name'] ?? '?',
  );
  lines.push(
    paint(BOLD, traceId === '' ? 'no trace' : `trace ${traceId}`) +
      paint(DIM, `  service=${service}`),
  );

  const renderLog = (record: DecodedLogRecord, indent: string): void => {
    const level = (record.severityText || `SEV${record.severityNumber}`).toUpperCase().padEnd(5);
    const error = record.attributes['exception.type'];
    const extra =
      error !== undefined
        ? ` ${paint(DIM, `(${show(error)}: ${show(record.attributes['exception.message'] ?? '')})`)}`
        : '';
    const context = contextOf(record.attributes);
    const others = attributesOf(record.attributes);
    const time = timeOf(record.timeUnixNano || record.observedTimeUnixNano);
    lines.push(
      `${indent}${paint(DIM, time)} ${paint(severityColor(record.severityNumber), level)} ${show(record.body)}${extra}${context ? `  ${paint(DIM, context)}` : ''}${others ? `  ${paint(DIM, others)}` : ''}`,
    );
    for (const frame of framesOf(record.attributes['exception.stacktrace'])) {
      lines.push(`${indent}    ${paint(DIM, frame)}`);
    }
  };
  const renderSpan = (span: DecodedSpan, indent: string): void => {
    const status = span.statusCode === 2 ? paint('\u001b[31m', ' ERROR') : '';
    const context = contextOf(span.attributes);
    lines.push(
      `${indent}${paint(BOLD, span.name)} ${paint(DIM, `[${KIND[span.kind] ?? span.kind}] ${millis(span.startTimeUnixNano, span.endTimeUnixNano)}`)}${status}${context ? `  ${paint(DIM, context)}` : ''}`,
    );
    // The span's records and its child spans, in the order they happened.
    const records = logsBySpan.get(span.spanId) ?? [];
    const spans = children.get(span.spanId) ?? [];
    let r = 0;
    let c = 0;
    while (r < records.length || c < spans.length) {
      const record = records[r];
      const child = spans[c];
      if (
        record !== undefined &&
        (child === undefined || record.timeUnixNano <= child.startTimeUnixNano)
      ) {
        renderLog(record, `${indent}  │ `);
        r++;
      } else {
        renderSpan(child!, `${indent}  `);
        c++;
      }
    }
  };
  for (const root of roots) renderSpan(root, '  ');
  for (const record of orphans) renderLog(record, '  ');
  return lines.join('\n');
}
