import { metrics, SeverityNumber, type Attributes } from '@opentelemetry/api';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import winston from 'winston';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import {
  ATTR_LOG_SEVERITY,
  ATTR_LOGGER_NAME,
  LOG_RECORDS_METRIC,
  LogMetricsProcessor,
  type LogMetricDeclaration,
} from '../../src/policies/metrics/log-metrics-processor.js';
import { SamplingProcessor } from '../../src/policies/sampling/sampling-processor.js';
import { OtelTransport } from '../../src/transport/otel-transport.js';
import { useDiagCapture } from '../helpers/diag.js';
import { NOOP_PROCESSOR as NOOP } from '../helpers/processors.js';
import { useOtlpReceiver } from '../helpers/receiver.js';

/** A MetricReader that collects when asked to. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A meter provider and a function that collects its metrics by name. */
function meters(): { provider: MeterProvider; collect: () => Promise<Map<string, MetricData>> } {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).to.deep.equal([]);
      const out = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) out.set(metric.descriptor.name, metric);
      }
      return out;
    },
  };
}

/** A sum's points as `attributes → value`, without the zeros. */
function sumPoints(metric: MetricData | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of metric?.dataPoints ?? []) {
    if ((p.value as number) !== 0) out.set(JSON.stringify(p.attributes), p.value as number);
  }
  return out;
}

const key = (attributes: Attributes): string => JSON.stringify(attributes);

