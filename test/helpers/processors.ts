import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';

/** A processor that takes every record and does nothing: the end of a chain under test. */
export const NOOP_PROCESSOR: LogRecordProcessor = {
  onEmit: () => {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
