/**
 * `npm run docs:tail`: draws docs/images/tail.svg, a picture of what
 * `otel-winston tail` prints. It starts the real CLI (bin/otel-winston.cjs,
 * from dist/) on a free loopback port, sends it three moments of a small
 * shop service through this package's own exporter (winston → OtelTransport
 * → LogPipeline, OTLP/HTTP protobuf) and the SDK's span exporter, captures
 * what the CLI writes with its ANSI colours, and renders that as a terminal.
 *
 * The CLI colours its output into a pipe when FORCE_COLOR is set, as here.
 * Trace and span ids, span and record times and the exception's stack are
 * fixed, so the picture only changes when the output of the CLI does.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogPipeline, OtelTransport, runWithRequestContext } from 'otel-winston';
import winston from 'winston';
import { renderTerminalSvg } from './ansi-svg.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/otel-winston.cjs', import.meta.url));
const OUT = fileURLToPath(new URL('../docs/images/tail.svg', import.meta.url));
const TIMEOUT_MS = 20_000;
const ESC = '\u001b';

const started = Date.now();
// The CLI's environment: colour on, and none of the caller's OTEL_* settings.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_') && key !== 'NO_COLOR'),
);
const child = spawn(process.execPath, [BIN, 'tail', '--port=0', '--host=127.0.0.1'], {
  cwd: ROOT,
  env: { ...env, FORCE_COLOR: '1' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stdout = '';
let stderr = '';
child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
const killer = setTimeout(() => child.kill('SIGKILL'), 4 * TIMEOUT_MS);

/** Resolves when `test` holds, checking every 20 ms; rejects after TIMEOUT_MS, showing the output. */
async function until(what: string, test: () => boolean): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!test()) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`otel-winston tail: no ${what}\nstdout: ${stdout}\nstderr: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

await until('address', () => /receiving OTLP\/HTTP on http:\/\/\S+/.test(stderr));
const url = /receiving OTLP\/HTTP on (http:\/\/\S+)/.exec(stderr)![1]!;

// The app: one service, its logs through this package, its spans through the SDK.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const resource = resourceFromAttributes({ 'service.name': 'shop', 'service.version': '1.4.2' });
let nextId = 0;
const hex = (n: number, length: number): string => n.toString(16).padStart(length, '0');
const tracerProvider = new TracerProvider({
  resource,
  idGenerator: {
    // Fixed, realistic-looking ids: the picture does not change from one run to the next.
    generateTraceId: () => `4bf92f3577b34da6a3ce929d0e0e${hex(0x4736 + ++nextId, 4)}`,
    generateSpanId: () => `00f067aa0ba9${hex(0x02b7 + ++nextId, 4)}`,
  },
  spanProcessors: [
    new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${url}/v1/traces` }) }),
  ],
});
const tracer = tracerProvider.getTracer('shop');
const loggerProvider = new LoggerProvider({
  resource,
  processors: [new LogPipeline({ url: `${url}/v1/logs` })],
});
const logger = winston.createLogger({
  level: 'debug',
  transports: [new OtelTransport({ loggerProvider })],
});

/** 2025-01-15 09:30:00 UTC, plus `ms`: the span times. */
const at = (ms: number): number => Date.UTC(2025, 0, 15, 9, 30, 0) + ms;

/** Runs `fn` in a new span from `start` to `end` (ms after `at(0)`), a child of the active one. */
function inSpan(
  name: string,
  kind: SpanKind,
  [start, end]: [number, number],
  fn: (span: Span) => void,
): void {
  const span = tracer.startSpan(name, { kind, startTime: at(start) });
  context.with(trace.setSpan(context.active(), span), () => fn(span));
  span.end(at(end));
}

/** A record's time, fixed like the spans' (`format.timestamp()` would give one from the clock). */
const time = (ms: number): { timestamp: Date } => ({ timestamp: new Date(at(ms)) });

class PaymentDeclinedError extends Error {
  override name = 'PaymentDeclinedError';
  readonly code = 'card_declined';
  // A stack as the app would have it, not this script's.
  override stack = [
    'PaymentDeclinedError: card declined',
    '    at charge (/srv/shop/src/payments.ts:41:11)',
    '    at async checkout (/srv/shop/src/routes/checkout.ts:27:5)',
  ].join('\n');
}

/** Sends what `scene` logs and traces, and waits until the CLI has printed `marker`. */
async function show(marker: string, scene: () => void): Promise<void> {
  scene();
  await loggerProvider.forceFlush();
  await tracerProvider.forceFlush();
  await until(`"${marker}" printed`, () => stdout.includes(marker));
}

await show('listening on', () => logger.info('listening on http://0.0.0.0:3000', time(-5000)));

await show('GET /orders/o-5521 200', () =>
  runWithRequestContext({ requestId: 'req-7f3a9c', userId: 'u-1042', route: '/orders/:id' }, () =>
    inSpan('GET /orders/:id', SpanKind.SERVER, [0, 42.7], () => {
      logger.debug('cache miss', { orderId: 'o-5521', ...time(1.2) });
      inSpan('SELECT orders', SpanKind.CLIENT, [3.1, 21.3], () =>
        logger.info('order loaded', { orderId: 'o-5521', items: 3, ...time(20.8) }),
      );
      logger.info('GET /orders/o-5521 200', { status: 200, ...time(42.5) });
    }),
  ),
);

await show('payment failed', () =>
  runWithRequestContext({ requestId: 'req-80b2e1', userId: 'u-1042', route: '/checkout' }, () =>
    inSpan('POST /checkout', SpanKind.SERVER, [1000, 1861.4], (span) => {
      inSpan('POST payments.example.com/charge', SpanKind.CLIENT, [1004.2, 1853.9], () => {
        logger.warn('payment provider slow, retrying', {
          attempt: 1,
          waitedMs: 800,
          ...time(1805),
        });
      });
      logger.error('payment failed', {
        error: new PaymentDeclinedError('card declined'),
        ...time(1860.9),
      });
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
    }),
  ),
);

await loggerProvider.shutdown();
await tracerProvider.shutdown();
child.kill('SIGTERM');
const code = await exited;
clearTimeout(killer);
if (code !== 0) throw new Error(`otel-winston tail exited with ${code}\nstderr: ${stderr}`);

// As a user sees it: the command at the default port, then what the CLI wrote there.
const banner = stderr.split('\n')[0]!.replace(url, 'http://127.0.0.1:4318');
const screen = `${ESC}[32m$${ESC}[0m npx otel-winston tail\n${banner}\n\n${stdout}`;
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, renderTerminalSvg(screen, { title: 'otel-winston tail' }));
console.log(`wrote docs/images/tail.svg (${((Date.now() - started) / 1000).toFixed(1)} s)`);
