import { describeError, warn } from '../warnings.js';
import { newValueState, toAnyValue } from './any-value.js';
import { isError, stampCall } from './capture.js';

const INSTRUMENTED = Symbol.for('otel-winston.logger-instrumented.v1');

/** Limits for the plain copy of a log call's arguments that winston could not take. */
const SAFE_COPY_LIMITS = {
  maxDepth: 8,
  maxCollectionSize: 1024,
  maxStringLength: 1_048_576,
  maxValuesPerRecord: 20_000,
};

/**
 * What loggers pushed to their transports, counted per nesting depth of
 * guarded log calls: a guard knows whether its own call delivered anything
 * before it threw, even when a getter in its arguments logged meanwhile.
 */
let depth = 0;
const pushesAtDepth: number[] = [0];

type Method = (this: unknown, ...args: unknown[]) => unknown;

interface WinstonLike {
  write?: Method;
  push?: Method;
  log?: Method;
  levels?: Record<string, number>;
  [INSTRUMENTED]?: true;
}

function define(target: object, key: PropertyKey, value: unknown): void {
  Object.defineProperty(target, key, {
    configurable: true,
    writable: true,
    enumerable: false,
    value,
  });
}

/**
 * A plain-data copy of one log call argument: primitives pass, an Error stays
 * an Error (a fresh one when it is frozen, since winston writes `level` onto
 * it), anything else becomes plain maps and lists.
 */
function plainCopy(arg: unknown): unknown {
  if (typeof arg !== 'object' || arg === null) return arg;
  if (isError(arg)) return Object.isExtensible(arg) ? arg : copyError(arg);
  return toAnyValue(arg, 0, newValueState(SAFE_COPY_LIMITS));
}

function copyError(error: Error): Error {
  const read = (key: string): unknown => {
    try {
      return (error as unknown as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  };
  const message = read('message');
  const copy = new Error(typeof message === 'string' ? message : '');
  for (const key of ['name', 'stack', 'code', 'cause']) {
    const value = read(key);
    if (value !== undefined) {
      Object.defineProperty(copy, key, {
        value,
        writable: true,
        configurable: true,
        enumerable: key === 'code',
      });
    }
  }
  return copy;
}

/**
 * Instruments a winston logger once an OtelTransport is piped into it:
 *
 * - **Capture at the call.** winston's `logger.info()` (every level method,
 *   `log()` and every child logger) ends in a synchronous `logger.write(info)`.
 *   That one method of the instance is wrapped to stamp `info` with the active
 *   trace context, request context and time before winston formats, buffers or
 *   pipes it.
 * - **Log calls never throw.** winston's own argument handling throws on
 *   hostile input (a throwing getter in the metadata, a Proxy as the message).
 *   A logger-level format can throw too (`format.json()` calls every getter).
 *   `log()` and the level methods are wrapped: a call that throws before
 *   anything reached a transport is retried once with a plain-data copy of
 *   its arguments, so the record is still delivered; any failure gets a
 *   `diag` warning and the call returns the logger as usual.
 *
 * Only the instance is changed, never winston's prototypes; installing twice
 * is a no-op.
 */
export function instrumentLogger(logger: unknown): void {
  if (typeof logger !== 'object' || logger === null) return;
  const target = logger as WinstonLike;
  if (target[INSTRUMENTED] === true || typeof target.write !== 'function') return;
  define(target, INSTRUMENTED, true);

  // Fixed arities: cheaper than forwarding `arguments` on the hot path.
  const write = target.write;
  define(
    target,
    'write',
    function captureThenWrite(this: unknown, chunk: unknown, encoding: unknown, callback: unknown) {
      if (typeof chunk === 'object' && chunk !== null) stampCall(chunk);
      return write.call(this, chunk, encoding, callback);
    },
  );

  const push = target.push;
  if (typeof push === 'function') {
    define(target, 'push', function countedPush(this: unknown, chunk: unknown, encoding: unknown) {
      pushesAtDepth[depth]!++;
      return push.call(this, chunk, encoding);
    });
  }

  if (typeof target.log === 'function') define(target, 'log', guard(target.log, 'log'));
  // winston's createLogger() adds the level methods to the logger's class only
  // after the constructor has piped the transports, so they are looked up on
  // each access, from the prototype, and guarded once per method.
  const proto = Object.getPrototypeOf(target) as Record<string, unknown> | null;
  for (const name of Object.keys(target.levels ?? {})) {
    if (proto === null || Object.hasOwn(target, name)) continue;
    let original: unknown;
    let guarded: unknown;
    Object.defineProperty(target, name, {
      configurable: true,
      enumerable: false,
      get() {
        const current = proto[name];
        if (typeof current !== 'function') return current;
        if (current !== original) {
          original = current;
          guarded = guard(current as Method, name);
        }
        return guarded;
      },
      set(value: unknown) {
        define(target, name, value);
      },
    });
  }
}

function guard(original: Method, name: string): Method {
  return function guardedLogCall(this: unknown): unknown {
    const level = ++depth;
    pushesAtDepth[level] = 0;
    try {
      // eslint-disable-next-line prefer-rest-params -- no array per call on the hot path
      return original.apply(this, arguments as unknown as unknown[]);
    } catch (error) {
      if (pushesAtDepth[level]! > 0) {
        // It failed while delivering (a format or transport threw): some
        // transports may have the record already, so it is not sent again.
        warn('OTW009', `logger.${name}() threw while delivering: ${describeError(error)}`);
        return this;
      }
      warn(
        'OTW009',
        `logger.${name}() threw on its arguments: ${describeError(error)}; retried with a plain copy`,
      );
      try {
        // eslint-disable-next-line prefer-rest-params
        return original.apply(this, Array.prototype.map.call(arguments, plainCopy));
      } catch (again) {
        warn('OTW009', `logger.${name}() threw again with a plain copy: ${describeError(again)}`);
        return this;
      }
    } finally {
      depth = level - 1;
    }
  };
}
