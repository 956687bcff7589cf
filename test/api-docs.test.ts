import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const COMMITTED = join(ROOT, 'docs/api');
const TYPEDOC = join(ROOT, 'node_modules/typedoc/bin/typedoc');
const STALE = 'docs/api is stale: run `npm run docs:api` and commit the result';

/** Every file under `dir`, as paths relative to it, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** Runs typedoc with typedoc.json into `out`; resolves with its exit code and output. */
function typedoc(out: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TYPEDOC, '--out', out],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe('docs/api: the API reference generated from the TSDoc', function () {
  let out: string;
  let run: { code: number; output: string };

  before(async function () {
    // typedoc type-loads the whole program and renders ~90 pages: a few seconds, more on a busy machine.
    this.timeout(180_000);
    out = mkdtempSync(join(tmpdir(), 'otel-winston-api-docs-'));
    run = await typedoc(out);
  });

  after(() => rmSync(out, { recursive: true, force: true }));

  it('generates without a warning (warnings are errors in typedoc.json)', () => {
    expect(run.code, run.output).to.equal(0);
  });

  it('documents every entry of package.json exports, under the name it is imported by', () => {
    const index = readFileSync(join(out, 'README.md'), 'utf8');
    for (const specifier of [
      'otel-winston',
      'otel-winston/testing',
      'otel-winston/express',
      'otel-winston/fastify',
      'otel-winston/http',
    ]) {
      expect(index).to.include(`[${specifier}](${specifier}/README.md)`);
    }
  });

  it('is committed exactly as generated: the same files', () => {
    expect(filesUnder(COMMITTED), STALE).to.deep.equal(filesUnder(out));
  });

  it('is committed exactly as generated: the same contents', () => {
    const differ = filesUnder(out).filter((file) => {
      let committed: string;
      try {
        committed = readFileSync(join(COMMITTED, file), 'utf8');
      } catch {
        return true;
      }
      return committed !== readFileSync(join(out, file), 'utf8');
    });
    expect(differ, STALE).to.deep.equal([]);
  });
});
