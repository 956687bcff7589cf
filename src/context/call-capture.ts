import { context, type Context } from '@opentelemetry/api';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { getRequestContext, type RequestContext } from './request-context.js';
import { CAPTURED_CALL, MESSAGE_TEMPLATE } from '../symbols.js';

/**
 * What is captured synchronously at the log call and travels with the winston
 * `info` object, so a record that winston buffers or hands to a slow transport
 * still carries the trace and request of the call that made it.
 */
export class CapturedCall {
  constructor(
    /** The OpenTelemetry context active at the call (trace_id, span_id, flags). */
    readonly context: Context,
    /** The request context active at the call. */
    readonly request: Readonly<RequestContext> | undefined,
    /** Milliseconds since the epoch, at the call. */
    readonly time: number,
    /**
     * The Error that was logged as the info itself (`logger.error(err)`), also
     * through a child logger, whose `write` hands on a copy of it. A
     * transport-level format copies `info` with `Object.assign`, which loses
     * an Error's message and stack.
     */
    readonly error: Error | undefined,
    /**
     * An Error passed among the call's extra arguments. `format.splat()` takes
     * such an argument out of the splat before any transport sees it.
     */
    readonly splatError: Error | undefined,
    /** Where the app made the call, when an OtelTransport asked for it (`includeCodeAttributes`). */
    readonly site?: CallSite,
  ) {}

  /** Short in `format.prettyPrint()` and `console.log`: the context holds whole spans. */
  [inspect.custom](): string {
    return '[otel-winston captured call]';
  }
}

/** The code that made a log call: its function, file, line and column, as far as V8 knows them. */
export interface CallSite {
  readonly functionName: string | undefined;
  readonly filePath: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
}

/** The call sites seen, by position in the code Node runs; forgotten all at once when full. */
const knownSites = new Map<string, CallSite>();
const MAX_KNOWN_SITES = 4096;

/**
 * The call site of whoever called `callee`: one frame of a V8 stack trace,
 * taken as structured data (no stack string is formatted). The app's own
 * `Error.prepareStackTrace` and `Error.stackTraceLimit` are restored after.
 * `undefined` when V8 gives no frame (the callee called from native code).
 */
