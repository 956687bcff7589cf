/**
 * The runs of a benchmark and what is derived from them: rates, CPU per
 * record, losses, medians, ratios taken round by round, and the checks a run
 * of LogPipeline must pass.
 */
import { LOG_PIPELINES, type Measurement, type Pipeline, type Workload } from './run-protocol.js';

export interface Run {
  readonly round: number;
  readonly pipeline: Pipeline;
  readonly workload: Workload;
  readonly measurement: Measurement;
  /** Records the receiver got for the measured interval; undefined for the floor, which exports nothing. */
  readonly received: number | undefined;
}

export const rate = (run: Run): number => run.measurement.records / (run.measurement.wallMs / 1000);
export const cpuPerRecord = (run: Run): number => run.measurement.cpuUs / run.measurement.records;
export const loss = (run: Run): number | undefined =>
  run.received === undefined ? undefined : run.measurement.records - run.received;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const defined = <T>(values: readonly (T | undefined)[]): T[] =>
  values.filter((v): v is T => v !== undefined);

export const runsOf = (runs: readonly Run[], pipeline: Pipeline, workload: Workload): Run[] =>
  runs.filter((r) => r.pipeline === pipeline && r.workload === workload);

/** The runs of `a` and `b` in each round that ran both, in round order. */
export function pairsByRound(
  runs: readonly Run[],
  workload: Workload,
  a: Pipeline,
  b: Pipeline,
): [Run, Run][] {
  const pairs: [Run, Run][] = [];
  for (const ra of runsOf(runs, a, workload)) {
    const rb = runsOf(runs, b, workload).find((r) => r.round === ra.round);
    if (rb !== undefined) pairs.push([ra, rb]);
  }
  return pairs;
}

/** `measure(a) ÷ measure(b)` within each round that ran both, in round order. */
export const ratiosByRound = (
  runs: readonly Run[],
  workload: Workload,
  a: Pipeline,
  b: Pipeline,
  measure: (run: Run) => number,
): number[] => pairsByRound(runs, workload, a, b).map(([ra, rb]) => measure(ra) / measure(rb));

/** LogPipeline must lose nothing and account for every record; what is wrong with `run`, if anything. */
export function problemsOf(run: Run): string[] {
  if (!LOG_PIPELINES.includes(run.pipeline)) return [];
  const problems: string[] = [];
  const n = run.measurement.records;
  const lost = loss(run) ?? 0;
  if (lost !== 0) problems.push(`the receiver got ${run.received} of ${n} records`);
  const counts = run.measurement.pipeline;
  if (counts === undefined) return [...problems, 'no pipeline stats'];
  if (counts.created !== n) problems.push(`stats().created grew by ${counts.created}, not ${n}`);
  if (counts.exported !== n) problems.push(`stats().exported grew by ${counts.exported}, not ${n}`);
  if (Object.keys(counts.dropped).length > 0)
    problems.push(`stats().dropped: ${JSON.stringify(counts.dropped)}`);
  if (counts.held !== 0) problems.push(`${counts.held} records still held after the flush`);
  if (!counts.identityHolds)
    problems.push('created + recovered ≠ exported + droppedTotal + queued + inFlight + spooled');
  // The spool pipelines must have used it: a benchmark of an idle spool would measure nothing.
  if ((run.pipeline === 'ours-disk' || run.pipeline === 'ours-fsync') && counts.spilled === 0)
    problems.push('no record went through the spool');
  if (run.pipeline === 'ours-spill' && run.workload === 'burst' && counts.spilled === 0)
    problems.push('no record was spilled to the spool');
  return problems;
}
