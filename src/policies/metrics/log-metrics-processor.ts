import {
  metrics,
  SeverityNumber,
  ValueType,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type MeterProvider,
} from '@opentelemetry/api';
import type { Defaults } from '../../defaults.js';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { readFileSync } from 'node:fs';
import { invalidOption } from '../../errors.js';
import { readBooleanEnv, readStringEnv } from '../../env.js';
import { VERSION } from '../../version.js';
import { describeError, warn } from '../../warnings.js';
import { ObservedCounts } from '../observed-counts.js';
import {
  checkPolicyOptions,
  PolicyProcessor,
  type PolicyRecord,
  type RecordOrigin,
} from '../policy-processor.js';
import { TemplateCache } from '../rate-limit/message-template.js';

/** The name of the counter of every record, by severity and logger. */
export const LOG_RECORDS_METRIC = 'otel_winston.log.records';
/** Its attribute with the record's severity: TRACE, DEBUG, INFO, WARN, ERROR, FATAL or UNSPECIFIED. */
export const ATTR_LOG_SEVERITY = 'otel_winston.log.severity';
/** Its attribute with the logger's name (the instrumentation scope's). */
export const ATTR_LOGGER_NAME = 'otel_winston.logger.name';

/** Which records a declared metric counts or measures; every condition given must hold. */
export interface LogMetricMatch {
  /** The lowest severity: a number, or `trace`, `debug`, `info`, `warn`, `error`, `fatal`. */
  readonly minSeverity?: number | string;
  /**
   * The record's message template, exactly: the format string of the call
   * (`'checkout done in %dms'`), else the body with numbers, UUIDs and hex
   * ids as `#` (`'checkout # done in #ms'`).
   */
  readonly template?: string;
  /** An attribute the record must have. */
  readonly attribute?: string;
}

/** A metric made from matching records, declared in code or in `OTEL_WINSTON_LOG_METRICS_CONFIG`. */
export interface LogMetricDeclaration {
  /** The instrument's name, such as `checkout.duration`. */
  readonly name: string;
  /** A counter adds 1 per matching record; a histogram records the record's `value` attribute. */
  readonly kind: 'counter' | 'histogram';
  readonly description?: string;
  readonly unit?: string;
  readonly match: LogMetricMatch;
  /** For a histogram: the attribute with the value; a record without a finite number there is skipped. */
  readonly value?: string;
  /** Record attributes to copy onto each measurement (string, number or boolean ones; keep them few-valued). */
  readonly attributes?: readonly string[];
}

/** Options of {@link LogMetricsProcessor}. */
export interface LogMetricsOptions {
  /** The processor each record goes to. */
  readonly next: LogRecordProcessor;
  /**
   * Count every record in `otel_winston.log.records`, by severity
   * (`otel_winston.log.severity`) and logger name (`otel_winston.logger.name`;
   * past 1,000 names, the others' records are counted under `_other`).
   * @default `OTEL_WINSTON_LOG_METRICS`, else true
   */
  readonly recordCounter?: boolean;
  /**
   * Counters and histograms made from matching records.
   * @default the declarations in the JSON file `OTEL_WINSTON_LOG_METRICS_CONFIG` names, else none
   */
  readonly metrics?: readonly LogMetricDeclaration[];
  /** The meter provider. @default the global one, looked up again when it changes */
  readonly meterProvider?: MeterProvider;
}

/** The fixed default of each {@link LogMetricsOptions} option that has one. */
export const LOG_METRICS_DEFAULTS = {
  recordCounter: true,
} as const satisfies Defaults<LogMetricsOptions>;

/** Logger names counted apart; the records of any more are counted under {@link OTHER_LOGGERS}. */
export const MAX_LOGGERS = 1000;
/** The logger name of the records of loggers past {@link MAX_LOGGERS}. */
export const OTHER_LOGGERS = '_other';

