/**
 * The SDK's OTLP trace exporter and metric reader, built as the Node SDK
 * builds them from the environment (the upstream configuration,
 * serializers and export delegate, used as they are), with one part
 * replaced: the transport, by {@link ExitAwareTransport}. Upstream retries
 * on ref'd timers for up to the export timeout (10 s), which kept a short
 * script with no collector alive long after its last line; these exports
 * end at the exit deadline with the logs.
 *
 * Only `otlp` over `http/protobuf` (the default), `http/json` or `grpc` is
 * built here; for anything else (console, prometheus, none, several
 * exporters) the Node SDK builds its own, as before.
 */
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { ExportAborter } from '../exporter/abort.js';
import type { RetryPolicy } from '../exporter/backoff.js';
import { GRPC_EXPORT_PATHS, GrpcSender, type GrpcSenderConfig } from '../exporter/grpc-sender.js';
import { HttpEndpoint, type HttpSenderConfig } from '../exporter/http-sender.js';
import { ExitAwareTransport, grpcAttempts, httpAttempts } from '../exporter/sdk-transport.js';
import { readListEnv, readMillisEnv, readStringEnv, type Env } from '../env.js';
import { requireHere } from '#require-here';

type NodeSdkConfiguration = NonNullable<ConstructorParameters<typeof NodeSDK>[0]>;
type SpanExporter = NonNullable<NodeSdkConfiguration['traceExporter']>;
type MetricReader = NonNullable<NodeSdkConfiguration['metricReaders']>[number];

type Protocol = 'http/protobuf' | 'http/json' | 'grpc';

/** What `OTEL_<SIGNAL>_EXPORTER` and the protocol variables ask for, when it is built here. */
function protocolFor(env: Env, signal: 'TRACES' | 'METRICS'): Protocol | undefined {
  const exporters = readListEnv(env, `OTEL_${signal}_EXPORTER`);
  if (exporters !== undefined && (exporters.length !== 1 || exporters[0] !== 'otlp'))
    return undefined;
  const protocol =
    readStringEnv(env, `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) ??
    readStringEnv(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol === undefined || protocol === 'http/protobuf') return 'http/protobuf';
  return protocol === 'http/json' || protocol === 'grpc' ? protocol : undefined;
}

interface Upstream {
  base: {
    OTLPExporterBase: new (delegate: unknown) => SpanExporter;
    createOtlpNetworkExportDelegate: (
      options: unknown,
      serializer: unknown,
      metrics: unknown,
      transport: ExitAwareTransport,
    ) => unknown;
  };
  nodeHttp: {
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
  transformer: Record<string, unknown>;
}

function upstream(): Upstream {
  return {
    base: requireHere('@opentelemetry/otlp-exporter-base') as Upstream['base'],
    nodeHttp: requireHere('@opentelemetry/otlp-exporter-base/node-http') as Upstream['nodeHttp'],
    transformer: requireHere('@opentelemetry/otlp-transformer') as Record<string, unknown>,
  };
}

/**
 * The export delegate of an upstream OTLP exporter of `signal`, configured
 * from the environment as upstream configures it, on an
 * {@link ExitAwareTransport}.
 */
function delegateFor(
  u: Upstream,
  signal: 'TRACES' | 'METRICS',
  protocol: Protocol,
  policy: RetryPolicy,
  aborter: ExportAborter,
): unknown {
  const kind = signal === 'TRACES' ? 'Trace' : 'Metrics';
  const item = signal === 'TRACES' ? 'span' : 'metric';
  const helper = u.transformer[`${kind}ExporterMetricsHelper`];
  const json = protocol === 'http/json';
  const serializer = u.transformer[`${json ? 'Json' : 'Protobuf'}${kind}Serializer`];
  if (protocol === 'grpc') {
    const grpc = requireHere('@opentelemetry/otlp-grpc-exporter-base') as {
      convertLegacyOtlpGrpcOptions: (
        config: object,
        signal: string,
      ) => GrpcSenderConfig & { timeoutMillis: number };
      createOtlpGrpcExporterMetrics: (type: string, helper: unknown, url: string) => unknown;
    };
    const options = grpc.convertLegacyOtlpGrpcOptions({}, signal);
    const sender = new GrpcSender(
      options,
      GRPC_EXPORT_PATHS[signal === 'TRACES' ? 'traces' : 'metrics'],
    );
    const metrics = grpc.createOtlpGrpcExporterMetrics(
      `otlp_grpc_${item}_exporter`,
      helper,
      options.url,
    );
    const transport = new ExitAwareTransport(grpcAttempts(sender), policy, aborter);
    return u.base.createOtlpNetworkExportDelegate(options, serializer, metrics, transport);
  }
  const options = u.nodeHttp.convertLegacyHttpOptions({}, signal, `v1/${signal.toLowerCase()}`, {
    'Content-Type': json ? 'application/json' : 'application/x-protobuf',
  });
  const metrics = u.nodeHttp.createOtlpHttpExporterMetrics(
    `otlp_http${json ? '_json' : ''}_${item}_exporter`,
    helper,
    options.url,
    undefined,
  );
  const transport = new ExitAwareTransport(
    httpAttempts(new HttpEndpoint(options)),
    policy,
    aborter,
  );
  return u.base.createOtlpNetworkExportDelegate(options, serializer, metrics, transport);
}

/** The trace exporter and metric reader to give the Node SDK, where they are built here. */
export interface SdkExporters {
  readonly traceExporter?: SpanExporter;
  readonly metricReaders?: MetricReader[];
}

/** Builds what {@link protocolFor} allows; the rest is left to the Node SDK. */
export function sdkExportersFromEnv(
  env: Env,
  policy: RetryPolicy,
  aborter: ExportAborter,
): SdkExporters {
  const traces = protocolFor(env, 'TRACES');
  const metrics = protocolFor(env, 'METRICS');
  if (traces === undefined && metrics === undefined) return {};
  const u = upstream();
  const out: { traceExporter?: SpanExporter; metricReaders?: MetricReader[] } = {};
  if (traces !== undefined) {
    out.traceExporter = new u.base.OTLPExporterBase(
      delegateFor(u, 'TRACES', traces, policy, aborter),
    );
  }
  if (metrics !== undefined) {
    const { OTLPMetricExporterBase } = requireHere('@opentelemetry/exporter-metrics-otlp-http') as {
      OTLPMetricExporterBase: new (delegate: unknown, config: object) => unknown;
    };
    const { PeriodicExportingMetricReader } = requireHere(
      '@opentelemetry/sdk-metrics',
    ) as typeof import('@opentelemetry/sdk-metrics');
    const exporter = new OTLPMetricExporterBase(
      delegateFor(u, 'METRICS', metrics, policy, aborter),
      {},
    );
    // As the Node SDK reads them: the timeout no longer than the interval.
    const interval = readMillisEnv(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000);
    const timeout = Math.min(interval, readMillisEnv(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000));
    out.metricReaders = [
      new PeriodicExportingMetricReader({
        exporter: exporter as ConstructorParameters<
          typeof PeriodicExportingMetricReader
        >[0]['exporter'],
        exportIntervalMillis: interval,
        exportTimeoutMillis: timeout,
      }),
    ];
  }
  return out;
}
