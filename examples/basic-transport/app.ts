/**
 * An existing winston logger, given an OtelTransport: records go to an OTLP
 * endpoint, correlated with the active span and the request context.
 *
 *   npm run example:basic
 *
 * With OTEL_EXPORTER_OTLP_ENDPOINT set (a collector), records go there. Without
 * it, the example starts a receiver on 127.0.0.1 and prints what arrived.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import {
  OtelTransport,
  runWithRequestContext,
  setRequestContext,
  traceContext,
} from 'otel-winston';
import { startOtlpReceiver } from 'otel-winston/testing';
import winston from 'winston';

const receiver = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? undefined : await startOtlpReceiver();
const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? receiver!.url;

// What the OpenTelemetry Node SDK sets up for you.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracer = new TracerProvider().getTracer('example');
const loggerProvider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'basic-transport-example' }),
  processors: [
    new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${endpoint}/v1/logs` }) }),
  ],
});

// The app's existing logger: only the OtelTransport (and, optionally, traceContext()) are new.
const logger = winston.createLogger({
  level: 'info',
  defaultMeta: { service: 'checkout' },
  format: winston.format.combine(traceContext(), winston.format.json()),
  transports: [new winston.transports.Console(), new OtelTransport({ loggerProvider })],
});

await tracer.startActiveSpan('POST /orders', async (span) => {
  await runWithRequestContext({ requestId: 'req-7', method: 'POST', path: '/orders' }, async () => {
    logger.info('order received', { items: 3 });
    setRequestContext({ userId: 'alice', route: '/orders' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    logger.error('payment failed', new Error('card declined'));
  });
  span.end();
});

await loggerProvider.forceFlush();
if (receiver !== undefined) {
  const records = await receiver.waitForLogs(2);
  console.log('\nReceived over OTLP:');
  for (const r of records) {
    console.log(
      JSON.stringify({
        severity: r.severityText,
        body: r.body,
        traceId: r.traceId,
        spanId: r.spanId,
        attributes: r.attributes,
      }),
    );
  }
  await receiver.close();
}
await loggerProvider.shutdown();
