/**
 * The pipeline's self-metrics, as the semantic conventions name them
 * (`docs/otel/sdk-metrics.md`, "Log metrics"):
 *
 * | metric | instrument | what it counts |
 * | --- | --- | --- |
 * | `otel.sdk.log.created` | counter | records given to the pipeline |
 * | `otel.sdk.processor.log.processed` | counter | records handed to the exporter; with `error.type`, records dropped before that |
 * | `otel.sdk.processor.log.queue.size` | up-down counter | records queued, not yet handed to the exporter |
 * | `otel.sdk.processor.log.queue.capacity` | up-down counter | records the queue could hold: its size plus the free bytes at the mean record size |
 * | `otel.sdk.exporter.log.inflight` | up-down counter | records handed to the exporter, not concluded (retries included) |
 * | `otel.sdk.exporter.log.exported` | counter | records whose export concluded; with `error.type` when it failed |
 * | `otel.sdk.exporter.operation.duration` | histogram | seconds per export operation, retries and waits included |
 * | `otel_winston.processor.log.queue.size` | up-down counter | bytes held (queued and in flight) |
 * | `otel_winston.processor.log.queue.capacity` | up-down counter | the byte cap |
 *
 * The counters are asynchronous instruments read from the pipeline's own
 * counts when metrics are collected, so a log call pays nothing for them;
 * they produce the same cumulative sums as the synchronous instruments the
 * conventions name. The queue is bounded in bytes, not records, hence the
 * two byte metrics next to the conventions' record ones.
 */
