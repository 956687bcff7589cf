/**
 * Sampling decisions that agree with the trace's own, so that with the same
 * ratio a trace that is kept keeps all of its records and a trace that is
 * dropped keeps none of them.
 *
 * - A trace whose `tracestate` carries OpenTelemetry's consistent-probability
 *   fields (`ot=th:…` or `ot=rv:…`, OTEP 235 and the trace SDK
 *   specification's "TraceIdRatioBased" successor) was sampled by comparing
 *   its randomness R (the `rv` value, else the trace id's last 56 bits) with
 *   a rejection threshold T = 2^56 − round(ratio × 2^56), written as `th`
 *   rounded to a few hex digits: kept when R ≥ T. The record's decision is
 *   that comparison with the record's own threshold, exact; or the trace's
 *   `th` when the record's ratio rounds to it (the same ratio, rounded by
 *   the sampler that wrote it), so that the same ratio gives the same T.
 * - Any other trace is judged as OpenTelemetry JS's `TraceIdRatioBasedSampler`
 *   judges it: the four 32-bit words of the trace id XOR-ed together, kept
 *   when below `floor(ratio × 0xffffffff)`.
 */
import type { SpanContext } from '@opentelemetry/api';

/** Hex digits of a 56-bit value: the randomness and thresholds of OTEP 235. */
const RANDOMNESS_DIGITS = 14;

/** 2^56: one more than the largest randomness. */
const MAX_RANDOMNESS = 1n << 56n;

/** Where a ratio of 1 puts its bound: above every 32-bit value. */
const ALL_32 = 0x1_0000_0000;

/** A ratio's decisions, computed once: `keep*` return whether a record is kept. */
export class RatioDecision {
  readonly ratio: number;
  /** `TraceIdRatioBasedSampler`'s upper bound for this ratio. */
  readonly #traceIdBound: number;
  /** The OTEP 235 rejection threshold, exact to 56 bits. */
  readonly #threshold: bigint;
  /** The threshold rounded to 1–14 hex digits, as 14 digits of text (compared as text), by digits. */
  readonly #rounded: (string | undefined)[] = [];
  /** The bound for a 32-bit hash: kept when below. */
  readonly #hashBound: number;
  #lastSpan: SpanContext | undefined;
  #lastTraceId: string | undefined;
  #lastKeep = false;

  constructor(ratio: number) {
    this.ratio = ratio;
    this.#traceIdBound = ratio >= 1 ? ALL_32 : Math.floor(ratio * 0xffffffff);
    // ratio × 2^56 is exact in a double (a power of two), and a whole number beyond 2^53.
    this.#threshold =
      MAX_RANDOMNESS - BigInt(Math.round(Math.min(1, Math.max(0, ratio)) * 2 ** 56));
    this.#hashBound = ratio >= 1 ? ALL_32 : Math.floor(ratio * ALL_32);
  }

  /** The decision for a record in the trace of `span` (a valid span context). */
  keepTrace(span: SpanContext): boolean {
    if (this.ratio >= 1) return true;
    if (this.ratio <= 0) return false;
    // The records of one span share its span context (an object no one changes), and so its
    // decision; the trace id is compared too, which costs a pointer comparison.
    if (span === this.#lastSpan && span.traceId === this.#lastTraceId) return this.#lastKeep;
    this.#lastSpan = span;
    this.#lastTraceId = span.traceId;
    this.#lastKeep = this.#decide(span);
    return this.#lastKeep;
  }

  #decide(span: SpanContext): boolean {
    const ot = span.traceState?.get('ot');
    if (ot !== undefined) {
      const consistent = otRandomness(ot, span.traceId);
      if (consistent !== undefined) {
        return consistent.randomness >= this.thresholdFor(consistent.threshold);
      }
    }
    return traceIdWords(span.traceId) < this.#traceIdBound;
  }

  /**
   * The threshold to compare a trace's randomness with: the trace's own
   * (`th`, 14 digits) when this ratio, rounded to as many digits as `th` has
   * once its trailing zeros are trimmed, is that threshold (the same ratio,
   * written by a sampler that rounds); else this ratio's exact threshold.
   */
  thresholdFor(traceThreshold: string | undefined): string {
    if (traceThreshold !== undefined) {
      const digits = traceThreshold.replace(/0+$/, '').length || 1;
      if (this.threshold(digits) === traceThreshold) return traceThreshold;
    }
    return this.threshold(RANDOMNESS_DIGITS);
  }

  /**
   * The rejection threshold, rounded to `digits` hex digits as a sampler
   * that writes `th` with that many digits rounds it: 14 digits of text, or
   * `'g'` (above every value) when rounding reached 2^56.
   */
  threshold(digits: number): string {
    let text = this.#rounded[digits];
    if (text === undefined) {
      const shift = BigInt(4 * (RANDOMNESS_DIGITS - digits));
      const rounded =
        shift === 0n
          ? this.#threshold
          : ((this.#threshold + (1n << (shift - 1n))) >> shift) << shift;
      text =
        rounded >= MAX_RANDOMNESS ? 'g' : rounded.toString(16).padStart(RANDOMNESS_DIGITS, '0');
      this.#rounded[digits] = text;
    }
    return text;
  }

  /** The decision for a 32-bit hash of something stable about a record. */
  keepHash(hash: number): boolean {
    return hash < this.#hashBound;
  }
}

/**
 * The XOR of the trace id's four 32-bit words, as `TraceIdRatioBasedSampler`
 * of `@opentelemetry/sdk-trace` computes it. `traceId` is 32 hex digits.
 */
export function traceIdWords(traceId: string): number {
  let accumulation = 0;
  for (let i = 0; i < 32; i += 8) {
    let word = 0;
    for (let j = i; j < i + 8; j++) {
      const c = traceId.charCodeAt(j);
      // 0-9, A-F, a-f: a valid span context's trace id has no other characters.
      word = (word << 4) | (c < 58 ? c - 48 : c < 71 ? c - 55 : c - 87);
    }
    accumulation = (accumulation ^ word) >>> 0;
  }
  return accumulation;
}

/** A trace's randomness R and its sampler's threshold `th`, each as 14 hex digits. */
export interface ConsistentRandomness {
  readonly randomness: string;
  /** `undefined` when the trace state has `rv` but no `th`. */
  readonly threshold: string | undefined;
}

/**
 * The randomness R of a trace with `ot` trace state: `rv` when it is there,
 * else the trace id's last 14 hex digits, provided a threshold `th` says the
 * trace was sampled consistently; and that threshold, its trailing zeros
 * put back. `undefined` when the `ot` value has neither: the trace id's
 * words decide then.
 */
export function otRandomness(ot: string, traceId: string): ConsistentRandomness | undefined {
  let rv: string | undefined;
  let th: string | undefined;
  for (const field of ot.split(';')) {
    if (field.startsWith('rv:')) {
      const value = field.slice(3).toLowerCase();
      if (/^[0-9a-f]{14}$/.test(value)) rv = value;
    } else if (field.startsWith('th:')) {
      const value = field.slice(3).toLowerCase();
      if (/^[0-9a-f]{1,14}$/.test(value)) th = value.padEnd(RANDOMNESS_DIGITS, '0');
    }
  }
  if (rv === undefined && th === undefined) return undefined;
  return {
    randomness: rv ?? traceId.slice(32 - RANDOMNESS_DIGITS).toLowerCase(),
    threshold: th,
  };
}

/** FNV-1a over the UTF-16 code units of `text`, then MurmurHash3's finalizer: a well-spread 32-bit hash. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** MurmurHash3's 32-bit finalizer: every input bit moves every output bit. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
