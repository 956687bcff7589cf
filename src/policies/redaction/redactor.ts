import type { Attributes } from '@opentelemetry/api';
import type { AnyValue, AnyValueMap } from '../../mapping/any-value.js';
import { createHmac } from 'node:crypto';
import { describeError, warn } from '../../warnings.js';
import { KeyMatcher, type KeyRule } from './key-rules.js';
import { merge, type Span, type ValueRule } from './value-rules.js';

/**
 * What a rule does with what it finds: `mask` replaces it with the mask
 * (`****`; a key keeps its place), `remove` takes the attribute or map entry
 * out (a match inside a string is cut out), `hash` replaces it with
 * `hmac:` and the first 16 bytes of its HMAC-SHA256 under a secret key, in
 * hex: the same value gives the same hash in every record, so a user can be
 * followed across records without being readable.
 */
export type RedactAction = 'mask' | 'remove' | 'hash';

/** How a {@link Redactor} is set up; every field is resolved (see `RedactionOptions`). */
export interface RedactorSettings {
  readonly keyRules: readonly KeyRule[];
  readonly valueRules: readonly ValueRule[];
  /** Per rule name; the others mask. */
  readonly actions: Readonly<Record<string, RedactAction>>;
  readonly mask: string;
  /** The HMAC key of the `hash` action; without one, `hash` masks. */
  readonly hashKey: string | undefined;
  /** The longest part of a string that is scanned; the rest is cut off. */
  readonly maxScanLength: number;
}

/** Strings shorter than this hold no secret a value rule finds (`a@b.io` is 6). */
const MIN_SCAN_LENGTH = 6;
/** Nested maps and lists deeper than this are masked whole (the transport stops at 8). */
const MAX_DEPTH = 32;
/** Marks a value that `remove` takes out. */
const REMOVED = Symbol('removed');

/**
 * Redacts the attributes and body of records: key rules on keys at any
 * depth, value rules inside strings, an action per rule, a count per rule.
 *
 * Values are never changed in place: a map or list with something redacted
 * is copied, one that has nothing is returned as it is, so that a record
 * with no secret costs no allocation. Nothing here throws: a rule that fails
 * on a value masks the value (OTW019 names the rule, never the text).
 */
export class Redactor {
  readonly #settings: RedactorSettings;
  readonly #keys: KeyMatcher;
  readonly #counts = new Map<string, number>();
  /** One search for the hints of the rules that have one: most strings hit none of them. */
  readonly #hinted: { readonly rules: readonly ValueRule[]; readonly any: RegExp } | undefined;
  /** The rules without a hint: they run on every string. */
  readonly #always: readonly ValueRule[];

  constructor(settings: RedactorSettings) {
    this.#settings = settings;
    this.#keys = new KeyMatcher(settings.keyRules);
    const hinted = settings.valueRules.filter((r) => r.hint !== undefined);
    this.#always = settings.valueRules.filter((r) => r.hint === undefined);
    this.#hinted =
      hinted.length === 0
        ? undefined
        : {
            rules: hinted,
            any: new RegExp(hinted.map((r) => `(?:${r.hint!.source})`).join('|'), 'i'),
          };
    for (const rule of [...settings.keyRules, ...settings.valueRules])
      this.#counts.set(rule.name, 0);
  }

  /** Redactions so far, by rule name (every rule listed, from 0). */
  counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /** `attributes` redacted: the same object when nothing was found. */
  attributes(attributes: Attributes): Attributes {
    return this.#map(attributes as AnyValueMap, 0) as Attributes;
  }

  /** `body` redacted: the same value when nothing was found. */
  body(body: AnyValue): AnyValue {
    return this.#value(body, 0);
  }

