import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { expect } from 'chai';
import fc from 'fast-check';
import winston from 'winston';
import { LogPipeline, OtelTransport } from '../../src/index.js';
import { createLogCapture, startOtlpReceiver, type LogCapture } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';
import { errorWithThrowing, revokedProxy, thrower, throwingProxy } from '../helpers/hostile.js';

/**
 * Runs of a property: `full` with `OTEL_WINSTON_TEST_PROPERTY_RUNS=full` (as `.ci/run` sets
 * it), a tenth of it (at least 100) otherwise, so that a run on a laptop stays quick.
 */
const runs = (full: number): number =>
  process.env.OTEL_WINSTON_TEST_PROPERTY_RUNS === 'full'
    ? full
    : Math.max(100, Math.round(full / 10));

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
  errorMessageGetter: () => errorWithThrowing('message'),
  errorStackGetter: () => errorWithThrowing('stack'),
  errorNameGetter: () => errorWithThrowing('name'),
  errorCodeGetter: () => errorWithThrowing('code', true),
  errorCauseProxy: () => new Error('outer', { cause: throwingProxy({}) }),
  errorCauseRevoked: () =>
    new Error('outer', { cause: new Error('middle', { cause: revokedProxy() }) }),
  errorProxy: () => throwingProxy(new Error('proxied')),
  fnProxy: () => throwingProxy(() => 'fn'),
  fnProxyGet: () => new Proxy(() => 'fn', { get: thrower('get') }),
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

/** Not a metadata key: `case` is the identity of a call, `exception: true` is filtered by winston. */
const RESERVED_KEYS = new Set(['case', 'exception']);

function materializeMeta(m: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(m)
      .filter(([k]) => !RESERVED_KEYS.has(k))
      .map(([k, v]) => [k, materialize(v)]),
  );
}

/** The metadata of a child logger: any plain data, never hostile (that would fail every call). */
const childMeta = fc.dictionary(
  fc.string({ maxLength: 8 }).filter((k) => !RESERVED_KEYS.has(k)),
  fc.anything({ maxDepth: 2, withBigInt: true, withDate: true }),
  { maxKeys: 3 },
);

/** The Errors of HOSTILE and its Proxies of a function, each the only argument of a call. */
const ONLY_ARGUMENTS = [
  'error',
  'errorWithCause',
  'errorCycle',
  'errorMessageGetter',
  'errorStackGetter',
  'errorNameGetter',
  'errorCodeGetter',
  'errorCauseProxy',
  'errorCauseRevoked',
  'errorProxy',
  'fnProxy',
  'fnProxyGet',
];

/** Arguments that cannot be read at all: the record's body is a placeholder. */
const UNREADABLE_ARGUMENTS = new Set(['errorProxy', 'fnProxy', 'fnProxyGet']);

type Shape =
  | 'log(level, msg)'
  | 'log(level, msg, meta, ...splat)'
  | 'level(msg)'
  | 'level(msg, meta, ...splat)';
const shape = fc.constantFrom<Shape>(
  'log(level, msg)',
  'log(level, msg, meta, ...splat)',
  'level(msg)',
  'level(msg, meta, ...splat)',
);

/** One log call of the given shape; `args` are the message, the metadata and the splat. */
function call(log: winston.Logger, how: Shape, level: string, args: unknown[]): void {
  const method = log[level as 'info'].bind(log) as (...a: unknown[]) => unknown;
  const logAt = log.log.bind(log) as (...a: unknown[]) => unknown;
  if (how === 'log(level, msg)') logAt(level, args[0]);
  else if (how === 'log(level, msg, meta, ...splat)') logAt(level, ...args);
  else if (how === 'level(msg)') method(args[0]);
  else method(...args);
}

/** A child logger tagged with `case`, or a child of one. */
function childFor(logger: winston.Logger, id: number, meta: object, grandchild: boolean) {
  const child = logger.child({ ...meta, case: id });
  return grandchild ? child.child({ generation: 2 }) : child;
}

const LEVELS = Object.keys(winston.config.npm.levels);

/** A logger at every npm level into an in-memory capture. */
function capturedLogger(): { capture: LogCapture; logger: winston.Logger } {
  const capture = createLogCapture();
  const logger = winston.createLogger({ level: 'silly', transports: [capture.transport()] });
  return { capture, logger };
}

