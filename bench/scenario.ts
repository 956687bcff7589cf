/**
 * One benchmark scenario in its own process, started by `transport.bench.ts`
 * with an IPC channel: a winston logger (`format.json()`) with one pipeline
 * logs a steady warm-up, flushes, lets GC settle, tells the orchestrator, and
 * on its word measures one workload and sends back a {@link Measurement}.
 *
 * Usage (with an IPC channel): node --expose-gc --import tsx bench/scenario.ts
 *   <pipeline> <steady|burst> <records> <warmup> <otlp-logs-url>
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { runWithRequestContext, type PipelineStats } from 'otel-winston';
import winston from 'winston';
import { startInterval, startLoopDelay, type LoopDelay } from './measure.js';
import { createPipeline } from './pipelines.js';
import {
  PIPELINES,
  WORKLOADS,
  type Measurement,
  type OrchestratorMessage,
  type Pipeline,
  type PipelineCounts,
  type ScenarioMessage,
  type Workload,
} from './run-protocol.js';

/** Log calls between two yields to the event loop in the steady workload. */
const GROUP = 100;

const [pipelineArg = '', workloadArg = '', recordsArg = '', warmupArg = '', endpoint = ''] =
  process.argv.slice(2);
if (!PIPELINES.includes(pipelineArg as Pipeline) || !WORKLOADS.includes(workloadArg as Workload))
  throw new Error(`Expected a pipeline and a workload, got ${pipelineArg} ${workloadArg}`);
if (process.send === undefined)
  throw new Error('Expected an IPC channel: run by transport.bench.ts');
const workload = workloadArg as Workload;
const N = Number(recordsArg);
const WARMUP = Number(warmupArg);

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracer = new TracerProvider().getTracer('bench');
const under = createPipeline(pipelineArg as Pipeline, endpoint);
const logger = winston.createLogger({
  level: 'info',
  format: winston.format.json(),
  transports: [under.transport],
});

/** `count` log calls of the structured record, in one request: an active span and a request context. */
function request(first: number, count: number): void {
  tracer.startActiveSpan('request', (span) => {
    runWithRequestContext({ requestId: `r-${first}`, userId: 'u-42', route: '/orders' }, () => {
      for (let i = first; i < first + count; i++) {
        logger.info('order placed', {
          orderId: `o-${i}`,
          userId: 'u-42',
          items: 3,
          total: 99.5,
          cart: { skus: ['A1', 'B2', 'C3'], coupon: null },
        });
      }
    });
    span.end();
  });
}

async function steady(count: number): Promise<void> {
  for (let done = 0; done < count; done += GROUP) {
    request(done, Math.min(GROUP, count - done));
    await yieldToLoop();
  }
}

/**
 * Resolves when winston has handed every record to the transport. With a
 * transport that calls back at once this is immediate; checked all the same.
 */
async function delivered(): Promise<void> {
  while (logger.writableLength + logger.readableLength + under.transport.writableLength > 0)
    await yieldToLoop();
}

function countsBetween(before: PipelineStats, after: PipelineStats): PipelineCounts {
  const dropped: Record<string, number> = {};
  for (const [reason, n] of Object.entries(after.dropped)) {
    const d = n - before.dropped[reason as keyof PipelineStats['dropped']];
    if (d > 0) dropped[reason] = d;
  }
  return {
    created: after.created - before.created,
    exported: after.exported - before.exported,
    dropped,
    held: after.queued + after.inFlight + after.spooled,
    spilled: after.spilled - before.spilled,
    identityHolds:
      after.created + after.recovered ===
      after.exported + after.droppedTotal + after.queued + after.inFlight + after.spooled,
  };
}

function send(message: ScenarioMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())),
  );
}

// Warm-up: every hot path optimised, then nothing held and little garbage left.
await steady(WARMUP);
await delivered();
await under.flush();
for (let i = 0; i < 3; i++) {
  globalThis.gc?.();
  await yieldToLoop();
}
await new Promise<void>((resolve) => {
  process.once('message', (message: OrchestratorMessage) => {
    if (message.type === 'measure') resolve();
  });
  void send({ type: 'warmed' });
});

const statsBefore = under.stats?.();
const interval = startInterval();
let burstLoopMs: number | undefined;
let heldBytesAfterLoop: number | undefined;
let delay: LoopDelay;
if (workload === 'steady') {
  delay = startLoopDelay();
  await steady(N);
} else {
  const loopStart = performance.now();
  request(0, N);
  burstLoopMs = performance.now() - loopStart;
  interval.sampleRss();
  const held = under.stats?.();
  if (held !== undefined) heldBytesAfterLoop = held.queuedBytes + held.inFlightBytes;
  // The loop blocks the event loop by construction; what counts is the export after it.
  delay = startLoopDelay();
}
await delivered();
await under.flush();
const loopDelay = delay.stop();
const measured = interval.stop();
const statsAfter = under.stats?.();

const measurement: Measurement = {
  records: N,
  wallMs: measured.wallMs,
  cpuUs: measured.cpuUs,
  loopDelayP99Ms: loopDelay.p99Ms,
  loopDelayMaxMs: loopDelay.maxMs,
  rssGrowthMiB: measured.rssGrowthMiB,
  burstLoopMs,
  pipeline:
    statsBefore !== undefined && statsAfter !== undefined
      ? { ...countsBetween(statsBefore, statsAfter), heldBytesAfterLoop }
      : undefined,
};
await send({ type: 'measured', measurement });
await under.shutdown();
process.disconnect();
