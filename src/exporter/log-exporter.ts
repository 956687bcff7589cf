import type { DropReason } from '../pipeline/accounting.js';
import type { AttemptResult, Sender } from './attempt.js';
import { ExportAborter, sleep } from './abort.js';
import { backoffMillis, type RetryPolicy } from './backoff.js';

/** How an export operation ended, after every retry. */
export interface ExportOutcome {
  /** Records the collector acknowledged. */
  readonly exported: number;
  /** Why the rest of the request's records were dropped, if any were. */
  readonly reason: DropReason;
  /** `error.type` of the final attempt; `undefined` when every record was acknowledged. */
  readonly errorType: string | undefined;
  /** The collector refused the request for its size (HTTP 413): it may be split and sent again. */
  readonly tooLarge: boolean;
}

/** What the exporter reports as it goes, for warnings and self-metrics. */
export interface ExporterHooks {
  /** An attempt failed and the request will be tried again in `waitMillis`. */
  onRetry(result: AttemptResult & { outcome: 'retryable' }, waitMillis: number): void;
  /** An export operation concluded (one observation per operation, retries included). */
  onFinished(seconds: number, errorType: string | undefined, status: number | undefined): void;
}

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The sender chain of the pipeline, one job per layer as in the Collector's
 * exporterhelper: a deadline on each attempt, then retry with backoff, then
 * accounting of the outcome.
 *
 * While the collector fails, exactly one request probes it, at the backoff
 * interval; every other export waits for the probe instead of adding its own
 * requests. When the probe gets through, the waiting exports go at once, in
 * the order they were started.
 */
export class LogExporter {
  readonly #sender: Sender;
  readonly #policy: RetryPolicy;
  readonly #attemptTimeoutMillis: number;
  readonly #hooks: ExporterHooks;
  #active = 0;
  /** Failed attempts in a row, across requests: the backoff grows with the outage, not per request. */
  #failures = 0;
  /** The export whose attempts probe the collector while it fails. */
  #probe: object | undefined;
  /**
   * While the collector fails, no attempt before this time (`performance.now()`):
   * the backoff holds even when the probe is given up and another export takes over.
   */
  #notBefore = 0;
  #recovered: Deferred = deferred();
  readonly #aborter = new ExportAborter();
  #closed = false;

  constructor(
    sender: Sender,
    policy: RetryPolicy,
    attemptTimeoutMillis: number,
    hooks: ExporterHooks,
  ) {
    this.#sender = sender;
    this.#policy = policy;
    this.#attemptTimeoutMillis = attemptTimeoutMillis;
    this.#hooks = hooks;
  }

  get sender(): Sender {
    return this.#sender;
  }

  /** Whether the collector is failing: a request probes it, and the others wait. */
  get failing(): boolean {
    return this.#probe !== undefined;
  }

  /** Whether another export may start now, with at most `limit` at once. */
  canStart(limit: number): boolean {
    if (this.#closed) return false;
    return this.#active < limit && (this.#probe === undefined || this.#active === 0);
  }

  /**
   * Sends one request of `records` records, retrying as the policy allows.
   * It counts as running from this call on, while `request` is still being
   * made. Never rejects.
   */
  async export(
    request: readonly Buffer[] | Promise<readonly Buffer[]>,
    records: number,
  ): Promise<ExportOutcome> {
    this.#active++;
    const token = {};
    const signal = this.#aborter.signal;
    const started = performance.now();
    /** The HTTP status of the last attempt, for the duration metric. */
    let lastStatus: number | undefined;
    let outcome: ExportOutcome;
    try {
      const pieces = await request;
      outcome = await this.#attempts(
        token,
        pieces,
        records,
        signal,
        started,
        (r) => (lastStatus = r.status),
      );
    } catch (error) {
      // Not expected: the senders never reject. Keep the records counted.
      outcome = { exported: 0, reason: 'rejected', errorType: String(error), tooLarge: false };
    } finally {
      this.#active--;
      if (this.#probe === token) this.#releaseProbe();
    }
    this.#hooks.onFinished((performance.now() - started) / 1000, outcome.errorType, lastStatus);
    return outcome;
  }

  async #attempts(
    token: object,
    request: readonly Buffer[],
    records: number,
    signal: AbortSignal,
    started: number,
    seen: (result: AttemptResult) => void,
  ): Promise<ExportOutcome> {
    const maxElapsed = this.#policy.maxElapsedMillis;
    for (;;) {
      if (signal.aborted) return shutdownOutcome();
      const early = this.#notBefore - performance.now();
      if (this.#probe === undefined && early > 0) {
        // The last probe was given up during its backoff: this one keeps to it.
        if (performance.now() - started + early > maxElapsed) return exhausted('retries_exhausted');
        await sleep(early, signal);
        continue;
      }
      if (this.#probe !== undefined && this.#probe !== token) {
        // Another export is probing the collector: wait for it to get through.
        const left = maxElapsed - (performance.now() - started);
        if (left <= 0) return exhausted('retries_exhausted');
        await sleep(left, signal, this.#recovered.promise);
        continue;
      }
      const result = await this.#sender.send(request, this.#attemptTimeoutMillis, signal);
      seen(result);
      if (signal.aborted) return shutdownOutcome();
      if (result.outcome === 'success') {
        this.#failures = 0;
        this.#notBefore = 0;
        if (this.#probe === token) this.#releaseProbe();
        const rejected = Math.min(result.rejected, records);
        return {
          exported: records - rejected,
          reason: 'rejected',
          errorType: rejected > 0 ? 'rejected' : undefined,
          tooLarge: false,
        };
      }
      if (result.outcome === 'failed') {
        // The collector answered: it is up, whatever it thought of this request.
        this.#failures = 0;
        this.#notBefore = 0;
        if (this.#probe === token) this.#releaseProbe();
        return {
          exported: 0,
          reason: result.tooLarge ? 'too_large' : 'rejected',
          errorType: result.errorType,
          tooLarge: result.tooLarge,
        };
      }
      this.#failures++;
      this.#probe ??= token;
      if (this.#probe !== token) continue;
      const wait = backoffMillis(this.#policy, this.#failures, result.retryAfterMillis);
      if (performance.now() - started + wait > maxElapsed) return exhausted(result.errorType);
      this.#notBefore = performance.now() + wait;
      // The hook may give this export up (the pipeline moves it to its spool): then it ends now.
      this.#hooks.onRetry(result, wait);
      await sleep(wait, signal);
    }
  }

  #releaseProbe(): void {
    this.#probe = undefined;
    const recovered = this.#recovered;
    this.#recovered = deferred();
    recovered.resolve();
  }

  /**
   * Gives up on every export now running: each concludes at once, dropped
   * with reason `shutdown`. Exports started later work as usual.
   */
  abort(): void {
    this.#aborter.abort();
  }

  /** Aborts what runs and closes the connections; nothing is sent after. */
  shutdown(): void {
    this.#closed = true;
    this.abort();
    this.#sender.shutdown();
  }
}

function shutdownOutcome(): ExportOutcome {
  return { exported: 0, reason: 'shutdown', errorType: 'shutdown', tooLarge: false };
}

function exhausted(errorType: string): ExportOutcome {
  return { exported: 0, reason: 'retries_exhausted', errorType, tooLarge: false };
}
