import type { IncomingMessage } from 'node:http';
import type { Defaults } from '../defaults.js';
import { invalidOption } from '../errors.js';
import type { JwtVerificationOptions } from './identity.js';

/** A logger the middleware can write its records to: a winston logger, or anything with `log()`. */
export interface RecordLogger {
  log(level: string, message: string, meta: Record<string, unknown>): unknown;
}

/**
 * Options of the request-context middleware: the same for Express
 * (`otel-winston/express`), Fastify (`otel-winston/fastify`) and plain
 * `node:http` (`otel-winston/http`).
 */
export interface RequestContextOptions {
  /**
   * Verify the `Authorization: Bearer` JWT of every request and put the user on
   * its records and its server span. A token that fails sets no user and gives
   * one WARN record with the reason; the request goes on either way.
   * @default none: no identity
   * @example { algorithms: ['RS256'], jwksUrl: 'https://id.example/.well-known/jwks.json', audience: 'shop' }
   */
  jwt?: JwtVerificationOptions;
  /**
   * Give a WARN record to a request that has no bearer token at all (no
   * `Authorization` header, or another scheme such as `Basic`). Off by default:
   * anonymous requests (health probes, `/login`) are normal; a token that is
   * present and does not verify always gets its WARN.
   * @default false
   */
  warnOnMissingToken?: boolean;
  /**
   * The header that carries the request id, in the request and in the response.
   * An incoming id is kept when it is at most 128 characters of
   * `[A-Za-z0-9._:-]`; otherwise a new UUID is used.
   * @default 'x-request-id'
   */
  requestIdHeader?: string;
  /**
   * Send the request id back in the response, in `requestIdHeader`.
   * @default true
   */
  echoRequestId?: boolean;
  /**
   * One access record per finished request: method, route, status, duration
   * and response size, at ERROR for a 5xx status, WARN for a 4xx (or a request
   * the client abandoned), INFO otherwise.
   * @default true
   */
  accessLog?: boolean;
  /**
   * Requests that get no access record: paths (`'/healthz'` exactly, `'/internal/*'`
   * as a prefix; the query string is not part of the path), or a predicate of the
   * request. Everything else is kept for them: the request context on the records
   * their handlers write, the identity, the WARN for a bad token. A predicate that
   * throws skips nothing.
   * @default none: every request gets one
   * @example { skip: ['/healthz', '/metrics'] }
   */
  skip?: readonly string[] | ((request: IncomingMessage) => boolean);
  /**
   * Where the access and identity records go. A winston logger puts them in the
   * app's own output too (and, with an `OtelTransport` on it, in OpenTelemetry);
   * levels used: `error`, `warn`, `info`.
   * @default the OpenTelemetry logs API (the global LoggerProvider), scope `otel-winston`
   * @example { logger: winston.createLogger({ transports: [new winston.transports.Console()] }) }
   */
  logger?: RecordLogger;
}

/** A header name as RFC 9110 allows it. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function checkBoolean(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw invalidOption(name, 'a boolean', value);
  }
}

/** Checks options passed in code, up front: a bad one throws an `OtelWinstonError`. */
export function validateRequestContextOptions(options: unknown): RequestContextOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption('options', 'an object', options);
  }
  const o = options as RequestContextOptions;
  if (
    o.requestIdHeader !== undefined &&
    !(typeof o.requestIdHeader === 'string' && TOKEN.test(o.requestIdHeader))
  ) {
    throw invalidOption('requestIdHeader', 'an HTTP header name', o.requestIdHeader);
  }
  checkBoolean('warnOnMissingToken', o.warnOnMissingToken);
  checkBoolean('echoRequestId', o.echoRequestId);
  checkBoolean('accessLog', o.accessLog);
  if (
    o.skip !== undefined &&
    typeof o.skip !== 'function' &&
    !(
      Array.isArray(o.skip) &&
      o.skip.every((path: unknown) => typeof path === 'string' && path.startsWith('/'))
    )
  ) {
    throw invalidOption('skip', 'a list of paths that start with / or a function', o.skip);
  }
  if (
    o.logger !== undefined &&
    (typeof o.logger !== 'object' ||
      o.logger === null ||
      typeof (o.logger as { log?: unknown }).log !== 'function')
  ) {
    throw invalidOption('logger', 'a logger with a log(level, message, meta) method', o.logger);
  }
  return o;
}

/** The fixed default of each {@link RequestContextOptions} option that has one. */
export const REQUEST_CONTEXT_DEFAULTS = {
  warnOnMissingToken: false,
  requestIdHeader: 'x-request-id',
  echoRequestId: true,
  accessLog: true,
} as const satisfies Defaults<RequestContextOptions>;

/**
 * Whether a request gets no access record, by `skip`: a path list (exact, or a
 * prefix for an entry that ends in `/*`) or a predicate (that throws: no).
 */
export function accessRecordSkipper(
  skip: RequestContextOptions['skip'],
): (request: IncomingMessage, path: string | undefined) => boolean {
  if (skip === undefined) return () => false;
  if (typeof skip === 'function') {
    return (request) => {
      try {
        return skip(request) === true;
      } catch {
        return false;
      }
    };
  }
  const exact = new Set(skip.filter((p) => !p.endsWith('/*')));
  const prefixes = skip.filter((p) => p.endsWith('/*')).map((p) => p.slice(0, -1));
  return (_request, path) =>
    path !== undefined &&
    (exact.has(path) ||
      prefixes.some((prefix) => path.startsWith(prefix) || `${path}/` === prefix));
}
