'use strict';
// node --require otel-winston/register app.js
// Starts OpenTelemetry from the OTEL_* environment before the app loads. A
// second load (both --require and --import, or a second require) starts nothing more.
require('../dist/cjs/telemetry/register.js');
