import type { MeterProvider } from '@opentelemetry/api';
import type { Defaults } from '../defaults.js';
import { checkInteger, invalidOption } from '../errors.js';
import type { RetryPolicy } from '../exporter/backoff.js';
import { readBooleanEnv, readIntegerEnv, readMillisEnv, readStringEnv, type Env } from '../env.js';
import { warn } from '../warnings.js';

/** An OTLP protocol for logs. */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

/**
 * Options of {@link LogPipeline}. Every option is optional; each falls back
 * to the environment variable named in its default, then to that default.
 * Options given in code are checked at once (a bad one throws an
 * `OtelWinstonError`); a bad environment variable gets a warning and the default.
 */
export interface LogPipelineOptions {
  /**
   * Where logs go: the full URL of the OTLP logs endpoint.
   * @default `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` with
   * `/v1/logs` appended (HTTP), else `http://localhost:4318/v1/logs` (`http://localhost:4317` for gRPC)
   * @example new LogPipeline({ url: 'https://collector.internal:4318/v1/logs' })
   */
  url?: string;

  /**
   * How logs are sent.
   * @default `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `'http/protobuf'`
   * @example new LogPipeline({ protocol: 'grpc' })
   */
  protocol?: OtlpProtocol;

  /**
   * Headers (gRPC metadata) sent with every export, next to the environment's.
   * @default `OTEL_EXPORTER_OTLP_LOGS_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS`, else none
   * @example new LogPipeline({ headers: { 'api-key': process.env.API_KEY } })
   */
  headers?: Record<string, string>;

  /**
   * Compression of the exports.
   * @default `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`, else `'none'`
   * @example new LogPipeline({ compression: 'gzip' })
   */
  compression?: 'gzip' | 'none';

  /**
   * The longest one attempt to send may take, in milliseconds; a slower
   * attempt is abandoned and retried. `exportTimeoutMillis` caps it too.
   * @default `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, else 10000
   * @example new LogPipeline({ timeoutMillis: 5000 })
   */
  timeoutMillis?: number;

  /**
   * The most encoded bytes the pipeline holds in memory: records queued and
   * exports in flight together. A record that does not fit is dropped and
   * counted (`queue_full`). The default holds 200,000 records of the
   * benchmark's structured record (about 280 bytes each).
   * @default `OTEL_WINSTON_QUEUE_MAX_BYTES`, else 67108864 (64 MiB)
   * @example new LogPipeline({ maxQueueBytes: 16 * 1024 * 1024 })
   */
  maxQueueBytes?: number;

  /**
   * The most records in one export.
   * @default `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`, else 512
   * @example new LogPipeline({ maxExportBatchSize: 1024 })
   */
  maxExportBatchSize?: number;

  /**
   * The most encoded bytes in one export; a record larger than this alone is
   * dropped and counted (`too_large`). 4 MiB is what a gRPC server takes by default.
   * @default `OTEL_WINSTON_BATCH_MAX_BYTES`, else 4194304 (4 MiB)
   * @example new LogPipeline({ maxExportBatchBytes: 1024 * 1024 })
   */
  maxExportBatchBytes?: number;

  /**
   * The longest a record waits for its batch to fill before it is sent, in milliseconds.
   * @default `OTEL_BLRP_SCHEDULE_DELAY`, else 1000
   * @example new LogPipeline({ scheduledDelayMillis: 200 })
   */
  scheduledDelayMillis?: number;

  /**
   * The longest one attempt may take, in milliseconds (with `timeoutMillis`,
   * the smaller wins), and the longest `forceFlush()` waits.
   * @default `OTEL_BLRP_EXPORT_TIMEOUT`, else 30000
   * @example new LogPipeline({ exportTimeoutMillis: 10000 })
   */
  exportTimeoutMillis?: number;

  /**
   * The most exports in flight at once. While the collector fails, only one
   * request probes it, whatever this is.
   * @default `OTEL_WINSTON_EXPORT_CONCURRENCY`, else 2
   * @example new LogPipeline({ maxConcurrentExports: 4 })
   */
  maxConcurrentExports?: number;

  /**
   * The first wait before a failed export is retried, in milliseconds; each
   * next wait is 1.5 times longer, ±20%.
   * @default `OTEL_WINSTON_RETRY_INITIAL_MS`, else 1000
   * @example new LogPipeline({ retryInitialMillis: 500 })
   */
  retryInitialMillis?: number;

