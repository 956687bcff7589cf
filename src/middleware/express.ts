import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContextOptions } from './options.js';
import { createRequestTracker, type MatchedRoute } from './request-tracker.js';

export type { RequestContextOptions } from './options.js';

/** The parts of an Express request the middleware reads. */
interface RoutedRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
}

/** An Express (4 or 5) middleware function. */
export type RequestContextMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * The route Express matched: the mount path of the router (`req.baseUrl`) and
 * the route's own template. A mount path with parameters shows its matched
 * text, so the route is a pure template only when there is no mount path.
 */
function routeOf(request: RoutedRequest): MatchedRoute | undefined {
  const path = request.route?.path;
  if (typeof path !== 'string') return undefined;
  const mount = request.baseUrl ?? '';
  return [`${mount}${path}`, mount === ''];
}

/**
 * Calls `matched` when Express's router sets `req.route`, which it does when a
 * route matches, before the route's handlers run.
 */
function watchRoute(request: RoutedRequest, matched: () => void): void {
  let current = request.route;
  Object.defineProperty(request, 'route', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set(value: RoutedRequest['route']) {
      current = value;
      matched();
    },
  });
}

/**
 * Express middleware that gives every request a request context: the request
 * id (echoed in the response), the user from a verified JWT, the matched route;
 * the same attributes on the server span; and an access record when the
 * response is done. Use it first, before body parsers and routes. Options are
 * checked here: a bad one throws an `OtelWinstonError`.
 *
 * @example
 * import { requestContextMiddleware } from 'otel-winston/express';
 * app.use(requestContextMiddleware({ jwt: { algorithms: ['HS256'], secret: process.env.JWT_SECRET } }));
 */
export function requestContextMiddleware(
  options?: RequestContextOptions,
): RequestContextMiddleware {
  const track = createRequestTracker(options);
  return function otelWinstonRequestContext(request, response, next) {
    track(
      request,
      response,
      () => routeOf(request),
      () => next(),
      (matched) => watchRoute(request, matched),
    );
  };
}
