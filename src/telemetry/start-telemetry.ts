import { diag, DiagConsoleLogger, logs, metrics, trace } from '@opentelemetry/api';
import type { Defaults } from '../defaults.js';
import { diagLogLevelFromString } from '@opentelemetry/core';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { FastifyOtelInstrumentation } from '@fastify/otel';
import type { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import type { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import https from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { getRequestContext, setRequestContext } from '../context/request-context.js';
import { invalidOption } from '../errors.js';
import { describeError, warn } from '../warnings.js';
import {
  readBooleanEnv,
  readListEnv,
  readMillisEnv,
  readSpecBooleanEnv,
  readStringEnv,
} from '../env.js';
import type { LogPipeline } from '../pipeline/log-pipeline.js';
import { retryPolicyFromEnv } from '../pipeline/options.js';
import { flushWithin, installExitHooks } from './exit-hooks.js';
import { logProcessorsFromEnv } from './log-processors.js';
import { installed, startSdk, type StartedSdk } from './sdk-providers.js';
import { resourceDetectorsFromEnv } from './resource-detectors.js';
import { ExportAborter } from '../exporter/abort.js';
import { patchServerRequestContext } from './http-request-context.js';
import { requireHere } from '#require-here';
import { WinstonInstrumentation } from './winston-instrumentation.js';
import { LOGS_OFF, TELEMETRY_STATE } from '../symbols.js';

/** Options of {@link startTelemetry}; each overrides the environment variable named. */
export interface TelemetryOptions {
  /**
   * The service name.
   * @default `OTEL_SERVICE_NAME`, else the `name` of the app's package.json
   */
  serviceName?: string;
  /**
   * Give every winston logger an OtelTransport.
   * @default `OTEL_WINSTON_AUTO_TRANSPORT`, else true
   */
  autoTransport?: boolean;
  /**
   * Put `trace_id`, `span_id` and the request fields into the app's own log lines.
   * @default `OTEL_WINSTON_LOG_CORRELATION`, else true
   */
  correlationFields?: boolean;
  /**
   * Give every incoming HTTP request a request context (request id, method, path, client address).
   * @default `OTEL_WINSTON_REQUEST_CONTEXT`, else true
   */
  requestContext?: boolean;
  /**
   * Flush on `beforeExit`, SIGTERM, SIGINT, uncaught exceptions and unhandled rejections.
   * @default `OTEL_WINSTON_HANDLE_EXIT`, else true
   */
  handleExit?: boolean;
  /**
   * The longest a flush at exit may take, in milliseconds.
   * @default `OTEL_WINSTON_SHUTDOWN_TIMEOUT`, else 5000
   */
  shutdownTimeoutMillis?: number;
  /**
   * More instrumentations, next to http, undici, express, fastify and winston.
   * @default []
   */
  instrumentations?: Instrumentation[];
}

/** The fixed default of each {@link TelemetryOptions} option that has one. */
export const TELEMETRY_DEFAULTS = {
  autoTransport: true,
  correlationFields: true,
  requestContext: true,
  handleExit: true,
  shutdownTimeoutMillis: 5000,
  instrumentations: [],
} as const satisfies Defaults<TelemetryOptions>;

/** Started telemetry. */
export interface Telemetry {
  /** Flushes everything and stops the SDK; safe to call more than once. */
  shutdown(): Promise<void>;
  /**
   * The log pipeline that exports the records (`OTEL_LOGS_EXPORTER=otlp`,
   * the default); `undefined` when logs are not exported over OTLP.
   * @example startTelemetry().logPipeline?.stats()
   */
  readonly logPipeline: LogPipeline | undefined;
}

interface TelemetryState {
  readonly telemetry: Telemetry;
}

/**
 * Loads a module when telemetry starts, not when `otel-winston` is imported:
 * an app that only uses the transport loads no instrumentation.
 */
function load<T>(id: string): T {
  return requireHere(id) as T;
}

const globalState = globalThis as { [TELEMETRY_STATE]?: TelemetryState; [LOGS_OFF]?: true };

/**
 * Each instrumentation by name; `make` gives `undefined` where what it needs
 * is not installed. One that patches a single framework (`framework`) is made
 * only when the app can load that framework: loading the Express and Fastify
 * instrumentations took 80 ms of every start here, for apps that use neither.
 * (Making one later, when the app first asks for the framework, was tried:
 * each instrumentation package brings its own require hook, which a require
 * already under way does not pass through.)
 */
const INSTRUMENTATIONS: Record<
  string,
  {
    readonly framework?: string;
    readonly make: (settings: Settings) => Instrumentation | undefined;
  }
> = {
  // node:http is loaded by the exporters at start; undici also instruments the global fetch().
  http: {
    make: () =>
      new (load<{ HttpInstrumentation: typeof HttpInstrumentation }>(
        '@opentelemetry/instrumentation-http',
      ).HttpInstrumentation)(),
  },
  undici: {
    make: () =>
      new (load<{ UndiciInstrumentation: typeof UndiciInstrumentation }>(
        '@opentelemetry/instrumentation-undici',
      ).UndiciInstrumentation)(),
  },
  express: {
    framework: 'express',
    make: () =>
      new (load<{ ExpressInstrumentation: typeof ExpressInstrumentation }>(
        '@opentelemetry/instrumentation-express',
      ).ExpressInstrumentation)({
        // The matched route is known only once Express has routed: add it to the request context.
        requestHook: (_span, info) => {
          if (
            info.layerType === 'request_handler' &&
            info.route &&
            getRequestContext() !== undefined
          ) {
            setRequestContext({ route: info.route });
          }
        },
      }),
  },
  // @fastify/otel is an optional peer: installed by the apps that use Fastify (it pins
  // @opentelemetry/core 2, whose API range excludes 1.10, so a hard dependency would make every
  // install warn). Without it, Fastify's requests still get server spans from the http
  // instrumentation, and the otel-winston/fastify plugin still gives their records the route.
  fastify: {
    framework: 'fastify',
    make: () =>
      !installed('@fastify/otel')
        ? undefined
        : (new (load<{ FastifyOtelInstrumentation: typeof FastifyOtelInstrumentation }>(
            '@fastify/otel',
          ).FastifyOtelInstrumentation)({
            // Registers its plugin on every Fastify instance as it is created.
            registerOnInitialization: true,
            requestHook: (_span, request) => {
              const route = (request as { routeOptions?: { url?: unknown } }).routeOptions?.url;
              if (typeof route === 'string' && getRequestContext() !== undefined)
                setRequestContext({ route });
            },
          }) as unknown as Instrumentation),
  },
  winston: {
    make: (s) => {
      const instrumentation = new WinstonInstrumentation({
        autoTransport: s.autoTransport,
        correlationFields: s.correlationFields,
      });
      // winston loaded before the preload (another preload, a late start): patch it now.
      instrumentation.patchAlreadyLoaded();
      return instrumentation;
    },
  },
};

interface Settings {
  readonly autoTransport: boolean;
  readonly correlationFields: boolean;
  readonly requestContext: boolean;
  readonly handleExit: boolean;
  readonly shutdownTimeoutMillis: number;
}

function checkOptions(options: unknown): TelemetryOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null)
    throw invalidOption('options', 'an object', options);
  const o = options as TelemetryOptions;
  for (const key of [
    'autoTransport',
    'correlationFields',
    'requestContext',
    'handleExit',
  ] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      throw invalidOption(key, 'a boolean', o[key]);
  }
  if (o.serviceName !== undefined && (typeof o.serviceName !== 'string' || o.serviceName === '')) {
    throw invalidOption('serviceName', 'a non-empty string', o.serviceName);
  }
  const timeout = o.shutdownTimeoutMillis;
  if (
    timeout !== undefined &&
    !(typeof timeout === 'number' && timeout > 0 && timeout <= 2_147_483_647)
  ) {
    throw invalidOption(
      'shutdownTimeoutMillis',
      'a number of milliseconds from 1 to 2147483647',
      timeout,
    );
  }
  if (o.instrumentations !== undefined && !Array.isArray(o.instrumentations)) {
    throw invalidOption('instrumentations', 'an array of instrumentations', o.instrumentations);
  }
  return o;
}

