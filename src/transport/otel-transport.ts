import {
  context,
  logs,
  SeverityNumber,
  type Logger,
  type LoggerProvider,
  type LogRecord,
} from '@opentelemetry/api';
import TransportStream from 'winston-transport';
import { attributeLimitsFromEnv } from '../limits.js';
import { directSinkFor, type DirectSink } from '../pipeline/fast-path.js';
import { VERSION } from '../version.js';
import { describeError, NODE_WARNING_TYPE, warn } from '../warnings.js';
import type { ValueLimits } from '../mapping/any-value.js';
import { buildLogRecord, type RecordSettings, type Severity } from './build-record.js';
import { flushBeforeWinstonExits, isCrashRecord } from './crash.js';
import { CapturedCall, capturedCallOf } from '../context/call-capture.js';
import { instrumentLogger } from './winston-patches.js';
import {
  codeAttributesFromEnv,
  TRANSPORT_DEFAULTS,
  validateTransportOptions,
  type OtelTransportOptions,
} from './options.js';
import { severitiesForLevels, severityForName, type SeverityMap } from '../mapping/severity.js';
import { LOGS_OFF, OTEL_TRANSPORT } from '../symbols.js';

const LEVEL = Symbol.for('level');

/** Whether the process was told that records go to no provider (once per process). */
let toldNoProvider = false;

/**
 * Says once, as a `diag` warning and a Node.js warning, that records are going
 * to the API's no-op provider: the transport works, but nothing registered an
 * SDK, so nothing is exported.
 */
function tellNoProvider(): void {
  if (toldNoProvider) return;
  toldNoProvider = true;
  // Telemetry was started with logs off on purpose (OTEL_SDK_DISABLED, OTEL_LOGS_EXPORTER=none).
  if ((globalThis as { [LOGS_OFF]?: true })[LOGS_OFF] === true) return;
  const message =
    'records are emitted into the no-op LoggerProvider of @opentelemetry/api, so they go ' +
    'nowhere: start telemetry (node --require otel-winston/register, or startTelemetry()), ' +
    'register your own LoggerProvider, or give the transport one (new OtelTransport({ loggerProvider }))';
  warn('OTW021', message);
  try {
    process.emitWarning(message, { type: NODE_WARNING_TYPE, code: 'OTW021' });
  } catch {
    // A warning listener that throws must not break a log call.
  }
}

/** `logger.enabled()`, where the logger has one that works; true otherwise. */
function isEnabled(logger: Logger, call: CapturedCall, severity: Severity): boolean {
  if (typeof logger.enabled !== 'function') return true;
  try {
    return logger.enabled({ context: call.context, severityNumber: severity.number });
  } catch {
    return true;
  }
}

/**
 * A winston transport that turns every record into an OpenTelemetry log
 * record: severity, body, attributes, exception, and the trace and request
 * context captured at the moment of the log call.
 *
 * It never throws and always calls winston's callback: a problem goes to the
 * OpenTelemetry `diag` logger and the record is emitted with what could be kept.
 *
 * @example
 * const logger = winston.createLogger({
 *   transports: [new winston.transports.Console(), new OtelTransport()],
 * });
 */
export class OtelTransport extends TransportStream {
  /** @internal */
  readonly [OTEL_TRANSPORT] = true;

  readonly #provider: LoggerProvider | undefined;
  readonly #loggerName: string;
  #logger: Logger | undefined;
  /** Where the logger's records go directly, when its provider allows (see pipeline/fast-path.ts). */
  #direct: DirectSink | undefined;
  #globalProvider: LoggerProvider | undefined;
  #provisional = false;
  readonly #severityMap: SeverityMap;
  readonly #settings: RecordSettings;
  #levelsSeen: object | undefined;
  /** The severity of each level of the logger's set, made once per set: no object per record. */
  #severities: Map<string, Severity> = new Map();

