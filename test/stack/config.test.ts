import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { parse } from 'yaml';
import { SeverityNumber } from '@opentelemetry/api';
import { LogMetricsProcessor, LogPipeline } from '../../src/index.js';
import { goTool, ROOT } from '../helpers/collector.js';
import {
  prometheusLabelName,
  prometheusMetricName,
  prometheusSeries,
  queryNames,
} from '../helpers/prometheus-names.js';
import { waitUntil } from '../helpers/wait.js';

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const yaml = <T>(path: string): T => parse(read(path)) as T;

interface CollectorConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, Record<string, unknown>>;
  extensions: Record<string, unknown>;
  service: {
    extensions: string[];
    pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
  };
}

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | null;
  environment?: Record<string, string>;
  ports?: Array<{ host_ip?: string; target: number; published: string }>;
  volumes?: Array<{ type: string; source: string; target: string; read_only?: boolean }>;
}

/** Runs `check` on a copy of a repository file with one change, in a temporary folder. */
function runOnBrokenCopy<T>(path: string, from: string, to: string, check: (copy: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'otel-winston-broken-'));
  try {
    const copy = join(dir, path.split('/').pop()!);
    const text = read(path);
    if (!text.includes(from)) throw new Error(`${path} no longer contains ${from}`);
    writeFileSync(copy, text.replace(from, to));
    return check(copy);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The component type of an id such as `otlp_http/loki`. */
const typeOf = (id: string): string => id.split('/')[0]!;

/**
 * The configuration a collector runs with `files` (`print-config`): merged in
 * order as `--config` merges them (maps merged, lists replaced), every default
 * filled in, every `${env:NAME:-default}` at its default.
 */
function resolvedConfig(collector: string, ...files: string[]): CollectorConfig {
  const args = ['print-config', '--mode=unredacted', ...files.flatMap((f) => ['--config', f])];
  return parse(
    execFileSync(collector, args, { encoding: 'utf8', cwd: ROOT, env: { PATH: process.env.PATH } }),
  ) as CollectorConfig;
}

/** Seconds in a duration as the collector prints it: `30s`, `500ms`, `1m0s`. */
function seconds(duration: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.map((p) => p[0]).join('') !== duration) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}

/** The component ids a configuration's pipelines use, of one kind. */
const usedIn = (c: CollectorConfig, kind: 'receivers' | 'processors' | 'exporters'): Set<string> =>
  new Set(Object.values(c.service.pipelines).flatMap((p) => p[kind]));

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: Array<{ expr: string; datasource: { uid: string }; legendFormat?: string }>;
}

/** The panels under a row, as Grafana places them: by position, from the row to the next one. */
function rowPanels(panels: DashboardPanel[], title: string): DashboardPanel[] {
  const sorted = [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  const start = sorted.findIndex((p) => p.type === 'row' && p.title === title);
  if (start < 0) return [];
  const end = sorted.findIndex((p, i) => i > start && p.type === 'row');
  return sorted.slice(start + 1, end < 0 ? undefined : end);
}

/** A MetricReader that collects when asked to, and exports nowhere. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * The LogPipeline's self-metrics, collected in-process. Its collector is
 * unreachable (nothing listens on port 9) and its queue is the smallest
 * allowed, so records are also dropped (queue_full) and an export fails
 * (ECONNREFUSED, given up after 50 ms): the metrics carry `error.type`.
 * Collected before and after shutdown: the pipeline unregisters its
 * callbacks when it shuts down, so what the last collection reports is what
 * the callbacks observed last.
 */
async function collectPipelineMetrics(): Promise<MetricData[]> {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const pipeline = new LogPipeline({
    meterProvider,
    url: 'http://127.0.0.1:9/v1/logs',
    maxQueueBytes: 64 * 1024,
    scheduledDelayMillis: 1,
    retryInitialMillis: 10,
    retryMaxMillis: 10,
    retryMaxElapsedMillis: 50,
    shutdownTimeoutMillis: 20,
    dropWarnings: false,
  });
  const logger = new LoggerProvider({ processors: [pipeline] }).getLogger('stack-config-test');
  const metrics: MetricData[] = [];
  const collect = async (): Promise<void> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).to.deep.equal([]);
    metrics.push(...resourceMetrics.scopeMetrics.flatMap((s) => s.metrics));
  };
  try {
    for (let i = 0; i < 1000; i++) logger.emit({ body: `record ${i} ${'x'.repeat(100)}` });
    await waitUntil(
      () => `an export to conclude: ${JSON.stringify(pipeline.stats())}`,
      () => {
        const s = pipeline.stats();
        return s.exported + s.dropped.rejected + s.dropped.retries_exhausted > 0;
      },
    );
    await collect();
    for (let i = 0; i < 20; i++) logger.emit({ body: `at shutdown ${i}` });
  } finally {
    await pipeline.shutdown();
  }
  logger.emit({ body: 'after shutdown' });
  await collect();
  await meterProvider.shutdown();
  return metrics;
}

