import type { Metadata } from '@grpc/grpc-js';
import type { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { invalidOption, OtelWinstonError } from '../errors.js';
import { logsRequestToJson } from '../otlp/logs-json.js';
import type { PipelineSettings } from '../pipeline/options.js';
import { requireHere } from '#require-here';
import type { Sender } from './attempt.js';
import { GrpcSender, loadGrpc } from './grpc-sender.js';
import { HttpSender, type HttpSenderConfig } from './http-sender.js';

type ConvertHttp = (
  config: {
    url?: string;
    headers?: Record<string, string>;
    compression?: 'gzip' | 'none';
    timeoutMillis?: number;
  },
  signal: string,
  path: string,
  requiredHeaders: Record<string, string>,
) => HttpSenderConfig & { timeoutMillis: number };

/** A sender and the attempt timeout the environment asks for. */
export interface SenderSetup {
  readonly sender: Sender;
  /** `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT` / `_TIMEOUT`, or the option, or 10000. */
  readonly timeoutMillis: number;
}

/**
 * The sender for `settings.protocol`, configured as the upstream OTLP log
 * exporters configure themselves: the options given, then the
 * `OTEL_EXPORTER_OTLP_LOGS_*` and `OTEL_EXPORTER_OTLP_*` variables (endpoint,
 * headers, compression, timeout, certificates), then the defaults. The
 * upstream configuration code is used as it is, so both read the
 * environment alike. Loaded when a pipeline is made, not on import; the
 * gRPC code only for `grpc`. Throws an `OtelWinstonError` for `headers` that
 * cannot be gRPC metadata.
 */
export function createSender(settings: PipelineSettings): SenderSetup {
  const userConfig = {
    ...(settings.url !== undefined ? { url: settings.url } : {}),
    ...(settings.headers !== undefined ? { headers: settings.headers } : {}),
    ...(settings.compression !== undefined ? { compression: settings.compression } : {}),
    ...(settings.timeoutMillis !== undefined ? { timeoutMillis: settings.timeoutMillis } : {}),
  };
  if (settings.protocol === 'grpc') {
    const { convertLegacyOtlpGrpcOptions } = requireHere(
      '@opentelemetry/otlp-grpc-exporter-base',
    ) as typeof import('@opentelemetry/otlp-grpc-exporter-base');
    // As `@opentelemetry/exporter-logs-otlp-grpc` configures itself.
    const { headers, compression, ...common } = userConfig;
    const config = convertLegacyOtlpGrpcOptions(
      {
        ...common,
        ...(headers !== undefined ? { metadata: grpcMetadata(headers) } : {}),
        ...(compression !== undefined ? { compression: compression as CompressionAlgorithm } : {}),
      },
      'LOGS',
    );
    return { sender: new GrpcSender(config), timeoutMillis: config.timeoutMillis };
  }
  const json = settings.protocol === 'http/json';
  const { convertLegacyHttpOptions } = requireHere(
    '@opentelemetry/otlp-exporter-base/node-http',
  ) as { convertLegacyHttpOptions: ConvertHttp };
  const config = convertLegacyHttpOptions(userConfig, 'LOGS', 'v1/logs', {
    'Content-Type': json ? 'application/json' : 'application/x-protobuf',
  });
  return {
    sender: new HttpSender(config, json ? logsRequestToJson : undefined),
    timeoutMillis: config.timeoutMillis,
  };
}

/** What gRPC allows in metadata: lower-case keys (upper case is lowered), printable ASCII values. */
const METADATA_KEY = /^[0-9a-z_.-]+$/;
const METADATA_VALUE = /^[ -~]*$/;

/** The `headers` option as gRPC metadata; throws for a key or value gRPC does not allow. */
function grpcMetadata(headers: Record<string, string>): Metadata {
  const metadata = new (loadGrpc().Metadata)();
  for (const [key, value] of Object.entries(headers)) {
    const lower = key.toLowerCase();
    if (!METADATA_KEY.test(lower) || lower.endsWith('-bin')) {
      throw invalidOption(
        'headers',
        'keys gRPC metadata allows (a-z, 0-9, "-", "_" and ".", not ending in "-bin")',
        key,
      );
    }
    if (!METADATA_VALUE.test(value)) {
      // The value itself is not shown: it is often a secret.
      throw new OtelWinstonError(
        'OTW_ERR_INVALID_OPTION',
        `Expected \`headers[${JSON.stringify(key)}]\` to be printable ASCII, as gRPC metadata requires, got a value with other characters (a line break?)`,
      );
    }
    metadata.set(lower, value);
  }
  return metadata;
}
