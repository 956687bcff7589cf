import type { DecodedLogRecord } from '../otlp/decode-logs.js';
import type { DecodedSpan } from '../otlp/decode-traces.js';
import { startOtlpReceiver, type OtlpReceiver } from '../testing/otlp-receiver.js';
import { renderTrace } from './render-trace.js';

/** Options of {@link startTail}. */
export interface TailOptions {
  /** @default 4318, the OTLP/HTTP port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** A trace is printed once nothing new arrived for it for this long. @default 500 */
  quietMillis?: number;
  /** @default true when writing to a terminal and NO_COLOR is unset */
  color?: boolean;
  /** Where the text goes. @default process.stdout */
  write?: (text: string) => void;
}

/** A running `otel-winston tail`. */
export interface Tail {
  /** The base URL to point `OTEL_EXPORTER_OTLP_ENDPOINT` at. */
  readonly url: string;
  /** Prints what is still waiting, then stops. */
  close(): Promise<void>;
}

interface Pending {
  spans: DecodedSpan[];
  logs: DecodedLogRecord[];
  timer: NodeJS.Timeout | undefined;
}

/**
 * A local OTLP/HTTP receiver (protobuf and JSON) that prints each trace as a
 * tree of spans, with the log records of each span nested under it: a way to
 * watch an app's telemetry with no collector and no Docker.
 */
export async function startTail(options: TailOptions = {}): Promise<Tail> {
  const quiet = options.quietMillis ?? 500;
  const color =
    options.color ?? (process.stdout.isTTY === true && process.env.NO_COLOR === undefined);
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const pending = new Map<string, Pending>();

  const flush = (key: string): void => {
    const entry = pending.get(key);
    if (entry === undefined) return;
    pending.delete(key);
    clearTimeout(entry.timer);
    write(`${renderTrace(entry.spans, entry.logs, { color })}\n\n`);
  };
  const touch = (key: string): Pending => {
    let entry = pending.get(key);
    if (entry === undefined) {
      entry = { spans: [], logs: [], timer: undefined };
      pending.set(key, entry);
    }
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => flush(key), quiet);
    return entry;
  };

  const receiver: OtlpReceiver = await startOtlpReceiver({
    port: options.port ?? 4318,
    host: options.host ?? '127.0.0.1',
    onReceive({ logs, spans }) {
      for (const span of spans) touch(span.traceId).spans.push(span);
      // A record outside any trace is grouped with the others of its second.
      for (const record of logs) touch(record.traceId || 'no-trace').logs.push(record);
    },
  });

  return {
    url: receiver.url,
    async close() {
      for (const key of [...pending.keys()]) flush(key);
      await receiver.close();
    },
  };
}
