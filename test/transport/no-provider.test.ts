import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `code` (CommonJS) in a fresh node from the repository, with `env` added; its stderr. */
async function stderrOf(code: string, args: string[] = [], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')),
  );
  const { stderr } = await promisify(execFile)(process.execPath, [...args, '-e', code], {
    cwd: ROOT,
    env: { ...clean, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env },
    timeout: 30_000,
  });
  return stderr;
}

const APP = `
  const winston = require('winston');
  const { OtelTransport } = require('otel-winston');
  const logger = winston.createLogger({ transports: [new OtelTransport()] });
  logger.info('first');
  logger.info('second');
`;

describe('a transport with nowhere to go (real child processes)', function () {
  this.timeout(60_000);

  it('says once, as a Node.js warning with a code, that records go to the no-op provider', async () => {
    const stderr = await stderrOf(APP);
    const warnings = stderr.split('\n').filter((line) => line.includes('OTW021'));
    expect(warnings, stderr).to.have.length(1);
    expect(warnings[0]).to.match(
      /\[OTW021\] OtelWinstonWarning: records are emitted into the no-op LoggerProvider .* startTelemetry\(\)/,
    );
  });

  it('says nothing once a provider is registered, or when logs are off on purpose', async () => {
    for (const [args, env] of [
      [['--require', 'otel-winston/register'], {}],
      [['--require', 'otel-winston/register'], { OTEL_LOGS_EXPORTER: 'none' }],
      [['--require', 'otel-winston/register'], { OTEL_SDK_DISABLED: 'true' }],
    ] as const) {
      const stderr = await stderrOf(APP, [...args], {
        ...env,
        OTEL_WINSTON_SHUTDOWN_TIMEOUT: '200',
      });
      expect(stderr, JSON.stringify(env)).to.not.include('OTW021');
    }
  });
});