describe('property: any message and metadata', () => {
  useDiagCapture();

  it('never throws and emits exactly one record per call (10,000 cases)', function () {
    this.timeout(300_000);
    const { capture, logger } = capturedLogger();
    fc.assert(
      fc.property(
        fc.constantFrom(...LEVELS),
        shape,
        message,
        meta,
        fc.array(metaValue, { maxLength: 3 }),
        (level, how, msg, m, splat) => {
          capture.reset();
          const args = [materialize(msg), materializeMeta(m), ...splat.map(materialize)];
          expect(() => call(logger, how, level, args)).to.not.throw();
          expect(capture.records).to.have.length(1);
        },
      ),
      { numRuns: runs(10_000) },
    );
  });

  it('a level method with one argument of any kind (2,000 cases)', function () {
    this.timeout(120_000);
    const { capture, logger } = capturedLogger();
    fc.assert(
      fc.property(message, (msg) => {
        capture.reset();
        expect(() => logger.warn(materialize(msg) as string)).to.not.throw();
        expect(capture.records).to.have.length(1);
      }),
      { numRuns: runs(2_000) },
    );
  });

  it('through logger.child(meta) and a child of a child: one record per call, with its metadata (3,000 cases)', function () {
    this.timeout(300_000);
    const { capture, logger } = capturedLogger();
    let id = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...LEVELS),
        shape,
        fc.boolean(),
        childMeta,
        message,
        meta,
        fc.array(metaValue, { maxLength: 3 }),
        (level, how, grandchild, cm, msg, m, splat) => {
          capture.reset();
          const caseId = ++id;
          const log = childFor(logger, caseId, cm, grandchild);
          const args = [materialize(msg), materializeMeta(m), ...splat.map(materialize)];
          expect(() => call(log, how, level, args)).to.not.throw();
          expect(capture.records).to.have.length(1);
          expect(capture.records[0]!.attributes.case).to.equal(caseId);
          if (grandchild) expect(capture.records[0]!.attributes.generation).to.equal(2);
        },
      ),
      { numRuns: runs(3_000) },
    );
  });

  it('a hostile Error or a Proxy of a function as the only argument of a level method on a child (500 cases)', function () {
    this.timeout(120_000);
    const { capture, logger } = capturedLogger();
    let id = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...LEVELS),
        fc.constantFrom(...ONLY_ARGUMENTS),
        fc.boolean(),
        (level, kind, grandchild) => {
          capture.reset();
          const caseId = ++id;
          const log = childFor(logger, caseId, {}, grandchild);
          const method = log[level as 'info'].bind(log) as (arg: unknown) => unknown;
          expect(() => method(HOSTILE[kind]!())).to.not.throw();
          expect(capture.records).to.have.length(1);
          const record = capture.records[0]!;
          expect(record.attributes.case).to.equal(caseId);
          expect(record.body).to.be.a('string');
          if (UNREADABLE_ARGUMENTS.has(kind)) {
            expect(record.body).to.equal('[Unreadable]');
          } else {
            expect(record.attributes['exception.type']).to.equal('Error');
          }
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('through LogPipeline to a real OTLP receiver: every call arrives exactly once (3,000 cases)', async function () {
    this.timeout(300_000);
    const receiver = await startOtlpReceiver();
    const pipeline = new LogPipeline({ url: `${receiver.url}/v1/logs`, scheduledDelayMillis: 50 });
    const loggerProvider = new LoggerProvider({ processors: [pipeline] });
    // Short strings: the receiver keeps every record it decodes.
    const transport = new OtelTransport({ loggerProvider, maxStringLength: 4096 });
    const logger = winston.createLogger({ level: 'silly', transports: [transport] });
    let id = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...LEVELS),
          shape,
          fc.boolean(),
          message,
          meta,
          fc.array(metaValue, { maxLength: 3 }),
          async (level, how, grandchild, msg, m, splat) => {
            const caseId = ++id;
            const log = childFor(logger, caseId, {}, grandchild);
            const args = [materialize(msg), materializeMeta(m), ...splat.map(materialize)];
            const created = pipeline.stats().created;
            expect(() => call(log, how, level, args)).to.not.throw();
            expect(pipeline.stats().created, 'records the pipeline was given').to.equal(
              created + 1,
            );
            // Let the exports run now and then, so the queue never fills.
            if (caseId % 200 === 0) await pipeline.forceFlush();
          },
        ),
        { numRuns: runs(3_000) },
      );
      await pipeline.forceFlush();
      const arrived = new Map<unknown, number>();
      for (const record of receiver.logs) {
        const caseId = record.attributes.case;
        arrived.set(caseId, (arrived.get(caseId) ?? 0) + 1);
      }
      const missing: number[] = [];
      const twice: number[] = [];
      for (let caseId = 1; caseId <= id; caseId++) {
        const count = arrived.get(caseId) ?? 0;
        if (count === 0) missing.push(caseId);
        if (count > 1) twice.push(caseId);
      }
      expect(missing, 'calls whose record never arrived').to.deep.equal([]);
      expect(twice, 'calls whose record arrived more than once').to.deep.equal([]);
      expect(receiver.logs).to.have.length(id);
      const stats = pipeline.stats();
      expect(stats.created).to.equal(id);
      expect(stats.droppedTotal).to.equal(0);
      expect(stats.created).to.equal(
        stats.exported + stats.droppedTotal + stats.queued + stats.inFlight,
      );
    } finally {
      await loggerProvider.shutdown();
      await receiver.close();
    }
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
      { numRuns: runs(2_000) },
    );
  });
});