/** The severity names, each with the lowest number of its band. */
const SEVERITY_NAMES: Readonly<Record<string, SeverityNumber>> = {
  trace: SeverityNumber.TRACE,
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
  fatal: SeverityNumber.FATAL,
};

/** The band of each severity number 0–24: 0 UNSPECIFIED, 1 TRACE … 6 FATAL. */
const BANDS = ['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
const bandIndex = (severity: number | undefined): number =>
  severity === undefined || !(severity >= 1 && severity <= 24) ? 0 : 1 + ((severity - 1) >> 2);

/** A declaration, checked, with its instrument on the current meter provider. */
interface Declared {
  readonly spec: LogMetricDeclaration;
  readonly minSeverity: number;
  instrument: Counter | Histogram | undefined;
}

/**
 * Metrics made from log records, while they are still logged: a counter of
 * every record by severity and logger (on by default: errors per minute can
 * be alerted on without a log backend), and counters and histograms you
 * declare. Put it before sampling and rate limits, so that it counts every
 * record logged; the preload puts it right after redaction.
 *
 * ```ts
 * new LogMetricsProcessor({
 *   next: pipeline,
 *   metrics: [{ name: 'checkout.duration', kind: 'histogram', unit: 'ms',
 *               match: { template: 'checkout done in %dms' }, value: 'durationMs' }],
 * });
 * ```
 *
 * The record counter costs a few array writes per record and is read when
 * metrics are collected; a declared metric costs a measurement per matching
 * record.
 */
export class LogMetricsProcessor extends PolicyProcessor {
  /** Counts by logger name, then severity band. */
  readonly #counts = new Map<string, number[]>();
  #lastScope: RecordOrigin['instrumentationScope'] | undefined;
  #lastCounts: number[] | undefined;
  readonly #recordCounter: ObservedCounts | undefined;
  readonly #declared: readonly Declared[];
  readonly #templates = new TemplateCache();
  readonly #explicitProvider: MeterProvider | undefined;
  #provider: MeterProvider | undefined;

  /**
   * @param options - see {@link LogMetricsOptions}; a bad option throws an
   * `OtelWinstonError` with code `OTW_ERR_INVALID_OPTION`.
   * @param env - where the `OTEL_WINSTON_*` variables are read from for the
   * options not given in code; `process.env` by default.
   */
  constructor(
    options: LogMetricsOptions,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    const o = validateLogMetricsOptions(options);
    super(o.next, false);
    this.#explicitProvider = o.meterProvider;
    this.#declared = (o.metrics ?? declarationsFromEnv(env)).map((spec) => ({
      spec,
      minSeverity: severityOf(spec.match.minSeverity),
      instrument: undefined,
    }));
    if (
      o.recordCounter ??
      readBooleanEnv(env, 'OTEL_WINSTON_LOG_METRICS', LOG_METRICS_DEFAULTS.recordCounter)
    ) {
      const counts = this.#counts;
      this.#recordCounter = new ObservedCounts(
        LOG_RECORDS_METRIC,
        'Log records, by severity and logger, counted before sampling and rate limits',
        '{record}',
        function* () {
          for (const [logger, bands] of counts) {
            for (const [i, n] of bands.entries()) {
              yield [n, { [ATTR_LOG_SEVERITY]: BANDS[i], [ATTR_LOGGER_NAME]: logger }];
            }
          }
        },
        o.meterProvider,
      );
    }
  }

  /** Whether this processor measures anything; a chain may leave it out when not. */
  get active(): boolean {
    return this.#recordCounter !== undefined || this.#declared.length > 0;
  }

  /** Records counted so far, by logger name, then severity (TRACE … FATAL, UNSPECIFIED). */
  counts(): ReadonlyMap<string, Readonly<Record<string, number>>> {
    const out = new Map<string, Record<string, number>>();
    for (const [logger, bands] of this.#counts) {
      out.set(logger, Object.fromEntries(BANDS.map((band, i) => [band, bands[i]!])));
    }
    return out;
  }

  applyTo(record: PolicyRecord, context: Context | undefined, origin: RecordOrigin): boolean {
    if (this.#recordCounter !== undefined) {
      this.#recordCounter.onRecord();
      const scope = origin.instrumentationScope;
      let bands = this.#lastCounts;
      if (scope !== this.#lastScope || bands === undefined) {
        const name =
          this.#counts.has(scope.name) || this.#counts.size < MAX_LOGGERS
            ? scope.name
            : OTHER_LOGGERS;
        bands = this.#counts.get(name);
        if (bands === undefined) {
          bands = BANDS.map(() => 0);
          this.#counts.set(name, bands);
        }
        this.#lastScope = scope;
        this.#lastCounts = bands;
      }
      bands[bandIndex(record.severityNumber)]!++;
    }
    if (this.#declared.length > 0) this.#measure(record, context);
    return true;
  }

  #measure(record: PolicyRecord, context: Context | undefined): void {
    let template: string | undefined;
    let refreshed = false;
    for (const d of this.#declared) {
      const { match } = d.spec;
      if ((record.severityNumber ?? 0) < d.minSeverity) continue;
      if (match.attribute !== undefined && record.attributes?.[match.attribute] === undefined) {
        continue;
      }
      if (match.template !== undefined) {
        template ??= this.#templates.of(record.body, context);
        if (template !== match.template) continue;
      }
      let value = 1;
      if (d.spec.kind === 'histogram') {
        const raw = record.attributes?.[d.spec.value!];
        value =
          typeof raw === 'number'
            ? raw
            : typeof raw === 'string' && raw.trim() !== ''
              ? Number(raw)
              : Number.NaN;
        if (!Number.isFinite(value)) continue;
      }
      if (!refreshed) {
        this.#refreshInstruments();
        refreshed = true;
      }
      const attributes = measurementAttributes(record.attributes, d.spec.attributes);
      if (d.spec.kind === 'counter') (d.instrument as Counter | undefined)?.add(1, attributes);
      else (d.instrument as Histogram | undefined)?.record(value, attributes);
    }
  }

  /** Makes the declared instruments again on the meter provider to use, if it changed. */
  #refreshInstruments(): void {
    const provider = this.#explicitProvider ?? metrics.getMeterProvider();
    if (provider === this.#provider) return;
    this.#provider = provider;
    const meter = provider.getMeter('otel-winston', VERSION);
    for (const d of this.#declared) {
      const { name, kind, description, unit } = d.spec;
      const options = {
        ...(description === undefined ? {} : { description }),
        ...(unit === undefined ? {} : { unit }),
        valueType: kind === 'counter' ? ValueType.INT : ValueType.DOUBLE,
      };
      try {
        d.instrument =
          kind === 'counter'
            ? meter.createCounter(name, options)
            : meter.createHistogram(name, options);
      } catch (error) {
        d.instrument = undefined;
        warn('OTW019', `the log metric ${name} could not be made: ${describeError(error)}`);
      }
    }
  }
}