  #map(map: AnyValueMap, depth: number): AnyValueMap {
    let copy: AnyValueMap | undefined;
    const keys = Object.keys(map);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const value = map[key] as AnyValue;
      const rule = this.#keys.ruleFor(key);
      let out: AnyValue | typeof REMOVED;
      if (rule !== undefined) {
        if (value === undefined || value === null) continue;
        this.#count(rule.name);
        out = this.#replace(rule.name, value);
      } else {
        out = this.#value(value, depth + 1);
      }
      if (out === value) continue;
      copy ??= { ...map };
      if (out === REMOVED) delete copy[key];
      else copy[key] = out;
    }
    return copy ?? map;
  }

  #value(value: AnyValue, depth: number): AnyValue {
    switch (typeof value) {
      case 'string':
        return value.length < MIN_SCAN_LENGTH ? value : this.#string(value);
      case 'number':
        // A card number logged as a number.
        return Number.isInteger(value) && value >= 1e12 ? this.#number(value) : value;
      case 'object': {
        if (value === null || value instanceof Uint8Array) return value;
        if (depth > MAX_DEPTH) return this.#settings.mask;
        if (Array.isArray(value)) {
          let copy: AnyValue[] | undefined;
          for (let i = 0; i < value.length; i++) {
            const out = this.#value(value[i] as AnyValue, depth + 1);
            if (out === value[i]) continue;
            copy ??= [...value];
            copy[i] = out;
          }
          return copy ?? value;
        }
        return this.#map(value as AnyValueMap, depth);
      }
      default:
        return value;
    }
  }

  #number(value: number): AnyValue {
    const text = String(value);
    const out = this.#string(text);
    return out === text ? value : out;
  }

  /** `text` with what the value rules find replaced, or `text` itself. */
  #string(text: string): string {
    const { maxScanLength, mask } = this.#settings;
    const cut = text.length > maxScanLength;
    const scanned = cut ? text.slice(0, maxScanLength) : text;
    const hinted = this.#hinted;
    const rules =
      hinted === undefined || !hinted.any.test(scanned)
        ? this.#always
        : this.#always.length === 0
          ? hinted.rules
          : this.#settings.valueRules;
    // The common case: no hint, no rule to run, nothing to allocate.
    if (rules.length === 0 && !cut) return text;
    const found: Array<Span & { readonly rule: string }> = [];
    for (const rule of rules) {
      let spans: Span[];
      try {
        spans = rule.find(scanned);
      } catch (error) {
        // Fail closed: a rule that cannot judge the text does not let it through.
        warn(
          'OTW019',
          `the redaction rule "${rule.name}" failed (${describeError(error)}); the value was masked`,
        );
        this.#count(rule.name);
        return mask;
      }
      for (const span of spans) found.push({ ...span, rule: rule.name });
    }
    if (found.length === 0 && !cut) return text;
    for (const span of found) this.#count(span.rule);
    let out = '';
    let at = 0;
    for (const span of merge(found)) {
      // The rule of the first match starting here decides the action of a merged span.
      const rule = found.find((f) => f.start >= span.start && f.start < span.end)!.rule;
      const replaced = this.#replace(rule, scanned.slice(span.start, span.end));
      out += scanned.slice(at, span.start) + (replaced === REMOVED ? '' : String(replaced));
      at = span.end;
    }
    out += scanned.slice(at);
    if (cut) out += `[otel-winston: ${text.length - maxScanLength} characters not scanned]`;
    return out;
  }

  /** What `rule`'s action makes of `value`. */
  #replace(rule: string, value: AnyValue): AnyValue | typeof REMOVED {
    const action = this.#settings.actions[rule] ?? 'mask';
    if (action === 'remove') return REMOVED;
    if (action === 'hash' && this.#settings.hashKey !== undefined) {
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
      return `hmac:${createHmac('sha256', this.#settings.hashKey).update(text).digest('hex').slice(0, 32)}`;
    }
    return this.#settings.mask;
  }

  #count(rule: string): void {
    this.#counts.set(rule, (this.#counts.get(rule) ?? 0) + 1);
  }
}
