/**
 * The measurements of one interval in a scenario process: wall time,
 * main-thread CPU, peak RSS growth and event-loop delay.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const MiB = 1024 * 1024;
const RSS_SAMPLE_MS = 10;

export interface IntervalResult {
  readonly wallMs: number;
  /** User + system CPU of the main thread only: GC helper threads and the libuv pool are not in it. */
  readonly cpuUs: number;
  /** Peak RSS during the interval minus RSS at its start. */
  readonly rssGrowthMiB: number;
}

export interface Interval {
  /** Takes an RSS sample now (the timer cannot while a synchronous loop runs). */
  sampleRss(): void;
  stop(): IntervalResult;
}

/** Starts the clock, the main-thread CPU counter and an RSS sampler every 10 ms (unref'd). */
export function startInterval(): Interval {
  const rssStart = process.memoryUsage.rss();
  let rssPeak = rssStart;
  const sampleRss = (): void => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  };
  const sampler = setInterval(sampleRss, RSS_SAMPLE_MS);
  sampler.unref();
  const cpuStart = process.threadCpuUsage();
  const wallStart = process.hrtime.bigint();
  return {
    sampleRss,
    stop() {
      const wallMs = Number(process.hrtime.bigint() - wallStart) / 1e6;
      const cpu = process.threadCpuUsage(cpuStart);
      clearInterval(sampler);
      sampleRss();
      return { wallMs, cpuUs: cpu.user + cpu.system, rssGrowthMiB: (rssPeak - rssStart) / MiB };
    },
  };
}

export interface LoopDelayResult {
  /** Undefined when the interval was too short for one sample. */
  readonly p99Ms: number | undefined;
  readonly maxMs: number | undefined;
}

export interface LoopDelay {
  stop(): LoopDelayResult;
}

/** Samples the event-loop delay with a 1 ms timer (`monitorEventLoopDelay`). */
export function startLoopDelay(): LoopDelay {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      if (histogram.count === 0) return { p99Ms: undefined, maxMs: undefined };
      return { p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 };
    },
  };
}
