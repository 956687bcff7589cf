import { expect } from 'chai';
import winston from 'winston';
import { createLogCapture, type CapturedLogRecord } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';
import { errorWithThrowing, revokedProxy, thrower, throwingProxy } from '../helpers/hostile.js';

/**
 * Hostile arguments that made winston throw before anything was delivered,
 * and the retry with a plain copy threw again: the record was lost, and only
 * "retried with a plain copy" reached diag. Most of them through child
 * loggers, whose own `write` reads an Error's `message`, `stack` and `cause`.
 */

const HOSTILE: Record<string, () => unknown> = {
  'an Error whose message getter throws': () => errorWithThrowing('message'),
  'an Error whose enumerable message getter throws': () => errorWithThrowing('message', true),
  'an Error whose stack getter throws': () => errorWithThrowing('stack'),
  'an Error whose name getter throws': () => errorWithThrowing('name'),
  'an Error whose code getter throws': () => errorWithThrowing('code', true),
  'an Error whose cause getter throws': () => errorWithThrowing('cause', true),
  'an Error whose cause is a throwing Proxy': () =>
    new Error('outer', { cause: throwingProxy({}) }),
  'an Error whose enumerable cause is a throwing Proxy': () =>
    Object.assign(new Error('outer'), { cause: throwingProxy({}) }),
  'an Error whose cause chain ends in a revoked Proxy': () =>
    new Error('outer', { cause: new Error('middle', { cause: revokedProxy() }) }),
  'a frozen Error whose message getter throws': () => Object.freeze(errorWithThrowing('message')),
  'a Proxy of an Error whose get trap throws': () =>
    new Proxy(new Error('proxied'), { get: thrower('get trap') }),
  'a Proxy of an Error whose traps all throw': () => throwingProxy(new Error('proxied')),
  'a Proxy of a function whose get trap throws': () =>
    new Proxy(() => 'fn', { get: thrower('get trap') }),
  'a Proxy of a function whose traps all throw': () => throwingProxy(() => 'fn'),
  'a Proxy of a function whose getPrototypeOf trap throws': () =>
    new Proxy(() => 'fn', { getPrototypeOf: thrower('getPrototypeOf trap') }),
  'a Proxy of a function whose ownKeys trap throws': () =>
    new Proxy(() => 'fn', { ownKeys: thrower('ownKeys trap') }),
  'a revoked Proxy of a function': () => {
    const { proxy, revoke } = Proxy.revocable(() => 'fn', {});
    revoke();
    return proxy;
  },
  'an object whose message getter throws': () => ({
    get message(): never {
      throw new Error('message getter');
    },
  }),
  'an object whose exception getter throws': () => ({
    message: 'with exception',
    get exception(): never {
      throw new Error('exception getter');
    },
  }),
  'a Proxy whose get trap throws on symbols only': () =>
    new Proxy(
      { message: 'symbols' },
      {
        get(target, key) {
          if (typeof key === 'symbol') throw new Error('symbol get trap');
          return (target as Record<string, unknown>)[key];
        },
      },
    ),
};

type Log = winston.Logger;

/** Every way a value reaches winston: as the info, the message, the metadata, a splat argument. */
const CALLS: Record<string, (log: Log, value: unknown) => void> = {
  'info(value)': (log, value) => log.info(value as string),
  "log('warn', value)": (log, value) => log.log('warn', value as string),
  "info('msg', value)": (log, value) => log.info('msg', value),
  "info('msg', { err: value })": (log, value) => log.info('msg', { err: value }),
  "info('msg', {}, value)": (log, value) => log.info('msg', {}, value),
  "log('error', 'msg', value, value)": (log, value) => log.log('error', 'msg', value, value),
};

/** The loggers a call is made on; each tags its records with `case`. */
const LOGGERS: Record<string, (root: Log, id: number) => Log> = {
  logger: (root) => root,
  'logger.child()': (root, id) => root.child({ case: id }),
  'a child of a child': (root, id) => root.child({ case: id }).child({ depth: 2 }),
};

