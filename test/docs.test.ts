import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DROP_REASONS } from '../src/pipeline/accounting.js';
import { WARNING_CODES } from '../src/warnings.js';
import { sources } from './helpers/sources.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first cell of every row (not the header) of the first README table from `heading` on. */
function firstCells(heading: string): string[] {
  const start = README.indexOf(heading);
  expect(start, heading).to.be.greaterThan(-1);
  const rows: string[] = [];
  let inTable = false;
  for (const line of README.slice(start).split('\n')) {
    if (line.startsWith('|')) {
      inTable = true;
      const cell = line.split('|')[1]!.trim();
      if (!/^-+$/.test(cell)) rows.push(cell);
    } else if (inTable) {
      break;
    }
  }
  return rows.slice(1); // the header
}

describe('docs: the README matches the code', () => {
  it('lists every warning code once, and no code that does not exist', () => {
    const listed = firstCells('## Diagnostics');
    expect([...listed].sort()).to.deep.equal(Object.keys(WARNING_CODES).sort());
  });

  it('lists every drop reason once, and no other', () => {
    const listed = firstCells('| drop reason').map((cell) => cell.replace(/`/g, ''));
    expect([...listed].sort()).to.deep.equal([...DROP_REASONS].sort());
  });

  it("documents every OTEL_WINSTON_* variable the code reads, and none it doesn't", () => {
    const read = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(/OTEL_WINSTON_[A-Z_]+[A-Z]/g)) {
        read.add(name);
      }
    }
    const documented = new Set<string>();
    for (const cell of firstCells('### Environment variables')) {
      if (!cell.includes('OTEL_WINSTON_')) continue;
      // A row may name several: `OTEL_WINSTON_RETRY_INITIAL_MS`, `_RETRY_MAX_MS`.
      for (const [, name] of cell.matchAll(/`(OTEL_WINSTON_[A-Z_]+|_[A-Z_]+)`/g)) {
        documented.add(name!.startsWith('_') ? `OTEL_WINSTON${name}` : name!);
      }
    }
    expect(documented.size).to.be.greaterThan(5);
    expect(
      [...read].filter((name) => !documented.has(name)),
      'read but not documented',
    ).to.deep.equal([]);
    expect(
      [...documented].filter((name) => !read.has(name)),
      'documented but not read',
    ).to.deep.equal([]);
  });

  it('names every LogPipeline option', () => {
    const options = readFileSync(join(ROOT, 'src/pipeline/options.ts'), 'utf8');
    const body = options.slice(
      options.indexOf('export interface LogPipelineOptions'),
      options.indexOf("/** The pipeline's settings"),
    );
    const names = [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]!);
    expect(names.length).to.be.greaterThan(10);
    const section = README.slice(README.indexOf('## The export pipeline'));
    for (const name of names) expect(section, name).to.include(`\`${name}\``);
  });
});