/** The record attributes named in `keys` with a string, number or boolean value. */
function measurementAttributes(
  attributes: Attributes | undefined,
  keys: readonly string[] | undefined,
): Attributes | undefined {
  if (keys === undefined || attributes === undefined) return undefined;
  const out: Attributes = {};
  for (const key of keys) {
    const value = attributes[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[key] = value;
    }
  }
  return out;
}

function severityOf(value: number | string | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const name = value.toLowerCase();
  return Object.hasOwn(SEVERITY_NAMES, name) ? SEVERITY_NAMES[name]! : 0;
}

/** Checks one declaration; throws naming `where` and the field. */
export function checkDeclaration(value: unknown, where: string): LogMetricDeclaration {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(where, 'a metric declaration { name, kind, match }', value);
  }
  const d = value as Partial<LogMetricDeclaration>;
  if (typeof d.name !== 'string' || !/^[A-Za-z][\w.\-/]{0,254}$/.test(d.name)) {
    throw invalidOption(
      `${where}.name`,
      'an instrument name (a letter, then letters, digits, _ . - /)',
      d.name,
    );
  }
  if (d.kind !== 'counter' && d.kind !== 'histogram') {
    throw invalidOption(`${where}.kind`, '"counter" or "histogram"', d.kind);
  }
  for (const key of ['description', 'unit'] as const) {
    if (d[key] !== undefined && typeof d[key] !== 'string') {
      throw invalidOption(`${where}.${key}`, 'a string', d[key]);
    }
  }
  const m = d.match as Partial<LogMetricMatch> | undefined;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    throw invalidOption(`${where}.match`, '{ minSeverity?, template?, attribute? }', m);
  }
  const s = m.minSeverity;
  if (
    s !== undefined &&
    !(typeof s === 'number' && Number.isInteger(s) && s >= 0 && s <= 24) &&
    !(typeof s === 'string' && Object.hasOwn(SEVERITY_NAMES, s.toLowerCase()))
  ) {
    throw invalidOption(
      `${where}.match.minSeverity`,
      'a severity number 0–24 or trace, debug, info, warn, error, fatal',
      s,
    );
  }
  for (const key of ['template', 'attribute'] as const) {
    if (m[key] !== undefined && (typeof m[key] !== 'string' || m[key] === '')) {
      throw invalidOption(`${where}.match.${key}`, 'a non-empty string', m[key]);
    }
  }
  if (d.kind === 'histogram' && (typeof d.value !== 'string' || d.value === '')) {
    throw invalidOption(
      `${where}.value`,
      'the attribute with the value (a histogram needs one)',
      d.value,
    );
  }
  if (
    d.attributes !== undefined &&
    !(Array.isArray(d.attributes) && d.attributes.every((a) => typeof a === 'string'))
  ) {
    throw invalidOption(`${where}.attributes`, 'a list of attribute keys', d.attributes);
  }
  return d as LogMetricDeclaration;
}

