/**
 * `npm run bench`: nine winston pipelines (see `pipelines.ts`), each with a
 * steady and a burst workload, every run its own process (`scenario.ts`)
 * exporting to a counting receiver in this process. Rounds alternate the
 * order of the pipelines; ratios are taken round by round. Writes
 * docs/benchmarks.md, the raw runs to docs/benchmarks.json and their chart to
 * docs/images/benchmarks.svg, and exits with 1 when LogPipeline lost or
 * mislaid a record.
 *
 * Each round also times the start-up (`startup.ts`): BENCH_STARTUP_RUNS runs
 * of each app under each preload.
 *
 * BENCH_ROUNDS (default 3), BENCH_RECORDS (200,000), BENCH_WARMUP (50,000),
 * BENCH_STARTUP_RUNS (5).
 */
import { execFileSync, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startCountingReceiver, type CountingReceiver } from './count-receiver.js';
import { renderChart } from './chart.js';
import { renderReport, type ReportSettings } from './report.js';
import { cpuPerRecord, loss, median, problemsOf, rate, type Run } from './results.js';
import { saveRuns, writeChart } from './runs-file.js';
import {
  measureStartup,
  mergeStartup,
  STARTUP_APPS,
  STARTUP_PRELOADS,
  type StartupTimes,
} from './startup.js';
import {
  PIPELINES,
  WORKLOADS,
  type Measurement,
  type OrchestratorMessage,
  type Pipeline,
  type ScenarioMessage,
  type Workload,
} from './run-protocol.js';

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`Expected ${name} to be a positive integer, got \`${raw}\``);
  return value;
}

const ROUNDS = positiveInteger('BENCH_ROUNDS', 3);
const RECORDS = positiveInteger('BENCH_RECORDS', 200_000);
// Long enough for every pipeline's hot path to be optimised: a service runs in steady state.
const WARMUP = positiveInteger('BENCH_WARMUP', 50_000);
const STARTUP_RUNS = positiveInteger('BENCH_STARTUP_RUNS', 5);
/** A run that takes longer than this is stuck: it is killed and the benchmark fails. */
const RUN_TIMEOUT_MS = 5 * 60_000;
/** After a run, how long the receiver's count may stay still before it is final. */
const RECEIVER_QUIET_MS = 500;
const RECEIVER_TIMEOUT_MS = 30_000;

const SCENARIO = fileURLToPath(new URL('./scenario.ts', import.meta.url));
const POLICY_COST = fileURLToPath(new URL('./policy-cost.ts', import.meta.url));
/** The package root: where `--import tsx` and the self-reference `otel-winston` resolve. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The environment without `OTEL_*`: every pipeline runs with its code defaults. */
const scenarioEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')),
);

