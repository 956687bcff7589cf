import {
  boundString,
  toAnyValue,
  UNREADABLE,
  type AnyValue,
  type AnyValueMap,
  type ValueState,
} from './any-value.js';
import {
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
} from '@opentelemetry/semantic-conventions';
import { isError, type CapturedCall } from '../context/call-capture.js';

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
  let name: string | undefined;
  try {
    const value = error.name;
    if (typeof value === 'string' && value !== '') name = value;
  } catch {
    // A throwing `name` getter: the class may still tell the type.
  }
  if (name === undefined || name === 'Error') {
    try {
      const ctor = (error as { constructor?: { name?: unknown } }).constructor;
      const ctorName = typeof ctor?.name === 'string' ? ctor.name : undefined;
      if (ctorName !== undefined && ctorName !== '' && ctorName !== 'Object') return ctorName;
    } catch {
      // A throwing `constructor`: keep the name, if any.
    }
  }
  return name;
}

function codeOf(error: ErrorLike): string | number | undefined {
  const code = error.code;
  return typeof code === 'string' || typeof code === 'number' ? code : undefined;
}

/** Copies (see {@link copyError}) whose `message` stands in for one that could not be read. */
const placeholderMessages = new WeakSet<object>();

function messageOf(error: ErrorLike): string | undefined {
  if (placeholderMessages.has(error)) return undefined;
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

/**
 * The causes of `error`, outermost first. Each link is read on its own: a
 * link that cannot be read at all is kept as `{ message: "[Unreadable]" }`,
 * and the chain ends where a `cause` cannot be read.
 */
function causeChain(error: ErrorLike, maxStringLength: number): AnyValueMap[] {
  const chain: AnyValueMap[] = [];
  const seen = new Set<unknown>([error]);
  let cause = error.cause;
  while (cause !== undefined && cause !== null && chain.length < MAX_CAUSES && !seen.has(cause)) {
    seen.add(cause);
    const entry: AnyValueMap = {};
    if (typeof cause !== 'object') {
      let text: string;
      try {
        text = String(cause);
      } catch {
        text = UNREADABLE;
      }
      entry.message = boundString(text, maxStringLength);
      chain.push(entry);
      break;
    }
    const link = cause as ErrorLike;
    let failed = false;
    const read = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch {
        failed = true;
        return undefined;
      }
    };
    const type = typeOf(link);
    if (type !== undefined) entry.type = type;
    const message = read(() => messageOf(link));
    if (message !== undefined) entry.message = boundString(message, maxStringLength);
    const code = read(() => codeOf(link));
    if (code !== undefined) entry.code = code;
    const stack = read(() => link.stack);
    if (typeof stack === 'string') entry.stacktrace = boundString(stack, maxStringLength);
    if (failed && Object.keys(entry).length === 0) entry.message = UNREADABLE;
    chain.push(entry);
    failed = false;
    cause = read(() => link.cause);
    if (failed) break;
  }
  return chain;
}

/** The fields {@link copyError} copies each on its own terms; other own fields become AnyValues. */
const ERROR_OWN_FIELDS = new Set(['name', 'message', 'stack', 'code', 'cause']);

/** A field that could not be read. */
const UNREAD: unique symbol = Symbol('unread');

function readField(error: object, key: string): unknown {
  try {
    return (error as Record<string, unknown>)[key];
  } catch {
    return UNREAD;
  }
}

function defineField(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable });
}

/**
 * A copy of an Error, as plain data, for a log call that threw on the
 * original (a throwing getter, a hostile `cause`). Never throws. The copy is
 * an Error (winston and the transport still treat it as one), made without
 * calling a constructor, so it has no stack of its own, and it holds only what
 * could be read:
 *
 * - `name`: the type, as {@link forEachExceptionAttribute} sees it (a
 *   subclass that did not set `name` keeps its class name);
 * - `message`: a string; "[Unreadable]" where the message could not be read,
 *   which is then the body but not `exception.message`;
 * - `stack`: when it is a string;
 * - `code` and the other own enumerable fields: as AnyValues, enumerable as
 *   on most errors;
 * - `cause`: an Error is copied the same way (up to 8 deep, cycles kept),
 *   anything else becomes an AnyValue ("[Unreadable]" for a hostile Proxy).
 */
export function copyError(error: Error, state: ValueState): Error {
  return copyErrorAt(error, state, new Map(), 0);
}

function copyErrorAt(
  error: Error,
  state: ValueState,
  copies: Map<Error, Error>,
  depth: number,
): Error {
  const copy = Object.create(Error.prototype) as Error;
  copies.set(error, copy);
  defineField(copy, 'name', typeOf(error) ?? 'Error', false);

  const message = readField(error, 'message');
  if (typeof message === 'string') {
    defineField(copy, 'message', boundString(message, state.limits.maxStringLength), false);
  } else if (message === UNREAD) {
    defineField(copy, 'message', UNREADABLE, false);
    placeholderMessages.add(copy);
  } else if (message !== undefined && message !== null) {
    const value = toAnyValue(message, 1, state);
    if (value !== undefined) defineField(copy, 'message', value, false);
  }

  const stack = readField(error, 'stack');
  if (typeof stack === 'string') {
    defineField(copy, 'stack', boundString(stack, state.limits.maxStringLength), false);
  }

  const code = readField(error, 'code');
  if (code !== UNREAD) {
    const value = toAnyValue(code, 1, state);
    if (value !== undefined) defineField(copy, 'code', value, true);
  }

  const cause = readField(error, 'cause');
  if (cause !== UNREAD && cause !== undefined) {
    let value: unknown;
    if (isError(cause)) {
      value = copies.get(cause);
      if (value === undefined && depth < MAX_CAUSES) {
        value = copyErrorAt(cause, state, copies, depth + 1);
      }
    } else {
      value = toAnyValue(cause, 1, state);
    }
    if (value !== undefined) defineField(copy, 'cause', value, false);
  }

  let keys: string[];
  try {
    keys = Object.keys(error);
  } catch {
    keys = [];
  }
  let kept = 0;
  for (const key of keys) {
    if (kept >= state.limits.maxCollectionSize) break;
    if (ERROR_OWN_FIELDS.has(key)) continue;
    const field = readField(error, key);
    const value = field === UNREAD ? UNREADABLE : toAnyValue(field, 1, state);
    if (value === undefined) continue;
    defineField(copy, key, value, true);
    kept++;
  }
  return copy;
}
