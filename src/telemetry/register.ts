// The preload: `node --require otel-winston/register` (or `--import`) runs this.
import { isMainThread } from 'node:worker_threads';
import { describeError, warn } from '../warnings.js';
import { startTelemetry } from './start-telemetry.js';

// Worker threads inherit --require and --import: telemetry runs once, in the main thread.
if (isMainThread) {
  try {
    startTelemetry();
  } catch (error) {
    // Only options given in code can throw, and there are none here; never break the app.
    warn('OTW011', describeError(error));
  }
}
