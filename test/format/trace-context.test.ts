import { expect } from 'chai';
import { Writable } from 'node:stream';
import winston from 'winston';
import { runWithRequestContext, traceContext } from '../../src/index.js';
import { createLogCapture } from '../../src/testing/index.js';
import { SlowTransport } from '../helpers/slow-transport.js';
import { inSpan, testTracer } from '../helpers/tracing.js';

const { format } = winston;

function jsonLines() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, transport: new winston.transports.Stream({ stream }) };
}

describe('traceContext() format', () => {
  it('adds trace_id, span_id, trace_flags and request fields to the JSON line, matching the exported record', async () => {
    const capture = createLogCapture();
    const out = jsonLines();
    const logger = winston.createLogger({
      format: format.combine(traceContext(), format.json()),
      transports: [out.transport, capture.transport()],
    });
    await inSpan('handler', () =>
      runWithRequestContext(
        {
          requestId: 'r-1',
          userId: 'u-1',
          route: '/x',
          method: 'GET',
          path: '/x',
          clientAddress: '::1',
        },
        () => logger.info('correlated'),
      ),
    );
    const line = out.lines[0]!;
    const record = capture.records[0]!;
    expect(line).to.include({
      trace_id: record.traceId,
      span_id: record.spanId,
      trace_flags: '01',
      request_id: 'r-1',
      user_id: 'u-1',
      http_route: '/x',
      http_method: 'GET',
      url_path: '/x',
      client_address: '::1',
    });
    expect(line.trace_id).to.match(/^[0-9a-f]{32}$/);
    // The exported record carries these as trace context and semantic attributes, not again.
    expect(record.attributes).to.deep.equal({
      'http.request.id': 'r-1',
      'user.id': 'u-1',
      'http.route': '/x',
      'http.request.method': 'GET',
      'url.path': '/x',
      'client.address': '::1',
    });
  });

  it('omits absent values instead of writing "undefined"', () => {
    const out = jsonLines();
    const logger = winston.createLogger({
      format: format.combine(traceContext(), format.json()),
      transports: [out.transport],
    });
    logger.info('no span, no request');
    runWithRequestContext({ requestId: 'only-id' }, () => logger.info('partial'));
    expect(out.lines[0]).to.deep.equal({ level: 'info', message: 'no span, no request' });
    expect(out.lines[1]).to.deep.equal({
      level: 'info',
      message: 'partial',
      request_id: 'only-id',
    });
    expect(JSON.stringify(out.lines)).to.not.include('undefined');
  });

  it('can leave the request fields out', async () => {
    const out = jsonLines();
    const logger = winston.createLogger({
      format: format.combine(traceContext({ requestContext: false }), format.json()),
      transports: [out.transport],
    });
    await inSpan('s', () => runWithRequestContext({ requestId: 'x' }, () => logger.info('m')));
    expect(out.lines[0]).to.have.keys('level', 'message', 'trace_id', 'span_id', 'trace_flags');
  });

  it('on a transport, uses the context captured at the call, even when winston delivers late', async () => {
    const out = jsonLines();
    out.transport.format = format.combine(traceContext(), format.json());
    const slow = new SlowTransport();
    const logger = winston.createLogger({
      transports: [slow, out.transport, createLogCapture().transport()],
    });
    const spanIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      testTracer().startActiveSpan(`s${i}`, (span) => {
        spanIds.push(span.spanContext().spanId);
        runWithRequestContext({ requestId: `r${i}` }, () => logger.info('m', { i }));
        span.end();
      });
    }
    await slow.drained(20);
    expect(out.lines).to.have.length(20);
    for (const line of out.lines) {
      expect(line.span_id).to.equal(spanIds[line.i as number]);
      expect(line.request_id).to.equal(`r${line.i as number}`);
    }
  });

  it('keeps what it adds out of format.prettyPrint() lines', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = winston.createLogger({
      format: format.combine(traceContext(), format.prettyPrint()),
      transports: [new winston.transports.Stream({ stream }), createLogCapture().transport()],
    });
    await inSpan('pretty', () => logger.info('pretty'));
    expect(lines[0]).to.include('trace_id');
    expect(lines[0]).to.not.match(/_spanContext|attributes: \{|AsyncLocalStorage/);
    expect(lines[0]!.length).to.be.lessThan(600);
  });
});
