import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { VERSION } from '../../src/version.js';

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
    expect(hello).to.match(
      /│ \d\d:\d\d:\d\d\.\d{3}Z INFO {2}GET \/hello 200 [\d.]+ ms {2}request=[0-9a-f-]{36} user=ada/,
    );
    expect(hello).to.match(
      /│ \d\d:\d\d:\d\d\.\d{3}Z INFO {2}Hello endpoint hit {2}request=[0-9a-f-]{36} user=ada route=\/hello/,
    );
    // A tampered token: one WARN with the reason, no user anywhere in the trace.
    expect(refused).to.match(
      /│ \d\d:\d\d:\d\d\.\d{3}Z WARN {2}request without a verified user: signature_invalid/,
    );
    expect(refused).to.match(/│ \d\d:\d\d:\d\d\.\d{3}Z WARN {2}GET \/hello 401/);
    expect(refused).not.to.include('user=');
    const fail = traces.find((t) => t.includes('GET /fail'))!;
    expect(fail).to.match(
      /│ \d\d:\d\d:\d\d\.\d{3}Z ERROR request failed: GET \/fail the inventory service is down/,
    );
    expect(fail).to.match(/│ \d\d:\d\d:\d\d\.\d{3}Z ERROR GET \/fail 500/);
    const weather = traces.find((t) => t.includes('GET /weather'))!;
    expect(weather).to.match(
      /GET \[client\][\s\S]*GET \/internal\/forecast \[server\][\s\S]*computing a forecast/,
    );
    expect(stdout).to.include('» done');
  });

  it('otel-winston tail: help and version on stdout, clear errors for bad arguments, a busy port and a remote host, and stops on SIGTERM', async () => {
    const run = promisify(execFile);
    const cli = (...args: string[]) =>
      run(process.execPath, ['bin/otel-winston.cjs', ...args], { cwd: ROOT });
    const fails = async (...args: string[]): Promise<{ code?: number; stderr?: string }> => {
      try {
        await cli(...args);
      } catch (error) {
        return error as { code?: number; stderr?: string };
      }
      throw new Error(`otel-winston ${args.join(' ')} did not fail`);
    };
    expect((await cli('--help')).stdout).to.include('Usage: otel-winston tail');
    expect((await cli('tail', '--help')).stdout).to.include('--allow-remote');
    expect((await cli('--version')).stdout.trim()).to.equal(VERSION);

    for (const [args, message] of [
      [['tail', '--port', 'x'], 'Expected --port to be an integer from 0 to 65535, got "x"'],
      [['tail', '--port=70000'], 'Expected --port to be an integer from 0 to 65535, got "70000"'],
      [['tail', '--port'], "Option '--port <value>' argument missing"],
      [['tail', '--colour'], "Unknown option '--colour'"],
      [['tial'], 'unknown command "tial"'],
      [['tail', '--host=0.0.0.0'], '--host=0.0.0.0 is not a loopback address'],
    ] as const) {
      const failure = await fails(...args);
      expect(failure.code, args.join(' ')).to.equal(2);
      expect(failure.stderr, args.join(' ')).to.include(message);
    }

    // A port that is taken: said plainly, exit 1.
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      const failure = await fails('tail', `--port=${port}`);
      expect(failure.code).to.equal(1);
      expect(failure.stderr).to.include(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      busy.close();
    }

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
