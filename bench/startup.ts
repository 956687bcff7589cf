/**
 * Start-up: the time from spawning `node` to the app's first line on
 * stdout, for two apps, each bare, under `--require otel-winston/register`
 * and under the official `--require @opentelemetry/auto-instrumentations-node/register`.
 * The runs interleave (bare, ours, official, bare, …) so that a drift in the
 * machine's speed hits each alike; the median of each is reported.
 *
 * - `hello`: a winston logger with a Console transport writes one line
 *   (fixtures/hello.cjs).
 * - `express`: an Express app with winston prints its port once listening
 *   (test/fixtures/preload/express-app.cjs).
 *
 * The exporters point at a closed port, and each process is killed once it
 * has printed: the figure is the start, not the export.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const STARTUP_APPS = ['hello', 'express'] as const;
export type StartupApp = (typeof STARTUP_APPS)[number];
export const STARTUP_PRELOADS = ['bare', 'ours', 'official'] as const;
export type StartupPreload = (typeof STARTUP_PRELOADS)[number];

/** Milliseconds to the first line, one entry per run, by app and preload. */
export type StartupTimes = Record<StartupApp, Record<StartupPreload, number[]>>;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APPS: Record<StartupApp, string> = {
  hello: fileURLToPath(new URL('./fixtures/hello.cjs', import.meta.url)),
  express: fileURLToPath(new URL('../test/fixtures/preload/express-app.cjs', import.meta.url)),
};
const FLAGS: Record<StartupPreload, string[]> = {
  bare: [],
  ours: ['--require', 'otel-winston/register'],
  official: ['--require', '@opentelemetry/auto-instrumentations-node/register'],
};
const RUN_TIMEOUT_MS = 30_000;

/** One run: milliseconds from spawn to the first byte on stdout; the process is then ended. */
function timeToFirstLine(
  app: StartupApp,
  preload: StartupPreload,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [...FLAGS[preload], APPS[app]], {
      cwd: ROOT,
      env: {
        ...env,
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_WINSTON_SHUTDOWN_TIMEOUT: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    let took: number | undefined;
    child.stdout.once('data', () => {
      took = Number(process.hrtime.bigint() - start) / 1e6;
      // What comes after is not measured: the Express app would keep listening, and the official
      // register retries its exports to the closed port for up to 10 s before it exits.
      child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      if (took !== undefined) resolve(took);
      else
        reject(new Error(`${app} under ${preload} printed nothing (${signal ?? code}): ${stderr}`));
    });
  });
}

/** `runs` interleaved runs of each app under each preload. */
export async function measureStartup(runs: number, env: NodeJS.ProcessEnv): Promise<StartupTimes> {
  const times = Object.fromEntries(
    STARTUP_APPS.map((app) => [app, Object.fromEntries(STARTUP_PRELOADS.map((p) => [p, []]))]),
  ) as unknown as StartupTimes;
  for (let i = 0; i < runs; i++) {
    for (const app of STARTUP_APPS) {
      for (const preload of STARTUP_PRELOADS) {
        times[app][preload].push(await timeToFirstLine(app, preload, env));
      }
    }
  }
  return times;
}

/** `a`'s runs and `b`'s together. */
export function mergeStartup(a: StartupTimes | undefined, b: StartupTimes): StartupTimes {
  if (a === undefined) return b;
  return Object.fromEntries(
    STARTUP_APPS.map((app) => [
      app,
      Object.fromEntries(STARTUP_PRELOADS.map((p) => [p, [...a[app][p], ...b[app][p]]])),
    ]),
  ) as unknown as StartupTimes;
}
