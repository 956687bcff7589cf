import {
  isSpanContextValid,
  SeverityNumber,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import type { Defaults } from '../../defaults.js';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { ATTR_REQUEST_ID } from '../../context/request-attributes.js';
import { invalidOption } from '../../errors.js';
import { readBooleanEnv, readStringEnv } from '../../env.js';
import { warn } from '../../warnings.js';
import { checkPolicyOptions, PolicyProcessor, type PolicyRecord } from '../policy-processor.js';
import { hash32, mix32, RatioDecision } from './trace-randomness.js';

/** The severity bands below ERROR, each of which may have a ratio of its own. */
export const SEVERITY_BANDS: readonly SeverityBand[] = ['trace', 'debug', 'info', 'warn'];

/** A severity band below ERROR: TRACE (1–4), DEBUG (5–8), INFO (9–12, and unspecified), WARN (13–16). */
export type SeverityBand = 'trace' | 'debug' | 'info' | 'warn';

/** Options of {@link SamplingProcessor}. */
export interface SamplingOptions {
  /** The processor each kept record goes to. */
  readonly next: LogRecordProcessor;
  /**
   * Drops the records of traces that were not sampled (the trace flags'
   * sampled bit unset) and keeps those of sampled ones, as the
   * specification's LoggerConfig `trace_based` does: ERROR records included.
   * Records outside any trace are not affected.
   * @default `OTEL_WINSTON_LOGS_SAMPLER_TRACE_BASED`, else false
   */
  readonly traceBased?: boolean;
  /**
   * The share of records kept, from 0 to 1: one ratio for every band below
   * ERROR, or one per band (a band left out keeps every record). ERROR and
   * above are always kept. Inside a trace the decision is the trace's own
   * (see `trace-randomness.ts`); outside, a hash of the record's request id,
   * else of its sequence number in this process.
   * @default `OTEL_WINSTON_LOGS_SAMPLER_RATIO` (`0.1`, or `debug=0.01,info=0.1`), else 1
   */
  readonly ratio?: number | Readonly<Partial<Record<SeverityBand, number>>>;
}

/** The fixed default of each {@link SamplingOptions} option that has one. */
export const SAMPLING_DEFAULTS = {
  traceBased: false,
  ratio: 1,
} as const satisfies Defaults<SamplingOptions>;

/** What a {@link SamplingProcessor} did so far. */
export interface SamplingCounts {
  readonly kept: number;
  /** Records left out: by the ratio, or as records of an unsampled trace. */
  readonly dropped: number;
}

/**
 * Samples log records, consistently with the traces they belong to: off
 * unless configured. Its drops are counted by the `LogPipeline` the chain
 * ends in, with the reason `sampled`.
 *
 * ```ts
 * new SamplingProcessor({ next: pipeline, ratio: { debug: 0.01, info: 0.1 } });
 * ```
 *
 * A record outside any trace is decided by a hash of its request id
 * (`http.request.id`, the request context's), so that a request's records
 * are kept or dropped together even without tracing; a record with neither
 * by a hash of its sequence number in this process: over any stretch of
 * records the share kept is the ratio, with no pattern that could line up
 * with the app's own (every tenth record of a loop, say).
 */
export class SamplingProcessor extends PolicyProcessor {
  readonly #traceBased: boolean;
  /** The decision of each band, by severity number 0–16 (17 and above are kept). */
  readonly #bySeverity: readonly (RatioDecision | undefined)[];
  #sequence = 0;
  #lastSpan: SpanContext | undefined;
  #lastTraceId: string | undefined;
  #lastValid = false;
  #kept = 0;
  #dropped = 0;

  /**
   * @param options - see {@link SamplingOptions}; a bad option throws an
   * `OtelWinstonError` with code `OTW_ERR_INVALID_OPTION`.
   * @param env - where the `OTEL_WINSTON_*` variables are read from for the
   * options not given in code; `process.env` by default.
   */
  constructor(
    options: SamplingOptions,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    const o = validateSamplingOptions(options);
    super(o.next, false);
    this.#traceBased =
      o.traceBased ??
      readBooleanEnv(env, 'OTEL_WINSTON_LOGS_SAMPLER_TRACE_BASED', SAMPLING_DEFAULTS.traceBased);
    const ratios = normalizeRatio(o.ratio ?? ratioFromEnv(env) ?? SAMPLING_DEFAULTS.ratio);
    const decisions = new Map<SeverityBand, RatioDecision | undefined>();
    for (const band of SEVERITY_BANDS) {
      const r = ratios[band];
      decisions.set(band, r === undefined || r >= 1 ? undefined : new RatioDecision(r));
    }
    this.#bySeverity = Array.from({ length: SeverityNumber.ERROR }, (_, n) =>
      decisions.get(bandOf(n)),
    );
  }

  /** Whether this processor would ever drop a record; a chain may leave it out when not. */
  get active(): boolean {
    return this.#traceBased || this.#bySeverity.some((d) => d !== undefined);
  }

  /** Records kept and dropped so far. */
  counts(): SamplingCounts {
    return { kept: this.#kept, dropped: this.#dropped };
  }

  applyTo(record: PolicyRecord, context: Context | undefined): boolean {
    if (this.#keeps(record, context)) {
      this.#kept++;
      return true;
    }
    this.#dropped++;
    this.countDrop('sampled');
    return false;
  }

  #keeps(record: PolicyRecord, context: Context | undefined): boolean {
    const span = context === undefined ? undefined : trace.getSpanContext(context);
    let inTrace = false;
    if (span !== undefined) {
      // The records of one span share its span context: checked once (the check runs two regexes).
      if (span !== this.#lastSpan || span.traceId !== this.#lastTraceId) {
        this.#lastSpan = span;
        this.#lastTraceId = span.traceId;
        this.#lastValid = isSpanContextValid(span);
      }
      inTrace = this.#lastValid;
    }
    if (
      inTrace &&
      this.#traceBased &&
      (span!.traceFlags & TraceFlags.SAMPLED) !== TraceFlags.SAMPLED
    ) {
      return false;
    }
    const severity = record.severityNumber ?? 0;
    const decision = severity >= 0 ? this.#bySeverity[severity] : undefined;
    if (decision === undefined) return true;
    if (inTrace) return decision.keepTrace(span!);
    const requestId = record.attributes?.[ATTR_REQUEST_ID];
    if (typeof requestId === 'string' && requestId !== '') {
      return decision.keepHash(hash32(requestId));
    }
    return decision.keepHash(mix32(this.#sequence++));
  }
}

function bandOf(severity: number): SeverityBand {
  if (severity >= SeverityNumber.WARN) return 'warn';
  if (severity >= SeverityNumber.INFO || severity <= 0) return 'info';
  if (severity >= SeverityNumber.DEBUG) return 'debug';
  return 'trace';
}

function isRatio(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}

/** A ratio as the environment writes it: `0`, `1`, `0.25`, `.5`, `1.0`. */
const RATIO_TEXT = /^(?:0?\.\d+|[01](?:\.\d*)?)$/;
const parseRatio = (text: string): number => (RATIO_TEXT.test(text) ? Number(text) : Number.NaN);

function normalizeRatio(
  ratio: SamplingOptions['ratio'],
): Readonly<Partial<Record<SeverityBand, number>>> {
  if (ratio === undefined) return {};
  if (typeof ratio === 'number') {
    return { trace: ratio, debug: ratio, info: ratio, warn: ratio };
  }
  return ratio;
}

function validateSamplingOptions(options: unknown): SamplingOptions {
  const o = checkPolicyOptions<SamplingOptions>(options);
  if (o.traceBased !== undefined && typeof o.traceBased !== 'boolean') {
    throw invalidOption('traceBased', 'a boolean', o.traceBased);
  }
  if (o.ratio !== undefined && !isRatio(o.ratio)) {
    if (typeof o.ratio !== 'object' || o.ratio === null || Array.isArray(o.ratio)) {
      throw invalidOption('ratio', 'a number from 0 to 1, or one per severity band', o.ratio);
    }
    for (const [band, r] of Object.entries(o.ratio)) {
      if (!(SEVERITY_BANDS as readonly string[]).includes(band)) {
        throw invalidOption(`ratio.${band}`, `one of ${SEVERITY_BANDS.join(', ')}`, band);
      }
      if (!isRatio(r)) throw invalidOption(`ratio.${band}`, 'a number from 0 to 1', r);
    }
  }
  return o;
}

/**
 * `OTEL_WINSTON_LOGS_SAMPLER_RATIO`: `0.1` for every band below ERROR, or
 * `debug=0.01,info=0.1`. A bad entry warns and keeps every record of its band.
 */
function ratioFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Partial<Record<SeverityBand, number>> | undefined {
  const name = 'OTEL_WINSTON_LOGS_SAMPLER_RATIO';
  const raw = readStringEnv(env, name);
  if (raw === undefined) return undefined;
  const bad: string[] = [];
  const out: Partial<Record<SeverityBand, number>> = {};
  if (!raw.includes('=')) {
    const r = parseRatio(raw);
    if (isRatio(r)) return { trace: r, debug: r, info: r, warn: r };
    bad.push(raw);
  } else {
    for (const entry of raw.split(',')) {
      if (entry.trim() === '') continue;
      const [band = '', value = '', ...rest] = entry.split('=').map((s) => s.trim().toLowerCase());
      const r = rest.length > 0 ? Number.NaN : parseRatio(value);
      if ((SEVERITY_BANDS as readonly string[]).includes(band) && isRatio(r)) {
        out[band as SeverityBand] = r;
      } else {
        bad.push(entry.trim());
      }
    }
  }
  if (bad.length > 0) {
    warn(
      'OTW004',
      `Expected ${name} to be a ratio from 0 to 1 (0.1) or one per band (debug=0.01,info=0.1; bands ${SEVERITY_BANDS.join(', ')}), got ${bad.map((b) => JSON.stringify(b)).join(', ')}; those keep every record`,
      name,
    );
  }
  return out;
}