function validateLogMetricsOptions(options: unknown): LogMetricsOptions {
  const o = checkPolicyOptions<LogMetricsOptions>(options);
  if (o.recordCounter !== undefined && typeof o.recordCounter !== 'boolean') {
    throw invalidOption('recordCounter', 'a boolean', o.recordCounter);
  }
  if (o.metrics !== undefined) {
    if (!Array.isArray(o.metrics))
      throw invalidOption('metrics', 'a list of declarations', o.metrics);
    o.metrics.forEach((d, i) => checkDeclaration(d, `metrics[${i}]`));
  }
  return o;
}

/**
 * The declarations in the JSON file `OTEL_WINSTON_LOG_METRICS_CONFIG` names
 * (a list, or `{ "metrics": [...] }`). A file that cannot be read warns and
 * gives none; a bad declaration warns and is left out.
 */
function declarationsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): LogMetricDeclaration[] {
  const name = 'OTEL_WINSTON_LOG_METRICS_CONFIG';
  const path = readStringEnv(env, name);
  if (path === undefined) return [];
  let list: unknown;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    list = Array.isArray(parsed) ? parsed : (parsed as { metrics?: unknown } | null)?.metrics;
    if (!Array.isArray(list)) throw new Error('expected a list of metric declarations');
  } catch (error) {
    warn(
      'OTW004',
      `${name}: ${path} was not read (${describeError(error)}); no log metrics declared`,
      name,
    );
    return [];
  }
  const out: LogMetricDeclaration[] = [];
  for (const [i, value] of (list as unknown[]).entries()) {
    try {
      out.push(checkDeclaration(value, `metrics[${i}]`));
    } catch (error) {
      warn('OTW004', `${name}: ${describeError(error)}; that metric is left out`, `${name}:${i}`);
    }
  }
  return out;
}
