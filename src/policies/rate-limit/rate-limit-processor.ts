import {
  isSpanContextValid,
  SeverityNumber,
  trace,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import type { Defaults } from '../../defaults.js';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { checkInteger } from '../../errors.js';
import { readIntegerEnv, readMillisEnv } from '../../env.js';
import {
  checkPolicyOptions,
  PolicyProcessor,
  type PolicyRecord,
  type RecordOrigin,
} from '../policy-processor.js';
import { TemplateCache } from './message-template.js';

/** Options of {@link RateLimitProcessor}. */
export interface RateLimitOptions {
  /** The processor each record (and each summary) goes to. */
  readonly next: LogRecordProcessor;
  /**
   * Records of one template let through per interval, on average; 0 turns
   * the limit off.
   * @default `OTEL_WINSTON_LOGS_RATE_LIMIT`, else 0 (off)
   */
  readonly recordsPerInterval?: number;
  /**
   * The interval of the rate, and of the summaries.
   * @default `OTEL_WINSTON_LOGS_RATE_LIMIT_INTERVAL_MS`, else 10000
   */
  readonly intervalMillis?: number;
  /**
   * Records of one template let through at once after a quiet spell: the bucket's size.
   * @default `OTEL_WINSTON_LOGS_RATE_LIMIT_BURST`, else `recordsPerInterval`
   */
  readonly burst?: number;
  /**
   * Templates tracked at once; past it the least recently seen is forgotten
   * (its pending summary sent first). Each costs about 0.6 KiB with a
   * 40-character template and 1 KiB with a 200-character one (the longest kept):
   * at most about 10 MiB at the default.
   * @default `OTEL_WINSTON_LOGS_RATE_LIMIT_MAX_KEYS`, else 10000
   */
  readonly maxKeys?: number;
}

/** What a {@link RateLimitProcessor} did so far. */
export interface RateLimitCounts {
  /** Records let through. */
  readonly passed: number;
  /** Records suppressed. */
  readonly suppressed: number;
  /** Summary records sent; their counts add up to `suppressed` once none is pending. */
  readonly summaries: number;
  /** Suppressed records the summaries sent so far account for. */
  readonly summarized: number;
  /** Templates tracked now. */
  readonly keys: number;
}

/** The attribute of a summary record with the number of records it stands for. */
export const ATTR_SUPPRESSED_COUNT = 'otel_winston.rate_limit.suppressed';
/** The attribute of a summary record with the template it stands for. */
export const ATTR_SUPPRESSED_TEMPLATE = 'otel_winston.rate_limit.template';

/** The fixed default of each {@link RateLimitOptions} option that has one. */
export const RATE_LIMIT_DEFAULTS = {
  recordsPerInterval: 0,
  intervalMillis: 10_000,
  maxKeys: 10_000,
} as const satisfies Defaults<RateLimitOptions>;

/** One template's token bucket, and what it suppressed since its last summary. */
interface Bucket {
  readonly template: string;
  tokens: number;
  /** When `tokens` was last brought up to date (`performance.now()`, ms). */
  refilled: number;
  suppressed: number;
  severityNumber: number;
  severityText: string | undefined;
  /** The trace of the last suppressed record that had one, for the summary's link. */
  span: SpanContext | undefined;
  /** The resource and logger of the last suppressed record (not the record: it may be the SDK's whole record). */
  resource: RecordOrigin['resource'] | undefined;
  scope: RecordOrigin['instrumentationScope'] | undefined;
}

/**
 * Limits records per message template with a token bucket each, off unless
 * configured. At the end of each interval in which a template had records
 * suppressed, one summary record goes on in their place:
 * `suppressed 1,234 records like 'GET /orders/# failed' in the last 10 s`,
 * at the highest severity among them, with the count in
 * `otel_winston.rate_limit.suppressed` and the trace of the last one as its
 * own. The `LogPipeline` the chain ends in counts the suppressed records
 * (`rate_limited`); the summaries' counts add up to that number exactly.
 * A summary goes to the next processor, so put this policy last, after
 * sampling, as the preload does: a policy after it could drop a summary.
 *
 * ```ts
 * new RateLimitProcessor({ next: pipeline, recordsPerInterval: 100 }); // per 10 s per template
 * ```
 */
export class RateLimitProcessor extends PolicyProcessor {
  readonly #rate: number;
  readonly #burst: number;
  readonly #intervalMillis: number;
  readonly #maxKeys: number;
  /** Buckets by template, least recently seen first. */
  readonly #buckets = new Map<string, Bucket>();
  readonly #templates = new TemplateCache();
  /** The bucket seen last: the end of the table already. */
  #newest: Bucket | undefined;
  /** Buckets with suppressed records not yet summarized. */
  readonly #pending = new Set<Bucket>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #passed = 0;
  #suppressed = 0;
  #summaries = 0;
  #summarized = 0;

  /**
   * @param options - see {@link RateLimitOptions}; a bad option throws an
   * `OtelWinstonError` with code `OTW_ERR_INVALID_OPTION`.
   * @param env - where the `OTEL_WINSTON_*` variables are read from for the
   * options not given in code; `process.env` by default.
   */
  constructor(
    options: RateLimitOptions,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    const o = validateRateLimitOptions(options);
    super(o.next, false);
    const perInterval =
      o.recordsPerInterval ??
      readIntegerEnv(
        env,
        ['OTEL_WINSTON_LOGS_RATE_LIMIT'],
        RATE_LIMIT_DEFAULTS.recordsPerInterval,
        0,
      );
    this.#intervalMillis =
      o.intervalMillis ??
      readMillisEnv(
        env,
        'OTEL_WINSTON_LOGS_RATE_LIMIT_INTERVAL_MS',
        RATE_LIMIT_DEFAULTS.intervalMillis,
      );
    this.#burst =
      o.burst ?? readIntegerEnv(env, ['OTEL_WINSTON_LOGS_RATE_LIMIT_BURST'], perInterval, 1);
    this.#rate = perInterval / this.#intervalMillis;
    this.#maxKeys =
      o.maxKeys ??
      readIntegerEnv(
        env,
        ['OTEL_WINSTON_LOGS_RATE_LIMIT_MAX_KEYS'],
        RATE_LIMIT_DEFAULTS.maxKeys,
        1,
      );
  }

  /** Whether this processor would ever drop a record; a chain may leave it out when not. */
  get active(): boolean {
    return this.#rate > 0;
  }

  counts(): RateLimitCounts {
    return {
      passed: this.#passed,
      suppressed: this.#suppressed,
      summaries: this.#summaries,
      summarized: this.#summarized,
      keys: this.#buckets.size,
    };
  }

  applyTo(record: PolicyRecord, context: Context | undefined, origin: RecordOrigin): boolean {
    // Once shut down, records go on, for the next processor to count (`already_shutdown`).
    if (this.#rate === 0 || this.#stopped) {
      this.#passed++;
      return true;
    }
    const template = this.#templates.of(record.body, context);
    // Monotonic: a clock set back must not take tokens away, nor one set forward give them.
    const now = performance.now();
    let bucket = this.#buckets.get(template);
    if (bucket === undefined) {
      bucket = {
        template,
        tokens: this.#burst,
        refilled: now,
        suppressed: 0,
        severityNumber: 0,
        severityText: undefined,
        span: undefined,
        resource: undefined,
        scope: undefined,
      };
      if (this.#buckets.size >= this.#maxKeys) this.#forgetOldest();
      this.#buckets.set(template, bucket);
    } else {
      if (bucket !== this.#newest) {
        // Least recently seen first: seen now, it moves to the end.
        this.#buckets.delete(template);
        this.#buckets.set(template, bucket);
      }
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.refilled) * this.#rate);
      bucket.refilled = now;
    }
    this.#newest = bucket;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.#passed++;
      return true;
    }
    this.#suppress(bucket, record, context, origin);
    return false;
  }

  #suppress(
    bucket: Bucket,
    record: PolicyRecord,
    context: Context | undefined,
    origin: RecordOrigin,
  ): void {
    bucket.suppressed++;
    this.#suppressed++;
    const severity = record.severityNumber ?? SeverityNumber.UNSPECIFIED;
    if (bucket.severityText === undefined || severity > bucket.severityNumber) {
      bucket.severityNumber = severity;
      bucket.severityText = record.severityText ?? '';
    }
    const span = context === undefined ? undefined : trace.getSpanContext(context);
    if (span !== undefined && isSpanContextValid(span)) bucket.span = span;
    bucket.resource = origin.resource;
    bucket.scope = origin.instrumentationScope;
    this.#pending.add(bucket);
    this.countDrop('rate_limited');
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#summarizePending();
      }, this.#intervalMillis);
      this.#timer.unref();
    }
  }

  /** Forgets the least recently seen template, summarizing what it suppressed first. */
  #forgetOldest(): void {
    const oldest = this.#buckets.values().next().value;
    if (oldest === undefined) return;
    this.#buckets.delete(oldest.template);
    if (oldest === this.#newest) this.#newest = undefined;
    if (this.#pending.delete(oldest)) this.#summarize(oldest);
  }

  #summarizePending(): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const bucket of pending) this.#summarize(bucket);
  }

  #summarize(bucket: Bucket): void {
    const { suppressed: n, resource, scope, span, severityNumber, severityText = '' } = bucket;
    bucket.suppressed = 0;
    bucket.severityNumber = 0;
    bucket.severityText = undefined;
    bucket.span = undefined;
    bucket.resource = undefined;
    bucket.scope = undefined;
    if (n === 0 || resource === undefined || scope === undefined) return;
    const seconds = Math.round(this.#intervalMillis / 100) / 10;
    const sent = this.emitOwn(
      {
        body: `suppressed ${n.toLocaleString('en-US')} records like '${bucket.template}' in the last ${seconds} s`,
        severityNumber: severityNumber as SeverityNumber,
        severityText,
        attributes: {
          [ATTR_SUPPRESSED_COUNT]: n,
          [ATTR_SUPPRESSED_TEMPLATE]: bucket.template,
        },
        spanContext: span,
      },
      { resource, instrumentationScope: scope },
    );
    // Counted only once passed on: a summary the next processor refused is not one.
    if (sent) {
      this.#summaries++;
      this.#summarized += n;
    }
  }

  /** Sends the summaries still pending, then flushes the rest of the chain. */
  override forceFlush(): Promise<void> {
    this.#summarizePending();
    return super.forceFlush();
  }

  override shutdown(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#summarizePending();
    return super.shutdown();
  }
}

function validateRateLimitOptions(options: unknown): RateLimitOptions {
  const o = checkPolicyOptions<RateLimitOptions>(options);
  checkInteger('recordsPerInterval', o.recordsPerInterval, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('intervalMillis', o.intervalMillis, 1, 2_147_483_647);
  checkInteger('burst', o.burst, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('maxKeys', o.maxKeys, 1, Number.MAX_SAFE_INTEGER);
  return o;
}
