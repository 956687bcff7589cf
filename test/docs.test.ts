import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DROP_REASONS } from '../src/pipeline/accounting.js';
import { ERROR_CODES } from '../src/errors.js';
import { WARNING_CODES } from '../src/warnings.js';
import { sources } from './helpers/sources.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS = join(ROOT, 'docs');

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** The lines of a markdown text that are not inside a fenced code block. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: { char: string; length: number } | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = { char: marker[0]!, length: marker.length };
      else if (marker[0] === fence.char && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

/**
 * The first cell of every row (not the header) of the first table after the
 * heading `heading` (a whole line) in `path`.
 */
function firstCells(path: string, heading: string): string[] {
  const lines = proseLines(read(path));
  const start = lines.indexOf(heading);
  expect(start, `${path}: ${heading}`).to.be.greaterThan(-1);
  const rows: string[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const cell = line.split('|')[1]!.trim();
      if (!/^-+$/.test(cell)) rows.push(cell);
    } else if (inTable) {
      break;
    }
  }
  expect(rows.length, `${path}: a table after ${heading}`).to.be.greaterThan(1);
  return rows.slice(1); // the header
}

/** The optional members (`  name?:`) of `export interface <name>` in a source file. */
function optionalMembers(path: string, name: string): string[] {
  const source = read(path);
  const start = source.indexOf(`export interface ${name} `);
  expect(start, `${path}: interface ${name}`).to.be.greaterThan(-1);
  const end = source.indexOf('\n}\n', start);
  return [...source.slice(start, end).matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]!);
}

/** `names`, each once, and the first cells of a table, compared as sets with duplicates kept. */
function expectSameNames(listed: string[], names: readonly string[], what: string): void {
  expect([...listed].sort(), what).to.deep.equal([...names].sort());
}

const unquote = (cell: string): string => cell.replace(/`/g, '');

describe('docs: the pages match the code', () => {
  it('docs/diagnostics.md lists every warning code once, and no code that does not exist', () => {
    const listed = firstCells('docs/diagnostics.md', '## Warning codes');
    expectSameNames(listed, Object.keys(WARNING_CODES), 'warning codes');
  });

  it('docs/diagnostics.md lists every error code once, and no other', () => {
    const listed = firstCells('docs/diagnostics.md', '## Error codes').map(unquote);
    expectSameNames(listed, Object.keys(ERROR_CODES), 'error codes');
  });

  it('docs/pipeline.md lists every drop reason once, and no other', () => {
    const listed = firstCells('docs/pipeline.md', '## Drop reasons').map(unquote);
    expectSameNames(listed, DROP_REASONS, 'drop reasons');
  });

  it('docs/production.md says what to do about every drop reason, once', () => {
    const listed = firstCells('docs/production.md', '## Loss and how each drop is counted').map(
      unquote,
    );
    expectSameNames(listed, DROP_REASONS, 'drop reasons');
  });

  it("docs/configuration.md documents every OTEL_WINSTON_* variable the code reads, and none it doesn't", () => {
    const read_ = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      for (const [name] of readFileSync(file, 'utf8').matchAll(/OTEL_WINSTON_[A-Z_]+[A-Z]/g)) {
        read_.add(name);
      }
    }
    const documented: string[] = [];
    for (const cell of firstCells('docs/configuration.md', '## Environment variables')) {
      if (!cell.includes('OTEL_WINSTON_')) continue;
      // A row may name several: `OTEL_WINSTON_RETRY_INITIAL_MS`, `_RETRY_MAX_MS`.
      for (const [, name] of cell.matchAll(/`(OTEL_WINSTON_[A-Z_]+|_[A-Z_]+)`/g)) {
        documented.push(name!.startsWith('_') ? `OTEL_WINSTON${name}` : name!);
      }
    }
    expect(documented.length).to.be.greaterThan(5);
    expect(
      documented.filter((name, i) => documented.indexOf(name) !== i),
      'documented twice',
    ).to.deep.equal([]);
    expect(
      [...read_].filter((name) => !documented.includes(name)),
      'read but not documented',
    ).to.deep.equal([]);
    expect(
      documented.filter((name) => !read_.has(name)),
      'documented but not read',
    ).to.deep.equal([]);
  });

  it('README.md lists every environment variable the code names, in "Environment variables"', () => {
    const named = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      const source = readFileSync(file, 'utf8');
      for (const [, name] of source.matchAll(/['"`]((?:OTEL|NO|FORCE)_[A-Z0-9_]*[A-Z0-9])['"`]/g)) {
        named.add(name!);
      }
    }
    const readme = read('README.md');
    const start = readme.indexOf('\n## Environment variables\n');
    expect(start, 'README.md: ## Environment variables').to.be.greaterThan(-1);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const listed = new Set<string>();
    let last = '';
    for (const [, token] of section.matchAll(/`([A-Z_][A-Z0-9_]*)`/g)) {
      if (!token!.startsWith('_')) {
        listed.add(token!);
        last = token!;
        continue;
      }
      // `_NAME` after a variable: its prefix (up to any `_`, or all of it), another ending.
      for (let i = last.indexOf('_'); i > 0; i = last.indexOf('_', i + 1)) {
        listed.add(last.slice(0, i) + token!);
      }
      listed.add(last + token!);
    }
    // Each OTEL_EXPORTER_OTLP_* variable has a form per signal.
    for (const name of [...listed]) {
      const rest = /^OTEL_EXPORTER_OTLP_(\w+)$/.exec(name)?.[1];
      if (rest === undefined) continue;
      for (const signal of ['LOGS', 'TRACES', 'METRICS']) {
        listed.add(`OTEL_EXPORTER_OTLP_${signal}_${rest}`);
      }
    }
    expect(named.size).to.be.greaterThan(50);
    expect(
      [...named].filter((name) => !listed.has(name)).sort(),
      'named in src/, not in the README',
    ).to.deep.equal([]);
  });

  it('docs/configuration.md has a row for every LogPipeline option, once, and no other', () => {
    const names = optionalMembers('src/pipeline/options.ts', 'LogPipelineOptions');
    expect(names.length).to.be.greaterThan(10);
    const listed = firstCells('docs/configuration.md', '## `LogPipeline` options').map(unquote);
    expectSameNames(listed, names, 'LogPipeline options');
  });

  it('docs/configuration.md has a row for every spool option, once, and no other', () => {
    const names = [
      'dir', // required, so not `dir?:`
      ...optionalMembers('src/pipeline/options.ts', 'SpoolOptions'),
    ];
    expect(names.length).to.be.greaterThan(3);
    const listed = firstCells('docs/configuration.md', '### Spool options').map(unquote);
    expectSameNames(listed, names, 'spool options');
  });

  it('docs/configuration.md has a row for every OtelTransport and startTelemetry() option, once', () => {
    const transport = optionalMembers('src/transport/options.ts', 'OtelTransportOptions');
    expect(transport.length).to.be.greaterThan(5);
    expectSameNames(
      firstCells('docs/configuration.md', '## `OtelTransport` options').map(unquote),
      transport,
      'OtelTransport options',
    );
    const telemetry = optionalMembers('src/telemetry/start-telemetry.ts', 'TelemetryOptions');
    expect(telemetry.length).to.be.greaterThan(5);
    expectSameNames(
      firstCells('docs/configuration.md', '## `startTelemetry()` options').map(unquote),
      telemetry,
      'startTelemetry() options',
    );
  });

  it('docs/pipeline.md names every LogPipeline option in its prose', () => {
    const section = read('docs/pipeline.md');
    for (const name of optionalMembers('src/pipeline/options.ts', 'LogPipelineOptions')) {
      expect(section, name).to.include(`\`${name}\``);
    }
  });
});

