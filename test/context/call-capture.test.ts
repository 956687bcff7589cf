import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import { logs as apiLogs } from '@opentelemetry/api-logs';
import { expect } from 'chai';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { DeliverySpy, SlowTransport } from '../helpers/slow-transport.js';
import { runWithRequestContext } from '../../src/index.js';
import { createLogCapture } from '../../src/testing/index.js';
import { inSpan, testTracer } from '../helpers/tracing.js';

const COUNT = 60;

/**
 * Logs COUNT records, each from its own span and request, into a logger whose
 * first transport is slow: winston pauses and delivers most records later, in
 * whatever async context resumes the stream.
 */
async function logBehindSlowTransport(target: TransportStream) {
  const slow = new SlowTransport();
  const spy = new DeliverySpy();
  const logger = winston.createLogger({ transports: [slow, target, spy] });
  const spanIds: string[] = [];
  const callTimes: Array<[number, number]> = [];
  for (let i = 0; i < COUNT; i++) {
    testTracer().startActiveSpan(`request ${i}`, (span) => {
      spanIds.push(span.spanContext().spanId);
      const before = Date.now();
      runWithRequestContext({ requestId: `req-${i}` }, () => logger.info(`record ${i}`, { i }));
      callTimes.push([before, Date.now()]);
      span.end();
    });
  }
  await slow.drained(COUNT);
  return { spanIds, spy, callTimes };
}

describe('context captured at the log call', () => {
  it('keeps the trace link and request context of records winston buffered behind a slow transport', async () => {
    const capture = createLogCapture();
    const { spanIds, spy, callTimes } = await logBehindSlowTransport(capture.transport());

    // The scenario really buffers: most records reach transports in another span's context.
    const misplaced = spy.activeAtDelivery.filter((id, i) => id !== spanIds[i]).length;
    expect(misplaced, 'records delivered outside their own span').to.be.greaterThan(COUNT / 2);

    expect(capture.records).to.have.length(COUNT);
    for (const record of capture.records) {
      const i = record.attributes.i as number;
      expect(record.spanId).to.equal(spanIds[i]);
      expect(record.attributes['http.request.id']).to.equal(`req-${i}`);
    }
    // And each timestamp is that of its call, not of its late delivery.
    for (const record of capture.records) {
      const [before, after] = callTimes[record.attributes.i as number]!;
      expect(record.timestamp).to.be.within(before, after);
    }
    const lastDelivery = Math.max(...capture.records.map((r) => r.observedTimestamp));
    expect(lastDelivery, 'delivery really was later than the calls').to.be.greaterThan(
      callTimes.at(-1)![1] + 50,
    );
  });

  it('(the official transport loses the trace link in the same scenario, contrib #2010, until upstream fixes it)', async () => {
    const official = createLogCapture();
    apiLogs.setGlobalLoggerProvider(official.loggerProvider as never);
    try {
      const { spanIds } = await logBehindSlowTransport(new OpenTelemetryTransportV3());
      expect(official.records).to.have.length(COUNT);
      const wrong = official.records.filter(
        (r) => r.spanId !== spanIds[r.attributes.i as number],
      ).length;
      // The bug links most records to a later call's span. Once upstream fixes it, none is
      // wrong: that passes too, and says so; anything in between is something else.
      if (wrong === 0) {
        console.log('      (contrib #2010 looks fixed upstream: every record has its own span)');
      } else {
        expect(wrong, 'records the official transport linked to the wrong span').to.be.greaterThan(
          COUNT / 2,
        );
      }
    } finally {
      apiLogs.disable();
    }
  });

  it('captures the active span of each call, even from a logger shared across spans', async () => {
    const capture = createLogCapture();
    const logger = winston.createLogger({ transports: [capture.transport()] });
    const ids: string[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        inSpan(`op-${n}`, async (span) => {
          ids.push(span.spanContext().spanId);
          await new Promise((resolve) => setTimeout(resolve, 5 * (4 - n)));
          logger.info(`op ${n}`, { n });
        }),
      ),
    );
    expect(capture.records).to.have.length(3);
    for (const record of capture.records) {
      const n = record.attributes.n as number;
      expect(record.spanId).to.equal(ids[n - 1]);
      expect(record.traceFlags).to.equal(1);
    }
  });

  it('has no trace link outside a span', () => {
    const capture = createLogCapture();
    winston.createLogger({ transports: [capture.transport()] }).info('outside');
    expect(capture.records[0]!.traceId).to.equal(undefined);
    expect(capture.records[0]!.spanId).to.equal(undefined);
  });
});
