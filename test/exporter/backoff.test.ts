import { expect } from 'chai';
import { backoffMillis, parseRetryAfter } from '../../src/exporter/backoff.js';

const policy = { initialMillis: 1000, maxMillis: 5000, maxElapsedMillis: Infinity };

describe('exporter: backoff and Retry-After', () => {
  it('grows 1.5 times per failure from the first wait to the cap, ±20%', () => {
    for (const [failures, base] of [
      [1, 1000],
      [2, 1500],
      [3, 2250],
      [4, 3375],
      [5, 5000],
      [20, 5000],
    ] as const) {
      expect(backoffMillis(policy, failures, undefined, () => 0.5)).to.be.closeTo(base, 1e-6);
      expect(backoffMillis(policy, failures, undefined, () => 0)).to.be.closeTo(base * 0.8, 1e-6);
      expect(backoffMillis(policy, failures, undefined, () => 1)).to.be.closeTo(
        Math.min(5000, base * 1.2),
        1e-6,
      );
    }
  });

  it('a Retry-After can lengthen the wait, up to 10 minutes, never shorten it', () => {
    expect(backoffMillis(policy, 1, 30_000, () => 0.5)).to.equal(30_000);
    expect(backoffMillis(policy, 1, 0, () => 0.5)).to.equal(1000);
    expect(backoffMillis(policy, 3, 10, () => 0.5)).to.equal(2250);
    expect(backoffMillis(policy, 1, 86_400_000, () => 0.5)).to.equal(600_000);
  });

  it('reads Retry-After as whole seconds or a future HTTP date; anything else is no header', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(parseRetryAfter('120', now)).to.equal(120_000);
    expect(parseRetryAfter(' 0 ', now)).to.equal(0);
    expect(parseRetryAfter(['3', '9'], now)).to.equal(3000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:50:37 GMT', now)).to.equal(60_000);
    for (const bad of [
      undefined,
      '',
      '-1',
      '1.5',
      'soon',
      'Sun, 06 Nov 1994 08:48:37 GMT',
      '1994-11-06',
    ]) {
      expect(parseRetryAfter(bad, now), String(bad)).to.equal(undefined);
    }
  });
});
