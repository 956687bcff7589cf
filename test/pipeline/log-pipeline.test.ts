import { SeverityNumber } from '@opentelemetry/api';
import { JsonLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeLogsJson } from '../../src/otlp/decode-logs.js';
import { appendReadableLogRecord, LogsEnvelope } from '../../src/otlp/encode-logs.js';
import { logsRequestToJson } from '../../src/otlp/logs-json.js';
import { ProtobufWriter } from '../../src/otlp/protobuf-writer.js';
import type { LogPipelineOptions } from '../../src/pipeline/options.js';
import { startOtlpReceiver } from '../../src/testing/index.js';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import { useDiagCapture } from '../helpers/diag.js';
import { balanced, pipelineLogger, sampleStats, type PipelineLogger } from '../helpers/pipeline.js';
import { startLoadReceiver, type LoadReceiver } from '../helpers/load-receiver.js';
import { waitUntil } from '../helpers/wait.js';

const running: PipelineLogger[] = [];

function setup(url: string, options: LogPipelineOptions = {}): PipelineLogger {
  const s = pipelineLogger({ url, ...options });
  running.push(s);
  return s;
}

describe('pipeline: LogPipeline against a loopback receiver', function () {
  this.timeout(30_000);
  useDiagCapture();
  let receiver: LoadReceiver;

  beforeEach(async () => {
    receiver = await startLoadReceiver();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.provider.shutdown()));
    await receiver.close();
  });

  it('delivers every record exactly once, and accounts for each', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`);
    log(5000);
    await pipeline.forceFlush();
    expect(receiver.count).to.equal(5000);
    expect([...receiver.seen.values()].every((n) => n === 1)).to.equal(true);
    const stats = pipeline.stats();
    expect(stats).to.deep.include({ created: 5000, exported: 5000, droppedTotal: 0 });
    expect(stats).to.deep.include({ queued: 0, inFlight: 0, queuedBytes: 0, inFlightBytes: 0 });
  });

  it('batches of OTEL_BLRP_MAX_EXPORT_BATCH_SIZE records, sent as soon as one is full', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`, {
      maxExportBatchSize: 100,
      scheduledDelayMillis: 60_000,
    });
    log(1000);
    await waitUntil('the exports to conclude', () => pipeline.stats().exported === 1000);
    expect(receiver.requests).to.equal(10);
  });

  it('holds at most maxQueueBytes: with the collector down, every record over the cap is counted queue_full', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`, { maxQueueBytes: 64 * 1024 });
    await receiver.down();
    log(5000);
    const full = pipeline.stats();
    expect(full.dropped.queue_full).to.be.greaterThan(0);
    expect(full.queuedBytes + full.inFlightBytes).to.be.at.most(64 * 1024);
    expect(balanced(full)).to.equal(true);
    const kept = full.created - full.dropped.queue_full;
    await receiver.up();
    await waitUntil('the backlog to drain', () => pipeline.stats().exported === kept, 20_000);
    // The oldest records were kept, the newest dropped; none twice.
    expect(receiver.count).to.equal(kept);
    for (let seq = 0; seq < kept; seq++) expect(receiver.seen.get(seq), `seq ${seq}`).to.equal(1);
    expect(pipeline.stats()).to.deep.include({ queued: 0, inFlight: 0 });
  });

  it('the identity holds at every moment: through an outage, a recovery and a queue that overflows', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`, { maxQueueBytes: 128 * 1024 });
    const { samples, add, stop } = sampleStats(pipeline);
    for (let round = 0; round < 20; round++) {
      if (round === 5) await receiver.down();
      if (round === 12) await receiver.up();
      log(300, round * 300);
      add();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitUntil('the queue to empty', () => {
      const s = pipeline.stats();
      return s.queued === 0 && s.inFlight === 0;
    });
    stop();
    expect(samples.length).to.be.greaterThan(40);
    for (const s of samples) expect(balanced(s), JSON.stringify(s)).to.equal(true);
    const end = pipeline.stats();
    expect(end.created).to.equal(6000);
    expect(end.exported).to.equal(receiver.count);
    expect(end.exported + end.dropped.queue_full).to.equal(6000);
  });

  it('a record larger than a batch may be is dropped as too_large; the others go', async () => {
    const { pipeline, logger, log } = setup(`${receiver.url}/v1/logs`, {
      maxExportBatchBytes: 4096,
    });
    log(10);
    logger.info('x'.repeat(10_000), { seq: 10 });
    log(10, 11);
    await pipeline.forceFlush();
    expect(pipeline.stats().dropped.too_large).to.equal(1);
    expect(receiver.count).to.equal(20);
    expect(receiver.seen.has(10)).to.equal(false);
  });

  it('a status that is not retried: the batch is dropped as rejected, with one request', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`);
    receiver.failWith(400);
    log(50);
    await pipeline.forceFlush();
    expect(receiver.requests).to.equal(1);
    expect(pipeline.stats().dropped.rejected).to.equal(50);
    expect(balanced(pipeline.stats())).to.equal(true);
  });

  it('retries 503 until the collector takes the records', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`);
    receiver.failWith(503);
    log(50);
    await waitUntil('a few failed attempts', () => receiver.requests >= 3);
    receiver.failWith(undefined);
    await pipeline.forceFlush();
    expect(receiver.count).to.equal(50);
    expect(pipeline.stats()).to.deep.include({ exported: 50, droppedTotal: 0 });
  });

  it('honours Retry-After', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`);
    receiver.failWith(503, { 'retry-after': '1' });
    log(5);
    await waitUntil('the first attempt', () => receiver.requests >= 1);
    receiver.failWith(undefined);
    await pipeline.forceFlush();
    expect(receiver.count).to.equal(5);
    // Without the header the next attempt would come within retryMaxMillis (100 ms).
    expect(receiver.arrivals[1]! - receiver.arrivals[0]!).to.be.at.least(950);
  });

  it('with retryMaxElapsedMillis, gives up: retries_exhausted', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`, { retryMaxElapsedMillis: 300 });
    receiver.failWith(503);
    log(20);
    await waitUntil('giving up', () => pipeline.stats().dropped.retries_exhausted === 20);
    expect(balanced(pipeline.stats())).to.equal(true);
  });

  it('while the collector fails, exactly one request probes it; when it is back, the backlog drains oldest first', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`, {
      maxExportBatchSize: 50,
      maxConcurrentExports: 4,
      retryInitialMillis: 50,
      retryMaxMillis: 200,
    });
    receiver.failWith(503);
    log(1000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.maxConcurrent).to.equal(1);
    const during = receiver.requests;
    // Backoff 50 ms growing to 200 ms: about 5 to 10 probes in a second, not hundreds.
    expect(during).to.be.within(3, 15);
    const arrival = receiver.arrivals.length;
    receiver.failWith(undefined);
    const order: number[] = [];
    await waitUntil('the backlog', () => pipeline.stats().exported === 1000, 10_000);
    for (let seq = 0; seq < 1000; seq++) order.push(receiver.seen.get(seq) ?? 0);
    expect(order.every((n) => n === 1)).to.equal(true);
    expect(receiver.arrivals.length - arrival).to.equal(20);
    expect(pipeline.stats()).to.deep.include({ exported: 1000, droppedTotal: 0 });
  });

  it('a collector that never answers: shutdown() ends by its deadline, counts the rest as shutdown, prints one line', async () => {
    const { pipeline, provider, log } = setup(`${receiver.url}/v1/logs`, {
      shutdownTimeoutMillis: 500,
      dropWarnings: true,
    });
    receiver.delay(60_000);
    log(100);
    await waitUntil('the export to start', () => receiver.requests >= 1);
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    const started = Date.now();
    try {
      await provider.shutdown();
    } finally {
      process.stderr.write = write;
    }
    expect(Date.now() - started).to.be.within(450, 1500);
    const stats = pipeline.stats();
    expect(stats.dropped.shutdown).to.equal(100);
    expect(balanced(stats)).to.equal(true);
    const summary = lines.filter((l) => l.includes('otel-winston:'));
    expect(summary).to.have.length(1);
    expect(summary[0]).to.include('100 of 100 log records were not delivered');
    expect(summary[0]).to.include('100 shutdown deadline');
  });

  it('records logged while the provider shuts down are sent; those after it are counted already_shutdown', async () => {
    const { pipeline, provider, log } = setup(`${receiver.url}/v1/logs`);
    log(10);
    const stopping = provider.shutdown();
    log(5, 10); // the provider has begun to shut down: Logger.emit() would drop these uncounted
    await stopping;
    log(5, 15);
    const stats = pipeline.stats();
    expect(receiver.count).to.equal(15);
    expect(stats).to.deep.include({ created: 20, exported: 15, droppedTotal: 5 });
    expect(stats.dropped.already_shutdown).to.equal(5);
  });

  it('forceFlush() during an outage returns after exportTimeoutMillis and drops nothing', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`, { exportTimeoutMillis: 300 });
    await receiver.down();
    log(30);
    const started = Date.now();
    await pipeline.forceFlush();
    expect(Date.now() - started).to.be.within(250, 2000);
    expect(pipeline.stats().droppedTotal).to.equal(0);
    await receiver.up();
    await waitUntil('delivery after the outage', () => receiver.count === 30, 10_000);
  });

  it('records that arrive after shutdown are counted already_shutdown', async () => {
    const { pipeline, provider } = setup(`${receiver.url}/v1/logs`);
    // A second provider still hands records to the pipeline after it has shut down.
    const other = new LoggerProvider({ processors: [pipeline] });
    await provider.shutdown();
    other.getLogger('late').emit({ body: 'too late' });
    expect(pipeline.stats().dropped.already_shutdown).to.equal(1);
    expect(balanced(pipeline.stats())).to.equal(true);
  });

  it('drops are told locally: one Node.js warning OTW014 per 30 s with the count and reason, and the summary at shutdown', async () => {
    const { pipeline, provider, log } = setup(`${receiver.url}/v1/logs`, {
      maxQueueBytes: 64 * 1024,
      dropWarnings: true,
      shutdownTimeoutMillis: 100,
    });
    const warnings: Error[] = [];
    // Node prints warnings through its own listener: take it off, to read them instead.
    const printers = process.listeners('warning');
    process.removeAllListeners('warning');
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    const lines: string[] = [];
    const write = process.stderr.write;
    try {
      await receiver.down();
      log(3000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      log(3000, 3000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      process.stderr.write = ((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }) as typeof process.stderr.write;
      await provider.shutdown();
    } finally {
      process.stderr.write = write;
      process.removeListener('warning', onWarning);
      for (const printer of printers) process.on('warning', printer);
    }
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'OTW014');
    expect(ours).to.have.length(1);
    expect(ours[0]!.name).to.equal('OtelWinstonWarning');
    expect(ours[0]!.message).to.match(
      /dropped [\d,]+ log record\(s\) for http:\/\/127\.0\.0\.1:\d+\/v1\/logs: [\d,]+ queue full/,
    );
    const stats = pipeline.stats();
    expect(stats.dropped.queue_full).to.be.greaterThan(0);
    expect(lines.filter((l) => l.includes('otel-winston:'))).to.deep.equal([
      `otel-winston: 6,000 of 6,000 log records were not delivered to ${receiver.url}/v1/logs (${stats.dropped.queue_full.toLocaleString('en-US')} queue full, ${stats.dropped.shutdown.toLocaleString('en-US')} shutdown deadline); 0 were.\n`,
    ]);
  });

  it('gzip and headers, from the options', async () => {
    const { pipeline, log } = setup(`${receiver.url}/v1/logs`, {
      compression: 'gzip',
      headers: { 'x-api-key': 'k-123' },
    });
    log(100);
    await pipeline.forceFlush();
    expect(receiver.count).to.equal(100);
    expect(receiver.lastHeaders['content-encoding']).to.equal('gzip');
    expect(receiver.lastHeaders['x-api-key']).to.equal('k-123');
  });

  it('a record logged while another is encoded (a body getter that logs) waits for it: both arrive whole', async () => {
    const { pipeline, provider } = setup(`${receiver.url}/v1/logs`);
    const logger = provider.getLogger('direct');
    const body = {
      get detail(): string {
        logger.emit({ body: 'logged by a getter', attributes: { seq: 2 } });
        return 'read';
      },
    };
    logger.emit({ body: body as never, attributes: { seq: 1 } });
    await pipeline.forceFlush();
    expect([...receiver.seen.keys()].sort()).to.deep.equal([1, 2]);
    expect(pipeline.stats()).to.deep.include({ exported: 2, droppedTotal: 0, queuedBytes: 0 });
  });

  it('a getter that logs on every read cannot loop: the records past the bound are counted unencodable', async () => {
    const { pipeline, provider } = setup(`${receiver.url}/v1/logs`);
    const logger = provider.getLogger('direct');
    const loud = {
      get again(): string {
        logger.emit({ body: loud as never, attributes: { seq: 9 } });
        return 'x';
      },
    };
    logger.emit({ body: loud as never, attributes: { seq: 0 } });
    await pipeline.forceFlush();
    const stats = pipeline.stats();
    expect(stats.dropped.unencodable).to.be.greaterThan(0);
    expect(balanced(stats)).to.equal(true);
    expect(stats).to.deep.include({ queued: 0, inFlight: 0, queuedBytes: 0 });
    expect(receiver.count).to.equal(stats.exported);
  });

  it('a resource still detecting attributes is waited for at most exportTimeoutMillis', async () => {
    const pipeline = new LogPipeline({
      url: `${receiver.url}/v1/logs`,
      scheduledDelayMillis: 20,
      exportTimeoutMillis: 300,
      dropWarnings: false,
    });
    const slow = resourceFromAttributes({
      'service.name': 'slow',
      'host.id': new Promise<string>(() => undefined), // a detector that never answers
    });
    const provider = new LoggerProvider({ resource: slow, processors: [pipeline] });
    running.push({ pipeline, provider } as PipelineLogger);
    provider.getLogger('direct').emit({ body: 'x', attributes: { seq: 4 } });
    // The receiver counts the record before the pipeline reads its answer: wait for both.
    await waitUntil(
      'the export, acknowledged',
      () => receiver.count === 1 && pipeline.stats().exported === 1,
      5000,
    );
    expect(pipeline.stats()).to.deep.include({ exported: 1, queued: 0, inFlight: 0 });
  });

  it('a record whose body cannot be encoded is sent with a placeholder body and its attributes', async () => {
    const { pipeline, provider } = setup(`${receiver.url}/v1/logs`);
    const hostile = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    provider.getLogger('direct').emit({ body: hostile as never, attributes: { seq: 7 } });
    await pipeline.forceFlush();
    expect(receiver.seen.get(7)).to.equal(1);
    expect(pipeline.stats()).to.deep.include({ exported: 1, droppedTotal: 0 });
  });
});