/** The `name` of the app's package.json: the nearest one above the entry script. */
export function appPackageName(start = process.argv[1] ?? process.cwd()): string | undefined {
  let dir = dirname(start);
  for (let i = 0; i < 32; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (typeof pkg.name === 'string' && pkg.name !== '') return pkg.name;
    } catch {
      // No package.json here (or not readable): look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/**
 * Whether the app can load `name`: resolved from its entry script's folder,
 * the working directory, or this package's own place (where a package
 * manager that hoists puts the app's dependencies too).
 */
function appCanLoad(name: string): boolean {
  const entry = process.argv[1];
  const from = [
    ...(entry !== undefined && isAbsolute(entry) ? [entry] : []),
    join(process.cwd(), 'index.js'),
  ];
  for (const file of from) {
    try {
      createRequire(file).resolve(name);
      return true;
    } catch {
      // Not from there: try the next.
    }
  }
  return installed(name);
}

function chooseInstrumentations(settings: Settings, extra: Instrumentation[]): Instrumentation[] {
  const env = process.env;
  const known = Object.keys(INSTRUMENTATIONS);
  const known_ = (list: string[] | undefined, variable: string): string[] | undefined => {
    if (list === undefined) return undefined;
    const unknown = list.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      warn(
        'OTW004',
        `Unknown instrumentation(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')} in ${variable}; known: ${known.join(', ')}`,
        variable,
      );
    }
    return list.filter((name) => known.includes(name));
  };
  let enabled = known_(
    readListEnv(env, 'OTEL_NODE_ENABLED_INSTRUMENTATIONS'),
    'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
  );
  // A list of nothing but typos would turn everything off: keep the default instead.
  if (enabled === undefined || enabled.length === 0) enabled = known;
  const disabled = new Set(
    known_(
      readListEnv(env, 'OTEL_NODE_DISABLED_INSTRUMENTATIONS'),
      'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
    ) ?? [],
  );
  const chosen = known.filter((name) => enabled.includes(name) && !disabled.has(name));
  const named = readListEnv(env, 'OTEL_NODE_ENABLED_INSTRUMENTATIONS') ?? [];
  const made: Instrumentation[] = [];
  for (const name of chosen) {
    const { framework, make } = INSTRUMENTATIONS[name]!;
    // Named in OTEL_NODE_ENABLED_INSTRUMENTATIONS: made whether or not the framework is found.
    if (framework !== undefined && !named.includes(name) && !appCanLoad(framework)) {
      diag.debug(`otel-winston: ${framework} cannot be loaded from the app: not instrumented`);
      continue;
    }
    const instrumentation = make(settings);
    if (instrumentation !== undefined) made.push(instrumentation);
  }
  // As the Node SDK takes them: nested lists are flattened.
  return [...made, ...(extra.flat(Infinity) as Instrumentation[])];
}

/**
 * Flushes every global provider that can be flushed and drains the log
 * pipeline, records logged meanwhile included, for at most `timeoutMillis`.
 */
async function flushAll(pipeline: LogPipeline | undefined, timeoutMillis: number): Promise<void> {
  const providers = [
    trace.getTracerProvider() as { getDelegate?: () => unknown },
    logs.getLoggerProvider(),
    metrics.getMeterProvider(),
  ].map((p) =>
    typeof (p as { getDelegate?: unknown }).getDelegate === 'function'
      ? (p as { getDelegate: () => unknown }).getDelegate()
      : p,
  );
  await Promise.all([
    pipeline?.drain(timeoutMillis),
    ...providers.map(async (provider) => {
      const flush = (provider as { forceFlush?: () => Promise<void> }).forceFlush;
      if (typeof flush === 'function') await flush.call(provider);
    }),
  ]);
}

/**
 * Starts OpenTelemetry for this process from the standard `OTEL_*`
 * environment (options in code override it): the OpenTelemetry SDK, as
 * `@opentelemetry/sdk-node` builds it, with OTLP export of
 * logs, traces and metrics, resource detection, the http, undici, express,
 * fastify and winston instrumentations, a request context for every incoming HTTP request,
 * and a flush on every way the process ends.
 *
 * Starting twice starts once. A failure is reported through `diag` and the
 * app runs on without telemetry; only options given in code that are invalid throw.
 *
 * @example
 * import { startTelemetry } from 'otel-winston';
 * startTelemetry({ serviceName: 'checkout' });
 */
export function startTelemetry(options?: TelemetryOptions): Telemetry {
  const o = checkOptions(options);
  const existing = globalState[TELEMETRY_STATE];
  if (existing !== undefined) {
    if (options !== undefined && Object.keys(options).length > 0) {
      warn(
        'OTW011',
        'telemetry was already started (by the preload?); the options of this call are not applied',
        'again',
      );
    }
    return existing.telemetry;
  }

  const env = process.env;
  // Before anything can warn: OTEL_LOG_LEVEL decides what reaches the console.
  const logLevelName = readStringEnv(env, 'OTEL_LOG_LEVEL');
  const logLevel = logLevelName !== undefined ? diagLogLevelFromString(logLevelName) : undefined;
  if (logLevel !== undefined) {
    diag.setLogger(new DiagConsoleLogger(), { logLevel, suppressOverrideMessage: true });
  }
  const settings: Settings = {
    autoTransport:
      o.autoTransport ??
      readBooleanEnv(env, 'OTEL_WINSTON_AUTO_TRANSPORT', TELEMETRY_DEFAULTS.autoTransport),
    correlationFields:
      o.correlationFields ??
      readBooleanEnv(env, 'OTEL_WINSTON_LOG_CORRELATION', TELEMETRY_DEFAULTS.correlationFields),
    requestContext:
      o.requestContext ??
      readBooleanEnv(env, 'OTEL_WINSTON_REQUEST_CONTEXT', TELEMETRY_DEFAULTS.requestContext),
    handleExit:
      o.handleExit ??
      readBooleanEnv(env, 'OTEL_WINSTON_HANDLE_EXIT', TELEMETRY_DEFAULTS.handleExit),
    shutdownTimeoutMillis:
      o.shutdownTimeoutMillis ??
      readMillisEnv(env, 'OTEL_WINSTON_SHUTDOWN_TIMEOUT', TELEMETRY_DEFAULTS.shutdownTimeoutMillis),
  };

  const undo: Array<() => void> = [];
  let sdk: StartedSdk | undefined;
  let pipeline: LogPipeline | undefined;
  const aborter = new ExportAborter();
  let stopping: Promise<void> | undefined;
  /**
   * At the deadline or at exit: what the log pipeline still holds goes to its
   * spool, or is dropped and counted, with the summary line, once; span and
   * metric exports stop. When the process ends now (`final`), the spool's
   * files are finished, for the next start to take over at once.
   */
  const giveUp = (final = false): void => {
    pipeline?.abandon();
    if (final) pipeline?.closeSpool();
    pipeline?.summarize();
    aborter.abort();
  };
  const telemetry: Telemetry = {
    get logPipeline() {
      return pipeline;
    },
    shutdown() {
      return (stopping ??= (async () => {
        for (const fn of undo.splice(0).reverse()) fn();
        if (sdk !== undefined) {
          const running = sdk;
          const deadline = settings.shutdownTimeoutMillis;
          await flushWithin(
            async () => {
              // Records logged while it drains go too; the SDK's shutdown then finds it empty.
              await pipeline?.drain(deadline);
              await running.shutdown();
            },
            deadline,
            giveUp,
          );
        }
        delete globalState[TELEMETRY_STATE];
      })());
    },
  };
  globalState[TELEMETRY_STATE] = { telemetry };

  if (readSpecBooleanEnv(env, 'OTEL_SDK_DISABLED')) {
    // Turned off on purpose: a transport into the no-op provider need not say so.
    globalState[LOGS_OFF] = true;
    return telemetry;
  }
  try {
    const instrumentations = chooseInstrumentations(settings, o.instrumentations ?? []);
    const logs = logProcessorsFromEnv(env);
    if (logs === undefined) globalState[LOGS_OFF] = true;
    pipeline = logs?.pipeline;
    sdk = startSdk(env, {
      instrumentations,
      serviceName: o.serviceName,
      fallbackServiceName: appPackageName(),
      resourceDetectors: resourceDetectorsFromEnv(env),
      logProcessors: logs?.processors,
      // Span and metric exports retry as the logs do, within their export timeout.
      retry: retryPolicyFromEnv(env),
      aborter,
    });
  } catch (error) {
    warn('OTW011', describeError(error));
    sdk = undefined;
    pipeline = undefined;
  }
  if (settings.requestContext) {
    undo.push(patchServerRequestContext([http.Server.prototype, https.Server.prototype] as never));
  }
  if (settings.handleExit) {
    undo.push(
      installExitHooks({
        flush: () => flushAll(pipeline, settings.shutdownTimeoutMillis),
        giveUp,
        timeoutMillis: settings.shutdownTimeoutMillis,
      }),
    );
  }
  return telemetry;
}

/** Flushes and stops what {@link startTelemetry} started; resolves at once when nothing was started. */
export function shutdownTelemetry(): Promise<void> {
  return globalState[TELEMETRY_STATE]?.telemetry.shutdown() ?? Promise.resolve();
}
