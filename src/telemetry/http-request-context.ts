import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  bindEmitterToRequestScope,
  runWithRequestContext,
  type RequestContext,
} from '../context/request-context.js';
import { GENERATED_REQUEST_ID, HTTP_PATCHED } from '../symbols.js';

/** A request id the app may pass on: at most 128 characters of `[A-Za-z0-9._:-]`. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** True when `value` is a request id that may be passed on as it is. */
export function isSafeRequestId(value: unknown): value is string {
  return typeof value === 'string' && SAFE_REQUEST_ID.test(value);
}

/**
 * The request id of an incoming request: its `header` (lower case, default
 * `x-request-id`) when short and safe, else a new UUID. The UUID is kept on the
 * request, so the preload and a middleware that both ask get the same one.
 */
export function requestIdOf(request: IncomingMessage, header = 'x-request-id'): string {
  const value = request.headers[header];
  const first = Array.isArray(value) ? value[0] : value;
  if (isSafeRequestId(first)) return first;
  const held = request as IncomingMessage & { [GENERATED_REQUEST_ID]?: string };
  return (held[GENERATED_REQUEST_ID] ??= randomUUID());
}

/**
 * The request context of an incoming HTTP request, before any routing; the
 * request id comes from `header` (see {@link requestIdOf}).
 */
export function requestContextOf(request: IncomingMessage, header?: string): RequestContext {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return {
    requestId: requestIdOf(request, header),
    method: request.method,
    path: query === -1 ? url : url.slice(0, query),
    clientAddress: request.socket?.remoteAddress,
  };
}

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Runs every `'request'` event of the given server classes (`http.Server`,
 * `https.Server`) inside a request context, so even an app with no middleware
 * gets correlated, enriched logs. Returns a function that undoes it.
 */
export function patchServerRequestContext(prototypes: ReadonlyArray<{ emit: Emit }>): () => void {
  const undo: Array<() => void> = [];
  for (const proto of prototypes) {
    const target = proto as { emit: Emit; [HTTP_PATCHED]?: Emit };
    if (target[HTTP_PATCHED] !== undefined) continue;
    const original = target.emit;
    const patched: Emit = function emitInRequestContext(this: unknown, event, ...args) {
      if (event !== 'request') return original.call(this, event, ...args);
      const request = args[0] as IncomingMessage;
      let ctx: RequestContext;
      try {
        ctx = requestContextOf(request);
      } catch {
        return original.call(this, event, ...args);
      }
      return runWithRequestContext(ctx, () => {
        // The body arrives from the socket, outside this scope: keep its events in it.
        bindEmitterToRequestScope(request);
        return original.call(this, event, ...args);
      });
    };
    target.emit = patched;
    target[HTTP_PATCHED] = original;
    undo.push(() => {
      if (target.emit === patched) target.emit = original;
      delete target[HTTP_PATCHED];
    });
  }
  return () => undo.forEach((fn) => fn());
}