  /**
   * The longest wait between two attempts, in milliseconds: while the
   * collector is down, it is probed this often. A `Retry-After` from the
   * collector wins over it.
   * @default `OTEL_WINSTON_RETRY_MAX_MS`, else 5000
   * @example new LogPipeline({ retryMaxMillis: 30000 })
   */
  retryMaxMillis?: number;

  /**
   * How long an export is retried before its records are dropped
   * (`retries_exhausted`), in milliseconds. By default there is no such
   * limit: records wait for the collector as long as the queue has room.
   * @default `OTEL_WINSTON_RETRY_MAX_ELAPSED_MS`, else Infinity
   * @example new LogPipeline({ retryMaxElapsedMillis: 300000 })
   */
  retryMaxElapsedMillis?: number;

  /**
   * The longest `shutdown()` waits for the queue to drain, in milliseconds;
   * what is left then is dropped and counted (`shutdown`).
   * @default `OTEL_WINSTON_SHUTDOWN_TIMEOUT`, else 5000
   * @example new LogPipeline({ shutdownTimeoutMillis: 10000 })
   */
  shutdownTimeoutMillis?: number;

  /**
   * Where the pipeline reports its self-metrics (`otel.sdk.log.created`,
   * `otel.sdk.processor.log.*`, `otel.sdk.exporter.log.*`, ...).
   * @default the global MeterProvider, as registered when the pipeline first exports
   * @example new LogPipeline({ meterProvider })
   */
  meterProvider?: MeterProvider;

  /**
   * Keep batches on disk, in this folder, when the collector cannot be
   * reached or the memory queue is full, instead of dropping them; send them
   * when it answers again, and on the next start. Off by default.
   * @default `OTEL_WINSTON_SPOOL_DIR`, else none
   * @example new LogPipeline({ spool: '/var/spool/checkout' })
   * @example new LogPipeline({ spool: { dir: '/var/spool/checkout', maxBytes: 1 << 30, writeThrough: true } })
   */
  spool?: string | SpoolOptions;

  /**
   * Report dropped records locally, without the pipeline: a Node.js warning
   * (`OTW014`) at most every 30 s while records are dropped, and one line on
   * stderr at shutdown when any were.
   * @default true
   * @example new LogPipeline({ dropWarnings: false })
   */
  dropWarnings?: boolean;
}

/** Options of the disk spool (the `spool` option of {@link LogPipelineOptions}). */
export interface SpoolOptions {
  /** The folder; made if missing. Several processes may share it. */
  dir: string;
  /**
   * The most bytes of records the spool holds; past it, its oldest records
   * are deleted unsent (`spool_full`).
   * @default `OTEL_WINSTON_SPOOL_MAX_BYTES`, else 268435456 (256 MiB)
   */
  maxBytes?: number;
  /**
   * While records go to disk, the longest they wait in memory before they
   * are written: a crash (SIGKILL) loses at most this many milliseconds.
   * @default `OTEL_WINSTON_SPOOL_FLUSH_MS`, else 1000
   */
  flushMillis?: number;
  /**
   * `fdatasync` every batch written: it survives a power loss too, not only
   * a crash of the process, and costs a flush of the disk per batch.
   * @default `OTEL_WINSTON_SPOOL_FSYNC`, else false
   */
  fsync?: boolean;
  /**
   * Write every batch to disk before it is sent, not only when the collector
   * fails or memory is full: a crash loses at most `flushMillis` of records
   * at any time. Batches are then sent one at a time.
   * @default `OTEL_WINSTON_SPOOL_WRITE_THROUGH`, else false
   */
  writeThrough?: boolean;
}

/** The spool's settings, resolved. */
export interface SpoolSettings {
  readonly dir: string;
  readonly maxBytes: number;
  readonly flushMillis: number;
  readonly fsync: boolean;
  readonly writeThrough: boolean;
}

/** The fixed default of each {@link SpoolOptions} option that has one. */
export const SPOOL_DEFAULTS = {
  maxBytes: 256 * 1024 * 1024,
  flushMillis: 1000,
  fsync: false,
  writeThrough: false,
} as const satisfies Defaults<SpoolOptions>;