/** The metrics of the record counter (`LogMetricsProcessor`), collected in-process. */
async function collectLogRecordMetrics(): Promise<MetricData[]> {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const counter = new LogMetricsProcessor(
    {
      next: { onEmit: () => {}, forceFlush: async () => {}, shutdown: async () => {} },
      meterProvider,
    },
    {},
  );
  const logger = new LoggerProvider({ processors: [counter] }).getLogger('stack-config-test');
  logger.emit({ body: 'ok', severityNumber: SeverityNumber.INFO });
  logger.emit({ body: 'failed', severityNumber: SeverityNumber.ERROR });
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).to.deep.equal([]);
  await meterProvider.shutdown();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

/** Series name → label names, as Prometheus stores `metrics` with `resourceLabels`. */
function seriesOf(metrics: MetricData[], resourceLabels: string[]): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const metric of metrics) {
    for (const [name, labels] of prometheusSeries(metric, resourceLabels)) {
      const known = series.get(name) ?? new Set();
      for (const label of labels) known.add(label);
      series.set(name, known);
    }
  }
  return series;
}

/**
 * Checks that every query of `panels` selects some of `series`, with labels
 * they have, and groups only by labels they have. Returns the selectors checked.
 */
function checkQueries(panels: DashboardPanel[], series: Map<string, Set<string>>): number {
  const names = [...series.keys()];
  let checked = 0;
  for (const panel of panels) {
    for (const target of panel.targets!) {
      const { selectors, grouping } = queryNames(target.expr);
      expect(selectors, target.expr).to.not.be.empty;
      const queryLabels = new Set<string>();
      for (const selector of selectors) {
        const matched = names.filter(selector.matchesName);
        expect(matched, `${panel.title}: ${selector.text} selects none of ${names.join(', ')}`).to
          .not.be.empty;
        const labels = new Set(matched.flatMap((name) => [...series.get(name)!]));
        for (const label of selector.labels) {
          expect(labels.has(label), `${panel.title}: ${selector.text}: no label ${label}`).to.equal(
            true,
          );
        }
        for (const label of labels) queryLabels.add(label);
        checked++;
      }
      for (const label of grouping) {
        expect(queryLabels.has(label), `${panel.title}: ${target.expr}: by ${label}`).to.equal(
          true,
        );
      }
    }
  }
  return checked;
}

