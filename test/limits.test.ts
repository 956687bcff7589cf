import { expect } from 'chai';
import { attributeLimitsFromEnv, DEFAULT_ATTRIBUTE_LIMITS } from '../src/limits.js';
import { useDiagCapture } from './helpers/diag.js';

describe('attribute limits from the environment', () => {
  const diag = useDiagCapture();

  it("defaults to the specification's 128 attributes and no length limit", () => {
    expect(attributeLimitsFromEnv({})).to.deep.equal(DEFAULT_ATTRIBUTE_LIMITS);
    expect(DEFAULT_ATTRIBUTE_LIMITS).to.deep.equal({
      attributeCountLimit: 128,
      attributeValueLengthLimit: Infinity,
    });
  });

  it('reads the log record variables first, then the general ones', () => {
    expect(
      attributeLimitsFromEnv({
        OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '10',
        OTEL_ATTRIBUTE_COUNT_LIMIT: '20',
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: ' 30 ',
      }),
    ).to.deep.equal({ attributeCountLimit: 10, attributeValueLengthLimit: 30 });
  });

  it('accepts a count limit of 0 (no attributes) but not a length limit of 0', () => {
    const limits = attributeLimitsFromEnv({
      OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '0',
      OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0',
    });
    expect(limits).to.deep.equal({ attributeCountLimit: 0, attributeValueLengthLimit: Infinity });
    expect(diag.warnings.join('\n')).to.match(
      /OTW004.*OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT to be an integer >= 1, got "0"; using Infinity/,
    );
  });

  for (const bad of ['abc', '-1', '1.5', '1e400x']) {
    it(`warns through diag and uses the default for ${JSON.stringify(bad)}, never throws`, () => {
      expect(
        attributeLimitsFromEnv({ OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: bad }).attributeCountLimit,
      ).to.equal(128);
      expect(diag.warnings.join('\n')).to.match(
        /OTW004.*OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT.*using 128/,
      );
    });
  }

  it('treats an empty variable as unset', () => {
    expect(
      attributeLimitsFromEnv({
        OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '',
        OTEL_ATTRIBUTE_COUNT_LIMIT: '7',
      }).attributeCountLimit,
    ).to.equal(7);
    expect(diag.warnings).to.deep.equal([]);
  });
});
