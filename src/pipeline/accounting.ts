/**
 * Where every record a pipeline was given is, at any moment. The counters
 * move together, so that this always holds exactly:
 *
 *     created + recovered = exported + dropped (all reasons) + queued + inFlight + spooled
 *
 * `recovered` and `spooled` stay 0 without a spool.
 */
import { COUNT_POLICY_DROPS } from '../symbols.js';

/** Why a record was dropped. Each is also the `error.type` of the self-metrics. */
export const DROP_REASONS = [
  /** The queue held its maximum bytes when the record arrived. */
  'queue_full',
  /** The record alone is larger than an export batch may be. */
  'too_large',
  /** The collector refused it: a status that is not retried, or a partial success. */
  'rejected',
  /** Export was retried for longer than `retryMaxElapsedMillis`. */
  'retries_exhausted',
  /** Still queued or in flight when the shutdown (or exit) deadline passed. */
  'shutdown',
  /** Emitted after the pipeline had shut down. */
  'already_shutdown',
  /**
   * Could not be encoded even with a placeholder body and no attributes, or
   * was logged, over and over, by a getter read while encoding another record.
   */
  'unencodable',
  /** Deleted unsent from the spool, oldest first, to keep it under its size. */
  'spool_full',
  /** Left out by the sampling policy (`SamplingProcessor`), on purpose. */
  'sampled',
  /** Suppressed by the rate limit per template (`RateLimitProcessor`), on purpose; its summary records count them. */
  'rate_limited',
] as const;

/** The drops a policy made on purpose: counted like the others, but not warned about. */
export const POLICY_DROP_REASONS = [
  'sampled',
  'rate_limited',
] as const satisfies readonly DropReason[];

/** A processor with a {@link COUNT_POLICY_DROPS} method. */
export interface PolicyDropCounter {
  [COUNT_POLICY_DROPS](reason: PolicyDropReason, records: number): void;
}

/** Why a policy dropped a record on purpose; see {@link POLICY_DROP_REASONS}. */
export type PolicyDropReason = (typeof POLICY_DROP_REASONS)[number];

/** Why a record was dropped; see {@link DROP_REASONS}. */
export type DropReason = (typeof DROP_REASONS)[number];

/** A snapshot of a pipeline's accounting, from {@link LogPipeline.stats}. */
export interface PipelineStats {
  /** Records the pipeline was given. */
  readonly created: number;
  /** Records the collector acknowledged. */
  readonly exported: number;
  /** Records dropped, by reason; every reason is present, most are 0. */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** The sum of {@link PipelineStats.dropped}. */
  readonly droppedTotal: number;
  /** Records waiting in memory to be sent. */
  readonly queued: number;
  /** Records handed to the exporter and not yet acknowledged (across retries). */
  readonly inFlight: number;
  /** Encoded bytes of the queued records. */
  readonly queuedBytes: number;
  /** Encoded bytes of the records in flight. */
  readonly inFlightBytes: number;
  /** The most bytes the queue and the exports in flight may hold together. */
  readonly maxQueueBytes: number;
  /** Records in the spool on disk, waiting to be sent (this process's and recovered ones). */
  readonly spooled: number;
  /** Encoded bytes of the spooled records. */
  readonly spooledBytes: number;
  /** Records written to the spool so far, counted each time (spilled or written through). */
  readonly spilled: number;
  /** Records that earlier processes left in the spool, taken over by this one. */
  readonly recovered: number;
  /** Frames of the spool that could not be read: a damaged file. Not in the identity: their records are not known. */
  readonly corruptFrames: number;
  /** Disk operations of the spool that failed (a full disk, a folder that is not writable). */
  readonly spoolErrors: number;
}

/** A count of 0 for every drop reason. */
export function noDrops(): Record<DropReason, number> {
  return {
    queue_full: 0,
    too_large: 0,
    rejected: 0,
    retries_exhausted: 0,
    shutdown: 0,
    already_shutdown: 0,
    unencodable: 0,
    spool_full: 0,
    sampled: 0,
    rate_limited: 0,
  };
}

