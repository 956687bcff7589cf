/**
 * What the orchestrator (`transport.bench.ts`) and a scenario process
 * (`scenario.ts`) share: the names of the pipelines and workloads, and the
 * messages they exchange over the IPC channel:
 *
 * ```
 *   scenario                          orchestrator
 *   warm-up, flush ── { warmed } ───▶ notes the receiver's count
 *   waits          ◀── { measure } ── (so the measured records are told apart)
 *   measures       ── { measured } ─▶ waits for the receiver, computes the loss
 * ```
 */

/** The pipelines under test, each a winston logger with `format.json()` and one transport. */
export const PIPELINES = [
  'floor',
  'official',
  'ours-stock',
  'ours',
  'ours-same',
  'ours-redact',
  'ours-spill',
  'ours-disk',
  'ours-fsync',
] as const;
export type Pipeline = (typeof PIPELINES)[number];

/** The pipelines built on LogPipeline (every `ours` but the stock one): they must lose nothing, and their accounting is checked. */
export const LOG_PIPELINES: readonly Pipeline[] = PIPELINES.filter(
  (p) => p.startsWith('ours') && p !== 'ours-stock',
);

/** `steady`: a yield every 100 calls; `burst`: every record in one synchronous loop. */
export const WORKLOADS = ['steady', 'burst'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** LogPipeline's `stats()` over the measured interval, for the pipelines that have one. */
export interface PipelineCounts {
  /** Records the pipeline was given during the interval. */
  readonly created: number;
  /** Records the receiver acknowledged during the interval. */
  readonly exported: number;
  /** Drops during the interval, by reason (only the reasons that occurred). */
  readonly dropped: Readonly<Record<string, number>>;
  /** Still held at the end of the interval: queued + in flight + spooled. */
  readonly held: number;
  /** Records written to the spool during the interval (`stats().spilled`). */
  readonly spilled: number;
  /** Whether `created + recovered = exported + droppedTotal + queued + inFlight + spooled` held at the end. */
  readonly identityHolds: boolean;
  /** Encoded bytes held (queued + in flight) right after the burst loop. */
  readonly heldBytesAfterLoop?: number;
}

/** What one scenario process measured over its measured interval of `records` log calls. */
export interface Measurement {
  readonly records: number;
  /** From the first measured log call until every record was exported (floor: delivered to the transport). */
  readonly wallMs: number;
  /** Main-thread user + system CPU over the same interval (`process.threadCpuUsage()`). */
  readonly cpuUs: number;
  /** Event-loop delay p99 (steady: the whole interval; burst: after the loop), when sampled. */
  readonly loopDelayP99Ms: number | undefined;
  readonly loopDelayMaxMs: number | undefined;
  /** Peak RSS during the interval minus RSS at its start. */
  readonly rssGrowthMiB: number;
  /** Burst only: how long the synchronous loop took. */
  readonly burstLoopMs?: number;
  readonly pipeline?: PipelineCounts;
}

export type ScenarioMessage =
  { readonly type: 'warmed' } | { readonly type: 'measured'; readonly measurement: Measurement };

export interface OrchestratorMessage {
  readonly type: 'measure';
}
