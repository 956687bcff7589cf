import {
  context,
  logs,
  SeverityNumber,
  trace,
  type AttributeValue,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ATTR_HTTP_ROUTE,
  ATTR_REQUEST_ID,
  ATTR_USER_ID,
  requestContextAttributes,
} from '../context/request-attributes.js';
import {
  bindEmitterToRequestScope,
  getRequestContext,
  runWithRequestContext,
  setRequestContext,
  type RequestContext,
} from '../context/request-context.js';
import { requestContextOf, requestIdOf } from '../telemetry/http-request-context.js';
import { VERSION } from '../version.js';
import { describeError, warn } from '../warnings.js';
import {
  createIdentityVerifier,
  IDENTITY_REASONS,
  type IdentityReason,
  type IdentityResult,
} from './identity.js';
import { validateRequestContextOptions, type RecordLogger } from './options.js';

/** The reason code on the WARN record of a request whose token did not verify. */
export const ATTR_IDENTITY_FAILURE_REASON = 'identity.failure.reason';
/** Semantic convention: the response status code. */
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
/** Semantic convention: the size of the response body, in bytes. */
export const ATTR_HTTP_RESPONSE_BODY_SIZE = 'http.response.body.size';
/** How long the request took, in seconds (the unit of the `http.server.request.duration` metric). */
export const ATTR_HTTP_SERVER_REQUEST_DURATION = 'http.server.request.duration';

/** The event name of an access record. */
export const ACCESS_EVENT = 'otel_winston.http.access';
/** The event name of the WARN record of a request whose token did not verify. */
export const IDENTITY_EVENT = 'otel_winston.identity.unverified';

/** Continues the request; called once, with an error only when the middleware itself failed. */
type Proceed = () => void;
type Fail = (error: unknown) => void;

/**
 * What the middleware of each framework calls for every request: `routeOf`
 * gives the matched route template when the framework knows it, `proceed`
 * hands the request on, `fail` reports an error that `proceed` threw.
 */
export type RequestTracker = (
  request: IncomingMessage,
  response: ServerResponse,
  routeOf: (() => unknown) | undefined,
  proceed: Proceed,
  fail: Fail,
) => void;

// The text is the level name, as on the records of a winston logger with npm levels.
const LEVELS = {
  error: [SeverityNumber.ERROR, 'error'],
  warn: [SeverityNumber.WARN, 'warn'],
  info: [SeverityNumber.INFO, 'info'],
} as const;
type Level = keyof typeof LEVELS;

/** Writes the middleware's own records, linked to the request's server span. */
function recordWriter(logger: RecordLogger | undefined) {
  return (
    level: Level,
    eventName: string,
    body: string,
    extra: Attributes,
    spanContext: Context,
    scope: RequestContext | undefined,
  ): void => {
    try {
      if (logger !== undefined) {
        // The app's logger (with its OtelTransport) captures trace and request context itself.
        context.with(spanContext, () => logger.log(level, body, { ...extra }));
        return;
      }
      const [severityNumber, severityText] = LEVELS[level];
      logs.getLogger('otel-winston', VERSION).emit({
        severityNumber,
        severityText,
        body,
        eventName,
        attributes: { ...(scope !== undefined ? requestContextAttributes(scope) : {}), ...extra },
        context: spanContext,
      });
    } catch (error) {
      warn(
        'OTW007',
        `The middleware's ${eventName} record could not be written: ${describeError(error)}`,
      );
    }
  };
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(
      chunk,
      typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
    );
  }
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

