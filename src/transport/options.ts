import type { LoggerProvider } from '@opentelemetry/api';
import type TransportStream from 'winston-transport';
import { checkInteger, invalidOption } from '../errors.js';
import type { SeverityMap } from '../mapping/severity.js';
import { DEFAULT_ATTRIBUTE_LIMITS } from '../limits.js';
import type { Defaults } from '../defaults.js';
import { readBooleanEnv, type Env } from '../env.js';

/** Options of {@link OtelTransport}. Every option is optional. */
export interface OtelTransportOptions extends TransportStream.TransportStreamOptions {
  /**
   * Where records go.
   * @default the global LoggerProvider (`logs.getLoggerProvider()` of `@opentelemetry/api`),
   * resolved on each record until the SDK registers one
   * @example new OtelTransport({ loggerProvider: new LoggerProvider({ processors: [...] }) })
   */
  loggerProvider?: LoggerProvider;

  /**
   * The least severe winston level this transport takes, like any winston transport.
   * @default the logger's level
   * @example new OtelTransport({ level: 'warn' })
   */
  level?: string;

  /**
   * The instrumentation scope name of the records.
   * @default 'otel-winston'
   * @example new OtelTransport({ loggerName: 'billing' })
   */
  loggerName?: string;

  /**
   * Explicit severities for winston levels, by level name. Levels not named
   * here keep the default mapping: winston's npm, syslog and cli sets as the
   * official transport maps them, well-known names by meaning, other custom
   * levels by rank.
   * @default {}
   * @example new OtelTransport({ severityMap: { audit: SeverityNumber.INFO4 } })
   */
  severityMap?: SeverityMap;

  /**
   * Add the request context captured at the call (`http.request.id`,
   * `user.id`, `http.route`, …) to every record.
   * @default true
   * @example new OtelTransport({ includeRequestContext: false })
   */
  includeRequestContext?: boolean;

  /**
   * Add where the app made each log call: `code.function.name`,
   * `code.file.path`, `code.line.number` and `code.column.number`, taken at
   * the call from one frame of a V8 stack trace (as the code ran: a
   * TypeScript or bundled app's paths and lines are those of the JavaScript
   * Node runs, unless source maps are enabled). Off by default: a V8 stack
   * frame capture per call that logs, which about doubles the CPU of a log
   * call (docs/benchmarks.md, "Policies").
   * @default `OTEL_WINSTON_CODE_ATTRIBUTES`, else false
   * @example new OtelTransport({ includeCodeAttributes: true })
   */
  includeCodeAttributes?: boolean;

  /**
   * Most attributes a record keeps; the rest are dropped and counted in a `diag` warning.
   * @default `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`, else `OTEL_ATTRIBUTE_COUNT_LIMIT`, else 128
   * @example new OtelTransport({ attributeCountLimit: 64 })
   */
  attributeCountLimit?: number;

  /**
   * Longest string or byte array an attribute value keeps; longer ones are truncated.
   * @default `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else
   * `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else no limit beyond `maxStringLength`
   * @example new OtelTransport({ attributeValueLengthLimit: 4096 })
   */
  attributeValueLengthLimit?: number;

  /**
   * Longest string (body or attribute) a record keeps, in UTF-16 code units: a
   * safety bound so one huge message cannot stall the exporter.
   * @default 1048576
   * @example new OtelTransport({ maxStringLength: 65536 })
   */
  maxStringLength?: number;

  /**
   * Deepest nesting of maps and lists kept in a structured value; deeper ones
   * become the string "[Object]" or "[Array]".
   * @default 8
   * @example new OtelTransport({ maxDepth: 4 })
   */
  maxDepth?: number;

  /**
   * Most entries kept per map or list in a structured value.
   * @default 1024
   * @example new OtelTransport({ maxCollectionSize: 100 })
   */
  maxCollectionSize?: number;

  /**
   * Most values (at any depth) converted for one record; the rest become "[Truncated]".
   * @default 20000
   * @example new OtelTransport({ maxValuesPerRecord: 5000 })
   */
  maxValuesPerRecord?: number;
}

/**
 * The fixed default of each {@link OtelTransportOptions} option that has one:
 * what its `@default` names last (test/defaults.test.ts checks that they agree).
 */
export const TRANSPORT_DEFAULTS = {
  loggerName: 'otel-winston',
  severityMap: {},
  includeRequestContext: true,
  includeCodeAttributes: false,
  attributeCountLimit: DEFAULT_ATTRIBUTE_LIMITS.attributeCountLimit,
  maxStringLength: 1_048_576,
  maxDepth: 8,
  maxCollectionSize: 1024,
  maxValuesPerRecord: 20_000,
} as const satisfies Defaults<OtelTransportOptions>;

/** Checks options passed in code, up front: a bad one throws an `OtelWinstonError`. */
export function validateTransportOptions(options: unknown): OtelTransportOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption('options', 'an object', options);
  }
  const o = options as OtelTransportOptions;
  if (o.loggerProvider !== undefined) {
    const provider = o.loggerProvider as { getLogger?: unknown } | null;
    if (
      typeof provider !== 'object' ||
      provider === null ||
      typeof provider.getLogger !== 'function'
    ) {
      throw invalidOption(
        'loggerProvider',
        'a LoggerProvider (an object with getLogger())',
        provider,
      );
    }
  }
  if (o.loggerName !== undefined && (typeof o.loggerName !== 'string' || o.loggerName === '')) {
    throw invalidOption('loggerName', 'a non-empty string', o.loggerName);
  }
  if (o.level !== undefined && (typeof o.level !== 'string' || o.level === '')) {
    throw invalidOption('level', 'a level name (a non-empty string)', o.level);
  }
  if (o.severityMap !== undefined) {
    const map = o.severityMap as unknown;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw invalidOption('severityMap', 'an object of level name to SeverityNumber', map);
    }
    for (const [level, severity] of Object.entries(map)) {
      checkInteger(`severityMap.${level}`, severity, 1, 24);
    }
  }
  if (o.includeRequestContext !== undefined && typeof o.includeRequestContext !== 'boolean') {
    throw invalidOption('includeRequestContext', 'a boolean', o.includeRequestContext);
  }
  if (o.includeCodeAttributes !== undefined && typeof o.includeCodeAttributes !== 'boolean') {
    throw invalidOption('includeCodeAttributes', 'a boolean', o.includeCodeAttributes);
  }
  checkInteger('attributeCountLimit', o.attributeCountLimit, 0, Infinity);
  checkInteger('attributeValueLengthLimit', o.attributeValueLengthLimit, 1, Infinity);
  checkInteger('maxStringLength', o.maxStringLength, 1, Infinity);
  checkInteger('maxDepth', o.maxDepth, 1, 64);
  checkInteger('maxCollectionSize', o.maxCollectionSize, 1, Infinity);
  checkInteger('maxValuesPerRecord', o.maxValuesPerRecord, 1, Infinity);
  return o;
}

/** `includeCodeAttributes` when not given in code: `OTEL_WINSTON_CODE_ATTRIBUTES`, else false. */
export function codeAttributesFromEnv(env: Env = process.env): boolean {
  return readBooleanEnv(
    env,
    'OTEL_WINSTON_CODE_ATTRIBUTES',
    TRANSPORT_DEFAULTS.includeCodeAttributes,
  );
}