/** The pipeline's settings, every option resolved. */
export interface PipelineSettings {
  readonly url: string | undefined;
  readonly protocol: OtlpProtocol;
  readonly headers: Record<string, string> | undefined;
  readonly compression: 'gzip' | 'none' | undefined;
  readonly timeoutMillis: number | undefined;
  readonly maxQueueBytes: number;
  readonly maxExportBatchSize: number;
  readonly maxExportBatchBytes: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
  readonly maxConcurrentExports: number;
  readonly retryInitialMillis: number;
  readonly retryMaxMillis: number;
  readonly retryMaxElapsedMillis: number;
  readonly shutdownTimeoutMillis: number;
  readonly meterProvider: MeterProvider | undefined;
  readonly dropWarnings: boolean;
  /** `undefined`: no spool. */
  readonly spool: SpoolSettings | undefined;
}

/**
 * The fixed default of each {@link LogPipelineOptions} option that has one:
 * what its `@default` names last, after the environment variables
 * (test/defaults.test.ts checks that they agree).
 */
export const PIPELINE_DEFAULTS = {
  protocol: 'http/protobuf',
  maxQueueBytes: 64 * 1024 * 1024,
  maxExportBatchSize: 512,
  maxExportBatchBytes: 4 * 1024 * 1024,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 30_000,
  maxConcurrentExports: 2,
  retryInitialMillis: 1000,
  retryMaxMillis: 5000,
  retryMaxElapsedMillis: Infinity,
  shutdownTimeoutMillis: 5000,
  dropWarnings: true,
} as const satisfies Defaults<LogPipelineOptions>;
const MAX_TIMER = 2_147_483_647;
/** A queue must hold at least one batch of small records. */
const MIN_QUEUE_BYTES = 64 * 1024;
const MIN_BATCH_BYTES = 1024;

function checkMillis(name: string, value: unknown, allowInfinity = false): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    value > 0 &&
    (value <= MAX_TIMER || (allowInfinity && value === Infinity));
  if (!ok) {
    const upper = allowInfinity ? `${MAX_TIMER}, or Infinity` : String(MAX_TIMER);
    throw invalidOption(name, `a number of milliseconds from 1 to ${upper}`, value);
  }
}

function checkOptions(options: unknown): LogPipelineOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('options', 'an object', options);
  }
  const o = options as LogPipelineOptions;
  if (o.url !== undefined) {
    let ok = typeof o.url === 'string';
    try {
      if (ok) new URL(o.url);
    } catch {
      ok = false;
    }
    if (!ok) throw invalidOption('url', 'an absolute URL', o.url);
  }
  if (o.protocol !== undefined && !PROTOCOLS.includes(o.protocol)) {
    throw invalidOption('protocol', `one of ${PROTOCOLS.join(', ')}`, o.protocol);
  }
  if (
    o.headers !== undefined &&
    (typeof o.headers !== 'object' ||
      o.headers === null ||
      Object.values(o.headers).some((v) => typeof v !== 'string'))
  ) {
    throw invalidOption('headers', 'an object of string values', o.headers);
  }
  if (o.compression !== undefined && o.compression !== 'gzip' && o.compression !== 'none') {
    throw invalidOption('compression', "'gzip' or 'none'", o.compression);
  }
  checkInteger('maxQueueBytes', o.maxQueueBytes, MIN_QUEUE_BYTES, Number.MAX_SAFE_INTEGER);
  checkInteger('maxExportBatchSize', o.maxExportBatchSize, 1, 1_000_000);
  checkInteger('maxExportBatchBytes', o.maxExportBatchBytes, MIN_BATCH_BYTES, 1 << 30);
  checkInteger('maxConcurrentExports', o.maxConcurrentExports, 1, 64);
  checkMillis('timeoutMillis', o.timeoutMillis);
  checkMillis('scheduledDelayMillis', o.scheduledDelayMillis);
  checkMillis('exportTimeoutMillis', o.exportTimeoutMillis);
  checkMillis('retryInitialMillis', o.retryInitialMillis);
  checkMillis('retryMaxMillis', o.retryMaxMillis);
  checkMillis('retryMaxElapsedMillis', o.retryMaxElapsedMillis, true);
  checkMillis('shutdownTimeoutMillis', o.shutdownTimeoutMillis);
  if (
    o.retryInitialMillis !== undefined &&
    o.retryMaxMillis !== undefined &&
    o.retryMaxMillis < o.retryInitialMillis
  ) {
    throw invalidOption(
      'retryMaxMillis',
      `at least \`retryInitialMillis\` (${o.retryInitialMillis})`,
      o.retryMaxMillis,
    );
  }
  if (
    o.maxQueueBytes !== undefined &&
    o.maxExportBatchBytes !== undefined &&
    o.maxExportBatchBytes > o.maxQueueBytes
  ) {
    throw invalidOption(
      'maxExportBatchBytes',
      `at most \`maxQueueBytes\` (${o.maxQueueBytes})`,
      o.maxExportBatchBytes,
    );
  }
  checkSpool(o.spool);
  if (o.dropWarnings !== undefined && typeof o.dropWarnings !== 'boolean') {
    throw invalidOption('dropWarnings', 'a boolean', o.dropWarnings);
  }
  if (
    o.meterProvider !== undefined &&
    typeof (o.meterProvider as { getMeter?: unknown } | null)?.getMeter !== 'function'
  ) {
    throw invalidOption('meterProvider', 'a MeterProvider', o.meterProvider);
  }
  return o;
}

