/**
 * Every change otel-winston makes to winston, in one place. The transport
 * only reads what these patches captured (`capturedCallOf(info)`).
 *
 * A log call, from the app to the transport, and the patch each step passes:
 *
 * ```text
 *  logger.info('job %d done', 7, meta)         level method: guardedLogCall   (instance, {@link instrumentLogger})
 *   └─ logger.log(level, msg, ...)             guardedLogCall                  (instance, {@link instrumentLogger})
 *       └─ logger.write(info)                  captureThenWrite                (instance, {@link instrumentLogger})
 *           │                                  stamps info: trace context, request context, time, template
 *           └─ Logger.prototype.write          equipOnFirstWrite               (class, {@link patchLoggerClass}; preload only)
 *               └─ winston: format, then push  countedPush                     (instance, {@link instrumentLogger})
 *                   └─ each transport's log(info)
 *                       └─ OtelTransport.log   reads capturedCallOf(info), builds the record
 * ```
 *
 * And around the logger's life (preload only, {@link patchLoggerClass}):
 *
 * ```text
 *  new Logger() → configure()   equipAfterwards: the logger gets its OtelTransport and correlation format
 *  logger.clear()               equipAfterwards: the same, after its transports were reset
 *  logger.add(transport)        oneOtelTransport: the app's own OtelTransport replaces the automatic one
 * ```
 *
 * Two levels, one owner:
 * - {@link instrumentLogger} changes one logger instance, when an
 *   OtelTransport is piped into it (with or without the preload). It never
 *   touches winston's prototypes.
 * - {@link patchLoggerClass} wraps `Logger.prototype` for the preload's
 *   instrumentation (`telemetry/winston-instrumentation.ts`, which decides
 *   when to apply and undo it, and what equipping a logger means).
 */
import { describeError, warn } from '../warnings.js';
import { newValueState, toAnyValue, UNREADABLE } from '../mapping/any-value.js';
import { callSiteOf, isError, stampCall, type CallSite } from '../context/call-capture.js';
import { copyError } from '../mapping/exception.js';
import {
  AUTO_TRANSPORT,
  CAPTURE_CALL_SITE,
  LOGGER_EQUIPPED,
  LOGGER_INSTRUMENTED,
  OTEL_TRANSPORT,
} from '../symbols.js';

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
/**
 * The Error each guarded call gave winston as its info (`logger.error(err)`),
 * per depth: a child logger's `write` passes a copy of it on to its parent's,
 * which stamps the call with the Error itself.
 */
const errorsAtDepth: (Error | undefined)[] = [undefined];

/**
 * Where the app made the outermost log call under way, when a transport of
 * the logger asked for it ({@link CAPTURE_CALL_SITE}); taken by the outermost
 * guard, whose caller is the app, and stamped on the info with the rest.
 */
let siteOfCall: CallSite | undefined;

type Method = (this: unknown, ...args: unknown[]) => unknown;

