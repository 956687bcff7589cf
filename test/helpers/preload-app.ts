import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/preload/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The fixtures are an app of their own (their own package.json), which finds
 * otel-winston the way a user's app does: in its node_modules, here a link to
 * this repository.
 */
export function linkPackage(): void {
  const link = `${FIXTURES}node_modules/otel-winston`;
  if (existsSync(link)) return;
  mkdirSync(`${FIXTURES}node_modules`, { recursive: true });
  symlinkSync(ROOT, link, 'dir');
}

/** A fixture app running in a child process under the preload. */
export interface PreloadedApp {
  readonly child: ChildProcess;
  readonly port: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  get(path: string): Promise<number>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A fixture running in a child process under the preload. */
export interface PreloadedProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `node <flags> <app>` (a fixture's name, or an absolute path) with the
 * OTLP exporters pointed at `endpoint` and fast batch delays. Killed after
 * `killAfterMillis` at most.
 */
export function spawnPreloaded(
  flags: string[],
  app: string,
  endpoint: string,
  env: Record<string, string> = {},
  killAfterMillis = 60_000,
): PreloadedProcess {
  linkPackage();
  const child = spawn(
    process.execPath,
    [...flags, app.startsWith('/') ? app : `${FIXTURES}${app}`],
    {
      cwd: FIXTURES,
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_BLRP_SCHEDULE_DELAY: '100',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_SERVICE_NAME: '',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMillis);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => (err += String(chunk)));
  const exit = once(child, 'exit').then(([code, signal]) => {
    clearTimeout(killer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return { child, stdout: () => out, stderr: () => err, exited: () => exit };
}

/**
 * Starts a fixture app with {@link spawnPreloaded} and waits until it
 * prints `listening <port>`. Killed after 60 s at most.
 */
export async function startPreloadedApp(
  flags: string[],
  app: string,
  endpoint: string,
  env: Record<string, string> = {},
): Promise<PreloadedApp> {
  const started = spawnPreloaded(flags, app, endpoint, env);
  const port = await new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const match = /listening (\d+)/.exec(started.stdout());
      if (match) resolve(Number(match[1]));
    };
    started.child.stdout!.on('data', check);
    void started
      .exited()
      .then(() => reject(new Error(`the app exited before listening:\n${started.stderr()}`)));
  });
  return {
    ...started,
    port,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.text();
      return res.status;
    },
  };
}
