/**
 * Renders docs/benchmarks.md from the runs of one benchmark: the setup, the
 * method, one table per workload, the ratios and the goals, every number
 * computed from the runs.
 */
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { evaluateGoals, type GoalResult } from './goals.js';
import {
  cpuPerRecord,
  defined,
  loss,
  median,
  pairsByRound,
  problemsOf,
  rate,
  ratiosByRound,
  runsOf,
  type Run,
} from './results.js';
import { SPILL_QUEUE_BYTES } from './pipelines.js';
import { PIPELINES, WORKLOADS, type Pipeline, type Workload } from './run-protocol.js';
import { STARTUP_APPS, type StartupTimes } from './startup.js';

/** LogPipeline's default `maxQueueBytes`. */
const DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024;

export interface ReportSettings {
  readonly rounds: number;
  readonly records: number;
  readonly warmup: number;
  readonly durationMs: number;
  /** The load average when the run started: the machine may be shared. */
  readonly loadAverage: readonly number[];
  /** `policy-cost.ts`'s nanoseconds per record by policy, one per round. */
  readonly policyCosts: ReadonlyArray<Readonly<Record<string, number>>>;
  /** `startup.ts`'s milliseconds to the first line, every run of every round. */
  readonly startup?: StartupTimes;
}

/** The start-up goal of a hello-world app under the preload, in milliseconds. */
const STARTUP_HELLO_GOAL_MS = 500;

/** The start-up section, and its two goals for the goals table. */
function startupLines(times: StartupTimes | undefined): { lines: string[]; goals: GoalResult[] } {
  if (times === undefined) return { lines: [], goals: [] };
  const ms = (values: readonly number[]): string => `${median(values).toFixed(0)} ms`;
  const runs = times.hello.bare.length;
  const lines = [
    '## Start-up',
    '',
    `Milliseconds from spawning \`node\` to the app's first line on stdout (\`bench/startup.ts\`), the median of ${runs} runs of each, interleaved: \`hello\` is winston writing one line to its Console (\`bench/fixtures/hello.cjs\`); \`express\` is an Express app with winston that prints its port once listening (\`test/fixtures/preload/express-app.cjs\`). \`ours\` is \`--require otel-winston/register\`, \`official\` is \`--require @opentelemetry/auto-instrumentations-node/register\` (0.82), each with its defaults (exporters at a closed port).`,
    '',
    '| app | bare | ours | official | ours − bare | ours ÷ official |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...STARTUP_APPS.map((app) => {
      const t = times[app];
      return `| ${app} | ${ms(t.bare)} | ${ms(t.ours)} | ${ms(t.official)} | ${(median(t.ours) - median(t.bare)).toFixed(0)} ms | ${(median(t.ours) / median(t.official)).toFixed(2)}× |`;
    }),
    '',
  ];
  const hello = median(times.hello.ours);
  const express = median(times.express.ours) / median(times.express.official);
  const goals: GoalResult[] = [
    {
      goal: 'start-up of `hello` under `ours`, to the first line',
      workload: 'start-up',
      measured: `${hello.toFixed(0)} ms`,
      target: `≤ ${STARTUP_HELLO_GOAL_MS} ms`,
      met: hello <= STARTUP_HELLO_GOAL_MS,
    },
    {
      goal: 'start-up of `express` under `ours` ÷ under `official`',
      workload: 'start-up',
      measured: `${express.toFixed(2)}×`,
      target: '< 1×',
      met: express < 1,
    },
  ];
  return { lines, goals };
}

/** The most a policy with its default settings may add to `ours`'s CPU per record. */
const POLICY_BUDGET = 0.1;

/** What `policy-cost.ts` measures, by its key. */
const POLICIES: ReadonlyArray<{ key: string; what: string; budget?: number }> = [
  {
    key: 'redaction',
    what: '`RedactionProcessor`, default rules (on by default; the record has nothing to redact: the cost of looking)',
    budget: POLICY_BUDGET,
  },
  {
    key: 'metrics',
    what: '`LogMetricsProcessor`, the record counter (on by default)',
  },
  {
    key: 'sampling-trace',
    what: '`SamplingProcessor`, ratio 0.5, each record in a trace of its own (the worst case: a span’s next records reuse its decision)',
  },
  {
    key: 'sampling-request',
    what: '`SamplingProcessor`, ratio 0.5, outside a trace (a hash of the request id)',
  },
  {
    key: 'code-attributes',
    what: '`includeCodeAttributes: true`, the caller’s `code.*` attributes (off by default): the whole log call with it, minus without it',
  },
  {
    key: 'rate-limit',
    what: '`RateLimitProcessor`, under its limit (the template, its token bucket)',
  },
];

