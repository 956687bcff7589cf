import { expect } from 'chai';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
} from '@opentelemetry/sdk-logs';
import winston from 'winston';
import { OtelTransport, runWithRequestContext } from '../../src/index.js';
import { decodeLogsProtobuf, startOtlpReceiver } from '../../src/testing/index.js';
import { inSpan } from '../helpers/tracing.js';
import { useOtlpReceiver } from '../helpers/receiver.js';

const encodings: Array<[string, (url: string) => LogRecordExporter]> = [
  ['http/protobuf', (url) => new ProtoExporter({ url })],
  ['http/json', (url) => new JsonExporter({ url })],
  ['http/protobuf, gzip', (url) => new ProtoExporter({ url, compression: 'gzip' as never })],
];

describe('otel-winston/testing: startOtlpReceiver, with the real OTLP exporters', () => {
  const receiver = useOtlpReceiver();

  for (const [name, makeExporter] of encodings) {
    it(`decodes what the SDK sends over ${name}: body, severity, typed attributes, trace, resource`, async () => {
      const provider = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': 'wire-test' }),
        processors: [
          new BatchLogRecordProcessor({ exporter: makeExporter(`${receiver.url}/v1/logs`) }),
        ],
      });
      const logger = winston.createLogger({
        transports: [new OtelTransport({ loggerProvider: provider })],
      });
      let ids = { traceId: '', spanId: '' };
      await inSpan('wire', (span) => {
        ids = span.spanContext();
        runWithRequestContext({ requestId: 'wire-1' }, () =>
          logger.warn('over the wire', {
            int: 42,
            float: 1.5,
            flag: true,
            big: 2n ** 64n,
            bytes: Buffer.from([1, 2, 3]),
            nested: { list: [1, 'two', { three: 3 }] },
            empty: null,
          }),
        );
      });
      await provider.forceFlush();
      const [record] = await receiver.waitForLogs(1, 5000);
      expect(record!.body).to.equal('over the wire');
      expect(record!.severityText).to.equal('warn');
      expect(record!.severityNumber).to.equal(13);
      expect(record!.traceId).to.equal(ids.traceId);
      expect(record!.spanId).to.equal(ids.spanId);
      expect(record!.flags & 0xff).to.equal(1);
      expect(record!.resource['service.name']).to.equal('wire-test');
      expect(record!.scope.name).to.equal('otel-winston');
      const { bytes, ...rest } = record!.attributes;
      expect([...(bytes as Uint8Array)]).to.deep.equal([1, 2, 3]);
      expect(rest).to.deep.equal({
        int: 42,
        float: 1.5,
        flag: true,
        big: '18446744073709551616',
        nested: { list: [1, 'two', { three: 3 }] },
        empty: null,
        'http.request.id': 'wire-1',
      });
      expect(record!.timeUnixNano > 0n).to.equal(true);
      expect(record!.observedTimeUnixNano >= record!.timeUnixNano).to.equal(true);
      await provider.shutdown();
    });
  }

  it('answers with the status it is told to, so tests can exercise retries', async () => {
    receiver.failWith(503);
    const res = await fetch(`${receiver.url}/v1/logs`, { method: 'POST', body: new Uint8Array() });
    expect(res.status).to.equal(503);
    receiver.failWith(undefined);
    const ok = await fetch(`${receiver.url}/v1/logs`, {
      method: 'POST',
      body: new Uint8Array(),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    expect(ok.status).to.equal(200);
    expect(receiver.requests).to.have.length(2);
  });

  it('rejects a malformed body with 400 and keeps running', async () => {
    const res = await fetch(`${receiver.url}/v1/logs`, {
      method: 'POST',
      body: new Uint8Array([0x0a, 0xff]),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    expect(res.status).to.equal(400);
    expect(() => decodeLogsProtobuf(new Uint8Array([0x0a, 0x05, 0x01]))).to.throw(RangeError);
  });

  it('answers 413 to a body over its limit', async () => {
    const small = await startOtlpReceiver({ maxBodyBytes: 10 });
    try {
      const res = await fetch(`${small.url}/v1/logs`, {
        method: 'POST',
        body: new Uint8Array(1000),
      });
      expect(res.status).to.equal(413);
    } finally {
      await small.close();
    }
  });

  it('waitForLogs rejects in time when records do not come', async () => {
    const started = Date.now();
    let error: unknown;
    try {
      await receiver.waitForLogs(1, 100);
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/Expected 1 log records within 100 ms, got 0/);
    expect(Date.now() - started).to.be.lessThan(2000);
  });
});

describe('bench counting receiver', () => {
  it('counts the records of a real export without decoding them', async () => {
    const { startCountingReceiver } = await import('../../bench/count-receiver.js');
    const receiver = await startCountingReceiver();
    try {
      const provider = new LoggerProvider({
        processors: [
          new BatchLogRecordProcessor({
            exporter: new ProtoExporter({ url: `${receiver.url}/v1/logs` }),
          }),
        ],
      });
      const logger = winston.createLogger({
        transports: [new OtelTransport({ loggerProvider: provider })],
      });
      for (let i = 0; i < 1234; i++) logger.info('counted', { i, nested: { list: [i] } });
      await provider.forceFlush();
      await receiver.waitFor(1234, 5000);
      expect(receiver.count()).to.equal(1234);
      await provider.shutdown();
    } finally {
      await receiver.close();
    }
  });
});
