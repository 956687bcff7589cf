import * as grpc from '@grpc/grpc-js';
import { decodeLogsProtobuf, type DecodedLogRecord } from '../../src/otlp/decode-logs.js';
import { decodeTracesProtobuf, type DecodedSpan } from '../../src/otlp/decode-traces.js';
import { waitUntil } from './wait.js';

const EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const TRACES_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

/** Bytes in, bytes out: the receiver decodes requests itself. */
const passThrough = (bytes: Buffer): Buffer => bytes;

/** How the receiver answers one Export call. */
export type GrpcAnswer =
  /** OK, with these `ExportLogsServiceResponse` bytes (default: empty, a full success). */
  | { readonly response: Buffer }
  /** This status, with these trailers. */
  | { readonly code: grpc.status; readonly details?: string; readonly metadata?: grpc.Metadata }
  /** No answer at all: the call stays open until the client gives up or the server closes. */
  | 'hang';

/** One Export call, as it arrived. */
export interface GrpcExport {
  readonly records: DecodedLogRecord[];
  readonly metadata: grpc.Metadata;
}

/**
 * A real grpc-js server on 127.0.0.1 with the OTLP logs service, and the
 * trace and metrics services (answered OK), insecure or over TLS.
 */
export interface GrpcLogsReceiver {
  /**
   * `http://127.0.0.1:<port>` (`https://` over TLS), for `url` or
   * `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`.
   */
  readonly url: string;
  /** Every call, in order, whatever it was answered. */
  readonly calls: readonly GrpcExport[];
  /** The records of the calls answered OK. */
  readonly logs: readonly DecodedLogRecord[];
  /** The spans of every trace Export call. */
  readonly spans: readonly DecodedSpan[];
  /** How many metrics Export calls arrived. */
  readonly metricExports: number;
  /** Decides the answer to call `n` (0-based); by default every call is answered OK. */
  answer: (n: number) => GrpcAnswer;
  waitForCalls(count: number, timeoutMillis?: number): Promise<void>;
  waitForLogs(count: number, timeoutMillis?: number): Promise<void>;
  /** Ends every open call and stops the server. */
  close(): void;
}

/** PEM contents for a receiver over TLS, which requires a client certificate `rootCert` signed. */
export interface GrpcReceiverTls {
  readonly rootCert: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/**
 * Starts a {@link GrpcLogsReceiver} on a free port; `options` such as
 * `grpc.max_receive_message_length`; with `tls`, it speaks TLS only, and
 * requires a client certificate.
 */
export async function startGrpcReceiver(
  options: grpc.ServerOptions = {},
  tls?: GrpcReceiverTls,
): Promise<GrpcLogsReceiver> {
  const server = new grpc.Server(options);
  const calls: GrpcExport[] = [];
  const logs: DecodedLogRecord[] = [];
  const spans: DecodedSpan[] = [];
  let metricExports = 0;
  let url = '';
  const receiver: GrpcLogsReceiver = {
    get url() {
      return url;
    },
    calls,
    logs,
    spans,
    get metricExports() {
      return metricExports;
    },
    answer: () => ({ response: Buffer.alloc(0) }),
    waitForCalls: (count, timeoutMillis = 10_000) =>
      waitUntil(
        () => `${count} gRPC calls (got ${calls.length})`,
        () => calls.length >= count,
        timeoutMillis,
      ).then(() => undefined),
    waitForLogs: (count, timeoutMillis = 10_000) =>
      waitUntil(
        () => `${count} records over gRPC (got ${logs.length})`,
        () => logs.length >= count,
        timeoutMillis,
      ).then(() => undefined),
    close: () => server.forceShutdown(),
  };
  /** A service of one unary `export` method at `path`, bytes in and out. */
  const unary = (path: string): grpc.ServiceDefinition => ({
    export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    },
  });
  server.addService(unary(EXPORT_PATH), {
    export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const records = decodeLogsProtobuf(call.request);
      const answer = receiver.answer(calls.length);
      calls.push({ records, metadata: call.metadata });
      if (answer === 'hang') return;
      if ('response' in answer) {
        logs.push(...records);
        callback(null, answer.response);
        return;
      }
      callback({
        code: answer.code,
        details: answer.details ?? '',
        metadata: answer.metadata ?? new grpc.Metadata(),
      });
    },
  });
  server.addService(unary(TRACES_PATH), {
    export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      spans.push(...decodeTracesProtobuf(call.request));
      callback(null, Buffer.alloc(0));
    },
  });
  server.addService(unary(METRICS_PATH), {
    export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      metricExports++;
      callback(null, Buffer.alloc(0));
    },
  });
  const credentials =
    tls === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
          tls.rootCert,
          [{ cert_chain: tls.cert, private_key: tls.key }],
          true,
        );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  return receiver;
}
