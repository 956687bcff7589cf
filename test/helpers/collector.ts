import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OVERLAY = join(ROOT, 'test/fixtures/collector/e2e-overlay.yaml');

/** The path of a Go tool of scripts/go-tools.mjs, built first if it is not yet (minutes, once). */
export function goTool(name: 'collector' | 'compose-check'): string {
  return execFileSync(process.execPath, [join(ROOT, 'scripts/go-tools.mjs'), name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
  }).trim();
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An OTLP/JSON attribute value as the collector's file exporter writes it. */
type JsonValue = {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: JsonValue[] };
  kvlistValue?: { values?: Array<{ key: string; value: JsonValue }> };
};

export function jsonValue(v: JsonValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(jsonValue);
  if (v.kvlistValue !== undefined) return attributesOf(v.kvlistValue.values);
  return undefined;
}

export function attributesOf(
  list: Array<{ key: string; value: JsonValue }> | undefined,
): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, jsonValue(value)]));
}

export interface FileLogRecord {
  readonly resource: Record<string, unknown>;
  readonly body: unknown;
  readonly severityText: string;
  readonly severityNumber: number;
  readonly attributes: Record<string, unknown>;
  readonly traceId: string;
  readonly spanId: string;
}

export interface FileSpan {
  readonly resource: Record<string, unknown>;
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: Record<string, unknown>;
}

/** What the collector wrote: every line of every output file, flattened. */
export interface CollectorOutput {
  readonly logs: FileLogRecord[];
  readonly spans: FileSpan[];
  readonly metrics: Array<{ name: string; resource: Record<string, unknown> }>;
  /** The raw text, to search for what must not be there. */
  readonly text: string;
}

interface ResourceItem<K extends string, I> {
  resource?: { attributes?: Array<{ key: string; value: JsonValue }> };
  scopeLogs?: Array<Record<K, I[]>>;
  scopeSpans?: Array<Record<K, I[]>>;
  scopeMetrics?: Array<Record<K, I[]>>;
}

function parseOutput(text: string): CollectorOutput {
  const out: CollectorOutput = { logs: [], spans: [], metrics: [], text };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // a line the exporter is still writing: the next read has it whole
    }
    const batch = parsed as {
      resourceLogs?: Array<ResourceItem<'logRecords', Record<string, unknown>>>;
      resourceSpans?: Array<ResourceItem<'spans', Record<string, unknown>>>;
      resourceMetrics?: Array<ResourceItem<'metrics', { name: string }>>;
    };
    for (const rl of batch.resourceLogs ?? []) {
      const resource = attributesOf(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) {
          out.logs.push({
            resource,
            body: jsonValue(r.body as JsonValue | undefined),
            severityText: String(r.severityText ?? ''),
            severityNumber: Number(r.severityNumber ?? 0),
            attributes: attributesOf(r.attributes as never),
            traceId: String(r.traceId ?? ''),
            spanId: String(r.spanId ?? ''),
          });
        }
      }
    }
    for (const rs of batch.resourceSpans ?? []) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          out.spans.push({
            resource,
            name: String(s.name),
            kind: Number(s.kind ?? 0),
            traceId: String(s.traceId ?? ''),
            spanId: String(s.spanId ?? ''),
            attributes: attributesOf(s.attributes as never),
          });
        }
      }
    }
    for (const rm of batch.resourceMetrics ?? []) {
      const resource = attributesOf(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) out.metrics.push({ name: m.name, resource });
      }
    }
  }
  return out;
}

/** The bundled collector configuration with the test overlay, running on loopback ports. */
export interface RunningCollector {
  /** The OTLP/HTTP endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** The collector's own metrics, in the Prometheus text format. */
  readonly metricsUrl: string;
  /** Everything the file exporter has written so far, over every run. */
  output(): CollectorOutput;
  /** Waits until `predicate` holds on the output. */
  waitFor(
    what: string,
    predicate: (o: CollectorOutput) => boolean,
    timeoutMs?: number,
  ): Promise<CollectorOutput>;
  /** SIGTERM, and waits until it has exited (it flushes on the way out). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and storage, writing a new output file. */
  start(): Promise<void>;
  /** What it printed, for failure messages. */
  logs(): string;
}

/**
 * Starts the collector of collector/manifest.yaml with `otel-collector.yaml`
 * and (unless `overlay: false`) the e2e overlay, every port on 127.0.0.1, its queue storage and output in
 * `dir`. Resolves once its health check answers.
 */
export async function startCollector(
  binary: string,
  dir: string,
  options: { overlay?: boolean; env?: Record<string, string> } = {},
): Promise<RunningCollector> {
  const configs = ['--config', join(ROOT, 'otel-collector.yaml')];
  if (options.overlay ?? true) configs.push('--config', OVERLAY);
  // Free now, but another process may take one before the collector binds it:
  // the first start picks new ports when that happens.
  const pickPorts = async (): Promise<number[]> => [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  let [grpc, http, health, metrics] = await pickPorts();
  let child: ChildProcess | undefined;
  let printed = '';
  let run = 0;

  const start = async (): Promise<void> => {
    run++;
    child = spawn(binary, configs, {
      cwd: dir,
      env: {
        ...process.env,
        OTELCOL_HOST: '127.0.0.1',
        OTELCOL_GRPC_PORT: String(grpc),
        OTELCOL_HTTP_PORT: String(http),
        OTELCOL_HEALTH_PORT: String(health),
        OTELCOL_METRICS_PORT: String(metrics),
        OTELCOL_STORAGE_DIR: join(dir, 'queue'),
        E2E_OUTPUT: join(dir, `out-${run}.json`),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const spawned = child;
    spawned.stdout!.on('data', (chunk: Buffer) => (printed += String(chunk)));
    spawned.stderr!.on('data', (chunk: Buffer) => (printed += String(chunk)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (spawned.exitCode !== null)
        throw new Error(`the collector exited:\n${printed.slice(-3000)}`);
      try {
        const res = await fetch(`http://127.0.0.1:${health}/`);
        await res.text();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        spawned.kill('SIGKILL'); // not left running when the test gives up on it
        throw new Error(`the collector never got healthy:\n${printed.slice(-3000)}`);
      }
      await sleep(50);
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGTERM');
    const killer = setTimeout(() => running.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  };

  const output = (): CollectorOutput => {
    const files = readdirSync(dir).filter((f) => /^out-\d+\.json$/.test(f));
    return parseOutput(
      files
        .map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : ''))
        .join('\n'),
    );
  };

  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      if (attempt === 3 || !/address already in use/.test(String(error))) throw error;
      [grpc, http, health, metrics] = await pickPorts();
    }
  }
  return {
    endpoint: `http://127.0.0.1:${http}`,
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
    output,
    waitFor: (what, predicate, timeoutMs = 20_000) =>
      waitUntil(
        `${what} in the collector's output`,
        () => {
          const out = output();
          return predicate(out) && out;
        },
        timeoutMs,
        100,
      ),
    stop,
    start,
    logs: () => printed,
  };
}
