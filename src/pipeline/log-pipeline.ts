/**
 * The export pipeline of otel-winston: an sdk-logs `LogRecordProcessor`
 * that encodes each record to OTLP protobuf as it is emitted, holds the
 * bytes in a queue bounded in bytes, and sends them with retry and backoff,
 * accounting for every record:
 *
 * ```
 *   onEmit ─encode─▶ BatchQueue ─seal─▶ sealed batches ─▶ LogExporter ─▶ Sender ─▶ collector
 *   (batch/)          (bytes)           (FIFO)            (retry, probe)  (HTTP, gRPC)
 * ```
 *
 * `stats()` and the summary at shutdown satisfy, at every moment,
 * `created = exported + dropped + queued + inFlight`.
 */
import type { Context } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { Batch, BatchQueue, BatchTarget, FixedEnvelope } from '../batch/batch-queue.js';
import type { AttemptResult } from '../exporter/attempt.js';
import { createSender } from '../exporter/create-sender.js';
import { LogExporter } from '../exporter/log-exporter.js';
import {
  appendLogRecordFields,
  appendReadableLogRecord,
  type LogRecordFields,
  type LogsEnvelope,
} from '../otlp/encode-logs.js';
import type { ProtobufWriter } from '../otlp/protobuf-writer.js';
import { describeError, warn } from '../warnings.js';
import { Accounting, type PipelineStats, type PolicyDropReason } from './accounting.js';
import { DropReporter } from './drop-report.js';
import {
  resolvePipelineSettings,
  type LogPipelineOptions,
  type PipelineSettings,
  type SpoolSettings,
} from './options.js';
import { componentName, SelfMetrics } from './self-metrics.js';
import { Spool, type SpoolFrame } from '../spool/spool.js';
import { COUNT_POLICY_DROPS, LOG_PIPELINE } from '../symbols.js';

/** A spool segment is finished (renamed, then read-only) at this size. */
const SEGMENT_BYTES = 8 * 1024 * 1024;

/** Records emitted while one is encoded, waiting for it: at most this many. */
const MAX_DEFERRED = 64;
/** Records emitted while a deferred one is encoded, and so on: at most this deep. */
const MAX_DEFER_DEPTH = 8;

/**
 * The most bytes a batch holds. With a spool, small enough that the exports
 * in flight (a batch read back from the spool included) and an open batch
 * fit in the queue together: a full queue then always makes room by
 * spilling to disk, and never refuses a record for lack of memory.
 */
function batchBytes(settings: PipelineSettings): number {
  if (settings.spool === undefined) return settings.maxExportBatchBytes;
  const share = Math.floor(settings.maxQueueBytes / (settings.maxConcurrentExports + 2));
  return Math.min(settings.maxExportBatchBytes, share);
}

interface Waiter {
  readonly done: () => boolean;
  readonly resolve: () => void;
}

/**
 * otel-winston's log record processor: encodes at emit, bounds the queue in
 * bytes, retries through outages, counts every record. The preload installs
 * it; with a LoggerProvider of your own:
 *
 * @example
 * import { LoggerProvider } from '@opentelemetry/sdk-logs';
 * import { LogPipeline, OtelTransport } from 'otel-winston';
 *
 * const pipeline = new LogPipeline({ maxQueueBytes: 32 * 1024 * 1024 });
 * const loggerProvider = new LoggerProvider({ processors: [pipeline] });
 * const transport = new OtelTransport({ loggerProvider });
 * // later: pipeline.stats() → { created, exported, dropped, queued, inFlight, ... }
 *
 * Register it last among the provider's processors: it encodes a record
 * when it receives it, so a processor after it cannot change what is sent.
 */
export class LogPipeline implements LogRecordProcessor {
  /** @internal */
  readonly [LOG_PIPELINE] = true;

