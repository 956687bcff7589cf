import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { LogMetricsProcessor } from '../../src/policies/metrics/log-metrics-processor.js';
import { unwrapPolicies } from '../../src/policies/policy-processor.js';
import { RateLimitProcessor } from '../../src/policies/rate-limit/rate-limit-processor.js';
import { RedactionProcessor } from '../../src/policies/redaction/redaction-processor.js';
import { SamplingProcessor } from '../../src/policies/sampling/sampling-processor.js';
import { logProcessorsFromEnv } from '../../src/telemetry/log-processors.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';

describe('telemetry: the log processors the preload installs', () => {
  useDiagCapture();
  // The pipeline reads its endpoint from process.env, as under the preload.
  let receiver: OtlpReceiver;
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  before(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  });
  after(async () => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    await receiver.close();
  });

  /** The classes of the policies in front of the one processor, and what they end in. */
  const chainOf = (processor: LogRecordProcessor) => {
    const { policies, end } = unwrapPolicies(processor);
    return { policies: policies.map((p) => p.constructor), end };
  };

  it('by default: the pipeline behind redaction and the record counter, the one processor (so the fast path holds)', async () => {
    const logs = logProcessorsFromEnv({})!;
    expect(logs.processors).to.have.length(1);
    expect(logs.pipeline).to.be.instanceOf(LogPipeline);
    expect(chainOf(logs.processors[0]!)).to.deep.equal({
      policies: [RedactionProcessor, LogMetricsProcessor],
      end: logs.pipeline,
    });
    await logs.processors[0]!.shutdown();
  });

  it('every policy on, in the pipeline’s order: redaction, metrics, sampling, rate limits', async () => {
    const logs = logProcessorsFromEnv({
      OTEL_WINSTON_LOGS_SAMPLER_RATIO: '0.5',
      OTEL_WINSTON_LOGS_RATE_LIMIT: '100',
    })!;
    expect(chainOf(logs.processors[0]!)).to.deep.equal({
      policies: [RedactionProcessor, LogMetricsProcessor, SamplingProcessor, RateLimitProcessor],
      end: logs.pipeline,
    });
    await logs.processors[0]!.shutdown();
  });

  it('OTEL_WINSTON_REDACT=off and OTEL_WINSTON_LOG_METRICS=off: the pipeline alone', async () => {
    const logs = logProcessorsFromEnv({
      OTEL_WINSTON_REDACT: 'off',
      OTEL_WINSTON_LOG_METRICS: 'off',
    })!;
    expect(logs.processors).to.deep.equal([logs.pipeline]);
    await logs.pipeline!.shutdown();
  });

  it('console and otlp: redaction comes before both, so the console prints the redacted record too', async () => {
    const logs = logProcessorsFromEnv({ OTEL_LOGS_EXPORTER: 'console,otlp' })!;
    expect(logs.processors).to.have.length(1);
    expect(logs.processors[0]).to.be.instanceOf(RedactionProcessor);
    const printed: unknown[] = [];
    const dir = console.dir;
    console.dir = (value: unknown) => void printed.push(value);
    const provider = new LoggerProvider({ processors: logs.processors });
    try {
      provider
        .getLogger('t')
        .emit({ body: 'login by jane@example.com', attributes: { password: 'p' } });
    } finally {
      console.dir = dir;
    }
    expect(printed).to.have.length(1);
    expect(printed[0]).to.deep.include({ body: 'login by ****', attributes: { password: '****' } });
    await provider.shutdown();
    expect(receiver.logs.map((r) => r.body)).to.deep.equal(['login by ****']);
  });

  it('console and otlp: the pipeline behind the fan-out still counts what sampling drops', async () => {
    const logs = logProcessorsFromEnv({
      OTEL_LOGS_EXPORTER: 'console,otlp',
      OTEL_WINSTON_LOGS_SAMPLER_RATIO: '0',
    })!;
    const dir = console.dir;
    console.dir = () => {};
    const provider = new LoggerProvider({ processors: logs.processors });
    try {
      for (let i = 0; i < 3; i++)
        provider.getLogger('t').emit({ body: 'dropped', severityNumber: 9 });
      provider.getLogger('t').emit({ body: 'kept', severityNumber: 17 });
    } finally {
      console.dir = dir;
    }
    expect(logs.pipeline!.stats()).to.deep.include({ created: 4 });
    expect(logs.pipeline!.stats().dropped.sampled).to.equal(3);
    await provider.shutdown();
  });

  it('none: no processors, no provider', () => {
    expect(logProcessorsFromEnv({ OTEL_LOGS_EXPORTER: 'none' })).to.equal(undefined);
  });
});
