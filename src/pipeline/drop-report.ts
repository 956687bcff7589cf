import { Console } from 'node:console';
import { NODE_WARNING_TYPE, warn } from '../warnings.js';
import {
  DROP_REASONS,
  noDrops,
  POLICY_DROP_REASONS,
  type DropReason,
  type PipelineStats,
} from './accounting.js';

/** At most one Node.js warning about drops per this interval. */
export const DROP_WARNING_INTERVAL_MS = 30_000;

/** The Node.js warning type and code of dropped records (`process.on('warning')` sees them). */
export const DROP_WARNING_TYPE = NODE_WARNING_TYPE;
export const DROP_WARNING_CODE = 'OTW014';

const REASON_NAMES: Record<DropReason, string> = {
  queue_full: 'queue full',
  too_large: 'too large',
  rejected: 'rejected by the collector',
  retries_exhausted: 'retries exhausted',
  shutdown: 'shutdown deadline',
  already_shutdown: 'after shutdown',
  unencodable: 'could not be encoded',
  spool_full: 'spool full',
  sampled: 'sampled out',
  rate_limited: 'rate limited',
};

const isPolicyDrop = (reason: DropReason): boolean =>
  (POLICY_DROP_REASONS as readonly DropReason[]).includes(reason);

/** Drops that were not a policy's choice: the ones worth a warning. */
function unintendedDrops(stats: PipelineStats): number {
  let n = stats.droppedTotal;
  for (const reason of POLICY_DROP_REASONS) n -= stats.dropped[reason];
  return n;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** "1,200 queue full, 34 shutdown deadline" */
export function describeDrops(dropped: Readonly<Record<DropReason, number>>): string {
  return DROP_REASONS.filter((reason) => dropped[reason] > 0)
    .map((reason) => `${count(dropped[reason])} ${REASON_NAMES[reason]}`)
    .join(', ');
}

/**
 * Tells the user about dropped records without the pipeline that drops
 * them: a Node.js warning (`process.emitWarning`, printed to stderr unless
 * `--no-warnings`) at most every 30 s while records are dropped, and one
 * line on stderr when the pipeline shuts down having dropped any.
 */
export class DropReporter {
  readonly #where: string;
  readonly #enabled: boolean;
  readonly #stats: () => PipelineStats;
  #last = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  readonly #pending = noDrops();
  #pendingTotal = 0;
  readonly #noticed = new Map<string, number>();
  /** `droppedTotal/spooled` when the summary was last printed. */
  #summarized = '0/0';

  /** @param where - the pipeline's destination, for the messages */
  constructor(where: string, enabled: boolean, stats: () => PipelineStats) {
    this.#where = where;
    this.#enabled = enabled;
    this.#stats = stats;
  }

  /**
   * Records were dropped: warn now, or at the end of the current interval.
   * Drops at the shutdown deadline are left to the summary, which follows them;
   * drops a policy chose (sampling, rate limits) are counted, not warned about.
   */
  dropped(reason: DropReason, n: number): void {
    if (reason === 'shutdown' || isPolicyDrop(reason)) return;
    this.#pending[reason] += n;
    this.#pendingTotal += n;
    const now = Date.now();
    if (now - this.#last >= DROP_WARNING_INTERVAL_MS) {
      this.#flush(now);
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.#flush(Date.now());
        },
        this.#last + DROP_WARNING_INTERVAL_MS - now,
      );
      this.#timer.unref();
    }
  }

  #flush(now: number): void {
    if (this.#pendingTotal === 0) return;
    const what = describeDrops(this.#pending);
    const total = this.#pendingTotal;
    for (const reason of DROP_REASONS) this.#pending[reason] = 0;
    this.#pendingTotal = 0;
    this.#last = now;
    const stats = this.#stats();
    const message =
      `otel-winston dropped ${count(total)} log record(s) for ${this.#where}: ${what}; ` +
      `${count(stats.droppedTotal)} of ${count(stats.created)} since start ` +
      `(LogPipeline#stats() has the details)`;
    warn('OTW014', message);
    if (!this.#enabled) return;
    try {
      process.emitWarning(message, { type: DROP_WARNING_TYPE, code: DROP_WARNING_CODE });
    } catch {
      // A warning listener that throws must not break a log call.
    }
  }

  /**
   * Says `message` once in a Node.js warning with `code` (and in `diag`),
   * at most every 30 s per code: records going to disk, a disk that fails,
   * damaged data in the spool.
   */
  notice(code: 'OTW016' | 'OTW017' | 'OTW018', message: string): void {
    warn(code, message);
    const now = Date.now();
    if (!this.#enabled || now - (this.#noticed.get(code) ?? -Infinity) < DROP_WARNING_INTERVAL_MS) {
      return;
    }
    this.#noticed.set(code, now);
    try {
      process.emitWarning(message, { type: DROP_WARNING_TYPE, code });
    } catch {
      // A warning listener that throws must not break a log call.
    }
  }

  /**
   * When the pipeline ends (or the process does): one line on stderr if
   * records were dropped (other than by a policy's choice), or wait in the
   * spool, and that was not said yet, with the totals. Called at every end,
   * it says each drop once.
   * Synchronous, so that it works in a process `exit` handler.
   */
  summarize(spoolDir?: string): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const stats = this.#stats();
    const unintended = unintendedDrops(stats);
    const said = `${unintended}/${stats.spooled}`;
    if (said === this.#summarized || !this.#enabled) return;
    this.#summarized = said;
    if (unintended === 0 && stats.spooled === 0) return;
    const all = stats.created + stats.recovered;
    let line =
      unintended > 0
        ? `otel-winston: ${count(stats.droppedTotal)} of ${count(all)} log records were not delivered ` +
          `to ${this.#where} (${describeDrops(stats.dropped)}); ${count(stats.exported)} were.`
        : `otel-winston: ${count(stats.exported)} of ${count(all)} log records were delivered to ${this.#where}.`;
    if (stats.spooled > 0) {
      line += ` ${count(stats.spooled)} wait in the spool at ${spoolDir}, to be sent by the next process that uses it.`;
    }
    try {
      // A Console of its own: the app may have replaced console.error, even with a logger.
      new Console({ stdout: process.stderr, stderr: process.stderr }).error(line);
    } catch {
      // stderr closed: nowhere left to say it.
    }
  }
}
