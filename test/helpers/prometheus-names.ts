/**
 * Metric and label names on the Prometheus side of the local stack: what
 * Prometheus 3's OTLP receiver names our metrics, and which names a PromQL
 * query of the dashboard selects.
 *
 * The translation is Prometheus's default OTLP `translation_strategy`,
 * `UnderscoreEscapingWithSuffixes` (stack/prometheus/prometheus.yml sets no
 * other), as in prometheus/prometheus v3.5.0, the version docker-compose.yml
 * pins:
 *
 * - storage/remote/write_handler.go: `AddMetricSuffixes` unless the strategy
 *   is `NoTranslation`, `AllowUTF8` unless it is `UnderscoreEscapingWithSuffixes`;
 *   so names are escaped and get suffixes.
 * - github.com/prometheus/otlptranslator@2573485683d5, metric_namer.go
 *   (`normalizeName`, `buildUnitSuffixes`, `addUnitTokens`, `cleanUpUnit`):
 *   the name is split into tokens at every character other than `[A-Za-z0-9:]`
 *   (dots and underscores alike) and joined with `_`; the unit's main part is
 *   mapped (`s` → `seconds`, `By` → `bytes`, `1` → nothing, others kept) and
 *   appended unless it contains `{` or `}` (so `{log_record}` adds nothing) or
 *   is a token of the name already; a `/x` part adds `per_<x>` the same way;
 *   a monotonic sum gets `_total` (a non-monotonic one, an up-down counter,
 *   gets nothing); a gauge with unit `1` gets `_ratio`; a leading digit gets `_`.
 * - storage/remote/otlptranslator/prometheusremotewrite/helper.go: a histogram
 *   becomes `<name>_bucket` (with `le`, always including `le="+Inf"`),
 *   `<name>_sum` and `<name>_count` (`addHistogramDataPoints`); attribute keys
 *   go through otlptranslator's `NormalizeLabel` (every character other than
 *   `[A-Za-z0-9]` becomes `_`); `service.namespace`/`service.name` become `job`,
 *   `service.instance.id` becomes `instance`, the attributes listed in
 *   `promote_resource_attributes` become labels, and the other resource
 *   attributes go only to `target_info` (`createAttributes`,
 *   `addResourceTargetInfo`).
 */
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';

/** otlptranslator's `MetricType`. */
export type OtlpMetricType =
  'gauge' | 'monotonic_counter' | 'non_monotonic_counter' | 'histogram' | 'exponential_histogram';

const UNITS = new Map(
  Object.entries({
    d: 'days',
    h: 'hours',
    min: 'minutes',
    s: 'seconds',
    ms: 'milliseconds',
    us: 'microseconds',
    ns: 'nanoseconds',
    By: 'bytes',
    KiBy: 'kibibytes',
    MiBy: 'mebibytes',
    GiBy: 'gibibytes',
    TiBy: 'tibibytes',
    KBy: 'kilobytes',
    MBy: 'megabytes',
    GBy: 'gigabytes',
    TBy: 'terabytes',
    m: 'meters',
    V: 'volts',
    A: 'amperes',
    J: 'joules',
    W: 'watts',
    g: 'grams',
    Cel: 'celsius',
    Hz: 'hertz',
    '1': '',
    '%': 'percent',
  }),
);
const PER_UNITS = new Map(
  Object.entries({
    s: 'second',
    m: 'minute',
    h: 'hour',
    d: 'day',
    w: 'week',
    mo: 'month',
    y: 'year',
  }),
);

function unitSuffixes(unit: string): [main: string, per: string] {
  const slash = unit.indexOf('/');
  const mainOtel = (slash < 0 ? unit : unit.slice(0, slash)).trim();
  const main = mainOtel !== '' && !/[{}]/.test(mainOtel) ? (UNITS.get(mainOtel) ?? mainOtel) : '';
  let per = '';
  const perOtel = slash < 0 ? '' : unit.slice(slash + 1).trim();
  if (perOtel !== '' && !/[{}]/.test(perOtel)) per = `per_${PER_UNITS.get(perOtel) ?? perOtel}`;
  return [main, per];
}

const cleanUpUnit = (unit: string): string =>
  unit
    .replace(/[^A-Za-z0-9:]/gu, '_')
    .replace(/__+/g, '_')
    .replace(/^_/, '');

