/**
 * The OpenTelemetry SDK of this process, assembled from the `OTEL_*`
 * environment as `@opentelemetry/sdk-node`'s `NodeSDK` assembles it (0.301:
 * `sdk.ts`, `utils.ts`, `create-from-env.ts`): the same steps in the same
 * order, the same variables and defaults. It is not `NodeSDK` itself because
 * `NodeSDK` loads every exporter it could build (gRPC, Zipkin, Prometheus,
 * each OTLP flavour of each signal) before it reads the environment: 0.8 s of
 * a 0.9 s start here. Each part below is loaded when the environment asks for
 * it, and the OTLP exporters' serializers at their first export.
 *
 * ```text
 * instrumentations ─▶ context manager ─▶ propagator (OTEL_PROPAGATORS) ─▶ resource
 *   ─▶ MeterProvider   (OTEL_METRICS_EXPORTER: otlp, console, prometheus, none)
 *   ─▶ TracerProvider  (OTEL_TRACES_EXPORTER: otlp, console, zipkin, none;
 *                       OTEL_TRACES_SAMPLER[_ARG], OTEL_SPAN_*_LIMIT, OTEL_BSP_*)
 *   ─▶ LoggerProvider  (the log processors: the pipeline and its policies)
 * ```
 *
 * `OTEL_NODE_EXPERIMENTAL_SDK_METRICS=true` gives each provider the
 * MeterProvider for the SDK's own metrics, as in the Node SDK.
 *
 * Unknown names in a list get a coded warning (OTW004) where the Node SDK
 * writes to `diag`; Zipkin and Prometheus need their exporter packages,
 * which are optional peers.
 */
