import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../src/index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  engines: { node: string };
  exports: Record<string, unknown>;
};

function node(args: string[]): string {
  return execFileSync(process.execPath, args, {
    encoding: 'utf8',
    cwd: new URL('..', import.meta.url),
  });
}

describe('package', () => {
  it('VERSION matches package.json', () => {
    expect(VERSION).to.equal(pkg.version);
  });

  it('declares engines.node >=22.15', () => {
    expect(pkg.engines.node).to.equal('>=22.15');
  });

  const script = `
    const { createLogger } = M.winston;
    const { OtelTransport } = M.main;
    const { createLogCapture } = M.testing;
    const capture = createLogCapture();
    createLogger({ transports: [capture.transport()] }).info('from the build');
    if (!(capture.transport() instanceof OtelTransport)) throw new Error('two OtelTransport classes');
    console.log(JSON.stringify({ bodies: capture.bodies, exports: Object.keys(M.main).sort() }));`;

  it('loads with require() from the CommonJS build', () => {
    const out = node([
      '-e',
      `const M = { winston: require('winston'), main: require('otel-winston'), testing: require('otel-winston/testing') };${script}`,
    ]);
    expect(JSON.parse(out).bodies).to.deep.equal(['from the build']);
  });

  it('loads with import from the ESM build, with the same named exports', async () => {
    const esm = node([
      '--input-type=module',
      '-e',
      `import winston from 'winston'; import * as main from 'otel-winston'; import * as testing from 'otel-winston/testing'; const M = { winston, main, testing };${script}`,
    ]);
    const cjs = node([
      '-e',
      `const M = { winston: require('winston'), main: require('otel-winston'), testing: require('otel-winston/testing') };${script}`,
    ]);
    expect(JSON.parse(esm)).to.deep.equal(JSON.parse(cjs));
    expect(JSON.parse(esm).exports).to.not.include('default');
  });

  it('has the middleware entries in both builds, with their types, loading no framework themselves', () => {
    const entries = {
      express: 'requestContextMiddleware',
      fastify: 'requestContextPlugin',
      http: 'withRequestContext',
    };
    for (const [entry, name] of Object.entries(entries)) {
      const cjs = node([
        '-e',
        `const m = require('otel-winston/${entry}');
         const loaded = Object.keys(require.cache).filter((p) => /node_modules\\/(express|fastify|jose)\\//.test(p));
         console.log(JSON.stringify({ exports: Object.keys(m), type: typeof m.${name}, loaded }));`,
      ]);
      const esm = node([
        '--input-type=module',
        '-e',
        `const m = await import('otel-winston/${entry}'); console.log(JSON.stringify(Object.keys(m)));`,
      ]);
      const out = JSON.parse(cjs) as { exports: string[]; type: string; loaded: string[] };
      expect(out, entry).to.deep.include({ exports: [name], type: 'function', loaded: [] });
      expect(JSON.parse(esm)).to.deep.equal([name]);
      const types = pkg.exports[`./${entry}`] as {
        import: { types: string };
        require: { types: string };
      };
      for (const file of [types.import.types, types.require.types]) {
        expect(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')).to.include(name);
      }
    }
  });

  it('types every entry for each TypeScript moduleResolution, the legacy node10 too (typesVersions)', function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'otel-winston-types-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(
        fileURLToPath(new URL('..', import.meta.url)),
        join(dir, 'node_modules/otel-winston'),
      );
      writeFileSync(
        join(dir, 'index.ts'),
        `import { LogPipeline, OtelTransport } from 'otel-winston';
         import { createLogCapture } from 'otel-winston/testing';
         import { requestContextMiddleware } from 'otel-winston/express';
         import { requestContextPlugin } from 'otel-winston/fastify';
         import { withRequestContext } from 'otel-winston/http';
         export const all = [LogPipeline, OtelTransport, createLogCapture, requestContextMiddleware, requestContextPlugin, withRequestContext];`,
      );
      const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
      for (const [moduleResolution, module] of [
        ['node10', 'commonjs'],
        ['node16', 'node16'],
        ['bundler', 'esnext'],
      ]) {
        writeFileSync(
          join(dir, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              module,
              moduleResolution,
              ignoreDeprecations: '6.0',
              strict: true,
              noEmit: true,
              skipLibCheck: true,
              types: [],
            },
            files: ['index.ts'],
          }),
        );
        try {
          execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
        } catch (error) {
          expect.fail(
            `moduleResolution ${moduleResolution}: ${(error as { stdout?: string }).stdout}`,
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('installs clean: the dependency tree a user gets (npm ls --all --omit=dev) has no invalid entry', function () {
    // @fastify/otel is an optional peer: as a dependency, its @opentelemetry/core 2 (API < 1.10)
    // made every install warn ERESOLVE and npm ls fail.
    this.timeout(60_000);
    let output = '';
    try {
      output = execFileSync('npm', ['ls', '--all', '--omit=dev'], {
        encoding: 'utf8',
        cwd: new URL('..', import.meta.url),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      expect.fail(`npm ls: ${String((error as { stderr?: string }).stderr)}`);
    }
    expect(output).to.not.include('invalid');
    expect(output).to.not.include('@fastify/otel');
  });

  it('shares request context between the CommonJS and ESM copies in one process', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       import { runWithRequestContext } from 'otel-winston';
       const cjs = createRequire(import.meta.url)('otel-winston');
       runWithRequestContext({ requestId: 'shared' }, () => console.log(cjs.getRequestContext()?.requestId));`,
    ]);
    expect(out.trim()).to.equal('shared');
  });

  it('packs only the build, the preload entries and the docs', () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        encoding: 'utf8',
        cwd: new URL('..', import.meta.url),
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const paths = packed[0]!.files.map((f) => f.path);
    expect(paths).to.include.members([
      'package.json',
      'README.md',
      'dist/cjs/index.js',
      'dist/esm/index.js',
      'dist/esm/index.d.ts',
      'dist/cjs/testing/index.d.ts',
    ]);
    expect(paths).to.include.members([
      'instrumentation/register.cjs',
      'instrumentation/register.mjs',
      'bin/otel-winston.cjs',
    ]);
    const others = paths.filter(
      (p) => !p.startsWith('dist/') && !p.startsWith('instrumentation/') && !p.startsWith('bin/'),
    );
    // The root import map's `#require-here` targets ship too, so the map points at files.
    expect(others.sort()).to.deep.equal([
      'LICENSE',
      'README.md',
      'package.json',
      'src/require-here/require-here.cjs',
      'src/require-here/require-here.d.ts',
      'src/require-here/require-here.mjs',
    ]);
    // src/ is not shipped: a map that names a source must carry its text.
    expect(paths.filter((p) => p.endsWith('.d.ts.map'))).to.deep.equal([]);
    const maps = paths.filter((p) => p.endsWith('.js.map'));
    expect(maps.length).to.be.greaterThan(50);
    for (const path of maps) {
      const map = JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      expect(map.sourcesContent?.length, path).to.equal(map.sources.length);
      expect(
        map.sourcesContent!.every((text) => typeof text === 'string' && text.length > 0),
        path,
      ).to.be.true;
    }
  });
});
