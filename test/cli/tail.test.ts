import { expect } from 'chai';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import winston from 'winston';
import { colorsFor, startTail } from '../../src/cli/tail.js';
import { OtelTransport } from '../../src/index.js';
import { testTracer } from '../helpers/tracing.js';
import { waitUntil } from '../helpers/wait.js';

describe('otel-winston tail: startTail', () => {
  it("holds a trace's logs until its root span arrives, however much later, then prints one block", async () => {
    testTracer(); // the context manager
    const out: string[] = [];
    const tail = await startTail({
      port: 0,
      quietMillis: 50,
      maxWaitMillis: 5000,
      color: false,
      write: (t) => out.push(t),
    });
    try {
      const loggerProvider = new LoggerProvider({
        processors: [
          new BatchLogRecordProcessor({
            exporter: new OTLPLogExporter({ url: `${tail.url}/v1/logs` }),
          }),
        ],
      });
      const tracerProvider = new TracerProvider({
        spanProcessors: [
          new SimpleSpanProcessor({
            exporter: new OTLPTraceExporter({ url: `${tail.url}/v1/traces` }),
          }),
        ],
      });
      const logger = winston.createLogger({ transports: [new OtelTransport({ loggerProvider })] });
      const span = tracerProvider.getTracer('t').startSpan('GET /slow');
      const { context, trace } = await import('@opentelemetry/api');
      context.with(trace.setSpan(context.active(), span), () => logger.info('inside the request'));
      await loggerProvider.forceFlush();
      // The logs are in; the span comes later, as with the default batch delays. A record
      // outside any trace, sent after them, is printed once quiet: by then the trace's block
      // would have been too, had it not waited for its root span.
      logger.info('a marker outside any trace');
      await loggerProvider.forceFlush();
      await waitUntil('the marker', () => out.some((t) => t.includes('a marker')));
      expect(out, 'nothing printed before the root span').to.have.length(1);
      span.end();
      await tracerProvider.forceFlush();
      await waitUntil('the trace', () => out.length === 2);
      expect(out[1]).to.match(
        /GET \/slow \[internal\][^\n]*\n\s+│ \d\d:\d\d:\d\d\.\d{3}Z INFO {2}inside the request/,
      );
      await loggerProvider.shutdown();
      await tracerProvider.shutdown();
    } finally {
      await tail.close();
    }
  });

  it('prints records outside any trace grouped by second, and everything left when it closes', async () => {
    const out: string[] = [];
    const tail = await startTail({
      port: 0,
      quietMillis: 10_000,
      color: false,
      write: (t) => out.push(t),
    });
    const loggerProvider = new LoggerProvider({
      processors: [
        new BatchLogRecordProcessor({
          exporter: new OTLPLogExporter({ url: `${tail.url}/v1/logs` }),
        }),
      ],
    });
    winston
      .createLogger({ transports: [new OtelTransport({ loggerProvider })] })
      .warn('no trace here');
    await loggerProvider.forceFlush();
    await tail.close();
    expect(out.join('')).to.match(/WARN {2}no trace here/);
    await loggerProvider.shutdown();
  });

  it('colours as Node does: FORCE_COLOR forces, NO_COLOR turns off, else a terminal with colours', () => {
    const terminal = { isTTY: true, hasColors: () => true };
    const pipe = {};
    expect(colorsFor(terminal, {})).to.equal(true);
    expect(colorsFor({ isTTY: true, hasColors: () => false }, {})).to.equal(false);
    expect(colorsFor(pipe, {})).to.equal(false);
    expect(colorsFor(terminal, { NO_COLOR: '1' })).to.equal(false);
    expect(colorsFor(terminal, { NO_COLOR: '' })).to.equal(true);
    expect(colorsFor(terminal, { NO_COLOR: ' ' })).to.equal(false); // present and not empty
    expect(colorsFor(pipe, { FORCE_COLOR: '1' })).to.equal(true);
    expect(colorsFor(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).to.equal(true);
    expect(colorsFor(terminal, { FORCE_COLOR: '0' })).to.equal(false);
  });
});