  readonly #settings: PipelineSettings;
  readonly #accounting: Accounting;
  readonly #queue: BatchQueue;
  readonly #exporter: LogExporter;
  readonly #metrics: SelfMetrics;
  readonly #reporter: DropReporter;
  /** Batches handed to the exporter and not concluded; a batch read from the spool, with its frame. */
  readonly #inFlight = new Map<Batch, SpoolFrame | undefined>();
  /** Where batches go when the collector fails or memory is full; `undefined` without a spool. */
  readonly #spool: Spool | undefined;
  readonly #spoolSettings: SpoolSettings | undefined;
  /** Records are going to disk now: the warning was given for this episode. */
  #spilling = false;
  /**
   * The collector failed while batches from memory were in flight: they went
   * to disk, and until an export concludes only the spool's batches are sent
   * (one probes the collector); the others go to disk.
   */
  #probeFromSpool = false;
  /** Flushes and drains waiting for a condition, checked as batches conclude. */
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** How many drains run: while any does, a free export slot takes the open batches at once. */
  #draining = 0;
  /** A record is being encoded: one emitted meanwhile waits in `#deferred`. */
  #encoding = false;
  #deferred: Array<() => void> = [];
  #deferDepth = 0;
  #stopped = false;
  #shutdown: Promise<void> | undefined;

