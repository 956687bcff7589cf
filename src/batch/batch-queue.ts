/**
 * The pipeline's memory: records encoded to OTLP protobuf as they arrive,
 * bounded in bytes.
 *
 * ```
 *   emit ──encode──▶ open batch of its scope ──seal──▶ sealed batches (FIFO) ──take──▶ exporter
 *                    (a reused writer buffer)   │       oldest first
 *                                               └─ at maxExportBatchSize records,
 *                                                  maxExportBatchBytes bytes,
 *                                                  the schedule delay, or a flush
 * ```
 *
 * A record is encoded straight into its scope's open batch, as one
 * `ScopeLogs.log_records` field; a sealed batch is those fields in one Buffer
 * of exactly their size, sent as they are with the resource and scope around
 * them. The byte cap covers everything the pipeline holds: open and sealed
 * batches here, and the batches in flight ({@link Accounting.heldBytes}). A
 * record that does not fit is not queued, and is counted: `queue_full`, or
 * `too_large` when it alone is larger than a batch may be.
 */
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { LogsEnvelope } from '../otlp/encode-logs.js';
import { sleep } from '../exporter/abort.js';
import { ProtobufWriter } from '../otlp/protobuf-writer.js';
import type { Accounting, DropReason } from '../pipeline/accounting.js';

/** A writer that grew past this while holding large records is let go when its batch is sealed. */
const KEEP_WRITER_BYTES = 1024 * 1024;
const INITIAL_WRITER_BYTES = 64 * 1024;

/** Where a batch's resource and scope come from. */
export interface EnvelopeSource {
  /** The envelope, waiting for a resource that is still detecting at most `waitMillis`. Never rejects. */
  envelope(waitMillis: number): Promise<LogsEnvelope>;
  /** The envelope as it is now, without waiting. */
  envelopeNow(): LogsEnvelope;
}

/** An envelope known already: a batch read back from the spool. */
export class FixedEnvelope implements EnvelopeSource {
  constructor(readonly fixed: LogsEnvelope) {}

  envelope(): Promise<LogsEnvelope> {
    return Promise.resolve(this.fixed);
  }

  envelopeNow(): LogsEnvelope {
    return this.fixed;
  }
}

/** The records of one resource and scope that are not sealed yet. */
export class BatchTarget implements EnvelopeSource {
  writer = new ProtobufWriter(INITIAL_WRITER_BYTES);
  /** Records in the writer. */
  records = 0;
  #envelope: LogsEnvelope | undefined;

  constructor(
    readonly resource: Resource,
    readonly scope: InstrumentationScope,
  ) {}

