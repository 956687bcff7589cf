// node --import otel-winston/register app.mjs
// Through the same CommonJS entry as --require (one SDK per process, whichever flags are
// given): starts OpenTelemetry from the OTEL_* environment, then installs the ESM loader hook, so
// modules the app imports (http, express, fastify, winston, …) are instrumented without
// --experimental-loader.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./register.cjs');