/** The name Prometheus stores an OTLP metric under (before `_bucket`, `_sum`, `_count`). */
export function prometheusMetricName(name: string, unit: string, type: OtlpMetricType): string {
  let tokens = name.split(/[^A-Za-z0-9:]+/u).filter((t) => t !== '');
  const [main, per] = unitSuffixes(unit).map(cleanUpUnit) as [string, string];
  let mainSuffix = tokens.includes(main) ? '' : main;
  let perSuffix = per === 'per_' ? '' : per.replace(/_$/, '');
  if (tokens.includes(perSuffix)) perSuffix = '';
  if (perSuffix !== '') mainSuffix = mainSuffix.replace(/_$/, '');
  if (mainSuffix !== '') tokens.push(mainSuffix);
  if (perSuffix !== '') tokens.push(perSuffix);
  if (type === 'monotonic_counter') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && type === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  const joined = tokens.join('_');
  return /^[0-9]/.test(joined) ? `_${joined}` : joined;
}

/** The label name of an OTLP attribute key (otlptranslator's `NormalizeLabel`). */
export function prometheusLabelName(key: string): string {
  if (key === '') return key;
  const label = key.replace(/[^A-Za-z0-9]/gu, '_');
  if (/^[0-9]/.test(label)) return `key_${label}`;
  if (label.startsWith('_') && !label.startsWith('__')) return `key${label}`;
  return label;
}

/** The OTLP metric type of a metric collected by the SDK, as the OTLP exporter sends it. */
export function otlpMetricType(metric: MetricData): OtlpMetricType {
  switch (metric.dataPointType) {
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.SUM:
      return metric.isMonotonic ? 'monotonic_counter' : 'non_monotonic_counter';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return 'exponential_histogram';
  }
}

/**
 * The series names and label names Prometheus stores a collected metric
 * under; `resourceLabels` are the labels every series gets from the resource
 * (`job`, `instance`, the promoted attributes).
 */
export function prometheusSeries(
  metric: MetricData,
  resourceLabels: readonly string[],
): Map<string, Set<string>> {
  const type = otlpMetricType(metric);
  const base = prometheusMetricName(metric.descriptor.name, metric.descriptor.unit, type);
  const labels = new Set(resourceLabels);
  for (const point of metric.dataPoints) {
    for (const key of Object.keys(point.attributes)) labels.add(prometheusLabelName(key));
  }
  if (type !== 'histogram') return new Map([[base, labels]]);
  return new Map([
    [`${base}_bucket`, new Set([...labels, 'le'])],
    [`${base}_sum`, labels],
    [`${base}_count`, labels],
  ]);
}

/** A series selector of a PromQL query: a metric name, or a `__name__` matcher, and label matchers. */
export interface Selector {
  /** The name as written before `{`, or a `__name__="..."`/`=~` matcher, as a full-match test. */
  readonly matchesName: (name: string) => boolean;
  readonly text: string;
  /** The label names its matchers use, `__name__` excluded. */
  readonly labels: readonly string[];
}

/** The selectors of a PromQL query and the label names its `by (...)`, `on (...)` and the like use. */
export interface QueryNames {
  readonly selectors: Selector[];
  readonly grouping: string[];
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The series selectors of a PromQL expression, enough for the dashboard's
 * queries: `name`, `name{...}` and `{__name__=~"...", ...}`, with the label
 * names of matchers and of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`.
 */
export function queryNames(expr: string): QueryNames {
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  let rest = expr.replace(
    /([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}/g,
    (text, name: string | undefined, body: string) => {
      const labels: string[] = [];
      let matchesName = name === undefined ? undefined : (n: string) => n === name;
      for (const m of body.matchAll(
        /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g,
      )) {
        const [, label, op, value] = m as unknown as [string, string, string, string];
        if (label !== '__name__') labels.push(label);
        else if (op === '=') matchesName = (n) => n === value;
        else if (op === '=~') {
          const re = new RegExp(`^(?:${value.replace(/\\\\/g, '\\')})$`);
          matchesName = (n) => re.test(n);
        } else throw new Error(`unsupported __name__ matcher in ${text}`);
      }
      if (matchesName === undefined) throw new Error(`a selector without a metric name: ${text}`);
      selectors.push({ matchesName, text, labels });
      return ' ';
    },
  );
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  rest = rest.replace(
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_, list: string) => {
      grouping.push(
        ...list
          .split(',')
          .map((l) => l.trim())
          .filter((l) => l !== ''),
      );
      return ' ';
    },
  );
  for (const m of rest.matchAll(
    /(?<![A-Za-z0-9_:.$])[A-Za-z_:][A-Za-z0-9_:]*(?![A-Za-z0-9_:]|\s*\()/g,
  )) {
    const name = m[0];
    if (KEYWORDS.has(name.toLowerCase())) continue;
    selectors.push({ matchesName: (n) => n === name, text: name, labels: [] });
  }
  return { selectors, grouping };
}