/** Runs one scenario process; resolves with its measurement and the records the receiver got. */
async function runScenario(
  receiver: CountingReceiver,
  pipeline: Pipeline,
  workload: Workload,
): Promise<{ measurement: Measurement; received: number | undefined }> {
  const child = fork(
    SCENARIO,
    [pipeline, workload, String(RECORDS), String(WARMUP), `${receiver.url}/v1/logs`],
    {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      cwd: ROOT,
      env: scenarioEnv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const killer = setTimeout(() => child.kill(), RUN_TIMEOUT_MS);
  let countAtStart: number | undefined;
  let measurement: Measurement | undefined;
  child.on('message', (message: ScenarioMessage) => {
    if (message.type === 'warmed') {
      // The warm-up has been flushed: every one of its records was acknowledged, so counted.
      countAtStart = receiver.count();
      child.send({ type: 'measure' } satisfies OrchestratorMessage);
    } else if (message.type === 'measured') {
      measurement = message.measurement;
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  if (code !== 0 || measurement === undefined || countAtStart === undefined)
    throw new Error(
      `${pipeline} ${workload}: the scenario exited with ${signal ?? code} before reporting`,
    );
  if (pipeline === 'floor') return { measurement, received: undefined };
  const count = await receiver.settle(
    countAtStart + RECORDS,
    RECEIVER_QUIET_MS,
    RECEIVER_TIMEOUT_MS,
  );
  return { measurement, received: count - countAtStart };
}

function describe(run: Run): string {
  const m = run.measurement;
  const lost = loss(run);
  const parts = [
    `round ${run.round}`,
    run.workload.padEnd(6),
    run.pipeline.padEnd(10),
    `${Math.round(rate(run)).toLocaleString('en-US').padStart(9)} records/s`,
    `${cpuPerRecord(run).toFixed(2).padStart(6)} µs CPU/record`,
    `p99 delay ${m.loopDelayP99Ms === undefined ? '—' : `${m.loopDelayP99Ms.toFixed(2)} ms`}`,
    `RSS +${m.rssGrowthMiB.toFixed(1)} MiB`,
    `loss ${lost === undefined ? '—' : lost.toLocaleString('en-US')}`,
  ];
  if (m.burstLoopMs !== undefined) parts.push(`loop ${Math.round(m.burstLoopMs)} ms`);
  if (m.pipeline !== undefined) {
    const { dropped, heldBytesAfterLoop: held } = m.pipeline;
    parts.push(
      `stats().dropped ${Object.keys(dropped).length > 0 ? JSON.stringify(dropped) : 'none'}`,
    );
    if (held !== undefined) parts.push(`held ${(held / 2 ** 20).toFixed(1)} MiB after the loop`);
    if (m.pipeline.spilled > 0) parts.push(`spilled ${m.pipeline.spilled.toLocaleString('en-US')}`);
  }
  return parts.join('  ');
}

const started = Date.now();
const loadAverage = loadavg();
const receiver = await startCountingReceiver();
const runs: Run[] = [];
/** Nanoseconds per record of each policy, one measurement per round. */
const policyCosts: Array<Readonly<Record<string, number>>> = [];
let startup: StartupTimes | undefined;
const failures: string[] = [];
try {
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate the order each round, so that no pipeline always runs first.
    const order = round % 2 === 0 ? [...PIPELINES].reverse() : PIPELINES;
    for (const workload of WORKLOADS) {
      for (const pipeline of order) {
        const run: Run = {
          round,
          pipeline,
          workload,
          ...(await runScenario(receiver, pipeline, workload)),
        };
        runs.push(run);
        console.log(describe(run));
        for (const problem of problemsOf(run)) {
          const failure = `round ${round} ${workload} ${pipeline}: ${problem}`;
          failures.push(failure);
          console.error(`FAILED: ${failure}`);
        }
      }
    }
    const cost = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', POLICY_COST], {
        cwd: ROOT,
        env: scenarioEnv,
        encoding: 'utf8',
      }),
    ) as Record<string, number>;
    policyCosts.push(cost);
    const each = Object.entries(cost).map(([policy, ns]) => `${policy} ${ns.toFixed(0)}`);
    console.log(`round ${round}  policies (ns/record)  ${each.join(', ')}`);
    const times = await measureStartup(STARTUP_RUNS, scenarioEnv);
    startup = mergeStartup(startup, times);
    for (const app of STARTUP_APPS) {
      const each = STARTUP_PRELOADS.map((p) => `${p} ${median(times[app][p]).toFixed(0)}`);
      console.log(`round ${round}  start-up ${app} (ms to the first line)  ${each.join(', ')}`);
    }
  }
} finally {
  await receiver.close();
}

const settings: ReportSettings = {
  rounds: ROUNDS,
  records: RECORDS,
  warmup: WARMUP,
  durationMs: Date.now() - started,
  loadAverage,
  policyCosts,
  ...(startup !== undefined ? { startup } : {}),
};
writeFileSync(
  new URL('../docs/benchmarks.md', import.meta.url),
  `${renderReport(runs, settings)}\n`,
);
saveRuns({ settings, runs });
writeChart(renderChart(runs, settings));
console.log(
  `\nwrote docs/benchmarks.md, docs/benchmarks.json and docs/images/benchmarks.svg (${((Date.now() - started) / 60_000).toFixed(1)} min)`,
);
if (failures.length > 0) {
  console.error(`\nLogPipeline failed ${failures.length} check(s):\n${failures.join('\n')}`);
  process.exitCode = 1;
}
