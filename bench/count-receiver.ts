/**
 * A loopback OTLP/HTTP logs receiver for benchmarks: it counts the log records
 * of each protobuf request by walking the message structure, without decoding
 * values, so that it never becomes the bottleneck it would be in a test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProtobufReader } from '../src/otlp/protobuf-reader.js';

/** Log records in an `ExportLogsServiceRequest`: resource_logs(1) → scope_logs(2) → log_records(2). */
export function countLogRecords(body: Uint8Array): number {
  let count = 0;
  new ProtobufReader(body).fields({
    1: (request) =>
      request.message().fields({
        2: (resourceLogs) =>
          resourceLogs.message().fields({
            2: (scopeLogs) => {
              scopeLogs.skip(2);
              count++;
            },
          }),
      }),
  });
  return count;
}

export interface CountingReceiver {
  readonly url: string;
  readonly count: () => number;
  waitFor(total: number, timeoutMs: number): Promise<void>;
  /**
   * Resolves with the count once it reaches `total`, or has not grown for
   * `quietMs`, or after `timeoutMs`: for runs that may lose records.
   */
  settle(total: number, quietMs: number, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

export async function startCountingReceiver(): Promise<CountingReceiver> {
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        if (req.url === '/v1/logs') count += countLogRecords(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => count,
    async waitFor(total, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (count < total) {
        if (Date.now() > deadline)
          throw new Error(`the receiver got ${count} records, expected ${total}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async settle(total, quietMs, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last = count;
      let lastChange = Date.now();
      while (count < total && Date.now() < deadline && Date.now() - lastChange < quietMs) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        if (count !== last) [last, lastChange] = [count, Date.now()];
      }
      return count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
