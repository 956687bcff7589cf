import type { Context, MeterProvider } from '@opentelemetry/api';
import type { Defaults } from '../../defaults.js';
import type { LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { checkInteger, invalidOption } from '../../errors.js';
import { readBooleanEnv, readIntegerEnv, readRawEnv, readStringEnv } from '../../env.js';
import { warn } from '../../warnings.js';
import { ObservedCounts } from '../observed-counts.js';
import { checkPolicyOptions, PolicyProcessor, type PolicyRecord } from '../policy-processor.js';
import { DEFAULT_KEY_RULES, type KeyRule } from './key-rules.js';
import { Redactor, type RedactAction } from './redactor.js';
import { DEFAULT_VALUE_RULES, IP_ADDRESS_RULE, type ValueRule } from './value-rules.js';

/** Options of {@link RedactionProcessor}. */
export interface RedactionOptions {
  /** The processor each record goes to once redacted: a `LogPipeline`, another policy, any. */
  readonly next: LogRecordProcessor;
  /**
   * Rules on keys, at any depth of the attributes and of a map body.
   * @default DEFAULT_KEY_RULES: password, secret, token, authorization, cookie, api-key, private-key, credentials, card
   */
  readonly keyRules?: readonly KeyRule[];
  /**
   * Rules on text inside string values.
   * @default DEFAULT_VALUE_RULES: jwt, bearer-token, basic-credentials, key-value-secret, url-credentials, email, card-number, aws-access-key, private-key
   */
  readonly valueRules?: readonly ValueRule[];
  /**
   * Also redact IPv4 and IPv6 addresses (the `ip-address` rule).
   * @default `OTEL_WINSTON_REDACT_IP_ADDRESSES`, else false
   */
  readonly ipAddresses?: boolean;
  /**
   * The action of each rule, by rule name; a rule not named masks.
   * @default `OTEL_WINSTON_REDACT_ACTIONS` (`email=hash,token=remove`), else every rule masks
   */
  readonly actions?: Readonly<Record<string, RedactAction>>;
  /**
   * The secret key of the `hash` action (HMAC-SHA256). Without one, `hash` masks, and says so once (OTW019).
   * @default `OTEL_WINSTON_REDACT_HASH_KEY`, else none
   */
  readonly hashKey?: string;
  /**
   * What replaces a masked value or match.
   * @default '****'
   */
  readonly mask?: string;
  /**
   * The longest part of one string that is scanned, in UTF-16 code units; the rest is cut off,
   * with `[otel-winston: N characters not scanned]` in its place. The transport already cuts
   * strings at 1 MiB (`maxStringLength`).
   * @default `OTEL_WINSTON_REDACT_MAX_SCAN_LENGTH`, else 1048576
   */
  readonly maxScanLength?: number;
  /** The meter provider of the redaction counter. @default the global one */
  readonly meterProvider?: MeterProvider;
}

/** The fixed default of each {@link RedactionOptions} option that has one. */
export const REDACTION_DEFAULTS = {
  keyRules: DEFAULT_KEY_RULES,
  valueRules: DEFAULT_VALUE_RULES,
  ipAddresses: false,
  mask: '****',
  maxScanLength: 1_048_576,
} as const satisfies Defaults<RedactionOptions>;
const ACTIONS: readonly RedactAction[] = ['mask', 'remove', 'hash'];

/**
 * Redacts secrets and personal data from every record before it goes on:
 * the first policy, on by default under the preload (`OTEL_WINSTON_REDACT=off`
 * turns it off).
 *
 * ```ts
 * const pipeline = new LogPipeline();
 * new LoggerProvider({ processors: [new RedactionProcessor({ next: pipeline })] });
 * ```
 *
 * Each redaction is counted by rule in `otel_winston.log.redactions`
 * (attribute `otel_winston.redaction.rule`). What was matched is never
 * kept, logged or put in a warning.
 */
export class RedactionProcessor extends PolicyProcessor {
  readonly #redactor: Redactor;
  readonly #metric: ObservedCounts;

  /**
   * @param options - see {@link RedactionOptions}; a bad option throws an
   * `OtelWinstonError` with code `OTW_ERR_INVALID_OPTION`.
   * @param env - where the `OTEL_WINSTON_*` variables are read from for the
   * options not given in code; `process.env` by default.
   */
  constructor(
    options: RedactionOptions,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    const o = validateRedactionOptions(options);
    super(o.next);
    const ip =
      o.ipAddresses ??
      readBooleanEnv(env, 'OTEL_WINSTON_REDACT_IP_ADDRESSES', REDACTION_DEFAULTS.ipAddresses);
    const valueRules = [...(o.valueRules ?? DEFAULT_VALUE_RULES), ...(ip ? [IP_ADDRESS_RULE] : [])];
    const actions = o.actions ?? actionsFromEnv(env);
    const hashKey = o.hashKey ?? readRawEnv(env, 'OTEL_WINSTON_REDACT_HASH_KEY');
    if (hashKey === undefined && Object.values(actions).includes('hash')) {
      warn(
        'OTW019',
        'the redaction action "hash" needs OTEL_WINSTON_REDACT_HASH_KEY (or hashKey); those values are masked',
      );
    }
    this.#redactor = new Redactor({
      keyRules: o.keyRules ?? REDACTION_DEFAULTS.keyRules,
      valueRules,
      actions,
      mask: o.mask ?? REDACTION_DEFAULTS.mask,
      hashKey,
      maxScanLength:
        o.maxScanLength ??
        readIntegerEnv(
          env,
          ['OTEL_WINSTON_REDACT_MAX_SCAN_LENGTH'],
          REDACTION_DEFAULTS.maxScanLength,
          64,
        ),
    });
    const redactor = this.#redactor;
    this.#metric = new ObservedCounts(
      'otel_winston.log.redactions',
      'Values and matches redacted from log records, by rule',
      '{redaction}',
      function* () {
        for (const [rule, n] of redactor.counts())
          yield [n, { 'otel_winston.redaction.rule': rule }];
      },
      o.meterProvider,
    );
  }

  /** Redactions so far, by rule name. */
  counts(): ReadonlyMap<string, number> {
    return this.#redactor.counts();
  }

  applyTo(record: PolicyRecord, _context: Context | undefined): boolean {
    this.#metric.onRecord();
    // Nothing in the walk throws on an AnyValue; if it did, applyPolicy() masks the record.
    if (record.attributes !== undefined) {
      record.attributes = this.#redactor.attributes(record.attributes);
    }
    if (record.body !== undefined && record.body !== null) {
      record.body = this.#redactor.body(record.body);
    }
    return true;
  }
}

