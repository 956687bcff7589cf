// node --import otel-winston/register app.mjs
// Registers the ESM loader hook, so modules the app imports (http, express,
// fastify, winston, …) are instrumented without --experimental-loader, then
// starts OpenTelemetry from the OTEL_* environment through the same CommonJS
// entry as --require: one SDK per process, whichever flags are given.
import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const HOOK = Symbol.for('otel-winston.esm-hook.v1');
if (isMainThread && globalThis[HOOK] !== true) {
  globalThis[HOOK] = true;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
}
createRequire(import.meta.url)('./register.cjs');