describe('pipeline: protocols and responses', function () {
  this.timeout(30_000);
  useDiagCapture();
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.provider.shutdown()));
  });

  it('http/json: what the receiver decodes equals what the upstream JSON exporter sends', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'json-golden' }),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('scope', '1.0.0');
    logger.emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'warn',
      body: { nested: [1, 'two', { three: 3.5 }], bytes: new Uint8Array([1, 2]) },
      attributes: { big: 2 ** 60, neg: -3, s: 'ünï', list: [true, null] },
      eventName: 'e',
    });
    logger.emit({ body: 'plain', attributes: { seq: 1 } });
    const records = exporter.getFinishedLogRecords() as ReadableLogRecord[];
    const w = new ProtobufWriter(64);
    for (const r of records) appendReadableLogRecord(w, r);
    const ours = logsRequestToJson(
      LogsEnvelope.of(records[0]!.resource, records[0]!.instrumentationScope).request(w.copy()),
    );
    const upstream = JsonLogsSerializer.serializeRequest(records)!;
    expect(decodeLogsJson(ours.toString('utf8'))).to.deep.equal(
      decodeLogsJson(Buffer.from(upstream).toString('utf8')),
    );
  });

  it('http/json end to end; non-finite doubles as the OTLP/JSON mapping writes them', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const { pipeline, logger } = setup(`${receiver.url}/v1/logs`, { protocol: 'http/json' });
      logger.info('json', { n: 1, nan: Number.NaN });
      await pipeline.forceFlush();
      expect(receiver.requests[0]!.contentType).to.include('application/json');
      expect(receiver.logs[0]!.body).to.equal('json');
      expect(receiver.logs[0]!.attributes.n).to.equal(1);
      expect(pipeline.stats().exported).to.equal(1);
    } finally {
      await receiver.close();
    }
  });

  it('a collector that refuses a batch as too large (413): halves are sent, a lone record too large is dropped', async () => {
    const receiver = await startOtlpReceiver({ maxBodyBytes: 8 * 1024 });
    try {
      const { pipeline, logger } = setup(`${receiver.url}/v1/logs`, { maxExportBatchSize: 500 });
      for (let i = 0; i < 300; i++) logger.info('record', { seq: i, pad: 'p'.repeat(40) });
      logger.info('y'.repeat(20_000));
      await pipeline.forceFlush();
      expect(receiver.logs).to.have.length(300);
      const stats = pipeline.stats();
      expect(stats).to.deep.include({ exported: 300, droppedTotal: 1 });
      expect(stats.dropped.too_large).to.equal(1);
    } finally {
      await receiver.close();
    }
  });

  it('partial success: the records the collector rejected are counted as rejected', async () => {
    // ExportLogsServiceResponse { partial_success { rejected_log_records: 2, error_message: "bad" } }
    const body = Buffer.from([0x0a, 0x07, 0x08, 0x02, 0x12, 0x03, 0x62, 0x61, 0x64]);
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(body),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { pipeline, log } = setup(`http://127.0.0.1:${port}/v1/logs`);
      log(10);
      await pipeline.forceFlush();
      expect(pipeline.stats()).to.deep.include({ exported: 8, droppedTotal: 2 });
      expect(pipeline.stats().dropped.rejected).to.equal(2);
    } finally {
      server.close();
    }
  });
});

