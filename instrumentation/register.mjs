// node --import otel-winston/register app.mjs
// Registers the ESM loader hook, so modules the app imports (http, express,
// winston, …) are instrumented without --experimental-loader, then starts
// OpenTelemetry from the OTEL_* environment, through the same CommonJS entry
// as --require: one SDK per process, whichever flags are given.
import { createRequire, register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
createRequire(import.meta.url)('./register.cjs');
