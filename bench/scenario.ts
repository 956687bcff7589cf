/**
 * One benchmark scenario in its own process: sets up a winston logger with one
 * transport, logs WARMUP + N records inside an active span and a request
 * context, flushes, and prints one JSON line of measurements.
 *
 * Usage: node --import tsx bench/scenario.ts <ours|ours-no-request|official|file> <workload> <N> <otlp-url> [warmup]
 */
import { context } from '@opentelemetry/api';
import { logs as apiLogs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { OtelTransport, runWithRequestContext } from 'otel-winston';
import winston from 'winston';
import type TransportStream from 'winston-transport';

const [scenario = 'ours', workload = 'structured', countArg = '100000', url = '', warmupArg] =
  process.argv.slice(2);
const N = Number(countArg);
const WARMUP = warmupArg === undefined ? Math.min(20_000, N) : Number(warmupArg);
const BATCH = 500;

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracer = new TracerProvider().getTracer('bench');

let provider: LoggerProvider | undefined;
let dir: string | undefined;
let transport: TransportStream;

if (scenario === 'file') {
  dir = mkdtempSync(join(tmpdir(), 'otel-winston-bench-'));
  transport = new winston.transports.File({ filename: join(dir, 'app.log') });
} else {
  provider = new LoggerProvider({
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${url}/v1/logs` }),
        maxQueueSize: N + WARMUP,
        maxExportBatchSize: 512,
      }),
    ],
  });
  if (scenario === 'ours') {
    transport = new OtelTransport({ loggerProvider: provider });
  } else if (scenario === 'ours-no-request') {
    transport = new OtelTransport({ loggerProvider: provider, includeRequestContext: false });
  } else {
    apiLogs.setGlobalLoggerProvider(provider as never);
    transport = new OpenTelemetryTransportV3();
  }
}

const logger = winston.createLogger({
  level: 'info',
  format: winston.format.json(),
  transports: [transport],
});

function logOne(i: number): void {
  if (workload === 'plain') {
    logger.info('request handled');
  } else {
    logger.info('order placed', {
      orderId: `o-${i}`,
      userId: 'u-42',
      items: 3,
      total: 99.5,
      cart: { skus: ['A1', 'B2', 'C3'], coupon: null },
    });
  }
}

async function run(count: number): Promise<void> {
  for (let done = 0; done < count; done += BATCH) {
    const n = Math.min(BATCH, count - done);
    tracer.startActiveSpan('request', (span) => {
      runWithRequestContext({ requestId: `r-${done}`, userId: 'u-42', route: '/orders' }, () => {
        for (let i = 0; i < n; i++) logOne(done + i);
      });
      span.end();
    });
    // Let the batch processor export between requests, as a service would.
    await yieldToLoop();
  }
}

/** Waits until every record has left: exported over OTLP, or written to the file. */
async function flush(final: boolean): Promise<void> {
  if (provider !== undefined) {
    await provider.forceFlush();
  } else if (final) {
    await new Promise<void>((resolve) => {
      transport.once('finish', () => resolve());
      logger.end();
    });
  }
}

await run(WARMUP);
await flush(false);
globalThis.gc?.();

const cpuBefore = process.cpuUsage();
const wallBefore = process.hrtime.bigint();
await run(N);
await flush(true);
const wallNs = Number(process.hrtime.bigint() - wallBefore);
const cpu = process.cpuUsage(cpuBefore);

let fileBytes: number | undefined;
if (dir !== undefined) {
  fileBytes = statSync(join(dir, 'app.log')).size;
  rmSync(dir, { recursive: true, force: true });
}
await provider?.shutdown();
console.log(
  JSON.stringify({
    scenario,
    workload,
    records: N,
    warmup: WARMUP,
    wallMs: wallNs / 1e6,
    cpuUs: cpu.user + cpu.system,
    fileBytes,
  }),
);
