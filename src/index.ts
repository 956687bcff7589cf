export { OtelTransport } from './transport/otel-transport.js';
export type { OtelTransportOptions } from './transport/options.js';
export type { SeverityMap } from './mapping/severity.js';
// The stable semantic-convention names the records use (exception.*, http.route, url.path, ...)
// are in @opentelemetry/semantic-conventions; these are the names of this package's own.
export { ATTR_EXCEPTION_CAUSE, ATTR_EXCEPTION_CODE } from './mapping/exception.js';
export {
  getRequestContext,
  runWithRequestContext,
  setRequestContext,
} from './context/request-context.js';
export type { RequestContext } from './context/request-context.js';
export { ATTR_REQUEST_ID, ATTR_USER_ID } from './context/request-attributes.js';
export { traceContext } from './format/trace-context.js';
export type { TraceContextFormatOptions } from './format/trace-context.js';
export { ERROR_CODES, OtelWinstonError } from './errors.js';
export { WARNING_CODES } from './warnings.js';
export type { WarningCode } from './warnings.js';
export { LogPipeline } from './pipeline/log-pipeline.js';
export type { LogPipelineOptions, OtlpProtocol, SpoolOptions } from './pipeline/options.js';
export { PolicyProcessor } from './policies/policy-processor.js';
export type { OwnRecord, PolicyRecord, RecordOrigin } from './policies/policy-processor.js';
export type { AnyValue, AnyValueMap } from './mapping/any-value.js';
export { SamplingProcessor } from './policies/sampling/sampling-processor.js';
export type {
  SamplingCounts,
  SamplingOptions,
  SeverityBand,
} from './policies/sampling/sampling-processor.js';
export { RateLimitProcessor } from './policies/rate-limit/rate-limit-processor.js';
export type {
  RateLimitCounts,
  RateLimitOptions,
} from './policies/rate-limit/rate-limit-processor.js';
export { LogMetricsProcessor } from './policies/metrics/log-metrics-processor.js';
export type {
  LogMetricDeclaration,
  LogMetricMatch,
  LogMetricsOptions,
} from './policies/metrics/log-metrics-processor.js';
export { RedactionProcessor } from './policies/redaction/redaction-processor.js';
export type { RedactionOptions } from './policies/redaction/redaction-processor.js';
export type { RedactAction } from './policies/redaction/redactor.js';
export { DEFAULT_KEY_RULES } from './policies/redaction/key-rules.js';
export type { KeyRule } from './policies/redaction/key-rules.js';
export { DEFAULT_VALUE_RULES, patternRule } from './policies/redaction/value-rules.js';
export type { Span, ValueRule } from './policies/redaction/value-rules.js';
export { DROP_REASONS } from './pipeline/accounting.js';
export type { DropReason, PipelineStats } from './pipeline/accounting.js';
export { shutdownTelemetry, startTelemetry } from './telemetry/start-telemetry.js';
export type { Telemetry, TelemetryOptions } from './telemetry/start-telemetry.js';
export { createIdentityVerifier } from './middleware/identity.js';
export type { JwtVerificationOptions } from './middleware/identity.js';
export { IDENTITY_REASONS } from './context/identity-result.js';
export type { IdentityReason, IdentityResult } from './context/identity-result.js';
export {
  ACCESS_EVENT,
  ATTR_HTTP_RESPONSE_BODY_SIZE,
  ATTR_IDENTITY_FAILURE_REASON,
  ATTR_REQUEST_DURATION,
  IDENTITY_EVENT,
} from './middleware/request-tracker.js';
export type { RecordLogger, RequestContextOptions } from './middleware/options.js';
export { VERSION } from './version.js';