describe('LogMetricsProcessor', function () {
  this.timeout(20_000);
  const diag = useDiagCapture();
  const receiver = useOtlpReceiver();

  it('counts every record by severity and logger name, before sampling drops any', async () => {
    const { provider: meterProvider, collect } = meters();
    const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: false });
    const counter = new LogMetricsProcessor(
      { next: new SamplingProcessor({ next: pipeline, ratio: 0 }, {}), meterProvider },
      {},
    );
    const provider = new LoggerProvider({ processors: [counter] });
    const make = (loggerName: string) =>
      winston.createLogger({
        level: 'debug',
        transports: [new OtelTransport({ loggerProvider: provider, loggerName })],
      });
    const api = make('api');
    const billing = make('billing');
    for (let i = 0; i < 5; i++) api.info('request');
    api.error('failed');
    api.debug('detail');
    billing.warn('slow');
    billing.error('declined');
    billing.error('declined');
    provider.getLogger('raw').emit({ body: 'no severity' });
    const counted = sumPoints((await collect()).get(LOG_RECORDS_METRIC));
    const point = (severity: string, logger: string): string =>
      key({ [ATTR_LOG_SEVERITY]: severity, [ATTR_LOGGER_NAME]: logger });
    expect(counted).to.deep.equal(
      new Map([
        [point('DEBUG', 'api'), 1],
        [point('INFO', 'api'), 5],
        [point('ERROR', 'api'), 1],
        [point('WARN', 'billing'), 1],
        [point('ERROR', 'billing'), 2],
        [point('UNSPECIFIED', 'raw'), 1],
      ]),
    );
    // Sampling at 0 kept only the ERROR records; the counter saw them all.
    expect(pipeline.stats().dropped.sampled).to.equal(8);
    expect(counter.counts().get('billing')).to.include({ ERROR: 2, WARN: 1, INFO: 0 });
    await provider.shutdown();
    await meterProvider.shutdown();
  });

  it('moves to the global MeterProvider registered after it was made, as under the preload', async () => {
    const counter = new LogMetricsProcessor({ next: NOOP }, {});
    const logger = new LoggerProvider({ processors: [counter] }).getLogger('app');
    logger.emit({ body: 'before', severityNumber: SeverityNumber.INFO });
    const { provider, collect } = meters();
    metrics.setGlobalMeterProvider(provider);
    try {
      // The counter looks for a new provider on the first and every 1,024th record.
      for (let i = 0; i < 1024; i++) {
        logger.emit({ body: 'after', severityNumber: SeverityNumber.INFO });
      }
      const counted = sumPoints((await collect()).get(LOG_RECORDS_METRIC));
      // Totals: the record from before the provider came is in them too.
      expect([...counted.values()]).to.deep.equal([1025]);
    } finally {
      metrics.disable();
      await provider.shutdown();
    }
  });

  it('makes declared counters and histograms from matching records, with the attributes asked for', async () => {
    const { provider: meterProvider, collect } = meters();
    const declared: LogMetricDeclaration[] = [
      {
        name: 'checkout.duration',
        kind: 'histogram',
        unit: 'ms',
        match: { template: 'checkout done in %dms' },
        value: 'durationMs',
        attributes: ['region'],
      },
      {
        name: 'payment.failures',
        kind: 'counter',
        match: { minSeverity: 'error', attribute: 'paymentId' },
        attributes: ['provider'],
      },
      { name: 'cache.misses', kind: 'counter', match: { template: 'cache miss for #' } },
    ];
    const counter = new LogMetricsProcessor(
      { next: NOOP, meterProvider, recordCounter: false, metrics: declared },
      {},
    );
    const provider = new LoggerProvider({ processors: [counter] });
    const logger = winston.createLogger({
      format: winston.format.combine(winston.format.splat(), winston.format.simple()),
      transports: [new OtelTransport({ loggerProvider: provider })],
    });
    for (const [ms, region] of [
      [120, 'eu'],
      [80, 'eu'],
      [300, 'us'],
    ] as const) {
      logger.info('checkout done in %dms', ms, { durationMs: ms, region });
    }
    logger.info('checkout done in %dms', 5, { durationMs: 'soon', region: 'eu' }); // no number
    logger.error('payment failed', { paymentId: 'p1', provider: 'stripe' });
    logger.error('payment failed', { paymentId: 'p2', provider: 'stripe' });
    logger.warn('payment failed', { paymentId: 'p3', provider: 'stripe' }); // below ERROR
    logger.error('payment failed', { provider: 'stripe' }); // no paymentId
    logger.info('cache miss for user:42');
    logger.info('cache miss for 7f3a9c');
    const collected = await collect();
    expect(collected.has(LOG_RECORDS_METRIC)).to.equal(false);
    const histogram = collected.get('checkout.duration')!;
    expect(histogram.dataPointType).to.equal(DataPointType.HISTOGRAM);
    expect(histogram.descriptor.unit).to.equal('ms');
    const byRegion = new Map(
      histogram.dataPoints.map((p) => {
        const v = p.value as { count: number; sum?: number };
        return [p.attributes.region, [v.count, v.sum]];
      }),
    );
    expect(byRegion).to.deep.equal(
      new Map([
        ['eu', [2, 200]],
        ['us', [1, 300]],
      ]),
    );
    expect(sumPoints(collected.get('payment.failures'))).to.deep.equal(
      new Map([[key({ provider: 'stripe' }), 2]]),
    );
    // 'user:42' normalises to 'user:#', not '#': only the hex id matches.
    expect(sumPoints(collected.get('cache.misses'))).to.deep.equal(new Map([[key({}), 1]]));
    await provider.shutdown();
    await meterProvider.shutdown();
  });

  it('reads declarations from the JSON file OTEL_WINSTON_LOG_METRICS_CONFIG names; a bad one warns and is left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-winston-metrics-'));
    try {
      const file = join(dir, 'metrics.json');
      writeFileSync(
        file,
        JSON.stringify({
          metrics: [
            { name: 'errors.seen', kind: 'counter', match: { minSeverity: 'ERROR' } },
            { name: 'no value', kind: 'histogram', match: {} },
            { name: 'latency', kind: 'histogram', match: {} },
            { name: 'sneaky', kind: 'counter', match: { minSeverity: 'constructor' } },
          ],
        }),
      );
      const { provider: meterProvider, collect } = meters();
      const counter = new LogMetricsProcessor(
        { next: NOOP, meterProvider },
        { OTEL_WINSTON_LOG_METRICS_CONFIG: file, OTEL_WINSTON_LOG_METRICS: 'off' },
      );
      const said = diag.warnings.join('\n');
      expect(said).to.match(/OTW004.*metrics\[1\]\.name/);
      expect(said).to.match(/OTW004.*metrics\[2\]\.value/);
      expect(said).to.match(/OTW004.*metrics\[3\]\.match\.minSeverity/);
      const logger = new LoggerProvider({ processors: [counter] }).getLogger('app');
      logger.emit({ body: 'x', severityNumber: SeverityNumber.ERROR });
      logger.emit({ body: 'x', severityNumber: SeverityNumber.INFO });
      const collected = await collect();
      expect([...collected.keys()]).to.deep.equal(['errors.seen']);
      expect([...sumPoints(collected.get('errors.seen')).values()]).to.deep.equal([1]);
      await meterProvider.shutdown();

      diag.clear();
      const none = new LogMetricsProcessor(
        { next: NOOP },
        {
          OTEL_WINSTON_LOG_METRICS_CONFIG: join(dir, 'missing.json'),
          OTEL_WINSTON_LOG_METRICS: 'off',
        },
      );
      expect(none.active).to.equal(false);
      expect(diag.warnings.join('\n')).to.match(/OTW004.*missing\.json was not read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts at most 1,000 logger names apart; the records of the others under _other', () => {
    const counter = new LogMetricsProcessor({ next: NOOP }, {});
    const provider = new LoggerProvider({ processors: [counter] });
    for (let i = 0; i < 1005; i++) provider.getLogger(`logger-${i}`).emit({ body: 'x' });
    const counts = counter.counts();
    expect(counts.size).to.equal(1001);
    expect(counts.get('_other')).to.include({ UNSPECIFIED: 5 });
  });

  it('rejects bad options with the option named', () => {
    const make = (metricsOption: unknown) => () =>
      new LogMetricsProcessor({ next: NOOP, metrics: metricsOption as LogMetricDeclaration[] }, {});
    expect(make([{ name: 'x', kind: 'gauge', match: {} }])).to.throw(/metrics\[0\]\.kind/);
    expect(make([{ name: 'x', kind: 'histogram', match: {} }])).to.throw(/metrics\[0\]\.value/);
    expect(make([{ name: 'x', kind: 'counter' }])).to.throw(/metrics\[0\]\.match/);
    expect(make([{ name: 'x', kind: 'counter', match: { minSeverity: 'loud' } }])).to.throw(
      /minSeverity/,
    );
    expect(make([{ name: '', kind: 'counter', match: {} }])).to.throw(/metrics\[0\]\.name/);
    expect(make('all')).to.throw(/metrics/);
  });
});
