import {
  context,
  ROOT_CONTEXT,
  SeverityNumber,
  trace,
  TraceFlags,
  type SpanContext,
} from '@opentelemetry/api';
import { createTraceState } from '@opentelemetry/api';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  SamplingDecision,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import winston from 'winston';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import { SamplingProcessor } from '../../src/policies/sampling/sampling-processor.js';
import { otRandomness, RatioDecision } from '../../src/policies/sampling/trace-randomness.js';
import { OtelTransport } from '../../src/transport/otel-transport.js';
import { useDiagCapture } from '../helpers/diag.js';
import { NOOP_PROCESSOR as NOOP } from '../helpers/processors.js';
import { useOtlpReceiver } from '../helpers/receiver.js';
import { testTracer } from '../helpers/tracing.js';
import { waitUntil } from '../helpers/wait.js';

/** `count` random trace ids, from one buffer of random bytes. */
function traceIds(count: number): string[] {
  const hex = randomBytes(16 * count).toString('hex');
  return Array.from({ length: count }, (_, i) => hex.slice(32 * i, 32 * i + 32));
}

const spanContext = (traceId: string, sampled = true, ot?: string): SpanContext => ({
  traceId,
  spanId: '0123456789abcdef',
  traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  ...(ot === undefined ? {} : { traceState: createTraceState(`ot=${ot}`) }),
});

