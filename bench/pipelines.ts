/**
 * The pipelines under test, as a user would set them up: every option
 * not named here is the default (the orchestrator clears `OTEL_*` variables).
 */
import { logs as apiLogs } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LogPipeline,
  OtelTransport,
  RedactionProcessor,
  type LogPipelineOptions,
  type PipelineStats,
} from 'otel-winston';
import TransportStream from 'winston-transport';
import type { Pipeline } from './run-protocol.js';

export interface PipelineUnderTest {
  readonly transport: TransportStream;
  /** Resolves when every record emitted so far has been exported (or dropped). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  /** LogPipeline's accounting, for the pipelines built on it. */
  readonly stats?: () => PipelineStats;
}

/** The floor: a transport whose `log()` only calls its callback. */
class NullTransport extends TransportStream {
  override log(_info: unknown, callback: () => void): void {
    callback();
  }
}

/** sdk-logs with the stock `BatchLogRecordProcessor` (queue of 2048) and OTLP/HTTP protobuf exporter. */
function stockProvider(endpoint: string): LoggerProvider {
  return new LoggerProvider({
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: endpoint }) })],
  });
}

function withProvider(transport: TransportStream, provider: LoggerProvider): PipelineUnderTest {
  return { transport, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

function withLogPipeline(
  endpoint: string,
  includeRequestContext: boolean,
  options: LogPipelineOptions = {},
  redact = false,
): PipelineUnderTest {
  const pipeline = new LogPipeline({ url: endpoint, ...options });
  // The default rules, as the preload installs them; the environment is empty in a scenario.
  const first = redact ? new RedactionProcessor({ next: pipeline }) : pipeline;
  const provider = new LoggerProvider({ processors: [first] });
  return {
    transport: new OtelTransport({ loggerProvider: provider, includeRequestContext }),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
    stats: () => pipeline.stats(),
  };
}

/** {@link withLogPipeline} with a spool in a new temporary folder, deleted at shutdown. */
function withSpool(
  endpoint: string,
  options: (dir: string) => LogPipelineOptions,
): PipelineUnderTest {
  const dir = mkdtempSync(join(tmpdir(), 'otel-winston-bench-spool-'));
  const under = withLogPipeline(endpoint, true, options(dir));
  return {
    ...under,
    async shutdown() {
      await under.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `ours-spill`'s memory queue: a tenth of the burst's records, so that the rest go to disk. */
export const SPILL_QUEUE_BYTES = 4 * 1024 * 1024;

/** Builds `name`, exporting to the OTLP logs endpoint `endpoint` (a full URL). */
export function createPipeline(name: Pipeline, endpoint: string): PipelineUnderTest {
  switch (name) {
    case 'floor':
      return {
        transport: new NullTransport(),
        flush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      };
    case 'official': {
      const provider = stockProvider(endpoint);
      // The official transport takes its logger from the global provider, as documented.
      apiLogs.setGlobalLoggerProvider(provider as never);
      return withProvider(new OpenTelemetryTransportV3(), provider);
    }
    case 'ours-stock': {
      const provider = stockProvider(endpoint);
      return withProvider(new OtelTransport({ loggerProvider: provider }), provider);
    }
    case 'ours':
      return withLogPipeline(endpoint, true);
    case 'ours-same':
      return withLogPipeline(endpoint, false);
    case 'ours-redact':
      return withLogPipeline(endpoint, true, {}, true);
    case 'ours-spill':
      return withSpool(endpoint, (dir) => ({ maxQueueBytes: SPILL_QUEUE_BYTES, spool: dir }));
    case 'ours-disk':
      return withSpool(endpoint, (dir) => ({ spool: { dir, writeThrough: true } }));
    case 'ours-fsync':
      return withSpool(endpoint, (dir) => ({ spool: { dir, writeThrough: true, fsync: true } }));
  }
}
