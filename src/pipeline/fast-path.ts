/**
 * The transport's fast path into a {@link LogPipeline}: when a Logger's
 * provider has the pipeline as its one processor, the transport hands the
 * record it built straight to the pipeline, which encodes it, instead of
 * `Logger.emit()` copying it into the SDK's `LogRecordImpl` (attributes
 * checked and copied one by one) only for the pipeline to read it back.
 *
 * The result is the same on the wire (a test compares both paths), because
 * the fast path is taken only when nothing the SDK would do can differ:
 *
 * - the pipeline is the provider's only processor, alone or behind policies
 *   (`src/policies/`), which the fast path applies in their order, so no
 *   other processor misses the record;
 * - the provider's attribute limits are no stricter than the transport's,
 *   which already applied its own;
 * - the logger's configuration (enabled, minimum severity, trace-based) is
 *   honoured as `Logger.enabled()` does. One difference, on purpose: a record
 *   logged once the provider has begun to shut down, which `Logger.emit()`
 *   drops without a trace, still reaches the pipeline, which sends it while
 *   it drains, or counts it (`already_shutdown`);
 * - the SDK's `otel.sdk.log.created` counter is still incremented.
 *
 * This reads sdk-logs internals (`Logger._sharedState`, `_loggerConfig`,
 * `_instrumentationScope`, checked against sdk-logs 3.x); when they are not
 * there or not as expected, there is no fast path and `Logger.emit()` is used.
 */
import {
  isSpanContextValid,
  SeverityNumber,
  trace,
  TraceFlags,
  type Context,
  type LogRecord,
  type Logger,
} from '@opentelemetry/api';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { BatchTarget } from '../batch/batch-queue.js';
import {
  applyPolicy,
  unwrapPolicies,
  type PolicyRecord,
  type RecordOrigin,
} from '../policies/policy-processor.js';
import { type LogPipeline } from './log-pipeline.js';
import { LOG_PIPELINE } from '../symbols.js';

/** What the transport hands a record to instead of `Logger.emit()`. */
export interface DirectSink {
  /** `Logger.enabled()` of the SDK logger, without its per-call objects. */
  enabled(severityNumber: SeverityNumber, context: Context): boolean;
  emit(record: LogRecord): void;
}

interface LoggerConfig {
  readonly enabled: boolean;
  readonly minimumSeverity: number;
  readonly traceBased: boolean;
}

function isLoggerConfig(value: unknown): value is LoggerConfig {
  const c = value as Partial<LoggerConfig> | null | undefined;
  return (
    typeof c?.enabled === 'boolean' &&
    typeof c.minimumSeverity === 'number' &&
    typeof c.traceBased === 'boolean'
  );
}

interface SdkLoggerInternals {
  _instrumentationScope?: unknown;
  _loggerConfig?: unknown;
  _sharedState?: {
    hasShutdown?: unknown;
    resource?: unknown;
    registeredLogRecordProcessors?: unknown;
    logRecordLimits?: { attributeCountLimit?: unknown; attributeValueLengthLimit?: unknown };
    loggerMetrics?: { emitLog?: unknown };
  };
}

/** The limits the transport applies to attributes before a record reaches the SDK. */
export interface TransportAttributeLimits {
  readonly attributeCountLimit: number;
  /** Longest attribute string or byte array the transport lets through. */
  readonly maxAttributeLength: number;
}

/**
 * The direct sink for records of `logger`, or `undefined` when its records
 * must go through `Logger.emit()`. Decided once per logger.
 */
export function directSinkFor(
  logger: Logger,
  limits: TransportAttributeLimits,
): DirectSink | undefined {
  try {
    const internals = logger as SdkLoggerInternals;
    const shared = internals._sharedState;
    const scope = internals._instrumentationScope;
    const config = internals._loggerConfig;
    const processors = shared?.registeredLogRecordProcessors;
    if (
      shared === undefined ||
      !isLoggerConfig(config) ||
      typeof shared.hasShutdown !== 'boolean' ||
      typeof scope !== 'object' ||
      scope === null ||
      typeof shared.resource !== 'object' ||
      shared.resource === null ||
      !Array.isArray(processors) ||
      processors.length !== 1
    ) {
      return undefined;
    }
    // The pipeline, or policies that end in it: they apply to the record on the way.
    const { policies, end } = unwrapPolicies(processors[0] as LogRecordProcessor);
    if ((end as { [LOG_PIPELINE]?: unknown })[LOG_PIPELINE] !== true) return undefined;
    const countLimit = shared.logRecordLimits?.attributeCountLimit;
    const lengthLimit = shared.logRecordLimits?.attributeValueLengthLimit;
    if (
      typeof countLimit !== 'number' ||
      typeof lengthLimit !== 'number' ||
      countLimit < limits.attributeCountLimit ||
      (lengthLimit > 0 && lengthLimit < limits.maxAttributeLength)
    ) {
      return undefined;
    }
    const pipeline = end as LogPipeline;
    const origin: RecordOrigin = {
      resource: shared.resource as RecordOrigin['resource'],
      instrumentationScope: scope as RecordOrigin['instrumentationScope'],
    };
    const target: BatchTarget = pipeline.targetFor(origin.resource, origin.instrumentationScope);
    const metrics = shared.loggerMetrics;
    const created =
      typeof metrics?.emitLog === 'function'
        ? (metrics.emitLog as () => void).bind(metrics)
        : undefined;
    // sdk-logs keeps the array the provider was given: if the app adds a processor to it
    // later, records go through Logger.emit() again, so that the new one sees them.
    const alone = (): boolean => processors.length === 1;
    return {
      // As Logger.enabled() decides, with the pipeline (which has no enabled()) the one processor.
      enabled(severityNumber, context) {
        if (!alone()) return logger.enabled({ context, severityNumber });
        // Once the provider shuts down, Logger.emit() drops records without a count; the
        // pipeline takes them instead: it sends them while it drains, then counts them.
        if (shared.hasShutdown === true) return true;
        if (!config.enabled) return false;
        if (
          severityNumber !== SeverityNumber.UNSPECIFIED &&
          severityNumber < config.minimumSeverity
        ) {
          return false;
        }
        if (config.traceBased) {
          const span = trace.getSpanContext(context);
          if (span !== undefined && isSpanContextValid(span)) {
            return (span.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
          }
        }
        return true;
      },
      emit(record) {
        if (!alone()) {
          logger.emit(record);
          return;
        }
        created?.();
        for (const policy of policies) {
          if (!applyPolicy(policy, record as PolicyRecord, record.context, origin)) return;
        }
        pipeline.emitFields(target, record as Parameters<LogPipeline['emitFields']>[1]);
      },
    };
  } catch {
    return undefined;
  }
}