describe('SamplingProcessor', function () {
  this.timeout(60_000);
  const diag = useDiagCapture();

  describe('agreement with the trace SDK', () => {
    it('decides 1,000,000 trace ids at ratio 0.1 exactly as TraceIdRatioBasedSampler does', () => {
      const ratio = 0.1;
      const sampler = new TraceIdRatioBasedSampler(ratio);
      const decision = new RatioDecision(ratio);
      let agree = 0;
      let kept = 0;
      const ids = traceIds(1_000_000);
      for (const id of ids) {
        const sdk =
          sampler.shouldSample(ROOT_CONTEXT, id).decision === SamplingDecision.RECORD_AND_SAMPLED;
        const ours = decision.keepTrace(spanContext(id));
        if (sdk === ours) agree++;
        if (ours) kept++;
      }
      expect(agree).to.equal(ids.length);
      // And the ratio is what it says: 100,000 expected, σ ≈ 300.
      expect(kept).to.be.within(98_500, 101_500);
    });

    for (const ratio of [0, 0.001, 0.25, 0.5, 0.999, 1]) {
      it(`agrees on 100,000 trace ids at ratio ${ratio}`, () => {
        const sampler = new TraceIdRatioBasedSampler(ratio);
        const decision = new RatioDecision(ratio);
        const ids = traceIds(100_000);
        const disagree = ids.filter(
          (id) =>
            (sampler.shouldSample(ROOT_CONTEXT, id).decision ===
              SamplingDecision.RECORD_AND_SAMPLED) !==
            decision.keepTrace(spanContext(id)),
        );
        expect(disagree).to.deep.equal([]);
      });
    }

    it('a trace sampled with an OTEP 235 threshold: at the same ratio the record is kept exactly when the trace was', () => {
      const two56 = 1n << 56n;
      /** frexp's exponent: x = m × 2^e with m in [0.5, 1). */
      const exponent = (x: number): number => Math.floor(Math.log2(x)) + 1;
      /** The `th` a consistent tracer (the Collector's and Go SDK's algorithm) writes for probability p. */
      const tracerTh = (p: number): string => {
        let t = two56 - BigInt(Math.round(p * 2 ** 56));
        const digits = Math.min(
          14,
          Math.max(4 + Math.trunc(exponent(p) / -4), 4 + Math.trunc(exponent(1 - p) / -4)),
        );
        const shift = BigInt(4 * (14 - digits));
        if (shift > 0n) t = ((t + (1n << (shift - 1n))) >> shift) << shift;
        return t.toString(16).padStart(14, '0').slice(0, digits).replace(/0+$/, '') || '0';
      };
      for (const ratio of [0.5, 0.1, 0.01, 1 / 3, 0.0001, 0.9999]) {
        const th = tracerTh(ratio);
        const threshold = BigInt(`0x${th.padEnd(14, '0')}`);
        const decision = new RatioDecision(ratio);
        let kept = 0;
        for (const id of traceIds(20_000)) {
          const traceKept = BigInt(`0x${id.slice(18)}`) >= threshold;
          const ours = decision.keepTrace(spanContext(id, traceKept, `th:${th}`));
          expect(ours, `${ratio} th:${th} ${id}`).to.equal(traceKept);
          if (ours) kept++;
        }
        expect(kept / 20_000, String(ratio)).to.be.closeTo(ratio, 0.02);
      }
    });

    it('a record ratio other than the trace’s: the exact threshold, so the share kept is the record’s ratio, within the kept traces', () => {
      const ids = traceIds(100_000);
      for (const [traceTh, traceRatio] of [
        ['8', 0.5],
        ['e666', 0.1],
      ] as const) {
        const traceThreshold = BigInt(`0x${traceTh.padEnd(14, '0')}`);
        for (const ratio of [0.01, 0.03, 0.1, 0.3]) {
          if (ratio > traceRatio) continue;
          const decision = new RatioDecision(ratio);
          let kept = 0;
          let outsideKeptTraces = 0;
          for (const id of ids) {
            const traceKept = BigInt(`0x${id.slice(18)}`) >= traceThreshold;
            if (decision.keepTrace(spanContext(id, traceKept, `th:${traceTh}`))) {
              kept++;
              if (!traceKept) outsideKeptTraces++;
            }
          }
          expect(kept / ids.length, `th:${traceTh}, ratio ${ratio}`).to.be.closeTo(
            ratio,
            Math.max(0.003, ratio * 0.05),
          );
          expect(outsideKeptTraces).to.equal(0);
        }
      }
    });

    it('reads rv from the ot trace state before the trace id, and ignores an ot value without th or rv', () => {
      const id = 'ffffffffffffffffffffffffffffffff';
      expect(otRandomness('th:8;rv:00000000000001', id)).to.deep.equal({
        randomness: '00000000000001',
        threshold: '80000000000000',
      });
      expect(otRandomness('th:c', id)).to.deep.equal({
        randomness: 'ffffffffffffff',
        threshold: 'c0000000000000',
      });
      expect(otRandomness('rv:00000000000001', id)).to.deep.equal({
        randomness: '00000000000001',
        threshold: undefined,
      });
      expect(otRandomness('p:3', id)).to.equal(undefined);
      expect(otRandomness('th:zz', id)).to.equal(undefined);
      const half = new RatioDecision(0.5);
      expect(half.keepTrace(spanContext(id, true, 'rv:00000000000001'))).to.equal(false);
      expect(half.keepTrace(spanContext(id, true, 'rv:80000000000000'))).to.equal(true);
    });
  });

  describe('through a pipeline, from winston', () => {
    const receiver = useOtlpReceiver();

    it('at the trace sampler’s ratio, each sampled trace keeps all its records and no other trace keeps any; ERROR is kept', async () => {
      testTracer(); // the AsyncLocalStorage context manager
      const ratio = 0.25;
      const tracer = new TracerProvider({
        sampler: new TraceIdRatioBasedSampler(ratio),
      }).getTracer('t');
      const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: true });
      const provider = new LoggerProvider({
        processors: [new SamplingProcessor({ next: pipeline, ratio }, {})],
      });
      const logger = winston.createLogger({
        level: 'debug',
        transports: [new OtelTransport({ loggerProvider: provider })],
      });
      const sampled = new Set<string>();
      const all = new Set<string>();
      for (let i = 0; i < 400; i++) {
        const span = tracer.startSpan(`request ${i}`);
        const { traceId, traceFlags } = span.spanContext();
        all.add(traceId);
        if (traceFlags & TraceFlags.SAMPLED) sampled.add(traceId);
        context.with(trace.setSpan(context.active(), span), () => {
          logger.debug('step one', { i });
          logger.info('step two', { i });
          logger.warn('step three', { i });
          if (i % 10 === 0) logger.error('failed', { i });
        });
        span.end();
      }
      await provider.forceFlush();
      const errors = 40;
      const expected = sampled.size * 3 + errors;
      await waitUntil(`${expected} records`, () => receiver.logs.length >= expected);
      const byTrace = new Map<string, number>();
      for (const r of receiver.logs) {
        if (r.severityNumber >= SeverityNumber.ERROR) continue;
        byTrace.set(r.traceId, (byTrace.get(r.traceId) ?? 0) + 1);
      }
      expect([...byTrace.keys()].sort()).to.deep.equal([...sampled].sort());
      expect([...byTrace.values()].every((n) => n === 3)).to.equal(true);
      expect(receiver.logs.filter((r) => r.severityText === 'error')).to.have.length(errors);
      expect(sampled.size).to.be.within(60, 140);
      // Counted, not warned about.
      const stats = pipeline.stats();
      expect(stats.dropped.sampled).to.equal((all.size - sampled.size) * 3);
      expect(stats.created).to.equal(1200 + errors);
      expect(stats.exported + stats.droppedTotal).to.equal(stats.created);
      expect(diag.warnings.join('\n')).not.to.match(/OTW014/);
      await provider.shutdown();
    });

    it('trace-based: records of unsampled traces are dropped, ERROR too; records outside a trace are kept', async () => {
      const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, dropWarnings: false });
      const sampling = new SamplingProcessor({ next: pipeline, traceBased: true }, {});
      const provider = new LoggerProvider({ processors: [sampling] });
      const logger = provider.getLogger('app');
      const [a, b] = traceIds(2) as [string, string];
      const inTrace = (id: string, sampled: boolean) =>
        trace.setSpanContext(ROOT_CONTEXT, spanContext(id, sampled));
      for (const severityNumber of [SeverityNumber.INFO, SeverityNumber.ERROR]) {
        logger.emit({ body: 'sampled', severityNumber, context: inTrace(a, true) });
        logger.emit({ body: 'unsampled', severityNumber, context: inTrace(b, false) });
        logger.emit({ body: 'no trace', severityNumber, context: ROOT_CONTEXT });
      }
      await provider.forceFlush();
      await waitUntil('4 records', () => receiver.logs.length >= 4);
      expect(receiver.logs.map((r) => r.body)).to.deep.equal([
        'sampled',
        'no trace',
        'sampled',
        'no trace',
      ]);
      expect(sampling.counts()).to.deep.equal({ kept: 4, dropped: 2 });
      expect(pipeline.stats().dropped.sampled).to.equal(2);
      await provider.shutdown();
    });
  });

  describe('records outside a trace', () => {
    /** The bodies a processor with `ratio` keeps of `records`, through Logger.emit(). */
    function keptOf(
      ratio: ConstructorParameters<typeof SamplingProcessor>[0]['ratio'],
      records: { body: string; severityNumber: SeverityNumber; requestId?: string }[],
    ): string[] {
      const kept: string[] = [];
      const sink: LogRecordProcessor = { ...NOOP, onEmit: (r) => void kept.push(String(r.body)) };
      const provider = new LoggerProvider({
        processors: [new SamplingProcessor({ next: sink, ratio }, {})],
      });
      const logger = provider.getLogger('app');
      for (const r of records) {
        logger.emit({
          body: r.body,
          severityNumber: r.severityNumber,
          context: ROOT_CONTEXT,
          ...(r.requestId === undefined ? {} : { attributes: { 'http.request.id': r.requestId } }),
        });
      }
      return kept;
    }

    it('keeps or drops all records of one request id together', () => {
      const records = Array.from({ length: 2000 }, (_, i) => ({
        body: `req-${i % 200}`,
        severityNumber: SeverityNumber.INFO,
        requestId: `req-${i % 200}`,
      }));
      const kept = keptOf(0.3, records);
      const counts = new Map<string, number>();
      for (const body of kept) counts.set(body, (counts.get(body) ?? 0) + 1);
      expect([...counts.values()].every((n) => n === 10)).to.equal(true);
      expect(counts.size).to.be.within(40, 80); // 60 expected of 200
    });

    it('keeps the ratio over records without a request id, with no period the app could line up with', () => {
      const records = Array.from({ length: 20_000 }, (_, i) => ({
        body: `line ${i % 10}`,
        severityNumber: SeverityNumber.INFO,
      }));
      const kept = keptOf(0.1, records);
      expect(kept.length).to.be.within(1_800, 2_200);
      // Every position of a 10-line loop is kept about as often.
      for (let line = 0; line < 10; line++) {
        expect(kept.filter((b) => b === `line ${line}`).length).to.be.within(120, 280);
      }
    });

    it('a ratio per band; ERROR and above always kept; unspecified severity counts as INFO', () => {
      const severities = [
        SeverityNumber.TRACE,
        SeverityNumber.DEBUG,
        SeverityNumber.INFO,
        SeverityNumber.UNSPECIFIED,
        SeverityNumber.WARN,
        SeverityNumber.ERROR,
        SeverityNumber.FATAL,
      ];
      const records = severities.flatMap((severityNumber) =>
        Array.from({ length: 100 }, () => ({ body: String(severityNumber), severityNumber })),
      );
      const kept = keptOf({ debug: 0, info: 0, trace: 0, warn: 1 }, records);
      const bySeverity = (n: SeverityNumber): number => kept.filter((b) => b === String(n)).length;
      expect(severities.map(bySeverity)).to.deep.equal([0, 0, 0, 0, 100, 100, 100]);
      expect(keptOf(0, records)).to.have.length(200);
    });
  });

  describe('options and environment', () => {
    it('reads OTEL_WINSTON_LOGS_SAMPLER_RATIO as one ratio or one per band; a bad part warns and keeps all', () => {
      const one = new SamplingProcessor({ next: NOOP }, { OTEL_WINSTON_LOGS_SAMPLER_RATIO: '0.5' });
      expect(one.active).to.equal(true);
      const none = new SamplingProcessor({ next: NOOP }, {});
      expect(none.active).to.equal(false);
      // debug=0 applies; the bad parts warn, and info keeps every record.
      const kept: number[] = [];
      const mixed = new SamplingProcessor(
        { next: { ...NOOP, onEmit: (r) => void kept.push(r.severityNumber!) } },
        { OTEL_WINSTON_LOGS_SAMPLER_RATIO: 'debug=0,loud=0.5,info=2,warn=0x1,trace=0.1=5' },
      );
      expect(diag.warnings.join('\n')).to.match(
        /OTW004.*"loud=0.5", "info=2", "warn=0x1", "trace=0.1=5"/,
      );
      const logger = new LoggerProvider({ processors: [mixed] }).getLogger('t');
      for (const severityNumber of [
        SeverityNumber.DEBUG,
        SeverityNumber.INFO,
        SeverityNumber.WARN,
      ]) {
        for (let i = 0; i < 10; i++)
          logger.emit({ body: 'x', severityNumber, context: ROOT_CONTEXT });
      }
      expect(kept.filter((n) => n === SeverityNumber.DEBUG)).to.have.length(0);
      expect(kept.filter((n) => n === SeverityNumber.INFO)).to.have.length(10);
      expect(kept.filter((n) => n === SeverityNumber.WARN)).to.have.length(10);
      diag.clear();
      new SamplingProcessor({ next: NOOP }, { OTEL_WINSTON_LOGS_SAMPLER_RATIO: 'lots' });
      expect(diag.warnings.join('\n')).to.match(/OTW004.*"lots"/);
      const traceBased = new SamplingProcessor(
        { next: NOOP },
        { OTEL_WINSTON_LOGS_SAMPLER_TRACE_BASED: 'true' },
      );
      expect(traceBased.active).to.equal(true);
    });

    it('rejects bad options with the option named', () => {
      const make = (o: unknown) => () =>
        new SamplingProcessor(o as ConstructorParameters<typeof SamplingProcessor>[0], {});
      expect(make({})).to.throw(/next/);
      expect(make({ next: NOOP, ratio: 1.5 })).to.throw(/ratio/);
      expect(make({ next: NOOP, ratio: { error: 0.5 } })).to.throw(/ratio\.error/);
      expect(make({ next: NOOP, ratio: { info: -1 } })).to.throw(/ratio\.info/);
      expect(make({ next: NOOP, traceBased: 'yes' })).to.throw(/traceBased/);
    });
  });
});
