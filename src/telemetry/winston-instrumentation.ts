import { createRequire } from 'node:module';
import {
  InstrumentationBase,
  isWrapped,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { format } from 'logform';
import { traceContext } from '../format/trace-context.js';
import { OtelTransport } from '../transport/otel-transport.js';
import { VERSION } from '../version.js';
import { describeError, warn } from '../warnings.js';
import { AUTO_TRANSPORT, CORRELATED_FORMAT, LOGGER_EQUIPPED } from '../symbols.js';
import {
  hasOtelTransport,
  patchLoggerClass,
  PATCHED_LOGGER_METHODS,
  type LoggerClass,
  type PatchedLogger,
  type Wrap,
} from '../transport/winston-patches.js';

/** Options of {@link WinstonInstrumentation}. */
export interface WinstonInstrumentationConfig extends InstrumentationConfig {
  /**
   * Give every winston logger an OtelTransport (unless it has one).
   * @default true
   */
  autoTransport?: boolean;
  /**
   * Put `trace_id`, `span_id`, `trace_flags` and the request fields into the app's own lines
   * (the `traceContext()` format in front of each logger's format).
   * @default true
   */
  correlationFields?: boolean;
}

/**
 * otel-winston's instrumentation of winston: every logger, however it is
 * created (`createLogger`, `winston.loggers`, the default logger), gets one
 * OtelTransport, and never a second one: an app that adds its own OtelTransport
 * replaces the automatic one (duplicate records are a known trap:
 * opentelemetry-js-contrib#2283).
 *
 * This class decides when winston is patched (the require hook, or copies
 * loaded earlier) and what equipping a logger adds; the patches themselves,
 * and the order a log call passes them in, are in `transport/winston-patches.ts`.
 */
export class WinstonInstrumentation extends InstrumentationBase<WinstonInstrumentationConfig> {
  constructor(config: WinstonInstrumentationConfig = {}) {
    super('otel-winston/instrumentation-winston', VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const file = new InstrumentationNodeModuleFile(
      'winston/lib/winston/logger.js',
      ['>=3 <4'],
      (Logger: LoggerClass) => {
        this.#patch(Logger);
        return Logger;
      },
      (Logger: LoggerClass) => {
        for (const name of PATCHED_LOGGER_METHODS) this._unwrap(Logger.prototype, name);
        return Logger;
      },
    );
    return [
      new InstrumentationNodeModuleDefinition('winston', ['>=3 <4'], undefined, undefined, [file]),
    ];
  }

  /**
   * Instruments copies of winston that were loaded before this instrumentation
   * was enabled (another preload, or an app that started telemetry late): the
   * require hook never sees those. Their loggers get an OtelTransport at their
   * next record.
   */
  patchAlreadyLoaded(
    cache: Record<string, { exports?: unknown } | undefined> = requireCache(),
  ): number {
    let patched = 0;
    for (const [path, entry] of Object.entries(cache)) {
      if (!/[\\/]winston[\\/]lib[\\/]winston[\\/]logger\.js$/.test(path)) continue;
      const exported: unknown = entry?.exports;
      if (typeof exported !== 'function') continue;
      const Logger = exported as unknown as LoggerClass;
      if (isWrapped(Logger.prototype.configure)) continue;
      this.#patch(Logger);
      patched++;
    }
    return patched;
  }

  #patch(Logger: LoggerClass): void {
    const wrap: Wrap = (object, name, wrapper) => {
      this._wrap(object, name, wrapper as never);
    };
    patchLoggerClass(Logger, wrap, (logger) => this.#equip(logger));
  }

  #equip(logger: PatchedLogger): void {
    const config = this.getConfig();
    try {
      Object.defineProperty(logger, LOGGER_EQUIPPED, { value: true, configurable: true });
      if (config.autoTransport !== false && !hasOtelTransport(logger)) {
        const transport = new OtelTransport();
        Object.defineProperty(transport, AUTO_TRANSPORT, { value: true });
        logger.add(transport);
      }
      if (config.correlationFields !== false && logger.format !== undefined) {
        const current = logger.format as { [CORRELATED_FORMAT]?: true };
        if (current[CORRELATED_FORMAT] !== true) {
          const combined = format.combine(traceContext(), logger.format as never) as object;
          Object.defineProperty(combined, CORRELATED_FORMAT, { value: true });
          logger.format = combined;
        }
      }
    } catch (error) {
      warn('OTW010', `a winston logger could not be instrumented: ${describeError(error)}`);
    }
  }
}

/** Node's CommonJS module cache (the ESM build reaches it through createRequire). */
function requireCache(): Record<string, { exports?: unknown } | undefined> {
  return createRequire(`${process.cwd()}/`).cache;
}
