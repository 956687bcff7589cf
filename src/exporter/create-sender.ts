import { logsRequestToJson } from '../otlp/logs-json.js';
import type { PipelineSettings } from '../pipeline/options.js';
import { requireHere } from '../telemetry/require-here.js';
import type { Sender } from './attempt.js';
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
 * environment alike. Loaded when a pipeline is made, not on import.
 */
export function createSender(settings: PipelineSettings): SenderSetup {
  const userConfig = {
    ...(settings.url !== undefined ? { url: settings.url } : {}),
    ...(settings.headers !== undefined ? { headers: settings.headers } : {}),
    ...(settings.compression !== undefined ? { compression: settings.compression } : {}),
    ...(settings.timeoutMillis !== undefined ? { timeoutMillis: settings.timeoutMillis } : {}),
  };
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
