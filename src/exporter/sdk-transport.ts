import { requireHere } from '#require-here';
import { isRetryableStatus } from './attempt.js';
import { backoffMillis, parseRetryAfter, type RetryPolicy } from './backoff.js';
import { sleep, type ExportAborter } from './abort.js';
import { isRetryableGrpc, type GrpcSender } from './grpc-sender.js';
import type { HttpEndpoint } from './http-sender.js';

/** What the upstream exporters' delegate expects from a transport (`IExporterTransport`). */
export type ExportResponse =
  | { status: 'success'; data?: Uint8Array }
  | { status: 'failure'; error: Error }
  | { status: 'retryable'; retryInMillis?: number; error?: Error };

/** As many attempts as the upstream `RetryingTransport` makes. */
const MAX_ATTEMPTS = 6;

/** One attempt to send an encoded request; resolves with its outcome, never rejects. */
export interface ExportAttempt {
  attempt(
    body: readonly Buffer[],
    timeoutMillis: number,
    signal: AbortSignal,
  ): Promise<ExportResponse>;
  close(): void;
}

/**
 * The transport of the SDK's OTLP trace and metric exporters, in place of
 * the upstream `RetryingTransport`: the same retries within the export's
 * timeout, but on unref'd timers, and abortable at the exit deadline.
 */
export class ExitAwareTransport {
  readonly #once: ExportAttempt;
  readonly #policy: RetryPolicy;
  readonly #aborter: ExportAborter;

  constructor(once: ExportAttempt, policy: RetryPolicy, aborter: ExportAborter) {
    this.#once = once;
    this.#policy = policy;
    this.#aborter = aborter;
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const signal = this.#aborter.signal;
    const deadline = Date.now() + timeoutMillis;
    const body = [Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
    let last: ExportResponse = { status: 'retryable' };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) break;
      last = await this.#once.attempt(body, left, signal);
      if (last.status !== 'retryable' || signal.aborted) break;
      const wait = backoffMillis(this.#policy, attempt, last.retryInMillis);
      if (Date.now() + wait >= deadline) break;
      await sleep(wait, signal);
    }
    if (signal.aborted) return { status: 'failure', error: signal.reason as Error };
    return last;
  }

  shutdown(): void {
    this.#once.close();
  }
}

/** Attempts over OTLP/HTTP, answered as the upstream HTTP transport answers. */
export function httpAttempts(endpoint: HttpEndpoint): ExportAttempt {
  return {
    async attempt(body, timeoutMillis, signal) {
      const res = await endpoint.send(body, timeoutMillis, signal);
      if (res instanceof Error) return { status: 'retryable', error: res };
      if (res.status >= 200 && res.status < 300) return { status: 'success', data: res.body };
      if (isRetryableStatus(res.status)) {
        const retryInMillis = parseRetryAfter(res.headers['retry-after']);
        return retryInMillis === undefined
          ? { status: 'retryable' }
          : { status: 'retryable', retryInMillis };
      }
      const { OTLPExporterError } = requireHere('@opentelemetry/otlp-exporter-base') as {
        OTLPExporterError: new (message?: string, code?: number, data?: string) => Error;
      };
      return {
        status: 'failure',
        error: new OTLPExporterError(res.statusMessage, res.status, res.body.toString('utf8')),
      };
    },
    close: () => endpoint.close(),
  };
}

/** Attempts over OTLP/gRPC, with the codes the OTLP specification retries. */
export function grpcAttempts(sender: GrpcSender): ExportAttempt {
  return {
    async attempt(body, timeoutMillis, signal) {
      const result = await sender.call(body, timeoutMillis, signal);
      if (result instanceof Error) {
        return (result as { code?: unknown }).code === 'configuration'
          ? { status: 'failure', error: result }
          : { status: 'retryable', error: result };
      }
      if (result.code === 0) return { status: 'success', data: result.response };
      const error = Object.assign(new Error(`gRPC ${result.name}: ${result.details}`), {
        code: result.code,
      });
      if (!isRetryableGrpc(result)) return { status: 'failure', error };
      return result.retryAfterMillis === undefined
        ? { status: 'retryable', error }
        : { status: 'retryable', error, retryInMillis: result.retryAfterMillis };
    },
    close: () => sender.shutdown(),
  };
}
