import {
  metrics,
  ValueType,
  type Attributes,
  type MeterProvider,
  type ObservableCallback,
  type ObservableCounter,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';
import { describeError, warn } from '../warnings.js';

/**
 * An asynchronous counter of a policy's counts, read when metrics are
 * collected (a record pays nothing for it), on the meter provider given or
 * else the global one. The preload makes the policies before the SDK
 * registers its MeterProvider, so {@link ObservedCounts.refresh} moves the
 * counter to the global provider once it changes; the counts are totals, so
 * nothing counted before is lost.
 */
export class ObservedCounts {
  readonly #name: string;
  readonly #description: string;
  readonly #unit: string;
  readonly #read: () => Iterable<readonly [number, Attributes]>;
  readonly #explicit: MeterProvider | undefined;
  #provider: MeterProvider | undefined;
  #counter: ObservableCounter | undefined;
  /** Records seen, for {@link ObservedCounts.onRecord}. */
  #records = 0;
  readonly #callback: ObservableCallback = (result) => {
    for (const [value, attributes] of this.#read()) result.observe(value, attributes);
  };

  constructor(
    name: string,
    description: string,
    unit: string,
    read: () => Iterable<readonly [number, Attributes]>,
    meterProvider?: MeterProvider,
  ) {
    this.#name = name;
    this.#description = description;
    this.#unit = unit;
    this.#read = read;
    this.#explicit = meterProvider;
    this.refresh();
  }

  /**
   * Called for each record the policy sees: the SDK registers its
   * MeterProvider after the preload made the policy, so the provider is
   * looked for on each of the first 1,024 records, then on every 1,024th.
   */
  onRecord(): void {
    const n = this.#records++;
    if (n < 1024 || (n & 1023) === 0) this.refresh();
  }

  /** Registers the counter on the provider to use, if it changed. Cheap when it did not. */
  refresh(): void {
    const provider = this.#explicit ?? metrics.getMeterProvider();
    if (provider === this.#provider) return;
    this.#counter?.removeCallback(this.#callback);
    this.#provider = provider;
    try {
      this.#counter = provider
        .getMeter('otel-winston', VERSION)
        .createObservableCounter(this.#name, {
          description: this.#description,
          unit: this.#unit,
          valueType: ValueType.INT,
        });
      this.#counter.addCallback(this.#callback);
    } catch (error) {
      this.#counter = undefined;
      warn('OTW019', `the counter ${this.#name} could not be made: ${describeError(error)}`);
    }
  }
}