/** The counters behind {@link PipelineStats}, changed only through its methods. */
export class Accounting {
  created = 0;
  exported = 0;
  queued = 0;
  inFlight = 0;
  queuedBytes = 0;
  inFlightBytes = 0;
  spooled = 0;
  spooledBytes = 0;
  spilled = 0;
  recovered = 0;
  /** Frames of the spool that could not be read (their records are not known, so not counted). */
  corruptFrames = 0;
  /** Disk operations of the spool that failed. */
  spoolErrors = 0;
  /** Records handed to the exporter so far, for `otel.sdk.processor.log.processed`. */
  handedOff = 0;
  /** Records ever queued, and their bytes: the mean record size. */
  enqueuedRecords = 0;
  enqueuedBytes = 0;
  readonly dropped: Record<DropReason, number> = noDrops();
  droppedTotal = 0;
  /** Called after each drop with the reason and count, for the warnings. */
  onDrop: ((reason: DropReason, count: number) => void) | undefined;

  constructor(readonly maxQueueBytes: number) {}

  /** Bytes the pipeline holds in memory: queued and in flight. */
  get heldBytes(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  /** A record was given to the pipeline and queued. */
  enqueue(bytes: number): void {
    this.created++;
    this.queued++;
    this.queuedBytes += bytes;
    this.enqueuedRecords++;
    this.enqueuedBytes += bytes;
  }

  /** Records were given to the pipeline (or to a policy before it) and dropped at once. */
  refuse(reason: DropReason, records = 1): void {
    this.created += records;
    this.drop(reason, records);
  }

  /** Queued records leave the queue without being sent (shutdown, spool full, ...). */
  dropQueued(reason: DropReason, records: number, bytes: number): void {
    this.queued -= records;
    this.queuedBytes -= bytes;
    this.drop(reason, records);
  }

  /**
   * Queued records are handed to the exporter; `again` when they were
   * handed over before (a batch split for size), so they are processed once.
   */
  handOff(records: number, bytes: number, again: boolean): void {
    this.queued -= records;
    this.queuedBytes -= bytes;
    this.inFlight += records;
    this.inFlightBytes += bytes;
    if (!again) this.handedOff += records;
  }

  /** Queued or in-flight records were written to the spool. */
  spill(records: number, bytes: number, fromFlight: boolean): void {
    if (fromFlight) {
      this.inFlight -= records;
      this.inFlightBytes -= bytes;
    } else {
      this.queued -= records;
      this.queuedBytes -= bytes;
    }
    this.spooled += records;
    this.spooledBytes += bytes;
    this.spilled += records;
  }

  /**
   * Spooled records are handed to the exporter; `again` when they were
   * handed over before they were spooled.
   */
  unspool(records: number, bytes: number, again: boolean): void {
    this.spooled -= records;
    this.spooledBytes -= bytes;
    this.inFlight += records;
    this.inFlightBytes += bytes;
    if (!again) this.handedOff += records;
  }

  /** Records in flight from the spool were not delivered: they are spooled again. */
  respool(records: number, bytes: number): void {
    this.inFlight -= records;
    this.inFlightBytes -= bytes;
    this.spooled += records;
    this.spooledBytes += bytes;
  }

  /** Records earlier processes left in the spool are now this pipeline's. */
  recover(records: number, bytes: number): void {
    this.recovered += records;
    this.spooled += records;
    this.spooledBytes += bytes;
  }

  /** Spooled records were deleted unsent. */
  dropSpooled(reason: DropReason, records: number, bytes: number): void {
    this.spooled -= records;
    this.spooledBytes -= bytes;
    this.drop(reason, records);
  }

  /** Records in flight come back to the front of the queue (a batch split for size). */
  requeue(records: number, bytes: number): void {
    this.inFlight -= records;
    this.inFlightBytes -= bytes;
    this.queued += records;
    this.queuedBytes += bytes;
  }

  /** An export concluded: `exported` acknowledged, the rest of `records` dropped for `reason`. */
  settle(records: number, bytes: number, exported: number, reason: DropReason): void {
    this.inFlight -= records;
    this.inFlightBytes -= bytes;
    this.exported += exported;
    if (records > exported) this.drop(reason, records - exported);
  }

  private drop(reason: DropReason, count: number): void {
    this.dropped[reason] += count;
    this.droppedTotal += count;
    this.onDrop?.(reason, count);
  }

  snapshot(): PipelineStats {
    return {
      created: this.created,
      exported: this.exported,
      dropped: { ...this.dropped },
      droppedTotal: this.droppedTotal,
      queued: this.queued,
      inFlight: this.inFlight,
      queuedBytes: this.queuedBytes,
      inFlightBytes: this.inFlightBytes,
      maxQueueBytes: this.maxQueueBytes,
      spooled: this.spooled,
      spooledBytes: this.spooledBytes,
      spilled: this.spilled,
      recovered: this.recovered,
      corruptFrames: this.corruptFrames,
      spoolErrors: this.spoolErrors,
    };
  }
}
