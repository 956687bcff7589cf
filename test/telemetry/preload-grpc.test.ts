import { expect } from 'chai';
import { startGrpcReceiver, type GrpcLogsReceiver } from '../helpers/grpc-receiver.js';
import { startPreloadedApp } from '../helpers/preload-app.js';
import { useOtlpReceiver } from '../helpers/receiver.js';

describe('preload: logs over OTLP/gRPC (real child process)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();
  let grpcReceiver: GrpcLogsReceiver;

  beforeEach(async () => {
    grpcReceiver = await startGrpcReceiver();
  });
  afterEach(() => grpcReceiver.close());

  it('OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc: the records go to the gRPC endpoint, the spans still over HTTP', async () => {
    const app = await startPreloadedApp(
      ['--require', 'otel-winston/register'],
      'app.cjs',
      receiver.url,
      {
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: grpcReceiver.url,
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-tenant=acme',
      },
    );
    expect(await app.get('/hello')).to.equal(200);
    expect(await app.get('/close')).to.equal(200);
    const outcome = await app.exited();
    expect(outcome.code, app.stderr()).to.equal(0);
    const handled = grpcReceiver.logs.filter((r) => r.body === 'request handled');
    expect(handled.map((r) => r.attributes.path)).to.deep.equal(['/hello', '/close']);
    expect(grpcReceiver.calls[0]!.metadata.get('x-tenant')).to.deep.equal(['acme']);
    // Nothing went to the HTTP receiver's logs endpoint; the spans did, and the records link to them.
    expect(receiver.logs).to.have.length(0);
    const server = receiver.spans.find((s) => s.kind === 2 && s.spanId === handled[0]!.spanId);
    expect(server, 'the server span of the first request').to.not.equal(undefined);
  });
});
