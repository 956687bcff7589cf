/** How one attempt to send a request ended. */
export type AttemptResult =
  /** The collector took the request; `rejected` of its records it refused (partial success). */
  | {
      readonly outcome: 'success';
      readonly rejected: number;
      readonly message: string | undefined;
      readonly status: number | undefined;
    }
  /** Worth trying again: a network error, a timeout, or 429/502/503/504. */
  | {
      readonly outcome: 'retryable';
      readonly errorType: string;
      readonly message: string;
      readonly status: number | undefined;
      readonly retryAfterMillis: number | undefined;
    }
  /** Not worth trying again: the collector refused the request. */
  | {
      readonly outcome: 'failed';
      readonly errorType: string;
      readonly message: string;
      readonly status: number | undefined;
      /** The request was too large for the collector (HTTP 413, gRPC RESOURCE_EXHAUSTED on size). */
      readonly tooLarge: boolean;
    };

/** Sends one encoded request to a collector, once; retrying is the caller's job. */
export interface Sender {
  /** `otel.component.type` of the exporter: `otlp_http_log_exporter`, ... */
  readonly componentType: string;
  /** Where requests go, for messages. */
  readonly url: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  /**
   * Sends `request` (pieces of one `ExportLogsServiceRequest` in protobuf,
   * in order) within `timeoutMillis`; `signal` aborts it. Never rejects.
   */
  send(
    request: readonly Buffer[],
    timeoutMillis: number,
    signal: AbortSignal,
  ): Promise<AttemptResult>;
  /** Closes connections; no request is sent after. */
  shutdown(): void;
}

/** Statuses the OTLP specification lets a client retry. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** An attempt that ended with a network error or a timeout: always worth another try. */
export function networkFailure(error: unknown): AttemptResult {
  const e = error as { code?: unknown; name?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  return {
    outcome: 'retryable',
    errorType: code ?? name,
    message: typeof e?.message === 'string' ? e.message : String(error),
    status: undefined,
    retryAfterMillis: undefined,
  };
}

/** The `server.address` and `server.port` of a URL. */
export function serverOf(url: URL): { address: string; port: number } {
  const defaultPort = url.protocol === 'https:' ? 443 : 80;
  return {
    address: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? defaultPort : Number(url.port),
  };
}
