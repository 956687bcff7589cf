import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { type PolicyDropCounter } from '../pipeline/accounting.js';
import { LogPipeline } from '../pipeline/log-pipeline.js';
import { describeError, warn } from '../warnings.js';
import { LogMetricsProcessor } from '../policies/metrics/log-metrics-processor.js';
import { RateLimitProcessor } from '../policies/rate-limit/rate-limit-processor.js';
import { RedactionProcessor } from '../policies/redaction/redaction-processor.js';
import { SamplingProcessor } from '../policies/sampling/sampling-processor.js';
import { readBooleanEnv, readListEnv } from '../env.js';
import { requireHere } from '#require-here';
import { COUNT_POLICY_DROPS } from '../symbols.js';

/** The log processors the preload installs, and the pipeline among them. */
export interface LogProcessors {
  readonly processors: LogRecordProcessor[];
  /** The `otlp` exporter's pipeline, for the exit hooks. */
  readonly pipeline: LogPipeline | undefined;
}

const EXPORTERS = ['otlp', 'console', 'none'];

/**
 * The log processors for `OTEL_LOGS_EXPORTER`, as the Node SDK would make
 * them, except that `otlp` (the default) is a {@link LogPipeline} instead of
 * the SDK's `BatchLogRecordProcessor` and OTLP exporter, all behind the
 * policies the environment turns on (see {@link policiesFromEnv}).
 * `undefined` for `none`: the SDK then starts no LoggerProvider, as it does
 * itself.
 */
export function logProcessorsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LogProcessors | undefined {
  const listed = readListEnv(env, 'OTEL_LOGS_EXPORTER') ?? ['otlp'];
  if (listed.includes('none')) return undefined;
  const unknown = listed.filter((name) => !EXPORTERS.includes(name));
  if (unknown.length > 0) {
    warn(
      'OTW004',
      `Unknown OTEL_LOGS_EXPORTER value(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${EXPORTERS.join(', ')}`,
      'OTEL_LOGS_EXPORTER',
    );
  }
  const names = new Set(listed.filter((name) => EXPORTERS.includes(name)));
  if (names.size === 0) names.add('otlp');
  const processors: LogRecordProcessor[] = [];
  let pipeline: LogPipeline | undefined;
  if (names.has('console')) {
    const { ConsoleLogRecordExporter, SimpleLogRecordProcessor } = requireHere(
      '@opentelemetry/sdk-logs',
    ) as typeof import('@opentelemetry/sdk-logs');
    processors.push(new SimpleLogRecordProcessor({ exporter: new ConsoleLogRecordExporter() }));
  }
  if (names.has('otlp')) {
    try {
      pipeline = new LogPipeline();
      // Last: it encodes each record when it gets it, after the others have seen it.
      processors.push(pipeline);
    } catch (error) {
      // Only the environment configures it here: a header gRPC cannot carry, say.
      warn('OTW011', `logs are not exported: ${describeError(error)}`, 'logs');
    }
  }
  if (processors.length === 0) return { processors, pipeline };
  // Policies come before every exporter: the console's included.
  const next = processors.length === 1 ? processors[0]! : fanOut(processors);
  const head = policiesFromEnv(next, env);
  return { processors: [head], pipeline };
}

/** Makes one policy, or says why not and leaves it out. */
type PolicyFactory = (
  next: LogRecordProcessor,
) => LogRecordProcessor & { readonly active?: boolean };

/**
 * The policies in front of `next`, in the pipeline's order, each made from
 * the environment, and left out when it would do nothing:
 *
 * ```text
 * RedactionProcessor ─▶ LogMetricsProcessor ─▶ SamplingProcessor ─▶ RateLimitProcessor ─▶ next
 * (on; REDACT=off)      (on; LOG_METRICS=off)   (LOGS_SAMPLER_*)      (LOGS_RATE_LIMIT)
 * ```
 *
 * Redaction first, so that nothing after it sees a secret; the metrics next,
 * so that they count every record, before sampling and rate limits drop any.
 * A policy that cannot be made warns (OTW011) and is left out.
 */
export function policiesFromEnv(
  next: LogRecordProcessor,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LogRecordProcessor {
  const factories: [string, PolicyFactory | undefined][] = [
    ['rate limits', (n) => new RateLimitProcessor({ next: n }, env)],
    ['sampling', (n) => new SamplingProcessor({ next: n }, env)],
    ['log metrics', (n) => new LogMetricsProcessor({ next: n }, env)],
    [
      'redaction',
      readBooleanEnv(env, 'OTEL_WINSTON_REDACT', true)
        ? (n) => new RedactionProcessor({ next: n }, env)
        : undefined,
    ],
  ];
  let head = next;
  for (const [what, make] of factories) {
    if (make === undefined) continue;
    try {
      const policy = make(head);
      if (policy.active !== false) head = policy;
    } catch (error) {
      warn('OTW011', `log records get no ${what}: ${describeError(error)}`, what);
    }
  }
  return head;
}

/** One processor that hands each record to each of `processors`, in order, and policy drops to those that count them. */
function fanOut(processors: readonly LogRecordProcessor[]): LogRecordProcessor & PolicyDropCounter {
  return {
    onEmit: (record, context) => {
      for (const p of processors) p.onEmit(record, context);
    },
    forceFlush: async () => {
      await Promise.all(processors.map((p) => p.forceFlush()));
    },
    shutdown: async () => {
      await Promise.all(processors.map((p) => p.shutdown()));
    },
    [COUNT_POLICY_DROPS]: (reason, records) => {
      for (const p of processors) {
        (p as Partial<PolicyDropCounter>)[COUNT_POLICY_DROPS]?.(reason, records);
      }
    },
  };
}