  /**
   * @param options - see {@link LogPipelineOptions}; a bad option throws an
   * `OtelWinstonError` with code `OTW_ERR_INVALID_OPTION`.
   */
  constructor(options?: LogPipelineOptions) {
    const settings = resolvePipelineSettings(options);
    this.#settings = settings;
    this.#accounting = new Accounting(settings.maxQueueBytes);
    this.#queue = new BatchQueue(
      this.#accounting,
      {
        maxQueueBytes: settings.maxQueueBytes,
        maxBatchRecords: settings.maxExportBatchSize,
        maxBatchBytes: batchBytes(settings),
      },
      () => this.#armTimer(),
      () => this.#schedulePump(),
    );
    const { sender, timeoutMillis } = createSender(settings);
    this.#exporter = new LogExporter(
      sender,
      {
        initialMillis: settings.retryInitialMillis,
        maxMillis: settings.retryMaxMillis,
        maxElapsedMillis: settings.retryMaxElapsedMillis,
      },
      Math.min(timeoutMillis, settings.exportTimeoutMillis),
      {
        onRetry: (result, wait) => this.#onRetry(result, wait),
        onFinished: (seconds, errorType, status) =>
          this.#metrics.recordDuration(seconds, errorType, status),
      },
    );
    this.#metrics = new SelfMetrics(
      this.#accounting,
      {
        processor: {
          'otel.component.type': 'LogPipeline',
          'otel.component.name': componentName('LogPipeline'),
        },
        exporter: {
          'otel.component.type': sender.componentType,
          'otel.component.name': componentName(sender.componentType),
          'server.address': sender.serverAddress,
          'server.port': sender.serverPort,
        },
      },
      settings.meterProvider,
    );
    this.#reporter = new DropReporter(sender.url, settings.dropWarnings, () => this.stats());
    this.#accounting.onDrop = (reason, n) => this.#reporter.dropped(reason, n);
    this.#spoolSettings = settings.spool;
    this.#spool = settings.spool && this.#openSpool(settings.spool);
  }

  /** Opens the spool and takes over what earlier processes left in it; `undefined` when it cannot. */
  #openSpool(settings: SpoolSettings): Spool | undefined {
    const spool = new Spool(
      {
        dir: settings.dir,
        maxBytes: settings.maxBytes,
        // Several segments even in a small spool: a full one deletes its oldest segment, and
        // cannot delete the one it is sending from.
        segmentBytes: Math.min(SEGMENT_BYTES, Math.floor(settings.maxBytes / 4)),
        fsync: settings.fsync,
      },
      {
        onRecovered: (records, bytes) => {
          this.#accounting.recover(records, bytes);
          // Taken over at a rescan, by a process that may log nothing more: send them now.
          this.#schedulePump();
        },
        onEvicted: (records, bytes) => this.#accounting.dropSpooled('spool_full', records, bytes),
        onCorrupt: (frames) => {
          this.#accounting.corruptFrames += frames;
          this.#reporter.notice(
            'OTW018',
            `otel-winston skipped ${frames} damaged frame(s) in the spool at ${settings.dir}: the log records in them are lost`,
          );
        },
        onError: (what, error) => this.#spoolFailed(what, error),
      },
    );
    if (!spool.open()) return undefined;
    this.#queue.spillWith((batch) => this.#spill(batch, false, 'the memory queue is full'));
    if (spool.records > 0) this.#schedulePump();
    return spool;
  }

  /**
   * Writes `batch` (queued, or in flight with `fromFlight`) to the spool.
   * Returns false when the spool does not take it.
   */
  #spill(batch: Batch, fromFlight: boolean, why: string): boolean {
    const spool = this.#spool;
    if (spool === undefined) return false;
    let envelope: LogsEnvelope;
    try {
      envelope = batch.target.envelopeNow();
    } catch {
      return false;
    }
    if (!spool.append(envelope, batch.payload, batch.records)) return false;
    this.#accounting.spill(batch.records, batch.bytes, fromFlight);
    // Written through by choice: nothing to warn about.
    if (!this.#spilling && !this.#writeThrough) {
      this.#spilling = true;
      this.#reporter.notice(
        'OTW016',
        `otel-winston is writing log records to the spool at ${spool.dir}: ${why}`,
      );
    }
    return true;
  }

  /** Spills every sealed batch waiting in memory, as far as the spool takes them. */
  #spillWaiting(why: string): void {
    let batch: Batch | undefined;
    while ((batch = this.#queue.take()) !== undefined) {
      if (!this.#spill(batch, false, why)) {
        this.#queue.putBack([batch]);
        return;
      }
    }
  }

  #spoolFailed(what: string, error: unknown): void {
    this.#accounting.spoolErrors++;
    this.#reporter.notice(
      'OTW017',
      `otel-winston could not ${what} at ${this.#spoolSettings?.dir}: ${describeError(error)}; records stay in memory`,
    );
  }

  /** Where every record is now; see {@link PipelineStats}. */
  stats(): PipelineStats {
    return this.#accounting.snapshot();
  }

  /**
   * Counts `records` that a policy in front of this pipeline dropped on
   * purpose, so that `created` still covers every record logged.
   */
  [COUNT_POLICY_DROPS](reason: PolicyDropReason, records: number): void {
    this.#accounting.refuse(reason, records);
  }

  /** Encodes the record into its batch. Never throws. */
  onEmit(logRecord: ReadWriteLogRecord, _context?: Context): void {
    if (this.#stopped) {
      this.#accounting.refuse('already_shutdown');
      return;
    }
    if (this.#encoding) {
      this.#defer(() => this.onEmit(logRecord));
      return;
    }
    this.#encoding = true;
    let target: BatchTarget | undefined;
    let start = 0;
    try {
      target = this.#queue.target(logRecord.resource, logRecord.instrumentationScope);
      start = target.writer.pos;
      this.#queue.admit(target, start, appendReadableLogRecord(target.writer, logRecord));
    } catch (error) {
      this.#salvage(target, start, error, (w, body, attributes) =>
        appendReadableLogRecord(w, {
          hrTime: logRecord.hrTime,
          hrTimeObserved: logRecord.hrTimeObserved,
          spanContext: logRecord.spanContext,
          severityText: logRecord.severityText,
          severityNumber: logRecord.severityNumber,
          eventName: logRecord.eventName,
          resource: logRecord.resource,
          instrumentationScope: logRecord.instrumentationScope,
          droppedAttributesCount: logRecord.droppedAttributesCount,
          body,
          attributes: attributes ? logRecord.attributes : {},
        }),
      );
    } finally {
      this.#encoding = false;
    }
    if (this.#deferred.length > 0) this.#runDeferred();
  }

  /**
   * @internal The transport's fast path: a record built by the transport,
   * encoded without the SDK's `LogRecordImpl`. Used only when this pipeline
   * is the provider's one processor (see `fast-path.ts`).
   */
  emitFields(target: BatchTarget, fields: LogRecordFields): void {
    if (this.#stopped) {
      this.#accounting.refuse('already_shutdown');
      return;
    }
    if (this.#encoding) {
      this.#defer(() => this.emitFields(target, fields));
      return;
    }
    this.#encoding = true;
    const start = target.writer.pos;
    try {
      this.#queue.admit(target, start, appendLogRecordFields(target.writer, fields, Date.now()));
    } catch (error) {
      this.#salvage(target, start, error, (w, body, attributes) =>
        appendLogRecordFields(
          w,
          { ...fields, body, attributes: attributes ? fields.attributes : undefined },
          Date.now(),
        ),
      );
    } finally {
      this.#encoding = false;
    }
    if (this.#deferred.length > 0) this.#runDeferred();
  }

  /**
   * A record emitted while another is being encoded (a getter in a body
   * that logs, a diag logger that logs): it waits until that one is done,
   * so that the two are never written into each other.
   */
  #defer(emit: () => void): void {
    if (this.#deferred.length >= MAX_DEFERRED) {
      // A getter that logs on every read would defer records forever.
      this.#accounting.refuse('unencodable');
      return;
    }
    this.#deferred.push(emit);
  }

  #runDeferred(): void {
    if (this.#deferDepth >= MAX_DEFER_DEPTH) {
      for (let i = this.#deferred.length; i > 0; i--) this.#accounting.refuse('unencodable');
      this.#deferred = [];
      return;
    }
    const pending = this.#deferred;
    this.#deferred = [];
    this.#deferDepth++;
    try {
      for (const emit of pending) emit();
    } finally {
      this.#deferDepth--;
    }
  }

  /** @internal The batch target of a resource and scope, for {@link LogPipeline.emitFields}. */
  targetFor(resource: Resource, scope: InstrumentationScope): BatchTarget {
    return this.#queue.target(resource, scope);
  }

  /**
   * A record whose values could not be encoded (a getter that throws, in a
   * body given straight to the SDK): it is sent with what can be, a body that
   * says so and its attributes, else without them.
   */
  #salvage(
    target: BatchTarget | undefined,
    start: number,
    error: unknown,
    encode: (w: ProtobufWriter, body: string, attributes: boolean) => number,
  ): void {
    // The half-written record goes first: the warning itself may be logged.
    if (target !== undefined) target.writer.pos = start;
    warn('OTW001', `a log record could not be encoded: ${describeError(error)}`);
    const body = `[otel-winston: this record could not be encoded: ${describeError(error)}]`;
    if (target !== undefined) {
      for (const attributes of [true, false]) {
        target.writer.pos = start;
        try {
          this.#queue.admit(target, start, encode(target.writer, body, attributes));
          return;
        } catch {
          // Its attributes cannot be encoded either: try without them.
        }
      }
      target.writer.pos = start;
    }
    this.#accounting.refuse('unencodable');
  }

  #armTimer(): void {
    if (this.#draining > 0) {
      this.#schedulePump();
      return;
    }
    if (this.#timer !== undefined || this.#stopped) return;
    // While records go to disk, they wait in memory at most the spool's flush interval.
    const delay = this.#toDisk
      ? Math.min(this.#settings.scheduledDelayMillis, this.#spoolSettings!.flushMillis)
      : this.#settings.scheduledDelayMillis;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#queue.sealAll();
      this.#pump();
    }, delay);
    this.#timer.unref();
  }

  /** Sends soon, not inside the log call that filled a batch. */
  #schedulePump(): void {
    if (this.#immediate !== undefined) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#pump();
    });
    this.#immediate.unref();
  }

  /**
   * Hands sealed batches to the exporter, oldest first, as far as it takes
   * them. While draining, a free export slot also takes the open batches:
   * nothing waits for the schedule delay, and while every slot is busy the
   * open batches keep filling, so a slow collector still gets full batches.
   */
  #pump(): void {
    this.#metrics.refresh();
    const spool = this.#spool;
    if (this.#probeFromSpool && spool!.records === 0 && !spool!.sending) {
      // Nothing left on disk to probe the collector with: batches go from memory again.
      this.#probeFromSpool = false;
    }
    const toDisk = this.#toDisk;
    if (toDisk) {
      if (this.#draining > 0) this.#queue.sealAll();
      this.#spillWaiting(
        this.#writeThrough
          ? 'write-through'
          : `the collector at ${this.#exporter.sender.url} does not answer`,
      );
    }
    const limit = this.#settings.maxConcurrentExports;
    while (this.#exporter.canStart(limit)) {
      // The spool holds the oldest records: one of its batches at a time goes first.
      const frame = spool?.next();
      if (frame !== undefined) {
        // Read back into memory, it counts against the byte cap: newer batches make room on disk.
        if (this.#accounting.heldBytes + frame.payload.length > this.#settings.maxQueueBytes) {
          this.#queue.sealAll();
          this.#spillWaiting('the memory queue is full');
        }
        const batch = new Batch(
          new FixedEnvelope(frame.envelope),
          frame.payload,
          frame.records,
          -1,
        );
        this.#accounting.unspool(batch.records, batch.bytes, false);
        this.#start(batch, frame);
        continue;
      }
      if (toDisk && (this.#writeThrough || this.#probeFromSpool)) break;
      if (this.#draining > 0 && this.#queue.waiting === 0) this.#queue.sealAll();
      const batch = this.#queue.take();
      if (batch === undefined) break;
      this.#accounting.handOff(batch.records, batch.bytes, batch.again);
      this.#start(batch, undefined);
    }
    if (spool !== undefined && this.#spilling && spool.records === 0 && !spool.sending) {
      this.#spilling = false;
    }
    this.#wake();
  }

  /** Whether batches go to disk now, not from memory to the collector. */
  get #toDisk(): boolean {
    return (
      this.#spool !== undefined &&
      (this.#exporter.failing || this.#writeThrough || this.#probeFromSpool)
    );
  }

  get #writeThrough(): boolean {
    return this.#spoolSettings?.writeThrough === true && this.#spool?.writable === true;
  }

  #start(batch: Batch, frame: SpoolFrame | undefined): void {
    this.#inFlight.set(batch, frame);
    void this.#send(batch, frame);
  }

  async #send(batch: Batch, frame: SpoolFrame | undefined): Promise<void> {
    // Handed to the exporter now, so that it counts this export before the envelope is ready.
    const request = batch.target
      .envelope(this.#settings.exportTimeoutMillis)
      .then((envelope) => envelope.request(batch.payload));
    const outcome = await this.#exporter.export(request, batch.records);
    // Abandoned at a deadline, or written to the spool as the collector failed: already counted.
    if (!this.#inFlight.delete(batch)) {
      this.#schedulePump();
      return;
    }
    this.#probeFromSpool = false;
    // A batch from the spool is done with there, whatever happened: its records are counted below.
    if (frame !== undefined) this.#spool?.done(frame);
    const halves = outcome.tooLarge ? batch.halve() : undefined;
    if (halves !== undefined) {
      this.#accounting.requeue(batch.records, batch.bytes);
      this.#queue.putBack(halves);
    } else {
      this.#accounting.settle(batch.records, batch.bytes, outcome.exported, outcome.reason);
      this.#metrics.exportConcluded(
        outcome.exported,
        batch.records - outcome.exported,
        outcome.errorType,
      );
      if (outcome.exported < batch.records && outcome.reason !== 'shutdown') {
        warn(
          'OTW014',
          `${batch.records - outcome.exported} log record(s) not accepted by ${this.#exporter.sender.url}: ${outcome.errorType ?? outcome.reason}`,
          'export',
        );
      }
    }
    this.#pump();
  }

  #onRetry(result: AttemptResult & { outcome: 'retryable' }, wait: number): void {
    const a = this.#accounting;
    warn(
      'OTW015',
      `sending log records to ${this.#exporter.sender.url} failed (${result.message}); ` +
        `retrying in ${Math.round(wait)} ms; ${a.queued + a.inFlight} record(s) held, ` +
        `${a.heldBytes} of ${a.maxQueueBytes} bytes`,
    );
    this.#spillInFlight();
  }

  /**
   * With a spool, when the collector fails: the batches in flight from memory
   * go to disk too, so that a crash during the outage loses none of them
   * (otherwise they wait in memory until it ends). Their exports are given
   * up, and a batch of the spool probes the collector instead; one of the
   * spool in flight is released, to be sent again.
   */
  #spillInFlight(): void {
    const spool = this.#spool;
    if (spool === undefined || !spool.writable) return;
    const fromMemory = [...this.#inFlight].filter(([, frame]) => frame === undefined);
    if (fromMemory.length === 0) return;
    const why = `the collector at ${this.#exporter.sender.url} does not answer`;
    for (const [batch] of fromMemory) {
      // A disk error: the rest stay in flight from memory (those written may then arrive twice).
      if (!this.#spill(batch, true, why)) return;
      this.#inFlight.delete(batch);
    }
    for (const [batch, frame] of this.#inFlight) {
      spool.release(frame!);
      this.#accounting.respool(batch.records, batch.bytes);
    }
    this.#inFlight.clear();
    this.#probeFromSpool = true;
    this.#exporter.abort();
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.done()) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  /**
   * Resolves when `done()` holds, checked as batches conclude, or after
   * `timeoutMillis` (with false). The timer keeps the process alive while it
   * waits: a flush at the end of a script must be able to finish.
   */
  #until(done: () => boolean, timeoutMillis: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMillis);
      const waiter: Waiter = {
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Whether a batch sealed before `sequence` is still held, sealed or in flight. */
  #holdsBatchBefore(sequence: number): boolean {
    for (const batch of this.#inFlight.keys()) if (batch.sequence < sequence) return true;
    return this.#queue.holdsBefore(sequence);
  }

  /**
   * Sends everything queued now and resolves when it has been exported or
   * dropped, or after `exportTimeoutMillis`; records still waiting for the
   * collector then stay queued (nothing is dropped by a flush).
   */
  async forceFlush(): Promise<void> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    this.#queue.sealAll();
    const upTo = this.#queue.nextSequence;
    this.#pump();
    await this.#until(() => !this.#holdsBatchBefore(upTo), this.#settings.exportTimeoutMillis);
  }

  /**
   * @internal For the exit hooks: sends everything, records that arrive
   * meanwhile included, until nothing is held or `timeoutMillis` passes;
   * then drops what is left (reason `shutdown`). Resolves either way.
   */
  async drain(timeoutMillis: number): Promise<void> {
    this.#draining++;
    try {
      this.#queue.sealAll();
      this.#pump();
      const a = this.#accounting;
      const drained = await this.#until(
        () => a.queued === 0 && a.inFlight === 0 && a.spooled === 0,
        timeoutMillis,
      );
      if (!drained) this.abandon();
    } finally {
      this.#draining--;
    }
  }

  /**
   * @internal Gives up on everything held now, aborting the exports in
   * flight: with a spool, it is written there for the next start; what the
   * spool does not take is dropped (reason `shutdown`). Synchronous: it
   * works in a process `exit` handler.
   */
  abandon(): void {
    const spool = this.#spool;
    if (spool !== undefined) {
      // Nothing is lost that the disk can keep: it is sent from there on the next start.
      this.#queue.sealAll();
      this.#spillWaiting('the process is ending');
    }
    this.#queue.dropAll('shutdown');
    for (const [batch, frame] of this.#inFlight) {
      if (frame !== undefined) {
        spool!.release(frame);
        this.#accounting.respool(batch.records, batch.bytes);
      } else if (!this.#spill(batch, true, 'the process is ending')) {
        this.#accounting.settle(batch.records, batch.bytes, 0, 'shutdown');
        this.#metrics.exportConcluded(0, batch.records, 'shutdown');
      }
    }
    this.#inFlight.clear();
    this.#exporter.abort();
    this.#wake();
  }

  /**
   * @internal For the exit hooks, after {@link LogPipeline.abandon}, when the
   * process ends now: finishes the spool's files and gives up its lock, so
   * that the next process takes them over at once. Records emitted after
   * this stay in memory. Synchronous.
   */
  closeSpool(): void {
    this.#spool?.close();
  }

  /**
   * Sends what is queued, for at most `shutdownTimeoutMillis`; drops what is
   * left then, stops, and prints one line on stderr if any record was
   * dropped over the pipeline's life. Runs once.
   */
  shutdown(): Promise<void> {
    return (this.#shutdown ??= this.#stop());
  }

  async #stop(): Promise<void> {
    await this.drain(this.#settings.shutdownTimeoutMillis);
    this.#stopped = true;
    // A record that came in between the end of the drain and now has no one to send it.
    this.#queue.dropAll('shutdown');
    this.#spool?.close();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#exporter.shutdown();
    // The self-metrics stay registered: a final collection still sees the last counts.
    this.#reporter.summarize(this.#spool?.dir);
  }

  /** @internal For the exit hooks: the summary line, once, now. */
  summarize(): void {
    this.#reporter.summarize(this.#spool?.dir);
  }
}