describe('hostile log call arguments: one record per call, never a throw', () => {
  const diag = useDiagCapture();
  const capture = createLogCapture();
  const root = winston.createLogger({ level: 'silly', transports: [capture.transport()] });
  afterEach(() => capture.reset());

  function only(): CapturedLogRecord {
    expect(capture.records).to.have.length(1);
    return capture.records[0]!;
  }

  let id = 0;
  for (const [valueName, make] of Object.entries(HOSTILE)) {
    it(`${valueName}: as the info, message, metadata or splat, on a logger, a child and a grandchild`, () => {
      for (const [loggerName, on] of Object.entries(LOGGERS)) {
        for (const [callName, call] of Object.entries(CALLS)) {
          const where = `${loggerName}: ${callName}`;
          const caseId = ++id;
          const log = on(root, caseId);
          capture.reset();
          expect(() => call(log, make()), where).to.not.throw();
          expect(capture.records, where).to.have.length(1);
          if (log !== root) expect(capture.records[0]!.attributes.case, where).to.equal(caseId);
          // The logger still delivers: winston's stream did not stall.
          capture.reset();
          log.info('next');
          expect(capture.bodies, `${where}, the next call`).to.deep.equal(['next']);
        }
      }
    });
  }

  describe('what the record keeps', () => {
    it('an Error whose message cannot be read: a placeholder body, the type, no exception.message', () => {
      root.child({ case: 1 }).error(errorWithThrowing('message'));
      const record = only();
      expect(record.body).to.equal('[Unreadable]');
      expect(record.attributes).to.include({ 'exception.type': 'Error', case: 1 });
      expect(record.attributes).to.not.have.property('exception.message');
      expect(diag.warnings.join('\n')).to.match(
        /OTW009.*logger\.error\(\) threw on its arguments: Error: message getter/,
      );
    });

    it('an Error whose stack cannot be read, through a child: the message and type, no stack', () => {
      root.child({ case: 2 }).error(errorWithThrowing('stack'));
      const record = only();
      expect(record.body).to.equal('hostile stack');
      expect(record.attributes).to.include({
        'exception.type': 'Error',
        'exception.message': 'hostile stack',
        case: 2,
      });
      expect(record.attributes).to.not.have.property('exception.stacktrace');
      expect(record.attributes).to.not.have.property('stack');
    });

    it('an Error whose name cannot be read: the type from its class', () => {
      class QueryError extends Error {}
      const error = new QueryError('bad query');
      Object.defineProperty(error, 'name', { get: thrower('name getter') });
      root.child({}).error(error);
      expect(only().attributes).to.include({
        'exception.type': 'QueryError',
        'exception.message': 'bad query',
      });
    });

    it('an Error whose code cannot be read: everything else', () => {
      root.child({}).error(errorWithThrowing('code', true));
      const record = only();
      expect(record.attributes).to.include({
        'exception.type': 'Error',
        'exception.message': 'hostile code',
      });
      expect(record.attributes['exception.stacktrace']).to.match(/^Error: hostile code\n/);
      expect(record.attributes).to.not.have.property('exception.code');
      expect(record.attributes).to.not.have.property('code');
    });

    it('a subclass keeps its type through the copy', () => {
      class PaymentError extends Error {}
      const error = new PaymentError('declined');
      Object.defineProperty(error, 'stack', { get: thrower('stack getter') });
      Object.assign(error, { code: 'E_DECLINED', amount: 12 });
      root.child({}).warn(error);
      expect(only().attributes).to.include({
        'exception.type': 'PaymentError',
        'exception.message': 'declined',
        'exception.code': 'E_DECLINED',
        amount: 12,
      });
    });

    it('a cause that is a throwing Proxy: the cause is kept as unreadable, never an attribute', () => {
      for (const log of [root, root.child({}), root.child({}).child({})]) {
        capture.reset();
        log.error(new Error('outer', { cause: throwingProxy({}) }));
        const record = only();
        expect(record.attributes['exception.message']).to.equal('outer');
        expect(record.attributes['exception.cause']).to.deep.equal([{ message: '[Unreadable]' }]);
        expect(record.attributes).to.not.have.property('cause');
      }
    });

    it('a cause chain that ends in a revoked Proxy: the links that can be read, then a placeholder', () => {
      for (const log of [root, root.child({})]) {
        capture.reset();
        log.error(new Error('outer', { cause: new Error('middle', { cause: revokedProxy() }) }));
        const causes = only().attributes['exception.cause'] as Record<string, unknown>[];
        expect(causes).to.have.length(2);
        expect(causes[0]).to.include({ type: 'Error', message: 'middle' });
        expect(causes[1]).to.deep.equal({ message: '[Unreadable]' });
      }
    });

    it('a Proxy of a function as the only argument: a placeholder body', () => {
      root.child({ case: 3 }).info(throwingProxy(() => 'fn') as never);
      const record = only();
      expect(record.body).to.equal('[Unreadable]');
      expect(record.attributes).to.deep.equal({ case: 3 });
    });

    it("logger.log('info', proxy): winston's stream does not stall, later records still arrive", () => {
      root.log('info', new Proxy({ a: 1 }, { get: thrower('get trap') }) as never);
      expect(only().attributes).to.deep.equal({ a: '[Unreadable]' });
      root.info('after');
      expect(capture.bodies).to.have.length(2);
      expect(diag.warnings.join('\n')).to.match(/OTW009.*winston would stall on this info object/);
    });

    it('an info whose `exception` getter throws does not stall the transports', () => {
      // A format that reads nothing: the transport is the first to read `exception`.
      const log = winston.createLogger({
        format: winston.format((info) => info)(),
        transports: [capture.transport()],
      });
      log.info({
        message: 'x',
        get exception(): never {
          throw new Error('exception getter');
        },
      } as never);
      log.info('after');
      expect(capture.bodies).to.deep.equal(['x', 'after']);
    });
  });

  describe('child loggers', () => {
    it('capture the Error itself: its class, code and cause, not only what winston copied', () => {
      class DbError extends Error {}
      const error = Object.assign(new DbError('gone', { cause: new Error('socket') }), {
        code: 'E_GONE',
      });
      root.child({ requestId: 'r1' }).child({ db: 'main' }).error(error);
      const record = only();
      expect(record.body).to.equal('gone');
      expect(record.attributes).to.include({
        'exception.type': 'DbError',
        'exception.message': 'gone',
        'exception.code': 'E_GONE',
        requestId: 'r1',
        db: 'main',
      });
      expect(record.attributes['exception.cause']).to.have.length(1);
      expect(record.attributes).to.not.have.property('code');
      expect(record.attributes).to.not.have.property('stack');
      expect(record.attributes).to.not.have.property('cause');
    });

    it('an Error with an empty message is the same record as on the parent', () => {
      const error = new RangeError('');
      root.error(error);
      root.child({}).error(error);
      const [parent, child] = capture.records;
      expect(child!.body).to.deep.equal(parent!.body);
      expect(child!.attributes).to.deep.equal(parent!.attributes);
    });

    it('a level method assigned on a child stays on the child', () => {
      const log = winston.createLogger({ level: 'silly', transports: [capture.transport()] });
      const child = log.child({});
      const calls: unknown[] = [];
      child.info = ((message: unknown) => (calls.push(message), child)) as never;
      log.info('parent');
      child.info('child');
      expect(capture.bodies).to.deep.equal(['parent']);
      expect(calls).to.deep.equal(['child']);
    });

    it('a getter that logs and then throws: the outer record is delivered once', () => {
      const log = root.child({ case: 'outer' });
      const error = new Error('outer');
      Object.defineProperty(error, 'stack', {
        get() {
          root.info('logged from a getter');
          throw new Error('then threw');
        },
      });
      expect(() => log.error(error)).to.not.throw();
      expect(capture.bodies.filter((b) => b === 'outer')).to.have.length(1);
      expect(capture.bodies).to.include('logged from a getter');
    });
  });

  describe('diagnostics', () => {
    it('a plain copy that throws too is reported on its own, not hidden by the first warning', () => {
      const log = winston.createLogger({
        format: winston.format(thrower('format bug'))(),
        transports: [capture.transport()],
      });
      log.info('lost');
      const warnings = diag.warnings.join('\n');
      expect(warnings).to.match(
        /OTW009.*logger\.info\(\) threw on its arguments: Error: format bug/,
      );
      expect(warnings).to.match(
        /OTW009.*logger\.info\(\) threw again with a plain copy, and was not delivered: Error: format bug/,
      );
    });
  });
});