function levelOf(status: number, finished: boolean): Level {
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
  const header = (o.requestIdHeader ?? 'x-request-id').toLowerCase();
  const echo = o.echoRequestId ?? true;
  const accessLog = o.accessLog ?? true;
  const warnOnMissing = o.warnOnMissingToken ?? true;
  const write = recordWriter(o.logger);

  return (request, response, routeOf, proceed, fail) => {
    const started = performance.now();
    let base: RequestContext;
    let requestId: string;
    try {
      requestId = requestIdOf(request, header);
      base = { ...getRequestContext(), ...requestContextOf(request), requestId };
      if (verify !== undefined) base = { ...base, userId: undefined, identity: undefined };
      if (echo && !response.headersSent) response.setHeader(header, requestId);
    } catch (error) {
      warn('OTW013', `A request could not be given its context: ${describeError(error)}`);
      proceed();
      return;
    }
    const active = context.active();
    const rpc = getRPCMetadata(active);
    const span = rpc?.type === RPCType.HTTP ? rpc.span : trace.getSpan(active);
    const spanContext = span !== undefined ? trace.setSpan(active, span) : active;
    setSpanAttribute(span, ATTR_REQUEST_ID, requestId);

    const go = (): void => {
      try {
        proceed();
      } catch (error) {
        fail(error);
      }
    };

    runWithRequestContext(base, () => {
      // The body and the response's events come from the socket: keep them in this request.
      bindEmitterToRequestScope(request);
      bindEmitterToRequestScope(response);
      let bytes = 0;
      let route: string | undefined;
      const settleRoute = (): void => {
        if (route !== undefined) return;
        try {
          const known = routeOf?.();
          route = typeof known === 'string' && known !== '' ? known : getRequestContext()?.route;
        } catch {
          route = getRequestContext()?.route;
        }
        if (route === undefined) return;
        setSpanAttribute(span, ATTR_HTTP_ROUTE, route);
        if (rpc?.type === RPCType.HTTP && rpc.route === undefined) rpc.route = route;
      };
      const { write: writeChunk, end } = response;
      response.write = function countedWrite(
        this: ServerResponse,
        chunk: unknown,
        ...rest: unknown[]
      ) {
        bytes += byteLength(chunk, rest[0]);
        return (writeChunk as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof response.write;
      response.end = function countedEnd(this: ServerResponse, ...args: unknown[]) {
        if (args.length > 0 && typeof args[0] !== 'function') bytes += byteLength(args[0], args[1]);
        settleRoute();
        return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as typeof response.end;

      if (accessLog) {
        // Before the HTTP instrumentation's own 'close' listener ends the server span.
        response.prependListener('close', () => {
          settleRoute();
          const finished = response.writableFinished;
          const status = response.headersSent ? response.statusCode : undefined;
          const seconds = (performance.now() - started) / 1000;
          const scope = getRequestContext();
          const extra: Attributes = {
            [ATTR_HTTP_SERVER_REQUEST_DURATION]: seconds,
            [ATTR_HTTP_RESPONSE_BODY_SIZE]:
              request.method === 'HEAD' || status === 204 || status === 304 ? 0 : bytes,
          };
          if (status !== undefined) extra[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
          if (route !== undefined) extra[ATTR_HTTP_ROUTE] = route;
          const body = `${request.method ?? 'GET'} ${route ?? base.path ?? '/'} ${
            status ?? '-'
          } ${(seconds * 1000).toFixed(1)} ms${finished ? '' : ' (abandoned by the client)'}`;
          write(levelOf(status ?? 0, finished), ACCESS_EVENT, body, extra, spanContext, scope);
        });
      } else {
        response.prependListener('close', settleRoute);
      }

      if (verify === undefined) {
        go();
        return;
      }
      const authorization = request.headers.authorization;
      verify(typeof authorization === 'string' ? authorization : undefined)
        .catch((error: unknown): IdentityResult => {
          warn('OTW013', `Verifying a bearer token failed: ${describeError(error)}`);
          return { verified: false, reason: IDENTITY_REASONS.KEYS_UNAVAILABLE };
        })
        .then((identity) => {
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
              unverified(identity.reason);
            }
          }
          go();
        })
        .catch(fail);

      function unverified(reason: IdentityReason): void {
        write(
          'warn',
          IDENTITY_EVENT,
          `request without a verified user: ${reason}`,
          { [ATTR_IDENTITY_FAILURE_REASON]: reason },
          spanContext,
          getRequestContext(),
        );
      }
    });
  };
}
