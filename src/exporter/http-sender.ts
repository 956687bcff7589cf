import type { Agent } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { decodeLogsResponse } from '../otlp/logs-response.js';
import { VERSION } from '../version.js';
import {
  isRetryableStatus,
  networkFailure,
  serverOf,
  type AttemptResult,
  type Sender,
} from './attempt.js';
import { parseRetryAfter } from './backoff.js';
import { post } from './http-post.js';

const gzipAsync = promisify(gzip);

/** What an OTLP/HTTP sender needs: the upstream exporters' merged configuration. */
export interface HttpSenderConfig {
  readonly url: string;
  /** Headers to send, the environment's and the options' merged (upstream's `headers()`). */
  readonly headers: () => Promise<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  /** Makes the agent for the URL's protocol, with the TLS settings of the environment. */
  readonly agentFactory: (protocol: string) => Promise<Agent>;
}

/**
 * An OTLP/HTTP endpoint: its agent, headers and compression, ready to POST
 * a request body. Shared by the log sender and the SDK's trace and metric
 * exporters (`sdk-transport.ts`).
 */
export class HttpEndpoint {
  readonly target: URL;
  readonly #config: HttpSenderConfig;
  #agent: Promise<Agent> | undefined;
  /** The compressed body of each request, made once for all its attempts. */
  readonly #compressed = new WeakMap<readonly Buffer[], Promise<Buffer>>();

  constructor(config: HttpSenderConfig) {
    this.#config = config;
    this.target = new URL(config.url);
  }

  /**
   * One POST of `body`; resolves with the response or the error, never
   * rejects. Pass the same `body` array to every attempt of one request: it
   * is compressed once.
   */
  async send(
    body: readonly Buffer[],
    timeoutMillis: number,
    signal: AbortSignal,
  ): Promise<Awaited<ReturnType<typeof post>>> {
    let agent: Agent;
    const headers: Record<string, string> = {};
    let pieces = body;
    try {
      agent = await (this.#agent ??= this.#config.agentFactory(this.target.protocol));
      Object.assign(headers, await this.#config.headers());
      if (this.#config.compression === 'gzip') {
        let compressed = this.#compressed.get(body);
        if (compressed === undefined) {
          compressed = gzipAsync(Buffer.concat(body));
          this.#compressed.set(body, compressed);
        }
        pieces = [await compressed];
        headers['Content-Encoding'] = 'gzip';
      }
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    let length = 0;
    for (const piece of pieces) length += piece.length;
    headers['Content-Length'] = String(length);
    headers['User-Agent'] = `otel-winston/${VERSION}`;
    return post(this.target, pieces, headers, agent, timeoutMillis, signal);
  }

  /** Closes the agent's connections. */
  close(): void {
    void this.#agent?.then(
      (agent) => agent.destroy(),
      () => undefined,
    );
  }
}

/** Sends `ExportLogsServiceRequest`s over OTLP/HTTP, one attempt at a time. */
export class HttpSender implements Sender {
  readonly componentType: string;
  readonly url: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly #endpoint: HttpEndpoint;
  readonly #toJson: ((request: readonly Buffer[]) => Buffer) | undefined;
  /** The OTLP/JSON body of each request, made once for all its attempts. */
  readonly #json = new WeakMap<readonly Buffer[], readonly Buffer[]>();

  /** @param toJson - for OTLP/JSON: transcodes the protobuf request just before it is sent */
  constructor(config: HttpSenderConfig, toJson?: (request: readonly Buffer[]) => Buffer) {
    this.#endpoint = new HttpEndpoint(config);
    this.#toJson = toJson;
    this.url = this.#endpoint.target.href;
    const server = serverOf(this.#endpoint.target);
    this.serverAddress = server.address;
    this.serverPort = server.port;
    this.componentType = toJson ? 'otlp_http_json_log_exporter' : 'otlp_http_log_exporter';
  }

  async send(
    request: readonly Buffer[],
    timeoutMillis: number,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    let body = request;
    try {
      if (this.#toJson !== undefined) {
        body = this.#json.get(request) ?? [this.#toJson(request)];
        this.#json.set(request, body);
      }
    } catch (error) {
      return {
        outcome: 'failed',
        errorType: 'encoding',
        message: String(error),
        status: undefined,
        tooLarge: false,
      };
    }
    const res = await this.#endpoint.send(body, timeoutMillis, signal);
    if (res instanceof Error) return networkFailure(res);
    const status = res.status;
    const describe = (): string =>
      `HTTP ${status} ${res.statusMessage} ${res.body.toString('utf8', 0, 300)}`.trim();
    if (status >= 200 && status < 300) {
      const partial = decodeLogsResponse(res.body, this.#toJson !== undefined);
      return { outcome: 'success', rejected: partial.rejected, message: partial.message, status };
    }
    if (isRetryableStatus(status)) {
      return {
        outcome: 'retryable',
        errorType: String(status),
        message: describe(),
        status,
        retryAfterMillis: parseRetryAfter(res.headers['retry-after']),
      };
    }
    return {
      outcome: 'failed',
      errorType: String(status),
      message: describe(),
      status,
      tooLarge: status === 413,
    };
  }

  shutdown(): void {
    this.#endpoint.close();
  }
}
