import { expect } from 'chai';
import fc from 'fast-check';
import winston from 'winston';
import { createLogCapture } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';

const HUGE = 'x'.repeat(2_000_000);

/**
 * Values chosen to break serializers. Each is made inside the property, from
 * its name: fast-check itself inspects generated values, and a revoked Proxy
 * breaks that.
 */
const HOSTILE: Record<string, () => unknown> = {
  huge: () => HUGE,
  loneHigh: () => '\uD800',
  loneLow: () => 'x\uDFFF',
  brokenPair: () => 'a\uD83D',
  nul: () => '\u0000',
  printf: () => '%s%d%j%%',
  symbol: () => Symbol('s'),
  fn: () => () => 'fn',
  nullProto: () => Object.assign(Object.create(null) as object, { a: 1 }),
  ownKeysTrap: () =>
    new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('ownKeys trap');
        },
      },
    ),
  getTrap: () =>
    new Proxy(
      { a: 1 },
      {
        get: () => {
          throw new Error('get trap');
        },
      },
    ),
  protoTrap: () =>
    new Proxy([], {
      getPrototypeOf: () => {
        throw new Error('proto trap');
      },
    }),
  revoked: () => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  },
  throwingGetter: () => ({
    ok: 1,
    get boom(): never {
      throw new Error('getter exploded');
    },
  }),
  nestedGetter: () => ({
    deep: {
      get boom(): never {
        throw new Error('nested getter');
      },
    },
  }),
  circular: () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    o.list = [o, { back: o }];
    return o;
  },
  deepObject: () => {
    let d: unknown = 'leaf';
    for (let i = 0; i < 500; i++) d = { d };
    return d;
  },
  deepArray: () => {
    let d: unknown = 'leaf';
    for (let i = 0; i < 500; i++) d = [d];
    return d;
  },
  wide: () => Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])),
  error: () => new Error('plain error'),
  errorWithCause: () =>
    Object.assign(new Error('with cause', { cause: new Error('inner') }), { code: 42 }),
  errorCycle: () => {
    const e = new Error('cycle');
    (e as { cause?: unknown }).cause = e;
    return e;
  },
  invalidDate: () => new Date(Number.NaN),
  bigint: () => 2n ** 100n,
  buffer: () => Buffer.alloc(3),
  toJsonThrows: () => ({
    toJSON() {
      throw new Error('toJSON');
    },
  }),
  toStringThrows: () =>
    Object.assign(
      Object.create({
        toString() {
          throw new Error('toString');
        },
      }) as object,
      {},
    ),
};

class Hostile {
  constructor(readonly kind: string) {}
}

function materialize(value: unknown): unknown {
  return value instanceof Hostile ? HOSTILE[value.kind]!() : value;
}

const hostile = fc.constantFrom(...Object.keys(HOSTILE)).map((kind) => new Hostile(kind));

const metaValue = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withBoxedValues: true,
      withNullPrototype: true,
      maxDepth: 4,
    }),
  },
  { weight: 2, arbitrary: hostile },
);

const meta = fc.dictionary(fc.string({ maxLength: 12 }), metaValue, { maxKeys: 6 });

const message = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  metaValue,
);

function materializeMeta(m: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, materialize(v)]));
}

describe('property: any message and metadata', () => {
  useDiagCapture();

  it('never throws and emits exactly one record per call (10,000 cases)', function () {
    this.timeout(300_000);
    const capture = createLogCapture();
    const logger = winston.createLogger({ level: 'silly', transports: [capture.transport()] });
    const levels = Object.keys(winston.config.npm.levels);
    fc.assert(
      fc.property(
        fc.constantFrom(...levels),
        message,
        meta,
        fc.array(metaValue, { maxLength: 3 }),
        (level, msg, m, splat) => {
          capture.reset();
          const args = [materialize(msg), materializeMeta(m), ...splat.map(materialize)];
          expect(() => logger.log(level, ...(args as [string]))).to.not.throw();
          expect(capture.records).to.have.length(1);
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('a level method with one argument of any kind (2,000 cases)', function () {
    this.timeout(120_000);
    const capture = createLogCapture();
    const logger = winston.createLogger({ level: 'silly', transports: [capture.transport()] });
    fc.assert(
      fc.property(message, (msg) => {
        capture.reset();
        expect(() => logger.warn(materialize(msg) as string)).to.not.throw();
        expect(capture.records).to.have.length(1);
      }),
      { numRuns: 2_000 },
    );
  });

  it('a transport given any info object never throws and always calls back once (2,000 cases)', function () {
    this.timeout(120_000);
    const capture = createLogCapture();
    const transport = capture.transport();
    fc.assert(
      fc.property(fc.oneof(metaValue, meta), (info) => {
        let calls = 0;
        const plainObject =
          typeof info === 'object' &&
          info !== null &&
          !(info instanceof Hostile) &&
          Object.getPrototypeOf(info) === Object.prototype;
        const value = plainObject
          ? materializeMeta(info as Record<string, unknown>)
          : materialize(info);
        expect(() => transport.log(value, () => calls++)).to.not.throw();
        expect(calls).to.equal(1);
      }),
      { numRuns: 2_000 },
    );
  });
});
