import { context, logs, SeverityNumber, trace, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  createLoggerConfigurator,
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LoggerProviderOptions,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import winston from 'winston';
import { runWithRequestContext } from '../../src/context/request-context.js';
import type { DecodedLogRecord } from '../../src/otlp/decode-logs.js';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../src/testing/index.js';
import { OtelTransport } from '../../src/transport/otel-transport.js';
import { useDiagCapture } from '../helpers/diag.js';
import { testTracer } from '../helpers/tracing.js';

/** The calls both paths get: levels, metadata, errors, an event name, spans and request context. */
function logEverything(logger: winston.Logger): number {
  const tracer = testTracer();
  let calls = 0;
  const log = (fn: () => void): void => {
    fn();
    calls++;
  };
  log(() => logger.info('plain'));
  log(() => logger.warn('with metadata', { orderId: 'o-1', total: 99.5, items: [1, 2, 3] }));
  log(() => logger.error('failed', new Error('boom', { cause: new Error('root') })));
  log(() => logger.error(Object.assign(new Error('coded'), { code: 'E_CODE' })));
  log(() => logger.info('event', { 'event.name': 'order.placed', nested: { a: { b: [null] } } }));
  log(() => logger.debug('not at this level'));
  log(() => logger.info('empty key', { '': 'x', k: 'v' }));
  log(() => logger.info('bytes and dates', { b: Buffer.from('hi'), d: new Date(0), n: 10n }));
  tracer.startActiveSpan('request', (span) => {
    runWithRequestContext({ requestId: 'r-1', userId: 'u-1', route: '/orders' }, () => {
      log(() => logger.info('in a span and a request'));
      log(() => logger.http('http level'));
    });
    span.end();
  });
  log(() => logger.info({ message: { structured: true }, extra: 1 }));
  return calls;
}

function withoutObservedTime(records: readonly DecodedLogRecord[]): object[] {
  return records.map(({ observedTimeUnixNano: _observed, ...rest }) => rest);
}

interface Path {
  readonly pipeline: LogPipeline;
  readonly provider: LoggerProvider;
  readonly transport: OtelTransport;
  readonly logger: winston.Logger;
  readonly calls: { onEmit: number; emitFields: number };
}

function path(receiver: OtlpReceiver, options: Partial<LoggerProviderOptions> = {}): Path {
  const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: false });
  const calls = { onEmit: 0, emitFields: 0 };
  const onEmit = pipeline.onEmit.bind(pipeline);
  const emitFields = pipeline.emitFields.bind(pipeline);
  pipeline.onEmit = (...args) => {
    calls.onEmit++;
    onEmit(...args);
  };
  pipeline.emitFields = (...args) => {
    calls.emitFields++;
    emitFields(...args);
  };
  const processors = options.processors ?? [];
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'fast-path' }),
    ...options,
    processors: [...processors, pipeline],
  });
  const transport = new OtelTransport({ loggerProvider: provider });
  const logger = winston.createLogger({ level: 'http', transports: [transport] });
  return { pipeline, provider, transport, logger, calls };
}