function checkSpool(spool: unknown): void {
  if (spool === undefined || (typeof spool === 'string' && spool !== '')) return;
  if (typeof spool !== 'object' || spool === null) {
    throw invalidOption('spool', 'a folder path, or { dir, ... }', spool);
  }
  const o = spool as SpoolOptions;
  if (typeof o.dir !== 'string' || o.dir === '') {
    throw invalidOption('spool.dir', 'a folder path', o.dir);
  }
  checkInteger('spool.maxBytes', o.maxBytes, MIN_QUEUE_BYTES, Number.MAX_SAFE_INTEGER);
  checkMillis('spool.flushMillis', o.flushMillis);
  for (const key of ['fsync', 'writeThrough'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') {
      throw invalidOption(`spool.${key}`, 'a boolean', o[key]);
    }
  }
}

/** The spool of `option`, else of `OTEL_WINSTON_SPOOL_DIR` and its companions; `undefined`: none. */
function spoolSettings(
  option: string | SpoolOptions | undefined,
  env: Env,
): SpoolSettings | undefined {
  const o: SpoolOptions | undefined = typeof option === 'string' ? { dir: option } : option;
  const dir = o?.dir ?? readStringEnv(env, 'OTEL_WINSTON_SPOOL_DIR');
  if (dir === undefined || dir === '') return undefined;
  return {
    dir,
    maxBytes:
      o?.maxBytes ??
      readIntegerEnv(
        env,
        ['OTEL_WINSTON_SPOOL_MAX_BYTES'],
        SPOOL_DEFAULTS.maxBytes,
        MIN_QUEUE_BYTES,
      ),
    flushMillis:
      o?.flushMillis ??
      readMillisEnv(env, 'OTEL_WINSTON_SPOOL_FLUSH_MS', SPOOL_DEFAULTS.flushMillis),
    fsync: o?.fsync ?? readBooleanEnv(env, 'OTEL_WINSTON_SPOOL_FSYNC', SPOOL_DEFAULTS.fsync),
    writeThrough:
      o?.writeThrough ??
      readBooleanEnv(env, 'OTEL_WINSTON_SPOOL_WRITE_THROUGH', SPOOL_DEFAULTS.writeThrough),
  };
}

