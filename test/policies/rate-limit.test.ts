import {
  context,
  ROOT_CONTEXT,
  SeverityNumber,
  trace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type LogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import winston from 'winston';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import {
  MAX_TEMPLATE_LENGTH,
  normalizeMessage,
} from '../../src/policies/rate-limit/message-template.js';
import {
  ATTR_SUPPRESSED_COUNT,
  ATTR_SUPPRESSED_TEMPLATE,
  RateLimitProcessor,
} from '../../src/policies/rate-limit/rate-limit-processor.js';
import type { DecodedLogRecord } from '../../src/testing/index.js';
import { OtelTransport } from '../../src/transport/otel-transport.js';
import { useDiagCapture } from '../helpers/diag.js';
import { NOOP_PROCESSOR as NOOP } from '../helpers/processors.js';
import { useOtlpReceiver } from '../helpers/receiver.js';
import { testTracer } from '../helpers/tracing.js';
import { waitUntil } from '../helpers/wait.js';

const inTrace = (traceId: string): Context =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: '0123456789abcdef',
    traceFlags: TraceFlags.SAMPLED,
  });

const isSummary = (r: DecodedLogRecord): boolean => ATTR_SUPPRESSED_COUNT in r.attributes;
const summaryCount = (r: DecodedLogRecord): number => Number(r.attributes[ATTR_SUPPRESSED_COUNT]);

