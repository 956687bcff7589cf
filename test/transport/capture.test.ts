import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import { logs as apiLogs } from '@opentelemetry/api-logs';
import { trace } from '@opentelemetry/api';
import { expect } from 'chai';
import winston from 'winston';
import TransportStream from 'winston-transport';
import { runWithRequestContext } from '../../src/index.js';
import { createLogCapture } from '../../src/testing/index.js';
import { inSpan, testTracer } from '../helpers/tracing.js';

/** A transport that takes 5 ms per record, as a remote or disk transport may. */
class SlowTransport extends TransportStream {
  delivered = 0;
  override log(_info: unknown, callback: () => void): void {
    setTimeout(() => {
      this.delivered++;
      callback();
    }, 5);
  }
}

/** Notes the span that is active when winston delivers each record. */
class DeliverySpy extends TransportStream {
  readonly activeAtDelivery: Array<string | undefined> = [];
  override log(_info: unknown, callback: () => void): void {
    this.activeAtDelivery.push(trace.getActiveSpan()?.spanContext().spanId);
    callback();
  }
}

const COUNT = 60;

/**
 * Logs COUNT records, each from its own span and request, into a logger whose
 * first transport is slow: winston pauses and delivers most records later, in
 * whatever async context resumes the stream.
 */
async function logBehindSlowTransport(target: TransportStream) {
  const slow = new SlowTransport({ highWaterMark: 1 } as TransportStream.TransportStreamOptions);
  const spy = new DeliverySpy();
  const logger = winston.createLogger({ transports: [slow, target, spy] });
  const spanIds: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    testTracer().startActiveSpan(`request ${i}`, (span) => {
      spanIds.push(span.spanContext().spanId);
      runWithRequestContext({ requestId: `req-${i}` }, () => logger.info(`record ${i}`, { i }));
      span.end();
    });
  }
  while (slow.delivered < COUNT) await new Promise((resolve) => setTimeout(resolve, 10));
  return { spanIds, spy };
}

describe('context captured at the log call', () => {
  it('keeps the trace link and request context of records winston buffered behind a slow transport', async () => {
    const capture = createLogCapture();
    const { spanIds, spy } = await logBehindSlowTransport(capture.transport());

    // The scenario really buffers: most records reach transports in another span's context.
    const misplaced = spy.activeAtDelivery.filter((id, i) => id !== spanIds[i]).length;
    expect(misplaced, 'records delivered outside their own span').to.be.greaterThan(COUNT / 2);

    expect(capture.records).to.have.length(COUNT);
    for (const record of capture.records) {
      const i = record.attributes.i as number;
      expect(record.spanId).to.equal(spanIds[i]);
      expect(record.attributes['http.request.id']).to.equal(`req-${i}`);
    }
    // And the timestamps are those of the calls, in order, not of the late delivery.
    const times = capture.records.map((r) => r.timestamp);
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
  });

  it('(the official transport loses the trace link in the same scenario: contrib #2010)', async () => {
    const official = createLogCapture();
    apiLogs.setGlobalLoggerProvider(official.loggerProvider as never);
    try {
      const { spanIds } = await logBehindSlowTransport(new OpenTelemetryTransportV3());
      expect(official.records).to.have.length(COUNT);
      const wrong = official.records.filter(
        (r) => r.spanId !== spanIds[r.attributes.i as number],
      ).length;
      expect(wrong, 'records the official transport linked to the wrong span').to.be.greaterThan(
        COUNT / 2,
      );
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
