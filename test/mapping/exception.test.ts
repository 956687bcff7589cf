import { expect } from 'chai';
import winston from 'winston';
import { createLogCapture } from '../../src/testing/index.js';

const { format } = winston;

function loggerWith(
  capture: ReturnType<typeof createLogCapture>,
  logFormat?: winston.Logform.Format,
) {
  return winston.createLogger({
    level: 'debug',
    format: logFormat,
    transports: [capture.transport()],
  });
}

describe('exceptions', () => {
  const capture = createLogCapture();
  afterEach(() => capture.reset());

  function only() {
    expect(capture.records).to.have.length(1);
    return capture.records[0]!;
  }

  it('reads an Error logged as the message: logger.error(err)', () => {
    loggerWith(capture).error(new RangeError('out of range'));
    const r = only();
    expect(r.body).to.equal('out of range');
    expect(r.attributes).to.include({
      'exception.type': 'RangeError',
      'exception.message': 'out of range',
    });
    expect(r.attributes['exception.stacktrace']).to.match(/^RangeError: out of range\n\s+at /);
  });

  it('reads an Error passed after the message: logger.error(msg, err)', () => {
    loggerWith(capture).error('request failed', new Error('socket hang up'));
    const r = only();
    expect(r.body).to.equal('request failed socket hang up');
    expect(r.attributes).to.include({
      'exception.type': 'Error',
      'exception.message': 'socket hang up',
    });
    expect(r.attributes).to.not.have.property('stack');
  });

  it('reads an Error under `err` or `error` in the metadata, which is then not an attribute', () => {
    const logger = loggerWith(capture);
    logger.warn('retrying', { err: new TypeError('x is not a function'), attempt: 2 });
    logger.warn('gave up', { error: new Error('final') });
    const [a, b] = capture.records;
    expect(a!.attributes).to.include({ 'exception.type': 'TypeError', attempt: 2 });
    expect(a!.attributes).to.not.have.property('err');
    expect(b!.attributes).to.include({ 'exception.message': 'final' });
    expect(b!.attributes).to.not.have.property('error');
  });

  it('reads an Error among splat arguments', () => {
    loggerWith(capture, format.combine(format.splat())).error(
      'job %s failed',
      'sync',
      new Error('disk full'),
    );
    const r = only();
    expect(r.body).to.equal('job sync failed');
    expect(r.attributes['exception.message']).to.equal('disk full');
  });

  it('reads what format.errors({ stack: true }) leaves behind', () => {
    const logger = loggerWith(capture, format.errors({ stack: true }));
    logger.error(new SyntaxError('unexpected token'));
    const r = only();
    expect(r.attributes).to.include({
      'exception.type': 'SyntaxError',
      'exception.message': 'unexpected token',
    });
    expect(r.attributes['exception.stacktrace']).to.match(/^SyntaxError: unexpected token/);
    expect(r.attributes).to.not.have.property('stack');
  });

  it('records the code and the cause chain, outermost first, and stops at a cycle', () => {
    const root = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const middle = new Error('db unavailable', { cause: root });
    const top = Object.assign(new Error('checkout failed', { cause: middle }), {
      code: 'E_CHECKOUT',
    });
    (root as { cause?: unknown }).cause = top; // a cycle
    loggerWith(capture).error('checkout', { err: top });
    const r = only();
    expect(r.attributes['exception.code']).to.equal('E_CHECKOUT');
    const causes = r.attributes['exception.cause'] as Array<Record<string, unknown>>;
    expect(causes.map((c) => c.message)).to.deep.equal(['db unavailable', 'connect ECONNREFUSED']);
    expect(causes[1]).to.include({ type: 'Error', code: 'ECONNREFUSED' });
    expect(causes[0]!.stacktrace).to.match(/^Error: db unavailable/);
  });

  it('names a subclass that did not set `name` by its class', () => {
    class PaymentDeclined extends Error {}
    loggerWith(capture).error('payment', { err: new PaymentDeclined('card declined') });
    expect(only().attributes['exception.type']).to.equal('PaymentDeclined');
  });

  it('keeps a non-Error `error` field as a plain attribute', () => {
    loggerWith(capture).error('upstream said', { error: 'quota exceeded' });
    const r = only();
    expect(r.attributes.error).to.equal('quota exceeded');
    expect(r.attributes).to.not.have.property('exception.type');
  });

  it('records a primitive cause', () => {
    loggerWith(capture).error('x', { err: new Error('outer', { cause: 'just a string' }) });
    expect(only().attributes['exception.cause']).to.deep.equal([{ message: 'just a string' }]);
  });
});
