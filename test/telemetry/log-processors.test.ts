import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import { RedactionProcessor } from '../../src/policies/redaction/redaction-processor.js';
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

  it('by default: the pipeline behind redaction, the one processor (so the fast path holds)', async () => {
    const logs = logProcessorsFromEnv({})!;
    expect(logs.processors).to.have.length(1);
    const [first] = logs.processors;
    expect(first).to.be.instanceOf(RedactionProcessor);
    expect((first as RedactionProcessor).next).to.equal(logs.pipeline);
    expect(logs.pipeline).to.be.instanceOf(LogPipeline);
    await first!.shutdown();
  });

  it('OTEL_WINSTON_REDACT=off: the pipeline alone', async () => {
    const logs = logProcessorsFromEnv({ OTEL_WINSTON_REDACT: 'off' })!;
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

  it('none: no processors, no provider', () => {
    expect(logProcessorsFromEnv({ OTEL_LOGS_EXPORTER: 'none' })).to.equal(undefined);
  });
});
