/**
 * The per-record CPU of each policy on the benchmark record, measured on
 * its own: the record the transport builds for the benchmark's call is
 * captured once, then `applyTo()` runs on it a million times, and the best
 * of five passes is kept (the least disturbed by the machine). The whole
 * pipelines' runs cannot resolve a cost of a few percent on a shared
 * machine; this can. Run in its own process by `transport.bench.ts`; prints
 * `{ "<policy>": <ns per record>, ... }` on stdout: each policy as configured
 * below (the sampler at 0.5 keeps about half of the traces, and the cost is
 * of deciding, whichever way).
 */
import { ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { randomBytes } from 'node:crypto';
import winston from 'winston';
import {
  LogMetricsProcessor,
  OtelTransport,
  RateLimitProcessor,
  RedactionProcessor,
  runWithRequestContext,
  SamplingProcessor,
  type PolicyProcessor,
  type PolicyRecord,
  type RecordOrigin,
} from 'otel-winston';

const PASSES = 5;
const CALLS = 1_000_000;

/** The record of the benchmark's call (`scenario.ts`), as the transport hands it on. */
function benchmarkRecord(): PolicyRecord {
  let captured: PolicyRecord | undefined;
  const capture: LogRecordProcessor = {
    onEmit: (record) => {
      captured = {
        body: record.body as PolicyRecord['body'],
        attributes: { ...record.attributes },
        severityNumber: record.severityNumber,
        severityText: record.severityText,
      };
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const provider = new LoggerProvider({ processors: [capture] });
  const logger = winston.createLogger({
    format: winston.format.json(),
    transports: [new OtelTransport({ loggerProvider: provider })],
  });
  runWithRequestContext({ requestId: 'r-1000', userId: 'u-42', route: '/orders' }, () =>
    logger.info('order placed', {
      orderId: 'o-1000',
      userId: 'u-42',
      items: 3,
      total: 99.5,
      cart: { skus: ['A1', 'B2', 'C3'], coupon: null },
    }),
  );
  return captured!;
}

/** Nanoseconds per call of `apply`, the best of the passes of `calls` calls each. */
function nanosPerCall(apply: () => void, calls = CALLS): number {
  let best = Infinity;
  for (let pass = 0; pass < PASSES; pass++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) apply();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / calls);
  }
  return best;
}

/**
 * What `includeCodeAttributes: true` adds to the benchmark's whole log call
 * (winston, the transport, the record into a provider that does nothing):
 * the best pass with it, minus the best pass without it, passes alternating.
 */
function codeAttributesCost(): number {
  const calls = 200_000;
  const provider = new LoggerProvider({ processors: [noop] });
  const call = (includeCodeAttributes: boolean) => {
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [new OtelTransport({ loggerProvider: provider, includeCodeAttributes })],
    });
    const meta = { orderId: 'o-1000', userId: 'u-42', items: 3, total: 99.5 };
    return () => logger.info('order placed', meta);
  };
  const off = call(false);
  const on = call(true);
  let bestOff = Infinity;
  let bestOn = Infinity;
  for (let round = 0; round < 3; round++) {
    bestOff = Math.min(bestOff, nanosPerCall(off, calls));
    bestOn = Math.min(bestOn, nanosPerCall(on, calls));
  }
  return bestOn - bestOff;
}

const record = benchmarkRecord();
const noop: LogRecordProcessor = {
  onEmit: () => {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const origin: RecordOrigin = {
  resource: resourceFromAttributes({ 'service.name': 'bench' }),
  instrumentationScope: { name: 'otel-winston' },
};
const inTrace = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
  traceFlags: TraceFlags.SAMPLED,
});

/** 1,024 contexts, each in a trace of its own: no decision can be reused from the record before. */
const traces = Array.from({ length: 1024 }, () =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
  }),
);

/** `policy.applyTo()` on a fresh view of the benchmark record, in `context` (or each of `contexts` in turn). */
function cost(policy: PolicyProcessor, context: Context | undefined | readonly Context[]): number {
  let i = 0;
  return nanosPerCall(() => {
    const ctx = Array.isArray(context) ? context[i++ & 1023] : (context as Context | undefined);
    const view: PolicyRecord = {
      body: record.body,
      attributes: record.attributes,
      severityNumber: record.severityNumber,
      severityText: record.severityText,
    };
    policy.applyTo(view, ctx, origin);
  });
}

const redaction = new RedactionProcessor({ next: noop }, {});
let kept = 0;
const redactionNs = nanosPerCall(() => {
  const view: PolicyRecord = { body: record.body, attributes: record.attributes };
  if (redaction.applyTo(view, undefined) && view.attributes === record.attributes) kept++;
});
if (kept !== PASSES * CALLS) throw new Error('the benchmark record was changed by redaction');

const costs: Record<string, number> = {
  redaction: redactionNs,
  metrics: cost(new LogMetricsProcessor({ next: noop }, {}), inTrace),
  'sampling-trace': cost(new SamplingProcessor({ next: noop, ratio: 0.5 }, {}), traces),
  'sampling-request': cost(new SamplingProcessor({ next: noop, ratio: 0.5 }, {}), undefined),
  'rate-limit': cost(
    new RateLimitProcessor({ next: noop, recordsPerInterval: Number.MAX_SAFE_INTEGER }, {}),
    inTrace,
  ),
  'code-attributes': codeAttributesCost(),
};
process.stdout.write(`${JSON.stringify(costs)}\n`);
