import { expect } from 'chai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DecodedLogRecord } from '../../src/otlp/decode-logs.js';
import { startOtlpReceiver } from '../../src/testing/index.js';
import { spawnPreloaded, startPreloadedApp } from '../helpers/preload-app.js';
import { useOtlpReceiver } from '../helpers/receiver.js';

const REGISTER = 'otel-winston/register';

const variants: Array<[string, string[], string]> = [
  ['CommonJS app, --require', ['--require', REGISTER], 'app.cjs'],
  ['ESM app, --import', ['--import', REGISTER], 'app.mjs'],
];

describe('preload: node --require / --import otel-winston/register (real child processes)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();

  for (const [name, flags, app] of variants) {
    it(`${name}: every record of a request carries its server span, once, with the resource's service.name`, async () => {
      const started = await startPreloadedApp(flags, app, receiver.url);
      expect(await started.get('/hello')).to.equal(200);
      expect(await started.get('/call')).to.equal(200);
      expect(await started.get('/close')).to.equal(200);
      const { code } = await started.exited();
      expect(code, started.stderr()).to.equal(0);

      const serverSpans = receiver.spans.filter((s) => s.kind === 2);
      expect(serverSpans.map((s) => s.attributes['url.path'] ?? s.name)).to.include.members([
        '/hello',
        '/call',
      ]);
      const logs = receiver.logs;
      // 2 records per request, 1 more for /call's upstream answer, and /call's inner /hello: 9.
      expect(logs.map((l) => l.body)).to.have.length(9);
      for (const record of logs) {
        const span = serverSpans.find((s) => s.spanId === record.spanId);
        expect(span, `record ${String(record.body)} links to a server span`).to.not.equal(
          undefined,
        );
        expect(record.traceId).to.equal(span!.traceId);
        // The automatic request context: the path of this record's own request.
        expect(record.attributes['url.path']).to.equal(record.attributes.path ?? '/call');
        expect(record.attributes['http.request.id']).to.be.a('string');
        expect(record.resource['service.name']).to.equal('otel-winston-preload-fixture');
      }
      // No record twice.
      const keys = logs.map((l) => `${l.spanId}/${String(l.body)}`);
      expect(new Set(keys).size).to.equal(keys.length);
      // The outgoing call is a child of /call's server span.
      const call = serverSpans.find((s) => (s.attributes['url.path'] ?? s.name) === '/call')!;
      const client = receiver.spans.find((s) => s.kind === 3 && s.parentSpanId === call.spanId);
      expect(client, 'a client span under /call').to.not.equal(undefined);
      // The app's own Console lines carry the same trace ids.
      const lines = started
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.length).to.equal(9);
      expect(
        lines.every((l) => typeof l.trace_id === 'string' && l.request_id !== undefined),
      ).to.equal(true);
    });
  }
});

describe('preload: frameworks (real child processes)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();

  const frameworks: Array<[string, string[], string]> = [
    ['Express (CommonJS)', ['--require', REGISTER], 'express-app.cjs'],
    ['Fastify (ESM)', ['--import', REGISTER], 'fastify-app.mjs'],
    // The ESM loader hook is installed at a CommonJS app's first import, before what it imports.
    ['Express in an ES module a CommonJS app imports', ['--require', REGISTER], 'imports-esm.cjs'],
  ];
  for (const [name, flags, app] of frameworks) {
    it(`${name}: records carry the route and the trace of the request`, async () => {
      const started = await startPreloadedApp(flags, app, receiver.url);
      expect(await started.get('/items/42')).to.equal(200);
      expect(await started.get('/close')).to.equal(200);
      const { code } = await started.exited();
      expect(code, started.stderr()).to.equal(0);
      const record = receiver.logs.find((r) => r.body === 'item requested');
      expect(record, 'the record arrived').to.not.equal(undefined);
      expect(record!.attributes).to.include({
        id: '42',
        'http.route': '/items/:id',
        'url.path': '/items/42',
      });
      const spans = receiver.spans.filter((s) => s.traceId === record!.traceId);
      expect(
        spans.some((s) => s.kind === 2),
        'a server span in the same trace',
      ).to.equal(true);
      expect(spans.some((s) => s.spanId === record!.spanId)).to.equal(true);
    });
  }
});

