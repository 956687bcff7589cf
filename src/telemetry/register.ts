// The preload: `node --require otel-winston/register` (or `--import`) runs this.
import { startTelemetry } from './start-telemetry.js';
import { describeError, warn } from '../warnings.js';

try {
  startTelemetry();
} catch (error) {
  // Only options given in code can throw, and there are none here; never break the app.
  warn('OTW011', describeError(error));
}
