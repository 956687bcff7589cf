// npm run demo: the whole loop on one machine, no Docker, no collector.
// 1. starts `otel-winston tail`, a local OTLP receiver that prints traces with their logs;
// 2. runs examples/express-jwt (an Express app with JWT identity) under `node --import otel-winston/register`;
// 3. logs in, says hello with the token and with a tampered one, hits a failing route and one
//    that makes an outgoing HTTP call;
// 4. ends the app with SIGTERM (which flushes), prints the traces, and exits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startTail } from '../dist/esm/cli/tail.js';

const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const say = (text) =>
  process.stdout.write(`${color ? '\u001b[36m' : ''}${text}${color ? '\u001b[0m' : ''}\n`);

const tail = await startTail({ port: 0, quietMillis: 300, color });
say(`» otel-winston tail is receiving OTLP on ${tail.url}`);

const app = spawn(
  process.execPath,
  ['--import', 'otel-winston/register', '--import', 'tsx', 'examples/express-jwt/app.ts'],
  {
    env: {
      ...process.env,
      PORT: '0',
      OTEL_SERVICE_NAME: 'express-jwt',
      OTEL_EXPORTER_OTLP_ENDPOINT: tail.url,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_BLRP_SCHEDULE_DELAY: '200',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const killer = setTimeout(() => app.kill('SIGKILL'), 30_000);
const exited = once(app, 'exit');

let appOutput = '';
const port = await new Promise((resolve, reject) => {
  app.stdout.on('data', (chunk) => {
    appOutput += chunk;
    const match = /listening (\d+)/.exec(appOutput);
    if (match) resolve(Number(match[1]));
  });
  exited.then(() => reject(new Error('the example app ended before it listened')));
});
say(`» examples/express-jwt is running under the preload on port ${port}`);

const base = `http://127.0.0.1:${port}`;
const login = await fetch(`${base}/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'ada' }),
});
const { token } = await login.json();
say(`» POST /login → ${login.status}, a demo token for ada`);
// The same token with its signature changed: verification fails, no user is set.
const tampered = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
for (const [path, authorization, label] of [
  ['/hello', `Bearer ${token}`, 'with the token'],
  ['/hello', `Bearer ${tampered}`, 'with a tampered token'],
  ['/fail', undefined, ''],
  ['/weather', undefined, ''],
]) {
  const res = await fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });
  await res.text();
  say(`» GET ${path} ${label}${label ? ' ' : ''}→ ${res.status}`);
}

say("» the app's own log lines carry the same trace ids:");
for (const line of appOutput.split('\n').filter((l) => l.startsWith('{'))) {
  const { message, trace_id, span_id, request_id, user_id } = JSON.parse(line);
  process.stdout.write(
    `  ${JSON.stringify({ message, trace_id, span_id, request_id, user_id })}\n`,
  );
}

say('» SIGTERM: the preload flushes logs and spans before the app ends\n');
app.kill('SIGTERM');
await exited;
clearTimeout(killer);
await new Promise((resolve) => setTimeout(resolve, 400));
await tail.close();
say('» done: every log record above sits under the span of the request that wrote it.');
