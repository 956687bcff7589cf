import { boundString, type AnyValue, type AnyValueMap } from './any-value.js';
import { isError, type CapturedCall } from './capture.js';

/** Semantic convention: the type of the exception. */
export const ATTR_EXCEPTION_TYPE = 'exception.type';
/** Semantic convention: the message of the exception. */
export const ATTR_EXCEPTION_MESSAGE = 'exception.message';
/** Semantic convention: the stack trace of the exception. */
export const ATTR_EXCEPTION_STACKTRACE = 'exception.stacktrace';
/** The `code` of the exception (such as `ECONNREFUSED`); not a semantic convention. */
export const ATTR_EXCEPTION_CODE = 'exception.code';
/** The `cause` chain of the exception, outermost first: a list of {type, message, code, stacktrace}. */
export const ATTR_EXCEPTION_CAUSE = 'exception.cause';

/** How many causes of a `cause` chain are kept. */
const MAX_CAUSES = 8;

/** An error-like value, however it reached the log call. */
export interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly stack?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
}

const isErrorLike = isError;

/** The metadata keys that commonly carry an error. */
export const ERROR_KEYS = ['err', 'error'] as const;

const SPLAT = Symbol.for('splat');

export interface FoundException {
  readonly error: ErrorLike;
  /** The `info` key the error was found under, which is then not an attribute itself. */
  readonly key: string | undefined;
}

/**
 * Finds the error a log call is about, in this order: the info object itself
 * (`logger.error(err)`), an error `message`, an `err` or `error` field, a splat
 * argument (`logger.error('failed', err)`) seen at the call, and last the `stack` string that
 * `format.errors({ stack: true })` leaves behind.
 */
export function findException(
  info: Record<string, unknown>,
  call?: Pick<CapturedCall, 'error' | 'splatError'>,
): FoundException | undefined {
  if (isErrorLike(info)) return { error: info, key: undefined };
  if (call?.error !== undefined) return { error: call.error, key: undefined };
  if (isErrorLike(info.message)) return { error: info.message, key: 'message' };
  for (const key of ERROR_KEYS) {
    const value = info[key];
    if (isErrorLike(value)) return { error: value, key };
  }
  const splat = (info as { [SPLAT]?: unknown })[SPLAT];
  if (Array.isArray(splat)) {
    for (const arg of splat) if (isErrorLike(arg)) return { error: arg, key: undefined };
  }
  if (call?.splatError !== undefined) return { error: call.splatError, key: undefined };
  if (typeof info.stack === 'string' && STACK_TRACE.test(info.stack)) {
    return {
      error: {
        name: typeof info.name === 'string' ? info.name : typeFromStack(info.stack),
        message: info.message,
        stack: info.stack,
        code: info.code,
        cause: info.cause,
      },
      key: 'stack',
    };
  }
  return undefined;
}

/** A JavaScript stack trace: at least one "    at …" frame. */
const STACK_TRACE = /\n\s+at /;

/** "TypeError: bad thing\n    at …" → "TypeError". */
function typeFromStack(stack: string): string | undefined {
  const match = /^([A-Za-z_$][\w$.]*)(?::|\n|$)/.exec(stack);
  return match?.[1];
}

/** The most specific type name: a subclass that did not set `name` still shows its class. */
function typeOf(error: ErrorLike): string | undefined {
  const name = typeof error.name === 'string' && error.name !== '' ? error.name : undefined;
  if (name === undefined || name === 'Error') {
    const ctor = (error as { constructor?: { name?: unknown } }).constructor;
    const ctorName = typeof ctor?.name === 'string' ? ctor.name : undefined;
    if (ctorName !== undefined && ctorName !== '' && ctorName !== 'Object') return ctorName;
  }
  return name;
}

function codeOf(error: ErrorLike): string | number | undefined {
  const code = error.code;
  return typeof code === 'string' || typeof code === 'number' ? code : undefined;
}

function messageOf(error: ErrorLike): string | undefined {
  const message = error.message;
  if (typeof message === 'string') return message;
  if (message === undefined || message === null) return undefined;
  return String(message);
}

/**
 * Calls `add` with the exception attributes of `error`: `exception.type`,
 * `exception.message`, `exception.stacktrace`, `exception.code` and the
 * `exception.cause` chain. Each read is guarded; what cannot be read is left out.
 */
export function forEachExceptionAttribute(
  error: ErrorLike,
  maxStringLength: number,
  add: (key: string, value: AnyValue) => void,
): void {
  const read = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch {
      return undefined;
    }
  };
  const type = read(() => typeOf(error));
  if (type !== undefined) add(ATTR_EXCEPTION_TYPE, boundString(type, maxStringLength));
  const message = read(() => messageOf(error));
  if (message !== undefined) add(ATTR_EXCEPTION_MESSAGE, boundString(message, maxStringLength));
  const stack = read(() => error.stack);
  if (typeof stack === 'string')
    add(ATTR_EXCEPTION_STACKTRACE, boundString(stack, maxStringLength));
  const code = read(() => codeOf(error));
  if (code !== undefined) add(ATTR_EXCEPTION_CODE, code);
  const causes = read(() => causeChain(error, maxStringLength));
  if (causes !== undefined && causes.length > 0) add(ATTR_EXCEPTION_CAUSE, causes);
}

function causeChain(error: ErrorLike, maxStringLength: number): AnyValueMap[] {
  const chain: AnyValueMap[] = [];
  const seen = new Set<unknown>([error]);
  let cause = error.cause;
  while (cause !== undefined && cause !== null && chain.length < MAX_CAUSES && !seen.has(cause)) {
    seen.add(cause);
    const entry: AnyValueMap = {};
    if (typeof cause === 'object') {
      const link = cause as ErrorLike;
      const type = typeOf(link);
      if (type !== undefined) entry.type = type;
      const message = messageOf(link);
      if (message !== undefined) entry.message = boundString(message, maxStringLength);
      const code = codeOf(link);
      if (code !== undefined) entry.code = code;
      if (typeof link.stack === 'string')
        entry.stacktrace = boundString(link.stack, maxStringLength);
      chain.push(entry);
      cause = link.cause;
    } else {
      entry.message = boundString(String(cause), maxStringLength);
      chain.push(entry);
      break;
    }
  }
  return chain;
}
