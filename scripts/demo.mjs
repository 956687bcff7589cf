// npm run demo: the whole loop on one machine, no Docker, no collector.
// 1. starts `otel-winston tail`, a local OTLP receiver that prints traces with their logs;
// 2. runs examples/shop-express under `node --import otel-winston/register`;
// 3. fires a normal request, one that logs an error, one with an outgoing HTTP call;
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
  ['--import', 'otel-winston/register', 'examples/shop-express/app.mjs'],
  {
    env: {
      ...process.env,
      PORT: '0',
      OTEL_SERVICE_NAME: 'shop',
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
say(`» examples/shop-express is running under the preload on port ${port}`);

for (const path of ['/hello?name=ada', '/checkout', '/weather']) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  await res.text();
  say(`» GET ${path} → ${res.status}`);
}

say("» the app's own log lines carry the same trace ids:");
for (const line of appOutput.split('\n').filter((l) => l.startsWith('{'))) {
  const { message, trace_id, span_id, request_id } = JSON.parse(line);
  process.stdout.write(`  ${JSON.stringify({ message, trace_id, span_id, request_id })}\n`);
}

say('» SIGTERM: the preload flushes logs and spans before the app ends\n');
app.kill('SIGTERM');
await exited;
clearTimeout(killer);
await new Promise((resolve) => setTimeout(resolve, 400));
await tail.close();
say('» done: every log record above sits under the span of the request that wrote it.');
