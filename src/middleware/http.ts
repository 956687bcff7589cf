import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContextOptions } from './options.js';
import { createRequestTracker } from './request-tracker.js';

export type { RequestContextOptions } from './options.js';

/**
 * Wraps a plain `node:http` request handler so that every request runs in a
 * request context: the request id (echoed in the response), the user from a
 * verified JWT, and an access record when the response is done. There is no
 * router, so the handler names the route itself if it wants one on its records:
 * `setRequestContext({ route: '/users/:id' })`. Options are checked here: a bad
 * one throws an `OtelWinstonError`.
 *
 * @example
 * import { withRequestContext } from 'otel-winston/http';
 * http.createServer(withRequestContext((req, res) => res.end('ok'), { accessLog: true })).listen(3000);
 */
export function withRequestContext<
  Request extends IncomingMessage = IncomingMessage,
  Response extends ServerResponse = ServerResponse,
>(
  handler: (this: unknown, request: Request, response: Response) => unknown,
  options?: RequestContextOptions,
): (this: unknown, request: Request, response: Response) => void {
  const track = createRequestTracker(options);
  return function handleInRequestContext(this: unknown, request, response) {
    track(request, response, undefined, () => {
      try {
        handler.call(this, request, response);
      } catch (error) {
        // As if the handler had thrown in the 'request' event: an uncaught exception.
        queueMicrotask(() => {
          throw error;
        });
      }
    });
  };
}
