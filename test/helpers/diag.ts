import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { resetWarnings } from '../../src/warnings.js';

/** Collects what reaches the OpenTelemetry diag logger, for assertions. */
export interface DiagCapture {
  readonly warnings: string[];
  readonly errors: string[];
  clear(): void;
}

const warnings: string[] = [];
const errors: string[] = [];
const logger: DiagLogger = {
  error: (message) => void errors.push(message),
  warn: (message) => void warnings.push(message),
  info: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};
let installed = false;

/** Installs (once) a capturing diag logger and clears it and the rate limiter between tests. */
export function useDiagCapture(): DiagCapture {
  if (!installed) {
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    installed = true;
  }
  const capture: DiagCapture = {
    warnings,
    errors,
    clear() {
      warnings.length = 0;
      errors.length = 0;
      resetWarnings();
    },
  };
  beforeEach(() => capture.clear());
  return capture;
}
