import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { goTool, ROOT } from '../helpers/collector.js';

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

describe('the local stack: collector configuration, builder manifest, compose file, Grafana provisioning', function () {
  this.timeout(60_000);
  const config = yaml<CollectorConfig>('otel-collector.yaml');
  const overlay = yaml<{ exporters: Record<string, unknown> }>(
    'test/fixtures/collector/e2e-overlay.yaml',
  );
  const manifest = yaml<{ dist: { version: string }; [kind: string]: unknown }>(
    'collector/manifest.yaml',
  );
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

  describe('collector/manifest.yaml', () => {
    it('builds exactly the components the bundled configuration and the e2e overlay use', () => {
      const used: Record<string, Set<string>> = {
        receivers: new Set(Object.keys(config.receivers).map(typeOf)),
        processors: new Set(Object.keys(config.processors).map(typeOf)),
        exporters: new Set(
          [...Object.keys(config.exporters), ...Object.keys(overlay.exporters)].map(typeOf),
        ),
        extensions: new Set(Object.keys(config.extensions).map(typeOf)),
      };
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

      const dashboard = JSON.parse(read('stack/grafana/dashboards/otel-winston.json')) as {
        panels: Array<{
          title: string;
          datasource: { uid: string };
          targets: Array<{ expr: string; datasource: { uid: string } }>;
        }>;
      };
      const titles = dashboard.panels.map((p) => p.title);
      expect(titles).to.include.members([
        'Log records by severity',
        'Error records',
        'Request latency (p50, p95, p99)',
      ]);
      expect(titles.some((t) => t.startsWith('Collector:'))).to.equal(true);
      for (const panel of dashboard.panels) {
        expect(byUid.has(panel.datasource.uid), panel.title).to.equal(true);
        for (const target of panel.targets) {
          expect(target.datasource.uid).to.equal(panel.datasource.uid);
          expect(target.expr, panel.title).to.be.a('string').and.not.equal('');
        }
      }
    });
  });
});
