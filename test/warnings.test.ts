import { diag } from '@opentelemetry/api';
import { expect } from 'chai';
import { describeValue, warn, WARNING_CODES } from '../src/warnings.js';
import { useDiagCapture } from './helpers/diag.js';

describe('warnings', () => {
  const captured = useDiagCapture();

  it('go to diag with their code and meaning', () => {
    warn('OTW005', 'detail here');
    expect(captured.warnings).to.deep.equal([
      `otel-winston OTW005: ${WARNING_CODES.OTW005}: detail here`,
    ]);
  });

  it('reach diag at most once per code per interval; the repeats are counted, other codes pass', () => {
    for (let i = 0; i < 1000; i++) warn('OTW002', `repeat ${i}`);
    warn('OTW003', 'another code');
    expect(captured.warnings).to.have.length(2);
    expect(captured.warnings[0]).to.match(/repeat 0$/);
  });

  it('never throw, even when the diag logger does', () => {
    const throwing = {
      error: () => undefined,
      warn: () => {
        throw new Error('diag logger bug');
      },
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    };
    diag.setLogger(throwing, { suppressOverrideMessage: true });
    try {
      expect(() => warn('OTW001', 'x')).to.not.throw();
    } finally {
      diag.disable();
    }
  });

  it('codes are unique and described', () => {
    const codes = Object.keys(WARNING_CODES);
    expect(new Set(codes).size).to.equal(codes.length);
    for (const code of codes) expect(code).to.match(/^OTW\d{3}$/);
  });

  it('describe values for messages the way the style guide asks', () => {
    expect(describeValue(-1)).to.equal('`-1` (number)');
    expect(describeValue('x')).to.equal('`"x"` (string)');
    expect(describeValue(null)).to.equal('`null` (null)');
    expect(describeValue([1])).to.equal('`an array` (array)');
    expect(describeValue(Symbol('s'))).to.equal('`Symbol(s)` (symbol)');
  });
});
