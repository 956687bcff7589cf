import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WARNING_CODES, type WarningCode } from '../src/warnings.js';
import { sources } from './helpers/sources.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const files = sources(SRC).map((path) => ({
  path: relative(SRC, path),
  text: readFileSync(path, 'utf8'),
}));

/** The folders (or files) under src/ each module imports from. */
function importsOf(text: string): string[] {
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map(([, spec]) => spec!);
}

/**
 * Where each warning code may be given: the modules whose problem it names. A new use of a
 * code elsewhere is a new meaning: give it a code of its own (fastify's errors test is the model).
 */
const WARNING_SITES: Record<WarningCode, readonly string[]> = {
  OTW001: ['transport/otel-transport.ts', 'pipeline/log-pipeline.ts'],
  OTW002: ['transport/build-record.ts'],
  OTW003: ['transport/build-record.ts'],
  OTW004: [
    'env.ts',
    'telemetry/log-processors.ts',
    'telemetry/start-telemetry.ts',
    'telemetry/sdk-providers.ts',
    'telemetry/sdk-exporters.ts',
    'telemetry/resource-detectors.ts',
    'pipeline/options.ts',
    'policies/redaction/redaction-processor.ts',
    'policies/sampling/sampling-processor.ts',
    'policies/metrics/log-metrics-processor.ts',
  ],
  OTW005: ['context/request-context.ts'],
  OTW006: ['format/trace-context.ts'],
  OTW007: ['transport/otel-transport.ts', 'middleware/record-writer.ts'],
  OTW008: ['context/request-context.ts'],
  OTW009: ['transport/winston-patches.ts'],
  OTW010: ['telemetry/winston-instrumentation.ts'],
  OTW011: [
    'telemetry/log-processors.ts',
    'telemetry/register.ts',
    'telemetry/start-telemetry.ts',
    'pipeline/self-metrics.ts',
  ],
  OTW012: ['telemetry/exit-hooks.ts', 'transport/crash.ts'],
  OTW013: ['middleware/request-tracker.ts', 'middleware/identity.ts'],
  OTW014: ['pipeline/drop-report.ts', 'pipeline/log-pipeline.ts'],
  OTW015: ['pipeline/log-pipeline.ts', 'exporter/log-exporter.ts'],
  OTW016: ['pipeline/log-pipeline.ts', 'pipeline/drop-report.ts'],
  OTW017: ['pipeline/log-pipeline.ts', 'pipeline/drop-report.ts', 'spool/spool.ts'],
  OTW018: ['pipeline/log-pipeline.ts', 'pipeline/drop-report.ts', 'spool/spool.ts'],
  OTW019: [
    'policies/policy-processor.ts',
    'policies/observed-counts.ts',
    'policies/redaction/redaction-processor.ts',
    'policies/redaction/redactor.ts',
    'policies/metrics/log-metrics-processor.ts',
  ],
  OTW020: ['transport/otel-transport.ts'],
  OTW021: ['transport/otel-transport.ts'],
};

describe('structure of src/', () => {
  it('every Symbol.for key of this package is declared in src/symbols.ts, and only there', () => {
    const elsewhere = files.filter(
      (f) =>
        f.path !== 'symbols.ts' && /Symbol\.for\('otel-winston|createContextKey\(/.test(f.text),
    );
    expect(elsewhere.map((f) => f.path)).to.deep.equal([]);
    const keys = [
      ...files.find((f) => f.path === 'symbols.ts')!.text.matchAll(/Symbol\.for\('([^']+)'\)/g),
    ].map(([, key]) => key!);
    expect(new Set(keys).size, 'keys declared twice').to.equal(keys.length);
    expect(keys.every((key) => /^otel-winston\.[a-z.-]+\.v\d+$/.test(key))).to.equal(true);
  });

  it('shared pieces sit below their users: context, mapping, enrichment, format, otlp and the CLI import no transport, middleware or test helper', () => {
    const upward: string[] = [];
    for (const f of files) {
      const layer = f.path.split('/')[0]!;
      if (!['context', 'mapping', 'enrichment', 'format', 'otlp', 'cli'].includes(layer)) continue;
      for (const spec of importsOf(f.text)) {
        if (/\/(transport|middleware|testing|telemetry)\//.test(`/${spec}`))
          upward.push(`${f.path} → ${spec}`);
      }
    }
    expect(upward).to.deep.equal([]);
  });

  it('environment variables are read in src/env.ts, by its readers, and nowhere else', () => {
    const direct = files
      .filter((f) => f.path !== 'env.ts')
      .flatMap((f) =>
        [...f.text.matchAll(/^(?!\s*(?:\*|\/\/)).*\b(?:env\[|env\.[A-Z_]+\b)/gm)].map(
          ([line]) => `${f.path}: ${line.trim()}`,
        ),
      );
    expect(direct).to.deep.equal([]);
  });

  it('each warning code is given only where its one meaning lives, and every code is given', () => {
    const used = new Map<string, Set<string>>();
    for (const f of files) {
      for (const [, code] of f.text.matchAll(/warn\(\s*'(OTW\d{3})'/g)) {
        (used.get(code!) ?? used.set(code!, new Set()).get(code!)!).add(f.path);
      }
      // Codes passed on as values: notice('OTW016', ...), and the like.
      for (const [, code] of f.text.matchAll(/\(\s*'(OTW01[678])'/g)) {
        (used.get(code!) ?? used.set(code!, new Set()).get(code!)!).add(f.path);
      }
    }
    const outside: string[] = [];
    for (const [code, paths] of used) {
      expect(Object.keys(WARNING_CODES), `${code} is not a warning code`).to.include(code);
      for (const path of paths) {
        if (!WARNING_SITES[code as WarningCode].includes(path)) outside.push(`${code} in ${path}`);
      }
    }
    expect(outside, 'a code used outside the modules of its meaning').to.deep.equal([]);
    expect(
      Object.keys(WARNING_CODES).filter((code) => !used.has(code)),
      'codes never given',
    ).to.deep.equal([]);
  });
});