  /**
   * @param options - see {@link OtelTransportOptions}; a bad option throws an
   * `OtelWinstonError` with code `OTW_ERR_INVALID_OPTION`.
   */
  constructor(options?: OtelTransportOptions) {
    const o = validateTransportOptions(options);
    super(o);
    this.#provider = o.loggerProvider;
    this.#loggerName = o.loggerName ?? TRANSPORT_DEFAULTS.loggerName;
    this.#severityMap = o.severityMap ?? TRANSPORT_DEFAULTS.severityMap;
    const env = attributeLimitsFromEnv();
    const limits: ValueLimits = {
      maxDepth: o.maxDepth ?? TRANSPORT_DEFAULTS.maxDepth,
      maxCollectionSize: o.maxCollectionSize ?? TRANSPORT_DEFAULTS.maxCollectionSize,
      maxStringLength: o.maxStringLength ?? TRANSPORT_DEFAULTS.maxStringLength,
      maxValuesPerRecord: o.maxValuesPerRecord ?? TRANSPORT_DEFAULTS.maxValuesPerRecord,
    };
    const valueLengthLimit = o.attributeValueLengthLimit ?? env.attributeValueLengthLimit;
    this.#settings = {
      limits,
      attributeLimits: {
        ...limits,
        maxStringLength: Math.min(limits.maxStringLength, valueLengthLimit),
      },
      attributeCountLimit: o.attributeCountLimit ?? env.attributeCountLimit,
      includeRequestContext: o.includeRequestContext ?? TRANSPORT_DEFAULTS.includeRequestContext,
      includeCodeAttributes: o.includeCodeAttributes ?? codeAttributesFromEnv(),
    };
    if (o.loggerProvider !== undefined) this.#useLogger(o.loggerProvider);
    // winston pipes a logger into each of its transports: from then on the
    // logger captures every call at the moment it is made.
    const callSite = this.#settings.includeCodeAttributes;
    this.on('pipe', (logger: unknown) => instrumentLogger(logger, { callSite }));
  }

  /** winston's entry point. Emits the record, then calls `callback`, always. */
  override log(info: unknown, callback?: () => void): void {
    const crash = isCrashRecord(info);
    try {
      if (typeof info === 'object' && info !== null) {
        this.#emit(info as Record<string, unknown>, crash);
      }
    } catch (error) {
      warn('OTW001', describeError(error));
    }
    try {
      this.emit('logged', info);
    } catch (error) {
      warn('OTW020', `a 'logged' listener threw: ${describeError(error)}`);
    }
    if (typeof callback === 'function') callback();
    if (crash && (this as { _ending?: boolean })._ending === true) {
      flushBeforeWinstonExits(this, this.#provider ?? logs.getLoggerProvider(), info);
    }
  }

  #emit(info: Record<string, unknown>, crash: boolean): void {
    let call: CapturedCall;
    try {
      call = capturedCallOf(info);
    } catch (error) {
      warn('OTW001', `the call context could not be read: ${describeError(error)}`);
      call = new CapturedCall(context.active(), undefined, Date.now(), undefined, undefined);
    }
    const severity = this.#severityOf(info, crash);
    const logger = this.#currentLogger();
    const enabled =
      this.#direct !== undefined
        ? this.#direct.enabled(severity.number, call.context)
        : isEnabled(logger, call, severity);
    if (!enabled) return;
    let record: LogRecord;
    try {
      record = buildLogRecord(info, call, severity, this.#settings);
    } catch (error) {
      // buildLogRecord guards each part; this is the last line of defence.
      warn('OTW001', describeError(error));
      record = {
        timestamp: call.time,
        severityNumber: severity.number,
        severityText: severity.text,
        context: call.context,
      };
    }
    try {
      if (this.#direct !== undefined) this.#direct.emit(record);
      else logger.emit(record);
    } catch (error) {
      warn('OTW007', describeError(error));
    }
  }

  #useLogger(provider: LoggerProvider): Logger {
    const logger = provider.getLogger(this.#loggerName, VERSION);
    this.#logger = logger;
    this.#direct = directSinkFor(logger, {
      attributeCountLimit: this.#settings.attributeCountLimit,
      maxAttributeLength: this.#settings.attributeLimits.maxStringLength,
    });
    return logger;
  }

  /**
   * The logger of the explicit provider, or of the global provider as it is
   * now. The global one is looked up on each record (and the logger cached per
   * provider): the CommonJS and ESM builds of `@opentelemetry/api` each keep
   * their own proxy provider, so a proxy taken early could miss the SDK that
   * the other build registers.
   */
  #currentLogger(): Logger {
    if (this.#provider !== undefined) return this.#logger!;
    const provider = logs.getLoggerProvider();
    if (this.#provisional && provider === this.#globalProvider && !this.#registered(provider)) {
      tellNoProvider();
      return this.#logger!;
    }
    if (provider !== this.#globalProvider || this.#logger === undefined || this.#provisional) {
      this.#globalProvider = provider;
      const logger = this.#useLogger(provider);
      // The API's proxy hands out a stand-in until the SDK registers: ask again when it has.
      this.#provisional = typeof (logger as { _getLogger?: unknown })._getLogger === 'function';
      if (this.#provisional && !this.#registered(provider)) tellNoProvider();
      return logger;
    }
    return this.#logger;
  }

  /**
   * Whether the API's proxy provider has an SDK behind it now. Asked without
   * making a logger; a provider that cannot say is asked for one every time.
   */
  #registered(provider: LoggerProvider): boolean {
    const proxy = provider as {
      _getDelegateLogger?: (name: string, version: string) => Logger | undefined;
    };
    if (typeof proxy._getDelegateLogger !== 'function') return true;
    try {
      return proxy._getDelegateLogger(this.#loggerName, VERSION) !== undefined;
    } catch {
      return true;
    }
  }

  #severityOf(info: Record<string, unknown>, crash: boolean): Severity {
    let level: unknown;
    try {
      level = (info as { [LEVEL]?: unknown })[LEVEL] ?? info.level;
    } catch {
      level = undefined;
    }
    if (typeof level !== 'string' || level === '') {
      return { number: SeverityNumber.UNSPECIFIED, text: undefined, crash };
    }
    if (crash) return { number: SeverityNumber.FATAL, text: 'FATAL', crash };
    const levels = (this as { levels?: Record<string, number> }).levels;
    if (levels !== undefined && levels !== null) {
      if (levels !== this.#levelsSeen) {
        this.#severities = new Map();
        for (const [name, number] of severitiesForLevels(levels, this.#severityMap)) {
          this.#severities.set(name, { number, text: name, crash: false });
        }
        this.#levelsSeen = levels;
      }
      const known = this.#severities.get(level);
      if (known !== undefined) return known;
    }
    return { number: severityForName(level, this.#severityMap), text: level, crash };
  }
}
