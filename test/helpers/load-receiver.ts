import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ProtobufReader } from '../../src/otlp/protobuf-reader.js';
import { waitUntil } from './wait.js';

/**
 * An OTLP/HTTP logs receiver on 127.0.0.1 for load and fault tests: it
 * reads the integer attribute `seq` of every record without decoding the
 * rest (so that 200,000 records take seconds, not minutes), and it can be
 * taken down, brought back on the same port, slowed down, or made to answer
 * with a status.
 */
export interface LoadReceiver {
  readonly url: string;
  /** Log records received, duplicates included (only `/v1/logs` is read). */
  readonly count: number;
  /** How many times each `seq` arrived. */
  readonly seen: ReadonlyMap<number, number>;
  /** Requests received, and the most that were open at once. */
  readonly requests: number;
  readonly maxConcurrent: number;
  /** Requests received and not answered yet (their records are counted when answered). */
  readonly pending: number;
  /** Times (ms since the epoch) requests arrived. */
  readonly arrivals: readonly number[];
  /** The headers of the last request. */
  readonly lastHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** Stops listening and drops open connections: the collector is down. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Answers each request only after `millis`. */
  delay(millis: number): void;
  /** Answers with `status` (and `headers`) instead of 200, without taking the records. */
  failWith(status: number | undefined, headers?: Record<string, string>): void;
  waitForCount(count: number, timeoutMillis?: number): Promise<void>;
  close(): Promise<void>;
}

/** The `seq` attribute (an int) of each record in an `ExportLogsServiceRequest`. */
export function sequencesOf(body: Uint8Array): number[] {
  const out: number[] = [];
  new ProtobufReader(body).fields({
    1: (rl) =>
      rl.message().fields({
        2: (sl) =>
          sl.message().fields({
            2: (lr) => {
              let seq = -1;
              lr.message().fields({
                6: (kv) => {
                  const m = kv.message();
                  let key = '';
                  m.fields({
                    1: (k) => (key = k.string()),
                    2: (v) => {
                      const value = v.message();
                      if (key !== 'seq') return;
                      value.fields({ 3: (i) => (seq = Number(i.int64())) });
                    },
                  });
                },
              });
              out.push(seq);
            },
          }),
      }),
  });
  return out;
}

export async function startLoadReceiver(): Promise<LoadReceiver> {
  let count = 0;
  let requests = 0;
  let open = 0;
  let maxConcurrent = 0;
  let delayMillis = 0;
  let failure: { status: number; headers: Record<string, string> } | undefined;
  const seen = new Map<number, number>();
  const arrivals: number[] = [];
  let lastHeaders: Record<string, string | string[] | undefined> = {};
  const sockets = new Set<Socket>();
  const delays = new Set<NodeJS.Timeout>();
  let port = 0;

  const answer = (res: ServerResponse, status: number, headers: Record<string, string> = {}) => {
    open--;
    if (!res.destroyed) res.writeHead(status, headers).end();
  };
  const makeServer = (): Server => {
    const server = createServer((req, res) => {
      requests++;
      open++;
      maxConcurrent = Math.max(maxConcurrent, open);
      arrivals.push(Date.now());
      lastHeaders = req.headers;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const respond = (): void => {
          if (failure !== undefined) return answer(res, failure.status, failure.headers);
          // Spans and metrics are taken and not looked at.
          if (req.url !== '/v1/logs') return answer(res, 200);
          try {
            let body = Buffer.concat(chunks);
            if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
            for (const seq of sequencesOf(body)) {
              count++;
              seen.set(seq, (seen.get(seq) ?? 0) + 1);
            }
            answer(res, 200, { 'content-type': 'application/x-protobuf' });
          } catch {
            answer(res, 400);
          }
        };
        if (delayMillis > 0) {
          // Cleared when the receiver goes down: a long delay must not hold the process.
          const timer = setTimeout(() => {
            delays.delete(timer);
            respond();
          }, delayMillis);
          delays.add(timer);
        } else {
          respond();
        }
      });
    });
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return server;
  };
  let server: Server | undefined = makeServer();
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  const down = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (s === undefined) return;
    for (const timer of delays) clearTimeout(timer);
    delays.clear();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return count;
    },
    seen,
    get requests() {
      return requests;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    get pending() {
      return open;
    },
    arrivals,
    get lastHeaders() {
      return lastHeaders;
    },
    down,
    async up() {
      if (server !== undefined) return;
      server = makeServer();
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, '127.0.0.1', resolve);
      });
    },
    delay(millis) {
      delayMillis = millis;
    },
    failWith(status, headers = {}) {
      failure = status === undefined ? undefined : { status, headers };
    },
    async waitForCount(n, timeoutMillis = 30_000) {
      await waitUntil(
        () => `${n} records (got ${count})`,
        () => count >= n,
        timeoutMillis,
      );
    },
    close: down,
  };
}
