import {
  jsonAttributes,
  jsonId,
  readAttributesInto,
  readKeyValue,
  type DecodedValue,
} from './decode-logs.js';
import { ProtobufReader } from './protobuf-reader.js';

/** One span as it arrived on the wire, with its resource and scope. */
export interface DecodedSpan {
  /** Lower-case hex. */
  readonly traceId: string;
  /** Lower-case hex. */
  readonly spanId: string;
  /** Lower-case hex; empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Record<string, DecodedValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
  readonly resource: Record<string, DecodedValue>;
  readonly scope: { readonly name: string; readonly version: string };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function readSpan(
  r: ProtobufReader,
  resource: Record<string, DecodedValue>,
  scope: { name: string; version: string },
): DecodedSpan {
  const span = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {} as Record<string, DecodedValue>,
    statusCode: 0,
    resource,
    scope,
  };
  r.fields({
    1: (f) => (span.traceId = hex(f.bytes())),
    2: (f) => (span.spanId = hex(f.bytes())),
    4: (f) => (span.parentSpanId = hex(f.bytes())),
    5: (f) => (span.name = f.string()),
    6: (f) => (span.kind = f.uint32()),
    7: (f) => (span.startTimeUnixNano = f.fixed64()),
    8: (f) => (span.endTimeUnixNano = f.fixed64()),
    9: (f) => readKeyValue(f.message(), span.attributes),
    15: (f) => f.message().fields({ 3: (s) => (span.statusCode = s.uint32()) }),
  });
  return span;
}

/** Decodes an OTLP `ExportTraceServiceRequest` in protobuf. Throws on malformed input. */
export function decodeTracesProtobuf(body: Uint8Array): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  // resource_spans(1) → resource(1), scope_spans(2) → scope(1), spans(2)
  new ProtobufReader(body).fields({
    1: (request) => {
      let resource: Record<string, DecodedValue> = {};
      const scopeSpans: ProtobufReader[] = [];
      request.message().fields({
        1: (r) => (resource = readAttributesInto(r.message(), 1)),
        2: (r) => void scopeSpans.push(r.message()),
      });
      for (const ss of scopeSpans) {
        const scope = { name: '', version: '' };
        const spans: ProtobufReader[] = [];
        ss.fields({
          1: (r) =>
            r.message().fields({
              1: (s) => (scope.name = s.string()),
              2: (s) => (scope.version = s.string()),
            }),
          2: (r) => void spans.push(r.message()),
        });
        for (const s of spans) out.push(readSpan(s, resource, scope));
      }
    },
  });
  return out;
}

type Json = Record<string, unknown>;

/** Decodes an OTLP `ExportTraceServiceRequest` in JSON. Throws on malformed input. */
export function decodeTracesJson(text: string): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  const request = JSON.parse(text) as Json;
  for (const rs of (request.resourceSpans ?? []) as Json[]) {
    const resource = jsonAttributes((rs.resource as Json | undefined)?.attributes);
    for (const ss of (rs.scopeSpans ?? []) as Json[]) {
      const s = (ss.scope ?? {}) as Json;
      const scope = { name: String(s.name ?? ''), version: String(s.version ?? '') };
      for (const span of (ss.spans ?? []) as Json[]) {
        out.push({
          traceId: jsonId(span.traceId, 16),
          spanId: jsonId(span.spanId, 8),
          parentSpanId: jsonId(span.parentSpanId, 8),
          name: String(span.name ?? ''),
          kind: Number(span.kind ?? 0),
          startTimeUnixNano: BigInt((span.startTimeUnixNano as string | undefined) ?? 0),
          endTimeUnixNano: BigInt((span.endTimeUnixNano as string | undefined) ?? 0),
          attributes: jsonAttributes(span.attributes),
          statusCode: Number((span.status as Json | undefined)?.code ?? 0),
          resource,
          scope,
        });
      }
    }
  }
  return out;
}