import {
  metrics,
  ValueType,
  type Attributes,
  type BatchObservableCallback,
  type Histogram,
  type Meter,
  type MeterProvider,
  type Observable,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';
import { describeError, warn } from '../warnings.js';
import type { Accounting, DropReason } from './accounting.js';
import { COMPONENT_INSTANCES } from '../symbols.js';

/** Drops that happen before a record reaches the exporter (the processor's `error.type`). */
const PROCESSOR_DROPS: readonly DropReason[] = [
  'queue_full',
  'too_large',
  'already_shutdown',
  'unencodable',
  'spool_full',
  'sampled',
  'rate_limited',
];

/** The pipeline's and its exporter's identity in the metrics. */
export interface ComponentIdentity {
  readonly processor: Attributes;
  readonly exporter: Attributes;
}

const instances = ((globalThis as { [COMPONENT_INSTANCES]?: Map<string, number> })[
  COMPONENT_INSTANCES
] ??= new Map<string, number>());

/** `<type>/<n>`, n counting the instances of `type` made in this process, from 0. */
export function componentName(type: string): string {
  const n = instances.get(type) ?? 0;
  instances.set(type, n + 1);
  return `${type}/${n}`;
}

/** The pipeline's self-metrics on one MeterProvider. */
export class SelfMetrics {
  readonly #accounting: Accounting;
  readonly #identity: ComponentIdentity;
  /** Records the exporter concluded, by final `error.type` ('' for success). */
  readonly #exported = new Map<string, number>();
  /** The MeterProvider given in the options; without one, the global one. */
  readonly #explicit: MeterProvider | undefined;
  #provider: MeterProvider | undefined;
  #meter: Meter | undefined;
  #callback: BatchObservableCallback | undefined;
  #observables: Observable[] = [];
  #duration: Histogram | undefined;

  constructor(accounting: Accounting, identity: ComponentIdentity, meterProvider?: MeterProvider) {
    this.#accounting = accounting;
    this.#identity = identity;
    this.#explicit = meterProvider;
    this.refresh();
  }

  /**
   * Registers the instruments on the MeterProvider to use, if it changed:
   * the one given, else the global one, which the SDK may register after
   * the pipeline was made. Cheap; called as the pipeline exports.
   */
  refresh(): void {
    const provider = this.#explicit ?? metrics.getMeterProvider();
    if (provider === this.#provider) return;
    this.#unregister();
    this.#provider = provider;
    try {
      this.#register(provider.getMeter('otel-winston', VERSION));
    } catch (error) {
      warn(
        'OTW011',
        `the pipeline's self-metrics could not be registered: ${describeError(error)}`,
      );
    }
  }

  #register(meter: Meter): void {
    const counter = { unit: '{log_record}', valueType: ValueType.INT };
    const created = meter.createObservableCounter('otel.sdk.log.created', {
      ...counter,
      description: 'The number of log records submitted to an enabled Logger.',
    });
    const processed = meter.createObservableCounter('otel.sdk.processor.log.processed', {
      ...counter,
      description:
        'The number of log records for which the processing has finished, either successful or failed.',
    });
    const queueSize = meter.createObservableUpDownCounter('otel.sdk.processor.log.queue.size', {
      ...counter,
      description:
        'The number of log records in the queue of a given instance of an SDK log processor.',
    });
    const queueCapacity = meter.createObservableUpDownCounter(
      'otel.sdk.processor.log.queue.capacity',
      {
        ...counter,
        description:
          'The maximum number of log records the queue of a given instance of an SDK Log Record processor can hold (estimated from its byte cap).',
      },
    );
    const inflight = meter.createObservableUpDownCounter('otel.sdk.exporter.log.inflight', {
      ...counter,
      description:
        'The number of log records which were passed to the exporter, but that have not been exported yet (neither successful, nor failed).',
    });
    const exported = meter.createObservableCounter('otel.sdk.exporter.log.exported', {
      ...counter,
      description:
        'The number of log records for which the export has finished, either successful or failed.',
    });
    const bytes = { unit: 'By', valueType: ValueType.INT };
    const queueBytes = meter.createObservableUpDownCounter(
      'otel_winston.processor.log.queue.size',
      {
        ...bytes,
        description:
          'The encoded bytes of the log records the pipeline holds, queued and in flight.',
      },
    );
    const queueBytesCapacity = meter.createObservableUpDownCounter(
      'otel_winston.processor.log.queue.capacity',
      { ...bytes, description: 'The most encoded bytes the pipeline holds.' },
    );
    const spoolSize = meter.createObservableUpDownCounter('otel_winston.processor.log.spool.size', {
      ...counter,
      description: 'The number of log records waiting in the disk spool.',
    });
    const spoolBytes = meter.createObservableUpDownCounter(
      'otel_winston.processor.log.spool.usage',
      { ...bytes, description: 'The encoded bytes of the log records waiting in the disk spool.' },
    );
    this.#duration = meter.createHistogram('otel.sdk.exporter.operation.duration', {
      unit: 's',
      description: 'The duration of exporting a batch of telemetry records.',
      advice: { explicitBucketBoundaries: [] },
    });

    const a = this.#accounting;
    const { processor, exporter } = this.#identity;
    this.#callback = (result) => {
      result.observe(created, a.created);
      result.observe(processed, a.handedOff, processor);
      // Every reason from the start, 0 included, so that rate() sees a series' first drops.
      for (const reason of PROCESSOR_DROPS) {
        result.observe(processed, a.dropped[reason], { ...processor, 'error.type': reason });
      }
      // Records still queued when the shutdown deadline passed were never handed to the exporter.
      const queuedAtShutdown = a.dropped.shutdown - (this.#exported.get('shutdown') ?? 0);
      result.observe(processed, queuedAtShutdown, { ...processor, 'error.type': 'shutdown' });
      result.observe(queueSize, a.queued, processor);
      // The cap is in bytes: in records, what is queued plus what the free bytes hold at the mean size.
      const mean = a.enqueuedRecords > 0 ? a.enqueuedBytes / a.enqueuedRecords : 0;
      const free = a.maxQueueBytes - a.heldBytes;
      result.observe(
        queueCapacity,
        mean > 0 ? a.queued + Math.floor(free / mean) : a.queued,
        processor,
      );
      result.observe(inflight, a.inFlight, exporter);
      for (const [errorType, n] of this.#exported) {
        result.observe(
          exported,
          n,
          errorType === '' ? exporter : { ...exporter, 'error.type': errorType },
        );
      }
      result.observe(queueBytes, a.heldBytes, processor);
      result.observe(queueBytesCapacity, a.maxQueueBytes, processor);
      result.observe(spoolSize, a.spooled, processor);
      result.observe(spoolBytes, a.spooledBytes, processor);
    };
    this.#observables = [
      created,
      processed,
      queueSize,
      queueCapacity,
      inflight,
      exported,
      queueBytes,
      queueBytesCapacity,
      spoolSize,
      spoolBytes,
    ];
    meter.addBatchObservableCallback(this.#callback, this.#observables);
    this.#meter = meter;
  }

  /** An export operation concluded: `ok` records acknowledged, `failed` not, with `errorType`. */
  exportConcluded(ok: number, failed: number, errorType: string | undefined): void {
    if (ok > 0) this.#exported.set('', (this.#exported.get('') ?? 0) + ok);
    if (failed > 0) {
      const type = errorType ?? 'rejected';
      this.#exported.set(type, (this.#exported.get(type) ?? 0) + failed);
    }
  }

  /** One observation per export operation, retries included. */
  recordDuration(seconds: number, errorType: string | undefined, status: number | undefined): void {
    const attributes: Attributes = { ...this.#identity.exporter };
    if (errorType !== undefined) attributes['error.type'] = errorType;
    if (status !== undefined) attributes['http.response.status_code'] = status;
    try {
      this.#duration?.record(seconds, attributes);
    } catch {
      // A broken MeterProvider must not break exports.
    }
  }

  #unregister(): void {
    if (this.#meter !== undefined && this.#callback !== undefined) {
      try {
        this.#meter.removeBatchObservableCallback(this.#callback, this.#observables);
      } catch {
        // Gone with its provider.
      }
    }
    this.#meter = undefined;
    this.#callback = undefined;
    this.#observables = [];
  }
}
