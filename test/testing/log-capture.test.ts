import { SeverityNumber } from '@opentelemetry/api';
import { expect } from 'chai';
import winston from 'winston';
import { runWithRequestContext } from '../../src/index.js';
import { createLogCapture } from '../../src/testing/index.js';
import { inSpan } from '../helpers/tracing.js';

describe('otel-winston/testing: createLogCapture', () => {
  const capture = createLogCapture();
  const logger = winston.createLogger({ level: 'debug', transports: [capture.transport()] });
  afterEach(() => capture.reset());

  it('holds the records of the code under test, synchronously, in order', () => {
    logger.info('one');
    logger.warn('two', { n: 2 });
    expect(capture.bodies).to.deep.equal(['one', 'two']);
  });

  it('finds and filters by body, level, severity, attributes and trace', async () => {
    let traceId = '';
    await inSpan('t', (span) => {
      traceId = span.spanContext().traceId;
      runWithRequestContext({ userId: 'ann' }, () =>
        logger.error('payment failed', { order: { id: 7 } }),
      );
    });
    logger.debug('noise');
    expect(capture.find({ body: /payment/ })?.severityText).to.equal('error');
    expect(capture.find({ level: 'debug' })?.body).to.equal('noise');
    expect(capture.filter({ minSeverity: SeverityNumber.WARN })).to.have.length(1);
    expect(capture.find({ attributes: { 'user.id': 'ann', order: { id: 7 } } })?.traceId).to.equal(
      traceId,
    );
    expect(capture.find({ attributes: { order: { id: 8 } } })).to.equal(undefined);
    expect(capture.find({ traceId })?.body).to.equal('payment failed');
  });

  it('starts empty after reset', () => {
    logger.info('x');
    capture.reset();
    expect(capture.records).to.deep.equal([]);
  });

  it('stops taking records after shutdown', async () => {
    const own = createLogCapture();
    const log = winston.createLogger({ transports: [own.transport()] });
    await own.shutdown();
    log.info('after shutdown');
    expect(own.records).to.deep.equal([]);
  });
});
