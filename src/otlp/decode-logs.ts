import { ProtobufReader } from './protobuf-reader.js';

/** An OTLP AnyValue, decoded: int64 values that are not safe integers stay bigint. */
export type DecodedValue =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | null
  | DecodedValue[]
  | { [key: string]: DecodedValue };

/** One log record as it arrived on the wire, with its resource and scope. */
export interface DecodedLogRecord {
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: DecodedValue;
  readonly attributes: Record<string, DecodedValue>;
  readonly droppedAttributesCount: number;
  readonly flags: number;
  /** Lower-case hex; empty when the record has no trace. */
  readonly traceId: string;
  /** Lower-case hex; empty when the record has no span. */
  readonly spanId: string;
  readonly eventName: string;
  readonly resource: Record<string, DecodedValue>;
  readonly scope: { readonly name: string; readonly version: string };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function int64Value(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

function readAnyValue(r: ProtobufReader): DecodedValue {
  let value: DecodedValue = null;
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        value = r.string();
        break;
      case 2:
        value = r.bool();
        break;
      case 3:
        value = int64Value(r.int64());
        break;
      case 4:
        value = r.double();
        break;
      case 5: {
        const list: DecodedValue[] = [];
        const a = r.message();
        while (!a.done) {
          const t = a.tag();
          if (t.field === 1) list.push(readAnyValue(a.message()));
          else a.skip(t.wire);
        }
        value = list;
        break;
      }
      case 6: {
        const map: Record<string, DecodedValue> = {};
        const m = r.message();
        while (!m.done) {
          const t = m.tag();
          if (t.field === 1) readKeyValue(m.message(), map);
          else m.skip(t.wire);
        }
        value = map;
        break;
      }
      case 7:
        value = r.bytes().slice();
        break;
      default:
        r.skip(wire);
    }
  }
  return value;
}

export function readKeyValue(r: ProtobufReader, into: Record<string, DecodedValue>): void {
  let key = '';
  let value: DecodedValue = null;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1) key = r.string();
    else if (field === 2) value = readAnyValue(r.message());
    else r.skip(wire);
  }
  into[key] = value;
}

export function readAttributesInto(
  r: ProtobufReader,
  attributeField: number,
): Record<string, DecodedValue> {
  const attributes: Record<string, DecodedValue> = {};
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === attributeField) readKeyValue(r.message(), attributes);
    else r.skip(wire);
  }
  return attributes;
}

function readLogRecord(
  r: ProtobufReader,
  resource: Record<string, DecodedValue>,
  scope: { name: string; version: string },
): DecodedLogRecord {
  const record = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: null as DecodedValue,
    attributes: {} as Record<string, DecodedValue>,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
    resource,
    scope,
  };
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        record.timeUnixNano = r.fixed64();
        break;
      case 11:
        record.observedTimeUnixNano = r.fixed64();
        break;
      case 2:
        record.severityNumber = r.uint32();
        break;
      case 3:
        record.severityText = r.string();
        break;
      case 5:
        record.body = readAnyValue(r.message());
        break;
      case 6:
        readKeyValue(r.message(), record.attributes);
        break;
      case 7:
        record.droppedAttributesCount = r.uint32();
        break;
      case 8:
        record.flags = r.fixed32();
        break;
      case 9:
        record.traceId = hex(r.bytes());
        break;
      case 10:
        record.spanId = hex(r.bytes());
        break;
      case 12:
        record.eventName = r.string();
        break;
      default:
        r.skip(wire);
    }
  }
  return record;
}

/** Decodes an OTLP `ExportLogsServiceRequest` in protobuf. Throws on malformed input. */
export function decodeLogsProtobuf(body: Uint8Array): DecodedLogRecord[] {
  const out: DecodedLogRecord[] = [];
  // ExportLogsServiceRequest.resource_logs(1) → ResourceLogs.resource(1), .scope_logs(2)
  // → ScopeLogs.scope(1), .log_records(2).
  new ProtobufReader(body).fields({
    1: (request) => {
      let resource: Record<string, DecodedValue> = {};
      const scopeLogs: ProtobufReader[] = [];
      request.message().fields({
        1: (r) => (resource = readAttributesInto(r.message(), 1)),
        2: (r) => void scopeLogs.push(r.message()),
      });
      for (const sl of scopeLogs) {
        const scope = { name: '', version: '' };
        const records: ProtobufReader[] = [];
        sl.fields({
          1: (r) =>
            r.message().fields({
              1: (s) => (scope.name = s.string()),
              2: (s) => (scope.version = s.string()),
            }),
          2: (r) => void records.push(r.message()),
        });
        for (const r of records) out.push(readLogRecord(r, resource, scope));
      }
    },
  });
  return out;
}

type Json = Record<string, unknown>;

function jsonAnyValue(v: unknown): DecodedValue {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Json;
  if ('stringValue' in o) return String(o.stringValue);
  if ('boolValue' in o) return Boolean(o.boolValue);
  if ('intValue' in o) return int64Value(BigInt(o.intValue as string | number));
  if ('doubleValue' in o) return Number(o.doubleValue);
  if ('bytesValue' in o) return new Uint8Array(Buffer.from(String(o.bytesValue), 'base64'));
  if ('arrayValue' in o) {
    const values = ((o.arrayValue as Json | undefined)?.values ?? []) as unknown[];
    return values.map(jsonAnyValue);
  }
  if ('kvlistValue' in o) {
    return jsonAttributes(((o.kvlistValue as Json | undefined)?.values ?? []) as unknown[]);
  }
  return null;
}

export function jsonAttributes(list: unknown): Record<string, DecodedValue> {
  const out: Record<string, DecodedValue> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as Json[]) out[String(kv.key)] = jsonAnyValue(kv.value);
  return out;
}

/** JSON ids are hex in OTLP/JSON; some encoders send base64. Both become lower-case hex. */
export function jsonId(value: unknown, bytes: number): string {
  if (typeof value !== 'string' || value === '') return '';
  if (value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) return value.toLowerCase();
  return Buffer.from(value, 'base64').toString('hex');
}

/** Decodes an OTLP `ExportLogsServiceRequest` in JSON. Throws on malformed input. */
export function decodeLogsJson(text: string): DecodedLogRecord[] {
  const out: DecodedLogRecord[] = [];
  const request = JSON.parse(text) as Json;
  for (const rl of (request.resourceLogs ?? []) as Json[]) {
    const resource = jsonAttributes((rl.resource as Json | undefined)?.attributes);
    for (const sl of (rl.scopeLogs ?? []) as Json[]) {
      const s = (sl.scope ?? {}) as Json;
      const scope = { name: String(s.name ?? ''), version: String(s.version ?? '') };
      for (const lr of (sl.logRecords ?? []) as Json[]) {
        out.push({
          timeUnixNano: BigInt((lr.timeUnixNano as string | undefined) ?? 0),
          observedTimeUnixNano: BigInt((lr.observedTimeUnixNano as string | undefined) ?? 0),
          severityNumber: Number(lr.severityNumber ?? 0),
          severityText: String(lr.severityText ?? ''),
          body: jsonAnyValue(lr.body),
          attributes: jsonAttributes(lr.attributes),
          droppedAttributesCount: Number(lr.droppedAttributesCount ?? 0),
          flags: Number(lr.flags ?? 0),
          traceId: jsonId(lr.traceId, 16),
          spanId: jsonId(lr.spanId, 8),
          eventName: String(lr.eventName ?? ''),
          resource,
          scope,
        });
      }
    }
  }
  return out;
}
