/**
 * Every `Symbol.for()` key of this package, in one place. They are global
 * (`Symbol.for`), so that the CommonJS and the ESM builds of this package,
 * both loaded when a CommonJS preload instruments an ESM app, agree on them.
 * The `.v1` suffix changes only if what a key holds changes shape.
 */

// What travels on a winston `info` object, from the call to the transport.

/** The `info` property that holds the call's `CapturedCall`. A symbol: formats and JSON never see it. */
export const CAPTURED_CALL = Symbol.for('otel-winston.captured-call.v1');
/** On a winston logger: an OtelTransport of it wants each call's call site (`includeCodeAttributes`). */
export const CAPTURE_CALL_SITE = Symbol.for('otel-winston.capture-call-site.v1');
/** Set by the `traceContext()` format: the keys it added, which are not attributes again. */
export const CORRELATION_KEYS = Symbol.for('otel-winston.correlation-keys.v1');
/** The context key of a call's message template (`createContextKey` keys by `Symbol.for` too). */
export const MESSAGE_TEMPLATE = Symbol.for('otel-winston.message-template.v1');

// Marks on objects of this package, recognised across its copies.

/** Marks a winston transport that bridges into OpenTelemetry, so no logger is given two. */
export const OTEL_TRANSPORT = Symbol.for('otel-winston.transport.v1');
/** Marks a `LogPipeline`. */
export const LOG_PIPELINE = Symbol.for('otel-winston.log-pipeline.v1');
/** Marks a `PolicyProcessor`. */
export const LOG_POLICY = Symbol.for('otel-winston.log-policy.v1');
/**
 * The method of a processor that counts the records a policy in front of it
 * dropped (`LogPipeline`, and the preload's fan-out to several exporters):
 * `[COUNT_POLICY_DROPS](reason, records)`. A symbol, so that no other
 * processor's method is called by mistake.
 */
export const COUNT_POLICY_DROPS = Symbol.for('otel-winston.count-policy-drops.v1');

// Marks on objects of others: loggers, formats, requests, modules.

/** Marks a winston logger whose `write` and log methods are instrumented. */
export const LOGGER_INSTRUMENTED = Symbol.for('otel-winston.logger-instrumented.v1');
/** Marks a logger the preload's winston instrumentation has looked at. */
export const LOGGER_EQUIPPED = Symbol.for('otel-winston.logger-equipped.v1');
/** Marks the transport the preload added, so an app's own OtelTransport can replace it. */
export const AUTO_TRANSPORT = Symbol.for('otel-winston.auto-transport.v1');
/** Marks a logger format that already has the correlation fields in front. */
export const CORRELATED_FORMAT = Symbol.for('otel-winston.correlated-format.v1');
/** Marks a request the middleware already tracks (a middleware mounted twice). */
export const REQUEST_TRACKED = Symbol.for('otel-winston.request-tracked.v1');
/** A request id this package generated for a request, on the request. */
export const GENERATED_REQUEST_ID = Symbol.for('otel-winston.generated-request-id.v1');
/** Marks `node:http`'s server as patched for the request context. */
export const HTTP_PATCHED = Symbol.for('otel-winston.http-request-context.v1');

// Process-wide state on `globalThis`, one per process whatever copies are loaded.

/** The telemetry `startTelemetry()` started. */
export const TELEMETRY_STATE = Symbol.for('otel-winston.telemetry.v1');
/** The request context's AsyncLocalStorage. */
export const REQUEST_CONTEXT_STORE = Symbol.for('otel-winston.request-context.v1');
/** The request scope's AsyncLocalStorage. */
export const REQUEST_SCOPE = Symbol.for('otel-winston.request-scope.v1');
/** Instances made per component type, for the self-metrics' component names. */
export const COMPONENT_INSTANCES = Symbol.for('otel-winston.component-instances.v1');
/** The spool folders this process has open. */
export const PROCESS_SPOOLS = Symbol.for('otel-winston.spool.process.v1');
/** Set when telemetry was started with logs turned off on purpose (`OTEL_SDK_DISABLED`, `OTEL_LOGS_EXPORTER=none`). */
export const LOGS_OFF = Symbol.for('otel-winston.logs-off.v1');
