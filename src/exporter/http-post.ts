import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { Agent, IncomingHttpHeaders } from 'node:http';
import http from 'node:http';
import https from 'node:https';

/** The most of a response body that is read; OTLP responses are small. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** A response to a POST. */
export interface PostResponse {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * One POST of `body` (pieces, sent in order) to `target`: resolves with the
 * response, or with the error (a network error, `code: 'timeout'` after
 * `timeoutMillis`, or `signal`'s reason when it aborts, which also destroys
 * the request). Never rejects. The request is not traced: it is the
 * exporter's own, as the SDK's processors arrange with `suppressTracing`.
 */
export function post(
  target: URL,
  body: readonly Buffer[],
  headers: Record<string, string>,
  agent: Agent,
  timeoutMillis: number,
  signal: AbortSignal,
): Promise<PostResponse | Error> {
  if (signal.aborted) return Promise.resolve(asError(signal.reason));
  const request = target.protocol === 'https:' ? https.request : http.request;
  return context.with(
    suppressTracing(context.active()),
    () =>
      new Promise<PostResponse | Error>((resolve) => {
        let done = false;
        const finish = (result: PostResponse | Error): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        };
        const req = request(target, { method: 'POST', headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
          });
          res.on('error', (error) => finish(error));
          res.on('end', () =>
            finish({
              status: res.statusCode ?? 0,
              statusMessage: res.statusMessage ?? '',
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
        });
        const timer = setTimeout(() => {
          const error = Object.assign(new Error(`no answer within ${timeoutMillis} ms`), {
            code: 'timeout',
          });
          finish(error);
          req.destroy(error);
        }, timeoutMillis);
        timer.unref();
        const onAbort = (): void => {
          finish(asError(signal.reason));
          req.destroy();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('error', (error) => finish(error));
        for (const piece of body) req.write(piece);
        req.end();
      }),
  );
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
