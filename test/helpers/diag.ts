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
function install(): void {
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}

/**
 * Installs a capturing diag logger before each test of the calling suite, and
 * clears what it holds and the warnings' rate limiter.
 */
export function useDiagCapture(): DiagCapture {
  install();
  const capture: DiagCapture = {
    warnings,
    errors,
    clear() {
      warnings.length = 0;
      errors.length = 0;
      resetWarnings();
    },
  };
  beforeEach(() => {
    install();
    capture.clear();
  });
  return capture;
}
