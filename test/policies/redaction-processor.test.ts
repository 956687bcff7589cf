import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import winston from 'winston';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import { RedactionProcessor } from '../../src/policies/redaction/redaction-processor.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../src/testing/index.js';
import { OtelTransport } from '../../src/transport/otel-transport.js';
import { useDiagCapture } from '../helpers/diag.js';
import { NOOP_PROCESSOR as NOOP } from '../helpers/processors.js';

function logSecrets(logger: winston.Logger): void {
  logger.info('login by jane@example.com', { password: 'hunter2', user: 'u-42' });
  logger.warn('nested', {
    req: { headers: { cookie: 'sid=abc' } },
    list: ['AKIAIOSFODNN7EXAMPLE'],
  });
  logger.error('failed', new Error('token=abc123XYZ rejected'));
  logger.info({ message: { event: 'signup', email: 'john@example.org', plan: 'pro' } });
  logger.info('order placed', { orderId: 'o-1', total: 99.5 });
}

describe('RedactionProcessor', function () {
  this.timeout(20_000);
  const diag = useDiagCapture();
  const receivers: OtlpReceiver[] = [];
  const providers: LoggerProvider[] = [];
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.shutdown()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  /** A pipeline behind redaction, and after it `others` (which make Logger.emit() the path). */
  async function setup(others: LogRecordProcessor[] = [], meterProvider?: MeterProvider) {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: false });
    let fast = 0;
    const emitFields = pipeline.emitFields.bind(pipeline);
    pipeline.emitFields = (...args) => {
      fast++;
      emitFields(...args);
    };
    const redaction = new RedactionProcessor({ next: pipeline, meterProvider }, {});
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'redaction' }),
      processors: [redaction, ...others],
    });
    providers.push(provider);
    const transport = new OtelTransport({ loggerProvider: provider });
    return { receiver, pipeline, redaction, transport, fast: () => fast };
  }

  it('redacts the same on the fast path and through Logger.emit(), where processors after it see the redacted record', async () => {
    const fast = await setup();
    const memory = new InMemoryLogRecordExporter();
    const sdk = await setup([new SimpleLogRecordProcessor({ exporter: memory })]);
    // One logger into both: the same calls, the same times.
    logSecrets(winston.createLogger({ transports: [fast.transport, sdk.transport] }));
    await fast.pipeline.forceFlush();
    await sdk.pipeline.forceFlush();
    expect(fast.fast()).to.equal(5);
    expect(sdk.fast()).to.equal(0);
    const strip = (records: readonly { observedTimeUnixNano?: unknown }[]) =>
      records.map(({ observedTimeUnixNano: _o, ...rest }) => rest);
    expect(strip(fast.receiver.logs)).to.deep.equal(strip(sdk.receiver.logs));

    const [login, nested, failed, signup, order] = fast.receiver.logs;
    expect(login!.body).to.equal('login by ****');
    expect(login!.attributes).to.deep.equal({ password: '****', user: 'u-42' });
    expect(nested!.attributes).to.deep.equal({
      req: { headers: { cookie: '****' } },
      list: ['****'],
    });
    expect(failed!.attributes['exception.message']).to.equal('token=**** rejected');
    expect(String(failed!.attributes['exception.stacktrace'])).not.to.include('abc123XYZ');
    expect(signup!.body).to.deep.equal({ event: 'signup', email: '****', plan: 'pro' });
    expect(order!.attributes).to.deep.equal({ orderId: 'o-1', total: 99.5 });
    // The SimpleLogRecordProcessor after it got the redacted record too.
    const seen = memory.getFinishedLogRecords();
    expect(seen[0]!.attributes).to.deep.equal({ password: '****', user: 'u-42' });
    expect(seen[0]!.body).to.equal('login by ****');
  });

  it('counts each redaction by rule, in stats and in otel_winston.log.redactions', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    try {
      const { redaction, transport, pipeline } = await setup([], meterProvider);
      logSecrets(winston.createLogger({ transports: [transport] }));
      await pipeline.forceFlush();
      const counts = Object.fromEntries(redaction.counts());
      expect(counts).to.deep.include({ email: 2, password: 1, cookie: 1, 'aws-access-key': 1 });
      // The token is in the body (winston appends the error's message), the exception's message
      // and its stack.
      expect(counts['key-value-secret']).to.equal(3);
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'otel_winston.log.redactions')!;
      const byRule = Object.fromEntries(
        metric.dataPoints.map((p) => [p.attributes['otel_winston.redaction.rule'], p.value]),
      );
      expect(byRule).to.deep.equal(counts);
      expect(metric.descriptor.unit).to.equal('{redaction}');
    } finally {
      await meterProvider.shutdown();
    }
  });

  it('counts on the global MeterProvider even when the SDK registers it after the processor is made, as under the preload', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const captured: LogRecordProcessor = { ...NOOP };
    const redaction = new RedactionProcessor({ next: captured }, {});
    metrics.setGlobalMeterProvider(meterProvider);
    try {
      const provider = new LoggerProvider({ processors: [redaction] });
      providers.push(provider);
      const logger = winston.createLogger({
        transports: [new OtelTransport({ loggerProvider: provider })],
      });
      logger.info('mail a@b.example');
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'otel_winston.log.redactions');
      const email = metric?.dataPoints.find(
        (p) => p.attributes['otel_winston.redaction.rule'] === 'email',
      );
      expect(email?.value).to.equal(1);
    } finally {
      metrics.disable();
      await meterProvider.shutdown();
    }
  });

  it('reads its settings from the environment when no option is given', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const capture: LogRecordProcessor = {
      ...NOOP,
      onEmit: (record) => void logs.push({ body: record.body, ...record.attributes }),
    };
    const redaction = new RedactionProcessor(
      { next: capture },
      {
        OTEL_WINSTON_REDACT_ACTIONS: 'email=hash, password=remove, bogus',
        OTEL_WINSTON_REDACT_HASH_KEY: 'k',
        OTEL_WINSTON_REDACT_IP_ADDRESSES: 'on',
        OTEL_WINSTON_REDACT_MAX_SCAN_LENGTH: '100',
      },
    );
    const provider = new LoggerProvider({ processors: [redaction] });
    providers.push(provider);
    const logger = winston.createLogger({
      transports: [new OtelTransport({ loggerProvider: provider })],
    });
    logger.info(`from 10.0.0.1 by a@b.example ${'x'.repeat(200)}`, { password: 'p' });
    expect(logs).to.have.length(1);
    expect(logs[0]!.password).to.equal(undefined);
    expect(logs[0]!.body).to.match(
      /^from \*\*\*\* by hmac:[0-9a-f]{32} x+\[otel-winston: \d+ characters not scanned\]$/,
    );
    expect(diag.warnings.join('\n')).to.match(/OTW004.*OTEL_WINSTON_REDACT_ACTIONS.*"bogus"/);
  });

  it('takes the hash key from the environment exactly as set (a key from a file keeps its newline)', () => {
    const hashOf = (options: object, env: Record<string, string>): unknown => {
      const logs: unknown[] = [];
      const capture: LogRecordProcessor = { ...NOOP, onEmit: (r) => void logs.push(r.body) };
      const provider = new LoggerProvider({
        processors: [new RedactionProcessor({ next: capture, ...options }, env)],
      });
      providers.push(provider);
      winston
        .createLogger({ transports: [new OtelTransport({ loggerProvider: provider })] })
        .info('by a@b.example');
      return logs[0];
    };
    const actions = { OTEL_WINSTON_REDACT_ACTIONS: 'email=hash' };
    const fromFile = hashOf({}, { ...actions, OTEL_WINSTON_REDACT_HASH_KEY: 'k\n' });
    expect(fromFile).to.match(/^by hmac:[0-9a-f]{32}$/);
    expect(fromFile).to.equal(hashOf({ hashKey: 'k\n' }, actions));
    expect(fromFile).to.not.equal(hashOf({}, { ...actions, OTEL_WINSTON_REDACT_HASH_KEY: 'k' }));
  });

  it('hash without a key: masks, and says so once when set up', () => {
    new RedactionProcessor({ next: NOOP, actions: { email: 'hash' } }, {});
    expect(diag.warnings.join('\n')).to.match(/OTW019.*"hash" needs OTEL_WINSTON_REDACT_HASH_KEY/);
  });

  describe('options', () => {
    const bad: Array<[string, unknown]> = [
      ['options', null],
      ['next', { next: {} }],
      ['keyRules', { next: NOOP, keyRules: 'password' }],
      ['keyRules[0]', { next: NOOP, keyRules: [{ name: 'x', keys: [''] }] }],
      ['valueRules[0]', { next: NOOP, valueRules: [/secret/] }],
      ['ipAddresses', { next: NOOP, ipAddresses: 'yes' }],
      ['actions.email', { next: NOOP, actions: { email: 'blur' } }],
      ['hashKey', { next: NOOP, hashKey: '' }],
      ['mask', { next: NOOP, mask: 4 }],
      ['maxScanLength', { next: NOOP, maxScanLength: 10 }],
    ];
    for (const [name, options] of bad) {
      it(`rejects a bad ${name} with a coded error`, () => {
        expect(() => new RedactionProcessor(options as never, {}))
          .to.throw(`\`${name}\``)
          .with.property('code', 'OTW_ERR_INVALID_OPTION');
      });
    }
    it('never puts a hash key in an error message', () => {
      expect(() => new RedactionProcessor({ next: NOOP, hashKey: 5 as never }, {})).to.throw(
        '(hidden)',
      );
    });
  });
});