describe('pipeline: the transport fast path', function () {
  this.timeout(20_000);
  useDiagCapture();
  const receivers: OtlpReceiver[] = [];
  const providers: LoggerProvider[] = [];
  const receiver = async (): Promise<OtlpReceiver> => {
    const r = await startOtlpReceiver();
    receivers.push(r);
    return r;
  };
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.shutdown()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    logs.disable();
  });

  it('sends exactly what Logger.emit() would, and another processor still sees every record', async () => {
    const fast = path(await receiver());
    const memory = new InMemoryLogRecordExporter();
    const sdk = path(await receiver(), {
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
    });
    providers.push(fast.provider, sdk.provider);
    // One logger into both: each call is captured once, so both get the same time and span.
    const both = winston.createLogger({
      level: 'http',
      transports: [fast.transport, sdk.transport],
    });
    const calls = logEverything(both);
    await fast.pipeline.forceFlush();
    await sdk.pipeline.forceFlush();

    // The pipeline alone: the fast path, for every record; with a second processor, Logger.emit().
    const emitted = calls - 1; // the debug call is below the logger's level
    expect(fast.calls).to.deep.equal({ onEmit: 0, emitFields: emitted });
    expect(sdk.calls).to.deep.equal({ onEmit: emitted, emitFields: 0 });
    expect(memory.getFinishedLogRecords()).to.have.length(emitted);

    const [a, b] = receivers;
    expect(a!.logs).to.have.length(emitted);
    expect(withoutObservedTime(a!.logs)).to.deep.equal(withoutObservedTime(b!.logs));
    // The empty key is left out on both paths, as the SDK leaves it out.
    expect(a!.logs.find((r) => r.body === 'empty key')!.attributes).to.deep.equal({ k: 'v' });
  });

  it('a processor added later to the array the provider was given sees the records from then on', async () => {
    const r = await receiver();
    const pipeline = new LogPipeline({ url: `${r.url}/v1/logs`, dropWarnings: false });
    const processors: LogRecordProcessor[] = [pipeline];
    const provider = new LoggerProvider({ processors });
    providers.push(provider);
    const logger = winston.createLogger({
      transports: [new OtelTransport({ loggerProvider: provider })],
    });
    logger.info('fast');
    const memory = new InMemoryLogRecordExporter();
    processors.unshift(new SimpleLogRecordProcessor({ exporter: memory }));
    logger.info('both');
    await pipeline.forceFlush();
    expect(r.logs.map((x) => x.body)).to.deep.equal(['fast', 'both']);
    expect(memory.getFinishedLogRecords().map((x) => x.body)).to.deep.equal(['both']);
  });

  it('a provider with stricter attribute limits than the transport: no fast path, and the SDK applies them', async () => {
    const limits = { logRecordLimits: { attributeCountLimit: 2, attributeValueLengthLimit: 4 } };
    const strict = path(await receiver(), limits);
    providers.push(strict.provider);
    strict.logger.info('limited', { a: 'long value', b: 2, c: 3, d: 4 });
    await strict.pipeline.forceFlush();
    expect(strict.calls).to.deep.equal({ onEmit: 1, emitFields: 0 });
    const [record] = receivers[0]!.logs;
    expect(record!.attributes).to.deep.equal({ a: 'long', b: 2 });
    expect(record!.droppedAttributesCount).to.equal(2);
  });

  it('the logger configuration still applies on the fast path: a minimum severity, trace-based', async () => {
    const configured = path(await receiver(), {
      loggerConfigurator: createLoggerConfigurator([
        {
          pattern: 'otel-winston',
          config: { minimumSeverity: SeverityNumber.WARN, traceBased: true },
        },
      ]),
    });
    providers.push(configured.provider);
    configured.logger.info('below');
    configured.logger.warn('at');
    configured.logger.error('above');
    const unsampled = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
    });
    context.with(unsampled, () => configured.logger.error('in an unsampled trace'));
    await configured.pipeline.forceFlush();
    expect(receivers[0]!.logs.map((r) => r.body)).to.deep.equal(['at', 'above']);
    expect(configured.pipeline.stats().created).to.equal(2);
    expect(configured.calls.emitFields).to.equal(2);
  });

  it('the global provider: records logged before the SDK registers are not lost, and the fast path follows', async () => {
    const r = await receiver();
    const pipeline = new LogPipeline({ url: `${r.url}/v1/logs`, dropWarnings: false });
    let fast = 0;
    const emitFields = pipeline.emitFields.bind(pipeline);
    pipeline.emitFields = (...args) => {
      fast++;
      emitFields(...args);
    };
    const provider = new LoggerProvider({ processors: [pipeline] });
    providers.push(provider);
    const logger = winston.createLogger({ transports: [new OtelTransport()] });
    logger.info('before the SDK'); // the API's no-op stand-in: nowhere to go yet
    logs.setGlobalLoggerProvider(provider);
    logger.info('after the SDK');
    logger.info('and again');
    await pipeline.forceFlush();
    expect(r.logs.map((x) => x.body)).to.deep.equal(['after the SDK', 'and again']);
    expect(fast).to.equal(2);
  });

  it('trace context from the span active at the call, on both paths', async () => {
    const fast = path(await receiver());
    providers.push(fast.provider);
    const tracer = testTracer();
    let traceId = '';
    tracer.startActiveSpan('s', (span) => {
      traceId = span.spanContext().traceId;
      fast.logger.info('traced');
      span.end();
    });
    expect(trace.getActiveSpan()).to.equal(undefined);
    await fast.pipeline.forceFlush();
    expect(receivers[0]!.logs[0]!.traceId).to.equal(traceId);
    expect(receivers[0]!.logs[0]!.flags).to.equal(1);
  });
});