/** The policies' cost per record, measured on their own, against `ours`'s CPU per record. */
function policyLines(runs: readonly Run[], costs: ReportSettings['policyCosts']): string[] {
  if (costs.length === 0) return [];
  const steady = runsOf(runs, 'ours', 'steady').map((r) => cpuPerRecord(r) * 1000);
  const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const lines = [
    '## Policies',
    '',
    "Measured on their own (`bench/policy-cost.ts`, once per round in a fresh process): the record the transport builds for the benchmark call, given to the policy 1,000,000 times, the best of 5 passes. A whole pipeline run cannot resolve a few percent on this machine: `ours-redact` and `ours` differ by more from one round to the next. The share is of `ours`'s CPU per record in the steady workload, round by round.",
    '',
  ];
  for (const { key, what, budget } of POLICIES) {
    // Round by round, each against the same round's `ours` (a round without it is left out of both).
    const rounds = costs.flatMap((c, i) => (c[key] === undefined ? [] : [{ ns: c[key], i }]));
    if (rounds.length === 0) continue;
    const nanos = rounds.map((r) => r.ns);
    const shares = rounds.map(({ ns, i }) => ns / (steady[i] ?? median(steady)));
    const share = median(shares);
    const verdict =
      budget === undefined
        ? ''
        : `; budget ${budget * 100}%: ${share <= budget ? 'MET' : '**NOT MET**'}`;
    lines.push(
      `- ${what}: **${median(nanos).toFixed(0)} ns** per record (round by round: ${nanos.map(fixed(0)).join(', ')}), **${percent(share)}** of \`ours\`'s CPU per record (${shares.map(percent).join(', ')})${verdict}.`,
    );
  }
  lines.push('');
  return lines;
}

const NAMES: Record<Pipeline, string> = {
  floor: '`floor`: winston → a transport that only calls back',
  official: '`official`: `@opentelemetry/winston-transport` + stock `BatchLogRecordProcessor`',
  'ours-stock': '`ours-stock`: `OtelTransport` + stock `BatchLogRecordProcessor`',
  ours: '`ours`: `OtelTransport` + `LogPipeline`, defaults',
  'ours-same': '`ours-same`: `OtelTransport` + `LogPipeline`, `includeRequestContext: false`',
  'ours-redact': '`ours-redact`: `ours` behind `RedactionProcessor`, default rules',
  'ours-spill': '`ours-spill`: `ours` with a spool and a 4 MiB memory queue',
  'ours-disk': '`ours-disk`: `ours` with a spool in write-through',
  'ours-fsync': '`ours-fsync`: `ours-disk` with `fsync` after every batch',
};

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const fixed =
  (digits: number) =>
  (x: number): string =>
    x.toFixed(digits);

