import { expect } from 'chai';
import { spawnPreloaded } from '../helpers/preload-app.js';
import { useOtlpReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

interface Facts {
  readonly fields: string[];
  readonly recording: boolean;
  readonly sampled: boolean;
}

/**
 * The SDK the preload assembles itself (src/telemetry/sdk-providers.ts) against what the Node
 * SDK makes of the same variables: propagators, samplers, exporters, the resource's service
 * name, and start-up options given in code.
 */
describe('the SDK from the environment, as the Node SDK makes it (real child processes)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();

  async function facts(
    env: Record<string, string>,
    flags = ['--require', 'otel-winston/register'],
  ): Promise<{ facts: Facts; stdout: string; stderr: string }> {
    const app = spawnPreloaded(flags, 'sdk-facts.cjs', receiver.url, env, 20_000);
    const { code } = await app.exited();
    expect(code, app.stderr()).to.equal(0);
    const line = app
      .stdout()
      .split('\n')
      .find((l) => l.startsWith('FACTS '));
    expect(line, app.stdout() + app.stderr()).to.not.equal(undefined);
    return {
      facts: JSON.parse(line!.slice(6)) as Facts,
      stdout: app.stdout(),
      stderr: app.stderr(),
    };
  }

  it('propagates W3C trace context and baggage by default; OTEL_PROPAGATORS chooses others, or none', async () => {
    expect((await facts({})).facts.fields).to.deep.equal(['traceparent', 'tracestate', 'baggage']);
    expect((await facts({ OTEL_PROPAGATORS: 'b3multi' })).facts.fields).to.include('x-b3-traceid');
    expect((await facts({ OTEL_PROPAGATORS: 'b3' })).facts.fields).to.deep.equal(['b3']);
    expect((await facts({ OTEL_PROPAGATORS: 'none' })).facts.fields).to.deep.equal([]);
  });

  it('an unknown propagator is left out with OTW004, the known ones kept', async () => {
    const { facts: f, stderr } = await facts({
      OTEL_PROPAGATORS: 'tracecontext,jaegerish',
      OTEL_LOG_LEVEL: 'warn',
    });
    expect(f.fields).to.deep.equal(['traceparent', 'tracestate']);
    expect(stderr).to.match(/OTW004: .*"jaegerish" in OTEL_PROPAGATORS/);
  });

  it('samples as OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG say', async () => {
    expect((await facts({})).facts).to.include({ recording: true, sampled: true });
    expect((await facts({ OTEL_TRACES_SAMPLER: 'always_off' })).facts).to.include({
      recording: false,
      sampled: false,
    });
    expect(
      (
        await facts({
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0',
        })
      ).facts,
    ).to.include({ sampled: false });
    expect(
      (await facts({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' })).facts,
    ).to.include({ sampled: true });
  });

  it('OTEL_TRACES_EXPORTER=console writes each span to stdout, and sends none', async () => {
    const { stdout } = await facts({ OTEL_TRACES_EXPORTER: 'console' });
    expect(stdout).to.match(/name: 'facts'/);
    await waitUntil('the log record', () => receiver.logs.length === 1);
    expect(receiver.spans).to.have.length(0);
  });

  it('the service name: OTEL_RESOURCE_ATTRIBUTES wins over the app’s package.json name, and the option over OTEL_SERVICE_NAME', async () => {
    await facts({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,team=payments' });
    await waitUntil('the record', () => receiver.logs.length === 1);
    expect(receiver.logs[0]!.resource).to.include({
      'service.name': 'from-attributes',
      team: 'payments',
    });
    await facts({});
    await waitUntil('the second record', () => receiver.logs.length === 2);
    expect(receiver.logs[1]!.resource['service.name']).to.equal('otel-winston-preload-fixture');
    await facts(
      { OTEL_SERVICE_NAME: 'from-env', FACTS_START: JSON.stringify({ serviceName: 'from-code' }) },
      [],
    );
    await waitUntil('the third record', () => receiver.logs.length === 3);
    expect(receiver.logs[2]!.resource['service.name']).to.equal('from-code');
  });

  it('instrumentations given in code as nested lists are flattened, as the Node SDK does', async () => {
    const { stderr } = await facts(
      {
        FACTS_START: JSON.stringify({ nestedInstrumentations: true }),
        OTEL_LOG_LEVEL: 'warn',
      },
      [],
    );
    expect(stderr).to.not.match(/OTW011/);
    await waitUntil(
      'the record and the span',
      () => receiver.logs.length === 1 && receiver.spans.length === 1,
    );
  });
});
