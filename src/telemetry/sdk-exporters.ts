/**
 * The OTLP span exporter and metric exporter, built as the upstream OTLP
 * exporters build themselves from the environment (the upstream
 * configuration, serializers and export delegate, used as they are), with
 * one part replaced: the transport, by {@link ExitAwareTransport}. Upstream
 * retries on ref'd timers for up to the export timeout (10 s), which kept a
 * short script with no collector alive long after its last line; these
 * exports end at the exit deadline with the logs.
 *
 * The configuration is read at start, as the log pipeline's is; the upstream
 * serializers (for every signal, about 0.1 s to load) are loaded at the
 * first export, not at start: the first span export comes
 * `OTEL_BSP_SCHEDULE_DELAY` (5 s) after the first span at the earliest, and
 * the first metric export one `OTEL_METRIC_EXPORT_INTERVAL` (60 s) after start.
 */
import type { ExportAborter } from '../exporter/abort.js';
import type { RetryPolicy } from '../exporter/backoff.js';
import { GRPC_EXPORT_PATHS, GrpcSender, type GrpcSenderConfig } from '../exporter/grpc-sender.js';
import { HttpEndpoint, type HttpSenderConfig } from '../exporter/http-sender.js';
import { ExitAwareTransport, grpcAttempts, httpAttempts } from '../exporter/sdk-transport.js';
import { readStringEnv, type Env } from '../env.js';
import { warn } from '../warnings.js';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type {
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { requireHere } from '#require-here';

type Protocol = 'http/protobuf' | 'http/json' | 'grpc';
const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json', 'grpc'];

/** `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`. */
function protocolFor(env: Env, signal: 'TRACES' | 'METRICS'): Protocol {
  const name = `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`;
  const specific = readStringEnv(env, name);
  const protocol = specific ?? readStringEnv(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol === undefined || PROTOCOLS.includes(protocol))
    return (protocol ?? 'http/protobuf') as Protocol;
  const variable = specific !== undefined ? name : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  warn(
    'OTW004',
    `Unknown OTLP protocol ${JSON.stringify(protocol)} in ${variable}; known: ${PROTOCOLS.join(', ')}; using http/protobuf`,
    variable,
  );
  return 'http/protobuf';
}

/** `@opentelemetry/otlp-exporter-base`, as used here. */
interface ExporterBase {
  OTLPExporterBase: new (delegate: unknown) => object;
  createOtlpNetworkExportDelegate: (
    options: unknown,
    serializer: unknown,
    metrics: unknown,
    transport: ExitAwareTransport,
  ) => unknown;
}

/**
 * What makes the upstream OTLP exporter of `signal`: its configuration,
 * read from the environment now, as upstream reads it (endpoint, headers,
 * timeout, compression, certificates), on an {@link ExitAwareTransport}; the
 * serializers and the export delegate, made by the function returned, at
 * the first export. A configuration that cannot be used throws now.
 */
function exporterMaker(
  signal: 'TRACES' | 'METRICS',
  protocol: Protocol,
  policy: RetryPolicy,
  aborter: ExportAborter,
): () => object {
  const item = signal === 'TRACES' ? 'span' : 'metric';
  const json = protocol === 'http/json';
  let options: { readonly url: string };
  let transport: ExitAwareTransport;
  let exporterMetrics: (helper: unknown) => unknown;
  if (protocol === 'grpc') {
    const grpc = requireHere('@opentelemetry/otlp-grpc-exporter-base') as {
      convertLegacyOtlpGrpcOptions: (
        config: object,
        signal: string,
      ) => GrpcSenderConfig & { timeoutMillis: number };
      createOtlpGrpcExporterMetrics: (type: string, helper: unknown, url: string) => unknown;
    };
    const config = grpc.convertLegacyOtlpGrpcOptions({}, signal);
    const sender = new GrpcSender(
      config,
      GRPC_EXPORT_PATHS[signal === 'TRACES' ? 'traces' : 'metrics'],
    );
    options = config;
    transport = new ExitAwareTransport(grpcAttempts(sender), policy, aborter);
    exporterMetrics = (helper) =>
      grpc.createOtlpGrpcExporterMetrics(`otlp_grpc_${item}_exporter`, helper, config.url);
  } else {
    const nodeHttp = requireHere('@opentelemetry/otlp-exporter-base/node-http') as {
      convertLegacyHttpOptions: (
        config: object,
        signal: string,
        path: string,
        headers: Record<string, string>,
      ) => HttpSenderConfig & { timeoutMillis: number; concurrencyLimit: number };
      createOtlpHttpExporterMetrics: (
        type: string,
        helper: unknown,
        url: string,
        meterProvider: undefined,
      ) => unknown;
    };
    const config = nodeHttp.convertLegacyHttpOptions({}, signal, `v1/${signal.toLowerCase()}`, {
      'Content-Type': json ? 'application/json' : 'application/x-protobuf',
    });
    options = config;
    transport = new ExitAwareTransport(httpAttempts(new HttpEndpoint(config)), policy, aborter);
    exporterMetrics = (helper) =>
      nodeHttp.createOtlpHttpExporterMetrics(
        `otlp_http${json ? '_json' : ''}_${item}_exporter`,
        helper,
        config.url,
        undefined,
      );
  }
  return () => {
    const base = requireHere('@opentelemetry/otlp-exporter-base') as ExporterBase;
    const transformer = requireHere('@opentelemetry/otlp-transformer') as Record<string, unknown>;
    const kind = signal === 'TRACES' ? 'Trace' : 'Metrics';
    const serializer = transformer[`${json ? 'Json' : 'Protobuf'}${kind}Serializer`];
    const metrics = exporterMetrics(transformer[`${kind}ExporterMetricsHelper`]);
    return new base.OTLPExporterBase(
      base.createOtlpNetworkExportDelegate(options, serializer, metrics, transport),
    );
  };
}

/**
 * An exporter made at its first use: what makes it is loaded then, not at
 * start. Shutting down or flushing one never used loads nothing.
 */
class Deferred<T extends { shutdown(): Promise<void>; forceFlush?(): Promise<void> }> {
  #made: T | undefined;
  /** Why it could not be made: every export fails with it, and it is not made again. */
  #failure: Error | undefined;
  readonly #make: () => T;

  constructor(make: () => T) {
    this.#make = make;
  }

  /**
   * Hands `items` to the exporter, made now if not yet; an exporter that
   * cannot be made fails the export, as a failed export, through `done`.
   */
  export<I>(
    items: I,
    done: (result: ExportResult) => void,
    send: (exporter: T, items: I, done: (result: ExportResult) => void) => void,
  ): void {
    let exporter: T;
    try {
      if (this.#failure !== undefined) throw this.#failure;
      exporter = this.#made ??= this.#make();
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      done({ code: ExportResultCode.FAILED, error: this.#failure });
      return;
    }
    send(exporter, items, done);
  }

  async shutdown(): Promise<void> {
    await this.#made?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.#made?.forceFlush?.();
  }
}

/** The OTLP span exporter for the environment's protocol, endpoint, headers and certificates. */
export function otlpSpanExporter(
  env: Env,
  policy: RetryPolicy,
  aborter: ExportAborter,
): SpanExporter {
  const protocol = protocolFor(env, 'TRACES');
  const make = exporterMaker('TRACES', protocol, policy, aborter);
  const exporter = new Deferred(() => make() as unknown as SpanExporter);
  return {
    export: (spans, done) => exporter.export(spans, done, (e, s, d) => e.export(s, d)),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
}

/**
 * The OTLP metric exporter for the environment's protocol, endpoint, headers
 * and certificates, with the temporality of
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (`cumulative`, the
 * default, `delta` or `lowmemory`), as the upstream OTLP metric exporters
 * choose it.
 */
export function otlpMetricExporter(
  env: Env,
  policy: RetryPolicy,
  aborter: ExportAborter,
): PushMetricExporter {
  const protocol = protocolFor(env, 'METRICS');
  const temporality = temporalityFromEnv(env);
  const make = exporterMaker('METRICS', protocol, policy, aborter);
  const exporter = new Deferred(() => make() as unknown as PushMetricExporter);
  return {
    export: (batch, done) => exporter.export(batch, done, (e, b, d) => e.export(b, d)),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
    selectAggregationTemporality: temporality,
  };
}

const TEMPORALITIES = ['cumulative', 'delta', 'lowmemory'];

/** The upstream OTLP metric exporters' temporality selectors, by preference. */
function temporalityFromEnv(env: Env): (type: InstrumentType) => AggregationTemporality {
  const name = 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE';
  let preference = readStringEnv(env, name)?.toLowerCase() ?? 'cumulative';
  if (!TEMPORALITIES.includes(preference)) {
    warn(
      'OTW004',
      `Unknown ${name} ${JSON.stringify(preference)}; known: ${TEMPORALITIES.join(', ')}; using cumulative`,
      name,
    );
    preference = 'cumulative';
  }
  const { AggregationTemporality: T, InstrumentType: I } = requireHere(
    '@opentelemetry/sdk-metrics',
  ) as typeof import('@opentelemetry/sdk-metrics');
  // Delta for what is summed over an interval; cumulative for up-down counters (and, with
  // lowmemory, for the observable instruments and gauges too).
  const delta =
    preference === 'delta'
      ? [I.COUNTER, I.OBSERVABLE_COUNTER, I.GAUGE, I.HISTOGRAM, I.OBSERVABLE_GAUGE]
      : preference === 'lowmemory'
        ? [I.COUNTER, I.HISTOGRAM]
        : [];
  return (type) => (delta.includes(type) ? T.DELTA : T.CUMULATIVE);
}
