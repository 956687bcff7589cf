import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type * as GrpcJs from '@grpc/grpc-js';
import { decodeLogsResponse } from '../otlp/logs-response.js';
import { ProtobufReader } from '../otlp/protobuf-reader.js';
import { requireHere } from '#require-here';
import { VERSION } from '../version.js';
import { networkFailure, serverOf, type AttemptResult, type Sender } from './attempt.js';

/** The `Export` method of each OTLP service. */
export const GRPC_EXPORT_PATHS = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
} as const;

/** gRPC status codes (grpc-js `status`), as numbers: grpc-js is loaded only when used. */
const OK = 0;
const CANCELLED = 1;
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const ABORTED = 10;
const OUT_OF_RANGE = 11;
const UNAVAILABLE = 14;
const DATA_LOSS = 15;

/** Codes the OTLP specification lets a client retry (RESOURCE_EXHAUSTED: only with RetryInfo). */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  CANCELLED,
  DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED,
  ABORTED,
  OUT_OF_RANGE,
  UNAVAILABLE,
  DATA_LOSS,
]);

/**
 * A RESOURCE_EXHAUSTED about the size of the message (grpc-js, grpc-go,
 * grpc-java servers): retrying cannot help, splitting the batch can.
 */
const TOO_LARGE = /larger than|exceeds maximum size|too large/i;

/**
 * After this many attempts in a row end with DEADLINE_EXCEEDED, the client
 * is closed and a new one made, as upstream's gRPC transport does: a
 * channel can stay stuck on a dead connection.
 */
const MAX_DEADLINE_EXCEEDED = 5;

/** Requests and responses are protobuf bytes already: nothing to (de)serialize. */
const passThrough = (bytes: Buffer): Buffer => bytes;

/** grpc-js, loaded on first use so that importing otel-winston does not load it. */
export function loadGrpc(): typeof GrpcJs {
  return requireHere('@grpc/grpc-js') as typeof GrpcJs;
}

/** What an OTLP/gRPC sender needs: the upstream gRPC exporters' merged configuration. */
export interface GrpcSenderConfig {
  /** The target, `host[:port]` or a `unix:` URL (upstream's `validateAndNormalizeUrl`). */
  readonly url: string;
  /** Metadata to send, the environment's and the options' merged. */
  readonly metadata: () => GrpcJs.Metadata;
  /** Insecure, or TLS with the certificates of the environment. */
  readonly credentials: () => GrpcJs.ChannelCredentials;
  readonly compression: 'gzip' | 'none';
}

/** How one gRPC call ended: its status, and the response bytes when OK. */
export interface GrpcCallResult {
  readonly code: number;
  /** The status name (`UNAVAILABLE`), or the number when unknown. */
  readonly name: string;
  readonly details: string;
  readonly response: Buffer | undefined;
  /** A delay the server asked for (`google.rpc.RetryInfo`), in milliseconds. */
  readonly retryAfterMillis: number | undefined;
}

/** Whether the OTLP specification lets a client retry a call that ended so. */
export function isRetryableGrpc(result: GrpcCallResult): boolean {
  return (
    RETRYABLE_CODES.has(result.code) &&
    (result.code !== RESOURCE_EXHAUSTED || result.retryAfterMillis !== undefined)
  );
}

/**
 * Sends OTLP export requests over gRPC, one attempt at a time: the
 * request's protobuf bytes go as they are, through a generic grpc-js client
 * whose serializers pass bytes through. `send()` speaks for logs; `call()`,
 * for any service, serves the SDK's span and metric exporters.
 */
export class GrpcSender implements Sender {
  readonly componentType = 'otlp_grpc_log_exporter';
  readonly url: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly #grpc: typeof GrpcJs;
  readonly #config: GrpcSenderConfig;
  #client: GrpcJs.Client | undefined;
  #metadata: GrpcJs.Metadata | undefined;
  #deadlinesExceeded = 0;
  #closed = false;
  readonly #path: string;

  constructor(config: GrpcSenderConfig, path: string = GRPC_EXPORT_PATHS.logs) {
    this.#grpc = loadGrpc();
    this.#config = config;
    this.#path = path;
    this.url = config.url;
    const server = serverOfTarget(config.url);
    this.serverAddress = server.address;
    this.serverPort = server.port;
  }

  async send(
    request: readonly Buffer[],
    timeoutMillis: number,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    if (this.#closed) {
      return {
        outcome: 'failed',
        errorType: 'shutdown',
        message: 'the gRPC sender is shut down',
        status: undefined,
        tooLarge: false,
      };
    }
    const result = await this.call(request, timeoutMillis, signal);
    if (result instanceof Error) {
      if ((result as { code?: unknown }).code !== 'configuration') return networkFailure(result);
      // Retrying cannot mend the configuration.
      return {
        outcome: 'failed',
        errorType: 'configuration',
        message: result.message,
        status: undefined,
        tooLarge: false,
      };
    }
    if (result.code === OK) {
      const partial = decodeLogsResponse(result.response ?? Buffer.alloc(0), false);
      return {
        outcome: 'success',
        rejected: partial.rejected,
        message: partial.message,
        status: undefined,
      };
    }
    const errorType = result.name;
    const message = `gRPC ${errorType}${result.details === '' ? '' : `: ${result.details}`}`;
    if (result.code === RESOURCE_EXHAUSTED && TOO_LARGE.test(result.details)) {
      return { outcome: 'failed', errorType, message, status: undefined, tooLarge: true };
    }
    if (isRetryableGrpc(result)) {
      return {
        outcome: 'retryable',
        errorType,
        message,
        status: undefined,
        retryAfterMillis: result.retryAfterMillis,
      };
    }
    return { outcome: 'failed', errorType, message, status: undefined, tooLarge: false };
  }

