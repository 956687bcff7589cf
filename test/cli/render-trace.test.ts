import { expect } from 'chai';
import { renderTrace } from '../../src/cli/render-trace.js';
import type { DecodedLogRecord } from '../../src/otlp/decode-logs.js';
import type { DecodedSpan } from '../../src/otlp/decode-traces.js';

const resource = { 'service.name': 'shop' };
const scope = { name: 's', version: '' };

function span(
  spanId: string,
  parentSpanId: string,
  name: string,
  start: number,
  attributes = {},
): DecodedSpan {
  return {
    traceId: 't1',
    spanId,
    parentSpanId,
    name,
    kind: parentSpanId === '' ? 2 : 1,
    startTimeUnixNano: BigInt(start) * 1_000_000n,
    endTimeUnixNano: BigInt(start + 5) * 1_000_000n,
    attributes,
    statusCode: 0,
    resource,
    scope,
  };
}

function log(
  spanId: string,
  body: string,
  at: number,
  severityNumber = 9,
  attributes = {},
): DecodedLogRecord {
  return {
    timeUnixNano: BigInt(at) * 1_000_000n,
    observedTimeUnixNano: BigInt(at) * 1_000_000n,
    severityNumber,
    severityText: severityNumber >= 17 ? 'error' : 'info',
    body,
    attributes,
    droppedAttributesCount: 0,
    flags: 1,
    traceId: 't1',
    spanId,
    eventName: '',
    resource,
    scope,
  };
}

describe('otel-winston tail: renderTrace', () => {
  it('nests spans under their parents and logs under their span, in time order, with the request context', () => {
    const text = renderTrace(
      [span('b', 'a', 'child', 2), span('a', '', 'GET /x', 1, { 'http.route': '/x' })],
      [
        log('b', 'second', 4, 17, {
          'exception.type': 'Error',
          'exception.message': 'boom',
          'user.id': 'ann',
        }),
        log('b', 'first', 3, 9, { 'http.request.id': 'r-1' }),
        log('zz', 'no span of this trace', 5),
      ],
      { color: false },
    );
    expect(text.split('\n')).to.deep.equal([
      'trace t1  service=shop',
      '  GET /x [server] 5.0 ms  route=/x',
      '    child [internal] 5.0 ms',
      '      │ 00:00:00.003Z INFO  first  request=r-1',
      '      │ 00:00:00.004Z ERROR second (Error: boom)  user=ann',
      '  00:00:00.005Z INFO  no span of this trace',
    ]);
  });

  it("shows a record's other attributes, its exception's frames, and its records and child spans in the order they happened", () => {
    const text = renderTrace(
      [span('a', '', 'GET /x', 1), span('b', 'a', 'SELECT', 3)],
      [
        log('a', 'before the query', 2, 9, {
          'order.id': 'o-7',
          count: 3n,
          cart: { skus: ['A1'] },
          long: 'x'.repeat(200),
          'http.route': '/x',
        }),
        log('a', 'after the query', 9, 17, {
          'exception.type': 'TypeError',
          'exception.message': 'boom',
          'exception.stacktrace':
            'TypeError: boom\n    at handler (app.js:10:5)\n    at next (router.js:1:1)',
        }),
      ],
      { color: false },
    );
    expect(text.split('\n')).to.deep.equal([
      'trace t1  service=shop',
      '  GET /x [server] 5.0 ms',
      `    │ 00:00:00.002Z INFO  before the query  route=/x  order.id=o-7 count=3 cart={"skus":["A1"]} long=${'x'.repeat(120)}…`,
      '    SELECT [internal] 5.0 ms',
      '    │ 00:00:00.009Z ERROR after the query (TypeError: boom)',
      '    │     at handler (app.js:10:5)',
      '    │     at next (router.js:1:1)',
    ]);
  });

  it('says "no trace" for records outside any trace', () => {
    const record = { ...log('', 'alone', 1), traceId: '' };
    expect(renderTrace([], [record], { color: false }).split('\n')[0]).to.equal(
      'no trace  service=shop',
    );
  });

  it('colours by severity only when asked', () => {
    const plain = renderTrace([span('a', '', 'root', 1)], [log('a', 'bad', 2, 17)], {
      color: false,
    });
    const colored = renderTrace([span('a', '', 'root', 1)], [log('a', 'bad', 2, 17)], {
      color: true,
    });
    expect(plain).to.not.include('\u001b[');
    expect(colored).to.include('\u001b[31mERROR');
  });
});
