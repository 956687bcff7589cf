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
    expect(traces, stdout).to.have.length(3);
    const hello = traces.find((t) => t.includes('GET /hello'))!;
    expect(hello).to.match(/│ INFO {2}saying hello {2}request=[0-9a-f-]{36} route=\/hello/);
    const checkout = traces.find((t) => t.includes('GET /checkout'))!;
    expect(checkout).to.match(/│ ERROR payment failed card declined \(Error: card declined\)/);
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