interface WinstonLike {
  write?: Method;
  push?: Method;
  log?: Method;
  levels?: Record<string, number>;
  [LOGGER_INSTRUMENTED]?: true;
  [CAPTURE_CALL_SITE]?: true;
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
 * Whether `logger` would log at `level` (winston's `isLevelEnabled`): a call
 * it filters out needs no call site. True when it cannot tell.
 */
function levelEnabled(logger: unknown, level: unknown): boolean {
  if (typeof level !== 'string') return true;
  try {
    const check = (logger as { isLevelEnabled?: unknown }).isLevelEnabled;
    return typeof check !== 'function' || check.call(logger, level) !== false;
  } catch {
    return true;
  }
}

/** `info` when it is an Error: the argument a log call gives winston as its info. */
function errorOrUndefined(info: unknown): Error | undefined {
  return typeof info === 'object' && info !== null && isError(info) ? info : undefined;
}

const LEVEL = Symbol.for('level');

const STALL =
  'winston would stall on this info object: its level or `exception` cannot be read, or the level is an object';

/**
 * Whether winston would stall on `info`. Its stream reads `info[LEVEL]` (or
 * `level`) and each transport reads `exception` before calling back, outside
 * any try, and uses the level as a key: a getter or Proxy trap that throws
 * there, or a level whose conversion to a key may throw, leaves the stream
 * waiting for a callback that never comes, and every later record of the
 * logger is lost.
 */
function wouldStall(info: object): boolean {
  try {
    const fields = info as { [LEVEL]?: unknown; level?: unknown; exception?: unknown };
    let level = fields[LEVEL];
    if (!level) level = fields.level;
    void fields.exception;
    return typeof level === 'object' ? level !== null : typeof level === 'function';
  } catch {
    return true;
  }
}

/**
 * A plain-data copy of one argument of a log call that threw, which cannot
 * throw again: primitives pass; an Error becomes a copy of what could be read
 * (see `copyError`), still an Error; a function (or a Proxy of one), which
 * winston reads as an object, becomes "[Unreadable]"; anything else becomes
 * plain maps and lists, with "[Unreadable]" where a getter or trap threw.
 */
function plainCopy(arg: unknown): unknown {
  if (typeof arg === 'function') return UNREADABLE;
  if (typeof arg !== 'object' || arg === null) return arg;
  const state = newValueState(SAFE_COPY_LIMITS);
  return isError(arg) ? copyError(arg, state) : toAnyValue(arg, 0, state);
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
 *   hostile input (a throwing getter in the metadata, a Proxy as the message,
 *   an Error whose `message` or `stack` cannot be read, which a child
 *   logger's `write` copies). A logger-level format can throw too
 *   (`format.json()` calls every getter). `log()` and the level methods are
 *   wrapped, and child loggers inherit them: a call that throws before
 *   anything reached a transport is retried once with a plain-data copy of
 *   its arguments, which cannot throw on them again, so the record is still
 *   delivered; any failure gets a `diag` warning and the call returns the
 *   logger as usual. An info object that would stall winston's stream (see
 *   `wouldStall`) is not written: the call is retried with the copy instead.
 *
 * Only the instance is changed, never winston's prototypes; installing twice
 * is a no-op.
 */
export function instrumentLogger(logger: unknown, options?: { readonly callSite?: boolean }): void {
  if (typeof logger !== 'object' || logger === null) return;
  const target = logger as WinstonLike;
  // Child loggers, made with Object.create, inherit it.
  if (options?.callSite === true && typeof target.write === 'function') {
    define(target, CAPTURE_CALL_SITE, true);
  }
  if (target[LOGGER_INSTRUMENTED] === true || typeof target.write !== 'function') return;
  define(target, LOGGER_INSTRUMENTED, true);

  // Fixed arities: cheaper than forwarding `arguments` on the hot path.
  const write = target.write;
  define(
    target,
    'write',
    function captureThenWrite(this: unknown, chunk: unknown, encoding: unknown, callback: unknown) {
      if (typeof chunk === 'object' && chunk !== null) {
        // Thrown to the guard of the call, which retries with a plain copy.
        if (depth > 0 && wouldStall(chunk)) throw new Error(STALL);
        stampCall(chunk, errorsAtDepth[depth], siteOfCall);
      }
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

  if (typeof target.log === 'function') define(target, 'log', guard(target.log, 'log', true));
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
          guarded = guard(current as Method, name, false);
        }
        return guarded;
      },
      set(this: object, value: unknown) {
        // On a child logger (made with Object.create), the child's own method.
        define(this, name, value);
      },
    });
  }
}

/**
 * Wraps `log()` (`isLog`) or a level method. It runs on the logger and on
 * every child logger, which inherit it: a child's `write` throws too (it
 * copies an Error's `message`, `stack` and `cause`), before anything was
 * delivered, so its calls are retried like the parent's.
 */
function guard(original: Method, name: string, isLog: boolean): Method {
  /* eslint-disable prefer-rest-params -- `arguments`: no array per call on the hot path */
  return function guardedLogCall(this: unknown): unknown {
    const level = ++depth;
    pushesAtDepth[level] = 0;
    const count = arguments.length;
    const info: unknown =
      count === 1 ? arguments[0] : isLog && count === 2 ? arguments[1] : undefined;
    errorsAtDepth[level] = errorOrUndefined(info);
    if (
      level === 1 &&
      (this as WinstonLike | null)?.[CAPTURE_CALL_SITE] === true &&
      levelEnabled(this, isLog ? arguments[0] : name)
    ) {
      siteOfCall = callSiteOf(guardedLogCall);
    }
    try {
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
        const copies = Array.prototype.map.call(arguments, plainCopy) as unknown[];
        errorsAtDepth[level] = errorOrUndefined(
          count === 1 ? copies[0] : isLog && count === 2 ? copies[1] : undefined,
        );
        return original.apply(this, copies);
      } catch (again) {
        // Its own subject: the warning above must not hide this one.
        const outcome = pushesAtDepth[level]! > 0 ? 'while delivering' : 'and was not delivered';
        warn(
          'OTW009',
          `logger.${name}() threw again with a plain copy, ${outcome}: ${describeError(again)}`,
          'plain-copy',
        );
        return this;
      }
    } finally {
      errorsAtDepth[level] = undefined;
      if (level === 1) siteOfCall = undefined;
      depth = level - 1;
    }
  };
  /* eslint-enable prefer-rest-params */
}