/** The median, and the range when there was more than one round. */
function cell(values: readonly number[], format: (x: number) => string): string {
  if (values.length === 0) return '—';
  const m = format(median(values));
  if (values.length === 1) return m;
  return `${m} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

function lossCell(runs: readonly Run[]): string {
  const lost = defined(runs.map(loss));
  if (lost.length === 0) return '—';
  const records = runs[0]!.measurement.records;
  return `${cell(lost, int)}, ${((median(lost) / records) * 100).toFixed(1)}%`;
}

/** The version of a dependency, or of this package (`otel-winston`). */
function packageVersion(name: string): string {
  const url = new URL(
    name === 'otel-winston' ? '../package.json' : `../node_modules/${name}/package.json`,
    import.meta.url,
  );
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

function table(runs: readonly Run[], workload: Workload): string[] {
  const burst = workload === 'burst';
  const lines = [
    `| pipeline | records/s | CPU µs/record | event-loop delay p99 (ms) | RSS growth (MiB) | loss (records, %) |${burst ? ' loop (ms) |' : ''}`,
    `| --- | ---: | ---: | ---: | ---: | ---: |${burst ? ' ---: |' : ''}`,
  ];
  for (const pipeline of PIPELINES) {
    const of = runsOf(runs, pipeline, workload);
    const m = of.map((r) => r.measurement);
    const cells = [
      NAMES[pipeline],
      cell(of.map(rate), int),
      cell(of.map(cpuPerRecord), fixed(2)),
      cell(defined(m.map((x) => x.loopDelayP99Ms)), fixed(2)),
      cell(
        m.map((x) => x.rssGrowthMiB),
        fixed(1),
      ),
      lossCell(of),
    ];
    if (burst) cells.push(cell(defined(m.map((x) => x.burstLoopMs)), int));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

function ratioLine(label: string, ratios: number[]): string {
  const each = ratios.length > 1 ? ` (round by round: ${ratios.map(fixed(2)).join(', ')})` : '';
  return `- ${label}: **${median(ratios).toFixed(2)}×**${each}.`;
}

function ratioLines(runs: readonly Run[], workload: Workload): string[] {
  const r = (a: Pipeline, b: Pipeline, measure: (run: Run) => number): number[] =>
    ratiosByRound(runs, workload, a, b, measure);
  return [
    ratioLine('`ours` ÷ `official`, records/s', r('ours', 'official', rate)),
    ratioLine('`ours` ÷ `floor`, CPU µs/record', r('ours', 'floor', cpuPerRecord)),
    ratioLine(
      '`ours-same` ÷ `official`, records/s (the same record on the wire)',
      r('ours-same', 'official', rate),
    ),
    ratioLine('`ours-same` ÷ `official`, CPU µs/record', r('ours-same', 'official', cpuPerRecord)),
    ratioLine(
      '`ours` ÷ `ours-stock`, records/s (what LogPipeline adds over the stock processor)',
      r('ours', 'ours-stock', rate),
    ),
    ratioLine(
      '`ours-redact` ÷ `ours`, CPU µs/record (what redaction costs)',
      r('ours-redact', 'ours', cpuPerRecord),
    ),
    ratioLine('`ours-redact` ÷ `ours`, records/s', r('ours-redact', 'ours', rate)),
    ratioLine('`ours-spill` ÷ `ours`, records/s', r('ours-spill', 'ours', rate)),
    ratioLine('`ours-spill` ÷ `ours`, CPU µs/record', r('ours-spill', 'ours', cpuPerRecord)),
    ratioLine(
      '`ours-disk` ÷ `ours`, records/s (every batch through the disk)',
      r('ours-disk', 'ours', rate),
    ),
    ratioLine('`ours-disk` ÷ `ours`, CPU µs/record', r('ours-disk', 'ours', cpuPerRecord)),
    ratioLine(
      '`ours-fsync` ÷ `ours-disk`, records/s (what `fsync` costs)',
      r('ours-fsync', 'ours-disk', rate),
    ),
    ratioLine(
      '`ours-fsync` ÷ `ours-disk`, CPU µs/record',
      r('ours-fsync', 'ours-disk', cpuPerRecord),
    ),
  ];
}

/** How many records the spool pipelines wrote to disk, per workload. */
function spoolNotes(runs: readonly Run[], workload: Workload): string[] {
  return (['ours-spill', 'ours-disk', 'ours-fsync'] as const).map((pipeline) => {
    const of = runsOf(runs, pipeline, workload);
    const spilled = defined(of.map((r) => r.measurement.pipeline?.spilled));
    return `- \`${pipeline}\`: ${cell(spilled, int)} of the ${int(of[0]?.measurement.records ?? 0)} records went through the spool (\`stats().spilled\`).`;
  });
}

/** Generated sentences on what the burst table cannot say alone. */
function burstNotes(runs: readonly Run[]): string[] {
  const rss = pairsByRound(runs, 'burst', 'ours', 'floor').map(
    ([ours, floor]) => ours.measurement.rssGrowthMiB - floor.measurement.rssGrowthMiB,
  );
  const notes: string[] = [
    `- \`ours\` − \`floor\`, RSS growth: **${median(rss).toFixed(1)} MiB**${rss.length > 1 ? ` (round by round: ${rss.map(fixed(1)).join(', ')})` : ''}: the floor's own growth is winston's, which every pipeline pays.`,
  ];
  for (const pipeline of PIPELINES) {
    const of = runsOf(runs, pipeline, 'burst');
    const lost = defined(of.map(loss));
    if (lost.length > 0 && median(lost) > 0) {
      const delivered = of.map((r) => r.received! / (r.measurement.wallMs / 1000));
      notes.push(
        `- \`${pipeline}\` lost ${int(median(lost))} of ${int(of[0]!.measurement.records)} records (median): its records/s counts every record logged; records delivered per second: ${int(median(delivered))}.`,
      );
    }
    const held = defined(of.map((r) => r.measurement.pipeline?.heldBytesAfterLoop));
    if (held.length > 0) {
      const cap = pipeline === 'ours-spill' ? SPILL_QUEUE_BYTES : DEFAULT_QUEUE_BYTES;
      notes.push(
        `- \`${pipeline}\`: LogPipeline held ${(median(held) / 1024 / 1024).toFixed(1)} MiB of encoded records in memory right after the loop (\`maxQueueBytes\` ${cap / 1024 / 1024} MiB), ${int(median(held) / of[0]!.measurement.records)} bytes per record.`,
      );
    }
  }
  return notes;
}

