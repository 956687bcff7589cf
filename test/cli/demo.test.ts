import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url);

describe('npm run demo and otel-winston tail (real child processes)', function () {
  this.timeout(60_000);

  it('the demo shows each request as a trace with its log records under the span that wrote them', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/demo.mjs'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 45_000,
    });
    const traces = stdout.split('\n\n').filter((block) => block.trimStart().startsWith('trace '));
    expect(traces, stdout).to.have.length(5);
    const [hello, refused] = traces.filter((t) => t.includes('GET /hello'));
    // The verified user is on the server span, the access record and the handler's record.
    expect(hello).to.match(/GET \/hello \[server\].* user=ada route=\/hello/);
    expect(hello).to.match(/│ INFO {2}GET \/hello 200 [\d.]+ ms {2}request=[0-9a-f-]{36} user=ada/);
    expect(hello).to.match(
      /│ INFO {2}Hello endpoint hit {2}request=[0-9a-f-]{36} user=ada route=\/hello/,
    );
    // A tampered token: one WARN with the reason, no user anywhere in the trace.
    expect(refused).to.match(/│ WARN {2}request without a verified user: signature_invalid/);
    expect(refused).to.match(/│ WARN {2}GET \/hello 401/);
    expect(refused).not.to.include('user=');
    const fail = traces.find((t) => t.includes('GET /fail'))!;
    expect(fail).to.match(/│ ERROR request failed: GET \/fail the inventory service is down/);
    expect(fail).to.match(/│ ERROR GET \/fail 500/);
    const weather = traces.find((t) => t.includes('GET /weather'))!;
    expect(weather).to.match(
      /GET \[client\][\s\S]*GET \/internal\/forecast \[server\][\s\S]*computing a forecast/,
    );
    expect(stdout).to.include('» done');
  });

  it('otel-winston tail prints usage, refuses bad arguments, and stops on SIGTERM', async () => {
    const run = promisify(execFile);
    const help = await run(process.execPath, ['bin/otel-winston.cjs', '--help'], { cwd: ROOT });
    expect(help.stderr).to.include('Usage: otel-winston tail');
    let failure: { code?: number; stderr?: string } = {};
    try {
      await run(process.execPath, ['bin/otel-winston.cjs', 'tail', '--port', 'x'], { cwd: ROOT });
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.code).to.equal(2);
    expect(failure.stderr).to.include('Expected --port to be an integer');

    const child = spawn(process.execPath, ['bin/otel-winston.cjs', 'tail', '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (err.includes('receiving OTLP/HTTP on http://127.0.0.1:')) resolve();
      };
      child.stderr.on('data', check);
    });
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).to.equal(0);
  });
});
