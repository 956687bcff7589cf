import {
  context,
  trace,
  type AttributeValue,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
} from '@opentelemetry/semantic-conventions';
import { ATTR_REQUEST_ID, ATTR_USER_ID } from '../context/request-attributes.js';
import {
  bindEmitterToRequestScope,
  bindToRequestScope,
  getRequestContext,
  runWithRequestContext,
  setRequestContext,
  type RequestContext,
} from '../context/request-context.js';
import { requestContextOf } from '../telemetry/http-request-context.js';
import { describeError, warn } from '../warnings.js';
import { IDENTITY_REASONS, type IdentityResult } from '../context/identity-result.js';
import { createIdentityVerifier } from './identity.js';
import {
  accessRecordSkipper,
  REQUEST_CONTEXT_DEFAULTS,
  validateRequestContextOptions,
} from './options.js';
import { recordWriter, type RecordLevel } from './record-writer.js';
import { REQUEST_TRACKED } from '../symbols.js';

/** The reason code on the WARN record of a request whose token did not verify (otel-winston's own name). */
export const ATTR_IDENTITY_FAILURE_REASON = 'otel_winston.identity.failure.reason';
/** Semantic convention: the size of the response body, in bytes. */
export const ATTR_HTTP_RESPONSE_BODY_SIZE = 'http.response.body.size';
/**
 * How long the request took, in seconds, on its access record (otel-winston's
 * own name: `http.server.request.duration` is the semantic conventions' metric,
 * not an attribute).
 */
export const ATTR_REQUEST_DURATION = 'otel_winston.request.duration';

/** The event name of an access record. */
export const ACCESS_EVENT = 'otel_winston.http.access';
/** The event name of the WARN record of a request whose token did not verify. */
export const IDENTITY_EVENT = 'otel_winston.identity.unverified';

/**
 * The route a framework matched: its text, and whether that text is a pure
 * template (`/users/:id`) rather than one that holds request values (an
 * Express router mounted at `/tenants/:tenant` reports the matched
 * `/tenants/acme` as its base).
 */
export type MatchedRoute = readonly [route: string, template: boolean];

/**
 * What the middleware of each framework calls for every request: `routeOf`
 * gives the route the framework matched, if it knows one; `proceed` hands the
 * request on and is called exactly once. Never throws.
 */
export type RequestTracker = (
  request: IncomingMessage,
  response: ServerResponse,
  routeOf: (() => MatchedRoute | undefined) | undefined,
  proceed: () => void,
  /**
   * Calls `matched` when the framework has matched the request's route, if it
   * can tell (Express sets `req.route` then); the route is also looked for at
   * once (Fastify has matched before its hooks run) and at the end.
   */
  watchRoute?: (matched: () => void) => void,
) => void;

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(
      chunk,
      typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
    );
  }
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

function levelOf(status: number, finished: boolean): RecordLevel {
  if (status >= 500) return 'error';
  if (status >= 400 || !finished) return 'warn';
  return 'info';
}

function setSpanAttribute(
  span: Span | undefined,
  key: string,
  value: AttributeValue | undefined,
): void {
  if (span !== undefined && value !== undefined && value !== '') span.setAttribute(key, value);
}

/** Binds a trailing callback argument (of `write`/`end`) to the request's scope. */
function bindCallback(args: unknown[]): unknown[] {
  const last = args.length - 1;
  if (last >= 0 && typeof args[last] === 'function') {
    const copy = [...args];
    copy[last] = bindToRequestScope(args[last] as (...a: unknown[]) => unknown);
    return copy;
  }
  return args;
}

/**
 * Builds the per-request work shared by the Express, Fastify and `node:http`
 * entries: a request scope with the request id, the verified user and the
 * route; the same attributes on the server span; the identity WARN record and
 * the access record. Options are checked at once (a bad one throws an
 * `OtelWinstonError`); nothing throws per request.
 */
