/**
 * OTLP/JSON from the protobuf this package encodes: for `http/json`, the
 * pipeline keeps its queue in protobuf and transcodes each request just
 * before it is sent. Follows the OTLP/JSON mapping: lowerCamelCase field
 * names, trace and span ids in hex, 64-bit integers and times as decimal
 * strings (an `intValue` within the safe range as a number, as the upstream
 * exporter writes it), bytes in base64, non-finite doubles as "NaN",
 * "Infinity", "-Infinity".
 */
import { ProtobufReader } from './protobuf-reader.js';

type Json = Record<string, unknown>;

function int64(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

function double(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

function anyValue(r: ProtobufReader): Json {
  const out: Json = {};
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        out.stringValue = r.string();
        break;
      case 2:
        out.boolValue = r.bool();
        break;
      case 3:
        out.intValue = int64(r.int64());
        break;
      case 4:
        out.doubleValue = double(r.double());
        break;
      case 5:
        out.arrayValue = { values: repeated(r.message(), 1, anyValue) };
        break;
      case 6:
        out.kvlistValue = { values: repeated(r.message(), 1, keyValue) };
        break;
      case 7:
        out.bytesValue = Buffer.from(r.bytes()).toString('base64');
        break;
      default:
        r.skip(wire);
    }
  }
  return out;
}

function keyValue(r: ProtobufReader): Json {
  const out: Json = { key: '', value: {} };
  r.fields({
    1: (f) => (out.key = f.string()),
    2: (f) => (out.value = anyValue(f.message())),
  });
  return out;
}

/** Every `field` of the message in `r`, each read by `read` from its own sub-reader. */
function repeated(r: ProtobufReader, field: number, read: (r: ProtobufReader) => Json): Json[] {
  const out: Json[] = [];
  r.fields({ [field]: (f) => void out.push(read(f.message())) });
  return out;
}

function logRecord(r: ProtobufReader): Json {
  const out: Json = {};
  const attributes: Json[] = [];
  r.fields({
    1: (f) => (out.timeUnixNano = f.fixed64().toString()),
    11: (f) => (out.observedTimeUnixNano = f.fixed64().toString()),
    2: (f) => (out.severityNumber = f.uint32()),
    3: (f) => (out.severityText = f.string()),
    5: (f) => (out.body = anyValue(f.message())),
    6: (f) => void attributes.push(keyValue(f.message())),
    7: (f) => (out.droppedAttributesCount = f.uint32()),
    8: (f) => (out.flags = f.fixed32()),
    9: (f) => (out.traceId = Buffer.from(f.bytes()).toString('hex')),
    10: (f) => (out.spanId = Buffer.from(f.bytes()).toString('hex')),
    12: (f) => (out.eventName = f.string()),
  });
  out.attributes = attributes;
  return out;
}

function scope(r: ProtobufReader): Json {
  const out: Json = { name: '' };
  const attributes: Json[] = [];
  r.fields({
    1: (f) => (out.name = f.string()),
    2: (f) => (out.version = f.string()),
    3: (f) => void attributes.push(keyValue(f.message())),
    4: (f) => (out.droppedAttributesCount = f.uint32()),
  });
  if (attributes.length > 0) out.attributes = attributes;
  return out;
}

function scopeLogs(r: ProtobufReader): Json {
  const out: Json = {};
  const records: Json[] = [];
  r.fields({
    1: (f) => (out.scope = scope(f.message())),
    2: (f) => void records.push(logRecord(f.message())),
    3: (f) => (out.schemaUrl = f.string()),
  });
  out.logRecords = records;
  return out;
}

function resourceLogs(r: ProtobufReader): Json {
  const out: Json = {};
  const scopes: Json[] = [];
  r.fields({
    1: (f) => (out.resource = { attributes: repeated(f.message(), 1, keyValue) }),
    2: (f) => void scopes.push(scopeLogs(f.message())),
    3: (f) => (out.schemaUrl = f.string()),
  });
  out.scopeLogs = scopes;
  return out;
}

/** The OTLP/JSON `ExportLogsServiceRequest` for the protobuf one given in pieces. */
export function logsRequestToJson(request: readonly Buffer[]): Buffer {
  const body = Buffer.concat(request);
  const resources = repeated(new ProtobufReader(body), 1, resourceLogs);
  return Buffer.from(JSON.stringify({ resourceLogs: resources }), 'utf8');
}
