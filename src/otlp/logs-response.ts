import { ProtobufReader } from './protobuf-reader.js';

/** The partial success of an `ExportLogsServiceResponse`: what the collector refused, and why. */
export interface LogsPartialSuccess {
  readonly rejected: number;
  readonly message: string | undefined;
}

const NONE: LogsPartialSuccess = { rejected: 0, message: undefined };

/**
 * Reads `partial_success` from an `ExportLogsServiceResponse`, in protobuf
 * or (with `json`) OTLP/JSON. An empty or unreadable body is a full success,
 * as the OTLP specification has clients treat it.
 */
export function decodeLogsResponse(body: Uint8Array, json: boolean): LogsPartialSuccess {
  if (body.length === 0) return NONE;
  try {
    return json ? fromJson(body) : fromProtobuf(body);
  } catch {
    return NONE;
  }
}

function fromProtobuf(body: Uint8Array): LogsPartialSuccess {
  let rejected = 0;
  let message: string | undefined;
  // ExportLogsServiceResponse.partial_success(1) → rejected_log_records(1), error_message(2).
  new ProtobufReader(body).fields({
    1: (r) =>
      r.message().fields({
        1: (p) => (rejected = Number(p.int64())),
        2: (p) => (message = p.string()),
      }),
  });
  return { rejected: Math.max(0, rejected), message: message || undefined };
}

function fromJson(body: Uint8Array): LogsPartialSuccess {
  const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as {
    partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown };
  };
  const partial = parsed.partialSuccess;
  const rejected = Number(partial?.rejectedLogRecords ?? 0);
  const message = partial?.errorMessage;
  return {
    rejected: Number.isFinite(rejected) && rejected > 0 ? rejected : 0,
    message: typeof message === 'string' && message !== '' ? message : undefined,
  };
}