export function createRequestTracker(options: unknown): RequestTracker {
  const o = validateRequestContextOptions(options);
  const verify = o.jwt !== undefined ? createIdentityVerifier(o.jwt) : undefined;
  const header = (o.requestIdHeader ?? REQUEST_CONTEXT_DEFAULTS.requestIdHeader).toLowerCase();
  const echo = o.echoRequestId ?? REQUEST_CONTEXT_DEFAULTS.echoRequestId;
  const accessLog = o.accessLog ?? REQUEST_CONTEXT_DEFAULTS.accessLog;
  const skipped = accessRecordSkipper(o.skip);
  const warnOnMissing = o.warnOnMissingToken ?? REQUEST_CONTEXT_DEFAULTS.warnOnMissingToken;
  const write = recordWriter(o.logger);

  return (request, response, routeOf, proceed, watchRoute) => {
    const marked = request as IncomingMessage & { [REQUEST_TRACKED]?: true };
    // Mounted twice (a sub-app, a re-dispatch): the first one does the work.
    if (marked[REQUEST_TRACKED] === true) return proceed();
    const started = performance.now();
    let base: RequestContext;
    let requestId: string;
    try {
      marked[REQUEST_TRACKED] = true;
      const own = requestContextOf(request, header);
      requestId = own.requestId!;
      const outer = getRequestContext();
      // The preload's context of this same request is kept (and so what the app added to it);
      // a context the server happened to be started in is not.
      base = { ...(outer?.requestId === requestId ? outer : undefined), ...own };
      if (verify !== undefined) base = { ...base, userId: undefined, identity: undefined };
      if (echo && !response.headersSent) response.setHeader(header, requestId);
    } catch (error) {
      warn('OTW013', `A request could not be given its context: ${describeError(error)}`);
      return proceed();
    }
    const active = context.active();
    const rpc = getRPCMetadata(active);
    const span = rpc?.type === RPCType.HTTP ? rpc.span : trace.getSpan(active);
    const spanContext = span !== undefined ? trace.setSpan(active, span) : active;
    setSpanAttribute(span, ATTR_REQUEST_ID, requestId);

    runWithRequestContext(base, () => {
      // The body and the response's events come from the socket: keep them in this request.
      bindEmitterToRequestScope(request);
      bindEmitterToRequestScope(response);
      let bytes = 0;
      let route: string | undefined;
      const settleRoute = (): void => {
        const known = getRequestContext()?.route;
        if (route !== undefined) {
          // The context holds the latest route (the framework's is put there as soon as it is
          // matched): one the app or an instrumentation named afterwards wins.
          if (known === undefined || known === '' || known === route) return;
          route = known;
          setSpanAttribute(span, ATTR_HTTP_ROUTE, route);
          if (rpc?.type === RPCType.HTTP && rpc.route === undefined) rpc.route = route;
          return;
        }
        // A route the app or an instrumentation put in the context is a template; so is most of
        // what the framework reports, and only a template may name the span.
        let matched: MatchedRoute | undefined;
        try {
          matched = known !== undefined && known !== '' ? [known, true] : routeOf?.();
        } catch {
          matched = undefined;
        }
        if (matched === undefined) return;
        route = matched[0];
        setSpanAttribute(span, ATTR_HTTP_ROUTE, route);
        if (matched[1] && rpc?.type === RPCType.HTTP && rpc.route === undefined) rpc.route = route;
      };
      // As soon as the route is known, the handler's records carry it too, not only the access
      // record and the span (the preload's HTTP instrumentation does this for every framework).
      const routeMatched = (): void => {
        try {
          settleRoute();
          if (route !== undefined && getRequestContext()?.route !== route) {
            setRequestContext({ route });
          }
        } catch {
          // The route is a nicety.
        }
      };
      routeMatched();
      watchRoute?.(routeMatched);

      const { write: writeChunk, end } = response;
      response.write = function countedWrite(this: ServerResponse, ...args: unknown[]) {
        bytes += byteLength(args[0], args[1]);
        return (writeChunk as (...a: unknown[]) => boolean).apply(this, bindCallback(args));
      } as typeof response.write;
      response.end = function countedEnd(this: ServerResponse, ...args: unknown[]) {
        if (args.length > 0 && typeof args[0] !== 'function') bytes += byteLength(args[0], args[1]);
        try {
          settleRoute();
        } catch {
          // The route is a nicety; ending the response is not.
        }
        return (end as (...a: unknown[]) => ServerResponse).apply(this, bindCallback(args));
      } as typeof response.end;

      // Before the HTTP instrumentation's own 'close' listener ends the server span.
      response.prependListener('close', () => {
        try {
          settleRoute();
          if (!accessLog || skipped(request, base.path)) return;
          const finished = response.writableFinished;
          const status = response.headersSent ? response.statusCode : undefined;
          const seconds = (performance.now() - started) / 1000;
          const extra: Attributes = {
            [ATTR_REQUEST_DURATION]: seconds,
            [ATTR_HTTP_RESPONSE_BODY_SIZE]:
              request.method === 'HEAD' || status === 204 || status === 304 ? 0 : bytes,
          };
          if (status !== undefined) extra[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
          if (route !== undefined) extra[ATTR_HTTP_ROUTE] = route;
          const body = `${request.method ?? 'GET'} ${route ?? base.path ?? '/'} ${
            status ?? '-'
          } ${(seconds * 1000).toFixed(1)} ms${finished ? '' : ' (abandoned by the client)'}`;
          write(levelOf(status ?? 0, finished), ACCESS_EVENT, body, extra, spanContext);
        } catch (error) {
          warn('OTW013', `The access record could not be built: ${describeError(error)}`);
        }
      });

      if (verify === undefined) return proceed();
      verify(request.headers.authorization)
        .catch((error: unknown): IdentityResult => {
          warn('OTW013', `Verifying a bearer token failed: ${describeError(error)}`);
          return { verified: false, reason: IDENTITY_REASONS.KEYS_UNAVAILABLE };
        })
        .then((identity) => {
          try {
            if (identity.verified) {
              const claims = Object.keys(identity.attributes).length > 0;
              setRequestContext(
                claims
                  ? { userId: identity.userId, identity, attributes: identity.attributes }
                  : { userId: identity.userId, identity },
              );
              setSpanAttribute(span, ATTR_USER_ID, identity.userId);
              for (const [key, value] of Object.entries(identity.attributes)) {
                setSpanAttribute(span, key, value);
              }
            } else {
              setRequestContext({ identity });
              if (identity.reason !== IDENTITY_REASONS.TOKEN_MISSING || warnOnMissing) {
                write(
                  'warn',
                  IDENTITY_EVENT,
                  `request without a verified user: ${identity.reason}`,
                  { [ATTR_IDENTITY_FAILURE_REASON]: identity.reason },
                  spanContext,
                );
              }
            }
          } catch (error) {
            warn('OTW013', `The identity could not be recorded: ${describeError(error)}`);
          }
          proceed();
        })
        .catch((error: unknown) => {
          // `proceed` threw: it hands the request on only once, so there is nothing to retry.
          warn('OTW013', `Handing the request on failed: ${describeError(error)}`);
        });
    });
  };
}