/** A transport as the class patches see it: an OtelTransport is marked, the preload's one twice. */
interface TransportLike {
  [OTEL_TRANSPORT]?: true;
  [AUTO_TRANSPORT]?: true;
}

/** A winston logger as the class patches see it. */
export interface PatchedLogger {
  transports: TransportLike[];
  format?: unknown;
  add(transport: unknown): unknown;
  remove(transport: unknown): unknown;
  [LOGGER_EQUIPPED]?: true;
}

/** `winston/lib/winston/logger.js`: the class every winston logger is made from. */
export interface LoggerClass {
  prototype: PatchedLogger & {
    configure(...args: unknown[]): unknown;
    write(...args: unknown[]): unknown;
    clear(...args: unknown[]): unknown;
  };
}

/** The methods of `Logger.prototype` that {@link patchLoggerClass} wraps. */
export const PATCHED_LOGGER_METHODS = ['configure', 'clear', 'write', 'add'] as const;

type AnyMethod = (...args: unknown[]) => unknown;

/** `InstrumentationBase`'s `_wrap`: replaces `object[name]` with `wrapper(original)`, undoably. */
export type Wrap = (
  object: LoggerClass['prototype'],
  name: (typeof PATCHED_LOGGER_METHODS)[number],
  wrapper: (original: AnyMethod) => AnyMethod,
) => void;

/** Whether `logger` has an OtelTransport (its own or the preload's). */
export function hasOtelTransport(logger: PatchedLogger): boolean {
  const transports = logger.transports;
  return Array.isArray(transports) && transports.some((t) => t?.[OTEL_TRANSPORT] === true);
}

/**
 * Wraps winston's `Logger.prototype` for the preload, with `wrap` (so that the
 * instrumentation can undo it), to call `equip` on every logger once:
 *
 * - `configure()` (which the constructor calls) sets a logger's transports and
 *   `clear()` resets them: either way the logger is equipped (again) after.
 *   (`remove()` of the OtelTransport is respected: that is a choice.)
 * - `write()`: a logger made before the patch (its `configure()` ran
 *   unpatched) is equipped at its first record, which then goes through the
 *   logger's own write, installed by equipping.
 * - `add()`: a logger has one OtelTransport. The automatic one is added only
 *   where none is; the app's own replaces the automatic one (duplicate
 *   records are a known trap: opentelemetry-js-contrib#2283).
 */
export function patchLoggerClass(
  Logger: LoggerClass,
  wrap: Wrap,
  equip: (logger: PatchedLogger) => void,
): void {
  const equipAfter = (original: (...args: unknown[]) => unknown) =>
    function equipAfterwards(this: PatchedLogger, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      equip(this);
      return result;
    };
  wrap(Logger.prototype, 'configure', equipAfter);
  wrap(Logger.prototype, 'clear', equipAfter);
  wrap(
    Logger.prototype,
    'write',
    (original: (...args: unknown[]) => unknown) =>
      function equipOnFirstWrite(this: PatchedLogger, ...args: unknown[]): unknown {
        if (this[LOGGER_EQUIPPED] !== true) {
          equip(this);
          // The logger has its own write wrapper now: deliver through it.
          const own = (this as { write?: unknown }).write;
          if (typeof own === 'function' && own !== equipOnFirstWrite) {
            return (own as typeof original).apply(this, args);
          }
        }
        return original.apply(this, args);
      },
  );
  wrap(
    Logger.prototype,
    'add',
    (original: (transport: unknown) => unknown) =>
      function oneOtelTransport(this: PatchedLogger, transport: unknown): unknown {
        const incoming = transport as TransportLike | null;
        if (
          incoming !== null &&
          typeof incoming === 'object' &&
          incoming[OTEL_TRANSPORT] === true
        ) {
          if (incoming[AUTO_TRANSPORT] === true) {
            if (hasOtelTransport(this)) return this;
          } else {
            for (const existing of [...(this.transports ?? [])]) {
              if (existing[AUTO_TRANSPORT] === true) this.remove(existing);
            }
          }
        }
        return original.call(this, transport);
      },
  );
}
