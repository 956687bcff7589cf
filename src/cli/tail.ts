import type { DecodedLogRecord } from '../otlp/decode-logs.js';
import type { Defaults } from '../defaults.js';
import { readRawEnv } from '../env.js';
import type { DecodedSpan } from '../otlp/decode-traces.js';
import { startOtlpReceiver, type OtlpReceiver } from '../otlp/otlp-receiver.js';
import { renderTrace } from './render-trace.js';

/** Options of {@link startTail}. */
export interface TailOptions {
  /** @default 4318, the OTLP/HTTP port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** A trace is printed once its root span is in and nothing new arrived for it for this long. @default 500 */
  quietMillis?: number;
  /**
   * How long a trace waits for its root span before it is printed anyway:
   * logs are batched every second by default, spans every five.
   * @default 6000
   */
  maxWaitMillis?: number;
  /** @default {@link colorsFor} stdout: FORCE_COLOR, else not with NO_COLOR, else a terminal's colours */
  color?: boolean;
  /** Where the text goes. @default process.stdout */
  write?: (text: string) => void;
}

/** The fixed default of each {@link TailOptions} option that has one. */
export const TAIL_DEFAULTS = {
  port: 4318,
  host: '127.0.0.1',
  quietMillis: 500,
  maxWaitMillis: 6000,
} as const satisfies Defaults<TailOptions>;

/**
 * Whether to colour what goes to `stream`, as Node decides for its own
 * output: `FORCE_COLOR` (anything but `0` or `false`) forces colours, even
 * into a pipe; else `NO_COLOR` (any non-empty value) turns them off; else a
 * terminal that has colours gets them.
 */
export function colorsFor(
  stream: { isTTY?: boolean; hasColors?: () => boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const force = readRawEnv(env, 'FORCE_COLOR')?.trim();
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (readRawEnv(env, 'NO_COLOR') !== undefined) return false;
  return stream.isTTY === true && (stream.hasColors?.() ?? true);
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
  /** Whether the root span (one with no parent) has arrived. */
  complete: boolean;
}

/**
 * A local OTLP/HTTP receiver (protobuf and JSON) that prints each trace as a
 * tree of spans, with the log records of each span nested under it: a way to
 * watch an app's telemetry with no collector and no Docker.
 */
export async function startTail(options: TailOptions = {}): Promise<Tail> {
  const quiet = options.quietMillis ?? TAIL_DEFAULTS.quietMillis;
  const maxWait = options.maxWaitMillis ?? TAIL_DEFAULTS.maxWaitMillis;
  const color = options.color ?? colorsFor(process.stdout, process.env);
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const pending = new Map<string, Pending>();

  const flush = (key: string): void => {
    const entry = pending.get(key);
    if (entry === undefined) return;
    pending.delete(key);
    clearTimeout(entry.timer);
    write(`${renderTrace(entry.spans, entry.logs, { color })}\n\n`);
  };
  const entryOf = (key: string): Pending => {
    let entry = pending.get(key);
    if (entry === undefined) {
      entry = { spans: [], logs: [], timer: undefined, complete: false };
      pending.set(key, entry);
    }
    return entry;
  };
  // Printed shortly after the last arrival once the root span is in; until then
  // it waits (up to maxWait) for spans, which are batched more slowly than logs.
  const schedule = (key: string, entry: Pending): void => {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => flush(key), entry.complete ? quiet : maxWait);
  };

  const receiver: OtlpReceiver = await startOtlpReceiver({
    port: options.port ?? TAIL_DEFAULTS.port,
    host: options.host ?? TAIL_DEFAULTS.host,
    onReceive({ logs, spans }) {
      const touched = new Set<string>();
      for (const span of spans) {
        const entry = entryOf(span.traceId);
        entry.spans.push(span);
        if (span.parentSpanId === '') entry.complete = true;
        touched.add(span.traceId);
      }
      for (const record of logs) {
        // A record outside any trace is grouped with the others of its second.
        const key = record.traceId || `no-trace-${record.timeUnixNano / 1_000_000_000n}`;
        const entry = entryOf(key);
        entry.logs.push(record);
        if (record.traceId === '') entry.complete = true;
        touched.add(key);
      }
      for (const key of touched) schedule(key, pending.get(key)!);
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
