import { ProtobufReader } from '../../src/otlp/protobuf-reader.js';

/**
 * Decodes an OTLP `ExportLogsServiceRequest` into plain data with every
 * field of the schema, defaults filled in, so that two encoders can be
 * compared on what they mean rather than on their bytes (field order, and
 * whether a default is written, are the encoder's choice).
 */
type Kind = 'string' | 'bytes' | 'varint' | 'int64' | 'fixed32' | 'fixed64' | 'double' | 'bool';
interface FieldSpec {
  readonly name: string;
  readonly kind: Kind | Schema;
  readonly repeated?: boolean;
}
type Schema = { readonly [field: number]: FieldSpec };

const ANY_VALUE: Schema = {};
const KEY_VALUE: Schema = {
  1: { name: 'key', kind: 'string' },
  2: { name: 'value', kind: ANY_VALUE },
};
Object.assign(ANY_VALUE, {
  1: { name: 'string', kind: 'string' },
  2: { name: 'bool', kind: 'bool' },
  3: { name: 'int', kind: 'int64' },
  4: { name: 'double', kind: 'double' },
  5: { name: 'array', kind: { 1: { name: 'values', kind: ANY_VALUE, repeated: true } } },
  6: { name: 'kvlist', kind: { 1: { name: 'values', kind: KEY_VALUE, repeated: true } } },
  7: { name: 'bytes', kind: 'bytes' },
});
const LOG_RECORD: Schema = {
  1: { name: 'timeUnixNano', kind: 'fixed64' },
  11: { name: 'observedTimeUnixNano', kind: 'fixed64' },
  2: { name: 'severityNumber', kind: 'varint' },
  3: { name: 'severityText', kind: 'string' },
  5: { name: 'body', kind: ANY_VALUE },
  6: { name: 'attributes', kind: KEY_VALUE, repeated: true },
  7: { name: 'droppedAttributesCount', kind: 'varint' },
  8: { name: 'flags', kind: 'fixed32' },
  9: { name: 'traceId', kind: 'bytes' },
  10: { name: 'spanId', kind: 'bytes' },
  12: { name: 'eventName', kind: 'string' },
};
const SCOPE: Schema = {
  1: { name: 'name', kind: 'string' },
  2: { name: 'version', kind: 'string' },
  3: { name: 'attributes', kind: KEY_VALUE, repeated: true },
  4: { name: 'droppedAttributesCount', kind: 'varint' },
};
const REQUEST: Schema = {
  1: {
    name: 'resourceLogs',
    repeated: true,
    kind: {
      1: {
        name: 'resource',
        kind: {
          1: { name: 'attributes', kind: KEY_VALUE, repeated: true },
          2: { name: 'droppedAttributesCount', kind: 'varint' },
        },
      },
      2: {
        name: 'scopeLogs',
        repeated: true,
        kind: {
          1: { name: 'scope', kind: SCOPE },
          2: { name: 'logRecords', kind: LOG_RECORD, repeated: true },
          3: { name: 'schemaUrl', kind: 'string' },
        },
      },
      3: { name: 'schemaUrl', kind: 'string' },
    },
  },
};

const DEFAULTS: Record<Kind, unknown> = {
  string: '',
  bytes: '',
  varint: 0,
  int64: '0',
  fixed32: 0,
  fixed64: '0',
  double: 0,
  bool: false,
};

function read(r: ProtobufReader, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // An AnyValue holds the one field that is set; every other message has all its fields.
  if (schema !== ANY_VALUE) {
    for (const spec of Object.values(schema)) {
      if (spec.repeated) out[spec.name] = [];
      else if (typeof spec.kind === 'string') out[spec.name] = DEFAULTS[spec.kind];
      else if (spec.kind === ANY_VALUE) out[spec.name] = 'absent';
      else out[spec.name] = read(new ProtobufReader(new Uint8Array()), spec.kind);
    }
  }
  while (!r.done) {
    const { field, wire } = r.tag();
    const spec = schema[field];
    if (spec === undefined) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    switch (spec.kind) {
      case 'string':
        value = r.string();
        break;
      case 'bytes':
        value = Buffer.from(r.bytes()).toString('hex');
        break;
      case 'varint':
        value = r.uint32();
        break;
      case 'bool':
        value = r.bool();
        break;
      case 'int64':
        value = String(r.int64());
        break;
      case 'fixed32':
        value = r.fixed32();
        break;
      case 'fixed64':
        value = String(r.fixed64());
        break;
      case 'double':
        value = r.double();
        break;
      default:
        value = read(r.message(), spec.kind);
    }
    if (spec.repeated) (out[spec.name] as unknown[]).push(value);
    else out[spec.name] = value;
  }
  if (schema === ANY_VALUE && Object.keys(out).length === 0) return { empty: true };
  return out;
}

/** The request, decoded with every field present. */
export function canonicalLogsRequest(body: Uint8Array): Record<string, unknown> {
  return read(new ProtobufReader(body), REQUEST);
}
