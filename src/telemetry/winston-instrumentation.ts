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
import { AUTO_TRANSPORT, CORRELATED_FORMAT, LOGGER_EQUIPPED, OTEL_TRANSPORT } from '../symbols.js';

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

interface TransportLike {
  [OTEL_TRANSPORT]?: true;
  [AUTO_TRANSPORT]?: true;
}

interface WinstonLogger {
  transports: TransportLike[];
  format?: unknown;
  add(transport: unknown): unknown;
  remove(transport: unknown): unknown;
}

interface LoggerClass {
  prototype: WinstonLogger & {
    configure(...args: unknown[]): unknown;
    write(...args: unknown[]): unknown;
    clear(...args: unknown[]): unknown;
  };
}

/**
 * otel-winston's instrumentation of winston: every logger, however it is
 * created (`createLogger`, `winston.loggers`, the default logger), gets one
 * OtelTransport, and never a second one: an app that adds its own OtelTransport
 * replaces the automatic one (duplicate records are a known trap:
 * opentelemetry-js-contrib#2283).
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
        this._unwrap(Logger.prototype, 'configure');
        this._unwrap(Logger.prototype, 'add');
        this._unwrap(Logger.prototype, 'write');
        this._unwrap(Logger.prototype, 'clear');
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
    const equip = (logger: WinstonLogger): void => this.#equip(logger);
    const equipAfter = (original: (...args: unknown[]) => unknown) =>
      function equipAfterwards(this: WinstonLogger, ...args: unknown[]): unknown {
        const result = original.apply(this, args);
        equip(this);
        return result;
      };
    // configure() (which the constructor calls) sets a logger's transports;
    // clear() resets them: either way it gets its OtelTransport (back).
    // (remove() of the OtelTransport is respected: that is a choice.)
    this._wrap(Logger.prototype, 'configure', equipAfter);
    this._wrap(Logger.prototype, 'clear', equipAfter);
    // A logger made before the patch is equipped at its first record (its
    // configure() ran unpatched); later ones already are, at configure().
    this._wrap(
      Logger.prototype,
      'write',
      (original: (...args: unknown[]) => unknown) =>
        function write(this: WinstonLogger, ...args: unknown[]): unknown {
          if ((this as { [LOGGER_EQUIPPED]?: true })[LOGGER_EQUIPPED] !== true) {
            equip(this);
            // The logger has its own write wrapper now: deliver through it.
            const own = (this as { write?: unknown }).write;
            if (typeof own === 'function' && own !== write) {
              return (own as typeof original).apply(this, args);
            }
          }
          return original.apply(this, args);
        },
    );
    this._wrap(
      Logger.prototype,
      'add',
      (original: (transport: unknown) => unknown) =>
        function add(this: WinstonLogger, transport: unknown): unknown {
          const incoming = transport as TransportLike | null;
          if (
            incoming !== null &&
            typeof incoming === 'object' &&
            incoming[OTEL_TRANSPORT] === true
          ) {
            if (incoming[AUTO_TRANSPORT] === true) {
              // The automatic one is added only where no OtelTransport is.
              if (hasOtelTransport(this)) return this;
            } else {
              // The app's own OtelTransport replaces the automatic one.
              for (const existing of [...(this.transports ?? [])]) {
                if (existing[AUTO_TRANSPORT] === true) this.remove(existing);
              }
            }
          }
          return original.call(this, transport);
        },
    );
  }

  #equip(logger: WinstonLogger): void {
    const config = this.getConfig();
    try {
      Object.defineProperty(logger, LOGGER_EQUIPPED, { value: true, configurable: true });
      if (config.autoTransport !== false && !hasOtelTransport(logger)) {
        const transport = new OtelTransport() as OtelTransport & TransportLike;
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

function hasOtelTransport(logger: WinstonLogger): boolean {
  const transports = logger.transports;
  return Array.isArray(transports) && transports.some((t) => t?.[OTEL_TRANSPORT] === true);
}
