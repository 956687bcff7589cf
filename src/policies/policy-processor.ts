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
import {
  ROOT_CONTEXT,
  trace,
  type Attributes,
  type Context,
  type HrTime,
  type SeverityNumber,
  type SpanContext,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { type PolicyDropCounter, type PolicyDropReason } from '../pipeline/accounting.js';
import { invalidOption } from '../errors.js';
import type { AnyValue } from '../mapping/any-value.js';
import { describeError, warn } from '../warnings.js';
import { COUNT_POLICY_DROPS, LOG_POLICY } from '../symbols.js';

/** The parts of a record a policy reads, and the two it may replace. */
export interface PolicyRecord {
  body?: AnyValue;
  attributes?: Attributes;
  readonly severityNumber?: SeverityNumber | undefined;
  readonly severityText?: string | undefined;
}

/** Where a record comes from: its resource and logger (instrumentation scope). */
export interface RecordOrigin {
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
}

/** A record a policy makes itself (a rate limit's summary), for {@link PolicyProcessor.emitOwn}. */
export interface OwnRecord {
  readonly body: string;
  readonly severityNumber: SeverityNumber;
  readonly severityText: string;
  readonly attributes: Attributes;
  /** The trace the record links to, if any. */
  readonly spanContext: SpanContext | undefined;
}

/** A policy: a processor that applies itself to each record and passes it on, or not. */
export abstract class PolicyProcessor implements LogRecordProcessor {
  /** @internal */
  readonly [LOG_POLICY] = true;
  /** The processor each record goes to next. */
  readonly next: LogRecordProcessor;
  /** The pipeline at the end of the chain, which counts this policy's drops; `null` when there is none. */
  #counter: PolicyDropCounter | null | undefined;

  /**
   * What a failure of {@link PolicyProcessor.applyTo} does to the record:
   * true masks its body and attributes (a policy that keeps secrets out must
   * not let one through because it broke); false passes it on unchanged (a
   * policy that only counts or thins records).
   */
  readonly failsClosed: boolean;

  protected constructor(next: LogRecordProcessor, failsClosed = true) {
    this.next = next;
    this.failsClosed = failsClosed;
  }

  /**
   * Applies the policy to `record`, replacing its `body` or `attributes`
   * (never changing the values in place); false drops the record, which the
   * policy counts with {@link PolicyProcessor.countDrop}. Should not throw;
   * if it does, a policy that {@link PolicyProcessor.failsClosed} passes the
   * record on with a placeholder body and no attributes, any other as it was.
   */
  abstract applyTo(
    record: PolicyRecord,
    context: Context | undefined,
    origin: RecordOrigin,
  ): boolean;

  /**
   * Counts `records` this policy dropped in the accounting of the
   * `LogPipeline` the chain ends in (`stats().dropped[reason]`), so that
   * every record logged is still either delivered or counted. A chain that
   * ends in another processor has only the policy's own counts.
   */
  protected countDrop(reason: PolicyDropReason, records = 1): void {
    if (this.#counter === undefined) {
      const { end } = unwrapPolicies(this.next);
      this.#counter =
        typeof (end as Partial<PolicyDropCounter>)[COUNT_POLICY_DROPS] === 'function'
          ? (end as unknown as PolicyDropCounter)
          : null;
    }
    this.#counter?.[COUNT_POLICY_DROPS](reason, records);
  }

  /**
   * Sends a record the policy made itself to the rest of the chain, as a
   * record of `origin`'s resource and logger, timestamped now. False when
   * the next processor threw (said in `diag`, OTW019).
   */
  protected emitOwn(record: OwnRecord, origin: RecordOrigin): boolean {
    const now = Date.now();
    const time: HrTime = [Math.floor(now / 1000), (now % 1000) * 1e6];
    const own = new OwnLogRecord(time, origin, record);
    const context =
      record.spanContext === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, record.spanContext);
    try {
      this.next.onEmit(own, context);
      return true;
    } catch (error) {
      // From a timer too: it must not reach the app.
      warn('OTW019', `a log policy's own record could not be passed on: ${describeError(error)}`);
      return false;
    }
  }

  /**
   * The SDK's entry point: applies the policy to the record and hands it to
   * {@link PolicyProcessor.next}, or drops it and counts the drop. Never throws.
   */
  onEmit(logRecord: ReadWriteLogRecord, context?: Context): void {
    const view: PolicyRecord = {
      body: logRecord.body as AnyValue | undefined,
      attributes: logRecord.attributes,
      severityNumber: logRecord.severityNumber,
      severityText: logRecord.severityText,
    };
    if (!applyPolicy(this, view, context, logRecord)) return;
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
 * `policy.applyTo(record)`, never throwing. A policy that throws and
 * {@link PolicyProcessor.failsClosed} leaves a record with a placeholder body
 * and no attributes, which goes on (and is counted like any other), rather
 * than one it could not judge; any other policy leaves the record as it was.
 */
export function applyPolicy(
  policy: PolicyProcessor,
  record: PolicyRecord,
  context: Context | undefined,
  origin: RecordOrigin,
): boolean {
  try {
    return policy.applyTo(record, context, origin);
  } catch (error) {
    if (!policy.failsClosed) {
      warn('OTW019', `a log policy failed (${describeError(error)}); the record goes on as it was`);
      return true;
    }
    warn(
      'OTW019',
      `a log policy failed (${describeError(error)}); the record goes on with its body and attributes masked`,
    );
    record.body = '****';
    record.attributes = {};
    return true;
  }
}

/**
 * `options` as the options of a policy: an object whose `next` is a
 * LogRecordProcessor. Throws an `OtelWinstonError` naming what is wrong.
 */
export function checkPolicyOptions<T extends { readonly next: LogRecordProcessor }>(
  options: unknown,
): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption('options', 'an object with `next`', options);
  }
  const next = (options as { next?: { onEmit?: unknown } | null }).next;
  if (typeof next !== 'object' || next === null || typeof next.onEmit !== 'function') {
    throw invalidOption('next', 'a LogRecordProcessor', next);
  }
  return options as T;
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

/** A record made by a policy, in the shape every log processor reads. */
class OwnLogRecord implements ReadWriteLogRecord {
  readonly hrTime: HrTime;
  readonly hrTimeObserved: HrTime;
  readonly spanContext: SpanContext | undefined;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly attributes: Attributes;
  severityText: string | undefined;
  severityNumber: SeverityNumber | undefined;
  body: AnyValue | undefined;
  eventName: string | undefined;
  readonly droppedAttributesCount = 0;

  constructor(time: HrTime, origin: RecordOrigin, record: OwnRecord) {
    this.hrTime = time;
    this.hrTimeObserved = time;
    this.spanContext = record.spanContext;
    this.resource = origin.resource;
    this.instrumentationScope = origin.instrumentationScope;
    this.attributes = { ...record.attributes };
    this.severityText = record.severityText;
    this.severityNumber = record.severityNumber;
    this.body = record.body;
  }

  setAttribute(key: string, value?: AnyValue): this {
    if (value === undefined) delete (this.attributes as Record<string, unknown>)[key];
    else (this.attributes as Record<string, unknown>)[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes))
      this.setAttribute(key, value as AnyValue);
    return this;
  }

  setBody(body: AnyValue): this {
    this.body = body;
    return this;
  }

  setEventName(eventName: string): this {
    this.eventName = eventName;
    return this;
  }

  setSeverityNumber(severityNumber: SeverityNumber): this {
    this.severityNumber = severityNumber;
    return this;
  }

  setSeverityText(severityText: string): this {
    this.severityText = severityText;
    return this;
  }
}
