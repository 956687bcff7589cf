import { expect } from 'chai';
import { OtelWinstonError } from '../../src/errors.js';
import {
  PIPELINE_DEFAULTS,
  resolvePipelineSettings,
  type LogPipelineOptions,
} from '../../src/pipeline/options.js';
import { useDiagCapture } from '../helpers/diag.js';

function refused(options: unknown): OtelWinstonError {
  try {
    resolvePipelineSettings(options as LogPipelineOptions, {});
  } catch (error) {
    expect(error).to.be.instanceOf(OtelWinstonError);
    expect((error as OtelWinstonError).code).to.equal('OTW_ERR_INVALID_OPTION');
    return error as OtelWinstonError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('pipeline: options', () => {
  const diag = useDiagCapture();

  it('defaults, with nothing set', () => {
    expect(resolvePipelineSettings(undefined, {})).to.deep.include({
      protocol: 'http/protobuf',
      maxQueueBytes: PIPELINE_DEFAULTS.maxQueueBytes,
      maxExportBatchSize: 512,
      maxExportBatchBytes: PIPELINE_DEFAULTS.maxExportBatchBytes,
      scheduledDelayMillis: 1000,
      exportTimeoutMillis: 30_000,
      maxConcurrentExports: 2,
      retryInitialMillis: 1000,
      retryMaxMillis: 5000,
      retryMaxElapsedMillis: Infinity,
      shutdownTimeoutMillis: 5000,
      dropWarnings: true,
    });
  });

  it('each variable, when set; options in code win over them', () => {
    const env = {
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc',
      OTEL_WINSTON_QUEUE_MAX_BYTES: '1048576',
      OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '100',
      OTEL_WINSTON_BATCH_MAX_BYTES: '65536',
      OTEL_BLRP_SCHEDULE_DELAY: '250',
      OTEL_BLRP_EXPORT_TIMEOUT: '7000',
      OTEL_WINSTON_EXPORT_CONCURRENCY: '4',
      OTEL_WINSTON_RETRY_INITIAL_MS: '200',
      OTEL_WINSTON_RETRY_MAX_MS: '2000',
      OTEL_WINSTON_RETRY_MAX_ELAPSED_MS: '60000',
      OTEL_WINSTON_SHUTDOWN_TIMEOUT: '3000',
    };
    expect(resolvePipelineSettings(undefined, env)).to.deep.include({
      protocol: 'grpc',
      maxQueueBytes: 1_048_576,
      maxExportBatchSize: 100,
      maxExportBatchBytes: 65_536,
      scheduledDelayMillis: 250,
      exportTimeoutMillis: 7000,
      maxConcurrentExports: 4,
      retryInitialMillis: 200,
      retryMaxMillis: 2000,
      retryMaxElapsedMillis: 60_000,
      shutdownTimeoutMillis: 3000,
    });
    expect(
      resolvePipelineSettings({ protocol: 'http/json', maxQueueBytes: 2_097_152 }, env),
    ).to.deep.include({ protocol: 'http/json', maxQueueBytes: 2_097_152 });
  });

  it('a bad variable: a warning naming it, and the default', () => {
    const settings = resolvePipelineSettings(undefined, {
      OTEL_WINSTON_QUEUE_MAX_BYTES: 'lots',
      OTEL_WINSTON_EXPORT_CONCURRENCY: '1000',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon',
      OTEL_WINSTON_RETRY_MAX_MS: '-5',
    });
    expect(settings).to.deep.include({
      maxQueueBytes: PIPELINE_DEFAULTS.maxQueueBytes,
      maxConcurrentExports: 2,
      protocol: 'http/protobuf',
      retryMaxMillis: 5000,
    });
    const said = diag.warnings.join('\n');
    for (const name of [
      'OTEL_WINSTON_QUEUE_MAX_BYTES',
      'OTEL_WINSTON_EXPORT_CONCURRENCY',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_WINSTON_RETRY_MAX_MS',
    ]) {
      expect(said, name).to.include(`Expected ${name}`);
    }
  });

  it('a batch larger than the queue from the environment is the queue, with a warning', () => {
    const settings = resolvePipelineSettings(undefined, {
      OTEL_WINSTON_QUEUE_MAX_BYTES: '131072',
      OTEL_WINSTON_BATCH_MAX_BYTES: '1048576',
    });
    expect(settings.maxExportBatchBytes).to.equal(131_072);
    expect(diag.warnings.join('\n')).to.include('OTEL_WINSTON_BATCH_MAX_BYTES (1048576)');
  });

  it('a queue given in code smaller than the default batch: the batch follows it, silently', () => {
    expect(resolvePipelineSettings({ maxQueueBytes: 65_536 }, {}).maxExportBatchBytes).to.equal(
      65_536,
    );
    expect(diag.warnings).to.deep.equal([]);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['options', 'fast', /Expected `options` to be an object, got `"fast"` \(string\)/],
    ['url', 'not a url', /Expected `url` to be an absolute URL/],
    ['url', 42, /Expected `url` to be an absolute URL, got `42` \(number\)/],
    ['protocol', 'udp', /Expected `protocol` to be one of http\/protobuf, http\/json, grpc/],
    ['headers', { a: 1 }, /Expected `headers` to be an object of string values/],
    ['compression', 'brotli', /Expected `compression` to be 'gzip' or 'none'/],
    ['maxQueueBytes', 1024, /Expected `maxQueueBytes` to be an integer from 65536/],
    ['maxQueueBytes', 1.5e6 + 0.5, /Expected `maxQueueBytes` to be an integer/],
    ['maxExportBatchSize', 0, /Expected `maxExportBatchSize` to be an integer from 1/],
    ['maxExportBatchBytes', 10, /Expected `maxExportBatchBytes` to be an integer from 1024/],
    ['maxConcurrentExports', 100, /Expected `maxConcurrentExports` to be an integer from 1 to 64/],
    ['timeoutMillis', 0, /Expected `timeoutMillis` to be a number of milliseconds/],
    ['scheduledDelayMillis', -1, /Expected `scheduledDelayMillis` to be a number of milliseconds/],
    ['exportTimeoutMillis', '30s', /Expected `exportTimeoutMillis` to be a number of milliseconds/],
    [
      'retryInitialMillis',
      Infinity,
      /Expected `retryInitialMillis` to be a number of milliseconds/,
    ],
    ['retryMaxMillis', Number.NaN, /Expected `retryMaxMillis` to be a number of milliseconds/],
    ['retryMaxElapsedMillis', 0, /Expected `retryMaxElapsedMillis` .* or Infinity/],
    ['shutdownTimeoutMillis', 2 ** 32, /Expected `shutdownTimeoutMillis` to be a number/],
    ['dropWarnings', 'yes', /Expected `dropWarnings` to be a boolean/],
    ['meterProvider', {}, /Expected `meterProvider` to be a MeterProvider/],
  ];
  for (const [name, value, message] of bad) {
    it(`refuses ${name}: ${String(value)}`, () => {
      const options = name === 'options' ? value : { [name]: value };
      expect(refused(options).message).to.match(message);
    });
  }

  it('refuses a retry cap below the first wait, and a batch larger than the queue', () => {
    expect(refused({ retryInitialMillis: 2000, retryMaxMillis: 1000 }).message).to.match(
      /Expected `retryMaxMillis` to be at least `retryInitialMillis` \(2000\), got `1000`/,
    );
    expect(refused({ maxQueueBytes: 65_536, maxExportBatchBytes: 131_072 }).message).to.match(
      /Expected `maxExportBatchBytes` to be at most `maxQueueBytes` \(65536\), got `131072`/,
    );
  });
});