describe('preload: winston loaded before the preload (real child processes)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();

  const orders: Array<[string, string[]]> = [
    [
      'CommonJS: --require ./early.cjs --require otel-winston/register',
      ['--require', './early.cjs', '--require', REGISTER],
    ],
    [
      'ESM: --import ./early.mjs --import otel-winston/register',
      ['--import', './early.mjs', '--import', REGISTER],
    ],
  ];
  for (const [name, flags] of orders) {
    it(`${name}: the early logger's records arrive, linked to their request, once`, async () => {
      const started = await startPreloadedApp(flags, 'early-app.cjs', receiver.url);
      expect(await started.get('/hello')).to.equal(200);
      expect(await started.get('/close')).to.equal(200);
      const { code } = await started.exited();
      expect(code, started.stderr()).to.equal(0);
      const records = receiver.logs.filter((r) => r.body === 'from an early logger');
      expect(records).to.have.length(2);
      for (const record of records) {
        expect(receiver.spans.some((s) => s.kind === 2 && s.spanId === record.spanId)).to.equal(
          true,
        );
        expect(record.attributes['url.path']).to.equal(record.attributes.path);
      }
    });
  }
});

describe('preload: an app with its own OtelTransport (real child processes)', function () {
  this.timeout(30_000);
  it('never gets a second one: each record arrives once (contrib #2283); metrics are exported too', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const started = await startPreloadedApp(
        ['--require', REGISTER],
        'own-transport.cjs',
        receiver.url,
      );
      expect(await started.get('/hello')).to.equal(200);
      expect(await started.get('/close')).to.equal(200);
      const { code } = await started.exited();
      expect(code, started.stderr()).to.equal(0);
      expect(receiver.logs.filter((r) => r.body === 'from the first logger')).to.have.length(2);
      expect(receiver.logs.filter((r) => r.body === 'from the second logger')).to.have.length(2);
      expect(receiver.logs.filter((r) => r.body === 'from the cleared logger')).to.have.length(2);
      expect(
        receiver.requests.some((r) => r.path === '/v1/metrics'),
        'metrics on the wire',
      ).to.equal(true);
    } finally {
      await receiver.close();
    }
  });
});

describe('preload: redaction before records leave the process (real child processes)', function () {
  this.timeout(30_000);
  async function run(env: Record<string, string>): Promise<DecodedLogRecord[]> {
    const receiver = await startOtlpReceiver();
    try {
      const app = spawnPreloaded(['--require', REGISTER], 'secrets.cjs', receiver.url, env);
      const { code } = await app.exited();
      expect(code, app.stderr()).to.equal(0);
      return [...receiver.logs];
    } finally {
      await receiver.close();
    }
  }

  it('on by default: keys, values in strings, nested maps and exception messages are masked', async () => {
    const records = await run({});
    expect(records).to.have.length(3);
    const wire = JSON.stringify(records, (_key, v: unknown) =>
      typeof v === 'bigint' ? String(v) : v,
    );
    for (const secret of [
      'jane@example.com',
      'hunter2',
      '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
      'Sup3rS3cret',
      '4111 1111 1111 1111',
    ]) {
      expect(wire).not.to.include(secret);
    }
    const [login, upstream, failed] = records;
    expect(login!.body).to.equal('login by ****');
    expect(login!.attributes).to.deep.include({ password: '****', user: 'u-42' });
    expect(upstream!.attributes).to.deep.include({
      request: { headers: { authorization: '****' } },
      url: 'postgres://****@db.internal:5432/orders',
    });
    expect(failed!.attributes['exception.message']).to.equal('card **** declined for ****');
  });

  it('OTEL_WINSTON_REDACT=off sends them as logged; OTEL_WINSTON_REDACT_ACTIONS=email=hash with a key hashes e-mails', async () => {
    const off = await run({ OTEL_WINSTON_REDACT: 'off' });
    expect(off[0]!.body).to.equal('login by jane@example.com');
    expect(off[0]!.attributes).to.deep.include({ password: 'hunter2' });
    const hashed = await run({
      OTEL_WINSTON_REDACT_ACTIONS: 'email=hash',
      OTEL_WINSTON_REDACT_HASH_KEY: 'a-secret-key',
    });
    const login = hashed[0]!.body as string;
    expect(login).to.match(/^login by hmac:[0-9a-f]{32}$/);
    // The same address hashes the same way in another record.
    expect(hashed[2]!.attributes['exception.message']).to.equal(
      `card **** declined for ${login.slice(9)}`,
    );
  });
});

