import { expect } from 'chai';
import { once } from 'node:events';
import type { DecodedLogRecord } from '../../src/otlp/decode-logs.js';
import { startGrpcReceiver, type GrpcLogsReceiver } from '../helpers/grpc-receiver.js';
import { startPreloadedApp, type PreloadedApp } from '../helpers/preload-app.js';
import { useOtlpReceiver } from '../helpers/receiver.js';
import { makeTestPki, startTlsFront, type TestPki, type TlsFront } from '../helpers/tls.js';

/**
 * A failed export is retried every 100 to 200 ms, and what is still held
 * 1.5 s into the flush at exit is given up: a process that cannot deliver
 * ends quickly.
 */
const QUICK_EXIT = {
  OTEL_WINSTON_RETRY_INITIAL_MS: '100',
  OTEL_WINSTON_RETRY_MAX_MS: '200',
  OTEL_WINSTON_SHUTDOWN_TIMEOUT: '1500',
};

/** The longest a process that could not deliver may take to exit after its last request. */
const EXIT_BOUND_MILLIS = 8000;

/** The paths of the `request handled` records, in order. */
const handled = (logs: readonly DecodedLogRecord[]): unknown[] =>
  logs.filter((r) => r.body === 'request handled').map((r) => r.attributes.path);

describe('TLS: the certificate variables and INSECURE, against TLS receivers on loopback (real child processes under the preload)', function () {
  this.timeout(20_000);
  let pki: TestPki;
  const apps: PreloadedApp[] = [];

  before(() => {
    pki = makeTestPki();
  });
  after(() => pki?.remove());
  afterEach(() => {
    // A test that failed half-way leaves no process behind.
    for (const app of apps.splice(0)) {
      if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
    }
  });

  /**
   * Runs the fixture app under the preload, exporting to `endpoint` with
   * `env`: it serves /hello, then /close, after which it ends by itself
   * (the event loop runs dry, the preload flushes). Resolves when it exited.
   */
  async function run(endpoint: string, env: Record<string, string>) {
    const app = await startPreloadedApp(
      ['--require', 'otel-winston/register'],
      'app.cjs',
      endpoint,
      { ...QUICK_EXIT, ...env },
    );
    apps.push(app);
    // Its last lines (the count at exit) may still be in the pipes when it exits.
    const drained = Promise.all([
      once(app.child.stdout!, 'close'),
      once(app.child.stderr!, 'close'),
    ]);
    expect(await app.get('/hello')).to.equal(200);
    const closed = Date.now();
    expect(await app.get('/close')).to.equal(200);
    const outcome = await app.exited();
    const exitMillis = Date.now() - closed;
    await drained;
    return {
      ...outcome,
      exitMillis,
      stdout: app.stdout(),
      stderr: app.stderr(),
    };
  }

  describe('OTLP/HTTP over https, to a receiver that requires a client certificate the CA signed', () => {
    const receiver = useOtlpReceiver();
    let front: TlsFront;
    beforeEach(async () => {
      front = await startTlsFront(receiver.url, pki);
    });
    afterEach(() => front.close());

    it('OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_KEY and _CLIENT_CERTIFICATE: the records, the spans and the metrics arrive over mutual TLS', async () => {
      const outcome = await run(front.url, {
        OTEL_EXPORTER_OTLP_CERTIFICATE: pki.caCert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.clientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.clientCert,
      });
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(handled(receiver.logs)).to.deep.equal(['/hello', '/close']);
      const record = receiver.logs.find((r) => r.body === 'request handled')!;
      expect(
        receiver.spans.some((s) => s.kind === 2 && s.spanId === record.spanId),
        'the server span of /hello',
      ).to.equal(true);
      expect(receiver.requests.map((r) => r.path)).to.include('/v1/metrics');
      expect(front.refused.map(String)).to.deep.equal([]);
      expect(front.accepted).to.be.greaterThan(0);
      expect(outcome.stderr).not.to.match(/not delivered/);
    });

    it('the per-signal variables win over the general ones: logs and spans with their own certificates arrive, metrics with the general ones (another CA, a client the server refuses) do not', async () => {
      const outcome = await run(front.url, {
        OTEL_EXPORTER_OTLP_CERTIFICATE: pki.otherCaCert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.otherClientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.otherClientCert,
        OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: pki.caCert,
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: pki.clientKey,
        OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: pki.clientCert,
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: pki.caCert,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: pki.clientKey,
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: pki.clientCert,
      });
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(handled(receiver.logs)).to.deep.equal(['/hello', '/close']);
      expect(receiver.spans.filter((s) => s.kind === 2)).to.have.length(2);
      expect(receiver.requests.map((r) => r.path)).not.to.include('/v1/metrics');
      // The metric exporter tried, with the general variables, and TLS failed.
      expect(front.refused).to.not.have.length(0);
      expect(outcome.exitMillis).to.be.below(EXIT_BOUND_MILLIS);
    });

    it('without a client certificate: the receiver refuses the handshake, nothing is delivered, the records are counted as dropped and the process says so, and exits quickly', async () => {
      const outcome = await run(front.url, {
        OTEL_EXPORTER_OTLP_CERTIFICATE: pki.caCert,
        OTEL_LOG_LEVEL: 'warn',
      });
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(receiver.requests).to.have.length(0);
      expect(front.accepted).to.equal(0);
      expect(front.refused.map(String).join('\n')).to.match(/certificate/i);
      // The retries, with the client's error, and the count at exit.
      expect(outcome.stderr).to.match(
        /OTW015: log export failed; retrying: sending log records to https:\/\/127\.0\.0\.1:\d+\/v1\/logs failed \([^)]*alert certificate required/,
      );
      expect(outcome.stderr).to.match(
        /otel-winston: 4 of 4 log records were not delivered to https:\/\/127\.0\.0\.1:\d+\/v1\/logs \(4 shutdown deadline\); 0 were\./,
      );
      expect(outcome.exitMillis).to.be.below(EXIT_BOUND_MILLIS);
    });

    it('with a CA that did not sign the server certificate: the client refuses the server, nothing is delivered; past OTEL_WINSTON_RETRY_MAX_ELAPSED_MS the records are dropped (retries exhausted) with a Node.js warning', async () => {
      const outcome = await run(front.url, {
        OTEL_EXPORTER_OTLP_CERTIFICATE: pki.otherCaCert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.clientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.clientCert,
        // Long enough for the first attempt's handshake to fail and be retried (OTW015) on a
        // loaded machine, and shorter than the exit deadline (1.5 s).
        OTEL_WINSTON_RETRY_MAX_ELAPSED_MS: '1000',
        OTEL_LOG_LEVEL: 'warn',
      });
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(receiver.requests).to.have.length(0);
      expect(front.accepted).to.equal(0);
      expect(outcome.stderr).to.match(/OTW015: .* failed \([^)]*certificate/);
      expect(outcome.stderr).to.match(
        /\[OTW014\] OtelWinstonWarning: otel-winston dropped \d+ log record\(s\) for https:\/\/127\.0\.0\.1:\d+\/v1\/logs: \d+ retries exhausted/,
      );
      expect(outcome.stderr).to.match(
        /otel-winston: 4 of 4 log records were not delivered to .*retries exhausted.*; 0 were\./,
      );
      expect(outcome.exitMillis).to.be.below(EXIT_BOUND_MILLIS);
    });
  });

  describe('OTLP/gRPC', () => {
    const receivers: GrpcLogsReceiver[] = [];
    afterEach(() => {
      for (const r of receivers.splice(0)) r.close();
    });

    it('over TLS, to a server that requires a client certificate: the certificate variables, and the records, spans and metrics arrive', async () => {
      const receiver = await startGrpcReceiver(
        {},
        {
          rootCert: pki.read(pki.caCert),
          cert: pki.read(pki.serverCert),
          key: pki.read(pki.serverKey),
        },
      );
      receivers.push(receiver);
      expect(receiver.url).to.match(/^https:/);
      const outcome = await run(receiver.url, {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_CERTIFICATE: pki.caCert,
        OTEL_EXPORTER_OTLP_CLIENT_KEY: pki.clientKey,
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pki.clientCert,
      });
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(handled(receiver.logs)).to.deep.equal(['/hello', '/close']);
      expect(receiver.spans.filter((s) => s.kind === 2)).to.have.length(2);
      expect(receiver.metricExports).to.be.greaterThan(0);
      expect(outcome.stderr).not.to.match(/not delivered/);
    });

    it('OTEL_EXPORTER_OTLP_INSECURE=true with an endpoint without a scheme (host:port): plaintext, which reaches a plaintext server; without it, the same endpoint means TLS, and nothing arrives', async () => {
      const plain = await startGrpcReceiver();
      const other = await startGrpcReceiver();
      receivers.push(plain, other);
      const hostPort = (url: string): string => new URL(url).host;
      // The two processes run side by side.
      const [insecure, secure] = await Promise.all([
        run(hostPort(plain.url), {
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_INSECURE: 'true',
        }),
        run(hostPort(other.url), {
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_LOG_LEVEL: 'warn',
        }),
      ]);
      expect(insecure.code, insecure.stderr).to.equal(0);
      expect(handled(plain.logs)).to.deep.equal(['/hello', '/close']);
      expect(plain.spans.filter((s) => s.kind === 2)).to.have.length(2);

      expect(secure.code, secure.stderr).to.equal(0);
      expect(other.calls).to.have.length(0);
      expect(other.spans).to.have.length(0);
      expect(secure.stderr).to.match(/OTW015: .*failed \(gRPC UNAVAILABLE/);
      expect(secure.stderr).to.match(/otel-winston: 4 of 4 log records were not delivered/);
      expect(secure.exitMillis).to.be.below(EXIT_BOUND_MILLIS);
    });
  });
});
