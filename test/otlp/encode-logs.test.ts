import { context, SeverityNumber, trace, TraceFlags, type AnyValue } from '@opentelemetry/api';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import {
  appendLogRecordFields,
  appendReadableLogRecord,
  LogsEnvelope,
  type LogRecordFields,
} from '../../src/otlp/encode-logs.js';
import { ProtobufWriter } from '../../src/otlp/protobuf-writer.js';
import { canonicalLogsRequest } from '../helpers/otlp-canonical.js';

const SPAN = trace.setSpanContext(context.active(), {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
});
const UNSAMPLED = trace.setSpanContext(context.active(), {
  traceId: 'ffffffffffffffffffffffffffffffff',
  spanId: '0000000000000001',
  traceFlags: TraceFlags.NONE,
});
const INVALID = trace.setSpanContext(context.active(), {
  traceId: '00000000000000000000000000000000',
  spanId: '0000000000000000',
  traceFlags: TraceFlags.SAMPLED,
});

const LONG = 'a long line that needs more than one byte for its length '.repeat(40);

/** Records that exercise every field and value kind, as `Logger.emit()` takes them. */
const RECORDS: LogRecordFields[] = [
  {
    timestamp: 1_700_000_000_123,
    body: 'plain',
    severityNumber: SeverityNumber.INFO,
    severityText: 'info',
  },
  { timestamp: 1_700_000_000_124, body: '', severityNumber: SeverityNumber.UNSPECIFIED },
  { timestamp: 1_700_000_000_125.5, body: 'fractional millisecond' },
  { timestamp: 1_000, body: 'near the epoch' },
  { timestamp: 4_102_444_800_000, body: 'in 2100' },
  { timestamp: 1_700_000_000_126, body: 'ünïcödé ✓ 🎉 日本語', context: SPAN },
  { timestamp: 1_700_000_000_127, body: LONG, context: UNSAMPLED },
  { timestamp: 1_700_000_000_128, body: 'invalid span context', context: INVALID },
  { timestamp: 1_700_000_000_129, body: null as unknown as AnyValue },
  { timestamp: 1_700_000_000_130 },
  {
    timestamp: 1_700_000_000_131,
    severityNumber: SeverityNumber.ERROR,
    severityText: 'error',
    eventName: 'order.placed',
    body: { nested: { list: [1, 'two', 3.5, null, true, [new Uint8Array([1, 2])]] } },
    attributes: {
      str: 'v',
      emptyString: '',
      int: 42,
      negative: -7,
      minInt: Number.MIN_SAFE_INTEGER,
      big: 2 ** 62,
      huge: 2 ** 64,
      float: 99.5,
      nan: Number.NaN,
      inf: -Infinity,
      bool: false,
      bytes: new Uint8Array([0, 255, 7]),
      list: ['a', 1, { k: 'v' }],
      emptyList: [],
      map: { deep: { deeper: { deepest: 'x'.repeat(200) } }, none: null },
      emptyMap: {},
      long: LONG,
      ключ: 'значение',
    },
    context: SPAN,
  },
  {
    timestamp: 1_700_000_000_132,
    body: 'many attributes',
    attributes: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key${i}`, i])),
  },
];

function sdkRecords(records: readonly LogRecordFields[], limits?: { attributeCountLimit: number }) {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'golden', 'host.name': 'h' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
    ...(limits ? { logRecordLimits: limits } : {}),
  });
  const logger = provider.getLogger('golden-scope', '1.2.3', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
    attributes: { 'scope.attr': 'yes' },
  });
  for (const r of records) logger.emit({ ...r, observedTimestamp: r.timestamp + 1 });
  return exporter.getFinishedLogRecords();
}

function ours(records: readonly ReadableLogRecord[]): Buffer {
  const w = new ProtobufWriter(64);
  for (const r of records) appendReadableLogRecord(w, r);
  const first = records[0]!;
  return Buffer.concat(
    LogsEnvelope.of(first.resource, first.instrumentationScope).request(w.copy()),
  );
}

describe('otlp: the log record encoder', () => {
  it('decodes to what the upstream protobuf serializer writes, field for field', () => {
    const records = sdkRecords(RECORDS);
    const upstream = ProtobufLogsSerializer.serializeRequest(records as ReadableLogRecord[])!;
    expect(canonicalLogsRequest(ours(records))).to.deep.equal(canonicalLogsRequest(upstream));
  });

  it('with the attribute count limit, the dropped count too', () => {
    const records = sdkRecords(RECORDS, { attributeCountLimit: 5 });
    expect(records.some((r) => r.droppedAttributesCount > 0)).to.equal(true);
    const upstream = ProtobufLogsSerializer.serializeRequest(records as ReadableLogRecord[])!;
    expect(canonicalLogsRequest(ours(records))).to.deep.equal(canonicalLogsRequest(upstream));
  });

  it('the fields the transport hands over directly encode as the SDK record of the same emit()', () => {
    const records = sdkRecords(RECORDS);
    const w = new ProtobufWriter(64);
    for (const r of RECORDS) appendLogRecordFields(w, r, r.timestamp + 1);
    const first = records[0]!;
    const direct = Buffer.concat(
      LogsEnvelope.of(first.resource, first.instrumentationScope).request(w.copy()),
    );
    expect(canonicalLogsRequest(direct)).to.deep.equal(canonicalLogsRequest(ours(records)));
  });

  it('an attribute with an empty key is left out, as the SDK leaves it out', () => {
    const fields: LogRecordFields = { timestamp: 1, body: 'x', attributes: { '': 1, k: 2 } };
    const records = sdkRecords([fields]);
    const w = new ProtobufWriter(64);
    appendLogRecordFields(w, fields, 2);
    const first = records[0]!;
    const direct = Buffer.concat(
      LogsEnvelope.of(first.resource, first.instrumentationScope).request(w.copy()),
    );
    expect(canonicalLogsRequest(direct)).to.deep.equal(canonicalLogsRequest(ours(records)));
  });
});

describe('otlp: the protobuf writer', () => {
  it('grows its buffer and keeps what it wrote', () => {
    const w = new ProtobufWriter(4);
    for (let i = 0; i < 1000; i++) w.uint(i * 1_000_003);
    const again = new ProtobufWriter(1 << 16);
    for (let i = 0; i < 1000; i++) again.uint(i * 1_000_003);
    expect(w.copy().equals(again.copy())).to.equal(true);
  });

  it('moves a message when its length needs more or fewer bytes than were reserved', () => {
    for (const size of [0, 1, 127, 128, 16_383, 16_384, 200_000]) {
      for (const reserved of [1, 2, 3]) {
        const w = new ProtobufWriter(8);
        const start = w.begin(reserved);
        w.ensure(size);
        w.buf.fill(7, w.pos, w.pos + size);
        w.pos += size;
        w.end(start, reserved);
        const out = w.copy();
        let length = 0;
        let shift = 0;
        let i = 0;
        for (;;) {
          const byte = out[i++]!;
          length += (byte & 0x7f) * 2 ** shift;
          shift += 7;
          if (byte < 0x80) break;
        }
        expect(length, `size ${size}, reserved ${reserved}`).to.equal(size);
        expect(out.length - i).to.equal(size);
      }
    }
  });
});