describe('preload: sampling, rate limits and metrics from logs, from the environment (real child processes)', function () {
  this.timeout(30_000);
  it('suppresses a flood into one summary, drops sampled-out records without a warning, and counts every record in a metric', async () => {
    const receiver = await startOtlpReceiver();
    // The metrics, as OTLP/JSON, to a loopback server of their own.
    const metricBodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += String(chunk)));
      req.on('end', () => {
        metricBodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const app = spawnPreloaded(['--require', REGISTER], 'policies.cjs', receiver.url, {
        OTEL_WINSTON_LOGS_RATE_LIMIT: '5',
        OTEL_WINSTON_LOGS_SAMPLER_RATIO: 'debug=0',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://127.0.0.1:${port}/v1/metrics`,
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      });
      const { code } = await app.exited();
      expect(code, app.stderr()).to.equal(0);
      expect(receiver.logs.map((r) => r.body)).to.deep.equal([
        'job 0 done',
        'job 1 done',
        'job 2 done',
        'job 3 done',
        'job 4 done',
        'payment failed',
        'payment failed',
        "suppressed 45 records like 'job %d done' in the last 10 s",
      ]);
      expect(receiver.logs[7]!.attributes).to.deep.include({
        'otel_winston.rate_limit.suppressed': 45,
      });
      // Drops by policy are counted, not warned about: no OTW014, no exit summary line.
      expect(app.stderr()).not.to.match(/OTW014|not delivered/);
      const counted = new Map<string, number>();
      for (const body of metricBodies) {
        const parsed = JSON.parse(body) as {
          resourceMetrics: {
            scopeMetrics: {
              metrics: {
                name: string;
                sum?: {
                  dataPoints: {
                    asInt?: string | number;
                    attributes: { key: string; value: { stringValue?: string } }[];
                  }[];
                };
              }[];
            }[];
          }[];
        };
        for (const rm of parsed.resourceMetrics) {
          for (const sm of rm.scopeMetrics) {
            for (const m of sm.metrics) {
              if (m.name !== 'otel_winston.log.records') continue;
              for (const p of m.sum!.dataPoints) {
                const attrs = Object.fromEntries(
                  p.attributes.map((a) => [a.key, a.value.stringValue]),
                );
                // Cumulative: the last export has the totals.
                counted.set(
                  `${attrs['otel_winston.logger.name']}/${attrs['otel_winston.log.severity']}`,
                  Number(p.asInt),
                );
              }
            }
          }
        }
      }
      expect(counted.get('otel-winston/INFO')).to.equal(50);
      expect(counted.get('otel-winston/DEBUG')).to.equal(10);
      expect(counted.get('otel-winston/ERROR')).to.equal(2);
    } finally {
      server.close();
      await receiver.close();
    }
  });
});

describe('startTelemetry() in code, from the ESM build (real child process)', function () {
  this.timeout(30_000);
  it('starts the SDK with the options given, instruments winston, and shutdownTelemetry() flushes', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const { execFile } = await import('node:child_process');
      const { promisify } = await import('node:util');
      const { FIXTURES, linkPackage } = await import('../helpers/preload-app.js');
      linkPackage();
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [`${FIXTURES}start-in-code.mjs`],
        {
          cwd: FIXTURES,
          env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: '' },
          timeout: 20_000,
        },
      );
      expect(stdout).to.include('done');
      const record = receiver.logs.find((r) => r.body === 'logged after startTelemetry()');
      expect(record?.resource['service.name']).to.equal('started-in-code');
      expect(record?.attributes).to.include({ n: 1 });
    } finally {
      await receiver.close();
    }
  });
});
