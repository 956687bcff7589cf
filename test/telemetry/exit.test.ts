import { expect } from 'chai';
import { startPreloadedApp } from '../helpers/preload-app.js';
import { useOtlpReceiver } from '../helpers/receiver.js';

const REQUESTS = 5;

describe('preload: flush on every way out (real child processes)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();

  /** The CommonJS app under the preload, REQUESTS requests served, nothing flushed yet. */
  async function appWithRecords(env: Record<string, string> = {}) {
    const app = await startPreloadedApp(
      ['--require', 'otel-winston/register'],
      'app.cjs',
      receiver.url,
      {
        // Long delays: only the flush at the end can deliver the records.
        OTEL_BLRP_SCHEDULE_DELAY: '60000',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
        ...env,
      },
    );
    for (let i = 0; i < REQUESTS; i++) expect(await app.get(`/hello?i=${i}`)).to.equal(200);
    return app;
  }

  function handled(): number {
    return receiver.logs.filter((r) => r.body === 'request handled').length;
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: flushes every record, then ends by the same signal`, async () => {
      const app = await appWithRecords();
      app.child.kill(signal);
      const outcome = await app.exited();
      expect(outcome.signal, app.stderr()).to.equal(signal);
      expect(handled()).to.equal(REQUESTS);
      expect(receiver.spans.filter((s) => s.kind === 2)).to.have.length(REQUESTS);
    });
  }

  it("SIGTERM with the app's own handler: the app decides, and what it logs while stopping is flushed too", async () => {
    const app = await appWithRecords({ APP_HANDLES_SIGTERM: '1' });
    app.child.kill('SIGTERM');
    const outcome = await app.exited();
    expect(outcome.signal, app.stderr()).to.equal(null);
    expect(outcome.code).to.equal(0);
    expect(handled()).to.equal(REQUESTS);
    expect(receiver.logs.map((r) => r.body)).to.include.members([
      'app shutting down',
      'app stopped',
    ]);
  });

  it('the event loop running dry (beforeExit): flushes, exits 0', async () => {
    const app = await appWithRecords();
    await app.get('/close');
    const outcome = await app.exited();
    expect(outcome.code, app.stderr()).to.equal(0);
    expect(handled()).to.equal(REQUESTS + 1);
  });

  it('beforeExit: what the app logs in its own beforeExit listener is flushed too', async () => {
    const app = await appWithRecords({ APP_LOGS_BEFORE_EXIT: '1' });
    await app.get('/close');
    const outcome = await app.exited();
    expect(outcome.code, app.stderr()).to.equal(0);
    expect(receiver.logs.map((r) => r.body)).to.include('app before exit');
  });

  const crashes: Array<[string, string, string, string]> = [
    ['an uncaught exception', '/crash', 'uncaughtException', 'TypeError: crashed on purpose'],
    ['an unhandled rejection', '/reject', 'unhandledRejection', 'RangeError: rejected on purpose'],
  ];
  for (const [name, path, origin, error] of crashes) {
    it(`${name}: a FATAL record, every record flushed, the error printed, exit 1`, async () => {
      const [type, message] = error.split(': ') as [string, string];
      const app = await appWithRecords();
      await app.get(path);
      const outcome = await app.exited();
      expect(outcome.code).to.equal(1);
      expect(app.stderr()).to.include(error);
      expect(handled()).to.equal(REQUESTS + 1);
      const fatal = receiver.logs.find((r) => r.severityText === 'FATAL');
      expect(fatal?.body).to.equal(`${origin}: ${message}`);
      expect(fatal?.attributes).to.include({
        'exception.type': type,
        'exception.message': message,
      });
    });
  }

  it('an explicit shutdownTelemetry(): every record flushed', async () => {
    const app = await appWithRecords();
    await app.get('/shutdown');
    const outcome = await app.exited();
    expect(outcome.code, app.stderr()).to.equal(0);
    expect(handled()).to.equal(REQUESTS + 1);
  });
});

describe('preload: loading and switches (real child processes)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();

  async function run(flags: string[], env: Record<string, string> = {}, app = 'app.cjs') {
    const started = await startPreloadedApp(flags, app, receiver.url, env);
    await started.get('/hello');
    await started.get('/close');
    const outcome = await started.exited();
    return { ...outcome, stdout: started.stdout(), stderr: started.stderr() };
  }

  it('--require and --import together start one SDK: no record twice', async () => {
    const outcome = await run([
      '--require',
      'otel-winston/register',
      '--import',
      'otel-winston/register',
    ]);
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(receiver.logs.filter((r) => r.body === 'request handled')).to.have.length(2);
    // Two SDKs would also mean two server spans per request.
    expect(receiver.spans.filter((s) => s.kind === 2)).to.have.length(2);
  });

  it('an ESM app started with NODE_OPTIONS=--require is instrumented too', async () => {
    const outcome = await run([], { NODE_OPTIONS: '--require otel-winston/register' }, 'app.mjs');
    expect(outcome.code, outcome.stderr).to.equal(0);
    const record = receiver.logs.find((r) => r.body === 'request handled');
    expect(receiver.spans.some((s) => s.kind === 2 && s.spanId === record?.spanId)).to.equal(true);
  });

  it('works from NODE_OPTIONS', async () => {
    const outcome = await run([], { NODE_OPTIONS: '--require otel-winston/register' });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(receiver.logs.filter((r) => r.body === 'request handled')).to.have.length(2);
  });

  it('OTEL_SDK_DISABLED=true: the app runs, nothing is exported', async () => {
    const outcome = await run(['--require', 'otel-winston/register'], {
      OTEL_SDK_DISABLED: 'true',
    });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(receiver.logs).to.have.length(0);
    expect(receiver.spans).to.have.length(0);
  });

  it('OTEL_SDK_DISABLED=1 is not true (the specification: only "true" is): it starts, and says so', async () => {
    const outcome = await run(['--require', 'otel-winston/register'], {
      OTEL_SDK_DISABLED: '1',
      OTEL_LOG_LEVEL: 'warn',
    });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(receiver.logs.filter((r) => r.body === 'request handled')).to.have.length(2);
    expect(outcome.stderr).to.match(
      /OTW004.*Expected OTEL_SDK_DISABLED to be true or false, got "1"/,
    );
  });

  it('OTEL_WINSTON_AUTO_TRANSPORT=false: spans but no winston records; OTEL_WINSTON_LOG_CORRELATION=false: plain lines', async () => {
    const outcome = await run(['--require', 'otel-winston/register'], {
      OTEL_WINSTON_AUTO_TRANSPORT: 'false',
      OTEL_WINSTON_LOG_CORRELATION: 'false',
    });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(receiver.spans.length).to.be.greaterThan(0);
    expect(receiver.logs).to.have.length(0);
    expect(outcome.stdout).to.not.include('trace_id');
  });

  it('honours the standard variables: http/json, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER=none', async () => {
    const outcome = await run(['--require', 'otel-winston/register'], {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test,team=payments',
      OTEL_SERVICE_NAME: 'from-env',
      OTEL_TRACES_EXPORTER: 'none',
    });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(
      receiver.requests
        .filter((r) => r.path === '/v1/logs')
        .every((r) => r.contentType.includes('json')),
    ).to.equal(true);
    const record = receiver.logs.find((r) => r.body === 'request handled');
    expect(record?.resource).to.include({
      'service.name': 'from-env',
      team: 'payments',
      'deployment.environment.name': 'test',
    });
    // With no traces exporter the SDK starts no tracer provider: no spans, nothing to link to.
    expect(receiver.spans).to.have.length(0);
    expect(record?.traceId).to.equal('');
  });

  it('OTEL_NODE_ENABLED_INSTRUMENTATIONS with only a typo: a warning, and everything stays instrumented', async () => {
    const outcome = await run(['--require', 'otel-winston/register'], {
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'htp',
      OTEL_LOG_LEVEL: 'warn',
    });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stdout + outcome.stderr).to.match(/OTW004.*Unknown instrumentation\(s\) "htp"/);
    const record = receiver.logs.find((r) => r.body === 'request handled');
    expect(receiver.spans.some((s) => s.kind === 2 && s.spanId === record?.spanId)).to.equal(true);
  });

  it('OTEL_NODE_DISABLED_INSTRUMENTATIONS=http: no server spans, records without a trace', async () => {
    const outcome = await run(['--require', 'otel-winston/register'], {
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http',
    });
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(receiver.spans.filter((s) => s.kind === 2)).to.have.length(0);
    expect(receiver.logs.find((r) => r.body === 'request handled')?.traceId).to.equal('');
  });

  it('a bad environment value: a diag warning only when OTEL_LOG_LEVEL asks, the default, the app runs', async () => {
    const quiet = await run(['--require', 'otel-winston/register'], {
      OTEL_WINSTON_AUTO_TRANSPORT: 'maybe',
    });
    expect(quiet.code, quiet.stderr).to.equal(0);
    expect(receiver.logs.filter((r) => r.body === 'request handled')).to.have.length(2);
    expect(
      quiet.stdout
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('{') && !l.startsWith('listening')),
    ).to.deep.equal([]);
    expect(quiet.stderr).to.not.include('OTW004');
    receiver.reset();
    const loud = await run(['--require', 'otel-winston/register'], {
      OTEL_WINSTON_AUTO_TRANSPORT: 'maybe',
      OTEL_LOG_LEVEL: 'warn',
    });
    expect(loud.stdout + loud.stderr).to.include('OTW004');
  });
});