  /**
   * One unary call with `request` within `timeoutMillis`; `signal` cancels
   * it. Resolves with how it ended, or an Error when it could not be made
   * (then a network failure, or a configuration problem); never rejects.
   */
  call(
    request: readonly Buffer[],
    timeoutMillis: number,
    signal: AbortSignal,
  ): Promise<GrpcCallResult | Error> {
    if (signal.aborted) return Promise.resolve(asError(signal.reason));
    if (this.#closed) return Promise.resolve(new Error('the gRPC sender is shut down'));
    let client: GrpcJs.Client;
    let metadata: GrpcJs.Metadata;
    try {
      ({ client, metadata } = this.#connect());
    } catch (error) {
      // Bad credentials or metadata: the environment's certificates, most likely.
      return Promise.resolve(
        Object.assign(
          new Error(`gRPC client for ${this.url} could not be made: ${String(error)}`),
          {
            code: 'configuration',
          },
        ),
      );
    }
    const body = request.length === 1 ? request[0]! : Buffer.concat(request);
    // The exporter's own call is not traced, as the SDK's processors arrange.
    return context.with(
      suppressTracing(context.active()),
      () =>
        new Promise<GrpcCallResult | Error>((resolve) => {
          let done = false;
          let call: GrpcJs.ClientUnaryCall | undefined;
          const onAbort = (): void => {
            finish(asError(signal.reason));
            call?.cancel();
          };
          const finish = (result: GrpcCallResult | Error): void => {
            if (done) return;
            done = true;
            signal.removeEventListener('abort', onAbort);
            resolve(result);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          try {
            call = client.makeUnaryRequest<Buffer, Buffer>(
              this.#path,
              passThrough,
              passThrough,
              body,
              metadata,
              { deadline: Date.now() + timeoutMillis },
              (error, response) => {
                const code = error?.code ?? OK;
                this.#countDeadline(client, code);
                finish({
                  code,
                  name: this.#grpc.status[code] ?? String(code),
                  details: error?.details ?? '',
                  response: code === OK ? response : undefined,
                  retryAfterMillis: retryDelayMillis(error?.metadata),
                });
              },
            );
          } catch (error) {
            // grpc-js throws for a channel that is shut down.
            finish(asError(error));
          }
        }),
    );
  }

  shutdown(): void {
    this.#closed = true;
    this.#client?.close();
    this.#client = undefined;
  }

  /** The client, made on first use (and again after it was closed for being stuck). */
  #connect(): { client: GrpcJs.Client; metadata: GrpcJs.Metadata } {
    this.#metadata ??= this.#config.metadata();
    this.#client ??= new this.#grpc.Client(this.#config.url, this.#config.credentials(), {
      'grpc.default_compression_algorithm':
        this.#config.compression === 'gzip'
          ? this.#grpc.compressionAlgorithms.gzip
          : this.#grpc.compressionAlgorithms.identity,
      'grpc.primary_user_agent': `otel-winston/${VERSION}`,
    });
    return { client: this.#client, metadata: this.#metadata };
  }

  #countDeadline(client: GrpcJs.Client, code: number): void {
    if (code !== DEADLINE_EXCEEDED) {
      this.#deadlinesExceeded = 0;
      return;
    }
    if (++this.#deadlinesExceeded <= MAX_DEADLINE_EXCEEDED || this.#client !== client) return;
    client.close();
    this.#client = undefined;
    this.#deadlinesExceeded = 0;
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** `server.address` and `server.port` of a gRPC target; grpc-js dials 443 when no port is given. */
function serverOfTarget(target: string): { address: string; port: number } {
  if (target.startsWith('unix:')) {
    return { address: target.replace(/^unix:(\/\/)?/, ''), port: 0 };
  }
  try {
    return serverOf(new URL(`https://${target}`));
  } catch {
    return { address: target, port: 0 };
  }
}

/**
 * The delay of a `google.rpc.RetryInfo` among the details of the status
 * (`grpc-status-details-bin`, a `google.rpc.Status`), in milliseconds;
 * `undefined` when there is none or it cannot be read.
 */
function retryDelayMillis(metadata: GrpcJs.Metadata | undefined): number | undefined {
  const raw = metadata?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Uint8Array)) return undefined;
  let delay: number | undefined;
  try {
    // Status.details(3) → Any.type_url(1), Any.value(2).
    new ProtobufReader(raw).fields({
      3: (status) => {
        let type = '';
        let value: Uint8Array | undefined;
        status.message().fields({
          1: (any) => (type = any.string()),
          2: (any) => (value = any.bytes()),
        });
        if (type.endsWith('/google.rpc.RetryInfo') && value !== undefined) {
          delay = readRetryInfo(value);
        }
      },
    });
  } catch {
    return undefined;
  }
  return delay !== undefined && Number.isFinite(delay) && delay >= 0 ? delay : undefined;
}

/** RetryInfo.retry_delay(1) → Duration.seconds(1), Duration.nanos(2), in milliseconds. */
function readRetryInfo(bytes: Uint8Array): number | undefined {
  let millis: number | undefined;
  new ProtobufReader(bytes).fields({
    1: (info) => {
      let seconds = 0n;
      let nanos = 0n;
      info.message().fields({
        1: (d) => (seconds = d.int64()),
        2: (d) => (nanos = d.int64()),
      });
      millis = Number(seconds) * 1000 + Math.floor(Number(nanos) / 1e6);
    },
  });
  return millis;
}