export function callSiteOf(callee: (...args: never[]) => unknown): CallSite | undefined {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  const holder: { stack?: unknown } = {};
  try {
    Error.stackTraceLimit = 1;
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.captureStackTrace(holder, callee);
    const frame = (holder.stack as NodeJS.CallSite[] | undefined)?.[0];
    if (frame === undefined) return undefined;
    // One call site logs again and again: its answer (source map lookup included) is kept.
    const key = `${frame.getFileName()}:${frame.getLineNumber()}:${frame.getColumnNumber()}`;
    const known = knownSites.get(key);
    if (known !== undefined) return known;
    if (knownSites.size >= MAX_KNOWN_SITES) knownSites.clear();
    const type = frame.getTypeName();
    const fn = frame.getFunctionName() ?? frame.getMethodName();
    const site = sourcePosition(
      frame.getFileName() ?? undefined,
      frame.getLineNumber() ?? undefined,
      frame.getColumnNumber() ?? undefined,
    );
    const found: CallSite = {
      // A method as Type.method; the top level of a module has no name.
      functionName:
        fn === null ? undefined : type !== null && type !== 'Object' ? `${type}.${fn}` : fn,
      filePath: site.file?.startsWith('file://') ? fileURLToPath(site.file) : site.file,
      line: site.line,
      column: site.column,
    };
    knownSites.set(key, found);
    return found;
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}

/**
 * A position in the code Node runs, mapped to the source it came from when
 * source maps are on (`--enable-source-maps`, or a loader such as tsx that
 * turns them on): a TypeScript app's own file and line. 1-based, as V8's.
 */
function sourcePosition(
  file: string | undefined,
  line: number | undefined,
  column: number | undefined,
): { file: string | undefined; line: number | undefined; column: number | undefined } {
  if (file === undefined || line === undefined || column === undefined)
    return { file, line, column };
  if (!(process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled)
    return { file, line, column };
  const entry = findSourceMap(file)?.findEntry(line - 1, column - 1);
  if (entry === undefined || !('originalSource' in entry)) return { file, line, column };
  return {
    file: entry.originalSource,
    line: entry.originalLine + 1,
    column: entry.originalColumn + 1,
  };
}

/** Set by `@opentelemetry/instrumentation-winston` when it is active; read as a second source. */
const CONTRIB_CONTEXT = Symbol.for('opentelemetry.js.contrib.winston.context');

const SPLAT = Symbol.for('splat');

/** The message template captured at the call whose context is `ctx`, if it had one. */
export function messageTemplateOf(ctx: Context | undefined): string | undefined {
  const template = ctx?.getValue(MESSAGE_TEMPLATE);
  return typeof template === 'string' ? template : undefined;
}

/** A placeholder `format.splat()` fills in (winston's own pattern, without `%%`). */
const SPLAT_TOKEN = /%[scdjifoO]/;

/**
 * The context of a call: the active one, with the message template when the
 * call has one (a message with a placeholder such as `%s`, and arguments),
 * which only `logger.write(info)` still sees: winston formats it later.
 */
function callContext(info: object): Context {
  const active = context.active();
  try {
    const message = (info as { message?: unknown }).message;
    // Most messages have no `%`: one native search, before the pattern.
    if (
      typeof message !== 'string' ||
      message.length > 1024 ||
      !message.includes('%') ||
      !SPLAT_TOKEN.test(message)
    ) {
      return active;
    }
    const splat = (info as { [SPLAT]?: unknown })[SPLAT];
    if (!Array.isArray(splat) || splat.length === 0) return active;
    return active.setValue(MESSAGE_TEMPLATE, message);
  } catch {
    // A hostile info: no template.
    return active;
  }
}

function splatErrorOf(info: object): Error | undefined {
  try {
    const splat = (info as { [SPLAT]?: unknown })[SPLAT];
    if (!Array.isArray(splat)) return undefined;
    for (const arg of splat as unknown[]) if (isError(arg)) return arg;
  } catch {
    // A hostile splat: no error to take from it.
  }
  return undefined;
}

/** `value instanceof Error`, false where a Proxy trap throws. */
export function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/**
 * The Error a call logs as its info: `info` itself, or `logged`, the Error the
 * call was given as its info (known to the logger's guard), when `info` is a
 * child logger's copy of it. An Error with an empty message is wrapped by
 * winston as `{ message: err }` instead, where the transport finds it.
 */
function infoErrorOf(info: object, logged: Error | undefined): Error | undefined {
  if (isError(info)) return info;
  if (logged === undefined) return undefined;
  try {
    return (info as { message?: unknown }).message === logged ? undefined : logged;
  } catch {
    return logged;
  }
}

/**
 * Captures the call that is logging `info`, now. `logged` is the Error the
 * call was given as its info, if any (see {@link infoErrorOf}); `atCall`
 * says whether this is the call itself (`logger.write`), where the message
 * template can still be read.
 */
export function captureCall(
  info: object,
  logged?: Error,
  atCall = true,
  site?: CallSite,
): CapturedCall {
  return new CapturedCall(
    // Only at the call is the message still the template: later a format may have filled it in.
    atCall ? callContext(info) : context.active(),
    getRequestContext(),
    Date.now(),
    infoErrorOf(info, logged),
    splatErrorOf(info),
    site,
  );
}

/** Stamps `info` with the call captured now. A frozen info is left as it is. */
export function stampCall(info: object, logged?: Error, site?: CallSite): void {
  try {
    (info as { [CAPTURED_CALL]?: CapturedCall })[CAPTURED_CALL] = captureCall(
      info,
      logged,
      true,
      site,
    );
  } catch {
    // A frozen info object: the transport captures at delivery instead.
  }
}

/** The call captured for `info`, or one captured now when nothing was captured earlier. */
export function capturedCallOf(info: object): CapturedCall {
  const captured = (info as { [CAPTURED_CALL]?: CapturedCall })[CAPTURED_CALL];
  if (captured !== undefined) return captured;
  const now = captureCall(info, undefined, false);
  const contribContext = (info as { [CONTRIB_CONTEXT]?: Context })[CONTRIB_CONTEXT];
  if (contribContext !== undefined && typeof contribContext.getValue === 'function') {
    return new CapturedCall(contribContext, now.request, now.time, now.error, now.splatError);
  }
  return now;
}

/** The keys the `traceContext()` format added; short when inspected. */
export class CorrelationKeys {
  constructor(readonly keys: readonly string[]) {}

  [inspect.custom](): string {
    return '[otel-winston correlation keys]';
  }
}