function protocolFromEnv(env: Env): OtlpProtocol {
  for (const name of ['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const raw = readStringEnv(env, name);
    if (raw === undefined) continue;
    if ((PROTOCOLS as readonly string[]).includes(raw)) return raw as OtlpProtocol;
    warn(
      'OTW004',
      `Expected ${name} to be one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(raw)}; using ${PIPELINE_DEFAULTS.protocol}`,
      name,
    );
    return PIPELINE_DEFAULTS.protocol;
  }
  return PIPELINE_DEFAULTS.protocol;
}

/**
 * The retry policy of `options`, else `OTEL_WINSTON_RETRY_INITIAL_MS`,
 * `_MAX_MS` and `_MAX_ELAPSED_MS`, else 1 s, 5 s and no limit. The SDK's
 * span and metric exporters use it too.
 */
export function retryPolicyFromEnv(
  env: Env,
  options: Pick<
    LogPipelineOptions,
    'retryInitialMillis' | 'retryMaxMillis' | 'retryMaxElapsedMillis'
  > = {},
): RetryPolicy {
  const initialMillis =
    options.retryInitialMillis ??
    readMillisEnv(env, 'OTEL_WINSTON_RETRY_INITIAL_MS', PIPELINE_DEFAULTS.retryInitialMillis);
  const maxMillis =
    options.retryMaxMillis ??
    readMillisEnv(env, 'OTEL_WINSTON_RETRY_MAX_MS', PIPELINE_DEFAULTS.retryMaxMillis);
  return {
    initialMillis,
    // From the environment, a cap below the first wait means the first wait.
    maxMillis: Math.max(initialMillis, maxMillis),
    maxElapsedMillis:
      options.retryMaxElapsedMillis ??
      readMillisEnv(
        env,
        'OTEL_WINSTON_RETRY_MAX_ELAPSED_MS',
        PIPELINE_DEFAULTS.retryMaxElapsedMillis,
      ),
  };
}

/**
 * The settings of a pipeline: `options` first, then the environment, then
 * the defaults. Throws an `OtelWinstonError` for a bad option.
 */
export function resolvePipelineSettings(
  options: LogPipelineOptions | undefined,
  env: Env = process.env,
): PipelineSettings {
  const o = checkOptions(options);
  const int = (name: string, fallback: number, min: number, max?: number): number =>
    readIntegerEnv(env, [name], fallback, min, max);
  const retry = retryPolicyFromEnv(env, o);
  const maxQueueBytes =
    o.maxQueueBytes ??
    int('OTEL_WINSTON_QUEUE_MAX_BYTES', PIPELINE_DEFAULTS.maxQueueBytes, MIN_QUEUE_BYTES);
  const batchBytesFromEnv =
    o.maxExportBatchBytes === undefined &&
    readStringEnv(env, 'OTEL_WINSTON_BATCH_MAX_BYTES') !== undefined;
  let maxExportBatchBytes =
    o.maxExportBatchBytes ??
    int('OTEL_WINSTON_BATCH_MAX_BYTES', PIPELINE_DEFAULTS.maxExportBatchBytes, MIN_BATCH_BYTES);
  if (maxExportBatchBytes > maxQueueBytes) {
    // A batch is never larger than the whole queue (both given in code was refused above).
    if (batchBytesFromEnv) {
      warn(
        'OTW004',
        `OTEL_WINSTON_BATCH_MAX_BYTES (${maxExportBatchBytes}) is more than the queue holds (${maxQueueBytes}); using ${maxQueueBytes}`,
        'OTEL_WINSTON_BATCH_MAX_BYTES',
      );
    }
    maxExportBatchBytes = maxQueueBytes;
  }
  return {
    url: o.url,
    protocol: o.protocol ?? protocolFromEnv(env),
    headers: o.headers,
    compression: o.compression,
    timeoutMillis: o.timeoutMillis,
    maxQueueBytes,
    maxExportBatchSize:
      o.maxExportBatchSize ??
      int('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', PIPELINE_DEFAULTS.maxExportBatchSize, 1, 1_000_000),
    maxExportBatchBytes,
    scheduledDelayMillis:
      o.scheduledDelayMillis ??
      readMillisEnv(env, 'OTEL_BLRP_SCHEDULE_DELAY', PIPELINE_DEFAULTS.scheduledDelayMillis),
    exportTimeoutMillis:
      o.exportTimeoutMillis ??
      readMillisEnv(env, 'OTEL_BLRP_EXPORT_TIMEOUT', PIPELINE_DEFAULTS.exportTimeoutMillis),
    maxConcurrentExports:
      o.maxConcurrentExports ??
      int('OTEL_WINSTON_EXPORT_CONCURRENCY', PIPELINE_DEFAULTS.maxConcurrentExports, 1, 64),
    retryInitialMillis: retry.initialMillis,
    retryMaxMillis: retry.maxMillis,
    retryMaxElapsedMillis: retry.maxElapsedMillis,
    shutdownTimeoutMillis:
      o.shutdownTimeoutMillis ??
      readMillisEnv(env, 'OTEL_WINSTON_SHUTDOWN_TIMEOUT', PIPELINE_DEFAULTS.shutdownTimeoutMillis),
    meterProvider: o.meterProvider,
    dropWarnings: o.dropWarnings ?? PIPELINE_DEFAULTS.dropWarnings,
    spool: spoolSettings(o.spool, env),
  };
}
