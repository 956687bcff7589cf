import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

describe('examples', () => {
  it('basic-transport: the Console line and the exported records share the trace and carry the request', async () => {
    const env = { ...process.env };
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/basic-transport/app.ts'],
      {
        cwd: new URL('..', import.meta.url),
        env,
        timeout: 30_000,
      },
    );
    const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
    const consoleLines = lines
      .filter((line) => line.includes('"level"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const exported = lines
      .filter((line) => line.includes('"severity"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(consoleLines).to.have.length(2);
    expect(exported).to.have.length(2);
    expect(exported[0]!.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(exported[1]!.spanId).to.match(/^[0-9a-f]{16}$/);
    expect(exported[0]!.traceId).to.equal(consoleLines[0]!.trace_id);
    expect(exported[1]!.spanId).to.equal(consoleLines[1]!.span_id);
    expect(exported[1]!.attributes).to.include({
      'user.id': 'alice',
      'http.request.id': 'req-7',
      'exception.message': 'card declined',
      service: 'checkout',
    });
    expect(consoleLines[1]).to.include({ user_id: 'alice', request_id: 'req-7' });
  });
});
