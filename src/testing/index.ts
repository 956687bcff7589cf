export { createLogCapture } from './log-capture.js';
export type { CapturedLogRecord, LogCapture, RecordQuery } from './log-capture.js';
export { startOtlpReceiver } from '../otlp/otlp-receiver.js';
export type { OtlpReceiver, OtlpReceiverOptions, ReceivedRequest } from '../otlp/otlp-receiver.js';
export { decodeLogsJson, decodeLogsProtobuf } from '../otlp/decode-logs.js';
export type { DecodedLogRecord, DecodedValue } from '../otlp/decode-logs.js';
export { decodeTracesJson, decodeTracesProtobuf } from '../otlp/decode-traces.js';
export type { DecodedSpan } from '../otlp/decode-traces.js';
