import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOtlpReceiver } from '../../src/testing/index.js';
import {
  freePort,
  goTool,
  ROOT,
  startCollector,
  type FileLogRecord,
  type RunningCollector,
} from '../helpers/collector.js';
import { startPreloadedApp, type PreloadedApp } from '../helpers/preload-app.js';
import { waitUntil } from '../helpers/wait.js';

const EXAMPLE = join(ROOT, 'examples/express-jwt/app.ts');
const SERVER = 2; // SpanKind.SERVER on the wire
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

describe('the bundled collector, end to end: examples/express-jwt under the preload → a real collector built from source (otel-collector.yaml)', function () {
  this.timeout(120_000);
  let binary: string;
  let dir: string;
  let collector: RunningCollector | undefined;
  let app: PreloadedApp | undefined;

  before(function () {
    this.timeout(20 * 60_000); // the first build of the collector, when npm test's pretest has not done it
    binary = goTool('collector');
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'otel-winston-collector-'));
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && collector !== undefined) {
      process.stderr.write(`collector output:\n${collector.logs().slice(-4000)}\n`);
    }
    app?.child.kill('SIGKILL');
    await app?.exited();
    await collector?.stop();
    app = undefined;
    collector = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const startApp = async (
    endpoint: string,
    env: Record<string, string> = {},
  ): Promise<PreloadedApp> =>
    startPreloadedApp(['--import', 'otel-winston/register', '--import', 'tsx'], EXAMPLE, endpoint, {
      OTEL_SERVICE_NAME: 'express-jwt',
      PORT: '0',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      ...env,
    });

  const login = async (base: string, username: string): Promise<string> => {
    const res = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username }),
    });
    return ((await res.json()) as { token: string }).token;
  };

  const stopApp = async (): Promise<void> => {
    app!.child.kill('SIGTERM'); // the preload flushes on the way out
    await app!.exited();
  };

  it('records keep their server span, request context and service; the redaction held; metrics arrived', async () => {
    collector = await startCollector(binary, dir);
    app = await startApp(collector.endpoint);
    const base = `http://127.0.0.1:${app.port}`;
    const token = await login(base, 'ada');
    const hello = await fetch(`${base}/hello`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'e2e-hello' },
    });
    expect(hello.status).to.equal(200);
    await hello.text();
    // A token, an e-mail address and a card number in a query string: the app logs the URL.
    const leaky = await fetch(
      `${base}/fail?access_token=${token}&email=ada@example.com&card=4111111111111111`,
      { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'e2e-fail' } },
    );
    expect(leaky.status).to.equal(500);
    await leaky.text();
    // The metrics go out at the latest when the app ends: the SDK's shutdown exports them.
    await stopApp();

    const out = await collector.waitFor(
      'the records, spans and metrics',
      (o) =>
        o.logs.some((r) => r.body === 'Hello endpoint hit') &&
        o.logs.some((r) => String(r.body).startsWith('request failed')) &&
        o.spans.some((s) => s.attributes['http.request.id'] === 'e2e-fail') &&
        o.metrics.some((m) => m.name === 'http.server.request.duration'),
    );

    const server = out.spans.find(
      (s) => s.kind === SERVER && s.attributes['http.request.id'] === 'e2e-hello',
    )!;
    expect(server.name).to.equal('GET /hello');
    expect(server.attributes).to.include({ 'user.id': 'ada', 'http.route': '/hello' });
    const records = out.logs.filter((r) => r.traceId === server.traceId);
    const handler = records.find((r) => r.body === 'Hello endpoint hit')!;
    const access = records.find((r) => String(r.body).startsWith('GET /hello 200'))!;
    expect(handler, 'the handler record is in the server span’s trace').to.not.equal(undefined);
    expect(access.spanId, 'the access record is the server span’s own').to.equal(server.spanId);
    for (const r of [handler, access] as FileLogRecord[]) {
      expect(r.traceId).to.match(/^[0-9a-f]{32}$/);
      expect(r.attributes).to.include({
        'http.request.id': 'e2e-hello',
        'user.id': 'ada',
        'http.route': '/hello',
        'http.request.method': 'GET',
        'url.path': '/hello',
      });
      expect(r.resource['service.name']).to.equal('express-jwt');
    }

    // Redaction: the log body, the span's url.query and every other place.
    const failed = out.logs.find((r) => String(r.body).startsWith('request failed'))!;
    expect(failed.body).to.equal(
      'request failed: GET /fail?access_token=****&email=****&card=**** the inventory service is down',
    );
    expect(failed.attributes['exception.message']).to.equal('the inventory service is down');
    const failSpan = out.spans.find(
      (s) => s.kind === SERVER && s.attributes['http.request.id'] === 'e2e-fail',
    )!;
    expect(String(failSpan.attributes['url.query'])).not.to.match(/ada|4111|eyJ/);
    expect(failSpan.attributes['redaction.masked.count']).to.be.greaterThan(0);
    for (const secret of [
      token,
      token.split('.')[1]!,
      'ada@example.com',
      'ada%40example.com',
      '4111111111111111',
    ]) {
      expect(out.text, 'nowhere in what the collector exported').not.to.include(secret);
    }

    // Metrics: the HTTP instrumentation's histogram, from the same service.
    expect(
      out.metrics.find((m) => m.name === 'http.server.request.duration')!.resource['service.name'],
    ).to.equal('express-jwt');
  });

  it('the redaction, on the real collector (RE2): secrets and personal data masked, ids, times and decimals kept', async () => {
    collector = await startCollector(binary, dir);
    const bodies: Array<[string, string]> = [
      ['login password=hunter2 for ada', 'login password=**** for ada'],
      ['{"user": "ada", "password": "hunter 2"}', '{"user": "ada", "password": "****"}'],
      ['Authorization: Basic dXNlcjpodW50ZXIy', 'Authorization: ****'],
      ['Cookie: session=abc123; theme=dark', 'Cookie: ****'],
      ['GET /x?access_token=opaque123&page=2', 'GET /x?access_token=****&page=2'],
      ['paid with 4111 1111 1111 1111 today', 'paid with **** today'],
      ['card=5500000000000004', 'card=****'],
      ['mail from ada@example.com', 'mail from ****'],
      ['called with Bearer abc.def.ghi', 'called with ****'],
      ['took 0.5123456789012345 s', 'took 0.5123456789012345 s'],
      [
        'trace 4bf92f3577b34da6a3ce929d0e0e4736 at 2026-11-24T05:01:32.016Z for 550e8400-e29b-41d4-a716-446655440000 (1764000000000000000 ns)',
        'trace 4bf92f3577b34da6a3ce929d0e0e4736 at 2026-11-24T05:01:32.016Z for 550e8400-e29b-41d4-a716-446655440000 (1764000000000000000 ns)',
      ],
    ];
    const attributes: Array<[string, string, string]> = [
      ['userPassword', 'hunter2', '****'],
      ['authToken', 'opaque', '****'],
      ['private_key', 'k', '****'],
      ['http.request.header.authorization', 'Basic dXNlcjpw', '****'],
      ['url.query', 'password=hunter2&api_key=sk_live_abc123&page=2', '****&****&page=2'],
      ['url.full', 'https://u:p4ss@host.example/x', 'https****host.example/x'],
      ['contact', 'ada%40example.com', '****'],
      ['duration', '0.4123456789012345', '0.4123456789012345'],
      ['http.request.id', 'e2e-redaction-1', 'e2e-redaction-1'],
      ['user.id', 'ada', 'ada'],
    ];
    const str = (value: string) => ({ stringValue: value });
    const res = await fetch(`${collector.endpoint}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: str('redaction-check') }] },
            scopeLogs: [
              {
                logRecords: [
                  ...bodies.map(([body], i) => ({
                    body: str(body),
                    attributes: [{ key: 'case', value: { intValue: String(i) } }],
                  })),
                  {
                    body: str('attributes'),
                    attributes: attributes.map(([key, value]) => ({ key, value: str(value) })),
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).to.equal(200);
    await res.text();
    const out = await collector.waitFor(
      'the redaction records',
      (o) =>
        o.logs.filter((r) => r.resource['service.name'] === 'redaction-check').length ===
        bodies.length + 1,
    );
    const records = out.logs.filter((r) => r.resource['service.name'] === 'redaction-check');
    bodies.forEach(([, expected], i) => {
      expect(records.find((r) => r.attributes.case === i)!.body, bodies[i]![0]).to.equal(expected);
    });
    const attrs = records.find((r) => r.body === 'attributes')!.attributes;
    for (const [key, , expected] of attributes) expect(attrs[key], key).to.equal(expected);
  });

  it('a collector restart in the middle of a run: the pipeline retries, and every record before, during and after arrives', async () => {
    collector = await startCollector(binary, dir);
    app = await startApp(collector.endpoint, { OTEL_LOG_LEVEL: 'verbose' });
    const base = `http://127.0.0.1:${app.port}`;
    const token = await login(base, 'grace');
    const hello = async (id: string): Promise<void> => {
      const res = await fetch(`${base}/hello`, {
        headers: { authorization: `Bearer ${token}`, 'x-request-id': id },
      });
      expect(res.status).to.equal(200);
      await res.text();
    };
    const ids = (phase: string): string[] => Array.from({ length: 20 }, (_, i) => `${phase}-${i}`);

    for (const id of ids('before')) await hello(id);
    await collector.waitFor('the records before the restart', (o) =>
      ids('before').every((id) => o.logs.some((r) => r.attributes['http.request.id'] === id)),
    );
    await collector.stop();
    for (const id of ids('during')) await hello(id); // exported while nothing listens: retried
    // The collector comes back once the pipeline has found it gone and is retrying.
    await waitUntil('an export to fail and be retried', () =>
      /OTW015: log export failed; retrying/.test(app!.stderr()),
    );
    await collector.start();
    for (const id of ids('after')) await hello(id);
    await stopApp();

    const out = await collector.waitFor('every record of the run', (o) =>
      [...ids('before'), ...ids('during'), ...ids('after')].every((id) =>
        o.logs.some(
          (r) => r.body === 'Hello endpoint hit' && r.attributes['http.request.id'] === id,
        ),
      ),
    );
    // The pipeline's exports during the outage failed and were retried (its diag warning).
    expect(app!.stderr()).to.match(/OTW015: log export failed; retrying: .* retrying in \d+ ms/);
    for (const id of [...ids('before'), ...ids('during'), ...ids('after')]) {
      const handled = out.logs.filter(
        (r) => r.body === 'Hello endpoint hit' && r.attributes['http.request.id'] === id,
      );
      expect(handled.length, id).to.be.at.least(1);
      expect(handled[0]!.attributes['user.id']).to.equal('grace');
    }
  });

  it("the app's spool: the collector is down when the app ends, its records wait on disk, and its next start sends them", async () => {
    collector = await startCollector(binary, dir);
    await collector.stop();
    const spool = join(dir, 'app-spool');
    const env = { OTEL_WINSTON_SPOOL_DIR: spool, OTEL_WINSTON_SHUTDOWN_TIMEOUT: '1000' };
    app = await startApp(collector.endpoint, env);
    const base = `http://127.0.0.1:${app.port}`;
    const token = await login(base, 'margaret');
    const ids = Array.from({ length: 10 }, (_, i) => `spooled-${i}`);
    for (const id of ids) {
      const res = await fetch(`${base}/hello`, {
        headers: { authorization: `Bearer ${token}`, 'x-request-id': id },
      });
      await res.text();
    }
    await stopApp();
    // The summary says where the records are; nothing was dropped.
    expect(app!.stderr()).to.match(
      /otel-winston: 0 of \d+ log records were delivered .* \d+ wait in the spool at .*app-spool/,
    );
    expect(app!.stderr()).to.not.include('were not delivered');
    // Its files finished and its lock given up at the exit: the next start takes them over at once.
    const left = readdirSync(spool);
    expect(
      left.filter((n) => n.endsWith('.seg')),
      left.join(),
    ).to.not.be.empty;
    expect(
      left.filter((n) => /\.(open|lock)$/.test(n)),
      left.join(),
    ).to.deep.equal([]);

    await collector.start();
    app = await startApp(collector.endpoint, env); // the next start of the app, the same folder
    const out = await collector.waitFor('the spooled records', (o) =>
      ids.every((id) => o.logs.some((r) => r.attributes['http.request.id'] === id)),
    );
    const handled = out.logs.filter(
      (r) =>
        r.body === 'Hello endpoint hit' && ids.includes(String(r.attributes['http.request.id'])),
    );
    expect(handled).to.have.length(ids.length); // each once
    expect(handled[0]!.attributes['user.id']).to.equal('margaret');
    expect(handled[0]!.resource['service.name']).to.equal('express-jwt');
    expect(handled[0]!.traceId).to.match(/^[0-9a-f]{32}$/);
    await waitUntil('the spool to empty', () =>
      readdirSync(spool).every((n) => !/\.(seg|open)$/.test(n)),
    );
  });

  it('the bundled exporters keep what they hold on disk: a backend down, a collector restart, nothing lost', async () => {
    const backend = await startOtlpReceiver();
    try {
      backend.failWith(503); // Loki is down
      const env = {
        LOKI_OTLP_ENDPOINT: backend.url,
        PROMETHEUS_OTLP_ENDPOINT: `${backend.url}/v1/metrics`,
        TEMPO_OTLP_ENDPOINT: `127.0.0.1:${await freePort()}`,
      };
      // The bundled configuration as it is: only the backends' addresses differ.
      collector = await startCollector(binary, dir, { overlay: false, env });
      app = await startApp(collector.endpoint);
      const base = `http://127.0.0.1:${app.port}`;
      const token = await login(base, 'linus');
      const ids = Array.from({ length: 10 }, (_, i) => `held-${i}`);
      for (const id of ids) {
        const res = await fetch(`${base}/hello`, {
          headers: { authorization: `Bearer ${token}`, 'x-request-id': id },
        });
        await res.text();
      }
      await stopApp(); // everything is now in the collector, and nowhere else
      await waitUntil(
        "the collector's attempt to export the logs",
        () => backend.requests.some((r) => r.path === '/v1/logs'),
        15_000,
        100,
      );
      expect(backend.logs).to.have.length(0);
      // What the dashboard's collector panels query exists under those names (:8888).
      const own = await (await fetch(collector.metricsUrl)).text();
      for (const name of [
        'otelcol_receiver_accepted_log_records',
        'otelcol_receiver_refused_log_records',
        'otelcol_receiver_failed_log_records',
        'otelcol_exporter_queue_size',
        'otelcol_exporter_queue_capacity',
      ]) {
        expect(own, name).to.match(new RegExp(`^${name}(_total)?\\{`, 'm'));
        expect(read('stack/grafana/dashboards/otel-winston.json'), name).to.include(name);
      }

      await collector.stop();
      backend.failWith(undefined); // Loki is back
      await collector.start(); // a new process, the same queue folder
      await waitUntil(
        () => `every held record (${backend.logs.length} records arrived)`,
        () =>
          ids.every((id) =>
            backend.logs.some(
              (r) => r.body === 'Hello endpoint hit' && r.attributes['http.request.id'] === id,
            ),
          ),
        30_000,
        100,
      );
      expect(
        backend.logs.find((r) => r.attributes['http.request.id'] === 'held-0')!.resource[
          'service.name'
        ],
      ).to.equal('express-jwt');
    } finally {
      await backend.close();
    }
  });
});