function validateRedactionOptions(options: unknown): RedactionOptions {
  const o = checkPolicyOptions<RedactionOptions>(options);
  if (o.keyRules !== undefined) {
    if (!Array.isArray(o.keyRules))
      throw invalidOption('keyRules', 'an array of key rules', o.keyRules);
    for (const [i, rule] of o.keyRules.entries()) {
      const r = rule as Partial<KeyRule> | null;
      if (
        typeof r?.name !== 'string' ||
        !Array.isArray(r.keys) ||
        !r.keys.every((k) => typeof k === 'string' && k !== '')
      ) {
        throw invalidOption(`keyRules[${i}]`, '{ name: string, keys: string[] }', rule);
      }
    }
  }
  if (o.valueRules !== undefined) {
    if (!Array.isArray(o.valueRules))
      throw invalidOption('valueRules', 'an array of value rules', o.valueRules);
    for (const [i, rule] of o.valueRules.entries()) {
      const r = rule as Partial<ValueRule> | null;
      if (typeof r?.name !== 'string' || typeof r.find !== 'function') {
        throw invalidOption(
          `valueRules[${i}]`,
          '{ name: string, find(text) } (see patternRule())',
          rule,
        );
      }
    }
  }
  if (o.ipAddresses !== undefined && typeof o.ipAddresses !== 'boolean') {
    throw invalidOption('ipAddresses', 'a boolean', o.ipAddresses);
  }
  if (o.actions !== undefined) {
    if (typeof o.actions !== 'object' || o.actions === null || Array.isArray(o.actions)) {
      throw invalidOption(
        'actions',
        'an object of rule name to "mask", "remove" or "hash"',
        o.actions,
      );
    }
    for (const [rule, action] of Object.entries(o.actions)) {
      if (!ACTIONS.includes(action))
        throw invalidOption(`actions.${rule}`, '"mask", "remove" or "hash"', action);
    }
  }
  if (o.hashKey !== undefined && (typeof o.hashKey !== 'string' || o.hashKey === '')) {
    throw invalidOption('hashKey', 'a non-empty string', '(hidden)');
  }
  if (o.mask !== undefined && typeof o.mask !== 'string')
    throw invalidOption('mask', 'a string', o.mask);
  checkInteger('maxScanLength', o.maxScanLength, 64, Infinity);
  return o;
}

/** `email=hash,token=remove` → `{ email: 'hash', token: 'remove' }`; a bad entry warns and is skipped. */
function actionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, RedactAction> {
  const out: Record<string, RedactAction> = {};
  const raw = readStringEnv(env, 'OTEL_WINSTON_REDACT_ACTIONS');
  if (raw === undefined) return out;
  for (const entry of raw.split(',')) {
    const [rule, action] = entry.split('=').map((s) => s.trim());
    if (rule && ACTIONS.includes(action as RedactAction)) {
      out[rule] = action as RedactAction;
    } else if (entry.trim() !== '') {
      warn(
        'OTW004',
        `Expected OTEL_WINSTON_REDACT_ACTIONS entries like email=hash (mask, remove or hash), got ${JSON.stringify(entry.trim())}; skipped`,
        'OTEL_WINSTON_REDACT_ACTIONS',
      );
    }
  }
  return out;
}