  /**
   * The resource and scope to send around this target's batches. A resource
   * still detecting attributes (a detector that is slow) is waited for at
   * most `waitMillis`; then the batch goes with what it has, and the next
   * one waits again. Never rejects.
   */
  async envelope(waitMillis: number): Promise<LogsEnvelope> {
    if (this.#envelope !== undefined) return this.#envelope;
    const resource = this.resource as Resource & {
      asyncAttributesPending?: boolean;
      waitForAsyncAttributes?: () => Promise<void>;
    };
    if (resource.asyncAttributesPending && resource.waitForAsyncAttributes) {
      const detected = resource.waitForAsyncAttributes().catch(() => undefined);
      await sleep(waitMillis, NEVER, detected);
    }
    return this.envelopeNow();
  }

  envelopeNow(): LogsEnvelope {
    if (this.#envelope !== undefined) return this.#envelope;
    const envelope = LogsEnvelope.of(this.resource, this.scope);
    const pending = (this.resource as { asyncAttributesPending?: boolean }).asyncAttributesPending;
    if (!pending) this.#envelope = envelope;
    return envelope;
  }
}

/** A signal that never aborts. */
const NEVER = new AbortController().signal;

/** Sealed records of one target, ready to send. */
export class Batch {
  constructor(
    readonly target: EnvelopeSource,
    /** Concatenated `ScopeLogs.log_records` fields. */
    readonly payload: Buffer,
    readonly records: number,
    /** Order of sealing: a flush waits for the batches sealed before it. */
    readonly sequence: number,
    /** A half of a batch that was sent before (and refused as too large). */
    readonly again = false,
  ) {}

  get bytes(): number {
    return this.payload.length;
  }

  /**
   * This batch in two halves by record, for a collector that refused it as
   * too large; `undefined` for a single record.
   */
  halve(): [Batch, Batch] | undefined {
    if (this.records < 2) return undefined;
    const half = Math.floor(this.records / 2);
    let pos = 0;
    for (let i = 0; i < half; i++) {
      // Each field: tag (one byte), varint length, the record.
      pos++;
      let length = 0;
      let shift = 0;
      let byte: number;
      do {
        byte = this.payload[pos++]!;
        length += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte >= 0x80);
      pos += length;
    }
    return [
      new Batch(this.target, this.payload.subarray(0, pos), half, this.sequence, true),
      new Batch(this.target, this.payload.subarray(pos), this.records - half, this.sequence, true),
    ];
  }
}

/** Limits of a {@link BatchQueue}. */
export interface BatchLimits {
  readonly maxQueueBytes: number;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
}

export class BatchQueue {
  readonly #accounting: Accounting;
  readonly #limits: BatchLimits;
  /**
   * Open batches, by scope object (each `Logger` has its own) and resource
   * (one per provider, so nearly always one per scope).
   */
  readonly #targets = new Map<object, BatchTarget[]>();
  readonly #sealed: Batch[] = [];
  #head = 0;
  #nextSequence = 0;
  /** Records in open batches, all targets together. */
  #openRecords = 0;
  readonly #onFirstOpen: () => void;
  readonly #onSealed: () => void;
  /**
   * Writes a sealed batch to the spool, when there is one: a full queue then
   * spills its oldest batches to disk instead of refusing a record.
   */
  #spill: ((batch: Batch) => boolean) | undefined;

  /**
   * @param onFirstOpen - called when a record arrives and nothing else was
   *   open: the schedule delay starts
   * @param onSealed - called when a batch is sealed because it is full
   */
  constructor(
    accounting: Accounting,
    limits: BatchLimits,
    onFirstOpen: () => void,
    onSealed: () => void,
  ) {
    this.#accounting = accounting;
    this.#limits = limits;
    this.#onFirstOpen = onFirstOpen;
    this.#onSealed = onSealed;
  }

  /** Lets a full queue make room by writing its oldest batches with `spill` (the spool's). */
  spillWith(spill: (batch: Batch) => boolean): void {
    this.#spill = spill;
  }

  /** The open batch of `scope` (created on first use). */
  target(resource: Resource, scope: InstrumentationScope): BatchTarget {
    let targets = this.#targets.get(scope);
    if (targets === undefined) {
      targets = [];
      this.#targets.set(scope, targets);
    }
    for (const target of targets) if (target.resource === resource) return target;
    const target = new BatchTarget(resource, scope);
    targets.push(target);
    return target;
  }

  *#allTargets(): Generator<BatchTarget> {
    for (const targets of this.#targets.values()) yield* targets;
  }

  /**
   * Takes the record just encoded at `start` of `target`'s writer (`size`
   * bytes), or rolls the writer back and counts the drop. Returns whether
   * it was queued.
   */
  admit(target: BatchTarget, start: number, size: number): boolean {
    const accounting = this.#accounting;
    const limits = this.#limits;
    let refused: DropReason | undefined;
    if (size > limits.maxBatchBytes) refused = 'too_large';
    else if (accounting.heldBytes + size > limits.maxQueueBytes) {
      start = this.#makeRoom(target, start, size);
      if (accounting.heldBytes + size > limits.maxQueueBytes) refused = 'queue_full';
    }
    if (refused !== undefined) {
      target.writer.pos = start;
      // A huge record grew the writer: give the memory back now, not at the next seal.
      if (target.writer.buf.length > KEEP_WRITER_BYTES) this.#keep(target, 0, start);
      accounting.refuse(refused);
      return false;
    }
    if (target.records > 0 && target.writer.pos > limits.maxBatchBytes) {
      // With this record the batch would be too large: seal it without, and start over.
      this.#seal(target, start);
      this.#onSealed();
    }
    target.records++;
    accounting.enqueue(size);
    if (++this.#openRecords === 1) this.#onFirstOpen();
    if (target.records >= limits.maxBatchRecords) {
      this.#seal(target, target.writer.pos);
      this.#onSealed();
    }
    return true;
  }

  /**
   * With a spool: seals what is open (the record being admitted aside) and
   * spills sealed batches, oldest first, until `size` more bytes fit or the
   * spool takes no more. Returns where the record being admitted now starts.
   */
  #makeRoom(target: BatchTarget, start: number, size: number): number {
    if (this.#spill === undefined) return start;
    for (const other of this.#allTargets()) {
      if (other !== target && other.records > 0) this.#seal(other, other.writer.pos);
    }
    if (target.records > 0) {
      this.#seal(target, start);
      start = 0;
    }
    const accounting = this.#accounting;
    let batch: Batch | undefined;
    while (accounting.heldBytes + size > this.#limits.maxQueueBytes && (batch = this.take())) {
      if (!this.#spill(batch)) {
        this.putBack([batch]);
        break;
      }
    }
    return start;
  }

  /** Seals every open batch. */
  sealAll(): void {
    for (const target of this.#allTargets()) {
      if (target.records > 0) this.#seal(target, target.writer.pos);
    }
  }

  /**
   * Seals `target`'s records before `end` into a batch; what the writer holds
   * after `end` (a record that did not fit) becomes the start of the next one.
   */
  #seal(target: BatchTarget, end: number): void {
    const w = target.writer;
    this.#sealed.push(new Batch(target, w.copy(0, end), target.records, this.#nextSequence++));
    this.#openRecords -= target.records;
    target.records = 0;
    this.#keep(target, end, w.pos);
  }

  /**
   * Keeps only `[from, to)` of `target`'s writer, moved to its start; a
   * writer that grew past {@link KEEP_WRITER_BYTES} is replaced by a small one.
   */
  #keep(target: BatchTarget, from: number, to: number): void {
    const w = target.writer;
    const rest = to - from;
    if (w.buf.length > KEEP_WRITER_BYTES) {
      const next = new ProtobufWriter(Math.max(INITIAL_WRITER_BYTES, rest));
      w.buf.copy(next.buf, 0, from, to);
      next.pos = rest;
      target.writer = next;
    } else {
      w.buf.copyWithin(0, from, to);
      w.pos = rest;
    }
  }

  /** Records not yet sealed. */
  get openRecords(): number {
    return this.#openRecords;
  }

  /** Sealed batches waiting to be sent. */
  get waiting(): number {
    return this.#sealed.length - this.#head;
  }

  /** The sequence number the next sealed batch will have. */
  get nextSequence(): number {
    return this.#nextSequence;
  }

  /** Whether a batch sealed before `sequence` still waits here. */
  holdsBefore(sequence: number): boolean {
    const head = this.#sealed[this.#head];
    return head !== undefined && head.sequence < sequence;
  }

  /** The oldest sealed batch, taken out of the queue. */
  take(): Batch | undefined {
    if (this.#head === this.#sealed.length) return undefined;
    const batch = this.#sealed[this.#head]!;
    this.#sealed[this.#head++] = undefined as unknown as Batch;
    if (this.#head === this.#sealed.length) {
      this.#sealed.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#sealed.length) {
      this.#sealed.splice(0, this.#head);
      this.#head = 0;
    }
    return batch;
  }

  /** Puts batches back at the front, to be sent next, in the order given. */
  putBack(batches: readonly Batch[]): void {
    this.#sealed.splice(this.#head, 0, ...batches);
  }

  /** Drops every record held here, open or sealed, for `reason`. */
  dropAll(reason: DropReason): void {
    for (const target of this.#allTargets()) {
      if (target.records === 0) continue;
      this.#accounting.dropQueued(reason, target.records, target.writer.pos);
      this.#openRecords -= target.records;
      target.records = 0;
      target.writer.reset();
    }
    let batch: Batch | undefined;
    while ((batch = this.take()) !== undefined) {
      this.#accounting.dropQueued(reason, batch.records, batch.bytes);
    }
  }
}