describe('RateLimitProcessor', function () {
  this.timeout(30_000);
  const diag = useDiagCapture();

  describe('the template of a record', () => {
    const table: [string, string][] = [
      ['GET /orders/12345 took 37ms', 'GET /orders/# took #ms'],
      ['user 7f3a9c2e signed in', 'user # signed in'],
      ['job 0x1F failed', 'job # failed'],
      ['request 3f2504e0-4f89-41d3-9a0c-0305e82c3301 done', 'request # done'],
      ['request abcdefab-abcd-abcd-abcd-abcdefabcdef done', 'request # done'],
      ['v2.14.3 of user42 at 12:00:01.123', 'v#.#.# of user# at #:#:#.#'],
      ['ratio 0.25 of 1e6', 'ratio #.# of #'],
      ['no numbers here, café', 'no numbers here, café'],
      ['deadbeef and cafe', 'deadbeef and cafe'],
      ['', ''],
    ];
    for (const [text, template] of table) {
      it(`${JSON.stringify(text)} → ${JSON.stringify(template)}`, () => {
        expect(normalizeMessage(text)).to.equal(template);
      });
    }

    it('is cut at 200 code units, and takes linear time on 1 MiB of digits and letters', () => {
      expect(normalizeMessage('a'.repeat(1000))).to.have.length(MAX_TEMPLATE_LENGTH);
      const start = process.hrtime.bigint();
      for (const text of ['1'.repeat(1 << 20), 'a1'.repeat(1 << 19), '1-'.repeat(1 << 19)]) {
        expect(normalizeMessage(text).length).to.be.at.most(MAX_TEMPLATE_LENGTH);
      }
      // Only the first 800 code units are read: well under a millisecond each, not seconds.
      expect(Number(process.hrtime.bigint() - start) / 1e6).to.be.below(200);
    });
  });

  describe('limits, and summarizes exactly what it suppressed', () => {
    const receiver = useOtlpReceiver();

    for (const path of ['the fast path', 'Logger.emit()'] as const) {
      it(`on ${path}: keys by the format string captured at the call, summarizes at the highest severity with a link to the last trace`, async () => {
        testTracer(); // the AsyncLocalStorage context manager
        const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: true });
        const limiter = new RateLimitProcessor(
          { next: pipeline, recordsPerInterval: 3, intervalMillis: 60_000 },
          {},
        );
        const memory = new InMemoryLogRecordExporter();
        const provider = new LoggerProvider({
          processors: [
            limiter,
            ...(path === 'Logger.emit()'
              ? [new SimpleLogRecordProcessor({ exporter: memory })]
              : []),
          ],
        });
        const logger = winston.createLogger({
          level: 'debug',
          format: winston.format.combine(winston.format.splat(), winston.format.simple()),
          transports: [new OtelTransport({ loggerProvider: provider })],
        });
        const traces = Array.from({ length: 10 }, () => randomBytes(16).toString('hex'));
        for (const [i, traceId] of traces.entries()) {
          context.with(inTrace(traceId), () => {
            const level = i === 6 ? 'error' : i % 2 === 0 ? 'info' : 'debug';
            logger.log(level, 'user %s signed in', `name-${i}`);
          });
        }
        logger.info('something else');
        await limiter.forceFlush();
        await waitUntil('5 records', () => receiver.logs.length >= 5);
        const bodies = receiver.logs.map((r) => r.body);
        expect(bodies.slice(0, 4)).to.deep.equal([
          'user name-0 signed in',
          'user name-1 signed in',
          'user name-2 signed in',
          'something else',
        ]);
        const summary = receiver.logs[4]!;
        expect(summary.body).to.equal(
          "suppressed 7 records like 'user %s signed in' in the last 60 s",
        );
        expect(summary.severityText).to.equal('error');
        expect(summary.severityNumber).to.equal(SeverityNumber.ERROR);
        expect(summary.attributes).to.deep.equal({
          [ATTR_SUPPRESSED_COUNT]: 7,
          [ATTR_SUPPRESSED_TEMPLATE]: 'user %s signed in',
        });
        expect(summary.traceId).to.equal(traces[9]);
        expect(summary.scope.name).to.equal(receiver.logs[0]!.scope.name);
        expect(pipeline.stats().dropped.rate_limited).to.equal(7);
        expect(diag.warnings.join('\n')).not.to.match(/OTW014/);
        await provider.shutdown();
      });
    }

    it('conservation: over several intervals, 20 templates and a forgetful key table, the summaries add up to the records dropped', async () => {
      const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: false });
      const limiter = new RateLimitProcessor(
        { next: pipeline, recordsPerInterval: 20, intervalMillis: 150, burst: 10, maxKeys: 12 },
        {},
      );
      const provider = new LoggerProvider({ processors: [limiter] });
      const logger = provider.getLogger('app');
      const severities = [SeverityNumber.DEBUG, SeverityNumber.INFO, SeverityNumber.WARN];
      let emitted = 0;
      const until = Date.now() + 1_000;
      let round = 0;
      while (Date.now() < until) {
        // A burst over 20 templates, most of them in the last 12 seen (so kept), a few not.
        for (let i = 0; i < 400; i++) {
          const t = i % 40 < 36 ? i % 10 : 10 + ((i + round) % 10);
          logger.emit({
            body: `template ${String.fromCharCode(97 + t)} item ${i}`,
            severityNumber: severities[i % 3]!,
            context: inTrace(randomBytes(16).toString('hex')),
          });
          emitted++;
        }
        round++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await provider.forceFlush();
      const counts = limiter.counts();
      expect(counts.passed + counts.suppressed).to.equal(emitted);
      expect(counts.suppressed).to.be.greaterThan(emitted / 2);
      expect(counts.keys).to.be.at.most(12);
      expect(counts.summarized).to.equal(counts.suppressed);
      const expected = counts.passed + counts.summaries;
      await waitUntil(
        () => `${expected} records, got ${receiver.logs.length}`,
        () => receiver.logs.length >= expected,
      );
      const summaries = receiver.logs.filter(isSummary);
      expect(summaries).to.have.length(counts.summaries);
      expect(summaries.reduce((sum, r) => sum + summaryCount(r), 0)).to.equal(counts.suppressed);
      expect(receiver.logs.filter((r) => !isSummary(r))).to.have.length(counts.passed);
      const stats = pipeline.stats();
      expect(stats.dropped.rate_limited).to.equal(counts.suppressed);
      expect(stats.created).to.equal(emitted + counts.summaries);
      expect(stats.exported).to.equal(counts.passed + counts.summaries);
      await provider.shutdown();
    });

    it('refills at the rate: after an interval, a template gets its burst again', async () => {
      const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: false });
      const limiter = new RateLimitProcessor(
        { next: pipeline, recordsPerInterval: 5, intervalMillis: 200 },
        {},
      );
      const provider = new LoggerProvider({ processors: [limiter] });
      const logger = provider.getLogger('app');
      const burst = (): void => {
        for (let i = 0; i < 20; i++) logger.emit({ body: `tick ${i}`, context: ROOT_CONTEXT });
      };
      burst();
      expect(limiter.counts()).to.include({ passed: 5, suppressed: 15 });
      // The timer's summary marks the end of the interval.
      await waitUntil('the summary', () => limiter.counts().summaries === 1);
      await waitUntil('a full bucket', () => {
        const before = limiter.counts().passed;
        logger.emit({ body: 'tick 0', context: ROOT_CONTEXT });
        return limiter.counts().passed > before;
      });
      await provider.shutdown();
      const { passed, suppressed, summarized } = limiter.counts();
      expect(summarized).to.equal(suppressed);
      expect(passed).to.be.at.least(6);
    });
  });

  describe('edges', () => {
    /** A limiter of `recordsPerInterval` 1 in front of `next`, and a logger on it. */
    function limited(next: LogRecordProcessor = NOOP) {
      const limiter = new RateLimitProcessor(
        { next, recordsPerInterval: 1, intervalMillis: 60_000 },
        {},
      );
      const provider = new LoggerProvider({ processors: [limiter] });
      return { limiter, provider, logger: provider.getLogger('app') };
    }

    it('a message with a % but no placeholder is no format string: its numbers are normalised, and it is limited', async () => {
      const { limiter, provider } = limited();
      const logger = winston.createLogger({
        transports: [new OtelTransport({ loggerProvider: provider })],
      });
      for (let i = 0; i < 10; i++) logger.info(`disk ${90 + i}% full`, { host: 'db-1' });
      expect(limiter.counts()).to.deep.include({ passed: 1, suppressed: 9, keys: 1 });
      await provider.shutdown();
    });

    it('a summary the next processor throws on is said in diag and not counted as sent', async () => {
      const next: LogRecordProcessor = {
        ...NOOP,
        onEmit: (record) => {
          if (String(record.body).startsWith('suppressed')) throw new Error('full');
        },
      };
      const { limiter, provider, logger } = limited(next);
      for (let i = 0; i < 5; i++) logger.emit({ body: 'same' });
      await limiter.forceFlush();
      expect(limiter.counts()).to.deep.include({ suppressed: 4, summaries: 0, summarized: 0 });
      expect(diag.warnings.join('\n')).to.match(/OTW019.*could not be passed on: .*full/);
      await provider.shutdown();
    });

    it('after shutdown it limits nothing and starts no timer: records go on, for the pipeline to count', async () => {
      const seen: string[] = [];
      const { limiter, logger } = limited({
        ...NOOP,
        onEmit: (r) => void seen.push(String(r.body)),
      });
      logger.emit({ body: 'same' });
      logger.emit({ body: 'same' });
      await limiter.shutdown();
      limiter.onEmit({ body: 'same' } as Parameters<LogRecordProcessor['onEmit']>[0], ROOT_CONTEXT);
      expect(seen.filter((b) => b === 'same')).to.have.length(2);
      expect(limiter.counts()).to.deep.include({ passed: 2, suppressed: 1, summarized: 1 });
    });
  });

  describe('options and environment', () => {
    it('is off by default, and reads OTEL_WINSTON_LOGS_RATE_LIMIT*', () => {
      expect(new RateLimitProcessor({ next: NOOP }, {}).active).to.equal(false);
      const limiter = new RateLimitProcessor(
        { next: NOOP },
        {
          OTEL_WINSTON_LOGS_RATE_LIMIT: '2',
          OTEL_WINSTON_LOGS_RATE_LIMIT_BURST: '4',
          OTEL_WINSTON_LOGS_RATE_LIMIT_INTERVAL_MS: '1000',
          OTEL_WINSTON_LOGS_RATE_LIMIT_MAX_KEYS: '1',
        },
      );
      expect(limiter.active).to.equal(true);
      const provider = new LoggerProvider({ processors: [limiter] });
      const logger = provider.getLogger('app');
      for (let i = 0; i < 6; i++) logger.emit({ body: 'same' });
      logger.emit({ body: 'other' });
      expect(limiter.counts()).to.deep.include({ passed: 5, suppressed: 2, keys: 1 });
      // Forgetting 'same' summarized it at once.
      expect(limiter.counts().summarized).to.equal(2);
      new RateLimitProcessor({ next: NOOP }, { OTEL_WINSTON_LOGS_RATE_LIMIT: 'lots' });
      expect(diag.warnings.join('\n')).to.match(/OTW004.*OTEL_WINSTON_LOGS_RATE_LIMIT/);
    });

    it('rejects bad options with the option named', () => {
      const make = (o: unknown) => () =>
        new RateLimitProcessor(o as ConstructorParameters<typeof RateLimitProcessor>[0], {});
      expect(make({})).to.throw(/next/);
      expect(make({ next: NOOP, recordsPerInterval: -1 })).to.throw(/recordsPerInterval/);
      expect(make({ next: NOOP, intervalMillis: 0 })).to.throw(/intervalMillis/);
      expect(make({ next: NOOP, burst: 0.5 })).to.throw(/burst/);
      expect(make({ next: NOOP, maxKeys: 0 })).to.throw(/maxKeys/);
    });
  });
});
