/**
 * The goals of the export pipeline, each checked against the runs of one
 * benchmark: OtelTransport + LogPipeline (`ours`, default options) against
 * the official stack and the floor. Ratios are taken round by round, then
 * the median; absolute measures are medians over rounds.
 */
import {
  cpuPerRecord,
  defined,
  loss,
  median,
  rate,
  ratiosByRound,
  runsOf,
  type Run,
} from './results.js';
import { WORKLOADS, type Workload } from './run-protocol.js';

export interface GoalResult {
  readonly goal: string;
  /** The workload it is measured in, or `start-up` for the start-up benchmark. */
  readonly workload: Workload | 'start-up';
  readonly measured: string;
  readonly target: string;
  readonly met: boolean;
}

const MIN_RATE_RATIO = 2;
const MAX_CPU_RATIO = 1.5;
const MAX_LOOP_DELAY_P99_MS = 5;
const MAX_BURST_RSS_GROWTH_MIB = 64;

export function evaluateGoals(runs: readonly Run[]): GoalResult[] {
  const results: GoalResult[] = [];
  for (const workload of WORKLOADS) {
    const ours = runsOf(runs, 'ours', workload);
    const rateRatio = median(ratiosByRound(runs, workload, 'ours', 'official', rate));
    results.push({
      goal: '`ours` records/s ÷ `official` records/s',
      workload,
      measured: `${rateRatio.toFixed(2)}×`,
      target: `≥ ${MIN_RATE_RATIO}×`,
      met: rateRatio >= MIN_RATE_RATIO,
    });
    const lost = defined(ours.map(loss));
    const totalLost = lost.reduce((a, b) => a + b, 0);
    const logged = ours.reduce((a, r) => a + r.measurement.records, 0);
    results.push({
      goal: '`ours` loss, every run',
      workload,
      measured: `${totalLost.toLocaleString('en-US')} of ${logged.toLocaleString('en-US')}`,
      target: '0',
      met: lost.length === ours.length && totalLost === 0,
    });
    const cpuRatio = median(ratiosByRound(runs, workload, 'ours', 'floor', cpuPerRecord));
    results.push({
      goal: '`ours` CPU µs/record ÷ `floor` CPU µs/record',
      workload,
      measured: `${cpuRatio.toFixed(2)}×`,
      target: `≤ ${MAX_CPU_RATIO}×`,
      met: cpuRatio <= MAX_CPU_RATIO,
    });
    const delays = defined(ours.map((r) => r.measurement.loopDelayP99Ms));
    const delay = delays.length > 0 ? median(delays) : undefined;
    results.push({
      goal: `\`ours\` event-loop delay p99 during export (${workload === 'burst' ? 'after the loop' : 'whole interval'})`,
      workload,
      measured: delay === undefined ? 'not sampled' : `${delay.toFixed(2)} ms`,
      target: `≤ ${MAX_LOOP_DELAY_P99_MS} ms`,
      met: delay !== undefined && delay <= MAX_LOOP_DELAY_P99_MS,
    });
    if (workload === 'burst') {
      const rss = median(ours.map((r) => r.measurement.rssGrowthMiB));
      const floor = median(runsOf(runs, 'floor', workload).map((r) => r.measurement.rssGrowthMiB));
      results.push({
        goal: '`ours` RSS growth',
        workload,
        measured: `${rss.toFixed(1)} MiB (\`floor\`: ${floor.toFixed(1)} MiB)`,
        target: `≤ ${MAX_BURST_RSS_GROWTH_MIB} MiB`,
        met: rss <= MAX_BURST_RSS_GROWTH_MIB,
      });
    }
  }
  return results;
}
