'use strict';
// node --require otel-winston/register app.js   (also NODE_OPTIONS="--require otel-winston/register")
// Starts OpenTelemetry from the OTEL_* environment, then installs the ESM loader hook
// (loader-hooks.cjs), both before the app loads, so that an ESM app started this way is
// instrumented too. A second load (both --require and --import, or a second require) starts
// nothing more.
require('../dist/cjs/telemetry/register.js');
require('./loader-hooks.cjs').installLoaderHooks();
