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

/**
 * Starts `node <flags> <app>` (a fixture's name, or an absolute path) with the OTLP exporters pointed at `endpoint`,
 * fast batch delays, and waits until it listens. Killed after 60 s at most.
 */
export async function startPreloadedApp(
  flags: string[],
  app: string,
  endpoint: string,
  env: Record<string, string> = {},
): Promise<PreloadedApp> {
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
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => (err += String(chunk)));
  const exit = once(child, 'exit').then(([code, signal]) => {
    clearTimeout(killer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  const port = await new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const match = /listening (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    };
    child.stdout!.on('data', check);
    void exit.then(() => reject(new Error(`the app exited before listening:\n${err}`)));
  });
  return {
    child,
    port,
    stdout: () => out,
    stderr: () => err,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      await res.text();
      return res.status;
    },
    exited: () => exit,
  };
}
