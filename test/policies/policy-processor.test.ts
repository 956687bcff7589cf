import type { Context } from '@opentelemetry/api';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import winston from 'winston';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import { PolicyProcessor, type PolicyRecord } from '../../src/policies/policy-processor.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../src/testing/index.js';
import { OtelTransport } from '../../src/transport/otel-transport.js';
import { useDiagCapture } from '../helpers/diag.js';

/** A policy that fails on records whose body says so, and drops those that ask to be dropped. */
class Fickle extends PolicyProcessor {
  constructor(next: LogRecordProcessor) {
    super(next);
  }
  applyTo(record: PolicyRecord, _context: Context | undefined): boolean {
    if (record.body === 'throw') throw new Error('the policy broke');
    return record.body !== 'drop';
  }
}

/** A policy that only counts: it fails open. */
class Counting extends PolicyProcessor {
  constructor(next: LogRecordProcessor) {
    super(next, false);
  }
  applyTo(record: PolicyRecord, _context: Context | undefined): boolean {
    if (record.body === 'throw') throw new Error('the counter broke');
    return true;
  }
}

describe('PolicyProcessor', function () {
  this.timeout(20_000);
  const diag = useDiagCapture();
  let receiver: OtlpReceiver;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(() => receiver.close());

  for (const path of ['the fast path', 'Logger.emit()'] as const) {
    it(`on ${path}: a policy that throws masks the record, which goes on; one that says no drops it`, async () => {
      const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: false });
      const memory = new InMemoryLogRecordExporter();
      const provider = new LoggerProvider({
        processors: [
          new Fickle(pipeline),
          // A second processor takes the fast path away.
          ...(path === 'Logger.emit()' ? [new SimpleLogRecordProcessor({ exporter: memory })] : []),
        ],
      });
      const logger = winston.createLogger({
        transports: [new OtelTransport({ loggerProvider: provider })],
      });
      logger.info('kept', { a: 1 });
      logger.info('throw', { secret: 'x' });
      logger.info('drop');
      await provider.forceFlush();
      expect(receiver.logs.map((r) => [r.body, r.attributes])).to.deep.equal([
        ['kept', { a: 1 }],
        ['****', {}],
      ]);
      expect(diag.warnings.join('\n')).to.match(/OTW019.*the policy broke.*masked/);
      await provider.shutdown();
    });
  }

  it('a policy that fails open passes the record on as it was when it throws', async () => {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      processors: [new Counting(new SimpleLogRecordProcessor({ exporter: memory }))],
    });
    provider.getLogger('t').emit({ body: 'throw', attributes: { a: 1 } });
    expect(memory.getFinishedLogRecords().map((r) => [r.body, r.attributes])).to.deep.equal([
      ['throw', { a: 1 }],
    ]);
    expect(diag.warnings.join('\n')).to.match(/OTW019.*the counter broke.*as it was/);
    await provider.shutdown();
  });

  it('forceFlush and shutdown reach the processor it wraps', async () => {
    const calls: string[] = [];
    const next: LogRecordProcessor = {
      onEmit: () => {},
      forceFlush: () => (calls.push('flush'), Promise.resolve()),
      shutdown: () => (calls.push('shutdown'), Promise.resolve()),
    };
    const policy = new Fickle(next);
    await policy.forceFlush();
    await policy.shutdown();
    expect(calls).to.deep.equal(['flush', 'shutdown']);
  });
});
