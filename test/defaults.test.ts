import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { TAIL_DEFAULTS } from '../src/cli/tail.js';
import { TRACE_CONTEXT_DEFAULTS } from '../src/format/trace-context.js';
import { JWT_DEFAULTS } from '../src/middleware/identity.js';
import { REQUEST_CONTEXT_DEFAULTS } from '../src/middleware/options.js';
import { OTLP_RECEIVER_DEFAULTS } from '../src/otlp/otlp-receiver.js';
import { PIPELINE_DEFAULTS, SPOOL_DEFAULTS } from '../src/pipeline/options.js';
import { LOG_METRICS_DEFAULTS } from '../src/policies/metrics/log-metrics-processor.js';
import { RATE_LIMIT_DEFAULTS } from '../src/policies/rate-limit/rate-limit-processor.js';
import * as keyRules from '../src/policies/redaction/key-rules.js';
import { REDACTION_DEFAULTS } from '../src/policies/redaction/redaction-processor.js';
import * as valueRules from '../src/policies/redaction/value-rules.js';
import { SAMPLING_DEFAULTS } from '../src/policies/sampling/sampling-processor.js';
import { TELEMETRY_DEFAULTS } from '../src/telemetry/start-telemetry.js';
import { TRANSPORT_DEFAULTS } from '../src/transport/options.js';

/** Constants a `@default` may name instead of a literal. */
const NAMED: Record<string, unknown> = { ...keyRules, ...valueRules };

interface OptionsType {
  readonly file: string;
  readonly name: string;
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Options whose fixed default is applied by another library, and why. */
  readonly elsewhere?: Readonly<Record<string, string>>;
}

const OPTIONS_TYPES: OptionsType[] = [
  { file: 'transport/options.ts', name: 'OtelTransportOptions', defaults: TRANSPORT_DEFAULTS },
  {
    file: 'pipeline/options.ts',
    name: 'LogPipelineOptions',
    defaults: PIPELINE_DEFAULTS,
    elsewhere: {
      url: "@opentelemetry/otlp-exporter-base's configuration, with the OTEL_EXPORTER_OTLP_* variables",
      compression: 'the same',
      timeoutMillis: 'the same',
    },
  },
  { file: 'pipeline/options.ts', name: 'SpoolOptions', defaults: SPOOL_DEFAULTS },
  { file: 'telemetry/start-telemetry.ts', name: 'TelemetryOptions', defaults: TELEMETRY_DEFAULTS },
  {
    file: 'middleware/options.ts',
    name: 'RequestContextOptions',
    defaults: REQUEST_CONTEXT_DEFAULTS,
  },
  { file: 'middleware/identity.ts', name: 'JwtVerificationOptions', defaults: JWT_DEFAULTS },
  {
    file: 'policies/redaction/redaction-processor.ts',
    name: 'RedactionOptions',
    defaults: REDACTION_DEFAULTS,
  },
  {
    file: 'policies/rate-limit/rate-limit-processor.ts',
    name: 'RateLimitOptions',
    defaults: RATE_LIMIT_DEFAULTS,
  },
  {
    file: 'policies/sampling/sampling-processor.ts',
    name: 'SamplingOptions',
    defaults: SAMPLING_DEFAULTS,
  },
  {
    file: 'policies/metrics/log-metrics-processor.ts',
    name: 'LogMetricsOptions',
    defaults: LOG_METRICS_DEFAULTS,
  },
  {
    file: 'format/trace-context.ts',
    name: 'TraceContextFormatOptions',
    defaults: TRACE_CONTEXT_DEFAULTS,
  },
  { file: 'cli/tail.ts', name: 'TailOptions', defaults: TAIL_DEFAULTS },
  { file: 'otlp/otlp-receiver.ts', name: 'OtlpReceiverOptions', defaults: OTLP_RECEIVER_DEFAULTS },
];

/** Each option of `name` in `source` with the text of its `@default` tag (undefined: none). */
function documentedDefaults(source: string, name: string): Map<string, string | undefined> {
  const start = source.indexOf(`export interface ${name} `);
  expect(start, `interface ${name}`).to.be.greaterThan(-1);
  const body = source.slice(start, source.indexOf('\n}\n', start));
  const options = new Map<string, string | undefined>();
  // A member, with the doc comment right before it.
  for (const [, doc, option] of body.matchAll(
    /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)?\s*(?:readonly )?(\w+)\?:/g,
  )) {
    const tag = /@default\s+((?:(?!\n\s*\*\s*@|\*\/)[\s\S])*)/.exec(doc ?? '')?.[1];
    options.set(option!, tag?.replace(/\n\s*\*\s*/g, ' ').trim());
  }
  return options;
}

const NO_FIXED_DEFAULT = Symbol('no fixed default');

/**
 * The fixed value a `@default` names last (after "else", past the environment
 * variables): a number, a quoted string, true/false, Infinity, {}, [] or a
 * named constant, alone or explained; otherwise there is none (the global
 * provider, none, "true when writing to a terminal", ...).
 */
function fixedValue(tag: string): unknown {
  const last = tag
    .split(/\belse\b/)
    .pop()!
    .trim();
  // A literal, alone or followed by an explanation: "67108864 (64 MiB)", "4318, the OTLP/HTTP port".
  const literal = /^`?([^`\s,(]+)`?(?:$|\s*[(,:])/.exec(last)?.[1] ?? '';
  if (/^-?\d[\d_]*(\.\d+)?$/.test(literal)) return Number(literal.replace(/_/g, ''));
  if (/^'[^']*'$/.test(literal)) return literal.slice(1, -1);
  if (literal === 'true' || literal === 'false') return literal === 'true';
  if (literal === 'Infinity') return Infinity;
  if (literal === '{}') return {};
  if (literal === '[]') return [];
  const named = /^([A-Z][A-Z_]+):?$/.exec(literal)?.[1];
  if (named !== undefined && named in NAMED) return NAMED[named];
  return NO_FIXED_DEFAULT;
}

describe('defaults: one object per options type, agreeing with each option’s @default', () => {
  for (const type of OPTIONS_TYPES) {
    it(`${type.name} (${type.file})`, () => {
      const source = readFileSync(new URL(`../src/${type.file}`, import.meta.url), 'utf8');
      const documented = documentedDefaults(source, type.name);
      expect(documented.size, `${type.name} has options`).to.be.greaterThan(0);
      for (const [option, tag] of documented) {
        expect(tag, `${type.name}.${option} has a @default`).to.be.a('string');
        const fixed = fixedValue(tag!);
        if (type.elsewhere?.[option] !== undefined) {
          expect(type.defaults, `${option} is applied elsewhere`).to.not.have.property(option);
        } else if (fixed === NO_FIXED_DEFAULT) {
          expect(type.defaults, `${type.name}.${option}: "${tag}"`).to.not.have.property(option);
        } else {
          expect(type.defaults, `${type.name}.${option}: "${tag}"`).to.have.property(option);
          expect(type.defaults[option], `${type.name}.${option}: "${tag}"`).to.deep.equal(fixed);
        }
      }
      for (const option of Object.keys(type.defaults)) {
        expect([...documented.keys()], `${option} is an option of ${type.name}`).to.include(option);
      }
    });
  }
});