describe('the local stack: collector configuration, builder manifest, compose file, Grafana provisioning', function () {
  this.timeout(60_000);
  const config = yaml<CollectorConfig>('otel-collector.yaml');
  const overlay = yaml<{ exporters: Record<string, unknown> }>(
    'test/fixtures/collector/e2e-overlay.yaml',
  );
  const manifest = yaml<{ dist: { version: string }; [kind: string]: unknown }>(
    'collector/manifest.yaml',
  );
  const AGENT = 'collector/topology/agent.yaml';
  const GATEWAY = 'collector/topology/gateway.yaml';
  const agentFile = yaml<CollectorConfig>(AGENT);
  const gatewayFile = yaml<Partial<CollectorConfig>>(GATEWAY);
  let compose: { services: Record<string, ComposeService> };
  let collector: string;

  before(function () {
    this.timeout(20 * 60_000);
    collector = goTool('collector');
    compose = JSON.parse(
      execFileSync(goTool('compose-check'), [join(ROOT, 'docker-compose.yml')], {
        encoding: 'utf8',
        cwd: ROOT,
      }),
    ) as typeof compose;
  });

  describe('otel-collector.yaml', () => {
    it('is valid for the collector the manifest builds (`validate --config`), and validate does catch a bad one', () => {
      execFileSync(collector, ['validate', '--config', join(ROOT, 'otel-collector.yaml')], {
        stdio: 'pipe',
      });
      const result = runOnBrokenCopy(
        'otel-collector.yaml',
        'IsString(log.body)',
        'IsStrin(log.body)',
        (bad) => spawnSync(collector, ['validate', '--config', bad], { encoding: 'utf8' }),
      );
      expect(result.status).to.not.equal(0);
      expect(result.stderr).to.include('IsStrin');
    });

    // What the redaction masks is tested on the real collector (collector-e2e.test.ts): RE2, not JS.
    it('has memory_limiter first and redaction in every pipeline, and the body rule in the logs pipeline', () => {
      for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
        expect(pipeline.processors[0], name).to.equal('memory_limiter');
        expect(pipeline.processors, name).to.include('redaction');
      }
      // The key-keeping body rules first, then the patterns that mask whole matches.
      expect(config.service.pipelines.logs!.processors).to.deep.equal([
        'memory_limiter',
        'transform/redact-log-bodies',
        'redaction',
      ]);
      expect(Object.keys(config.service.pipelines).sort()).to.deep.equal([
        'logs',
        'metrics',
        'traces',
      ]);
    });

    it('batches in every exporter, from a queue persisted on file_storage, retrying without a deadline', () => {
      const used = new Set(Object.values(config.service.pipelines).flatMap((p) => p.exporters));
      expect([...used].sort()).to.deep.equal([
        'otlp_grpc/tempo',
        'otlp_http/loki',
        'otlp_http/prometheus',
      ]);
      for (const id of used) {
        const exporter = config.exporters[id]!;
        expect(exporter.sending_queue, id).to.deep.include({
          enabled: true,
          storage: 'file_storage',
        });
        expect((exporter.sending_queue as { batch?: unknown }).batch, id).to.be.an('object');
        expect(exporter.retry_on_failure, id).to.deep.include({
          enabled: true,
          max_elapsed_time: '0s',
        });
      }
      expect(config.service.extensions.sort()).to.deep.equal(['file_storage', 'health_check']);
    });

    it('listens on every interface by default (inside its container); the compose file publishes on loopback', () => {
      const text = read('otel-collector.yaml');
      expect(text).to.include(
        'endpoint: ${env:OTELCOL_HOST:-0.0.0.0}:${env:OTELCOL_GRPC_PORT:-4317}',
      );
      expect(text).to.include(
        'endpoint: ${env:OTELCOL_HOST:-0.0.0.0}:${env:OTELCOL_HTTP_PORT:-4318}',
      );
    });
  });

  describe('collector/topology: agents routing by trace id to a pool of tail-sampling gateways', () => {
    let agent: CollectorConfig;
    let gateway: CollectorConfig;
    let bundled: CollectorConfig;
    before(() => {
      agent = resolvedConfig(collector, AGENT);
      gateway = resolvedConfig(collector, 'otel-collector.yaml', GATEWAY);
      bundled = resolvedConfig(collector, 'otel-collector.yaml');
    });

    it('agent.yaml, and gateway.yaml over otel-collector.yaml, are valid for the collector the manifest builds; validate refuses metrics routed by trace id', () => {
      execFileSync(collector, ['validate', '--config', join(ROOT, AGENT)], { stdio: 'pipe' });
      execFileSync(
        collector,
        [
          'validate',
          '--config',
          join(ROOT, 'otel-collector.yaml'),
          '--config',
          join(ROOT, GATEWAY),
        ],
        { stdio: 'pipe' },
      );
      // validate builds the pipelines, so it sees what only the exporter's factory checks.
      const result = runOnBrokenCopy(
        AGENT,
        'routing_key: resource',
        'routing_key: traceID',
        (bad) => spawnSync(collector, ['validate', '--config', bad], { encoding: 'utf8' }),
      );
      expect(result.status).to.not.equal(0);
      expect(result.stderr).to.include('unsupported routing_key: "traceID"');
    });

    it('has memory_limiter first in every pipeline, in the agent and in the gateway', () => {
      for (const [name, c] of [
        ['agent', agent],
        ['gateway', gateway],
      ] as const) {
        expect(Object.keys(c.service.pipelines).sort(), name).to.deep.equal([
          'logs',
          'metrics',
          'traces',
        ]);
        for (const [signal, pipeline] of Object.entries(c.service.pipelines)) {
          expect(pipeline.processors[0], `${name} ${signal}`).to.equal('memory_limiter');
        }
      }
      // The agent does nothing else: whatever it would do, every node would pay for.
      expect([...usedIn(agent, 'processors')]).to.deep.equal(['memory_limiter']);
    });

    it('the agent routes spans and log records by trace id, metrics by resource, over every address of the gateways’ DNS name', () => {
      const { traces, logs, metrics } = agent.service.pipelines;
      expect(traces!.exporters).to.deep.equal(['load_balancing']);
      expect(logs!.exporters).to.deep.equal(['load_balancing']);
      expect(metrics!.exporters).to.deep.equal(['load_balancing/metrics']);
      expect(agent.exporters.load_balancing!.routing_key).to.equal('traceID');
      expect(agent.exporters['load_balancing/metrics']!.routing_key).to.equal('resource');
      for (const id of ['load_balancing', 'load_balancing/metrics']) {
        expect(agent.exporters[id]!.resolver, id).to.deep.equal({
          aws_cloud_map: null,
          dns: { hostname: 'otel-gateway', port: '4317', interval: '5s', timeout: '1s' },
          k8s: null,
          static: null,
        });
      }
      expect(read(AGENT)).to.include('hostname: ${env:OTELCOL_GATEWAY_HOSTNAME:-otel-gateway}');
      expect(Object.keys(agent.exporters).sort()).to.deep.equal([
        'load_balancing',
        'load_balancing/metrics',
      ]);
    });

    it('the agent keeps what it accepted on disk until a gateway took it, and routes a refused batch again, without deadline', () => {
      interface LoadBalancing {
        sending_queue: {
          storage: string;
          queue_size: number;
          batch: { max_size: number; flush_timeout: string };
        };
        retry_on_failure: Record<string, unknown>;
        protocol: {
          otlp: {
            sending_queue: unknown;
            retry_on_failure: { enabled: boolean; max_elapsed_time: string };
          };
        };
      }
      for (const id of ['load_balancing', 'load_balancing/metrics']) {
        const exporter = agent.exporters[id] as unknown as LoadBalancing;
        // In front of the routing: a queue on file_storage, so a retry is routed again.
        expect(exporter.sending_queue.storage, id).to.equal('file_storage');
        expect(exporter.sending_queue.queue_size, id).to.equal(512 * 1024 * 1024);
        // Batches fit the 4 MiB a gRPC receiver takes by default, and gateway.yaml's 16.
        expect(exporter.sending_queue.batch.max_size, id).to.be.at.most(4 * 1024 * 1024);
        expect(exporter.retry_on_failure, id).to.deep.include({
          enabled: true,
          max_elapsed_time: '0s',
        });
        // This exporter's own defaults are 0: every wait after the first would be 0.
        expect(exporter.retry_on_failure.multiplier, id).to.be.greaterThan(1);
        expect(exporter.retry_on_failure.randomization_factor, id).to.be.greaterThan(0);
        // Behind it, one OTLP exporter per gateway, with no queue of its own (nothing
        // held in memory alone), retrying a while, then handing the batch back.
        expect(exporter.protocol.otlp.sending_queue, id).to.equal(null);
        expect(exporter.protocol.otlp.retry_on_failure.enabled, id).to.equal(true);
        expect(seconds(exporter.protocol.otlp.retry_on_failure.max_elapsed_time), id).to.be.within(
          1,
          60,
        );
      }
      expect(agent.service.extensions.sort()).to.deep.equal(['file_storage', 'health_check']);
    });

    it('a gateway is otel-collector.yaml with tail_sampling in its traces pipeline, after memory_limiter and before the redaction', () => {
      expect(gateway.service.pipelines.traces!.processors).to.deep.equal([
        'memory_limiter',
        'tail_sampling',
        'redaction',
      ]);
      expect(gateway.service.pipelines.traces!.exporters).to.deep.equal(
        bundled.service.pipelines.traces!.exporters,
      );
      expect(gateway.service.pipelines.logs).to.deep.equal(bundled.service.pipelines.logs);
      expect(gateway.service.pipelines.metrics).to.deep.equal(bundled.service.pipelines.metrics);
      // Same backends, same queues on disk: batching is the exporters', after every processor.
      expect(gateway.exporters).to.deep.equal(bundled.exporters);
      expect(gateway.extensions).to.deep.equal(bundled.extensions);
      expect(Object.keys(gateway.processors).map(typeOf)).to.not.include('batch');
      for (const id of usedIn(gateway, 'exporters')) {
        expect((gateway.exporters[id]!.sending_queue as { batch: unknown }).batch, id).to.be.an(
          'object',
        );
      }
      // What gateway.yaml changes besides: the size of a message its receiver takes.
      const grpc = (gateway.receivers.otlp as { protocols: { grpc: Record<string, unknown> } })
        .protocols.grpc;
      expect(grpc.max_recv_msg_size_mib).to.equal(16);
      expect(Object.keys(gatewayFile).sort()).to.deep.equal(['processors', 'receivers', 'service']);
    });

    it('tail_sampling keeps errors, slow traces and a share of the rest, and holds the traces of decision_wait', () => {
      interface TailSampling {
        decision_wait: string;
        num_traces: number;
        expected_new_traces_per_sec: number;
        decision_cache: { sampled_cache_size: number; non_sampled_cache_size: number };
        policies: Array<{
          name: string;
          type: string;
          status_code: { status_codes: string[] };
          latency: { threshold_ms: number };
          probabilistic: { sampling_percentage: number };
        }>;
      }
      const sampling = gateway.processors.tail_sampling as TailSampling;
      // print-config leaves out a policy's own fields (an embedded struct it does not
      // marshal): the policies are read from the file, which validate accepted.
      const { policies } = gatewayFile.processors!.tail_sampling as TailSampling;
      expect(sampling.policies).to.have.length(policies.length);
      expect(policies.map((p) => [p.name, p.type])).to.deep.equal([
        ['errors', 'status_code'],
        ['slow', 'latency'],
        ['share', 'probabilistic'],
      ]);
      const [errors, slow, share] = policies;
      expect(errors!.status_code.status_codes).to.deep.equal(['ERROR']);
      expect(slow!.latency.threshold_ms).to.be.greaterThan(0);
      expect(share!.probabilistic.sampling_percentage).to.be.within(0.01, 99);
      // Longer than the SDK's span export delay (OTEL_BSP_SCHEDULE_DELAY, 5 s) and
      // the agent's batching, or a trace is decided before its spans are all there.
      const flush = (
        agent.exporters.load_balancing!.sending_queue as { batch: { flush_timeout: string } }
      ).batch.flush_timeout;
      expect(seconds(sampling.decision_wait)).to.be.greaterThan(5 + seconds(flush));
      // Room for every trace that arrives during decision_wait, at the rate it is sized for.
      expect(sampling.num_traces).to.be.at.least(
        sampling.expected_new_traces_per_sec * seconds(sampling.decision_wait),
      );
      // Upstream: the decision caches at least ten times num_traces.
      for (const size of Object.values(sampling.decision_cache)) {
        expect(size).to.be.at.least(10 * sampling.num_traces);
      }
    });
  });

  describe('collector/manifest.yaml', () => {
    it('builds exactly the components the bundled configuration, the topology’s two and the e2e overlay use', () => {
      const files: Array<Partial<Record<string, Record<string, unknown>>>> = [
        config,
        overlay,
        agentFile,
        gatewayFile,
      ];
      const used: Record<string, Set<string>> = {};
      for (const kind of ['receivers', 'processors', 'exporters', 'extensions']) {
        used[kind] = new Set(files.flatMap((file) => Object.keys(file[kind] ?? {})).map(typeOf));
      }
      // Each of the topology's files brings a component no other file uses.
      expect([...used.exporters!]).to.include('load_balancing');
      expect(Object.keys(config.exporters).map(typeOf)).to.not.include('load_balancing');
      expect([...used.processors!]).to.include('tail_sampling');
      expect(Object.keys(config.processors).map(typeOf)).to.not.include('tail_sampling');
      const built = parse(execFileSync(collector, ['components'], { encoding: 'utf8' })) as Record<
        string,
        Array<{ name: string }> | undefined
      >;
      for (const kind of Object.keys(used)) {
        expect((built[kind] ?? []).map((c) => c.name).sort(), kind).to.deep.equal(
          [...used[kind]!].sort(),
        );
      }
      expect(built.connectors ?? []).to.deep.equal([]);
    });

    it('the build script says what to do when Go is missing, and builds nothing', () => {
      const cache = mkdtempSync(join(tmpdir(), 'otel-winston-no-go-'));
      try {
        const result = spawnSync(
          process.execPath,
          [join(ROOT, 'scripts/go-tools.mjs'), 'collector'],
          {
            encoding: 'utf8',
            env: { ...process.env, PATH: '/nonexistent', OTEL_WINSTON_GO_CACHE: cache },
          },
        );
        expect(result.status).to.equal(1);
        expect(result.stderr).to.include('Go is needed to build the OpenTelemetry Collector');
        expect(result.stderr).to.include('Install Go 1.24 or newer');
        expect(result.stdout).to.equal('');
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    });

    it('pins one collector version, the same as the compose file’s image', () => {
      const version = manifest.dist.version;
      for (const kind of ['receivers', 'processors', 'exporters', 'extensions']) {
        for (const { gomod } of manifest[kind] as Array<{ gomod: string }>) {
          expect(gomod.split(' ')[1], gomod).to.equal(`v${version}`);
        }
      }
      expect(compose.services['otel-collector']!.image).to.equal(
        `otel/opentelemetry-collector-contrib:${version}`,
      );
      expect(read('otel-collector.yaml')).to.include(
        `otel/opentelemetry-collector-contrib:${version}`,
      );
    });
  });

  describe('docker-compose.yml (loaded by compose-go, the loader of Docker Compose, schema included)', () => {
    it('compose-check refuses a file that breaks the compose-spec schema', () => {
      const result = runOnBrokenCopy(
        'docker-compose.yml',
        '    restart: unless-stopped',
        '    restart: unless-stopped\n    restarts: 3',
        (bad) => spawnSync(goTool('compose-check'), [bad], { encoding: 'utf8' }),
      );
      expect(result.status).to.equal(1);
      expect(result.stderr).to.match(/restarts/);
    });

    it('has the collector, a traces backend, Loki 3, Prometheus 3, Grafana and the example app, every image pinned', () => {
      const services = compose.services;
      expect(Object.keys(services)).to.include.members([
        'otel-collector',
        'tempo',
        'loki',
        'prometheus',
        'grafana',
        'app',
      ]);
      expect(services.loki!.image).to.match(/^grafana\/loki:3\.\d+\.\d+$/);
      expect(services.prometheus!.image).to.match(/^prom\/prometheus:v3\.\d+\.\d+$/);
      for (const [name, service] of Object.entries(services)) {
        if (service.image !== undefined) expect(service.image, name).to.match(/:v?\d+\.\d+\.\d+$/);
      }
      expect(services.prometheus!.command).to.include('--web.enable-otlp-receiver');
    });

    it('publishes every port on 127.0.0.1 only', () => {
      const published = Object.entries(compose.services).flatMap(([name, s]) =>
        (s.ports ?? []).map((p) => [name, p] as const),
      );
      expect(published.length).to.be.greaterThan(5);
      for (const [name, port] of published)
        expect(port.host_ip, `${name}:${port.target}`).to.equal('127.0.0.1');
    });

    it('runs the collector with otel-collector.yaml and a volume for its queue', () => {
      const volumes = compose.services['otel-collector']!.volumes!;
      expect(volumes).to.deep.include({
        type: 'bind',
        source: join(ROOT, 'otel-collector.yaml'),
        target: '/etc/otelcol-contrib/config.yaml',
        read_only: true,
        bind: {},
      });
      expect(
        volumes.some((v) => v.type === 'volume' && v.target === '/var/lib/otelcol/file_storage'),
      ).to.equal(true);
    });

    it('runs the example app under the preload, sending to the collector', () => {
      const app = compose.services.app!;
      expect(app.environment).to.include({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
        HOST: '0.0.0.0',
      });
      const dockerfile = read(app.build!.dockerfile);
      // Pinned like the images, to the Node.js of the `node` devDependency.
      const node = JSON.parse(read('node_modules/node/package.json')) as { version: string };
      expect(dockerfile).to.include(`FROM node:${node.version}-bookworm-slim`);
      expect(dockerfile).to.match(
        /CMD \["node", "--import", "otel-winston\/register", "--import", "tsx", "examples\/express-jwt\/app.ts"\]/,
      );
    });
  });

  describe('Grafana provisioning', () => {
    interface Datasource {
      uid: string;
      type: string;
      url: string;
      jsonData?: Record<string, unknown>;
    }
    const datasources = yaml<{ datasources: Datasource[] }>(
      'stack/grafana/provisioning/datasources/datasources.yaml',
    ).datasources;
    const byUid = new Map(datasources.map((d) => [d.uid, d]));
    const dashboard = JSON.parse(read('stack/grafana/dashboards/otel-winston.json')) as {
      panels: DashboardPanel[];
    };

    it('has Prometheus, Loki and Tempo, at the compose services', () => {
      expect(byUid.get('prometheus')).to.include({
        type: 'prometheus',
        url: 'http://prometheus:9090',
      });
      expect(byUid.get('loki')).to.include({ type: 'loki', url: 'http://loki:3100' });
      expect(byUid.get('tempo')).to.include({ type: 'tempo', url: 'http://tempo:3200' });
    });

    it('links a log line’s trace_id to its trace, and a trace to its logs', () => {
      const derived = (
        byUid.get('loki')!.jsonData!.derivedFields as Array<Record<string, string>>
      )[0]!;
      expect(derived).to.include({
        matcherType: 'label',
        matcherRegex: 'trace_id',
        datasourceUid: 'tempo',
      });
      const toLogs = byUid.get('tempo')!.jsonData!.tracesToLogsV2 as Record<string, unknown>;
      expect(toLogs).to.include({ datasourceUid: 'loki', customQuery: true });
      expect(toLogs.query).to.include('trace_id="$${__trace.traceId}"');
    });

    it('escapes every $ (Grafana expands environment variables in provisioning files)', () => {
      const text = read('stack/grafana/provisioning/datasources/datasources.yaml');
      expect(text.replace(/\$\$/g, '')).not.to.match(/\$[{A-Za-z_]/);
    });

    it('loads the dashboard folder that compose mounts, and the dashboard uses only provisioned datasources', () => {
      const provider = yaml<{ providers: Array<{ options: { path: string } }> }>(
        'stack/grafana/provisioning/dashboards/dashboards.yaml',
      ).providers[0]!;
      const mounts = compose.services.grafana!.volumes!;
      expect(
        mounts.some(
          (m) =>
            m.target === provider.options.path &&
            m.source === join(ROOT, 'stack/grafana/dashboards'),
        ),
      ).to.equal(true);
      expect(mounts.some((m) => m.target === '/etc/grafana/provisioning')).to.equal(true);

      const titles = dashboard.panels.map((p) => p.title);
      expect(titles).to.include.members([
        'Log records by severity',
        'Error records',
        'Request latency (p50, p95, p99)',
        'Log pipeline (SDK)',
      ]);
      expect(titles.some((t) => t.startsWith('Collector:'))).to.equal(true);
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, 'panel ids').to.equal(ids.length);
      for (const panel of dashboard.panels) {
        if (panel.type === 'row') continue;
        expect(byUid.has(panel.datasource!.uid), panel.title).to.equal(true);
        for (const target of panel.targets!) {
          expect(target.datasource.uid).to.equal(panel.datasource!.uid);
          expect(target.expr, panel.title).to.be.a('string').and.not.equal('');
        }
      }
    });

    describe('the "Log pipeline (SDK)" row', () => {
      const panels = rowPanels(dashboard.panels, 'Log pipeline (SDK)');
      // Labels every series gets from the resource: job (service.namespace/service.name),
      // instance (service.instance.id, which the SDK's default "service" detector sets) and
      // the attributes prometheus.yml promotes.
      const resourceLabels = [
        'job',
        'instance',
        ...yaml<{ otlp: { promote_resource_attributes: string[] } }>(
          'stack/prometheus/prometheus.yml',
        ).otlp.promote_resource_attributes.map(prometheusLabelName),
      ];
      /** Series name → label names, as Prometheus stores the pipeline's self-metrics. */
      let series: Map<string, Set<string>>;

      before(async () => {
        series = seriesOf(await collectPipelineMetrics(), resourceLabels);
      });

      it('has the panels a team running the pipeline needs, each on Prometheus and filtered by the service', () => {
        expect(panels.map((p) => p.title)).to.deep.equal([
          'Log pipeline: queue fill (bytes held ÷ byte cap)',
          'Log pipeline: records queued, in flight and spooled',
          'Log pipeline: records dropped, by error.type',
          'Log pipeline: records exported vs failed',
          'Log pipeline: records created vs exported',
          'Log pipeline: export duration (mean)',
        ]);
        for (const panel of panels) {
          expect(panel.datasource!.uid, panel.title).to.equal('prometheus');
          for (const target of panel.targets!) {
            for (const selector of queryNames(target.expr).selectors) {
              expect(selector.text, panel.title).to.include('job=~"(.+/)?$service"');
            }
          }
        }
        const drops = panels.find((p) => p.title.includes('dropped'))!.targets!;
        expect(drops.map((t) => t.legendFormat)).to.deep.equal([
          'dropped before export: {{error_type}}',
          'export failed: {{error_type}}',
        ]);
      });

      // The rule (see test/helpers/prometheus-names.ts for the source lines): Prometheus 3.5's
      // OTLP receiver, with the default translation_strategy UnderscoreEscapingWithSuffixes
      // (prometheus.yml sets no other), splits a name at every character other than
      // [A-Za-z0-9:] and joins the parts with `_`; appends the unit (s → seconds, By → bytes)
      // unless it is an annotation in braces such as {log_record}, which adds nothing; appends
      // `_total` to monotonic sums only (not to up-down counters); stores a histogram as
      // `_bucket` (le), `_sum` and `_count`; turns attribute keys into labels the same way
      // (error.type → error_type); maps service.name to job and service.instance.id to
      // instance, and other resource attributes to target_info unless promoted.
      // (prometheus/prometheus v3.5.0 storage/remote/write_handler.go and
      // otlptranslator/prometheusremotewrite/helper.go; prometheus/otlptranslator@2573485683d5
      // metric_namer.go and normalize_label.go.)
      it('translates names as Prometheus 3.5’s OTLP receiver does (cases from otlptranslator’s own tests)', () => {
        const cases: Array<[string, string, Parameters<typeof prometheusMetricName>[2], string]> = [
          ['system.filesystem.usage', 'By', 'gauge', 'system_filesystem_usage_bytes'],
          ['system.io', 'By', 'monotonic_counter', 'system_io_bytes_total'],
          [
            'network_transmitted_bytes_total',
            'By',
            'monotonic_counter',
            'network_transmitted_bytes_total',
          ],
          [
            'system.network.dropped',
            '{packets}',
            'monotonic_counter',
            'system_network_dropped_total',
          ],
          ['system.network.dropped', '{packets}', 'gauge', 'system_network_dropped'],
          ['apache.workers', 'connections', 'gauge', 'apache_workers_connections'],
          ['hw.fan.speed_ratio', '1', 'gauge', 'hw_fan_speed_ratio'],
          ['objects', '1', 'monotonic_counter', 'objects_total'],
          ['astro.light.speed_limit', 'm/s', 'gauge', 'astro_light_speed_limit_meters_per_second'],
          [
            'active_directory.ds.replication.object.rate',
            '{objects}/s',
            'gauge',
            'active_directory_ds_replication_object_rate_per_second',
          ],
          ['broken.metric.speed', 'km/°', 'gauge', 'broken_metric_speed_km'],
          [
            'system.disk.operation_time',
            's',
            'monotonic_counter',
            'system_disk_operation_time_seconds_total',
          ],
        ];
        for (const [name, unit, type, expected] of cases) {
          expect(prometheusMetricName(name, unit, type), `${name} (${unit}, ${type})`).to.equal(
            expected,
          );
        }
        expect(prometheusLabelName('otel.component.name')).to.equal('otel_component_name');
        expect(prometheusLabelName('_private')).to.equal('key_private');
        expect(prometheusLabelName('2xx')).to.equal('key_2xx');
      });

      it('the pipeline’s metrics, as Prometheus names them', () => {
        expect([...series.keys()].sort()).to.deep.equal([
          'otel_sdk_exporter_log_exported_total',
          'otel_sdk_exporter_log_inflight',
          'otel_sdk_exporter_operation_duration_seconds_bucket',
          'otel_sdk_exporter_operation_duration_seconds_count',
          'otel_sdk_exporter_operation_duration_seconds_sum',
          'otel_sdk_log_created_total',
          'otel_sdk_processor_log_processed_total',
          'otel_sdk_processor_log_queue_capacity',
          'otel_sdk_processor_log_queue_size',
          'otel_winston_processor_log_queue_capacity_bytes',
          'otel_winston_processor_log_queue_size_bytes',
          'otel_winston_processor_log_spool_size',
          'otel_winston_processor_log_spool_usage_bytes',
        ]);
        expect(
          [...series.get('otel_sdk_processor_log_processed_total')!].sort(),
        ).to.include.members([
          'error_type',
          'instance',
          'job',
          'otel_component_name',
          'otel_component_type',
          'service_name',
        ]);
      });

      it('queries only series the pipeline emits, and only labels they have', () => {
        const names = [...series.keys()];
        // The check is not vacuous: the name without its `_total` is not a series.
        expect(names.some(queryNames('otel_sdk_log_created').selectors[0]!.matchesName)).to.equal(
          false,
        );
        expect(checkQueries(panels, series)).to.be.greaterThan(10);
      });
    });

    describe('the "Logs as metrics (SDK)" row', () => {
      const panels = rowPanels(dashboard.panels, 'Logs as metrics (SDK)');
      let series: Map<string, Set<string>>;
      before(async () => {
        const promoted = yaml<{ otlp: { promote_resource_attributes: string[] } }>(
          'stack/prometheus/prometheus.yml',
        ).otlp.promote_resource_attributes.map(prometheusLabelName);
        series = seriesOf(await collectLogRecordMetrics(), ['job', 'instance', ...promoted]);
      });

      it('counts records by severity and errors by logger, on Prometheus, filtered by the service', () => {
        expect(panels.map((p) => p.title)).to.deep.equal([
          'Log records per second, by severity (metric)',
          'Error records per minute, by logger (metric)',
        ]);
        expect([...series.keys()]).to.deep.equal(['otel_winston_log_records_total']);
        for (const panel of panels) {
          expect(panel.datasource!.uid, panel.title).to.equal('prometheus');
          for (const target of panel.targets!) {
            for (const selector of queryNames(target.expr).selectors) {
              expect(selector.text, panel.title).to.include('job=~"(.+/)?$service"');
            }
          }
        }
      });

      it('queries only the series the record counter emits, and only labels it has', () => {
        expect(checkQueries(panels, series)).to.equal(2);
        expect([...series.get('otel_winston_log_records_total')!]).to.include.members([
          'otel_winston_log_severity',
          'otel_winston_logger_name',
        ]);
      });
    });
  });
});
