import { SeverityNumber, type LoggerProvider } from '@opentelemetry/api';
import { expect } from 'chai';
import winston from 'winston';
import { OtelTransport, OtelWinstonError } from '../../src/index.js';
import { createLogCapture } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';
import { inSpan } from '../helpers/tracing.js';

const { format } = winston;

describe('OtelTransport', () => {
  const diag = useDiagCapture();
  const capture = createLogCapture();
  afterEach(() => capture.reset());

  function logger(options: winston.LoggerOptions = {}) {
    return winston.createLogger({ level: 'silly', transports: [capture.transport()], ...options });
  }

  describe('body', () => {
    it('is the message string', () => {
      logger().info('hello world');
      expect(capture.bodies).to.deep.equal(['hello world']);
    });

    it('is a structured value when the message is not a string, never "[object Object]"', () => {
      logger().log({
        level: 'info',
        message: { order: 7, items: ['a', 'b'] } as unknown as string,
      });
      expect(capture.bodies).to.deep.equal([{ order: 7, items: ['a', 'b'] }]);
    });

    it('is absent when a record has no message', () => {
      logger().log({ level: 'info', answer: 42 } as unknown as winston.LogEntry);
      expect(capture.records[0]!.body).to.equal(undefined);
      expect(capture.records[0]!.attributes).to.deep.equal({ answer: 42 });
    });
  });

  describe('attributes', () => {
    it('carry defaultMeta, child metadata and per-call metadata; the call wins on a clash', () => {
      const root = logger({ defaultMeta: { service: 'checkout', region: 'eu' } });
      const child = root.child({ component: 'cart' });
      child.info('added', { sku: 'A1', qty: 2, region: 'ap' });
      expect(capture.records[0]!.attributes).to.deep.equal({
        service: 'checkout',
        region: 'ap',
        component: 'cart',
        sku: 'A1',
        qty: 2,
      });
    });

    it('never include winston keys or symbols', () => {
      logger({ format: format.combine(format.splat(), format.colorize(), format.simple()) }).info(
        'n=%d',
        3,
        { k: 'v' },
      );
      const r = capture.records[0]!;
      expect(r.body).to.equal('n=3');
      expect(r.attributes).to.deep.equal({ k: 'v' });
      expect(r.severityText, 'colorize must not leak ANSI codes into the severity').to.equal(
        'info',
      );
    });

    it('are what the formats left: a field a format removed stays removed', () => {
      const redact = winston.format((info) => {
        delete info.password;
        return info;
      })();
      logger({ format: redact }).info('login', { user: 'ann', password: 'hunter2' });
      expect(capture.records[0]!.attributes).to.deep.equal({ user: 'ann' });
      capture.reset();
      logger({ format: format.metadata() }).info('moved', { a: 1 });
      expect(capture.records[0]!.attributes).to.deep.equal({ metadata: { a: 1 } });
    });

    it('include the splat objects format.splat() merges', () => {
      logger({ format: format.splat() }).info('user %s did %s', 'ann', 'login', { ip: '10.0.0.1' });
      const r = capture.records[0]!;
      expect(r.body).to.equal('user ann did login');
      expect(r.attributes).to.deep.equal({ ip: '10.0.0.1' });
    });

    it('keep a `stack` field that is not a stack trace as an attribute, not an exception', () => {
      logger().info('deploy', { stack: 'prod-eu', name: 'api', code: 3 });
      expect(capture.records[0]!.attributes).to.deep.equal({
        stack: 'prod-eu',
        name: 'api',
        code: 3,
      });
    });

    it('keep nested objects and arrays structured', () => {
      logger().info('cart', {
        cart: { items: [{ sku: 'A', qty: 1 }], total: 9.5 },
        tags: ['x', 'y'],
      });
      expect(capture.records[0]!.attributes).to.deep.equal({
        cart: { items: [{ sku: 'A', qty: 1 }], total: 9.5 },
        tags: ['x', 'y'],
      });
    });

    it('convert Dates, BigInt, Map, Set and class instances, and drop functions', () => {
      class Point {
        constructor(
          public x: number,
          public y: number,
        ) {}
      }
      logger().info('types', {
        at: new Date(0),
        big: 2n ** 70n,
        small: 5n,
        m: new Map([['a', 1]]),
        s: new Set([1]),
        p: new Point(1, 2),
        f: () => 1,
      });
      expect(capture.records[0]!.attributes).to.deep.equal({
        at: '1970-01-01T00:00:00.000Z',
        big: '1180591620717411303424',
        small: 5,
        m: { a: 1 },
        s: [1],
        p: { x: 1, y: 2 },
      });
    });

    it('take an event name from `event.name`', () => {
      logger().info('signed in', { 'event.name': 'user.login', method: 'sso' });
      expect(capture.records[0]).to.include({ eventName: 'user.login' });
      expect(capture.records[0]!.attributes).to.deep.equal({ method: 'sso' });
    });

    it('honour the attribute count limit and say so through diag', () => {
      const limited = createLogCapture();
      const log = winston.createLogger({
        transports: [limited.transport({ attributeCountLimit: 3 })],
      });
      log.info('many', { a: 1, b: 2, c: 3, d: 4, e: 5 });
      expect(limited.records[0]!.attributes).to.deep.equal({ a: 1, b: 2, c: 3 });
      expect(diag.warnings.join('\n')).to.match(/OTW003.*2 attribute\(s\) over the limit of 3/);
    });

    it('honour the attribute value length limit, also inside nested values', () => {
      const limited = createLogCapture();
      const log = winston.createLogger({
        transports: [limited.transport({ attributeValueLengthLimit: 4 })],
      });
      log.info('a long message body is not an attribute', {
        s: 'abcdefgh',
        nested: { t: 'ijklmnop' },
      });
      const r = limited.records[0]!;
      expect(r.body).to.equal('a long message body is not an attribute');
      expect(r.attributes).to.deep.equal({ s: 'abcd', nested: { t: 'ijkl' } });
    });

    it('read the limits from OTEL_LOGRECORD_ATTRIBUTE_* when no option is given', () => {
      const saved = { ...process.env };
      process.env.OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT = '2';
      process.env.OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT = '3';
      try {
        const limited = createLogCapture();
        winston
          .createLogger({ transports: [limited.transport()] })
          .info('m', { a: 'aaaa', b: 'bbbb', c: 'cccc' });
        expect(limited.records[0]!.attributes).to.deep.equal({ a: 'aaa', b: 'bbb' });
      } finally {
        process.env = saved;
      }
    });
  });

  describe('time', () => {
    it('is the moment of the call, with observedTimestamp set', () => {
      const before = Date.now();
      logger().info('now');
      const r = capture.records[0]!;
      expect(r.timestamp).to.be.within(before, Date.now());
      expect(r.observedTimestamp).to.be.within(r.timestamp, Date.now() + 1);
    });

    it("is winston's timestamp when a format set one, which is then not an attribute", () => {
      logger({ format: format.timestamp() }).info('stamped');
      const r = capture.records[0]!;
      expect(r.timestamp).to.be.within(Date.now() - 5000, Date.now());
      expect(r.attributes).to.not.have.property('timestamp');
      capture.reset();
      logger({ format: format.timestamp({ format: () => '2020-02-02T02:02:02.002Z' }) }).info(
        'fixed',
      );
      expect(capture.records[0]!.timestamp).to.equal(Date.parse('2020-02-02T02:02:02.002Z'));
    });

    it('keeps a timestamp that is not ISO-8601 as an attribute and uses the call time', () => {
      logger({ format: format.timestamp({ format: 'HH:mm' }) }).info('clock');
      const r = capture.records[0]!;
      expect(r.attributes.timestamp).to.match(/^\d\d:\d\d$/);
      expect(r.timestamp).to.be.within(Date.now() - 5000, Date.now());
      capture.reset();
      logger().info('metadata that happens to be called timestamp', { timestamp: 1_700_000_000 });
      expect(capture.records[0]!.attributes.timestamp).to.equal(1_700_000_000);
      expect(capture.records[0]!.timestamp).to.be.within(Date.now() - 5000, Date.now());
    });
  });

  describe('level', () => {
    it('filters by its own level, like any winston transport', () => {
      const quiet = createLogCapture();
      const log = winston.createLogger({
        level: 'debug',
        transports: [quiet.transport({ level: 'warn' })],
      });
      log.debug('no');
      log.info('no');
      log.warn('yes');
      log.error('yes');
      expect(quiet.records.map((r) => r.severityText)).to.deep.equal(['warn', 'error']);
    });

    it('skips building a record the logger provider does not want', () => {
      let built = 0;
      const provider: LoggerProvider = {
        getLogger: () => ({
          enabled: () => false,
          emit: () => {
            built++;
          },
        }),
      };
      winston
        .createLogger({ transports: [new OtelTransport({ loggerProvider: provider })] })
        .info('dropped early');
      expect(built).to.equal(0);
    });
  });

  describe('works with winston', () => {
    it('next to Console and File transports, each getting the record', async () => {
      const lines: string[] = [];
      const stream = new (await import('node:stream')).Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const log = winston.createLogger({
        format: format.json(),
        transports: [
          new winston.transports.Stream({ stream }),
          capture.transport(),
          new winston.transports.Stream({ stream }),
        ],
      });
      log.info('fan out', { n: 1 });
      expect(lines).to.have.length(2);
      expect(JSON.parse(lines[0]!)).to.deep.equal({ level: 'info', message: 'fan out', n: 1 });
      expect(capture.records).to.have.length(1);
    });

    it('with child loggers created before the transport was added', () => {
      const log = winston.createLogger({ level: 'info' });
      const child = log.child({ requestScope: 'early' });
      log.add(capture.transport());
      child.info('from an early child');
      expect(capture.records[0]!.attributes).to.deep.equal({ requestScope: 'early' });
    });

    it('always calls the callback and emits "logged"', () => {
      const transport = capture.transport();
      let called = 0;
      let logged = 0;
      transport.on('logged', () => logged++);
      transport.log({ level: 'info', message: 'direct' }, () => called++);
      transport.log(null, () => called++);
      transport.log('not even an object', () => called++);
      expect(called).to.equal(3);
      expect(logged).to.equal(3);
    });
  });

  describe('never throws', () => {
    it('when the logger provider throws on emit: the callback still runs, diag is told', () => {
      const provider: LoggerProvider = {
        getLogger: () => ({
          enabled: () => true,
          emit: () => {
            throw new Error('processor bug');
          },
        }),
      };
      const log = winston.createLogger({
        transports: [new OtelTransport({ loggerProvider: provider })],
      });
      expect(() => log.info('still fine')).to.not.throw();
      expect(diag.warnings.join('\n')).to.match(/OTW007.*processor bug/);
    });

    it('when metadata has a throwing getter: the record is kept with a placeholder', () => {
      const meta = {
        ok: true,
        get boom(): string {
          throw new Error('getter exploded');
        },
      };
      const transport = capture.transport();
      let called = false;
      transport.log(
        { level: 'info', message: 'hostile', [Symbol.for('level')]: 'info', meta },
        () => (called = true),
      );
      expect(called).to.equal(true);
      expect(capture.records[0]!.attributes).to.deep.equal({
        meta: { ok: true, boom: '[Unreadable]' },
      });
      expect(diag.warnings.join('\n')).to.match(/OTW002.*getter exploded/);
    });

    it('when the info object itself is a hostile Proxy', () => {
      const hostile = new Proxy(
        { level: 'info', message: 'proxied' },
        {
          ownKeys() {
            throw new Error('ownKeys trap');
          },
        },
      );
      const transport = capture.transport();
      let called = false;
      expect(() => transport.log(hostile, () => (called = true))).to.not.throw();
      expect(called).to.equal(true);
      expect(capture.records).to.have.length(1);
      expect(capture.records[0]!.body).to.equal('proxied');
    });

    it('when winston itself throws on the arguments: the call returns, the record is delivered from a plain copy', () => {
      const other = createLogCapture();
      const log = winston.createLogger({ transports: [capture.transport(), other.transport()] });
      const meta = {
        ok: 1,
        get x(): never {
          throw new Error('nope');
        },
      };
      expect(log.info('hostile meta', meta)).to.equal(log);
      expect(other.bodies, 'delivered once, to every transport').to.deep.equal(['hostile meta']);
      expect(capture.records[0]!.body).to.equal('hostile meta');
      expect(capture.records[0]!.attributes).to.deep.equal({ ok: 1, x: '[Unreadable]' });
      expect(diag.warnings.join('\n')).to.match(
        /OTW009.*logger\.log\(\) threw on its arguments: Error: nope/,
      );
    });

    it('when the message is a Proxy whose traps throw', () => {
      const log = logger();
      const message = new Proxy(
        { text: 'hi' },
        {
          get() {
            throw new Error('get trap');
          },
        },
      );
      expect(() => log.info(message as never)).to.not.throw();
      expect(() => log.log('warn', message as never, { a: 1 })).to.not.throw();
      expect(capture.records).to.have.length(2);
    });

    it('does not send a record twice when a format throws while delivering', () => {
      const broken = winston.format(() => {
        throw new Error('format bug');
      })();
      const good = createLogCapture();
      const log = winston.createLogger({
        transports: [good.transport(), new winston.transports.Console({ format: broken })],
      });
      expect(() => log.info('once')).to.not.throw();
      expect(good.bodies).to.deep.equal(['once']);
      expect(diag.warnings.join('\n')).to.match(
        /OTW009.*threw while delivering: Error: format bug/,
      );
    });

    it('never reports its own problems through the logger being instrumented', () => {
      const delivered = createLogCapture();
      const identity = winston.format((info) => info)();
      const log = winston.createLogger({
        format: identity,
        transports: [capture.transport(), delivered.transport()],
      });
      log.info('metadata with a bad getter', {
        nested: {
          get bad(): never {
            throw new Error('deep');
          },
        },
      });
      expect(capture.records).to.have.length(1);
      expect(delivered.records).to.have.length(1);
      expect(diag.warnings.join('\n')).to.match(/OTW002.*deep/);
    });
  });

  describe('edge cases', () => {
    it('logger.error(err) keeps the body and exception when the transport has its own format', () => {
      const own = createLogCapture();
      const log = winston.createLogger({ transports: [own.transport({ format: format.json() })] });
      log.error(new TypeError('lost in a copy'));
      expect(own.records[0]!.body).to.equal('lost in a copy');
      expect(own.records[0]!.attributes).to.include({
        'exception.type': 'TypeError',
        'exception.message': 'lost in a copy',
      });
    });

    it('a frozen Error is delivered from a copy', () => {
      logger().error(Object.freeze(new Error('frozen solid')));
      expect(capture.records).to.have.length(1);
      expect(capture.records[0]!.attributes['exception.message']).to.equal('frozen solid');
    });

    it('a getter that logs and then throws: the outer record is still delivered, once', () => {
      const log = logger();
      const meta = {
        get tricky(): never {
          log.info('logged from a getter');
          throw new Error('then threw');
        },
      };
      expect(() => log.info('outer', meta)).to.not.throw();
      // The retry copies the arguments, which runs the getter (and its log call) again.
      expect(capture.bodies.filter((b) => b === 'outer')).to.have.length(1);
      expect(capture.bodies).to.include('logged from a getter');
      expect(capture.find({ body: 'outer' })!.attributes).to.deep.equal({ tricky: '[Unreadable]' });
    });

    it('a provider whose logger has no enabled(), or one that throws, still gets every record', () => {
      const got: unknown[] = [];
      const withoutEnabled: LoggerProvider = {
        getLogger: () => ({ emit: (r: unknown) => void got.push(r) }) as never,
      };
      const throwingEnabled: LoggerProvider = {
        getLogger: () => ({
          enabled: () => {
            throw new Error('enabled bug');
          },
          emit: (r: unknown) => void got.push(r),
        }),
      };
      for (const loggerProvider of [withoutEnabled, throwingEnabled]) {
        winston.createLogger({ transports: [new OtelTransport({ loggerProvider })] }).info('x');
      }
      expect(got).to.have.length(2);
    });

    it('the same transport on two loggers captures each call', async () => {
      const shared = capture.transport();
      const a = winston.createLogger({ transports: [shared] });
      const b = winston.createLogger({ transports: [shared] });
      const ids = await Promise.all(
        [a, b].map((log, n) =>
          inSpan(`logger-${n}`, (span) => {
            log.info(`from ${n}`);
            return span.spanContext().spanId;
          }),
        ),
      );
      expect(capture.find({ body: 'from 0' })!.spanId).to.equal(ids[0]);
      expect(capture.find({ body: 'from 1' })!.spanId).to.equal(ids[1]);
    });
  });

  describe('options', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['options', 'nope', /Expected `options` to be an object, got `"nope"` \(string\)/],
      [
        'loggerProvider',
        { loggerProvider: {} },
        /Expected `loggerProvider` to be a LoggerProvider/,
      ],
      ['loggerName', { loggerName: '' }, /Expected `loggerName` to be a non-empty string/],
      ['level', { level: 3 }, /Expected `level` to be a level name/],
      [
        'severityMap',
        { severityMap: { audit: 99 } },
        /Expected `severityMap.audit` to be an integer from 1 to 24, got `99`/,
      ],
      [
        'includeRequestContext',
        { includeRequestContext: 'yes' },
        /Expected `includeRequestContext` to be a boolean/,
      ],
      [
        'includeCodeAttributes',
        { includeCodeAttributes: 1 },
        /Expected `includeCodeAttributes` to be a boolean/,
      ],
      [
        'attributeCountLimit',
        { attributeCountLimit: -1 },
        /Expected `attributeCountLimit` to be an integer from 0 to Infinity, got `-1` \(number\)/,
      ],
      [
        'attributeValueLengthLimit',
        { attributeValueLengthLimit: 0 },
        /Expected `attributeValueLengthLimit` to be an integer from 1/,
      ],
      ['maxStringLength', { maxStringLength: 1.5 }, /Expected `maxStringLength` to be an integer/],
      ['maxDepth', { maxDepth: 100 }, /Expected `maxDepth` to be an integer from 1 to 64/],
      ['maxCollectionSize', { maxCollectionSize: 0 }, /Expected `maxCollectionSize`/],
      ['maxValuesPerRecord', { maxValuesPerRecord: '5' }, /Expected `maxValuesPerRecord`/],
    ];
    for (const [name, options, message] of bad) {
      it(`rejects a bad ${name} with a coded error`, () => {
        expect(() => new OtelTransport(options as never))
          .to.throw(OtelWinstonError, message)
          .with.property('code', 'OTW_ERR_INVALID_OPTION');
      });
    }

    it('uses the instrumentation scope name it is given', () => {
      winston
        .createLogger({ transports: [capture.transport({ loggerName: 'billing' })] })
        .info('x');
      expect(capture.records[0]!.scope.name).to.equal('billing');
    });

    it('defaults to the global LoggerProvider, resolved once the SDK registers it', async () => {
      const { logs } = await import('@opentelemetry/api');
      const global = createLogCapture();
      const transport = new OtelTransport(); // created before the provider is registered
      logs.setGlobalLoggerProvider(global.loggerProvider);
      try {
        winston.createLogger({ transports: [transport] }).info('to the global provider');
        expect(global.bodies).to.deep.equal(['to the global provider']);
        expect(global.records[0]!.scope).to.deep.equal({ name: 'otel-winston', version: '0.1.0' });
      } finally {
        logs.disable();
      }
    });
  });

  it('maps severity per record with the severity text of the level', () => {
    const log = logger();
    log.error('e');
    log.warn('w');
    log.silly('s');
    expect(capture.records.map((r) => [r.severityText, r.severityNumber])).to.deep.equal([
      ['error', SeverityNumber.ERROR],
      ['warn', SeverityNumber.WARN],
      ['silly', SeverityNumber.TRACE],
    ]);
  });
});