export function renderReport(runs: readonly Run[], settings: ReportSettings): string {
  const cpu = cpus();
  const minutes = (settings.durationMs / 60_000).toFixed(1);
  const problems = runs.flatMap((run) =>
    problemsOf(run).map((p) => `round ${run.round}, ${run.workload}, \`${run.pipeline}\`: ${p}`),
  );
  const lines: string[] = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` (`bench/transport.bench.ts`); do not edit by hand.',
    '',
    '![records/s and CPU µs per record of each pipeline, steady and burst workloads, medians over the rounds](images/benchmarks.svg)',
    '',
    'The chart is drawn from the raw runs in [`benchmarks.json`](benchmarks.json); `npm run bench:chart` draws it again from them.',
    '',
    '## Setup',
    '',
    `- Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${type()} ${release()}; Node ${process.version}. Load average when the run started: ${settings.loadAverage.map(fixed(2)).join(', ')}.`,
    `- Versions: otel-winston ${packageVersion('otel-winston')}, winston ${packageVersion('winston')}, @opentelemetry/sdk-logs ${packageVersion('@opentelemetry/sdk-logs')}, @opentelemetry/winston-transport ${packageVersion('@opentelemetry/winston-transport')}, @opentelemetry/exporter-logs-otlp-proto ${packageVersion('@opentelemetry/exporter-logs-otlp-proto')}.`,
    `- This run: ${settings.rounds} round(s) × ${PIPELINES.length} pipelines × ${WORKLOADS.length} workloads = ${runs.length} processes, ${int(settings.records)} measured records each after a warm-up of ${int(settings.warmup)}; it took ${minutes} min. \`BENCH_ROUNDS\` (default 3), \`BENCH_RECORDS\` (default 200,000) and \`BENCH_WARMUP\` (default 50,000) change these.`,
    '',
    '## Pipelines',
    '',
    'Every pipeline is `winston.createLogger({ format: winston.format.json(), transports: [transport] })` with one transport:',
    '',
    '- `floor`: a `winston-transport` whose `log()` only calls its callback: the cost of winston itself.',
    '- `official`: `@opentelemetry/winston-transport` (`OpenTelemetryTransportV3`), the global LoggerProvider set to `new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url }) })] })`: the stock defaults, a queue of 2048 records, batches of 512, one export at a time. Records that do not fit the queue are dropped; they are reported as loss, not hidden.',
    '- `ours-stock`: `new OtelTransport({ loggerProvider })` with the same stock provider.',
    '- `ours`: `new OtelTransport({ loggerProvider: new LoggerProvider({ processors: [new LogPipeline({ url })] }) })`, default options: a queue of 64 MiB of encoded records, batches of 512, two exports in flight; the request context adds 3 attributes per record (`http.request.id`, `user.id`, `http.route`).',
    '- `ours-same`: `ours` with `includeRequestContext: false`: the same record on the wire as `official`.',
    "- `ours-redact`: `ours` with `new RedactionProcessor({ next: pipeline })` as the provider's processor: the default rules, as the preload installs them (the benchmark record has nothing to redact, which is the common case: the cost of looking).",
    `- \`ours-spill\`: \`ours\` with \`{ maxQueueBytes: ${SPILL_QUEUE_BYTES / 1024 / 1024} MiB, spool: <a new temporary folder> }\`: in the burst, what does not fit in memory is spilled to the spool and sent from there (the cost of spilling); in the steady workload memory is enough and the spool stays idle (the cost of having one).`,
    '- `ours-disk`: `ours` with `{ spool: { dir: <a new temporary folder>, writeThrough: true } }`: every batch is written to the spool before it is sent, and sent from there, one at a time (the cost of the disk on every record); it does not call `fsync` (the default).',
    '- `ours-fsync`: `ours-disk` with `fsync: true`: the spool flushes its file to the disk after every batch, and before the batch is sent.',
    '',
    'Both exporters send OTLP/HTTP protobuf to a receiver on 127.0.0.1 in the orchestrating process, which counts the records of each request by walking the protobuf structure without decoding values, and answers 200 at once. Every `OTEL_*` variable is removed from the environment of the scenarios, so every default is the code default.',
    '',
    '## Method',
    '',
    "- The record: `logger.info('order placed', { orderId, userId, items, total, cart: { skus: [3], coupon: null } })`, every call inside an active span (sdk-trace, AsyncLocalStorage context manager) and a request context (`runWithRequestContext({ requestId, userId, route })`).",
    '- Workloads: **steady** logs N records in requests of 100 calls, each request in its own span and request context, and yields to the event loop (`setImmediate`) after each; **burst** logs N records in one synchronous loop inside one span and request context, then waits for delivery.',
    '- Each run is a fresh process (`node --expose-gc`) with one pipeline and one workload. It first logs the warm-up with the steady workload, so every pipeline is measured in steady state, flushes, and runs `gc()`; then the measured interval starts.',
    '- **records/s**: N ÷ the time from the first measured log call until every record was exported (`await provider.forceFlush()`, which for `ours` is `LogPipeline.forceFlush()`); for the floor, until the loop was done and winston had handed every record to the transport.',
    '- **CPU µs/record**: user + system CPU of the main thread (`process.threadCpuUsage()`) over the same interval, ÷ N. Main thread only: V8’s GC helper threads, the libuv thread pool and the receiver (another process) are not counted.',
    '- **Event-loop delay p99**: `perf_hooks.monitorEventLoopDelay({ resolution: 1 })`. Steady: over the whole interval. Burst: from the end of the synchronous loop until delivery, i.e. during the export (the loop itself blocks the event loop by construction; its duration is the **loop** column). “—”: no sample, the phase was shorter than the resolution (the floor has no export phase).',
    '- **RSS growth**: the peak of `process.memoryUsage.rss()`, sampled every 10 ms by an unref’d timer and right after the burst loop, minus RSS at the start of the interval.',
    '- **Loss**: N − the records the receiver got for the measured interval (it notes its count when the warm-up has been flushed, and after the run waits until the count stops growing, at most 30 s). For the six LogPipeline pipelines, `LogPipeline.stats()` is checked as well: every measured record created and exported, no drops, nothing held (in memory or in the spool) after the flush, `created + recovered = exported + droppedTotal + queued + inFlight + spooled`, and records in the spool at some point for `ours-disk`, `ours-fsync` and in `ours-spill`’s burst. A failed check fails the benchmark (exit code 1); a loss of the stock pipelines is only reported.',
    `- Rounds: each round runs every pipeline with every workload once, in a fresh process each, alternating the order of the pipelines from one round to the next, so that a drift in the speed of the machine hits all of them alike. Tables give the median over rounds${settings.rounds > 1 ? ' and (min–max)' : ''}; ratios are taken within each round, then the median.`,
    '',
  ];

  for (const workload of WORKLOADS) {
    lines.push(
      workload === 'steady'
        ? `## Steady: ${int(settings.records)} records, a yield every 100 calls`
        : `## Burst: ${int(settings.records)} records in one synchronous loop`,
      '',
      ...table(runs, workload),
      '',
      ...ratioLines(runs, workload),
      ...spoolNotes(runs, workload),
    );
    if (workload === 'burst') lines.push(...burstNotes(runs));
    lines.push('');
  }

  const startup = startupLines(settings.startup);
  const goals = [...evaluateGoals(runs), ...startup.goals];
  lines.push(...policyLines(runs, settings.policyCosts));
  lines.push(...startup.lines);
  lines.push(
    '## Goals',
    '',
    `Computed from the runs above: ${goals.filter((g) => g.met).length} of ${goals.length} met.`,
    '',
    '| goal | workload | measured | target | |',
    '| --- | --- | ---: | ---: | --- |',
    ...goals.map(
      (g) =>
        `| ${g.goal} | ${g.workload} | ${g.measured} | ${g.target} | ${g.met ? 'MET' : '**NOT MET**'} |`,
    ),
    '',
  );
  if (problems.length > 0) {
    lines.push(
      '## Failed checks',
      '',
      'LogPipeline must lose nothing and account for every record; these runs did not:',
      '',
      ...problems.map((p) => `- ${p}`),
      '',
    );
  }
  return lines.join('\n');
}