/** A heading's anchor as GitHub makes it. */
function githubSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*]/g, '') // code spans and emphasis marks
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of the headings of a markdown text, duplicates numbered as GitHub numbers them. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** The targets of the inline links and images of a markdown text, code left out. */
function linksOf(markdown: string): string[] {
  const targets: string[] = [];
  // Paragraph by paragraph: a link's text may wrap onto the next line.
  for (const paragraph of proseLines(markdown)
    .join('\n')
    .split(/\n\s*\n/)) {
    const prose = paragraph.replace(/\n/g, ' ').replace(/(`+)[\s\S]*?\1/g, ''); // inline code
    for (const [, target] of prose.matchAll(
      /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
    )) {
      targets.push(target!);
    }
  }
  return targets;
}

/** README.md and every markdown page directly in docs/. */
function pages(): string[] {
  return [
    'README.md',
    ...readdirSync(DOCS)
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];
}

/** Generated by other tools, and may land after these pages: checked once they exist. */
const LATER = ['docs/api/', 'docs/images/'];

describe('docs: every relative link points at something that exists', () => {
  for (const page of pages()) {
    it(page, () => {
      const broken: string[] = [];
      for (const target of linksOf(read(page))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#', 2) as [string, string | undefined];
        const file = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), path);
        const fromRoot = relative(ROOT, file).split('\\').join('/');
        if (!existsSync(file)) {
          // docs/api/ and docs/images/ are checked once they exist.
          const later = LATER.find((dir) => fromRoot.startsWith(dir));
          if (later === undefined || existsSync(join(ROOT, later))) {
            broken.push(`${target}: no ${fromRoot}`);
          }
          continue;
        }
        if (anchor === undefined) continue;
        if (!fromRoot.endsWith('.md') || statSync(file).isDirectory()) {
          broken.push(`${target}: an anchor into ${fromRoot}, which is not a markdown file`);
          continue;
        }
        if (!anchorsOf(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${target}: no heading #${anchor} in ${fromRoot}`);
        }
      }
      expect(broken).to.deep.equal([]);
    });
  }

  it('makes anchors as GitHub does', () => {
    expect(githubSlug('The export pipeline: `LogPipeline`')).to.equal(
      'the-export-pipeline-logpipeline',
    );
    expect(githubSlug('Request middleware: Express, Fastify, `node:http`')).to.equal(
      'request-middleware-express-fastify-nodehttp',
    );
    expect(githubSlug('The example: `examples/express-jwt`')).to.equal(
      'the-example-examplesexpress-jwt',
    );
    expect(githubSlug('`startTelemetry()` options')).to.equal('starttelemetry-options');
    expect([...anchorsOf('# A\n## A\n```sh\n# not a heading\n```\n## A')]).to.deep.equal([
      'a',
      'a-1',
      'a-2',
    ]);
  });
});