import {
  context,
  metrics,
  propagation,
  trace,
  logs,
  type TextMapPropagator,
} from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { ResourceDetector, Resource } from '@opentelemetry/resources';
import type { LoggerProvider, LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { Sampler, SpanLimits, SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { requireHere } from '#require-here';
import type { ExportAborter } from '../exporter/abort.js';
import type { RetryPolicy } from '../exporter/backoff.js';
import {
  readIntegerEnv,
  readListEnv,
  readMillisEnv,
  readOptionalIntegerEnv,
  readSpecBooleanEnv,
  readStringEnv,
  type Env,
} from '../env.js';
import { attributeLimitsFromEnv } from '../limits.js';
import { NODE_WARNING_TYPE, warn } from '../warnings.js';
import { otlpMetricExporter, otlpSpanExporter } from './sdk-exporters.js';

/** What the SDK is made of besides the environment. */
export interface SdkParts {
  readonly instrumentations: readonly Instrumentation[];
  /** Wins over every detected `service.name`. */
  readonly serviceName: string | undefined;
  /** Used when nothing else names the service (else it is `unknown_service:node`). */
  readonly fallbackServiceName: string | undefined;
  readonly resourceDetectors: readonly ResourceDetector[];
  /** The LoggerProvider's processors; `undefined` for no LoggerProvider (`OTEL_LOGS_EXPORTER=none`). */
  readonly logProcessors: LogRecordProcessor[] | undefined;
  /** Span and metric exports retry as the logs do. */
  readonly retry: RetryPolicy;
  /** Stops span and metric exports at the exit deadline. */
  readonly aborter: ExportAborter;
}

/** The started SDK. */
export interface StartedSdk {
  /** Shuts each provider down (each flushes first). */
  shutdown(): Promise<void>;
}

const load = <T>(id: string): T => requireHere(id) as T;
type Core = typeof import('@opentelemetry/core');
type Metrics = typeof import('@opentelemetry/sdk-metrics');
type Traces = typeof import('@opentelemetry/sdk-trace');

/** Whether an optional peer dependency is installed, resolved as this package would load it. */
export function installed(id: string): boolean {
  try {
    requireHere.resolve(id);
    return true;
  } catch {
    return false;
  }
}

/**
 * The names in `variable` (`fallback` when unset), each known to `known`, the
 * others warned about; `[]` when `none` is among them.
 */
function chosen(
  env: Env,
  variable: string,
  known: readonly string[],
  fallback: string[],
): string[] {
  const listed = readListEnv(env, variable) ?? fallback;
  if (listed.includes('none')) return [];
  const unknown = listed.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    warn(
      'OTW004',
      `Unknown value(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')} in ${variable}; known: ${[...known, 'none'].join(', ')}`,
      variable,
    );
  }
  return [...new Set(listed.filter((name) => known.includes(name)))];
}

/** An optional peer's export, or `undefined` with a warning that says what to install. */
function optionalPeer<T>(id: string, variable: string, value: string): T | undefined {
  if (installed(id)) return load<T>(id);
  // A whole signal goes nowhere: said as a Node.js warning too, which needs no OTEL_LOG_LEVEL.
  const message = `${variable}=${value} needs ${id}, which is not installed: npm install ${id}`;
  warn('OTW004', message, `${variable}:${value}`);
  process.emitWarning(message, { type: NODE_WARNING_TYPE, code: 'OTW004' });
  return undefined;
}

const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi'];

/** `OTEL_PROPAGATORS` (default `tracecontext,baggage`); `undefined` for `none`. */
function propagatorFromEnv(env: Env): TextMapPropagator | undefined {
  const core = load<Core>('@opentelemetry/core');
  const names = chosen(env, 'OTEL_PROPAGATORS', PROPAGATORS, ['tracecontext', 'baggage']);
  const made = names.map((name): TextMapPropagator => {
    if (name === 'tracecontext') return new core.W3CTraceContextPropagator();
    if (name === 'baggage') return new core.W3CBaggagePropagator();
    const b3 = load<typeof import('@opentelemetry/propagator-b3')>('@opentelemetry/propagator-b3');
    return new b3.B3Propagator(
      name === 'b3multi' ? { injectEncoding: b3.B3InjectEncoding.MULTI_HEADER } : {},
    );
  });
  if (made.length === 0) return undefined;
  return made.length === 1 ? made[0] : new core.CompositePropagator({ propagators: made });
}

/**
 * The default resource; over it the fallback service name, then what the
 * detectors find (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, a
 * platform's name), then the service name given in code. Nothing here reads
 * the attributes: some detectors answer later, and the exporters wait.
 */
function resourceOf(parts: SdkParts): Resource {
  const r = load<typeof import('@opentelemetry/resources')>('@opentelemetry/resources');
  const named = (name: string | undefined): Resource =>
    r.resourceFromAttributes(name !== undefined ? { 'service.name': name } : {});
  return r
    .defaultResource()
    .merge(named(parts.fallbackServiceName))
    .merge(r.detectResources({ detectors: [...parts.resourceDetectors] }))
    .merge(named(parts.serviceName));
}

/** `OTEL_METRICS_EXPORTER` (default `otlp`), as readers. */
function metricReadersFromEnv(env: Env, parts: SdkParts): MetricReader[] {
  const names = chosen(env, 'OTEL_METRICS_EXPORTER', ['otlp', 'console', 'prometheus'], ['otlp']);
  if (names.length === 0) return [];
  const m = load<Metrics>('@opentelemetry/sdk-metrics');
  // As the Node SDK reads them: the timeout no longer than the interval.
  const interval = readMillisEnv(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000);
  const timeout = Math.min(interval, readMillisEnv(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000));
  const readers: MetricReader[] = [];
  for (const name of names) {
    if (name === 'otlp') {
      readers.push(
        new m.PeriodicExportingMetricReader({
          exporter: otlpMetricExporter(env, parts.retry, parts.aborter),
          exportIntervalMillis: interval,
          exportTimeoutMillis: timeout,
        }),
      );
    } else if (name === 'console') {
      readers.push(
        new m.PeriodicExportingMetricReader({ exporter: new m.ConsoleMetricExporter() }),
      );
    } else {
      const prometheus = optionalPeer<typeof import('@opentelemetry/exporter-prometheus')>(
        '@opentelemetry/exporter-prometheus',
        'OTEL_METRICS_EXPORTER',
        name,
      );
      if (prometheus !== undefined) {
        const port = readOptionalIntegerEnv(env, ['OTEL_EXPORTER_PROMETHEUS_PORT'], 0, 65_535);
        // It pins its own @opentelemetry/sdk-metrics: the same reader, another copy of the class.
        readers.push(
          new prometheus.PrometheusExporter({
            ...(readStringEnv(env, 'OTEL_EXPORTER_PROMETHEUS_HOST') !== undefined
              ? { host: readStringEnv(env, 'OTEL_EXPORTER_PROMETHEUS_HOST') }
              : {}),
            ...(port !== undefined ? { port } : {}),
          }) as unknown as MetricReader,
        );
      }
    }
  }
  return readers;
}

/** `OTEL_TRACES_EXPORTER` (default `otlp`), as span processors. */
function spanProcessorsFromEnv(
  env: Env,
  parts: SdkParts,
  t: Traces,
  selfObsMeterProvider: MeterProvider | undefined,
): SpanProcessor[] {
  const self = selfObsMeterProvider !== undefined ? { selfObsMeterProvider } : {};
  const names = chosen(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'console', 'zipkin'], ['otlp']);
  const batch = (exporter: ConstructorParameters<typeof t.BatchSpanProcessor>[0]['exporter']) =>
    new t.BatchSpanProcessor({
      exporter,
      ...self,
      maxQueueSize: readIntegerEnv(env, ['OTEL_BSP_MAX_QUEUE_SIZE'], 2048, 1),
      maxExportBatchSize: readIntegerEnv(env, ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE'], 512, 1),
      scheduledDelayMillis: readMillisEnv(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
      exportTimeoutMillis: readMillisEnv(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
    });
  const processors: SpanProcessor[] = [];
  for (const name of names) {
    if (name === 'otlp') {
      processors.push(batch(otlpSpanExporter(env, parts.retry, parts.aborter)));
    } else if (name === 'console') {
      processors.push(
        new t.SimpleSpanProcessor({ exporter: new t.ConsoleSpanExporter(), ...self }),
      );
    } else {
      const zipkin = optionalPeer<typeof import('@opentelemetry/exporter-zipkin')>(
        '@opentelemetry/exporter-zipkin',
        'OTEL_TRACES_EXPORTER',
        name,
      );
      if (zipkin !== undefined) processors.push(batch(new zipkin.ZipkinExporter()));
    }
  }
  return processors;
}

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/** `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`; `undefined` for the SDK's default (parent-based, always on). */
function samplerFromEnv(env: Env, t: Traces): Sampler | undefined {
  const name = readStringEnv(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase();
  if (name === undefined) return undefined;
  if (!SAMPLERS.includes(name)) {
    warn(
      'OTW004',
      `Unknown OTEL_TRACES_SAMPLER ${JSON.stringify(name)}; known: ${SAMPLERS.join(', ')}; using parentbased_always_on`,
      'OTEL_TRACES_SAMPLER',
    );
    return undefined;
  }
  const root = name.endsWith('always_on')
    ? new t.AlwaysOnSampler()
    : name.endsWith('always_off')
      ? new t.AlwaysOffSampler()
      : new t.TraceIdRatioBasedSampler(ratioFromEnv(env));
  return name.startsWith('parentbased_') ? new t.ParentBasedSampler({ root }) : root;
}

/** `OTEL_TRACES_SAMPLER_ARG`: a ratio from 0 to 1, 1 when unset or out of range. */
function ratioFromEnv(env: Env): number {
  const raw = readStringEnv(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (raw === undefined) return 1;
  const ratio = Number(raw);
  if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return ratio;
  warn(
    'OTW004',
    `Expected OTEL_TRACES_SAMPLER_ARG to be a ratio from 0 to 1, got ${JSON.stringify(raw)}; using 1`,
    'OTEL_TRACES_SAMPLER_ARG',
  );
  return 1;
}

/** The span limits of `OTEL_SPAN_*_LIMIT` and the general `OTEL_ATTRIBUTE_*_LIMIT`; unset ones keep the SDK's. */
function spanLimitsFromEnv(env: Env): SpanLimits {
  const limits: Record<string, number> = {};
  const set = (key: keyof SpanLimits, names: string[], min: number): void => {
    const value = readOptionalIntegerEnv(env, names, min);
    if (value !== undefined) limits[key] = value;
  };
  set('attributeCountLimit', ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT'], 0);
  set(
    'attributeValueLengthLimit',
    ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'],
    1,
  );
  set('eventCountLimit', ['OTEL_SPAN_EVENT_COUNT_LIMIT'], 0);
  set('linkCountLimit', ['OTEL_SPAN_LINK_COUNT_LIMIT'], 0);
  set(
    'attributePerEventCountLimit',
    ['OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT'],
    0,
  );
  set(
    'attributePerLinkCountLimit',
    ['OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT'],
    0,
  );
  return limits;
}

/**
 * Starts the SDK: makes each provider the environment asks for, then
 * registers the instrumentations, the context manager, the propagator and
 * the providers, in the Node SDK's order. Everything is made before anything
 * is registered, so a failure (an SDK constructor that throws) leaves no
 * half-started SDK behind: it throws, and the globals are untouched.
 */
export function startSdk(env: Env, parts: SdkParts): StartedSdk {
  const instrumentation = load<typeof import('@opentelemetry/instrumentation')>(
    '@opentelemetry/instrumentation',
  );
  const { AsyncLocalStorageContextManager } = load<
    typeof import('@opentelemetry/context-async-hooks')
  >('@opentelemetry/context-async-hooks');
  const propagator = propagatorFromEnv(env);
  const resource = resourceOf(parts);

  // The SDK's own metrics (otel.sdk.span.*, otel.sdk.log.created, …), off by default as in the Node SDK.
  const sdkMetricsEnabled = readSpecBooleanEnv(env, 'OTEL_NODE_EXPERIMENTAL_SDK_METRICS');
  const readers = metricReadersFromEnv(env, parts);
  const meterProvider =
    readers.length > 0
      ? new (load<Metrics>('@opentelemetry/sdk-metrics').MeterProvider)({
          resource,
          readers,
          sdkMetricsEnabled,
        })
      : undefined;
  const selfMetrics = sdkMetricsEnabled && meterProvider !== undefined ? { meterProvider } : {};
  const t = load<Traces>('@opentelemetry/sdk-trace');
  const spanProcessors = spanProcessorsFromEnv(env, parts, t, selfMetrics.meterProvider);
  const sampler = spanProcessors.length > 0 ? samplerFromEnv(env, t) : undefined;
  const tracerProvider =
    spanProcessors.length > 0
      ? new t.TracerProvider({
          resource,
          spanProcessors,
          spanLimits: spanLimitsFromEnv(env),
          ...(sampler !== undefined ? { sampler } : {}),
          ...selfMetrics,
        })
      : undefined;
  const loggerProvider =
    parts.logProcessors !== undefined
      ? new (load<typeof import('@opentelemetry/sdk-logs')>(
          '@opentelemetry/sdk-logs',
        ).LoggerProvider)({
          resource,
          processors: parts.logProcessors,
          logRecordLimits: attributeLimitsFromEnv(env),
          ...selfMetrics,
        })
      : undefined;

  instrumentation.registerInstrumentations({ instrumentations: [...parts.instrumentations] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (propagator !== undefined) propagation.setGlobalPropagator(propagator);
  if (meterProvider !== undefined) {
    metrics.setGlobalMeterProvider(meterProvider);
    for (const each of parts.instrumentations) each.setMeterProvider(metrics.getMeterProvider());
  }
  if (tracerProvider !== undefined) trace.setGlobalTracerProvider(tracerProvider);
  if (loggerProvider !== undefined) logs.setGlobalLoggerProvider(loggerProvider);
  const providers = [meterProvider, tracerProvider, loggerProvider].filter(
    (p): p is MeterProvider | TracerProvider | LoggerProvider => p !== undefined,
  );
  return {
    async shutdown() {
      await Promise.all(providers.map((provider) => provider.shutdown()));
    },
  };
}
