/**
 * The policies stage: processors that see a record after the transport
 * built it (mapping, enrichment) and before the pipeline encodes it, each
 * wrapping the next one, so that a policy can change or drop a record
 * before any exporter sees it:
 *
 * ```text
 * OtelTransport ─▶ RedactionProcessor ─▶ (another policy) ─▶ LogPipeline
 * ```
 *
 * A chain of policies that ends in a {@link LogPipeline} keeps the
 * transport's fast path: the transport hands its record to
 * {@link PolicyProcessor.applyTo} of each policy in turn, then to the
 * pipeline, without the SDK's `LogRecordImpl` in between
 * (`src/pipeline/fast-path.ts`). Through `Logger.emit()` the same policies
 * run in {@link PolicyProcessor.onEmit}.
 */
import type { Attributes, Context } from '@opentelemetry/api';
import type { AnyValue } from '../transport/any-value.js';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { describeError, warn } from '../warnings.js';

/** Marks a {@link PolicyProcessor}, across the CommonJS and ESM copies of this package. */
export const LOG_POLICY = Symbol.for('otel-winston.log-policy.v1');

/** The parts of a record a policy reads and may replace. */
export interface PolicyRecord {
  body?: AnyValue;
  attributes?: Attributes;
}

/** A policy: a processor that applies itself to each record and passes it on, or not. */
export abstract class PolicyProcessor implements LogRecordProcessor {
  readonly [LOG_POLICY] = true;
  /** The processor each record goes to next. */
  readonly next: LogRecordProcessor;

  protected constructor(next: LogRecordProcessor) {
    this.next = next;
  }

  /**
   * Applies the policy to `record`, replacing its `body` or `attributes`
   * (never changing the values in place); false drops the record. Should
   * not throw; if it does, {@link applyPolicy} masks the record.
   */
  abstract applyTo(record: PolicyRecord, context: Context | undefined): boolean;

  onEmit(logRecord: ReadWriteLogRecord, context?: Context): void {
    const view: PolicyRecord = {
      body: logRecord.body as AnyValue | undefined,
      attributes: logRecord.attributes,
    };
    if (!applyPolicy(this, view, context)) return;
    if (view.body !== logRecord.body) logRecord.setBody(view.body as AnyValue);
    if (view.attributes !== logRecord.attributes && view.attributes !== undefined) {
      // The SDK record's attributes are a plain object it owns: bring it to the new one.
      const own = logRecord.attributes as Record<string, unknown>;
      for (const key of Object.keys(own)) if (!Object.hasOwn(view.attributes, key)) delete own[key];
      Object.assign(own, view.attributes);
    }
    this.next.onEmit(logRecord, context);
  }

  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/**
 * `policy.applyTo(record)`, failing closed: a policy that throws leaves a
 * record with a placeholder body and no attributes, which goes on (and is
 * counted like any other), rather than one it could not judge.
 */
export function applyPolicy(
  policy: PolicyProcessor,
  record: PolicyRecord,
  context: Context | undefined,
): boolean {
  try {
    return policy.applyTo(record, context);
  } catch (error) {
    warn(
      'OTW019',
      `a log policy failed (${describeError(error)}); the record goes on with its body and attributes masked`,
    );
    record.body = '****';
    record.attributes = {};
    return true;
  }
}

/** Whether `processor` is a {@link PolicyProcessor} (of any copy of this package). */
export function isPolicy(processor: unknown): processor is PolicyProcessor {
  return (processor as { [LOG_POLICY]?: unknown } | null)?.[LOG_POLICY] === true;
}

/** The policies from `processor` on, and the processor they end in. */
export function unwrapPolicies(processor: LogRecordProcessor): {
  readonly policies: readonly PolicyProcessor[];
  readonly end: LogRecordProcessor;
} {
  const policies: PolicyProcessor[] = [];
  let at = processor;
  while (isPolicy(at) && policies.length < 64) {
    policies.push(at);
    at = at.next;
  }
  return { policies, end: at };
}
