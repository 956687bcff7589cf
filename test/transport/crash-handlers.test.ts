import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useOtlpReceiver } from '../helpers/receiver.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/crash.cjs', import.meta.url));

function run(
  mode: string,
  url: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stderr: string }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, mode], {
      env: { ...process.env, OTLP_URL: `${url}/v1/logs` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started, stderr });
    });
  });
}

describe('winston exception and rejection handlers (real child processes)', () => {
  const receiver = useOtlpReceiver();

  it('with exitOnError: false, the transport keeps taking records after the crash', async () => {
    const result = await run('survive', receiver.url);
    expect(result.code, result.stderr).to.equal(0);
    expect(receiver.logs.map((r) => r.severityText)).to.include('FATAL');
    expect(receiver.logs.map((r) => r.body)).to.include('still logging after the crash');
  });

  for (const mode of ['exception', 'rejection']) {
    it(`an unhandled ${mode} becomes a FATAL record with exception attributes, flushed before winston exits`, async () => {
      const result = await run(mode, receiver.url);
      expect(result.code, result.stderr).to.equal(1);
      const fatal = receiver.logs.find((r) => r.severityNumber === 21);
      expect(fatal, 'a FATAL record on the wire').to.not.equal(undefined);
      expect(fatal!.severityText).to.equal('FATAL');
      expect(fatal!.body).to.match(new RegExp(`^un\\w+: the disk is on fire$`, 'i'));
      expect(fatal!.attributes).to.include({
        'exception.type': 'TypeError',
        'exception.message': 'the disk is on fire',
        'exception.code': 'E_FIRE',
      });
      expect(fatal!.attributes['exception.stacktrace']).to.match(
        /^TypeError: the disk is on fire\n\s+at /,
      );
      for (const key of [
        'process',
        'os',
        'trace',
        'date',
        'exception',
        'rejection',
        'error',
        'stack',
      ]) {
        expect(fatal!.attributes, key).to.not.have.property(key);
      }
      // Flushed and finished, not held until winston's 3 s fallback.
      expect(result.ms).to.be.lessThan(2900);
    });
  }
});