describe('pipeline: self-metrics', function () {
  this.timeout(30_000);
  useDiagCapture();

  it('reports the semantic conventions SDK metrics, and they agree with stats()', async () => {
    const receiver = await startLoadReceiver();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    try {
      const { pipeline, log } = setup(`${receiver.url}/v1/logs`, {
        meterProvider,
        maxQueueBytes: 64 * 1024,
      });
      log(200);
      await pipeline.forceFlush();
      await receiver.down();
      log(3000, 200);
      const stats = pipeline.stats();
      const { resourceMetrics } = await reader.collect();
      const points = new Map<string, { value: unknown; attributes: Record<string, unknown> }[]>();
      const units = new Map<string, string>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          units.set(metric.descriptor.name, metric.descriptor.unit);
          points.set(
            metric.descriptor.name,
            metric.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes })),
          );
        }
      }
      const value = (name: string, errorType?: string): unknown =>
        points.get(name)?.find((p) => p.attributes['error.type'] === errorType)?.value;
      expect(value('otel.sdk.log.created')).to.equal(stats.created);
      expect(value('otel.sdk.processor.log.processed', 'queue_full')).to.equal(
        stats.dropped.queue_full,
      );
      expect(value('otel.sdk.processor.log.processed')).to.equal(200);
      expect(value('otel.sdk.exporter.log.exported')).to.equal(200);
      expect(value('otel.sdk.processor.log.queue.size')).to.equal(stats.queued);
      expect(value('otel.sdk.exporter.log.inflight')).to.equal(stats.inFlight);
      expect(value('otel_winston.processor.log.queue.size')).to.equal(
        stats.queuedBytes + stats.inFlightBytes,
      );
      expect(value('otel_winston.processor.log.queue.capacity')).to.equal(64 * 1024);
      expect(value('otel.sdk.processor.log.queue.capacity') as number).to.be.at.least(stats.queued);
      expect(units.get('otel.sdk.log.created')).to.equal('{log_record}');
      expect(units.get('otel_winston.processor.log.queue.size')).to.equal('By');
      expect(units.get('otel.sdk.exporter.operation.duration')).to.equal('s');
      const processor = points.get('otel.sdk.processor.log.processed')![0]!.attributes;
      expect(processor['otel.component.type']).to.equal('LogPipeline');
      const exported = points.get('otel.sdk.exporter.log.exported')![0]!.attributes;
      expect(exported).to.include({
        'otel.component.type': 'otlp_http_log_exporter',
        'server.address': '127.0.0.1',
      });
      expect(points.get('otel.sdk.exporter.operation.duration')!.length).to.be.at.least(1);
    } finally {
      await Promise.all(running.splice(0).map((s) => s.provider.shutdown()));
      await meterProvider.shutdown();
      await receiver.close();
    }
  });
});
