'use strict';
// node --require otel-winston/register app.js   (also NODE_OPTIONS="--require otel-winston/register")
// Registers the ESM loader hook, so that an ESM app started this way is instrumented too, then
// starts OpenTelemetry from the OTEL_* environment before the app loads. A second load (both
// --require and --import, or a second require) starts nothing more.
const { register } = require('node:module');
const { pathToFileURL } = require('node:url');
const { isMainThread } = require('node:worker_threads');

const HOOK = Symbol.for('otel-winston.esm-hook.v1');
if (isMainThread && globalThis[HOOK] !== true && typeof register === 'function') {
  globalThis[HOOK] = true;
  register('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename));
}
require('../dist/cjs/telemetry/register.js');
