import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Defaults } from '../defaults.js';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeLogsJson, decodeLogsProtobuf, type DecodedLogRecord } from './decode-logs.js';
import { decodeTracesJson, decodeTracesProtobuf, type DecodedSpan } from './decode-traces.js';

/** Options of {@link startOtlpReceiver}. */
export interface OtlpReceiverOptions {
  /**
   * Port to listen on; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * Address to listen on. Loopback only, by design.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Largest request body accepted, in bytes; larger ones get 413.
   * @default 67108864
   */
  maxBodyBytes?: number;
  /**
   * Called with what each request brought, as it arrives.
   * @default none
   */
  onReceive?: (batch: { logs: readonly DecodedLogRecord[]; spans: readonly DecodedSpan[] }) => void;
}

/** The fixed default of each {@link OtlpReceiverOptions} option that has one. */
export const OTLP_RECEIVER_DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  maxBodyBytes: 64 * 1024 * 1024,
} as const satisfies Defaults<OtlpReceiverOptions>;

/** A request the receiver took, for assertions on the transport itself. */
export interface ReceivedRequest {
  readonly path: string;
  readonly contentType: string;
  readonly contentEncoding: string;
  readonly bytes: number;
}

/** A running loopback OTLP/HTTP receiver. */
export interface OtlpReceiver {
  /** Base URL, such as `http://127.0.0.1:43187`; logs go to `${url}/v1/logs`. */
  readonly url: string;
  /** Every log record received so far, decoded from the wire, in arrival order. */
  readonly logs: readonly DecodedLogRecord[];
  /** Every span received so far, decoded from the wire, in arrival order. */
  readonly spans: readonly DecodedSpan[];
  /** Every request received so far (logs, traces and metrics). */
  readonly requests: readonly ReceivedRequest[];
  /**
   * Answer the next requests with this HTTP status instead of 200 (to test
   * retries); `undefined` goes back to 200.
   */
  failWith(status: number | undefined): void;
  /** Resolves when at least `count` log records have arrived; rejects after `timeoutMs`. */
  waitForLogs(count: number, timeoutMs?: number): Promise<readonly DecodedLogRecord[]>;
  /** Forgets what was received. */
  reset(): void;
  close(): Promise<void>;
}

/** The body, or `undefined` when it is larger than `max` (then read to its end and dropped). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Starts an OTLP/HTTP receiver on loopback that decodes log and trace
 * requests (protobuf or JSON, plain or gzip) so a test can assert on what
 * really went over the wire. Metric requests are accepted and counted.
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
 * // … run the code under test, flush …
 * const [record] = await receiver.waitForLogs(1);
 * await receiver.close();
 */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const logs: DecodedLogRecord[] = [];
  const spans: DecodedSpan[] = [];
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  const maxBodyBytes = options.maxBodyBytes ?? OTLP_RECEIVER_DEFAULTS.maxBodyBytes;
  let failStatus: number | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const contentType = String(req.headers['content-type'] ?? '');
    const contentEncoding = String(req.headers['content-encoding'] ?? '');
    const raw = await readBody(req, maxBodyBytes);
    if (raw === undefined) {
      res.writeHead(413).end();
      return;
    }
    requests.push({ path, contentType, contentEncoding, bytes: raw.length });
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    if (failStatus !== undefined) {
      res.writeHead(failStatus).end();
      return;
    }
    const json = contentType.includes('json');
    if (path === '/v1/logs' || path === '/v1/traces') {
      try {
        const body = contentEncoding === 'gzip' ? gunzipSync(raw) : raw;
        if (path === '/v1/logs') {
          const batch = json ? decodeLogsJson(body.toString('utf8')) : decodeLogsProtobuf(body);
          logs.push(...batch);
          options.onReceive?.({ logs: batch, spans: [] });
        } else {
          const batch = json ? decodeTracesJson(body.toString('utf8')) : decodeTracesProtobuf(body);
          spans.push(...batch);
          options.onReceive?.({ logs: [], spans: batch });
        }
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      for (const wake of waiters) wake();
    }
    if (json) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(
      options.port ?? OTLP_RECEIVER_DEFAULTS.port,
      options.host ?? OTLP_RECEIVER_DEFAULTS.host,
      () => resolve(),
    );
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    logs,
    spans,
    requests,
    failWith(status) {
      failStatus = status;
    },
    waitForLogs(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (logs.length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(logs);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`Expected ${count} log records within ${timeoutMs} ms, got ${logs.length}`),
          );
        }, timeoutMs);
        timer.unref();
        waiters.add(check);
        check();
      });
    },
    reset() {
      logs.length = 0;
      spans.length = 0;
      requests.length = 0;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
