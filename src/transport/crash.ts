/**
 * A crash: an uncaught exception or an unhandled rejection. Everything
 * otel-winston does about one is here, around one decision: who owns it.
 *
 * ```text
 *  uncaught exception / unhandled rejection
 *   │
 *   ├─ another 'uncaughtException' listener than ours (winston's exception handler, the app's own)?
 *   │    yes: it owns the crash. We only flush ({@link onUncaught}).
 *   │         winston's handler logs the crash as an info with `exception: true`
 *   │         (`rejection: true`); OtelTransport makes it a FATAL record
 *   │         ({@link isCrashRecord}), and flushes before it tells winston it is
 *   │         done, so winston's exit waits for the export ({@link flushBeforeWinstonExits}).
 *   │
 *   └─ no: we own it. A FATAL record ({@link emitCrashRecord}), a flush, the error
 *          printed as Node prints it, exit code 1 ({@link onUncaught}).
 * ```
 *
 * When winston owns it, the crash is recorded once and flushed before winston
 * exits. When the app's own handler owns it, that handler decides: we record
 * nothing and start a flush, which a synchronous `process.exit()` in the
 * handler cuts short (what is still held is then counted and reported at exit).
 */
import { logs, SeverityNumber, type Attributes, type LoggerProvider } from '@opentelemetry/api';
import { inspect } from 'node:util';
import { VERSION } from '../version.js';
import { describeError, warn } from '../warnings.js';
import { forEachExceptionAttribute, type ErrorLike } from '../mapping/exception.js';

/** How long a crash record may take to flush before winston is told the transport is done. */
const CRASH_FLUSH_DEADLINE_MS = 2000;

/** The largest `exception.*` string of a crash record that {@link emitCrashRecord} makes. */
const MAX_CRASH_STRING_LENGTH = 1_048_576;

/**
 * A record built by winston's exception or rejection handler: an uncaught
 * exception or an unhandled rejection, about to end the process.
 */
export function isCrashRecord(info: unknown): boolean {
  if (typeof info !== 'object' || info === null) return false;
  try {
    const record = info as { exception?: unknown; rejection?: unknown };
    return record.exception === true || record.rejection === true;
  } catch {
    return false;
  }
}

/** Whether a listener other than otel-winston's owns an uncaught exception. */
function ownedByOthers(): boolean {
  return process.listenerCount('uncaughtException') > 1;
}

/**
 * Our 'uncaughtException' listener (it sees unhandled rejections too, with
 * their `origin`). When nobody else owns the crash: record it, flush, print
 * it as Node does and exit with code 1. Otherwise: flush, and leave the rest
 * to the owner.
 */
export function onUncaught(
  error: unknown,
  origin: string,
  flush: () => Promise<void>,
  record: (error: unknown, origin: string) => void = emitCrashRecord,
): void {
  const others = ownedByOthers();
  if (!others) {
    try {
      record(error, origin);
    } catch (recordError) {
      warn('OTW012', `the crash could not be recorded: ${describeError(recordError)}`);
    }
  }
  void flush().then(() => {
    if (others) return;
    process.stderr.write(
      `${origin === 'unhandledRejection' ? 'Unhandled rejection: ' : ''}${inspect(error)}\n`,
    );
    process.exit(1);
  });
}

/** Emits an uncaught exception or unhandled rejection as a FATAL record of the global provider. */
export function emitCrashRecord(error: unknown, origin: string): void {
  const errorLike: ErrorLike =
    typeof error === 'object' && error !== null ? (error as ErrorLike) : { message: String(error) };
  const attributes: Attributes = {};
  forEachExceptionAttribute(errorLike, MAX_CRASH_STRING_LENGTH, (key, value) => {
    attributes[key] = value;
  });
  const message = attributes['exception.message'];
  logs.getLogger('otel-winston', VERSION).emit({
    severityNumber: SeverityNumber.FATAL,
    severityText: 'FATAL',
    body: `${origin}: ${typeof message === 'string' ? message : String(error)}`,
    attributes,
  });
}

/**
 * Whether winston exits after logging a crash: `exitOnError` of the logger
 * the transport is piped from (a function is asked about the error). A
 * transport that is only an exception handler has no such logger, and its
 * 'finish' unpipes nothing.
 */
function winstonWillExit(parent: unknown, info: unknown): boolean {
  if (typeof parent !== 'object' || parent === null) return true;
  try {
    const exitOnError = (parent as { exitOnError?: unknown }).exitOnError;
    if (typeof exitOnError === 'function') {
      return Boolean(
        (exitOnError as (error: unknown) => unknown)((info as { error?: unknown }).error),
      );
    }
    return exitOnError !== false;
  } catch {
    return true;
  }
}

/** What {@link flushBeforeWinstonExits} needs of the transport that logged the crash. */
export interface CrashTransport {
  readonly parent?: unknown;
  emit(event: 'finish'): unknown;
}

/**
 * winston's exception and rejection handlers mark their transports
 * `_ending`, log the crash, and exit when each transport emits 'finish' (or
 * after 3 s). Flush `provider` first, for at most 2 s, so the crash record is
 * exported before the exit. When winston will not exit (`exitOnError` false),
 * only flush: 'finish' would unpipe the transport from its logger.
 */
export function flushBeforeWinstonExits(
  transport: CrashTransport,
  provider: LoggerProvider,
  info: unknown,
): void {
  const willExit = winstonWillExit(transport.parent, info);
  const flushable = provider as { forceFlush?: () => Promise<void> };
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    if (willExit) transport.emit('finish');
  };
  const deadline = setTimeout(finish, CRASH_FLUSH_DEADLINE_MS);
  deadline.unref();
  const failed = (error: unknown): void => {
    warn('OTW012', `flushing after an uncaught exception failed: ${describeError(error)}`);
    finish();
  };
  if (typeof flushable.forceFlush !== 'function') return finish();
  try {
    flushable.forceFlush().then(finish, failed);
  } catch (error) {
    failed(error);
  }
}
