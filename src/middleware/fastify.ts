import type { FastifyPluginCallback } from 'fastify';
import type { RequestContextOptions } from './options.js';
import { createRequestTracker } from './request-tracker.js';

export type { RequestContextOptions } from './options.js';

/**
 * Fastify (4 or 5) plugin that gives every request a request context: the
 * request id (echoed in the response), the user from a verified JWT, the
 * matched route; the same attributes on the server span; and an access record
 * when the response is done. It applies to the whole instance it is registered
 * on (it does not create an encapsulated context). A bad option throws an
 * `OtelWinstonError` when the plugin is loaded.
 *
 * @example
 * import { requestContextPlugin } from 'otel-winston/fastify';
 * await app.register(requestContextPlugin, { jwt: { algorithms: ['RS256'], jwksUrl } });
 */
export const requestContextPlugin: FastifyPluginCallback<RequestContextOptions> = Object.assign(
  function otelWinstonRequestContext(
    fastify: Parameters<FastifyPluginCallback<RequestContextOptions>>[0],
    options: RequestContextOptions,
    done: (error?: Error) => void,
  ): void {
    let track: ReturnType<typeof createRequestTracker>;
    try {
      // Fastify passes the options as given (an object with `prefix` and the like is fine).
      track = createRequestTracker(options);
    } catch (error) {
      done(error as Error);
      return;
    }
    fastify.addHook('onRequest', (request, reply, hookDone) => {
      track(
        request.raw,
        reply.raw,
        () => {
          // The full template, prefixes of encapsulated plugins included.
          const url = request.routeOptions?.url;
          return typeof url === 'string' ? [url, true] : undefined;
        },
        () => hookDone(),
      );
    });
    done();
  },
  {
    // What fastify-plugin sets: the hook applies to the parent instance, not an encapsulated child.
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'otel-winston-request-context',
  },
);
