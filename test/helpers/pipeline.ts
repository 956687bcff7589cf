import { LoggerProvider } from '@opentelemetry/sdk-logs';
import winston from 'winston';
import type { PipelineStats } from '../../src/pipeline/accounting.js';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import type { LogPipelineOptions } from '../../src/pipeline/options.js';
import { OtelTransport } from '../../src/transport/otel-transport.js';

/** created + recovered = exported + dropped + queued + inFlight + spooled, exactly. */
export function balanced(s: PipelineStats): boolean {
  return (
    s.created + s.recovered === s.exported + s.droppedTotal + s.queued + s.inFlight + s.spooled
  );
}

/**
 * Takes `pipeline.stats()` on every turn of the event loop until `stop()`:
 * what any code running between two turns could see. `add()` takes one more
 * now (in the middle of a synchronous loop, say).
 */
export function sampleStats(pipeline: LogPipeline): {
  readonly samples: PipelineStats[];
  add(): void;
  stop(): void;
} {
  const samples: PipelineStats[] = [];
  let sampling = true;
  const sample = (): void => {
    samples.push(pipeline.stats());
    if (sampling) setImmediate(sample);
  };
  sample();
  return {
    samples,
    add: () => void samples.push(pipeline.stats()),
    stop: () => void (sampling = false),
  };
}

/** A LogPipeline behind a LoggerProvider and a winston logger with an OtelTransport. */
export interface PipelineLogger {
  readonly pipeline: LogPipeline;
  readonly provider: LoggerProvider;
  readonly logger: winston.Logger;
  /** Logs `count` records with the attribute `seq` from `from`, synchronously. */
  log(count: number, from?: number): void;
}

/**
 * {@link PipelineLogger} with the timings of a test (20 ms batches, retries
 * from 20 to 100 ms, a 1 s shutdown, no drop warnings) unless `options` says otherwise.
 */
export function pipelineLogger(options: LogPipelineOptions): PipelineLogger {
  const pipeline = new LogPipeline({
    scheduledDelayMillis: 20,
    retryInitialMillis: 20,
    retryMaxMillis: 100,
    shutdownTimeoutMillis: 1000,
    dropWarnings: false,
    ...options,
  });
  const provider = new LoggerProvider({ processors: [pipeline] });
  const logger = winston.createLogger({
    transports: [new OtelTransport({ loggerProvider: provider })],
  });
  return {
    pipeline,
    provider,
    logger,
    log(count, from = 0) {
      for (let i = 0; i < count; i++) logger.info('record', { seq: from + i });
    },
  };
}
